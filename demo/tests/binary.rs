//! The `eidlink-demo-service` binary as the demo script and browser tests run it: port 0, the bound URL
//! on the first line of stdout, the self-signed certificate written with `--write-cert`, the test PKI's
//! root and citizen CA given as DER files (what `eidlink-vcard --export-pki` writes).
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::*;
use reqwest::StatusCode;

/// Kills the service when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eidlink-demo-bin-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_binary_serves_the_login_flow() {
    let pki = alice();
    let dir = temp_dir("flow");
    let paths = pki.export(&dir.join("pki")).unwrap();
    assert!(paths.iter().any(|p| p.ends_with("root.der")));
    let cert = dir.join("cert.pem");
    let child = Command::new(env!("CARGO_BIN_EXE_eidlink-demo-service"))
        .args(["--listen", "127.0.0.1:0", "--trust-ca"])
        .arg(dir.join("pki/root.der"))
        .arg("--intermediate")
        .arg(dir.join("pki/ca.pem"))
        .arg("--write-cert")
        .arg(&cert)
        .arg("--page-module")
        .arg(page_module())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"));
    assert!(url.starts_with("https://localhost:") && url.ends_with('/'), "{url}");
    let port: u16 = url["https://localhost:".len()..url.len() - 1].parse().unwrap();
    assert_ne!(port, 0);

    let pem = std::fs::read_to_string(&cert).unwrap();
    let client = client_for(&pem, ([127, 0, 0, 1], port).into());
    let health = client.get(format!("{url}healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // A full login, the nonce bound to the session cookie.
    let (cookie, nonce) = challenge(&client, url).await;
    let origin = url.trim_end_matches('/');
    let login = client
        .post(format!("{url}api/auth/login"))
        .header("cookie", &cookie)
        .header("origin", origin)
        .json(&serde_json::json!({ "token": token(pki, origin, &nonce) }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    // What the service verified, for the logged-in session (the new cookie of the login).
    let session = set_cookie(&login);
    let last: serde_json::Value = client
        .get(format!("{url}api/last"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["login"]["holder"], "ALICE SPECIMEN");
    assert_eq!(last["login"]["nationalNumber"], "85010112486");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configuration_is_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_eidlink-demo-service"))
        .args(["--listen", "127.0.0.1:0", "--trust-ca", "/nonexistent/root.der"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/root.der"), "{err}");
    // --trust-ca is required.
    let out = Command::new(env!("CARGO_BIN_EXE_eidlink-demo-service"))
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn the_binary_serves_a_given_certificate() {
    let pki = alice();
    let dir = temp_dir("given-cert");
    std::fs::write(dir.join("ca.der"), &pki.ca_der).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_eidlink-demo-service"))
        .args(["--listen", "127.0.0.1:0", "--trust-ca"])
        .arg(dir.join("ca.der"))
        .arg("--tls-cert")
        .arg(dir.join("cert.pem"))
        .arg("--tls-key")
        .arg(dir.join("key.pem"))
        .arg("--write-cert")
        .arg(dir.join("written.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap().to_owned();
    let port: u16 = url["https://localhost:".len()..url.len() - 1].parse().unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("written.pem")).unwrap(), cert.pem());
    let client = client_for(&cert.pem(), ([127, 0, 0, 1], port).into());
    let health = client.get(format!("{url}healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}
