//! The card drivers over the real PC/SC stack: pcscd, the vpcd reader driver and the virtual card.
//! Everything a driver reads is compared with the card's own PKI; every signature is verified with
//! the certificate's public key.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{insert, insert_with, is_pin_verify, sha, token, within};
use eidlink_core::cards::belpic::{Applet, Belpic};
use eidlink_core::{
    CardError, CardTransport, CertificateKind, HashAlgorithm, KeyRole, Pin, PinFailure, PinInput, TransportError,
};
use eidlink_tests::{CardOptions, Profile};

const BELGIAN: [(Profile, HashAlgorithm); 2] = [
    (Profile::Belpic18, HashAlgorithm::Sha384),
    (Profile::Belpic17, HashAlgorithm::Sha256),
];
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn belgian_certificates_match_the_card_pki() {
    for (profile, _) in BELGIAN {
        let card = insert(profile);
        let pki = card.handle.pki();
        let mut t = token();
        assert_eq!(
            t.certificate(CertificateKind::Authentication).expect("auth cert"),
            pki.auth_der,
            "{profile:?}"
        );
        assert_eq!(
            t.certificate(CertificateKind::Signing).expect("sign cert"),
            pki.sign_der,
            "{profile:?}"
        );
        assert_eq!(
            t.certificate(CertificateKind::IntermediateCa).expect("CA cert"),
            pki.ca_der,
            "{profile:?}"
        );
        assert_eq!(
            t.certificate(CertificateKind::Root).expect("root cert"),
            pki.root_der,
            "{profile:?}"
        );
        let info = t.card_info().expect("card info");
        let serial = info.serial.expect("serial");
        assert_eq!(serial.len(), 32, "{profile:?}: 16-byte chip serial in hex");
        let want = if profile == Profile::Belpic18 {
            "applet 1.8"
        } else {
            "applet 1.7"
        };
        assert_eq!(info.version.as_deref(), Some(want));
    }
}

#[test]
fn belgian_authentication_and_non_repudiation_signatures_verify() {
    for (profile, hash) in BELGIAN {
        let card = insert(profile);
        let pki = card.handle.pki();
        let mut t = token();
        for (role, der, key) in [
            (KeyRole::Authentication, &pki.auth_der, &pki.auth_key),
            (KeyRole::Signing, &pki.sign_der, &pki.sign_key),
        ] {
            let digest = sha(hash, format!("{profile:?} {role:?}").as_bytes());
            let sig = t
                .sign(role, PinInput::Typed(&Pin::from("1234")), &digest)
                .expect("signature");
            eidlink_cert::verify(der, &digest, &sig.bytes, &sig.algorithm).expect("verifies with the certificate");
            // The same check with the card's own key material, independent of our verifier.
            let input = if profile == Profile::Belpic18 {
                digest.as_bytes().to_vec()
            } else {
                digest.digest_info()
            };
            assert!(key.verify(&input, &sig.bytes), "{profile:?} {role:?}");
            let mut bad = sig.bytes.clone();
            bad[10] ^= 1;
            assert!(
                eidlink_cert::verify(der, &digest, &bad, &sig.algorithm).is_err(),
                "a flipped bit must not verify"
            );
        }
        assert_eq!(card.handle.pin_tries_left(), 3);
    }
}

#[test]
fn wrong_pin_reports_tries_left_and_the_right_pin_restores_them() {
    for (profile, hash) in BELGIAN {
        let card = insert(profile);
        let mut t = token();
        let d = sha(hash, b"wrong pin");
        let err = t
            .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("9999")), &d)
            .expect_err("wrong PIN");
        assert_eq!(
            err,
            CardError::Pin(PinFailure::Wrong { retries: Some(2) }),
            "{profile:?}"
        );
        assert_eq!(
            t.pin_info(KeyRole::Authentication).expect("pin info").tries_left,
            Some(2)
        );
        let err = t
            .sign(KeyRole::Signing, PinInput::Typed(&Pin::from("0000")), &d)
            .expect_err("wrong PIN");
        assert_eq!(
            err,
            CardError::Pin(PinFailure::Wrong { retries: Some(1) }),
            "{profile:?}"
        );
        t.sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("1234")), &d)
            .expect("right PIN");
        assert_eq!(
            t.pin_info(KeyRole::Authentication).expect("pin info").tries_left,
            Some(3)
        );
        assert_eq!(card.handle.pin_tries_left(), 3);
    }
}

#[test]
fn third_wrong_pin_blocks_the_card() {
    for (profile, hash) in BELGIAN {
        let card = insert(profile);
        let mut t = token();
        let d = sha(hash, b"block");
        for retries in [2, 1] {
            let err = t
                .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("9999")), &d)
                .expect_err("wrong PIN");
            assert_eq!(err, CardError::Pin(PinFailure::Wrong { retries: Some(retries) }));
        }
        let err = t
            .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("9999")), &d)
            .expect_err("third wrong PIN");
        assert_eq!(err, CardError::Pin(PinFailure::Blocked), "{profile:?}");
        let info = t.pin_info(KeyRole::Authentication).expect("pin info");
        assert!(info.is_blocked(), "{profile:?}: {info:?}");
        // Asking for the state did not present a PIN.
        let last = card.handle.apdu_log().pop().expect("logged");
        assert!(!is_pin_verify(&last.command), "{profile:?}: {:02X?}", last.command);
        // Even the right PIN is refused now.
        let err = t
            .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("1234")), &d)
            .expect_err("blocked");
        assert_eq!(err, CardError::Pin(PinFailure::Blocked));
        assert_eq!(card.handle.pin_tries_left(), 0);
    }
}

#[test]
fn non_repudiation_needs_the_pin_right_before_and_the_driver_says_so() {
    let card = insert(Profile::Belpic18);
    let d = sha(HashAlgorithm::Sha384, b"contract");
    let ctx = eidlink_pcsc::context().expect("context");
    let mut transport = eidlink_pcsc::PcscTransport::connect(&ctx, common::READER).expect("connect");
    let driver = Belpic::new(Applet::V18);
    let mut ch = transport.begin().expect("transaction");
    // A VERIFY for the authentication key, then the authentication key signs again without one
    // ("PIN once"), but the non-repudiation key refuses: it needs a VERIFY right before.
    driver
        .sign_with(ch.as_mut(), KeyRole::Authentication, Some(&Pin::from("1234")), &d)
        .expect("auth with PIN");
    driver
        .sign_with(ch.as_mut(), KeyRole::Authentication, None, &d)
        .expect("auth again, PIN once");
    let err = driver
        .sign_with(ch.as_mut(), KeyRole::Signing, None, &d)
        .expect_err("non-repudiation without PIN");
    assert_eq!(err, CardError::PinRequired);
    let sig = driver
        .sign_with(ch.as_mut(), KeyRole::Signing, Some(&Pin::from("1234")), &d)
        .expect("with PIN");
    assert!(card.handle.pki().sign_key.verify(d.as_bytes(), &sig.bytes));
    // The right is used up by one signature.
    let err = driver
        .sign_with(ch.as_mut(), KeyRole::Signing, None, &d)
        .expect_err("second signature");
    assert_eq!(err, CardError::PinRequired);
    let log = card.handle.apdu_log();
    let last = log.last().expect("logged");
    assert_eq!(
        &last.response[last.response.len() - 2..],
        &[0x69, 0x82],
        "the card refused"
    );
}

#[test]
fn card_removed_during_a_certificate_read_is_reported() {
    for (profile, _) in BELGIAN {
        let card = insert(profile);
        let mut t = token();
        card.handle.clear_log();
        // APDU 1 is the SELECT, 2 the first READ BINARY.
        card.handle.remove_at(2);
        let err = within(common_limit(), move || t.certificate(CertificateKind::Authentication)).expect_err("removed");
        assert_eq!(err, CardError::Transport(TransportError::CardRemoved), "{profile:?}");
    }
}

#[test]
fn card_removed_during_a_signature_loses_no_pin_try() {
    for (profile, hash) in BELGIAN {
        // Removal when the VERIFY arrives (2) and when the signature arrives (3).
        for k in [2, 3] {
            let card = insert(profile);
            let mut t = token();
            let d = sha(hash, b"removed");
            card.handle.clear_log();
            card.handle.remove_at(k);
            let err = within(common_limit(), move || {
                t.sign(KeyRole::Signing, PinInput::Typed(&Pin::from("1234")), &d)
            })
            .expect_err("removed");
            assert_eq!(
                err,
                CardError::Transport(TransportError::CardRemoved),
                "{profile:?} at {k}"
            );
            assert_eq!(card.handle.pin_tries_left(), 3, "{profile:?} at {k}: no PIN try lost");
        }
    }
}

fn common_limit() -> Duration {
    LIMIT
}

/// The round trips of one Belgian 1.8 authentication, as the host will do it: the certificate,
/// the PIN state for the dialog, the signature. Each certificate READ BINARY carries 256 bytes.
#[test]
fn belpic18_authentication_round_trips() {
    let card = insert(Profile::Belpic18);
    let cert_len = card.handle.pki().auth_der.len();
    let mut t = token();
    card.handle.clear_log();
    let cert = t.certificate(CertificateKind::Authentication).expect("cert");
    let tries = t.pin_info(KeyRole::Authentication).expect("pin").tries_left;
    let d = sha(HashAlgorithm::Sha384, b"challenge");
    let sig = t
        .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("1234")), &d)
        .expect("sign");
    eidlink_cert::verify(&cert, &d, &sig.bytes, &sig.algorithm).expect("verifies");
    assert_eq!(tries, Some(3));
    let log = card.handle.apdu_log();
    let reads = cert_len.div_ceil(256);
    // SELECT + READ BINARY × reads + GET CARD DATA + MSE SET + VERIFY + PSO CDS.
    assert_eq!(
        log.len(),
        1 + reads + 1 + 3,
        "{:#?}",
        log.iter().map(|l| &l.command).collect::<Vec<_>>()
    );
    eprintln!(
        "Belgian 1.8 authentication: {} APDUs ({reads} READ BINARY for a {cert_len}-byte certificate)",
        log.len()
    );
}

#[test]
fn esteid_certificates_and_both_pins_through_pcscd() {
    let card = insert_with(Profile::EstEid, &CardOptions::default());
    let pki = card.handle.pki();
    let mut t = token();
    assert!(t.label().contains("Estonian"), "{}", t.label());
    assert_eq!(
        t.certificate(CertificateKind::Authentication).expect("auth"),
        pki.auth_der
    );
    assert_eq!(t.certificate(CertificateKind::Signing).expect("sign"), pki.sign_der);
    // PIN2 guards the signing key.
    assert_eq!(t.key(KeyRole::Signing).map(|k| k.pin_label), Some("PIN2"));
    assert_eq!(t.key(KeyRole::Authentication).map(|k| k.pin_label), Some("PIN1"));
    assert_eq!(t.pin_info(KeyRole::Authentication).expect("pin1").tries_left, Some(3));
    assert_eq!(t.pin_info(KeyRole::Signing).expect("pin2").tries_left, Some(3));
    let d = sha(HashAlgorithm::Sha384, b"esteid");
    let auth = t
        .sign(KeyRole::Authentication, PinInput::Typed(&Pin::from("1234")), &d)
        .expect("auth signature");
    eidlink_cert::verify(&pki.auth_der, &d, &auth.bytes, &auth.algorithm).expect("auth verifies");
    // PIN2 has at least 5 digits: a 4-digit PIN is refused before the card is touched.
    let err = t
        .sign(KeyRole::Signing, PinInput::Typed(&Pin::from("1234")), &d)
        .expect_err("too short for PIN2");
    assert_eq!(err, CardError::Pin(PinFailure::InvalidFormat));
    assert_eq!(card.handle.sign_pin_tries_left(), Some(3));
    let err = t
        .sign(KeyRole::Signing, PinInput::Typed(&Pin::from("54321")), &d)
        .expect_err("wrong PIN2");
    assert_eq!(err, CardError::Pin(PinFailure::Wrong { retries: Some(2) }));
    assert_eq!(card.handle.pin_tries_left(), 3, "PIN1 untouched");
    let sign = t
        .sign(KeyRole::Signing, PinInput::Typed(&Pin::from("12345")), &d)
        .expect("qualified signature");
    eidlink_cert::verify(&pki.sign_der, &d, &sign.bytes, &sign.algorithm).expect("sign verifies");
    assert_eq!(card.handle.sign_pin_tries_left(), Some(3));
}
