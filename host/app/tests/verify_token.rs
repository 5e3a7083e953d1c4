//! `eidlink verify-token`: a token made with the virtual card's test PKI keys, checked by the binary as
//! a site's server would. No card or pcscd involved.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{b64, text};

use eidlink_tests::crypto::ecdsa_sign_digest;
use eidlink_tests::{Country, LeafKey, LeafKeyType, Pki, PkiSpec};
use eidlink_verifier::{auth_signed_data, TokenAlgorithm};

const ORIGIN: &str = "https://eidlink.example";
const NONCE: &str = "T2TfE5QBbDJHkU5ksVwY7+2wOZBg3E8jGqtBJJCjpfI=";

fn run(args: &[&str], stdin: &str) -> Output {
    common::run_eidlink(args, stdin, &[])
}

/// A fresh directory with the CA (PEM and DER) and an ES384 token for ORIGIN and NONCE.
fn fixture() -> (PathBuf, String) {
    let pki = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).expect("pki");
    let dir = std::env::temp_dir().join(format!("eidlink-verify-token-{}", std::process::id()));
    pki.export(&dir).expect("export");
    let LeafKey::P384(key) = &pki.auth_key else {
        panic!("P-384 PKI")
    };
    let sig = ecdsa_sign_digest(key, &auth_signed_data(ORIGIN, NONCE, TokenAlgorithm::Es384)).expect("sign");
    let token = format!(
        r#"{{"algorithm":"ES384","appVersion":"https://eidlink.example/0.1.0","format":"web-eid:1.0","signature":"{}","unverifiedCertificate":"{}"}}"#,
        b64(&sig),
        b64(&pki.auth_der)
    );
    std::fs::write(dir.join("token.json"), format!("{token}\n")).expect("write token");
    (dir, token)
}

#[test]
fn verify_token_prints_the_subject_or_fails_with_exit_7() {
    let (dir, token) = fixture();
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (ca_pem, root_der, token_file) = (p("ca.pem"), p("root.der"), p("token.json"));
    let at = "2026-01-01T00:00:00Z";

    // From a file, trusting the citizen CA (plus the root, repeatable --trust).
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            NONCE,
            "--trust",
            &ca_pem,
            "--trust",
            &root_der,
            "--at",
            at,
            &token_file,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("token OK (ES384, web-eid:1.0) for https://eidlink.example"),
        "{stdout}"
    );
    assert!(stdout.contains("name: Alice Specimen\n"), "{stdout}");
    assert!(stdout.contains("national number: 85010112486"), "{stdout}");
    assert!(stdout.contains("country: BE"), "{stdout}");

    // From standard input (the default), trusting the root with the CA as an intermediate.
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            NONCE,
            "--trust",
            &root_der,
            "--intermediate",
            &ca_pem,
            "--at",
            at,
        ],
        &token,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Another nonce: the signature does not verify → exit 7 and a clear message.
    let other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            other,
            "--trust",
            &ca_pem,
            "--at",
            at,
            "-",
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the token does NOT verify: the signature does not verify"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // After the certificate's end → exit 7 too.
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            NONCE,
            "--trust",
            &ca_pem,
            "--at",
            "2035-01-01T00:00:00Z",
            &token_file,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stderr).contains("expired"), "{}", text(&out.stderr));

    // A trust file that is no certificate is a usage problem (exit 1), not a verification failure.
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            NONCE,
            "--trust",
            &token_file,
            &token_file,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // A malformed --at is clap's usage error.
    let out = run(
        &[
            "verify-token",
            "--origin",
            ORIGIN,
            "--nonce",
            NONCE,
            "--trust",
            &ca_pem,
            "--at",
            "yesterday",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));

    std::fs::remove_dir_all(&dir).ok();
}
