//! The host's flows against the in-process virtual card: no pcscd, no reader driver, the same
//! `eidlink_app::host::run` the binary runs, given the virtual card's provider instead of PC/SC,
//! and the real PIN-dialog protocol with the scripted PIN program. Tokens and signatures are checked
//! with the card certificate's public key.

// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{b64, pin_script, unb64};
use eidlink_app::host::{self, config::Config};
use eidlink_core::{HashAlgorithm, Providers};
use eidlink_tests::{CardOptions, InProcessReaders, Profile, VirtualCard};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NONCE: &str = "dGhpcyBpcyBhIDMyLWJ5dGUgdGVzdCBub25jZSEhISE=";
const ORIGIN: &str = "https://service.example.be";

/// Where the scripted dialog records what it was sent; removed with the test.
struct Record(PathBuf);

impl Record {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        Self(std::env::temp_dir().join(format!(
            "eidlink-host-inproc-{}-{}.log",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )))
    }

    /// The requests the dialog received, in order.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn config(answers: &str, record: &Record, timeout_seconds: u64) -> Config {
    Config {
        pin_program: Some(vec![
            pin_script().display().to_string(),
            "--answers".into(),
            answers.into(),
            "--record".into(),
            record.0.display().to_string(),
        ]),
        timeout_seconds,
        ..Config::default()
    }
}

/// One request through `host::run`, as the browser sends it: the version frame first, then the
/// reply. `during` runs while the host works (to take the card out, put one in).
fn request(
    readers: &InProcessReaders,
    config: Config,
    message: Value,
    during: impl FnOnce() + Send + 'static,
) -> Value {
    request_through(Arc::from(vec![readers.provider()]), config, message, during)
}

/// [`request`] through other providers.
fn request_with(providers: Providers, config: Config, message: Value) -> Value {
    request_through(providers, config, message, || {})
}

fn request_through(
    providers: Providers,
    config: Config,
    message: Value,
    during: impl FnOnce() + Send + 'static,
) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (mut browser, host_end) = tokio::io::duplex(1 << 20);
        let (host_in, host_out) = tokio::io::split(host_end);
        let host = tokio::spawn(host::run(host_in, host_out, Ok(config), None, providers));
        let version = read_frame(&mut browser).await;
        assert!(version["version"].as_str().unwrap().starts_with("2."), "{version}");
        let body = serde_json::to_vec(&message).unwrap();
        browser.write_all(&(body.len() as u32).to_ne_bytes()).await.unwrap();
        browser.write_all(&body).await.unwrap();
        let during = tokio::task::spawn_blocking(during);
        let reply = tokio::time::timeout(Duration::from_secs(30), read_frame(&mut browser))
            .await
            .expect("the host answers in time");
        during.await.unwrap();
        drop(browser);
        let _ = tokio::time::timeout(Duration::from_secs(5), host).await;
        reply
    })
}

async fn read_frame(r: &mut (impl AsyncReadExt + Unpin)) -> Value {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.expect("a frame");
    let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
    r.read_exact(&mut body).await.expect("the frame's body");
    serde_json::from_slice(&body).expect("the host writes JSON")
}

fn authenticate() -> Value {
    json!({"command": "authenticate", "arguments": {"challengeNonce": NONCE, "origin": ORIGIN}})
}

fn belgian() -> VirtualCard {
    VirtualCard::new(Profile::Belpic18, &CardOptions::default()).unwrap()
}

#[test]
fn authenticates_with_the_in_process_card() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let card = belgian();
    let pki = card.pki().clone();
    readers.insert(0, card);
    let record = Record::new();
    let reply = request(&readers, config("1234", &record, 10), authenticate(), || {});
    assert_eq!(reply["format"], "web-eid:1.0", "{reply}");
    assert_eq!(unb64(&reply["unverifiedCertificate"]), pki.auth_der);
    let alg = eidlink_webeid::TokenAlgorithm::from_name(reply["algorithm"].as_str().unwrap()).unwrap();
    eidlink_verifier::verify_auth_signature(&pki.auth_der, alg, ORIGIN, NONCE, &unb64(&reply["signature"])).unwrap();
    // The dialog was asked once, for the PIN of the authentication key, with the card's tries.
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert_eq!(asks.len(), 1, "{asks:?}");
    assert_eq!(asks[0]["purpose"], "authenticate");
    assert_eq!(asks[0]["pin"]["label"], "PIN");
    assert_eq!(asks[0]["pin"]["tries_left"], 3);
    assert_eq!(asks[0]["pinpad"], false);
    assert_eq!(readers.with_card(0, |c| c.pin_tries_left()), Some(3));
}

/// A site in a frame: the extension's `topOrigin` reaches the dialog's ask as `top_origin` (the
/// dialog says "embedded in" that site), and the token still signs the frame's own origin.
#[test]
fn the_top_level_page_of_a_framed_site_reaches_the_dialog() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let card = belgian();
    let pki = card.pki().clone();
    readers.insert(0, card);
    let record = Record::new();
    let mut message = authenticate();
    message["arguments"]["topOrigin"] = json!("https://portal.example.com");
    let reply = request(&readers, config("1234", &record, 10), message, || {});
    assert_eq!(reply["format"], "web-eid:1.0", "{reply}");
    let alg = eidlink_webeid::TokenAlgorithm::from_name(reply["algorithm"].as_str().unwrap()).unwrap();
    eidlink_verifier::verify_auth_signature(&pki.auth_der, alg, ORIGIN, NONCE, &unb64(&reply["signature"])).unwrap();
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert_eq!(asks.len(), 1, "{asks:?}");
    assert_eq!(asks[0]["origin"], ORIGIN);
    assert_eq!(asks[0]["top_origin"], "https://portal.example.com");
    // Without it (an older extension, or the top-level page itself), none is sent.
    let record = Record::new();
    let reply = request(&readers, config("1234", &record, 10), authenticate(), || {});
    assert_eq!(reply["format"], "web-eid:1.0", "{reply}");
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert!(asks[0].get("top_origin").is_none(), "{:?}", asks[0]);
}

#[test]
fn signs_and_a_wrong_pin_is_asked_again_with_the_tries_left() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let card = belgian();
    let pki = card.pki().clone();
    readers.insert(0, card);
    let digest = eidlink_core::hash::hash(HashAlgorithm::Sha384, b"enrollment contract");
    let record = Record::new();
    let reply = request(
        &readers,
        config("9999,1234", &record, 10),
        json!({"command": "sign", "arguments": {
            "origin": ORIGIN, "hash": b64(&digest), "hashFunction": "SHA-384",
            "certificate": b64(&pki.sign_der),
        }}),
        || {},
    );
    assert!(reply.get("signature").is_some(), "{reply}");
    eidlink_verifier::verify_sign_result(&b64(&pki.sign_der), "SHA-384", &b64(&digest), &reply.to_string()).unwrap();
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert_eq!(asks.len(), 2, "{asks:?}");
    assert_eq!(asks[1]["error"], json!({"kind": "wrong_pin", "tries_left": 2}));
    // One try spent by the wrong PIN, none by the host on its own; the right PIN restored them.
    assert_eq!(readers.with_card(0, |c| c.pin_tries_left()), Some(3));
}

#[test]
fn a_card_inserted_while_the_host_waits_is_used_at_once() {
    let readers = InProcessReaders::new(&["Mem 0", "Mem 1"]);
    let card = belgian();
    let pki = card.pki().clone();
    let later = readers.clone();
    let record = Record::new();
    let reply = request(&readers, config("1234", &record, 20), authenticate(), move || {
        // The host found no card and watches the provider for one (it does not poll).
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while later.watchers() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the host never watched for a card"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        later.insert(1, card);
    });
    assert_eq!(unb64(&reply["unverifiedCertificate"]), pki.auth_der, "{reply}");
    // The dialog opened at once, saying to insert the card, then asked for the PIN once; the host
    // stopped watching when it was done.
    assert_eq!(readers.watchers(), 0);
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert_eq!(asks.len(), 2, "{asks:?}");
    assert_eq!(asks[0]["wait"], "insert_card");
    assert_eq!(asks[1].get("wait"), None);
    assert_eq!(asks[1]["pin"]["tries_left"], 3);
}

/// The asks with a `wait` the dialog was sent.
fn waits(record: &Record) -> Vec<Value> {
    record
        .requests()
        .into_iter()
        .filter(|r| r["type"] == "ask" && r.get("wait").is_some())
        .collect()
}

#[test]
fn no_card_until_the_deadline_says_so_and_no_reader_too() {
    // The site learns it only after the dialog told the user, in its name, what to do.
    let readers = InProcessReaders::new(&["Mem 0"]);
    let record = Record::new();
    let reply = request(&readers, config("1234", &record, 1), authenticate(), || {});
    assert_eq!(reply["error"]["reason"], "NO_CARD", "{reply}");
    let shown = waits(&record);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["wait"], "insert_card");
    assert_eq!(shown[0]["origin"], ORIGIN);
    assert_eq!(shown[0]["purpose"], "authenticate");
    assert!(shown[0]["pin"].is_null(), "nothing to type yet");

    let none = InProcessReaders::new(&[]);
    let record = Record::new();
    let reply = request(&none, config("1234", &record, 1), authenticate(), || {});
    assert_eq!(reply["error"]["reason"], "NO_READER", "{reply}");
    assert_eq!(waits(&record)[0]["wait"], "no_reader");
}

#[test]
fn cancel_while_waiting_for_the_card_ends_the_request() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let record = Record::new();
    // A deadline far off: only the user's cancel can end it before the test's own limit.
    let reply = request(&readers, config("wait-cancel", &record, 25), authenticate(), || {});
    assert_eq!(reply["error"]["reason"], "USER_CANCELLED", "{reply}");
    assert_eq!(waits(&record)[0]["wait"], "insert_card");
    assert_eq!(readers.watchers(), 0, "the card search stopped");
}

#[test]
fn a_blocked_pin_is_shown_before_the_site_is_told_and_no_verify_is_sent() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let card = VirtualCard::new(
        Profile::Belpic18,
        &CardOptions {
            tries_left: Some(0),
            ..CardOptions::default()
        },
    )
    .unwrap();
    readers.insert(0, card);
    let record = Record::new();
    let reply = request(&readers, config("1234", &record, 10), authenticate(), || {});
    assert_eq!(reply["error"]["reason"], "PIN_BLOCKED", "{reply}");
    let shown = waits(&record);
    assert_eq!(shown.len(), 1, "{:?}", record.requests());
    assert_eq!(shown[0]["wait"], "pin_blocked");
    assert_eq!(shown[0]["origin"], ORIGIN);
    assert_eq!(shown[0]["holder"], "Alice Specimen");
    // No PIN was asked for.
    assert!(record
        .requests()
        .iter()
        .all(|r| r["type"] != "ask" || r.get("wait").is_some()));
    assert_eq!(readers.with_card(0, |c| c.pin_tries_left()), Some(0));
}

#[test]
fn the_wrong_card_is_refused_for_a_signature() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    readers.insert(0, belgian());
    let other = VirtualCard::new(
        Profile::Belpic18,
        &CardOptions {
            seed: b"another card".to_vec(),
            ..CardOptions::default()
        },
    )
    .unwrap();
    let digest = eidlink_core::hash::hash(HashAlgorithm::Sha256, b"x");
    let record = Record::new();
    let reply = request(
        &readers,
        config("1234", &record, 1),
        json!({"command": "sign", "arguments": {
            "origin": ORIGIN, "hash": b64(&digest), "hashFunction": "SHA-256",
            "certificate": b64(&other.pki().sign_der),
        }}),
        || {},
    );
    assert_eq!(reply["error"]["reason"], "WRONG_CERTIFICATE", "{reply}");
    // The dialog said to insert the right card; no PIN was asked and no try spent.
    assert_eq!(waits(&record)[0]["wait"], "wrong_card");
    assert!(record
        .requests()
        .iter()
        .all(|r| r["type"] != "ask" || r.get("wait").is_some()));
    assert_eq!(readers.with_card(0, |c| c.pin_tries_left()), Some(3));
}

/// A token that asks for the PIN itself (a PKCS#11 module with a protected authentication path):
/// the in-process card behind a token whose keys say `PinEntry::Token`, and which enters the PIN
/// on its own when asked with `PinInput::External`, as such a module does in its window.
struct AsksItself(Box<dyn eidlink_core::Token>);

impl eidlink_core::Token for AsksItself {
    fn slot(&self) -> &eidlink_core::Slot {
        self.0.slot()
    }
    fn label(&self) -> &str {
        self.0.label()
    }
    fn key(&self, role: eidlink_core::KeyRole) -> Option<eidlink_core::KeyInfo> {
        self.0.key(role).map(|k| eidlink_core::KeyInfo {
            entry: eidlink_core::PinEntry::Token,
            ..k
        })
    }
    fn session(&mut self) -> Result<Box<dyn eidlink_core::TokenSession + '_>, eidlink_core::CardError> {
        Ok(Box::new(AsksItselfSession(self.0.session()?)))
    }
}

struct AsksItselfSession<'a>(Box<dyn eidlink_core::TokenSession + 'a>);

impl eidlink_core::TokenSession for AsksItselfSession<'_> {
    fn certificate(&mut self, kind: eidlink_core::CertificateKind) -> Result<Vec<u8>, eidlink_core::CardError> {
        self.0.certificate(kind)
    }
    fn pin_info(&mut self, role: eidlink_core::KeyRole) -> Result<eidlink_core::PinInfo, eidlink_core::CardError> {
        self.0.pin_info(role)
    }
    fn card_info(&mut self) -> Result<eidlink_core::CardInfo, eidlink_core::CardError> {
        self.0.card_info()
    }
    fn sign(
        &mut self,
        role: eidlink_core::KeyRole,
        pin: eidlink_core::PinInput<'_>,
        digest: &eidlink_core::Digest,
    ) -> Result<eidlink_core::Signature, eidlink_core::CardError> {
        assert!(
            matches!(pin, eidlink_core::PinInput::External),
            "the host must not send a PIN"
        );
        // The "module's window": the citizen types the PIN there.
        let typed = eidlink_core::Pin::from("1234");
        self.0.sign(role, eidlink_core::PinInput::Typed(&typed), digest)
    }
}

struct AsksItselfProvider(Box<dyn eidlink_core::TokenProvider>);

impl eidlink_core::TokenProvider for AsksItselfProvider {
    fn name(&self) -> &str {
        "token that asks for its PIN"
    }
    fn scan(&self) -> Result<Vec<eidlink_core::Found>, eidlink_core::CardError> {
        Ok(self
            .0
            .scan()?
            .into_iter()
            .map(|f| match f {
                eidlink_core::Found::Token(t) => eidlink_core::Found::Token(Box::new(AsksItself(t))),
                other => other,
            })
            .collect())
    }
}

/// The host does not ask our dialog for the PIN of a token that asks for it itself: the dialog
/// shows the site and says where the token asks (`pinpad` with `token_prompt`), and the login
/// goes through with the PIN the token took.
#[test]
fn a_token_that_asks_for_its_pin_gets_a_dialog_that_says_so() {
    let readers = InProcessReaders::new(&["Mem 0"]);
    let card = belgian();
    let pki = card.pki().clone();
    readers.insert(0, card);
    let record = Record::new();
    let providers: Providers = Arc::from(vec![
        Box::new(AsksItselfProvider(readers.provider())) as Box<dyn eidlink_core::TokenProvider>
    ]);
    // No answer is scripted: the dialog must not be asked for one.
    let reply = request_with(providers, config("", &record, 10), authenticate());
    assert_eq!(reply["format"], "web-eid:1.0", "{reply}");
    let alg = eidlink_webeid::TokenAlgorithm::from_name(reply["algorithm"].as_str().unwrap()).unwrap();
    eidlink_verifier::verify_auth_signature(&pki.auth_der, alg, ORIGIN, NONCE, &unb64(&reply["signature"])).unwrap();
    let asks: Vec<_> = record.requests().into_iter().filter(|r| r["type"] == "ask").collect();
    assert_eq!(asks.len(), 1, "{asks:?}");
    assert_eq!(asks[0]["pinpad"], true, "{:?}", asks[0]);
    assert_eq!(asks[0]["token_prompt"], true, "{:?}", asks[0]);
    assert_eq!(asks[0]["origin"], ORIGIN);
}
