//! `libeidlink_pkcs11` end to end with real peers, as programs use it: OpenSC's `pkcs11-tool` lists
//! its slots, objects and mechanisms and signs (the signatures verified by `openssl pkeyutl` with
//! the certificate's key), and a TLS client (eidlink-tls-client, rustls) logs in to a real HTTPS
//! server (`openssl s_server -Verify -www`, eidlink_tests::tls) over TLS 1.2 and 1.3 with the
//! virtual Belgian 1.8 (ECDSA P-384) and 1.7 (RSA) cards in pcscd's vpcd reader; the server echoes
//! the card's subject. The PIN is asked by the scripted PIN program, the user's `pin-program`:
//! once per signature, again after a wrong PIN with the tries left; a cancel is
//! CKR_FUNCTION_CANCELED and a blocked PIN CKR_PIN_LOCKED, with no VERIFY sent; with the card
//! removed there is no token. Run with `bash scripts/with-pcscd.sh cargo test -p
//! eidlink-pkcs11-module --test tls_login`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use eidlink_tests::ocsp::cert_pem;
use eidlink_tests::tls::{client_ca_chain_pem, echoed, EchoPage, TlsServer, TlsVersion};
use eidlink_tests::{vpcd, vpcd_test_lock, CardOptions, Pki, Profile, VirtualCardHandle};

const SUBJECT: &str = "C=BE, CN=Alice Specimen (Authentication), SN=Specimen, GN=Alice/serialNumber=85010112486";

/// target/debug, where cargo put the module (target/debug/deps/tls_login-<hash> runs).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn module() -> String {
    target_dir().join("libeidlink_pkcs11.so").display().to_string()
}

/// A program of the eidlink-tests package (the TLS client, the scripted PIN program), next to the
/// module; built when missing (`cargo build --workspace` builds them).
fn test_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let path = target_dir().join(name);
    if path.exists() {
        return path;
    }
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args([
                "build",
                "-p",
                "eidlink-tests",
                "--bin",
                "eidlink-tls-client",
                "--bin",
                "eidlink-pin-script",
            ])
            .status()
            .expect("run cargo");
        assert!(ok.success(), "cannot build eidlink-tests' programs");
    });
    assert!(path.exists(), "{} is missing", path.display());
    path
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The user whose settings the module reads: a private HOME with the scripted PIN program as
/// `pin-program`, its record of every ask, and the history.
struct User {
    dir: PathBuf,
    record: PathBuf,
}

impl User {
    fn new(dir: &Path, answers: &str) -> User {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("config/eidlink")).unwrap();
        let record = dir.join("asks.log");
        std::fs::write(
            dir.join("config/eidlink/config.toml"),
            format!(
                "pin-program = [{:?}, \"--answers\", {answers:?}, \"--record\", {:?}]\ntimeout-seconds = 30\n",
                test_bin("eidlink-pin-script").display().to_string(),
                record.display().to_string()
            ),
        )
        .unwrap();
        User {
            dir: dir.to_path_buf(),
            record,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HOME", self.dir.display().to_string()),
            ("XDG_CONFIG_HOME", self.dir.join("config").display().to_string()),
            ("XDG_DATA_HOME", self.dir.join("data").display().to_string()),
        ]
    }

    fn asks(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "ask")
            .collect()
    }

    fn history(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.join("data/eidlink/history.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str], user: &User) -> Output {
    Command::new(program)
        .args(args)
        .envs(user.env())
        .output()
        .expect("run the program")
}

fn pkcs11_tool(args: &[&str], user: &User) -> Output {
    let mut all = vec!["--module", &*MODULE];
    all.extend_from_slice(args);
    run("pkcs11-tool", &all, user)
}

static MODULE: std::sync::LazyLock<String> = std::sync::LazyLock::new(module);

struct Card {
    handle: VirtualCardHandle,
    dir: PathBuf,
    _lock: MutexGuard<'static, ()>,
}

impl Drop for Card {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_for(ok: impl Fn() -> bool, what: &str) {
    // pcscd polls vpcd every 400 ms; a new process of the module sees the readers at once.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn token_present(user: &User) -> bool {
    text(&pkcs11_tool(&["-L"], user).stdout).contains("token label")
}

/// The ATR pcscd shows in the vpcd reader (`None`: no card).
fn reader_atr() -> Option<Vec<u8>> {
    let ctx = eidlink_pcsc::context().expect("PC/SC context");
    let readers = eidlink_pcsc::readers(&ctx).expect("list readers");
    readers
        .iter()
        .find(|r| r.name == vpcd::READER)
        .and_then(|r| r.atr.as_ref().map(|a| a.as_bytes().to_vec()))
}

fn insert(profile: Profile, options: &CardOptions) -> Card {
    let lock = vpcd_test_lock();
    vpcd::require_vpcd();
    let dir = std::env::temp_dir().join(format!("eidlink-tls-login-{}-{}", std::process::id(), profile.name()));
    std::fs::create_dir_all(&dir).unwrap();
    // pcscd must have seen the last test's card go, or it would keep that card's ATR for this one.
    wait_for(|| reader_atr().is_none(), "the reader to be empty");
    let handle = VirtualCardHandle::start(profile, options, vpcd::port()).expect("start the virtual card");
    handle.wait_present(Duration::from_secs(10)).unwrap();
    wait_for(
        || reader_atr().as_deref() == Some(profile.atr()),
        "pcscd to show the card",
    );
    let probe = User::new(&dir.join("probe"), "cancel");
    wait_for(|| token_present(&probe), "the module to show the card");
    Card {
        handle,
        dir,
        _lock: lock,
    }
}

/// VERIFY commands with a PIN in them (the tries-left query has no data, ISO 7816-4 §11.5.6).
fn verifies(card: &Card) -> usize {
    card.handle
        .apdu_log()
        .iter()
        .filter(|a| a.command.get(1) == Some(&0x20) && a.command.len() > 5)
        .count()
}

fn tls_client(server: &TlsServer, user: &User, extra: &[&str]) -> Output {
    let ca = server.server_ca().display().to_string();
    let url = server.url();
    let mut args = vec![
        "--module",
        &*MODULE,
        "--url",
        &url,
        "--ca",
        &ca,
        "--tls",
        server.version().arg(),
    ];
    args.extend_from_slice(extra);
    run(test_bin("eidlink-tls-client"), &args, user)
}

/// `openssl pkeyutl -verify` of `sig` over `input` with the public key of `cert_der`.
fn openssl_verifies(dir: &Path, cert_der: &[u8], input: &[u8], sig: &[u8], opts: &[&str]) -> bool {
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, cert_pem(cert_der).unwrap()).unwrap();
    let public = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    std::fs::write(dir.join("pub.pem"), &public.stdout).unwrap();
    std::fs::write(dir.join("input.bin"), input).unwrap();
    std::fs::write(dir.join("sig.bin"), sig).unwrap();
    Command::new("openssl")
        .current_dir(dir)
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-in",
            "input.bin",
            "-sigfile",
            "sig.bin",
        ])
        .args(opts)
        .output()
        .unwrap()
        .status
        .success()
}

fn sha(hash: &str, data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match hash {
        "SHA384" => sha2::Sha384::digest(data).to_vec(),
        _ => sha2::Sha256::digest(data).to_vec(),
    }
}

#[test]
fn pkcs11_tool_lists_the_authentication_certificate_and_key_and_signs_what_verifies() {
    for (profile, mechanism, hash) in [
        (Profile::Belpic18, "ECDSA", "SHA384"),
        (Profile::Belpic17, "RSA-PKCS", "SHA256"),
    ] {
        let card = insert(profile, &CardOptions::default());
        let pki: std::sync::Arc<Pki> = card.handle.pki();
        let user = User::new(&card.dir.join("user"), "1234,1234");

        let slots = text(&pkcs11_tool(&["-L"], &user).stdout);
        assert!(
            slots.contains(vpcd::READER) && slots.contains("token label        : Alice Specimen"),
            "{slots}"
        );
        // CKF_PROTECTED_AUTHENTICATION_PATH, and no CKF_LOGIN_REQUIRED: the module asks the PIN itself.
        assert!(
            slots.contains("PIN pad present") && !slots.contains("login required"),
            "{slots}"
        );

        let objects = text(&pkcs11_tool(&["-O"], &user).stdout);
        assert_eq!(objects.matches("Certificate Object").count(), 1, "{objects}");
        // The authentication key only, never the signing (non-repudiation) key.
        assert_eq!(objects.matches("Private Key Object").count(), 1, "{objects}");
        assert!(objects.contains(&format!("subject:    DN: {SUBJECT}")), "{objects}");
        let ids: Vec<&str> = objects
            .lines()
            .filter_map(|l| l.trim().strip_prefix("ID:"))
            .map(str::trim)
            .collect();
        assert_eq!(ids.len(), 2, "{objects}");
        assert_eq!(
            ids[0], ids[1],
            "the certificate and the key share their CKA_ID: {objects}"
        );

        let mechanisms = text(&pkcs11_tool(&["-M"], &user).stdout);
        assert!(mechanisms.contains(&format!("{mechanism}, ")), "{mechanisms}");

        // Sign a digest (ECDSA) or a DigestInfo (RSA PKCS#1 v1.5, RFC 8017 §9.2) and verify.
        let digest = sha(hash, b"eidlink TLS login test");
        let input = if profile == Profile::Belpic17 {
            let mut di = eidlink_core::HashAlgorithm::Sha256.digest_info_prefix().to_vec();
            di.extend_from_slice(&digest);
            di
        } else {
            digest.clone()
        };
        let input_file = card.dir.join("to-sign.bin");
        let sig_file = card.dir.join("signature.bin");
        std::fs::write(&input_file, &input).unwrap();
        let before = verifies(&card);
        let out = pkcs11_tool(
            &[
                "--sign",
                "--mechanism",
                mechanism,
                "--signature-format",
                "openssl",
                "-i",
                &input_file.display().to_string(),
                "-o",
                &sig_file.display().to_string(),
            ],
            &user,
        );
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
        let sig = std::fs::read(&sig_file).unwrap();
        assert!(
            openssl_verifies(&card.dir, &pki.auth_der, &input, &sig, &[]),
            "{profile:?}: the signature does not verify"
        );
        // A signature that is not the card's does not verify either.
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!openssl_verifies(&card.dir, &pki.auth_der, &input, &bad, &[]));
        assert_eq!(verifies(&card) - before, 1, "one VERIFY for the signature");
        let asks = user.asks();
        assert_eq!(asks.len(), 1, "{asks:?}");
        assert_eq!(asks[0]["purpose"], "tls_login");
        assert!(
            asks[0]["program"].as_str().is_some_and(|p| !p.is_empty()),
            "{}",
            asks[0]
        );
        assert!(!user.history().is_empty(), "the signature is in the history");

        // RSA-PSS where the card has it: the 1.7 card pads PSS with SHA-256 itself (algorithm 20),
        // what TLS 1.3 needs of an RSA key; the 1.8 card is ECDSA only.
        assert_eq!(
            mechanisms.contains("RSA-PKCS-PSS"),
            profile == Profile::Belpic17,
            "{mechanisms}"
        );
        if profile == Profile::Belpic17 {
            let digest_file = card.dir.join("digest.bin");
            std::fs::write(&digest_file, &digest).unwrap();
            let (digest_path, sig_path) = (digest_file.display().to_string(), sig_file.display().to_string());
            let sign_pss = |salt: &str| {
                let args = [
                    "--sign",
                    "--mechanism",
                    "RSA-PKCS-PSS",
                    "--hash-algorithm",
                    "SHA256",
                    "--mgf",
                    "MGF1-SHA256",
                    "--salt-len",
                    salt,
                    "-i",
                    &digest_path,
                    "-o",
                    &sig_path,
                ];
                pkcs11_tool(&args, &user)
            };
            let out = sign_pss("32");
            assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
            let pss = std::fs::read(&sig_file).unwrap();
            let pss_opts = [
                "-pkeyopt",
                "rsa_padding_mode:pss",
                "-pkeyopt",
                "rsa_pss_saltlen:32",
                "-pkeyopt",
                "digest:sha256",
            ];
            assert!(
                openssl_verifies(&card.dir, &pki.auth_der, &digest, &pss, &pss_opts),
                "the PSS signature does not verify"
            );
            // Other PSS parameters than the card's are refused before the PIN is asked.
            let asked = user.asks().len();
            let out = sign_pss("20");
            assert!(!out.status.success());
            assert!(
                text(&out.stderr).contains("CKR_MECHANISM_PARAM_INVALID"),
                "{}",
                text(&out.stderr)
            );
            assert_eq!(user.asks().len(), asked, "no PIN asked for a refused mechanism");
        }
    }
}

#[test]
fn a_tls_client_logs_in_over_tls12_and_tls13_with_the_cards() {
    for profile in [Profile::Belpic18, Profile::Belpic17] {
        let card = insert(profile, &CardOptions::default());
        let chain = client_ca_chain_pem(&card.handle.pki()).unwrap();
        for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
            let server = TlsServer::start(&chain, version).unwrap();
            let user = User::new(&card.dir.join(format!("user-{}", version.arg())), "1234,1234,1234");
            let out = tls_client(&server, &user, &["--repeat", "2"]);
            let echo = echoed(&out, &server);
            assert_eq!(echo.client_subject, SUBJECT);
            assert_eq!(echo.protocol, version.openssl_name());
            // TLS 1.3 signs RSA with PSS only (RFC 8446 §4.2.3): the 1.7 card's algorithm 20.
            let want = match (profile, version) {
                (Profile::Belpic18, _) => "ECDSA",
                (_, TlsVersion::Tls12) => "RSA",
                _ => "RSA-PSS",
            };
            assert_eq!(
                echo.peer_signature_type.as_deref(),
                Some(want),
                "{profile:?} {version:?}"
            );
            // Two handshakes, two signatures, one PIN dialog each.
            let err = text(&out.stderr);
            assert_eq!(err.matches("handshake ").count(), 2, "{err}");
            let asks = user.asks();
            assert_eq!(asks.len(), 2, "{asks:?}");
            assert!(
                asks.iter().all(|a| a["purpose"] == "tls_login" && a["error"].is_null()),
                "{asks:?}"
            );
            assert!(
                asks.iter()
                    .all(|a| a["certificate"]["subject"] == "Alice Specimen (Authentication)"),
                "{asks:?}"
            );
        }
    }
}

#[test]
fn a_wrong_pin_then_the_right_one_then_cancel_then_a_blocked_pin() {
    let card = insert(Profile::Belpic18, &CardOptions::default());
    let chain = client_ca_chain_pem(&card.handle.pki()).unwrap();
    let server = TlsServer::start(&chain, TlsVersion::Tls13).unwrap();

    // Wrong, then right: the same signature's dialog asks again, saying what is left.
    let user = User::new(&card.dir.join("wrong-right"), "1111,1234");
    let echo = echoed(&tls_client(&server, &user, &[]), &server);
    assert_eq!(echo.client_subject, SUBJECT);
    let asks = user.asks();
    assert_eq!(asks.len(), 2, "{asks:?}");
    assert_eq!(asks[0]["pin"]["tries_left"], 3, "{}", asks[0]);
    assert_eq!(asks[1]["pin"]["tries_left"], 2, "{}", asks[1]);
    assert_eq!(asks[1]["error"]["kind"], "wrong_pin", "{}", asks[1]);
    assert_eq!(card.handle.pin_tries_left(), 3, "the right PIN gives the tries back");

    // Cancel: C_Sign is CKR_FUNCTION_CANCELED, no PIN reaches the card, the handshake fails.
    let user = User::new(&card.dir.join("cancel"), "cancel");
    let before = verifies(&card);
    let out = tls_client(&server, &user, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("C_Sign") && err.contains("CKR_FUNCTION_CANCELED"), "{err}");
    assert_eq!(EchoPage::parse(&text(&out.stdout)), None);
    assert_eq!(verifies(&card), before, "no VERIFY after a cancel");
    assert_eq!(user.asks().len(), 1);

    // Three wrong PINs in one dialog: the last try blocks the PIN, C_Sign is CKR_PIN_LOCKED.
    let user = User::new(&card.dir.join("block"), "1111,2222,3333");
    let out = tls_client(&server, &user, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("CKR_PIN_LOCKED"), "{}", text(&out.stderr));
    assert_eq!(card.handle.pin_tries_left(), 0);
    let before = verifies(&card);
    let user = User::new(&card.dir.join("blocked"), "1234");
    let out = tls_client(&server, &user, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("CKR_PIN_LOCKED"), "{}", text(&out.stderr));
    assert_eq!(verifies(&card), before, "no VERIFY with a blocked PIN");
}

#[test]
fn with_the_card_removed_there_is_no_token_to_log_in_with() {
    let card = insert(Profile::Belpic18, &CardOptions::default());
    let chain = client_ca_chain_pem(&card.handle.pki()).unwrap();
    let server = TlsServer::start(&chain, TlsVersion::Tls12).unwrap();
    let user = User::new(&card.dir.join("removed"), "1234");
    card.handle.remove();
    card.handle.wait_removed(Duration::from_secs(10)).unwrap();
    wait_for(|| !token_present(&user), "the module to see the card removed");
    let out = tls_client(&server, &user, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no token in any slot"),
        "{}",
        text(&out.stderr)
    );
    assert!(user.asks().is_empty(), "no PIN asked without a card: {:?}", user.asks());
}
