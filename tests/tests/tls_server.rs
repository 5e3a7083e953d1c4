//! The HTTPS server of the TLS client-certificate tests (eidlink_tests::tls), checked with OpenSSL's
//! own client and the software twins of the virtual card's keys: it echoes the subject of a
//! certificate of the card's CA over TLS 1.2 and 1.3, and refuses a client without a certificate
//! and one whose certificate another CA issued.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use eidlink_tests::ocsp::cert_pem;
use eidlink_tests::tls::{client_ca_chain_pem, leaf_key_pem, EchoPage, TlsServer, TlsVersion};
use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};

/// As OpenSSL prints it (X509_NAME_print: `/` before serialNumber, its legacy one-line form).
const SUBJECT: &str = "C=BE, CN=Alice Specimen (Authentication), SN=Specimen, GN=Alice/serialNumber=85010112486";

/// `openssl s_client` with the holder's authentication certificate and key of `pki` (none when
/// `None`): the whole answer and whether it exited 0.
fn s_client(server: &TlsServer, client: Option<&Pki>, dir: &Path) -> (String, String) {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", server.port()),
        "-quiet",
    ])
    .arg("-CAfile")
    .arg(server.server_ca())
    .args(["-verify_return_error", "-servername", "127.0.0.1"]);
    if let Some(pki) = client {
        let cert = dir.join("client.pem");
        let key = dir.join("client.key");
        std::fs::write(&cert, cert_pem(&pki.auth_der).unwrap()).unwrap();
        std::fs::write(&key, leaf_key_pem(&pki.auth_key).unwrap()).unwrap();
        cmd.arg("-cert").arg(&cert).arg("-key").arg(&key);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_server_echoes_the_cards_subject_over_tls12_and_tls13_and_refuses_the_rest() {
    let ec = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap();
    let rsa = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::Rsa2048)).unwrap();
    // Another CA's certificate for the same holder.
    let mut other_spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
    other_spec.seed = b"another CA".to_vec();
    let other = Pki::generate(&other_spec).unwrap();
    // The EC and RSA PKIs share their CAs (the same seed): one chain for both.
    assert_eq!(ec.ca_der, rsa.ca_der);
    let chain = client_ca_chain_pem(&ec).unwrap();

    for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let server = TlsServer::start(&chain, version).unwrap();
        let dir = server.dir().join("client");
        std::fs::create_dir_all(&dir).unwrap();
        for (pki, signature) in [(&ec, "ECDSA"), (&rsa, "RSA")] {
            let (page, err) = s_client(&server, Some(pki), &dir);
            let echo = EchoPage::parse(&page).unwrap_or_else(|| panic!("{version:?}: no echo page: {page}{err}"));
            assert_eq!(echo.protocol, version.openssl_name());
            assert_eq!(echo.client_subject, SUBJECT, "{version:?}");
            // OpenSSL signs with PSS for an RSA key in both versions; TLS 1.3 allows nothing else.
            let sig = echo.peer_signature_type.unwrap_or_default();
            assert!(sig.starts_with(signature), "{version:?}: {sig}");
        }
        // s_server logs each certificate it verified.
        assert!(
            server
                .stderr()
                .contains("depth=0 C = BE, CN = Alice Specimen (Authentication)"),
            "{}",
            server.stderr()
        );

        let (page, err) = s_client(&server, None, &dir);
        assert_eq!(
            EchoPage::parse(&page),
            None,
            "{version:?}: answered without a certificate: {page}"
        );
        assert!(
            server.stderr().contains("peer did not return a certificate"),
            "{version:?}: {}{err}",
            server.stderr()
        );

        let (page, err) = s_client(&server, Some(&other), &dir);
        assert_eq!(
            EchoPage::parse(&page),
            None,
            "{version:?}: accepted another CA's client: {page}"
        );
        assert!(
            server.stderr().contains("certificate verify failed"),
            "{version:?}: {}{err}",
            server.stderr()
        );
        let dir = server.dir().to_path_buf();
        drop(server);
        assert!(!dir.exists(), "the server's scratch directory is left behind");
    }
}
