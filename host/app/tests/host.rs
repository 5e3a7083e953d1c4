//! The real `eidlink-host` binary over stdio, with the virtual card in the real pcscd and a scripted
//! PIN program configured in the user's config file (the way a user would pick another PIN program).
//! Every token and signature is checked against the virtual card's PKI.

// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{b64, insert, insert_with, is_pin_verify, pin_script, unb64};
use eidlink_core::{Digest, HashAlgorithm};
use eidlink_tests::xvfb::Display;
use eidlink_tests::{CardOptions, Profile};
use serde_json::{json, Value};

const HOST: &str = env!("CARGO_BIN_EXE_eidlink-host");
const NONCE: &str = "dGhpcyBpcyBhIDMyLWJ5dGUgdGVzdCBub25jZSEhISE=";
const ORIGIN: &str = "https://service.example.be";

/// The host under test: this build's, or the program EIDLINK_TEST_HOST names, run through
/// EIDLINK_TEST_HOST_RUNNER when set: installer/windows/wine-test.sh runs the card-free tests
/// against the Windows `eidlink-host.exe` under `wine`.
fn host_command() -> Command {
    eidlink_tests::program_under_test(HOST, "EIDLINK_TEST_HOST", "EIDLINK_TEST_HOST_RUNNER")
}

/// A user's home for one host run: config (PIN program, timeout) and data (log, history).
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(answers: &str, timeout: u64) -> Self {
        Self::with_config(answers, timeout, "")
    }

    /// A home whose config.toml also has `extra` (PKCS#11 settings).
    fn with_config(answers: &str, timeout: u64, extra: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eidlink-host-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config/eidlink")).expect("mkdir");
        let config = format!(
            "pin-program = [{:?}, \"--answers\", {:?}, \"--record\", {:?}]\nlogging = true\ntimeout-seconds = {timeout}\n",
            pin_script().display().to_string(),
            answers,
            dir.join("dialog.log").display().to_string(),
        ) + extra;
        std::fs::write(dir.join("config/eidlink/config.toml"), config).expect("config");
        Self { dir }
    }

    fn dialog_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("dialog.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The `ask` requests the dialog received.
    fn asks(&self) -> Vec<Value> {
        self.dialog_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "ask")
            .collect()
    }

    /// The asks for a PIN or consent (not the waits for a reader or card).
    fn pin_asks(&self) -> Vec<Value> {
        self.asks().into_iter().filter(|a| a.get("wait").is_none()).collect()
    }

    /// What the dialog was told to wait for, in order (`insert_card`, `pin_blocked`, ...).
    fn waits(&self) -> Vec<String> {
        self.asks()
            .iter()
            .filter_map(|a| a.get("wait").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data/eidlink")
    }

    fn spawn(&self, extra_env: &[(&str, &str)]) -> Child {
        self.spawn_via(host_command(), extra_env)
    }

    /// Runs the host through `command` (a wrapper that ends by running the host with these arguments).
    fn spawn_via(&self, mut command: Command, extra_env: &[(&str, &str)]) -> Child {
        command
            .arg("chrome-extension://test/")
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .envs(extra_env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start eidlink-host")
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn frame(json: &[u8]) -> Vec<u8> {
    let mut v = (json.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(json);
    v
}

fn read_frame(r: &mut impl Read) -> Option<Value> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
    r.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("the host writes JSON"))
}

/// Runs the host with raw input bytes; returns the frames it wrote, its exit code and stderr.
fn exchange_raw(home: &Home, input: &[u8], env: &[(&str, &str)]) -> (Vec<Value>, Option<i32>, String) {
    let mut child = home.spawn(env);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write");
    drop(stdin);
    let mut out = child.stdout.take().expect("stdout");
    let mut frames = Vec::new();
    while let Some(f) = read_frame(&mut out) {
        frames.push(f);
    }
    let mut rest = Vec::new();
    let _ = out.read_to_end(&mut rest);
    assert!(rest.is_empty(), "bytes on stdout outside frames: {rest:?}");
    let status = child.wait().expect("wait");
    let mut err = String::new();
    let _ = child.stderr.take().expect("stderr").read_to_string(&mut err);
    assert!(!err.contains("panicked"), "the host panicked: {err}");
    (frames, status.code(), err)
}

/// Sends one command (keeping stdin open until the reply, as a browser does).
fn call(home: &Home, msg: &Value) -> Value {
    call_env(home, msg, &[])
}

fn call_env(home: &Home, msg: &Value, env: &[(&str, &str)]) -> Value {
    call_via(home, host_command(), msg, env)
}

fn call_via(home: &Home, command: Command, msg: &Value, env: &[(&str, &str)]) -> Value {
    let mut child = home.spawn_via(command, env);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = child.stdout.take().expect("stdout");
    let version = read_frame(&mut out).expect("version frame");
    let v = version["version"].as_str().expect("version string");
    let major: u32 = v.split('.').next().and_then(|m| m.parse().ok()).expect("semver");
    assert!(major >= 2, "{v}");
    stdin.write_all(&frame(msg.to_string().as_bytes())).expect("write");
    stdin.flush().expect("flush");
    let reply = read_frame(&mut out).expect("reply frame");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert_eq!(
        status.success(),
        reply.get("error").is_none(),
        "exit status vs reply: {reply}"
    );
    reply
}

fn auth(origin: &str) -> Value {
    json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":origin}})
}

fn assert_error(reply: &Value, reason: &str, code: &str) {
    assert_eq!(reply["error"]["reason"], reason, "{reply}");
    assert_eq!(reply["error"]["code"], code, "{reply}");
    assert!(!reply["error"]["message"].as_str().unwrap_or("").is_empty(), "{reply}");
}

/// Checks a token the way a site does, with eidlink's verifier: the virtual card's CA as trust anchor,
/// our origin and nonce; and that it is the card's certificate and fails for another origin.
fn check_token(token: &Value, pki: &eidlink_tests::Pki, want_alg: &str) {
    check_token_of(token, pki, &pki.auth_der, want_alg);
}

/// [`check_token`] for a token whose authentication certificate is `auth_der`, issued under `pki`.
fn check_token_of(token: &Value, pki: &eidlink_tests::Pki, auth_der: &[u8], want_alg: &str) {
    assert_eq!(token["format"], "web-eid:1.0");
    assert_eq!(token["algorithm"], want_alg);
    assert!(token["appVersion"].as_str().unwrap_or("").contains("eidlink"));
    assert_eq!(unb64(&token["unverifiedCertificate"]), auth_der);
    let verifier = |origin: &str| {
        eidlink_verifier::TokenVerifier::builder(origin)
            .trusted_cas(&pki.root_der)
            .intermediates(&pki.ca_der)
            .build()
            .expect("verifier")
    };
    let json = token.to_string();
    let who = verifier(ORIGIN).verify(&json, NONCE).expect("the token verifies");
    assert!(
        who.subject
            .full_name()
            .unwrap_or_default()
            .to_lowercase()
            .contains("alice"),
        "{:?}",
        who.subject
    );
    assert!(
        verifier("https://evil.example").verify(&json, NONCE).is_err(),
        "bound to the origin"
    );
}

/// Checks a `sign` reply with the verifier, from the wire forms the site has.
fn check_sign_result(reply: &Value, cert: &[u8], hash: HashAlgorithm, digest: &Digest) {
    assert!(reply.get("error").is_none(), "the host failed: {reply}");
    eidlink_verifier::verify_sign_result(&b64(cert), hash.name(), &b64(digest.as_bytes()), &reply.to_string())
        .expect("the signature verifies");
    let other = Digest::of(hash, b"another document");
    assert!(
        eidlink_verifier::verify_sign_result(&b64(cert), hash.name(), &b64(other.as_bytes()), &reply.to_string())
            .is_err()
    );
}

#[test]
fn handshake_and_quit() {
    let home = Home::new("", 5);
    let (frames, code, _) = exchange_raw(&home, &frame(br#"{"command":"quit","arguments":{}}"#), &[]);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(frames[0]["version"].as_str().unwrap_or("").starts_with("2."));
    // What the extension checks before it sends the optional `topOrigin` argument.
    assert_eq!(frames[0]["capabilities"], json!(["topOrigin"]), "{:?}", frames[0]);
    assert_eq!(frames[1], json!({}));
    assert_eq!(code, Some(0));
    // The browser closing stdin before any command: a clean exit with only the version.
    let (frames, code, _) = exchange_raw(&home, b"", &[]);
    assert_eq!((frames.len(), code), (1, Some(0)));
}

/// Length bytes that a text-mode stdin would mangle (LF, CR, Ctrl-Z: end of file on Windows) are
/// read as bytes: a `quit` padded to 0x0D0A and 0x1A0A bytes, and bad JSON of 0x1A bytes.
#[test]
fn frame_lengths_with_newline_and_end_of_file_bytes() {
    let home = Home::new("", 5);
    let quit = br#"{"command":"quit","arguments":{}}"#;
    for len in [0x0D0A_usize, 0x1A0A, 0x0A0D] {
        let mut body = quit.to_vec();
        body.resize(len, b' ');
        let input = frame(&body);
        assert!(input[..4].iter().any(|b| [0x0A, 0x0D, 0x1A].contains(b)), "{len:#x}");
        let (frames, code, _) = exchange_raw(&home, &input, &[]);
        assert_eq!(frames.len(), 2, "{len:#x}: {frames:?}");
        assert_eq!(frames[1], json!({}), "{len:#x}");
        assert_eq!(code, Some(0), "{len:#x}");
    }
    let mut bad = b"{\"command\":\"quit\"".to_vec();
    bad.resize(0x1A, b' ');
    let (frames, code, _) = exchange_raw(&home, &frame(&bad), &[]);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_error(&frames[1], "INVALID_ARGUMENT", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
    assert_eq!(code, Some(1));
}

#[test]
fn every_bad_message_gets_a_precise_error_and_a_clean_exit() {
    let home = Home::new("", 5);
    let b64_32 = b64(&[1u8; 32]);
    let sign = |hf: &str, hash: &str, origin: &str| json!({"command":"sign","arguments":{"origin":origin,"hashFunction":hf,"hash":hash,"certificate":b64(b"x")}});
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("too short", frame(b"{}"), "INVALID_ARGUMENT"),
        ("too long", frame(&vec![b' '; 8193]), "MESSAGE_TOO_LARGE"),
        (
            "huge length, no body",
            u32::MAX.to_ne_bytes().to_vec(),
            "MESSAGE_TOO_LARGE",
        ),
        (
            "truncated",
            frame(br#"{"command":"quit","arguments":{}}"#)[..12].to_vec(),
            "INVALID_ARGUMENT",
        ),
        ("not JSON", frame(b"hello world"), "INVALID_ARGUMENT"),
        ("not an object", frame(b"[1,2,3]"), "INVALID_ARGUMENT"),
        (
            "unknown command",
            frame(br#"{"command":"format-disk","arguments":{}}"#),
            "INVALID_ARGUMENT",
        ),
        (
            "extra key",
            frame(
                json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":ORIGIN,"x":1}})
                    .to_string()
                    .as_bytes(),
            ),
            "INVALID_ARGUMENT",
        ),
        (
            "http origin",
            frame(auth("http://service.example.be").to_string().as_bytes()),
            "ORIGIN_REJECTED",
        ),
        (
            "origin with a path",
            frame(auth("https://service.example.be/login").to_string().as_bytes()),
            "ORIGIN_REJECTED",
        ),
        (
            "nonce too short",
            frame(
                json!({"command":"authenticate","arguments":{"challengeNonce":"abc","origin":ORIGIN}})
                    .to_string()
                    .as_bytes(),
            ),
            "INVALID_ARGUMENT",
        ),
        (
            "wrong hash length",
            frame(sign("SHA-384", &b64_32, ORIGIN).to_string().as_bytes()),
            "INVALID_ARGUMENT",
        ),
        (
            "unknown hash function",
            frame(sign("MD5", &b64_32, ORIGIN).to_string().as_bytes()),
            "INVALID_ARGUMENT",
        ),
    ];
    for (what, input, reason) in cases {
        let started = Instant::now();
        let (frames, code, _) = exchange_raw(&home, &input, &[]);
        assert_eq!(frames.len(), 2, "{what}: {frames:?}");
        let code_name = if reason == "INVALID_ARGUMENT" || reason == "ORIGIN_REJECTED" || reason == "MESSAGE_TOO_LARGE"
        {
            "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"
        } else {
            "ERR_WEBEID_NATIVE_FATAL"
        };
        assert_error(&frames[1], reason, code_name);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn authenticate_get_signing_certificate_and_sign_on_every_profile() {
    let cases = [
        (Profile::Belpic18, "ES384", "1234", "1234", HashAlgorithm::Sha384),
        (Profile::Belpic17, "RS256", "1234", "1234", HashAlgorithm::Sha256),
        (Profile::EstEid, "ES384", "1234", "12345", HashAlgorithm::Sha384),
    ];
    for (profile, alg, pin1, pin2, hash) in cases {
        let card = insert(profile);
        let pki = card.handle.pki();

        let home = Home::new(pin1, 20);
        let token = call(&home, &auth(ORIGIN));
        check_token(&token, &pki, alg);
        let ask = &home.asks()[0];
        assert_eq!(ask["purpose"], "authenticate");
        assert_eq!(ask["origin"], ORIGIN);
        assert_eq!(ask["pin"]["tries_left"], 3);
        assert!(
            ask["holder"].as_str().unwrap_or("").to_lowercase().contains("alice"),
            "{ask}"
        );

        let home = Home::new("confirm", 20);
        let reply = call(
            &home,
            &json!({"command":"get-signing-certificate","arguments":{"origin":ORIGIN,"lang":"fr"}}),
        );
        assert_eq!(unb64(&reply["certificate"]), pki.sign_der, "{profile:?}");
        let algs = reply["supportedSignatureAlgorithms"].as_array().expect("list");
        assert!(algs.iter().any(|a| a["hashFunction"] == hash.name()), "{reply}");
        assert_eq!(home.asks()[0]["purpose"], "consent");
        assert_eq!(home.asks()[0]["lang"], "fr");

        let digest = Digest::of(hash, format!("contract for {profile:?}").as_bytes());
        let home = Home::new(pin2, 20);
        let reply = call(
            &home,
            &json!({"command":"sign","arguments":{"origin":ORIGIN,"hashFunction":hash.name(),
                "hash":b64(digest.as_bytes()),"certificate":b64(&pki.sign_der)}}),
        );
        assert_eq!(reply["signatureAlgorithm"]["hashFunction"], hash.name());
        check_sign_result(&reply, &pki.sign_der, hash, &digest);
        let ask = &home.asks()[0];
        assert_eq!(ask["purpose"], "sign");
        assert_eq!(ask["hash"]["function"], hash.name());
        if profile == Profile::EstEid {
            assert_eq!(ask["pin"]["label"], "PIN2");
            assert_eq!(ask["pin"]["min"], 5);
        }
        // The history has the request, with no hash and no PIN.
        let history = std::fs::read_to_string(home.data().join("history.jsonl")).expect("history");
        assert!(
            history.contains("\"action\":\"sign\"") && history.contains("\"result\":\"ok\""),
            "{history}"
        );
        assert!(!history.contains(&hex::encode(digest.as_bytes())) && !history.contains(&b64(digest.as_bytes())));
        let log = std::fs::read_to_string(home.data().join("eidlink-host.log")).expect("log");
        assert!(
            log.contains("command=\"sign\"") && log.contains("result=\"ok\""),
            "{log}"
        );
        assert!(!log.contains(pin2), "the log must never hold the PIN");
    }
}

#[test]
fn wrong_pin_then_right_pin_shows_decreasing_tries() {
    let card = insert(Profile::Belpic18);
    let home = Home::new("9999,0000,1234", 20);
    let token = call(&home, &auth(ORIGIN));
    check_token(&token, &card.handle.pki(), "ES384");
    let tries: Vec<Value> = home.asks().iter().map(|a| a["pin"]["tries_left"].clone()).collect();
    assert_eq!(tries, vec![json!(3), json!(2), json!(1)]);
    let errors: Vec<Value> = home.asks().iter().map(|a| a["error"].clone()).collect();
    assert_eq!(errors[0], Value::Null);
    assert_eq!(errors[1], json!({"kind":"wrong_pin","tries_left":2}));
    assert_eq!(card.handle.pin_tries_left(), 3, "the right PIN resets the counter");
}

#[test]
fn blocked_pin_is_shown_and_fails_without_a_verify() {
    let options = CardOptions {
        tries_left: Some(0),
        ..CardOptions::default()
    };
    let card = insert_with(Profile::Belpic18, &options);
    card.handle.clear_log();
    let home = Home::new("1234", 10);
    let reply = call(&home, &auth(ORIGIN));
    assert_error(&reply, "PIN_BLOCKED", "ERR_WEBEID_NATIVE_FATAL");
    assert!(
        card.handle.apdu_log().iter().all(|l| !is_pin_verify(&l.command)),
        "no VERIFY to a blocked PIN"
    );
    assert!(home.pin_asks().is_empty(), "no PIN asked for a blocked card");
    // The user saw it, in the site's name, before the site was told.
    assert_eq!(home.waits(), vec!["pin_blocked".to_owned()]);
    assert_eq!(home.asks()[0]["origin"], ORIGIN);
}

#[test]
fn cancel_in_the_dialog() {
    let card = insert(Profile::Belpic18);
    let home = Home::new("cancel", 10);
    let reply = call(&home, &auth(ORIGIN));
    assert_error(&reply, "USER_CANCELLED", "ERR_WEBEID_USER_CANCELLED");
    assert_eq!(card.handle.pin_tries_left(), 3);
    let home = Home::new("cancel", 10);
    let reply = call(
        &home,
        &json!({"command":"get-signing-certificate","arguments":{"origin":ORIGIN}}),
    );
    assert_error(&reply, "USER_CANCELLED", "ERR_WEBEID_USER_CANCELLED");
}

#[test]
fn stdin_closed_while_the_dialog_is_open_ends_host_and_dialog() {
    let _card = insert(Profile::Belpic18);
    let home = Home::new("hang", 30);
    let mut child = home.spawn(&[]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = child.stdout.take().expect("stdout");
    read_frame(&mut out).expect("version");
    stdin
        .write_all(&frame(auth(ORIGIN).to_string().as_bytes()))
        .expect("write");
    let deadline = Instant::now() + Duration::from_secs(15);
    while home.asks().is_empty() {
        assert!(Instant::now() < deadline, "the dialog was never asked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dialog_pid: u32 = home.dialog_lines()[0]
        .strip_prefix("PID ")
        .and_then(|p| p.parse().ok())
        .expect("pid");
    drop(stdin);
    let closed = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            closed.elapsed() < Duration::from_secs(1),
            "the host is still running 1 s after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(read_frame(&mut out).is_none(), "no reply to a browser that left");
    assert!(status.success());
    while Path::new(&format!("/proc/{dialog_pid}")).exists() && !is_zombie(dialog_pid) {
        assert!(
            closed.elapsed() < Duration::from_secs(1),
            "the dialog outlived the host"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.contains(") Z "))
        .unwrap_or(true)
}

#[test]
fn card_removed_during_the_signature_is_waited_for_and_no_try_is_lost() {
    let card = insert(Profile::Belpic18);
    let home = Home::new("1234,1234", 30);
    card.handle.clear_log();
    // Authentication: SELECT, 3 READ BINARY, GET CARD DATA, MSE, VERIFY, PSO: remove at the PSO.
    card.handle.remove_at(8);
    let h = std::thread::spawn({
        let home_dir = home.dir.clone();
        move || {
            let home = Home { dir: home_dir };
            let r = call(&home, &auth(ORIGIN));
            std::mem::forget(home);
            r
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    while card.handle.is_inserted() {
        assert!(Instant::now() < deadline, "the card was never pulled");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1000));
    card.handle.insert();
    let token = h.join().expect("host thread");
    assert!(
        token.get("error").is_none(),
        "{token} / dialog: {:?}",
        home.dialog_lines()
    );
    check_token(&token, &card.handle.pki(), "ES384");
    assert_eq!(
        home.pin_asks().len(),
        2,
        "the PIN is asked again for the re-inserted card"
    );
    assert!(home.dialog_lines().iter().any(|l| l.contains("card_removed")));
    assert_eq!(card.handle.pin_tries_left(), 3);
}

#[test]
fn sign_with_another_cards_certificate_asks_for_that_card_until_the_timeout() {
    let _card = insert(Profile::Belpic18);
    let other = eidlink_tests::Pki::generate(&eidlink_tests::PkiSpec {
        seed: b"another citizen".to_vec(),
        ..eidlink_tests::PkiSpec::default_for(eidlink_tests::Country::Belgium, eidlink_tests::LeafKeyType::P384)
    })
    .expect("pki");
    let home = Home::new("1234", 2);
    let reply = call(
        &home,
        &json!({"command":"sign","arguments":{"origin":ORIGIN,"hashFunction":"SHA-256",
            "hash":b64(&[5u8; 32]),"certificate":b64(&other.sign_der)}}),
    );
    assert_error(&reply, "WRONG_CERTIFICATE", "ERR_WEBEID_NATIVE_FATAL");
    assert!(home.pin_asks().is_empty());
    assert_eq!(
        home.waits(),
        vec!["wrong_card".to_owned()],
        "the dialog asked for that card"
    );
}

#[test]
fn an_empty_reader_is_no_card() {
    let card = insert(Profile::Belpic18);
    card.handle.remove();
    common::wait_reader(|atr| atr.is_none(), "the card to be removed");
    let home = Home::new("1234", 2);
    let reply = call(&home, &auth(ORIGIN));
    assert_error(&reply, "NO_CARD", "ERR_WEBEID_NATIVE_FATAL");
}

/// No smart-card service (pcsc-lite's socket missing; under Wine, its winscard stub): told when
/// the wait for a card ends (Windows starts its service when a reader is plugged in), after the
/// dialog said to connect a reader, and not as a missing card or reader.
#[test]
fn no_smart_card_service() {
    let home = Home::new("1234", 2);
    let started = Instant::now();
    let reply = call_env(
        &home,
        &auth(ORIGIN),
        &[("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")],
    );
    assert_error(&reply, "NO_PCSC_SERVICE", "ERR_WEBEID_NATIVE_FATAL");
    let message = reply["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("smart card service is not running"), "{reply}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(home.pin_asks().is_empty());
    // This build's host uses this home's config, whose dialog is the scripted one; a host under
    // test elsewhere (`eidlink-host.exe` under Wine, installer/windows/wine-test.sh) reads its
    // config where Windows keeps it, and shows its own dialog.
    if std::env::var_os("EIDLINK_TEST_HOST").is_none() {
        assert_eq!(
            home.waits(),
            vec!["no_reader".to_owned()],
            "the dialog said to connect a reader"
        );
    }
}

/// The real PIN dialog (`eidlink-pin`, found next to the host as in a real install) under a private
/// Xvfb: xdotool types the PIN into the egui window, and the token verifies.
#[test]
fn the_real_pin_dialog_end_to_end_under_xvfb() {
    let dialog = Path::new(HOST).with_file_name("eidlink-pin");
    if !dialog.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "eidlink-pin-dialog", "--bin", "eidlink-pin"])
            .status();
        assert!(
            ok.map(|s| s.success()).unwrap_or(false) && dialog.exists(),
            "cannot build eidlink-pin"
        );
    }
    // Fails with the packages to install when Xvfb or xdotool is missing.
    let display = Display::start().expect("a private Xvfb");
    let card = insert(Profile::Belpic18);

    // No pin-program in the config: the host's default, the dialog installed beside it.
    let home = Home::new("", 60);
    std::fs::write(home.dir.join("config/eidlink/config.toml"), "timeout-seconds = 60\n").expect("config");
    let env = [("DISPLAY", display.name()), ("LANG", "fr_BE.UTF-8")];
    let mut child = home.spawn(&env);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = child.stdout.take().expect("stdout");
    read_frame(&mut out).expect("version");
    stdin
        .write_all(&frame(auth(ORIGIN).to_string().as_bytes()))
        .expect("write");
    stdin.flush().expect("flush");

    let window = display
        .wait_window("eidlink", Duration::from_secs(30))
        .expect("the PIN dialog's window");
    display.xdotool(&["windowfocus", "--sync", &window]).expect("focus");
    std::thread::sleep(Duration::from_millis(300));
    display
        .xdotool(&["type", "--delay", "40", "1234"])
        .expect("type the PIN");
    display.xdotool(&["key", "Return"]).expect("Return");

    let token = read_frame(&mut out).expect("reply");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(token.get("error").is_none(), "{token}");
    assert!(status.success());
    check_token(&token, &card.handle.pki(), "ES384");
    assert_eq!(card.handle.pin_tries_left(), 3);
}

/// A real pcscd with no reader at all: a second pcscd, with an empty reader configuration, in a
/// private mount namespace where its socket takes the place of the system one (pcscd 1.9 ignores
/// PCSCLITE_CSOCK_NAME on the server side). A tmpfs covers all of /run (/run/pcscd need not
/// exist: the tests' pcscd keeps its socket elsewhere) and the USB drivers (no real reader), and
/// the host is pointed at that socket, not at the tests' pcscd that PCSCLITE_CSOCK_NAME names.
/// Needs root (CI runs as root) and util-linux's unshare.
#[test]
fn no_reader_at_all() {
    assert!(
        std::fs::read_to_string("/proc/self/status")
            .map(|s| s
                .lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
            .unwrap_or(false),
        "this test starts a private pcscd in a mount namespace and must run as root (as CI does)"
    );
    let home = Home::new("1234", 3);
    let empty = home.dir.join("reader.conf.d");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let script = format!(
        "mount -t tmpfs eidlink-test /run && mkdir /run/pcscd || exit 90\n\
         mount -t tmpfs eidlink-no-usb /usr/lib/pcsc/drivers || exit 90\n\
         export PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm\n\
         pcscd --foreground --config {conf:?} </dev/null >{log:?} 2>&1 &\n\
         pcscd=$!\n\
         i=0; while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done\n\
         \"$0\" \"$@\"; rc=$?\n\
         kill $pcscd; wait $pcscd\n\
         exit $rc\n",
        conf = empty.display().to_string(),
        log = home.dir.join("pcscd.log").display().to_string(),
    );
    let mut command = Command::new("unshare");
    command.args(["--mount", "--propagation", "private", "sh", "-c", &script, HOST]);
    let reply = call_via(&home, command, &auth(ORIGIN), &[]);
    assert_error(&reply, "NO_READER", "ERR_WEBEID_NATIVE_FATAL");
    assert!(home.pin_asks().is_empty());
    assert_eq!(home.waits(), vec!["no_reader".to_owned()]);
}

// ---- PKCS#11 modules: SoftHSM2 tokens and OpenSC's module over the virtual card ----

/// The host run without PC/SC (a socket that is not there): its tokens come from the modules.
const NO_PCSC: (&str, &str) = ("PCSCLITE_CSOCK_NAME", "/nonexistent/eidlink-test/pcscd.comm");

/// config.toml lines: these modules, and none of the well-known ones installed here.
fn modules_config(modules: &[&str]) -> String {
    format!("pkcs11-modules = {modules:?}\nwell-known-pkcs11-modules = false\n")
}

/// The PKI whose citizen CA issues the SoftHSM tokens' certificates.
fn token_pki() -> &'static eidlink_tests::Pki {
    static PKI: std::sync::OnceLock<eidlink_tests::Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        eidlink_tests::Pki::generate(&eidlink_tests::PkiSpec::default_for(
            eidlink_tests::Country::Belgium,
            eidlink_tests::LeafKeyType::P384,
        ))
        .expect("test PKI")
    })
}

/// A SoftHSM token with PIN 1234 in a directory of its own.
fn softhsm_token(
    label: &str,
    auth: eidlink_tests::softhsm::KeyType,
    sign: eidlink_tests::softhsm::KeyType,
    always_authenticate: bool,
) -> eidlink_tests::softhsm::SoftHsm {
    assert!(
        eidlink_tests::softhsm::available(),
        "SoftHSM2 and OpenSC's pkcs11-tool are needed (apt-get install softhsm2 opensc)"
    );
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "eidlink-softhsm-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let spec = eidlink_tests::softhsm::TokenSpec {
        label: label.to_owned(),
        pin: "1234".to_owned(),
        auth: Some(auth),
        sign: Some(sign),
        sign_always_authenticate: always_authenticate,
    };
    eidlink_tests::softhsm::SoftHsm::create(&dir, &spec, token_pki()).expect("create the SoftHSM token")
}

/// Authenticate, get-signing-certificate and sign through the real host with SoftHSM tokens (EC
/// P-256 authentication with a P-384 signing key that needs a login for each signature; RSA-2048
/// for both), each result checked by the verifier against the PKI's root.
#[test]
fn softhsm_tokens_log_in_and_sign_through_the_real_host() {
    use eidlink_tests::softhsm::{KeyType, MODULE};
    let pki = token_pki();
    for (label, auth_key, sign_key, auth_alg, hash) in [
        ("ec", KeyType::P256, KeyType::P384, "ES256", HashAlgorithm::Sha384),
        (
            "rsa",
            KeyType::Rsa2048,
            KeyType::Rsa2048,
            "RS256",
            HashAlgorithm::Sha256,
        ),
    ] {
        let hsm = softhsm_token(label, auth_key, sign_key, true);
        let conf = hsm.conf().display().to_string();
        let env = [NO_PCSC, ("SOFTHSM2_CONF", conf.as_str())];
        let config = modules_config(&[MODULE]);

        let home = Home::with_config("1234", 20, &config);
        let token = call_env(&home, &auth(ORIGIN), &env);
        check_token_of(&token, pki, hsm.auth_der.as_deref().expect("auth cert"), auth_alg);
        let ask = &home.asks()[0];
        assert_eq!(ask["purpose"], "authenticate", "{label}");
        // A PKCS#11 token tells no count: none is shown.
        assert_eq!(ask["pin"]["tries_left"], Value::Null, "{label}: {ask}");
        assert_eq!(ask["pin"]["charset"], "any", "{label}: {ask}");
        assert_eq!(ask["pinpad"], false, "{label}: {ask}");

        let home = Home::with_config("confirm", 20, &config);
        let reply = call_env(
            &home,
            &json!({"command":"get-signing-certificate","arguments":{"origin":ORIGIN}}),
            &env,
        );
        let sign_der = hsm.sign_der.clone().expect("sign cert");
        assert_eq!(unb64(&reply["certificate"]), sign_der, "{label}");

        let digest = Digest::of(hash, format!("contract signed with the {label} token").as_bytes());
        let home = Home::with_config("1234", 20, &config);
        let reply = call_env(
            &home,
            &json!({"command":"sign","arguments":{"origin":ORIGIN,"hashFunction":hash.name(),
                "hash":b64(digest.as_bytes()),"certificate":b64(&sign_der)}}),
            &env,
        );
        check_sign_result(&reply, &sign_der, hash, &digest);
        assert_eq!(home.asks()[0]["purpose"], "sign", "{label}");
    }
}

/// SoftHSM tells only that a wrong PIN was entered: the dialog asks again with no count, the right
/// PIN then logs in; the CLI says the same in words.
#[test]
fn a_wrong_pin_on_a_token_that_tells_no_count_asks_again_without_one() {
    use eidlink_tests::softhsm::{KeyType, MODULE};
    let hsm = softhsm_token("count", KeyType::P384, KeyType::P384, false);
    let conf = hsm.conf().display().to_string();
    let env = [NO_PCSC, ("SOFTHSM2_CONF", conf.as_str())];
    let home = Home::with_config("0000,1234", 20, &modules_config(&[MODULE]));
    let token = call_env(&home, &auth(ORIGIN), &env);
    check_token_of(&token, token_pki(), hsm.auth_der.as_deref().expect("auth"), "ES384");
    let asks = home.asks();
    assert_eq!(asks.len(), 2, "{asks:?}");
    assert_eq!(asks[1]["error"]["kind"], "wrong_pin", "{:?}", asks[1]);
    assert_eq!(
        asks[1]["error"]["tries_left"],
        Value::Null,
        "no made-up count: {:?}",
        asks[1]
    );
    assert_eq!(asks[1]["pin"]["tries_left"], Value::Null, "{:?}", asks[1]);

    let cli = |args: &[&str], stdin: &str| {
        let xdg = home.dir.join("config").display().to_string();
        common::run_eidlink(
            args,
            stdin,
            &[
                NO_PCSC,
                ("SOFTHSM2_CONF", conf.as_str()),
                ("XDG_CONFIG_HOME", xdg.as_str()),
            ],
        )
    };
    let out = cli(
        &[
            "sign",
            "--auth",
            "--digest",
            &"ab".repeat(48),
            "--hash",
            "SHA-384",
            "--pin-fd",
            "0",
        ],
        "0000\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("wrong PIN (the token does not tell how many tries are left)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("PKCS#11 module {MODULE}")),
        "the CLI names the module: {err}"
    );
    let out = cli(&["readers"], "");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        listed.contains(&format!(": count (PKCS#11 module {MODULE})")),
        "{listed}"
    );
    let out = cli(&["info"], "");
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        info.contains("PIN tries left:") && info.contains("a wrong PIN was entered since the last right one"),
        "{info}"
    );
    assert!(info.contains("module:") && info.contains(MODULE), "{info}");
}

/// Modules that do not exist, are not libraries or are not PKCS#11 modules are named with the
/// reason by `diagnose`, and do not keep the host from the module that works.
#[test]
fn modules_that_do_not_work_are_named_and_do_not_stop_the_others() {
    use eidlink_tests::softhsm::{KeyType, MODULE};
    let hsm = softhsm_token("broken-neighbours", KeyType::P256, KeyType::P256, false);
    let conf = hsm.conf().display().to_string();
    let home = Home::new("", 5);
    let text_file = home.dir.join("not-a-library.so");
    std::fs::write(&text_file, "this is not a shared library\n").expect("write");
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib64/libc.so.6",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("libc.so.6");
    let text_file = text_file.display().to_string();
    let modules = ["/nonexistent/libvendorpkcs11.so", text_file.as_str(), libc, MODULE];
    let home = Home::with_config("1234", 20, &modules_config(&modules));
    let xdg = home.dir.join("config").display().to_string();
    let env = [
        NO_PCSC,
        ("SOFTHSM2_CONF", conf.as_str()),
        ("XDG_CONFIG_HOME", xdg.as_str()),
    ];
    let out = common::run_eidlink(&["diagnose"], "", &env);
    let report = String::from_utf8_lossy(&out.stdout);
    for want in [
        "/nonexistent/libvendorpkcs11.so (configured):\n    does not work: the PKCS#11 module /nonexistent/libvendorpkcs11.so does not exist".to_owned(),
        format!("{text_file} (configured):\n    does not work: the PKCS#11 module {text_file} cannot be loaded"),
        format!("{libc} (configured):\n    does not work: the PKCS#11 module {libc} is not a PKCS#11 module"),
        format!("{MODULE} (configured):\n    loads: "),
        "token 'broken-neighbours'".to_owned(),
        "Authentication key: Alice Specimen (EC P-256)".to_owned(),
        "token in '".to_owned(),
    ] {
        assert!(report.contains(&want), "missing {want:?} in\n{report}");
    }
    let token = call_env(&home, &auth(ORIGIN), &env[..2]);
    check_token_of(&token, token_pki(), hsm.auth_der.as_deref().expect("auth"), "ES256");
}

/// OpenSC's module over the virtual Belgian 1.7 card (OpenSC's own driver), preferred over ours for
/// the vpcd reader: the host logs in and signs through it, and the results verify. OpenSC shows the
/// 1.7 applet's PIN-protected certificates only with `private_certificate = declassify`.
#[test]
fn opensc_module_runs_the_virtual_belpic17_when_preferred() {
    let card = insert(Profile::Belpic17);
    let pki = card.handle.pki();
    let home = Home::with_config("1234", 30, &opensc_preferred());
    let env = opensc_env(&home);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let token = call_env(&home, &auth(ORIGIN), &env);
    check_token(&token, &pki, "RS256");
    let ask = &home.asks()[0];
    // Our driver would say 3 tries and digits only: this came through the module.
    assert_eq!(ask["pin"]["tries_left"], Value::Null, "{ask}");
    assert_eq!(ask["pin"]["charset"], "any", "{ask}");

    // `eidlink sign` through the module, checked with the certificate's key.
    let file = home.dir.join("contract.txt");
    std::fs::write(&file, "contract signed through OpenSC").expect("write");
    let xdg = home.dir.join("config").display().to_string();
    let mut cli_env = env.clone();
    cli_env.push(("XDG_CONFIG_HOME", xdg.as_str()));
    let file_s = file.display().to_string();
    let out = common::run_eidlink(
        &[
            "sign", "--auth", "--file", &file_s, "--hash", "SHA-256", "--pin-fd", "0",
        ],
        "1234\n",
        &cli_env,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("PKCS#11 module {}", opensc_module())), "{err}");
    let sig = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        String::from_utf8_lossy(&out.stdout).trim(),
    )
    .expect("base64 signature");
    let digest = Digest::of(HashAlgorithm::Sha256, b"contract signed through OpenSC");
    let scheme = eidlink_core::SignatureAlgorithm {
        crypto: eidlink_core::CryptoAlgorithm::Rsa,
        hash: HashAlgorithm::Sha256,
        padding: eidlink_core::Padding::Pkcs1v15,
    };
    eidlink_cert::verify(&pki.auth_der, &digest, &sig, &scheme).expect("the signature verifies");

    // OpenSC 0.23 cannot sign with this card's non-repudiation key (pkcs11-tool gets the same
    // CKR_FUNCTION_NOT_SUPPORTED from C_Sign): the site is told, naming the module and the call.
    let home = Home::with_config("1234", 30, &opensc_preferred());
    let reply = call_env(
        &home,
        &json!({"command":"sign","arguments":{"origin":ORIGIN,"hashFunction":"SHA-256",
            "hash":b64(digest.as_bytes()),"certificate":b64(&pki.sign_der)}}),
        &env,
    );
    assert_error(&reply, "CARD_ERROR", "ERR_WEBEID_NATIVE_FATAL");
    let message = reply["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(opensc_module()) && message.contains("C_Sign returned CKR_FUNCTION_NOT_SUPPORTED"),
        "{reply}"
    );
}

/// Through OpenSC, which maps the card's counter to the token flags (its EstEID driver reads it):
/// one try left shows as the last try, a wrong PIN then blocks it, and a blocked PIN fails at once,
/// with no VERIFY.
#[test]
fn opensc_module_final_try_and_locked() {
    let options = CardOptions {
        tries_left: Some(1),
        ..CardOptions::default()
    };
    let card = insert_with(Profile::EstEid, &options);
    let home = Home::with_config("9999", 30, &opensc_preferred());
    let env = opensc_env(&home);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = call_env(&home, &auth(ORIGIN), &env);
    assert_error(&reply, "PIN_BLOCKED", "ERR_WEBEID_NATIVE_FATAL");
    let ask = &home.asks()[0];
    assert_eq!(ask["pin"]["tries_left"], 1, "FINAL_TRY: {ask}");
    assert_eq!(ask["pin"]["charset"], "any", "through the module: {ask}");
    assert_eq!(card.handle.pin_tries_left(), 0);

    card.handle.clear_log();
    let home = Home::with_config("1234", 30, &opensc_preferred());
    let reply = call_env(&home, &auth(ORIGIN), &env);
    assert_error(&reply, "PIN_BLOCKED", "ERR_WEBEID_NATIVE_FATAL");
    assert!(
        home.pin_asks().is_empty(),
        "no PIN asked for a locked token: {:?}",
        home.asks()
    );
    assert_eq!(home.waits(), vec!["pin_blocked".to_owned()]);
    assert!(
        card.handle.apdu_log().iter().all(|l| !is_pin_verify(&l.command)),
        "no VERIFY to a blocked PIN"
    );
}

fn opensc_module() -> &'static str {
    eidlink_tests::softhsm::opensc_module().expect("OpenSC's PKCS#11 module (install opensc-pkcs11)")
}

/// config.toml lines: OpenSC's module runs the card in the vpcd reader.
fn opensc_preferred() -> String {
    format!(
        "well-known-pkcs11-modules = false\n[prefer-module]\n{:?} = {:?}\n",
        common::READER,
        opensc_module()
    )
}

/// OPENSC_CONF for the host: the 1.7 certificates readable before the PIN.
fn opensc_env(home: &Home) -> Vec<(&'static str, String)> {
    let conf = home.dir.join("opensc.conf");
    std::fs::write(
        &conf,
        "app default {\n\tframework pkcs15 {\n\t\tprivate_certificate = declassify;\n\t}\n}\n",
    )
    .expect("opensc.conf");
    vec![("OPENSC_CONF", conf.display().to_string())]
}

/// Builds a shared library from C source with the system's C compiler (test equipment only).
fn c_module(dir: &Path, name: &str, source: &str) -> String {
    let c = dir.join(format!("{name}.c"));
    let so = dir.join(format!("{name}.so"));
    std::fs::write(&c, source).expect("write C");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&c)
        .output()
        .expect("run cc (install gcc)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    so.display().to_string()
}

/// Modules that crash while loading, hang, or hand out a function list of null pointers: each is
/// named with what it did (the crash found in a separate process, the hang cut at the time limit),
/// the host and `diagnose` go on, and the module that works still serves the login.
#[test]
fn modules_that_crash_hang_or_answer_nonsense_fail_alone() {
    use eidlink_tests::softhsm::{KeyType, MODULE};
    let hsm = softhsm_token("hostile-neighbours", KeyType::P256, KeyType::P256, false);
    let conf = hsm.conf().display().to_string();
    let scratch = Home::new("", 5);
    let crash = c_module(
        &scratch.dir,
        "crash",
        "unsigned long C_GetFunctionList(void **list) { *(volatile int *)0 = 1; *list = 0; return 0; }\n",
    );
    let hang = c_module(
        &scratch.dir,
        "hang",
        "#include <unistd.h>\nunsigned long C_GetFunctionList(void **list) { for (;;) sleep(1); }\n",
    );
    // A CK_FUNCTION_LIST of version 2.40 and nothing but null function pointers.
    let nulls = c_module(
        &scratch.dir,
        "nulls",
        "static void *table[128] = { (void *)0x2802 };\nunsigned long C_GetFunctionList(void **list) { *list = table; return 0; }\n",
    );
    let modules = [crash.as_str(), hang.as_str(), nulls.as_str(), MODULE];
    let home = Home::with_config("1234", 60, &modules_config(&modules));
    let xdg = home.dir.join("config").display().to_string();
    let cache = home.dir.join("cache").display().to_string();
    let env = [
        NO_PCSC,
        ("SOFTHSM2_CONF", conf.as_str()),
        ("XDG_CONFIG_HOME", xdg.as_str()),
        ("XDG_CACHE_HOME", cache.as_str()),
    ];
    let started = Instant::now();
    let out = common::run_eidlink(&["diagnose"], "", &env);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "diagnose survives: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        format!("{crash} (configured):\n    does not work: the PKCS#11 module {crash} crashed while loading (segmentation fault)"),
        format!("{hang} (configured):\n    does not work: the PKCS#11 module {hang} did not finish loading within 10 s"),
        format!("{nulls} (configured):\n    does not work: the PKCS#11 module {nulls} failed to start"),
        format!("{MODULE} (configured):\n    loads: "),
    ] {
        assert!(report.contains(&want), "missing {want:?} in\n{report}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the hang is cut once: {:?}",
        started.elapsed()
    );

    let token = call_env(&home, &auth(ORIGIN), &env);
    check_token_of(&token, token_pki(), hsm.auth_der.as_deref().expect("auth"), "ES256");
    // The working module passed its check once and is remembered; the others are not.
    let remembered = std::fs::read_to_string(home.dir.join("cache/eidlink/pkcs11-probes")).expect("probe cache");
    assert!(
        remembered.contains(MODULE) && !remembered.contains(&crash),
        "{remembered}"
    );
}
