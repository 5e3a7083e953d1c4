//! The virtual card through the real PC/SC stack: pcscd + vsmartcard-vpcd.
//!
//! Needs a running pcscd with the vpcd driver (`pcscd -f &`, test-infra.md
//! §1). Without it these tests FAIL on purpose: a silently skipped PC/SC
//! test would hide that the real stack was never exercised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ffi::CString;
use std::process::Command;
use std::time::{Duration, Instant};

use eidlink_tests::vpcd::{self, require_vpcd, READER};
use eidlink_tests::{vpcd_test_lock, HandleConfig, Profile, VirtualCardHandle};
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

const T: Duration = Duration::from_secs(10);

fn start(profile: Profile) -> VirtualCardHandle {
    let handle = VirtualCardHandle::start_with(
        common::card(profile),
        HandleConfig {
            port: vpcd::port(),
            ..HandleConfig::default()
        },
    )
    .unwrap();
    handle
        .wait_present(T)
        .unwrap_or_else(|e| panic!("card not powered by pcscd: {e} (last error: {:?})", handle.last_error()));
    handle
}

/// Waits until PC/SC reports the reader `present` (or empty) and returns the ATR.
fn wait_reader(ctx: &Context, present: bool) -> Vec<u8> {
    let deadline = Instant::now() + T;
    let mut states = vec![ReaderState::new(CString::new(READER).unwrap(), State::UNAWARE)];
    loop {
        match ctx.get_status_change(Duration::from_millis(500), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("SCardGetStatusChange: {e}"),
        }
        let event = states[0].event_state();
        let done = if present {
            event.contains(State::PRESENT) && !event.contains(State::MUTE)
        } else {
            event.contains(State::EMPTY)
        };
        if done {
            return states[0].atr().to_vec();
        }
        states[0].sync_current_state();
        assert!(
            Instant::now() < deadline,
            "reader never became present={present}: {event:?}"
        );
    }
}

#[test]
fn reader_shows_each_profile_with_its_atr() {
    require_vpcd();
    let _lock = vpcd_test_lock();
    let ctx = Context::establish(Scope::User).expect("PC/SC context (is pcscd running?)");
    let readers = ctx.list_readers_owned().unwrap();
    assert!(
        readers.iter().any(|r| r.to_bytes() == READER.as_bytes()),
        "no reader {READER:?} in {readers:?}"
    );
    for profile in Profile::ALL {
        let handle = start(profile);
        let atr = wait_reader(&ctx, true);
        assert_eq!(atr, profile.atr(), "{profile}");
        let reader = CString::new(READER).unwrap();
        let card = ctx.connect(&reader, ShareMode::Shared, Protocols::ANY).unwrap();
        assert_eq!(card.status2_owned().unwrap().atr(), profile.atr());
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let (apdu, want_sw): (&[u8], [u8; 2]) = match profile {
            Profile::EstEid => (
                &[
                    0x00, 0xA4, 0x04, 0x0C, 0x10, 0xA0, 0x00, 0x00, 0x00, 0x77, 0x01, 0x08, 0x00, 0x07, 0x00, 0x00,
                    0xFE, 0x00, 0x00, 0x01, 0x00,
                ],
                [0x90, 0x00],
            ),
            _ => (&[0x80, 0xE4, 0x00, 0x00, 0x1C], [0x90, 0x00]),
        };
        let r = card.transmit(apdu, &mut buf).unwrap();
        assert_eq!(&r[r.len() - 2..], want_sw, "{profile}: {r:02X?}");
        card.disconnect(Disposition::LeaveCard).map_err(|(_, e)| e).unwrap();
        // The APDU went through the log.
        assert!(handle.apdu_log().iter().any(|e| e.command == apdu));
        handle.remove();
        wait_reader(&ctx, false);
    }
}

#[test]
fn removal_and_reinsertion_are_seen_by_pcsc() {
    require_vpcd();
    let _lock = vpcd_test_lock();
    let ctx = Context::establish(Scope::User).unwrap();
    let handle = start(Profile::Belpic18);
    wait_reader(&ctx, true);
    let reader = CString::new(READER).unwrap();
    let card = ctx.connect(&reader, ShareMode::Shared, Protocols::ANY).unwrap();
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    // Wrong PIN once: the counter survives removal.
    let r = card
        .transmit(
            &[
                0x00, 0x20, 0x00, 0x01, 0x08, 0x24, 0x99, 0x99, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ],
            &mut buf,
        )
        .unwrap();
    assert_eq!(r, [0x63, 0xC2]);
    // Pull the card on the next APDU. Debian's vpcd 0.8 then reports a
    // *successful* SCardTransmit with an empty response rather than an
    // error: middleware must treat "no status word" as a failure too.
    handle.remove_at(1);
    let pulled = card
        .transmit(&[0x80, 0xE4, 0x00, 0x01, 0x1F], &mut buf)
        .map(<[u8]>::to_vec);
    assert!(
        pulled.as_ref().map_or(true, |r| r.len() < 2),
        "transmit to a pulled card returned {pulled:02X?}"
    );
    drop(card);
    wait_reader(&ctx, false);
    handle.insert();
    handle.wait_present(T).unwrap();
    wait_reader(&ctx, true);
    let card = ctx.connect(&reader, ShareMode::Shared, Protocols::ANY).unwrap();
    let r = card.transmit(&[0x80, 0xE4, 0x00, 0x01, 0x1F], &mut buf).unwrap();
    assert_eq!(r[28], 2, "PIN tries persist across removal");
    card.disconnect(Disposition::LeaveCard).map_err(|(_, e)| e).unwrap();
}

/// OpenSC's own Belgian driver must read the certificates from our card
/// (product.md "The virtual card": cross-check against a peer).
#[test]
fn opensc_reads_the_belgian_certificates() {
    require_vpcd();
    let _lock = vpcd_test_lock();
    let ctx = Context::establish(Scope::User).unwrap();
    let handle = start(Profile::Belpic18);
    wait_reader(&ctx, true);
    let pki = handle.pki();
    for (id, der) in [
        ("02", &pki.auth_der),
        ("03", &pki.sign_der),
        ("04", &pki.ca_der),
        ("06", &pki.root_der),
    ] {
        let out = Command::new("pkcs15-tool")
            .args(["--reader", "0", "--read-certificate", id])
            .output()
            .expect("pkcs15-tool (package opensc) must be installed");
        assert!(
            out.status.success(),
            "pkcs15-tool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (label, read) = der::pem::decode_vec(&out.stdout).expect("PEM from pkcs15-tool");
        assert_eq!(label, "CERTIFICATE");
        assert_eq!(&read, der, "certificate {id} read by OpenSC differs");
    }
}
