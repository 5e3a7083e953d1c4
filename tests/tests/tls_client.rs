//! eidlink-tls-client, the TLS client of the TLS tests and the benchmark, through real PKCS#11
//! modules against the real server (eidlink_tests::tls): SoftHSM2 tokens (ECDSA P-256, RSA with
//! PKCS#1 v1.5 in TLS 1.2 and PSS in TLS 1.3) and OpenSC's module over the virtual Belgian 1.7
//! card in pcscd's vpcd reader; a wrong PIN, a missing login, and a module with no token are told
//! apart by exit code and message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use eidlink_tests::softhsm::{self, KeyType, SoftHsm, TokenSpec};
use eidlink_tests::tls::{client_ca_chain_pem, echoed, TlsServer, TlsVersion};
use eidlink_tests::{
    vpcd, vpcd_test_lock, CardOptions, Country, LeafKeyType, Pki, PkiSpec, Profile, VirtualCardHandle,
};

const CLIENT: &str = env!("CARGO_BIN_EXE_eidlink-tls-client");
const HOLDER: &str = "CN=Alice Specimen (Authentication)";

fn client(module: &str, server: &TlsServer, env: &[(&str, &str)], extra: &[&str]) -> Output {
    Command::new(CLIENT)
        .args([
            "--module",
            module,
            "--url",
            &server.url(),
            "--tls",
            server.version().arg(),
        ])
        .arg("--ca")
        .arg(server.server_ca())
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .expect("run eidlink-tls-client")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn softhsm_token(dir: &Path, pki: &Pki, auth: KeyType) -> SoftHsm {
    assert!(
        softhsm::available(),
        "SoftHSM2 and OpenSC's pkcs11-tool are needed (apt-get install softhsm2 opensc)"
    );
    let spec = TokenSpec {
        label: "eidlink-tls".into(),
        pin: "4321".into(),
        auth: Some(auth),
        sign: None,
        sign_always_authenticate: false,
    };
    SoftHsm::create(dir, &spec, pki).unwrap()
}

#[test]
fn through_softhsm_ecdsa_and_rsa_over_tls12_and_tls13() {
    let pki = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap();
    let chain = client_ca_chain_pem(&pki).unwrap();
    let servers = [
        TlsServer::start(&chain, TlsVersion::Tls12).unwrap(),
        TlsServer::start(&chain, TlsVersion::Tls13).unwrap(),
    ];
    let base = servers[0].dir().join("softhsm");
    for (auth, want) in [
        (KeyType::P256, ["ECDSA", "ECDSA"]),
        // PKCS#1 v1.5 first in TLS 1.2, as every card does it; TLS 1.3 allows PSS only.
        (KeyType::Rsa2048, ["RSA", "RSA-PSS"]),
    ] {
        let hsm = softhsm_token(&base.join(format!("{auth:?}")), &pki, auth);
        let conf = hsm.conf().display().to_string();
        let env = [("SOFTHSM2_CONF", conf.as_str()), ("TLS_TEST_PIN", "4321")];
        for (server, want) in servers.iter().zip(want) {
            let out = client(
                softhsm::MODULE,
                server,
                &env,
                &["--pin-env", "TLS_TEST_PIN", "--repeat", "2"],
            );
            let echo = echoed(&out, server);
            assert_eq!(echo.protocol, server.version().openssl_name());
            assert!(echo.client_subject.contains(HOLDER), "{echo:?}");
            assert_eq!(
                echo.peer_signature_type.as_deref(),
                Some(want),
                "{auth:?} {:?}",
                server.version()
            );
            let err = text(&out.stderr);
            assert_eq!(err.matches("handshake ").count(), 2, "{err}");
            assert!(!err.contains("4321"), "the PIN is printed: {err}");
        }

        // A wrong PIN: C_Login's answer, exit 5, no handshake.
        let env = [("SOFTHSM2_CONF", conf.as_str()), ("TLS_TEST_PIN", "9999")];
        let out = client(softhsm::MODULE, &servers[1], &env, &["--pin-env", "TLS_TEST_PIN"]);
        assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("CKR_PIN_INCORRECT"), "{}", text(&out.stderr));
        // No login: SoftHSM's keys are private objects, invisible before C_Login: exit 4.
        let out = client(softhsm::MODULE, &servers[1], &env[..1], &[]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("no private key labelled \"Authentication\""),
            "{}",
            text(&out.stderr)
        );
    }
    // Two keys with certificates and none labelled as asked: an error naming what is there.
    let spec = TokenSpec {
        label: "eidlink-tls-two".into(),
        pin: "4321".into(),
        auth: Some(KeyType::P256),
        sign: Some(KeyType::P256),
        sign_always_authenticate: false,
    };
    let hsm = SoftHsm::create(&base.join("two"), &spec, &pki).unwrap();
    let conf = hsm.conf().display().to_string();
    let env = [("SOFTHSM2_CONF", conf.as_str()), ("TLS_TEST_PIN", "4321")];
    let out = client(
        softhsm::MODULE,
        &servers[1],
        &env,
        &["--pin-env", "TLS_TEST_PIN", "--key-label", "Nope"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("\"Nope\"") && err.contains("\"Authentication\"") && err.contains("\"Signature\""),
        "{err}"
    );
}

/// Waits until pcscd shows `atr` in the vpcd reader (`None`: no card).
fn wait_atr(atr: Option<&[u8]>) {
    use pcsc::{Context, ReaderState, Scope, State};
    let ctx = Context::establish(Scope::User).expect("PC/SC context (is pcscd running?)");
    let mut states = vec![ReaderState::new(
        std::ffi::CString::new(vpcd::READER).unwrap(),
        State::UNAWARE,
    )];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match ctx.get_status_change(Duration::from_millis(500), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("SCardGetStatusChange: {e}"),
        }
        let event = states[0].event_state();
        let now = (event.contains(State::PRESENT) && !event.contains(State::MUTE)).then(|| states[0].atr().to_vec());
        if now.as_deref() == atr && (atr.is_some() || event.contains(State::EMPTY)) {
            return;
        }
        states[0].sync_current_state();
        assert!(
            std::time::Instant::now() < deadline,
            "the reader never showed {atr:02X?}: {event:?}"
        );
    }
}

/// OpenSC's module over the virtual Belgian 1.7 card (OpenSC shows the applet's PIN-protected
/// certificates only with `private_certificate = declassify`): TLS 1.2 with RSA PKCS#1 v1.5.
#[test]
fn through_opensc_over_the_virtual_belgian_17_card() {
    let _lock = vpcd_test_lock();
    vpcd::require_vpcd();
    let module = softhsm::opensc_module().expect("OpenSC's PKCS#11 module (apt-get install opensc-pkcs11)");
    // pcscd must have seen the card of a test before go, or it would keep that card's ATR.
    wait_atr(None);
    let card = VirtualCardHandle::start(Profile::Belpic17, &CardOptions::default(), vpcd::port()).unwrap();
    card.wait_present(Duration::from_secs(10)).unwrap();
    wait_atr(Some(Profile::Belpic17.atr()));
    let pki = card.pki();
    let server = TlsServer::start(&client_ca_chain_pem(&pki).unwrap(), TlsVersion::Tls12).unwrap();
    let conf = server.dir().join("opensc.conf");
    std::fs::write(
        &conf,
        "app default {\n\tframework pkcs15 {\n\t\tprivate_certificate = declassify;\n\t}\n}\n",
    )
    .unwrap();
    let conf = conf.display().to_string();
    // pcscd needs a moment to see the card after vpcd does.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = client(
            module,
            &server,
            &[("OPENSC_CONF", conf.as_str()), ("TLS_TEST_PIN", "1234")],
            &["--pin-env", "TLS_TEST_PIN"],
        );
        if out.status.code() != Some(3) || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let echo = echoed(&out, &server);
    assert!(echo.client_subject.contains(HOLDER), "{echo:?}");
    assert_eq!(echo.peer_signature_type.as_deref(), Some("RSA"));
    assert_eq!(card.pin_tries_left(), 3);
    assert!(card.apdu_count() > 0);

    // The card removed: no token in any slot, exit 3.
    card.remove();
    card.wait_removed(Duration::from_secs(10)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = client(module, &server, &[("OPENSC_CONF", conf.as_str())], &[]);
        if out.status.code() == Some(3) || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no token in any slot"),
        "{}",
        text(&out.stderr)
    );
}
