//! The demo service with revocation checking on (`--ocsp`): a real `openssl ocsp` responder on
//! loopback serves the citizen CA's index for a card whose certificates name it in their AIA. A
//! revoked card cannot log in, a revoked signing certificate cannot sign, both with a clear message;
//! an unreachable responder refuses too (fail closed).
// Test code: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::start_configured;
use eidlink_tests::ocsp::{free_port, OcspResponder, ResponderSpec};
use eidlink_tests::pki::index_line;
use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};
use eidlink_verifier::OcspChecker;

/// Alice's card with `url` as its certificates' OCSP responder.
fn card(url: &str) -> Pki {
    let mut spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
    spec.ocsp_url = Some(url.to_owned());
    Pki::generate(&spec).expect("pki")
}

/// `openssl ocsp` signing with the citizen CA's key; killed when dropped.
struct Responder(OcspResponder);

impl Responder {
    fn start(pki: &Pki, port: u16, index: &str) -> Responder {
        let spec = ResponderSpec {
            ca_der: &pki.ca_der,
            signer: (&pki.ca_der, &pki.ca_key),
            index,
            port,
            extra: &[],
        };
        Responder(OcspResponder::start(&spec).unwrap_or_else(|e| panic!("{e}")))
    }
}

/// The demo trusting `pki`'s citizen CA, with its revocation checker on.
async fn demo_with_ocsp(pki: &Pki) -> common::Demo {
    let checker = OcspChecker::builder().issuers(&pki.ca_der).build().expect("checker");
    start_configured(&[&pki.ca_der], &[], None, |s| {
        assert!(s.state().set_ocsp(checker));
        s
    })
    .await
}

#[tokio::test]
async fn a_revoked_card_cannot_log_in() {
    let port = free_port().expect("port");
    let pki = card(&format!("http://127.0.0.1:{port}/"));
    let index = index_line(&pki.auth_der, Some(("250601000000Z", "keyCompromise"))).expect("index");
    let _responder = Responder::start(&pki, port, &index);
    let demo = demo_with_ocsp(&pki).await;
    let mut b = demo.browser();
    let login = b.login_with(&pki).await;
    login.assert_refused(401, "TOKEN_REJECTED", Some("CERTIFICATE_REVOKED"));
    let message = login.json()["error"]["message"].as_str().unwrap().to_owned();
    assert_eq!(
        message,
        "this card's certificate was revoked (keyCompromise) on 2025-06-01T00:00:00Z: the card can no longer be used"
    );
    // Not logged in.
    b.prepare(&pki, "en").await.assert_refused(401, "NOT_LOGGED_IN", None);
}

#[tokio::test]
async fn a_valid_card_logs_in_but_its_revoked_signing_certificate_cannot_sign() {
    let port = free_port().expect("port");
    let pki = card(&format!("http://127.0.0.1:{port}/"));
    let index = index_line(&pki.auth_der, None).expect("index")
        + &index_line(&pki.sign_der, Some(("260101000000Z", "superseded"))).expect("index");
    let _responder = Responder::start(&pki, port, &index);
    let demo = demo_with_ocsp(&pki).await;
    let mut b = demo.browser();
    assert_eq!(b.login(&pki).await["holder"], "ALICE SPECIMEN");
    let prepared = b.prepare(&pki, "en").await;
    prepared.assert_refused(403, "CERTIFICATE_REJECTED", Some("CERTIFICATE_REVOKED"));
    assert!(
        prepared.text.contains("revoked (superseded) on 2026-01-01T00:00:00Z"),
        "{}",
        prepared.text
    );
}

#[tokio::test]
async fn an_unreachable_responder_refuses_the_login() {
    let pki = card(&format!("http://127.0.0.1:{}/", free_port().expect("port")));
    let demo = demo_with_ocsp(&pki).await;
    let mut b = demo.browser();
    b.login_with(&pki)
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("OCSP_UNREACHABLE"));
}

#[tokio::test]
async fn without_ocsp_the_service_does_not_ask() {
    // Off by default: certificates naming a dead responder log in as before.
    let pki = card(&format!("http://127.0.0.1:{}/", free_port().expect("port")));
    let demo = start_configured(&[&pki.ca_der], &[], None, |s| s).await;
    assert_eq!(demo.browser().login(&pki).await["holder"], "ALICE SPECIMEN");
}

/// Kills the service binary when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_with_ocsp_refuses_a_revoked_card() {
    let port = free_port().expect("port");
    let pki = card(&format!("http://127.0.0.1:{port}/"));
    let index = index_line(&pki.auth_der, Some(("250601000000Z", "keyCompromise"))).expect("index");
    let responder = Responder::start(&pki, port, &index);
    let ca = responder.0.path("citizen-ca.der");
    std::fs::write(&ca, &pki.ca_der).expect("ca");
    let cert = responder.0.path("tls.pem");
    let child = Command::new(env!("CARGO_BIN_EXE_eidlink-demo-service"))
        .args(["--listen", "127.0.0.1:0", "--ocsp", "--trust-ca"])
        .arg(&ca)
        .arg("--write-cert")
        .arg(&cert)
        .arg("--page-module")
        .arg(common::page_module())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("service");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("stdout");
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("line");
        line
    })
    .await
    .expect("join");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("listening")
        .to_owned();
    let service_port: u16 = url["https://localhost:".len()..url.len() - 1].parse().expect("port");
    let client = common::client_for(
        &std::fs::read_to_string(&cert).expect("cert"),
        ([127, 0, 0, 1], service_port).into(),
    );
    let (cookie, nonce) = common::challenge(&client, &url).await;
    let origin = url.trim_end_matches('/');
    let login = client
        .post(format!("{url}api/auth/login"))
        .header("cookie", &cookie)
        .header("origin", origin)
        .json(&serde_json::json!({ "token": common::token(&pki, origin, &nonce) }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 401);
    let body: serde_json::Value = login.json().await.expect("json");
    assert_eq!(body["error"]["reason"], "CERTIFICATE_REVOKED", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked (keyCompromise)"),
        "{body}"
    );
    drop(running);
}
