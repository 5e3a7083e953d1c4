//! The tray's backend through the real pcscd, the vpcd reader and the virtual card: the monitor's
//! events and the card read reach the state, which becomes ready with the card's details, without a
//! PIN try spent. Needs pcscd with the vsmartcard vpcd driver (as `scripts/test.sh` starts it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime};

use eidlink_pcsc::monitor::MonitorOptions;
use eidlink_tests::vpcd::{self, require_vpcd, READER};
use eidlink_tests::{pki, vpcd_test_lock, CardOptions, Profile, VirtualCardHandle};
use eidlink_tray::backend::Backend;
use eidlink_tray::state::{Action, AppState, Event, Overall, Role};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap()
}

/// Applies events (running their effects) until `done` holds for the state.
fn until(backend: &Backend, rx: &Receiver<Event>, state: &mut AppState, done: impl Fn(&AppState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done(state) {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("timed out; state: {state:#?}"));
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; state: {state:#?}"));
        for effect in state.apply(event) {
            backend.run(effect);
        }
    }
}

/// Our drivers only: no PKCS#11 module is asked.
fn no_modules() -> eidlink_settings::Config {
    eidlink_settings::Config {
        well_known_pkcs11_modules: false,
        ..Default::default()
    }
}

fn card_state(state: &AppState) -> Option<Overall> {
    state.reader(READER).map(|_| state.overall(now()))
}

#[test]
fn a_card_becomes_ready_with_its_details_and_no_try_spent() {
    let _lock = vpcd_test_lock();
    require_vpcd();
    let (backend, rx) = Backend::with_channel(MonitorOptions::default(), no_modules()).unwrap();
    let mut state = AppState::new();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::NoCard));

    let options = CardOptions {
        tries_left: Some(2),
        ..CardOptions::default()
    };
    let card = VirtualCardHandle::start(Profile::Belpic18, &options, vpcd::port()).unwrap();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::Ready));
    let summary = state.reader(READER).and_then(|r| r.summary()).unwrap().clone();
    assert_eq!(summary.card_name, "Belgian eID (applet 1.8, EC P-384)");
    assert_eq!(summary.holder.as_deref(), Some(pki::DEFAULT_HOLDER));
    assert_eq!(
        summary.national_number.as_deref(),
        Some(pki::DEFAULT_BE_NATIONAL_NUMBER)
    );
    assert!(summary.authentication.is_some() && summary.signing.is_some());
    assert_eq!(summary.auth_pin.and_then(|p| p.tries_left), Some(2));
    // Reading the tries spent none, and no PIN reached the card.
    assert_eq!(card.pin_tries_left(), 2);
    assert!(!card
        .apdu_log()
        .iter()
        .any(|l| l.command.len() > 5 && l.command[1] == 0x20));

    card.stop();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::NoCard));

    // A blocked PIN: the one thing to do says so.
    let options = CardOptions {
        tries_left: Some(0),
        ..CardOptions::default()
    };
    let card = VirtualCardHandle::start(Profile::Belpic18, &options, vpcd::port()).unwrap();
    until(&backend, &rx, &mut state, |s| {
        card_state(s) == Some(Overall::Problem(Action::PinBlocked(Role::Authentication)))
    });
    card.stop();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::NoCard));
    backend.stop();
}

/// A reader for which the configuration prefers a PKCS#11 module: the tray shows the token as the
/// module sees it (OpenSC over the virtual EstEID card), with the module, the holder, the
/// validity and what the token's flags tell of the PIN (OpenSC reads this card's counter: the last
/// try shows as such), and spends no try.
#[test]
fn a_card_run_by_a_preferred_module_shows_the_module_and_its_pin_state() {
    let _lock = vpcd_test_lock();
    require_vpcd();
    let opensc =
        eidlink_tests::softhsm::opensc_module().expect("OpenSC's PKCS#11 module (apt-get install opensc-pkcs11)");
    let config = eidlink_settings::Config {
        well_known_pkcs11_modules: false,
        prefer_module: [(READER.to_owned(), opensc.to_owned())].into_iter().collect(),
        ..Default::default()
    };
    let (backend, rx) = Backend::with_channel(MonitorOptions::default(), config).unwrap();
    let mut state = AppState::new();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::NoCard));
    let options = CardOptions {
        tries_left: Some(1),
        ..CardOptions::default()
    };
    let card = VirtualCardHandle::start(Profile::EstEid, &options, vpcd::port()).unwrap();
    until(&backend, &rx, &mut state, state_read);
    let summary = state.reader(READER).and_then(|r| r.summary()).unwrap().clone();
    assert_eq!(summary.module.as_deref(), Some(opensc), "{summary:?}");
    assert!(
        summary.card_name.contains("(PIN1)"),
        "OpenSC's token label: {summary:?}"
    );
    assert!(
        summary
            .holder
            .as_deref()
            .is_some_and(|h| h.to_lowercase().contains("alice")),
        "{summary:?}"
    );
    assert!(summary.authentication.is_some(), "{summary:?}");
    let pin = summary.auth_pin.expect("PIN state");
    assert!(pin.is_last_try() && pin.max_tries.is_none(), "{pin:?}");
    assert_eq!(card.pin_tries_left(), 1, "no try spent");
    card.stop();
    until(&backend, &rx, &mut state, |s| card_state(s) == Some(Overall::NoCard));
    backend.stop();
}

fn state_read(s: &AppState) -> bool {
    s.reader(READER).and_then(|r| r.summary()).is_some()
}
