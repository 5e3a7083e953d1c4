//! `libeidlink_pkcs11` loaded as a browser loads it (through cryptoki, the module file cargo built),
//! over the real pcscd with the virtual card in the vpcd reader and the scripted PIN program as the
//! user's `pin-program`: slots, objects and their attributes, signatures that verify with the
//! certificate's key, the PIN dialog's answers (wrong then right, cancel, blocked), card removal,
//! and the calls it refuses. Run with `bash scripts/with-pcscd.sh cargo test -p eidlink-pkcs11-module`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use eidlink_core::{Digest, HashAlgorithm};
use eidlink_tests::{vpcd, vpcd_test_lock, CardOptions, Profile, VirtualCardHandle};

/// A private HOME for the module's settings and history, set before the module is loaded.
fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("eidlink-p11-module-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".config/eidlink")).unwrap();
        // Set once, before any thread of the module exists.
        std::env::set_var("HOME", &dir);
        std::env::remove_var("XDG_CONFIG_HOME");
        std::env::remove_var("XDG_DATA_HOME");
        dir
    })
}

fn module_path() -> PathBuf {
    // target/debug/deps/module_api-<hash> → target/debug/libeidlink_pkcs11.so
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let name = if cfg!(windows) {
        "eidlink_pkcs11.dll"
    } else {
        "libeidlink_pkcs11.so"
    };
    dir.join(name)
}

fn pkcs11() -> &'static Pkcs11 {
    static CTX: OnceLock<Pkcs11> = OnceLock::new();
    CTX.get_or_init(|| {
        home();
        let ctx = Pkcs11::new(module_path()).expect("load libeidlink_pkcs11");
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        ctx
    })
}

/// The scripted PIN program answers `answers` in order and records what it is shown.
fn answers(answers: &str) -> PathBuf {
    let record = home().join(format!("asks-{}.log", answers.replace(',', "-")));
    let _ = std::fs::remove_file(&record);
    let script = module_path().with_file_name("eidlink-pin-script");
    std::fs::write(
        home().join(".config/eidlink/config.toml"),
        format!(
            "pin-program = [{:?}, \"--answers\", {answers:?}, \"--record\", {:?}]\n",
            script.display().to_string(),
            record.display().to_string()
        ),
    )
    .unwrap();
    record
}

fn asks(record: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "ask")
        .collect()
}

struct Card {
    handle: VirtualCardHandle,
    _lock: MutexGuard<'static, ()>,
}

fn insert(profile: Profile, options: &CardOptions) -> Card {
    let lock = vpcd_test_lock();
    vpcd::require_vpcd();
    wait_for(|| slot_with_token().is_none(), "the reader to be empty");
    let handle = VirtualCardHandle::start(profile, options, vpcd::port()).expect("start the virtual card");
    handle.wait_present(Duration::from_secs(10)).unwrap();
    wait_for(|| slot_with_token().is_some(), "the module to show the card");
    Card { handle, _lock: lock }
}

fn wait_for(ok: impl Fn() -> bool, what: &str) {
    // The module looks at the readers again at most every 2 s; pcscd polls vpcd every 400 ms.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn slot_with_token() -> Option<Slot> {
    let slots = pkcs11().get_slots_with_token().unwrap();
    slots.into_iter().find(|s| {
        pkcs11()
            .get_slot_info(*s)
            .is_ok_and(|i| i.slot_description().trim() == vpcd::READER)
    })
}

fn session() -> (Slot, Session) {
    let slot = slot_with_token().expect("a token in the vpcd reader");
    (slot, pkcs11().open_ro_session(slot).unwrap())
}

fn objects(s: &Session, class: ObjectClass) -> Vec<ObjectHandle> {
    s.find_objects(&[Attribute::Class(class)]).unwrap()
}

fn bytes_attr(s: &Session, o: ObjectHandle, t: AttributeType) -> Vec<u8> {
    match s.get_attributes(o, &[t]).unwrap().pop() {
        Some(Attribute::Value(v) | Attribute::Id(v) | Attribute::EcParams(v) | Attribute::Modulus(v)) => v,
        Some(Attribute::Issuer(v) | Attribute::Subject(v) | Attribute::SerialNumber(v)) => v,
        other => panic!("{t:?}: {other:?}"),
    }
}

fn rv(e: P11Error) -> RvError {
    match e {
        P11Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 error: {other}"),
    }
}

fn verifies_count(card: &Card) -> usize {
    // VERIFY (INS 20) with a PIN in its data field; the tries-left query has none (ISO 7816-4 §11.5.6).
    card.handle
        .apdu_log()
        .iter()
        .filter(|a| a.command.get(1) == Some(&0x20) && a.command.len() > 5)
        .count()
}

#[test]
fn the_card_shows_its_authentication_certificate_and_key_and_signs_after_a_wrong_then_right_pin() {
    let card = insert(Profile::Belpic18, &CardOptions::default());
    let pki = card.handle.pki();
    let (slot, s) = session();
    let info = pkcs11().get_token_info(slot).unwrap();
    assert!(
        info.protected_authentication_path(),
        "the PIN is never typed into the browser"
    );
    assert!(!info.login_required());
    assert_eq!(info.label().trim(), "Alice Specimen");

    let certs = objects(&s, ObjectClass::CERTIFICATE);
    let keys = objects(&s, ObjectClass::PRIVATE_KEY);
    assert_eq!(
        (certs.len(), keys.len()),
        (1, 1),
        "one certificate and its key, no signing key"
    );
    let cert = bytes_attr(&s, certs[0], AttributeType::Value);
    assert_eq!(
        cert, pki.auth_der,
        "the authentication certificate, not the signing one"
    );
    assert_eq!(
        bytes_attr(&s, certs[0], AttributeType::Id),
        bytes_attr(&s, keys[0], AttributeType::Id)
    );
    let parsed = x509_subject_issuer_serial(&cert);
    assert_eq!(bytes_attr(&s, certs[0], AttributeType::Subject), parsed.0);
    assert_eq!(bytes_attr(&s, certs[0], AttributeType::Issuer), parsed.1);
    assert_eq!(bytes_attr(&s, certs[0], AttributeType::SerialNumber), parsed.2);
    // P-384's OID, DER (RFC 5480 §2.1.1.1).
    assert_eq!(
        bytes_attr(&s, keys[0], AttributeType::EcParams),
        [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
    );
    match s.get_attributes(keys[0], &[AttributeType::KeyType]).unwrap().pop() {
        Some(Attribute::KeyType(k)) => assert_eq!(k, KeyType::EC),
        other => panic!("{other:?}"),
    }

    let record = answers("1111,1234");
    let digest = Digest::of(HashAlgorithm::Sha384, b"a TLS 1.3 CertificateVerify");
    let sig = s.sign(&Mechanism::Ecdsa, keys[0], digest.as_bytes()).unwrap();
    assert_eq!(sig.len(), 96, "raw r || s on P-384");
    let scheme = eidlink_core::SignatureAlgorithm::ecdsa(&[HashAlgorithm::Sha384])[0];
    eidlink_cert::verify(&pki.auth_der, &digest, &sig, &scheme).expect("the signature verifies");

    let shown = asks(&record);
    assert_eq!(shown.len(), 2, "asked twice: {shown:?}");
    assert_eq!(shown[0]["purpose"], "tls_login");
    assert!(shown[0]["program"].as_str().is_some_and(|p| !p.is_empty()));
    assert_eq!(shown[0]["holder"], "Alice Specimen");
    assert_eq!(shown[0]["pin"]["tries_left"], 3);
    assert_eq!(shown[1]["error"]["kind"], "wrong_pin");
    assert_eq!(shown[1]["pin"]["tries_left"], 2);
    assert_eq!(card.handle.pin_tries_left(), 3, "the right PIN reset the counter");
    let history = std::fs::read_to_string(home().join(".local/share/eidlink/history.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["action"].as_str(), last["result"].as_str()),
        (Some("tls-login"), Some("ok"))
    );
}

fn x509_subject_issuer_serial(der: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let f = eidlink_cert::fields(der).unwrap();
    (f.subject, f.issuer, f.serial)
}

#[test]
fn rsa_keys_sign_a_digest_info_with_pkcs1() {
    let card = insert(Profile::Belpic17, &CardOptions::default());
    let (slot, s) = session();
    let mechanisms = pkcs11().get_mechanism_list(slot).unwrap();
    assert!(mechanisms.contains(&cryptoki::mechanism::MechanismType::RSA_PKCS));
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    assert_eq!(bytes_attr(&s, key, AttributeType::Modulus).len(), 256);
    answers("1234");
    let digest = Digest::of(HashAlgorithm::Sha256, b"a TLS 1.2 CertificateVerify");
    let sig = s.sign(&Mechanism::RsaPkcs, key, &digest.digest_info()).unwrap();
    assert_eq!(sig.len(), 256);
    let scheme = eidlink_core::SignatureAlgorithm::rsa_pkcs1(&[HashAlgorithm::Sha256])[0];
    eidlink_cert::verify(&card.handle.pki().auth_der, &digest, &sig, &scheme).expect("verifies");
    // A bare MD5+SHA-1 block (TLS 1.0) is not a DigestInfo: refused before the PIN is asked.
    let record = answers("1234");
    let e = s.sign(&Mechanism::RsaPkcs, key, &[7u8; 36]).unwrap_err();
    assert_eq!(rv(e), RvError::DataInvalid);
    assert!(asks(&record).is_empty());
    // An EC mechanism on an RSA key.
    assert_eq!(
        rv(s.sign(&Mechanism::Ecdsa, key, &[0; 32]).unwrap_err()),
        RvError::KeyTypeInconsistent
    );
}

#[test]
fn cancel_is_function_canceled_and_sends_no_pin() {
    let card = insert(Profile::EstEid, &CardOptions::default());
    let (_, s) = session();
    // EstEID: the authentication key only (PIN1), never the signing key (PIN2).
    assert_eq!(objects(&s, ObjectClass::PRIVATE_KEY).len(), 1);
    assert_eq!(
        bytes_attr(&s, objects(&s, ObjectClass::CERTIFICATE)[0], AttributeType::Value),
        card.handle.pki().auth_der
    );
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    let record = answers("cancel");
    card.handle.clear_log();
    let e = s.sign(&Mechanism::Ecdsa, key, &[1; 48]).unwrap_err();
    assert_eq!(rv(e), RvError::FunctionCanceled);
    assert_eq!(verifies_count(&card), 0);
    assert_eq!(asks(&record).len(), 1);
    assert_eq!(card.handle.pin_tries_left(), 3);
}

#[test]
fn a_blocked_pin_is_pin_locked_without_a_verify() {
    let card = insert(
        Profile::Belpic18,
        &CardOptions {
            tries_left: Some(0),
            ..CardOptions::default()
        },
    );
    let (slot, s) = session();
    let info = pkcs11().get_token_info(slot).unwrap();
    assert!(info.user_pin_locked());
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    let record = answers("1234");
    card.handle.clear_log();
    let e = s.sign(&Mechanism::Ecdsa, key, &[1; 48]).unwrap_err();
    assert_eq!(rv(e), RvError::PinLocked);
    assert_eq!(verifies_count(&card), 0, "no VERIFY with a PIN");
    let shown = asks(&record);
    assert_eq!(shown.len(), 1, "the blocked PIN is shown: {shown:?}");
    assert_eq!(shown[0]["wait"], "pin_blocked");
}

#[test]
fn a_pin_from_the_caller_and_unsupported_calls_are_refused() {
    let _card = insert(Profile::Belpic18, &CardOptions::default());
    let (_, s) = session();
    let e = s.login(UserType::User, Some(&AuthPin::new("1234".into()))).unwrap_err();
    assert_eq!(rv(e), RvError::ArgumentsBad, "a PIN typed into the browser is refused");
    s.login(UserType::User, None).expect("a protected-path login");
    assert_eq!(
        rv(s.login(UserType::User, None).unwrap_err()),
        RvError::UserAlreadyLoggedIn
    );
    s.logout().unwrap();
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    let e = s.encrypt(&Mechanism::RsaPkcs, key, b"x").unwrap_err();
    assert_eq!(rv(e), RvError::FunctionNotSupported);
    let e = s.generate_random_vec(8).unwrap_err();
    assert_eq!(rv(e), RvError::FunctionNotSupported);
    assert_eq!(
        rv(s.sign(&Mechanism::Ecdsa, key, &[1; 33]).unwrap_err()),
        RvError::DataLenRange
    );
}

#[test]
fn a_removed_card_closes_its_sessions_and_raises_a_slot_event() {
    let card = insert(Profile::Belpic18, &CardOptions::default());
    let (slot, s) = session();
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    // Drain earlier events.
    while let Ok(Some(_)) = pkcs11().get_slot_event() {}
    card.handle.remove();
    wait_for(|| slot_with_token().is_none(), "the module to see the card go");
    let mut events = Vec::new();
    while let Ok(Some(e)) = pkcs11().get_slot_event() {
        events.push(e);
    }
    assert!(events.contains(&slot), "a slot event for the reader: {events:?}");
    let e = s.sign(&Mechanism::Ecdsa, key, &[1; 48]).unwrap_err();
    assert!(
        matches!(rv(e), RvError::DeviceRemoved | RvError::SessionHandleInvalid),
        "the session died with the card"
    );
    card.handle.insert();
    wait_for(|| slot_with_token().is_some(), "the card back");
    let (_, s2) = session();
    let key2 = objects(&s2, ObjectClass::PRIVATE_KEY)[0];
    assert_ne!(key, key2, "a handle of the removed card never reaches the new one");
    card.handle.remove();
}

#[test]
fn other_threads_are_answered_while_a_signature_waits_for_the_user_who_never_answers() {
    let card = insert(Profile::Belpic18, &CardOptions::default());
    let record = answers("hang");
    // The user walks away: the dialog is closed after the settings' timeout.
    let config = home().join(".config/eidlink/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("timeout-seconds = 4\n");
    std::fs::write(&config, text).unwrap();
    let (slot, s) = session();
    let key = objects(&s, ObjectClass::PRIVATE_KEY)[0];
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signer = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let r = s.sign(&Mechanism::Ecdsa, key, &[1; 48]);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            r
        })
    };
    wait_for(|| !asks(&record).is_empty(), "the dialog to be shown");
    // Meanwhile NSS's other threads look at slots, tokens and objects: answered, not held.
    let other = pkcs11().open_ro_session(slot).unwrap();
    for _ in 0..20 {
        assert!(pkcs11().get_slot_info(slot).unwrap().token_present());
        assert_eq!(pkcs11().get_token_info(slot).unwrap().label().trim(), "Alice Specimen");
        assert_eq!(objects(&other, ObjectClass::CERTIFICATE).len(), 1);
    }
    assert!(
        !done.load(std::sync::atomic::Ordering::SeqCst),
        "the other calls were answered while the signature still waited"
    );
    let e = signer.join().unwrap().unwrap_err();
    assert_eq!(rv(e), RvError::FunctionCanceled, "no answer in time is a cancel");
    assert_eq!(card.handle.pin_tries_left(), 3);
    std::fs::write(&config, "").unwrap();
}
