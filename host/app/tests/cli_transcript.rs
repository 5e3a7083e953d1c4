//! `eidlink sign`'s signature check against a real card's signature: the FinEID v3 authentication
//! key signs with RSA-PSS (cards.md), and the CLI checks every signature before printing it, so a
//! check that knows no PSS fails the command after the card has signed (issue 11).
//!
//! The recorded transcript (../shared/vectors/apdu/fineid-v3-authenticate.apdu) is replayed through
//! the scripted channel by the driver its ATR selects, in the order of the CLI's `sign`: read the
//! certificate, read the PIN state, sign; then the CLI's own check runs on what the card returned.
//! Set `EIDLINK_VECTORS` to use another directory; without the vectors the test prints `SKIP: ...`
//! and passes (the project's rule for vectors). No pcscd is needed.

// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use eidlink_app::cli::{check_signature, CliError};
use eidlink_cert::CertError;
use eidlink_core::transcript::Transcript;
use eidlink_core::{detect, CertificateKind, CryptoAlgorithm, Digest, HashAlgorithm, KeyRole, Padding, Pin};

fn vectors_dir() -> PathBuf {
    match std::env::var_os("EIDLINK_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/apdu/")),
    }
}

/// The transcript, or `None` (after a SKIP line) when the vectors directory is absent.
fn load(file: &str) -> Option<Transcript> {
    let dir = vectors_dir();
    if !dir.is_dir() {
        eprintln!("SKIP: vectors not found at {}", dir.display());
        return None;
    }
    let path = dir.join(file);
    // The directory is there: a missing or broken file is a failure, not a skip.
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(Transcript::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The data field of the first command with this instruction (and, if given, P1 P2).
fn data_of(t: &Transcript, ins: u8, p1p2: Option<(u8, u8)>) -> Vec<u8> {
    let cmd = t
        .command_bytes()
        .into_iter()
        .find(|c| c.len() > 5 && c[1] == ins && p1p2.is_none_or(|(p1, p2)| c[2] == p1 && c[3] == p2))
        .unwrap_or_else(|| panic!("no command {ins:02X} with data"));
    cmd[5..5 + usize::from(cmd[4])].to_vec()
}

#[test]
fn eidlink_sign_checks_the_fineid_v3_pss_signature() {
    let Some(t) = load("fineid-v3-authenticate.apdu") else {
        return;
    };
    let atr = t.atr.as_ref().expect("# atr: header");
    let entry = detect(atr).unwrap_or_else(|| panic!("no driver for {atr}"));
    assert_eq!(entry.name, eidlink_core::cards::thales::NAME_FINEID_V3);
    let driver = (entry.make)();

    // The PIN of the recorded VERIFY: its ASCII digits, before the padding.
    let verify = data_of(&t, 0x20, None);
    let digits: String = verify
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| char::from(*b))
        .collect();
    let pin = Pin::from(digits.as_str());
    // The digest the card was asked to sign: PSO HASH (2A 90 A0), tag 90.
    let hash = data_of(&t, 0x2A, Some((0x90, 0xA0)));
    assert_eq!(
        (hash[0], usize::from(hash[1])),
        (0x90, hash.len() - 2),
        "PSO HASH data is tag 90"
    );
    let digest = Digest::new(HashAlgorithm::Sha256, hash[2..].to_vec()).expect("a SHA-256 digest");

    let mut ch = t.channel();
    let cert = driver
        .certificate(&mut ch, CertificateKind::Authentication)
        .expect("certificate");
    let pin_info = driver.pin_info(&mut ch, KeyRole::Authentication).expect("PIN state");
    assert!(!pin_info.is_blocked());
    let sig = driver
        .sign(&mut ch, KeyRole::Authentication, &pin, &digest)
        .expect("the card signs");
    ch.finish()
        .expect("the replay sent every recorded command and nothing else");

    // What makes this the PSS case: an RSA key signing with PSS, the scheme the old eidlink-certinfo did not know.
    assert_eq!(eidlink_cert::summarize(&cert).expect("summary").key, "RSA 2048");
    assert_eq!(sig.algorithm.crypto, CryptoAlgorithm::Rsa);
    assert_eq!(sig.algorithm.padding, Padding::Pss);
    assert_eq!(sig.algorithm.hash, HashAlgorithm::Sha256);

    check_signature(&cert, &digest, &sig).expect("eidlink sign accepts the card's PSS signature");

    // The check can fail: a flipped byte, another digest, another scheme.
    let mut flipped = sig.clone();
    flipped.bytes[100] ^= 0x01;
    let err = check_signature(&cert, &digest, &flipped).unwrap_err();
    assert!(matches!(err, CliError::Cert(CertError::BadSignature)), "{err}");
    assert_eq!(err.exit_code(), 7);
    let mut other = digest.as_bytes().to_vec();
    other[0] ^= 0x80;
    let other = Digest::new(HashAlgorithm::Sha256, other).expect("digest");
    assert!(matches!(
        check_signature(&cert, &other, &sig),
        Err(CliError::Cert(CertError::BadSignature))
    ));
    let mut pkcs1 = sig.clone();
    pkcs1.algorithm.padding = Padding::Pkcs1v15;
    assert!(matches!(
        check_signature(&cert, &digest, &pkcs1),
        Err(CliError::Cert(CertError::BadSignature))
    ));
}
