//! The tray window driven by egui_kittest, without a display: each state the issue names (no
//! reader, reader without card, card ready, PIN blocked, expired certificate) plus the service
//! down, an unsupported card, warnings, the history page and the settings page. Assertions read the
//! accessibility tree, i.e. what a screen reader (and the citizen) gets.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use eidlink_core::{Atr, PinInfo};
use eidlink_lang::Language;
use eidlink_pcsc::monitor::MonitorEvent;
use eidlink_settings::config::UiSettings;
use eidlink_settings::history::{Entry, Forget};
use eidlink_tray::state::{AppState, CardOutcome, CardSummary, CertValidity, Effect, Event, UnixTime};
use eidlink_tray::view::{self, Page, Screen, SettingsScreen, TrayMode, UiAction};

/// 2026-11-29T00:00:00Z.
const NOW: UnixTime = 1_795_910_400;
const DAY: i64 = 86_400;
const READER: &str = "ACS ACR39U";

struct Ui {
    screen: Screen,
    actions: Vec<UiAction>,
}

fn screen(state: AppState, lang: Language) -> Screen {
    Screen {
        state,
        lang,
        page: Page::Status,
        tray: TrayMode::Icon,
        history: Ok(Vec::new()),
        site_filter: None,
        confirm_forget: None,
        forgotten: None,
        settings: SettingsScreen {
            ui: UiSettings {
                language: None,
                logging: false,
                allow_http_localhost: false,
            },
            autostart: true,
            config_file: "/home/alice/.config/eidlink/config.toml".into(),
            saved: None,
        },
    }
}

fn harness(screen: Screen) -> Harness<'static, Ui> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(view::SIZE[0], 800.0))
        .build_ui_state(
            |ui, s: &mut Ui| {
                let actions = view::show(ui, &mut s.screen, NOW);
                s.actions.extend(actions);
            },
            Ui {
                screen,
                actions: Vec::new(),
            },
        );
    h.run();
    h
}

fn up() -> AppState {
    let mut s = AppState::new();
    s.apply(Event::Monitor(MonitorEvent::ServiceUp));
    s
}

fn with_reader() -> AppState {
    let mut s = up();
    s.apply(Event::Monitor(MonitorEvent::ReaderAdded { reader: READER.into() }));
    s
}

fn summary(auth_tries: u8, not_after: UnixTime) -> CardSummary {
    let validity = CertValidity {
        not_before: NOW - 3 * 365 * DAY,
        not_after,
    };
    CardSummary {
        card_name: "Belgian eID (applet 1.8, EC P-384)".into(),
        module: None,
        applet: Some("applet 1.8".into()),
        holder: Some("Alice Specimen".into()),
        national_number: Some("85010112486".into()),
        authentication: Some(validity.clone()),
        signing: Some(validity),
        auth_pin: Some(PinInfo::counted(auth_tries, 3)),
        sign_pin: None,
    }
}

fn with_card(outcome: CardOutcome) -> AppState {
    let mut s = with_reader();
    let effects = s.apply(Event::Monitor(MonitorEvent::CardInserted {
        reader: READER.into(),
        atr: Atr(vec![0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0x80, 0x65]),
    }));
    let [Effect::ReadCard { reader, insertion }] = effects.as_slice() else {
        panic!("an insertion starts one read: {effects:?}")
    };
    s.apply(Event::CardRead {
        reader: reader.clone(),
        insertion: *insertion,
        outcome,
    });
    s
}

fn ready(auth_tries: u8, not_after: UnixTime) -> AppState {
    with_card(CardOutcome::Read(Box::new(summary(auth_tries, not_after))))
}

#[test]
fn service_down_says_to_start_it() {
    let mut s = AppState::new();
    s.apply(Event::Monitor(MonitorEvent::ServiceDown));
    let h = harness(screen(s, Language::En));
    h.get_by_label("The smart-card service is not running");
    h.get_by_label("Start the smart-card service (pcscd).");
}

#[test]
fn no_reader_says_to_connect_one() {
    let h = harness(screen(up(), Language::En));
    h.get_by_label("No card reader");
    h.get_by_label("Connect a card reader.");
    assert!(h.query_by_label("Insert your identity card.").is_none());
}

#[test]
fn reader_without_card_says_to_insert_it() {
    let h = harness(screen(with_reader(), Language::En));
    h.get_by_label("No card");
    h.get_by_label("Insert your identity card.");
    h.get_by_label(READER);
    // Nothing to read again in an empty reader.
    assert!(h.query_by_label("Read the card again").is_none());
}

#[test]
fn card_ready_shows_holder_certificates_and_tries() {
    let mut h = harness(screen(ready(3, NOW + 400 * DAY), Language::En));
    h.get_by_label("Ready: your card can be used");
    h.get_by_label("Alice Specimen");
    h.get_by_label("85010112486");
    h.get_by_label("Belgian eID (applet 1.8, EC P-384)");
    assert_eq!(h.get_all_by_label("valid until 2028-01-03").count(), 2);
    h.get_by_label("3 of 3 tries left");
    assert!(
        h.query_by_label_contains("expires").is_none(),
        "no warning 400 days ahead"
    );

    h.get_by_label("Read the card again").click();
    h.run();
    assert_eq!(h.state().actions, vec![UiAction::Refresh(READER.into())]);
}

#[test]
fn pin_blocked_says_what_to_do() {
    let h = harness(screen(ready(0, NOW + 400 * DAY), Language::En));
    h.get_by_label("Your card cannot be used");
    assert_eq!(
        h.get_all_by_label("Your PIN is blocked: unblock it with your PUK code, or at your municipality.")
            .count(),
        2,
        "headline action and the reader's own line"
    );
    h.get_by_label("blocked");
}

#[test]
fn expired_certificate_says_to_renew_the_card() {
    let h = harness(screen(ready(3, NOW - 10 * DAY), Language::En));
    h.get_by_label("Your card cannot be used");
    h.get_all_by_label("Your card's certificates have expired: renew your card at your municipality.")
        .next()
        .expect("the action is shown");
    assert_eq!(h.get_all_by_label("expired on 2026-11-19").count(), 2);
}

#[test]
fn expiry_within_90_days_and_used_tries_are_warned() {
    let h = harness(screen(ready(2, NOW + 30 * DAY), Language::En));
    h.get_by_label("Ready: your card can be used");
    h.get_by_label("Authentication certificate expires in 30 days: plan to renew your card.");
    h.get_by_label("PIN: 2 tries left. Every mistake counts.");
    assert_eq!(h.get_all_by_label("expires on 2026-12-29 (in 30 days)").count(), 2);
}

#[test]
fn unsupported_card_shows_its_atr() {
    let h = harness(screen(with_card(CardOutcome::Unsupported), Language::En));
    h.get_all_by_label("This card is not supported: use your electronic identity card.")
        .next()
        .expect("the action is shown");
    h.get_by_label_contains("3B 7F 96");
}

#[test]
fn french_window() {
    let h = harness(screen(ready(0, NOW + 400 * DAY), Language::Fr));
    h.get_by_label("Votre carte ne peut pas être utilisée");
    h.get_by_label("Historique");
    h.get_by_label("Réglages");
    h.get_all_by_label("Votre code PIN est bloqué : débloquez-le avec votre code PUK, ou à votre commune.")
        .next()
        .expect("the action in French");
}

#[test]
fn window_without_tray_says_so() {
    let mut s = screen(with_reader(), Language::Nl);
    s.tray = TrayMode::WindowOnly;
    let h = harness(s);
    h.get_by_label("Geen systeemvak: eidlink werkt in dit venster.");
}

fn entry(time: u64, origin: &str, action: &str, result: &str) -> Entry {
    Entry {
        time,
        origin: origin.into(),
        action: action.into(),
        holder: Some("Alice Specimen".into()),
        result: result.into(),
    }
}

#[test]
fn history_lists_filters_and_forgets_a_site_after_confirmation() {
    let mut s = screen(with_reader(), Language::En);
    s.page = Page::History;
    s.history = Ok(vec![
        entry(1_795_900_000, "https://mairie.example.be", "sign", "ok"),
        entry(
            1_795_800_000,
            "https://tax.example.be",
            "authenticate",
            "USER_CANCELLED",
        ),
        entry(1_795_700_000, "https://mairie.example.be", "authenticate", "ok"),
    ]);
    let mut h = harness(s);
    assert_eq!(h.get_all_by_label("mairie.example.be").count(), 2);
    h.get_by_label("tax.example.be");
    h.get_by_label("Signature");
    h.get_by_label("USER_CANCELLED");
    assert_eq!(h.get_all_by_label("Done").count(), 2);

    // Filter by one site: the other's rows go.
    h.state_mut().screen.site_filter = Some("https://mairie.example.be".into());
    h.run();
    assert!(h.query_by_label("tax.example.be").is_none());
    h.get_by_label("Forget this site").click();
    h.run();
    h.get_by_label("Erase 2 history entries?");
    assert!(
        h.state().actions.is_empty(),
        "nothing is erased before the confirmation"
    );
    h.get_by_label("Erase").click();
    h.run();
    assert_eq!(
        h.state().actions,
        vec![UiAction::Forget(Forget::Site("https://mairie.example.be".into()))]
    );
}

#[test]
fn history_cancel_keeps_everything_and_errors_are_shown() {
    let mut s = screen(with_reader(), Language::En);
    s.page = Page::History;
    s.history = Ok(vec![entry(1_795_900_000, "https://a.example", "sign", "ok")]);
    let mut h = harness(s);
    h.get_by_label("Forget everything").click();
    h.run();
    h.get_by_label("Erase 1 history entries?");
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.query_by_label("Erase 1 history entries?").is_none());
    assert!(h.state().actions.is_empty());

    let mut s = screen(with_reader(), Language::En);
    s.page = Page::History;
    s.history = Err("history.jsonl: permission denied".into());
    let h = harness(s);
    h.get_by_label("The history could not be read: history.jsonl: permission denied");
}

#[test]
fn settings_changes_are_saved_at_once() {
    let mut s = screen(with_reader(), Language::En);
    s.page = Page::Settings;
    let mut h = harness(s);
    let saved = |logging, allow_http_localhost| {
        UiAction::SaveSettings(UiSettings {
            language: None,
            logging,
            allow_http_localhost,
        })
    };
    // Each click, in order, and the one action it must give (settings accumulate).
    for (label, expected) in [
        ("Diagnostic log", saved(true, false)),
        ("Allow http://localhost", saved(true, true)),
        ("Start at login", UiAction::SetAutostart(false)),
        ("Open the log folder", UiAction::OpenLogFolder),
    ] {
        h.get_by_label(label).click();
        h.run();
        assert_eq!(std::mem::take(&mut h.state_mut().actions), vec![expected], "{label}");
    }
    h.get_by_label("Settings file: /home/alice/.config/eidlink/config.toml");
}
