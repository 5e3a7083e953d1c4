//! Revocation checking (`OcspChecker`) against a real OCSP responder: `openssl ocsp` serving the
//! virtual card's test PKI on loopback, whose leaf certificates carry the responder's URL in their
//! authorityInfoAccess. Responses that must be refused are real ones too: signed by the wrong key,
//! replayed from another request (nonce), or checked at a time they are stale.
// Test code: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use common::{pem, reissue, set_extension, token_for, NONCE, ORIGIN};
use eidlink_tests::ocsp::{free_port, OcspResponder, ResponderSpec};
use eidlink_tests::pki::{derive_p384, index_line};
use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};
use eidlink_verifier::{
    FixedClock, OcspChecker, OcspError, OcspStatus, RevocationReason, TokenAlgorithm, TokenVerifier, UnreachablePolicy,
};
use p384::ecdsa::SigningKey;

/// When the signing certificate is revoked in the responder's index (2025-06-01, keyCompromise).
const REVOKED_AT: &str = "2025-06-01T00:00:00Z";

/// Who signs the responder's answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signer {
    /// The citizen CA itself (the issuer of the leaves).
    Ca,
    /// The root CA: a real CA, but not the leaves' issuer, and no delegation.
    Root,
    /// A responder certificate the citizen CA issued with id-kp-OCSPSigning.
    Delegated,
    /// A responder certificate the citizen CA issued without id-kp-OCSPSigning.
    DelegatedWithoutEku,
}

/// The test PKI with `url` in its leaves' AIA.
fn pki_with_ocsp(url: &str) -> Pki {
    let mut spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
    spec.ocsp_url = Some(url.to_owned());
    Pki::generate(&spec).expect("pki")
}

/// A responder certificate issued by the citizen CA (key derived from the seed), with or without
/// extendedKeyUsage id-kp-OCSPSigning.
fn responder_cert(pki: &Pki, with_eku: bool) -> (Vec<u8>, SigningKey) {
    let key = derive_p384(b"ocsp responder", "responder").expect("key");
    let spki_der = p384::pkcs8::EncodePublicKey::to_public_key_der(key.verifying_key()).expect("spki");
    let der = reissue(&pki.auth_der, &pki.ca_key, |f| {
        f.subject = "CN=eidlink TEST OCSP responder,O=eidlink test,C=BE"
            .parse()
            .expect("name");
        f.serial_number = x509_cert::serial_number::SerialNumber::new(&[0x33; 16]).expect("serial");
        f.subject_public_key_info = der::Decode::from_der(spki_der.as_bytes()).expect("spki");
        // Without the AIA extension: a responder is not asked about itself (id-pkix-ocsp-nocheck
        // aside, which this test does not need).
        let aia = der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
        if let Some(exts) = f.extensions.as_mut() {
            exts.retain(|e| e.extn_id != aia);
        }
        // SEQUENCE { id-kp-OCSPSigning } or SEQUENCE { id-kp-clientAuth }.
        let kp = if with_eku { 0x09 } else { 0x02 };
        set_extension(
            f,
            "2.5.29.37",
            false,
            &[0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, kp],
        );
    });
    (der, key)
}

/// A certificate of the citizen CA that the responder's index does not list.
fn unlisted_cert(pki: &Pki) -> Vec<u8> {
    reissue(&pki.auth_der, &pki.ca_key, |f| {
        f.serial_number = x509_cert::serial_number::SerialNumber::new(&[0x22; 16]).expect("serial");
    })
}

/// `openssl ocsp` serving the citizen CA's index: the authentication certificate valid, the signing
/// certificate revoked. Killed when dropped.
struct Responder {
    server: OcspResponder,
    pki: Pki,
    url: String,
}

impl Responder {
    /// Starts a responder answering `requests` requests, signed by `signer`, with `extra` options.
    fn start(signer: Signer, requests: u32, extra: &[&str]) -> Responder {
        let port = free_port().expect("port");
        let url = format!("http://127.0.0.1:{port}/");
        let pki = pki_with_ocsp(&url);
        let index = index_line(&pki.auth_der, None).expect("index")
            + &index_line(&pki.sign_der, Some(("250601000000Z", "keyCompromise"))).expect("index");
        let delegated;
        let (cert, key) = match signer {
            Signer::Ca => (&pki.ca_der, &pki.ca_key),
            Signer::Root => (&pki.root_der, &pki.root_key),
            Signer::Delegated | Signer::DelegatedWithoutEku => {
                delegated = responder_cert(&pki, signer == Signer::Delegated);
                (&delegated.0, &delegated.1)
            }
        };
        let requests = requests.to_string();
        let mut options = vec!["-nrequest", &requests];
        options.extend_from_slice(extra);
        let server = OcspResponder::start(&ResponderSpec {
            ca_der: &pki.ca_der,
            signer: (cert, key),
            index: &index,
            port,
            extra: &options,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        Responder { server, pki, url }
    }

    /// A checker trusting the PKI's citizen CA, using the certificates' AIA URL.
    fn checker(&self) -> eidlink_verifier::OcspCheckerBuilder {
        OcspChecker::builder().issuers(pem(&self.pki.ca_der).as_bytes())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.server.path(name)
    }
}

/// Serves `body` as an `application/ocsp-response` to every connection (a replayed response).
fn replay_server(body: Vec<u8>) -> String {
    replay_server_with(body, false)
}

/// [`replay_server`]; with `keep_open`, each connection stays open after the answer (as a server
/// ignoring `Connection: close` would keep it) until the test process ends.
fn replay_server_with(body: Vec<u8>, keep_open: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            read_request(&mut s);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
            if keep_open {
                std::mem::forget(s);
            }
        }
    });
    url
}

/// Reads one HTTP request (header and Content-Length body).
fn read_request(s: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = s.read_exact(&mut body);
}

/// A real response of the responder to `openssl ocsp` as a client (its own nonce, or none), saved.
fn fetch_with_openssl(r: &Responder, cert_der: &[u8], no_nonce: bool) -> Vec<u8> {
    let cert = r.path("query.pem");
    std::fs::write(&cert, pem(cert_der)).expect("write");
    let out = r.path("resp.der");
    let mut cmd = Command::new("openssl");
    // The CertID hash applies to the -cert options after it; OpenSSL's default is SHA-1.
    cmd.arg("ocsp")
        .arg("-sha256")
        .arg("-issuer")
        .arg(r.path("ca.pem"))
        .arg("-cert")
        .arg(&cert)
        .args(["-url", &r.url, "-noverify", "-respout"])
        .arg(&out);
    if no_nonce {
        cmd.arg("-no_nonce");
    }
    let status = cmd.output().expect("openssl ocsp client");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    std::fs::read(out).expect("response")
}

#[test]
fn a_valid_card_is_good_after_its_token_verifies() {
    let r = Responder::start(Signer::Ca, 2, &[]);
    // The whole flow of a site: the token first, then its certificate's status.
    let token = token_for(&r.pki.auth_der, &r.pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    let verifier = TokenVerifier::builder(ORIGIN)
        .trusted_cas(pem(&r.pki.ca_der).as_bytes())
        .build()
        .expect("verifier");
    let who = verifier.verify(&token, NONCE).expect("token verifies");
    let ocsp = r.checker().build().expect("checker");
    // No responder URL configured: the one in the certificate's AIA is used.
    assert_eq!(ocsp.check(&who.certificate_der), Ok(OcspStatus::Good));
    assert_eq!(ocsp.require_good(&who.certificate_der), Ok(OcspStatus::Good));
}

#[test]
fn a_revoked_signing_certificate_is_revoked_with_time_and_reason() {
    let r = Responder::start(Signer::Ca, 2, &[]);
    let ocsp = r.checker().build().expect("checker");
    let revoked = OcspStatus::Revoked {
        time: common::time(REVOKED_AT),
        reason: Some(RevocationReason::KeyCompromise),
    };
    assert_eq!(ocsp.check(&r.pki.sign_der), Ok(revoked));
    let err = ocsp.require_good(&r.pki.sign_der).expect_err("revoked is refused");
    assert!(matches!(
        err,
        OcspError::Revoked {
            reason: Some(RevocationReason::KeyCompromise),
            ..
        }
    ));
    assert_eq!(err.to_string(), "the certificate was revoked (keyCompromise)");
}

#[test]
fn a_certificate_missing_from_the_index_is_unknown() {
    let r = Responder::start(Signer::Ca, 2, &[]);
    let ocsp = r.checker().build().expect("checker");
    let unlisted = unlisted_cert(&r.pki);
    assert_eq!(ocsp.check(&unlisted), Ok(OcspStatus::Unknown));
    assert_eq!(ocsp.require_good(&unlisted), Err(OcspError::Unknown));
}

#[test]
fn a_closed_port_is_unreachable_and_the_policy_decides() {
    let url = format!("http://127.0.0.1:{}/", free_port().expect("port"));
    let pki = pki_with_ocsp(&url);
    let ca = pem(&pki.ca_der);
    let refuse = OcspChecker::builder().issuers(ca.as_bytes()).build().expect("checker");
    let status = refuse.check(&pki.auth_der).expect("a status");
    assert!(
        matches!(&status, OcspStatus::Unreachable { reason } if reason.contains("127.0.0.1")),
        "{status:?}"
    );
    // Fail closed by default.
    assert!(matches!(
        refuse.require_good(&pki.auth_der),
        Err(OcspError::Unreachable(_))
    ));
    let allow = OcspChecker::builder()
        .issuers(ca.as_bytes())
        .unreachable(UnreachablePolicy::Allow)
        .build()
        .expect("checker");
    assert!(matches!(
        allow.require_good(&pki.auth_der),
        Ok(OcspStatus::Unreachable { .. })
    ));
}

#[test]
fn a_responder_that_never_answers_is_unreachable_after_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    // Accepts (the kernel backlog does) but never reads or answers.
    let pki = pki_with_ocsp(&url);
    let ocsp = OcspChecker::builder()
        .issuers(pem(&pki.ca_der).as_bytes())
        .timeout(Duration::from_millis(500))
        .build()
        .expect("checker");
    let started = Instant::now();
    let status = ocsp.check(&pki.auth_der).expect("a status");
    let took = started.elapsed();
    assert!(
        matches!(&status, OcspStatus::Unreachable { reason } if reason.contains("no complete answer within 500ms")),
        "{status:?}"
    );
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "{took:?}"
    );
    drop(listener);
}

#[test]
fn a_delegated_responder_with_ocsp_signing_is_accepted() {
    let r = Responder::start(Signer::Delegated, 2, &[]);
    let ocsp = r.checker().build().expect("checker");
    assert_eq!(ocsp.check(&r.pki.auth_der), Ok(OcspStatus::Good));
    assert!(matches!(ocsp.check(&r.pki.sign_der), Ok(OcspStatus::Revoked { .. })));
}

#[test]
fn a_delegated_responder_without_ocsp_signing_is_refused() {
    let r = Responder::start(Signer::DelegatedWithoutEku, 1, &[]);
    let ocsp = r.checker().build().expect("checker");
    assert_eq!(
        ocsp.check(&r.pki.auth_der),
        Err(OcspError::UnauthorizedResponder("eidlink TEST OCSP responder".into()))
    );
}

#[test]
fn a_response_signed_by_another_ca_is_refused() {
    // The root CA is trusted for paths, but it did not issue the leaves and delegated nothing.
    let r = Responder::start(Signer::Root, 1, &[]);
    let ocsp = r.checker().build().expect("checker");
    assert_eq!(
        ocsp.check(&r.pki.auth_der),
        Err(OcspError::UnauthorizedResponder("eidlink TEST EC Root CA".into()))
    );
}

#[test]
fn a_response_whose_signature_verifies_with_no_known_key_is_refused() {
    // Signed by the root's key without its certificate: nothing in reach verifies it.
    let r = Responder::start(Signer::Root, 1, &["-resp_no_certs"]);
    let ocsp = r.checker().build().expect("checker");
    assert_eq!(ocsp.check(&r.pki.auth_der), Err(OcspError::BadSignature));
}

#[test]
fn a_replayed_response_is_refused_by_its_nonce() {
    let r = Responder::start(Signer::Ca, 2, &[]);
    // A genuine "good" response, but to another request (openssl's own nonce).
    let with_nonce = fetch_with_openssl(&r, &r.pki.auth_der, false);
    let without_nonce = fetch_with_openssl(&r, &r.pki.auth_der, true);
    let ca = pem(&r.pki.ca_der);
    let via = |body: Vec<u8>, require_nonce: bool| {
        OcspChecker::builder()
            .issuers(ca.as_bytes())
            .responder_url(&replay_server(body))
            .require_nonce(require_nonce)
            .build()
            .expect("checker")
    };
    assert_eq!(
        via(with_nonce.clone(), true).check(&r.pki.auth_der),
        Err(OcspError::NonceMismatch)
    );
    assert_eq!(
        via(with_nonce, false).check(&r.pki.auth_der),
        Err(OcspError::NonceMismatch),
        "a wrong nonce is refused even when nonces are optional"
    );
    assert_eq!(
        via(without_nonce.clone(), true).check(&r.pki.auth_der),
        Err(OcspError::NonceMissing)
    );
    let lax = via(without_nonce, false);
    assert_eq!(lax.check(&r.pki.auth_der), Ok(OcspStatus::Good));
    // The response is about the authentication certificate, not the signing one.
    assert_eq!(lax.check(&r.pki.sign_der), Err(OcspError::CertIdMismatch));
}

#[test]
fn an_answer_is_complete_at_its_content_length_even_if_the_server_keeps_the_connection() {
    let r = Responder::start(Signer::Ca, 1, &[]);
    let body = fetch_with_openssl(&r, &r.pki.auth_der, true);
    let ocsp = r
        .checker()
        .responder_url(&replay_server_with(body, true))
        .require_nonce(false)
        .timeout(Duration::from_secs(3))
        .build()
        .expect("checker");
    let started = Instant::now();
    assert_eq!(ocsp.check(&r.pki.auth_der), Ok(OcspStatus::Good));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
}

#[test]
fn a_stale_response_is_refused_by_next_update_within_the_skew() {
    // nextUpdate = thisUpdate + 1 day.
    let r = Responder::start(Signer::Ca, 4, &["-ndays", "1"]);
    let at = |offset_secs: u64| {
        r.checker()
            .clock(Arc::new(FixedClock(
                SystemTime::now() + Duration::from_secs(offset_secs),
            )))
            .clock_skew(Duration::from_secs(600))
            // As for a responder serving pre-produced responses: thisUpdate may be old.
            .max_this_update_age(Duration::from_secs(3 * 86_400))
            .build()
            .expect("checker")
    };
    // Inside the validity plus the skew: accepted.
    assert_eq!(at(86_400 + 300).check(&r.pki.auth_der), Ok(OcspStatus::Good));
    // Past nextUpdate plus the skew: stale.
    assert_eq!(
        at(86_400 + 1200).check(&r.pki.auth_der),
        Err(OcspError::NextUpdatePassed)
    );
    assert_eq!(at(2 * 86_400).check(&r.pki.auth_der), Err(OcspError::NextUpdatePassed));
    // With the default age (2 minutes, plus the skew), an hour-old thisUpdate is too old although
    // nextUpdate is a day away.
    let default_age = r
        .checker()
        .clock(Arc::new(FixedClock(SystemTime::now() + Duration::from_secs(3600))))
        .build()
        .expect("checker");
    assert_eq!(default_age.check(&r.pki.auth_der), Err(OcspError::ThisUpdateTooOld));
}

#[test]
fn a_response_without_next_update_must_be_recent_and_not_from_the_future() {
    // openssl ocsp without -ndays/-nmin gives no nextUpdate.
    let r = Responder::start(Signer::Ca, 3, &[]);
    let shifted = |ahead: bool, secs: u64| {
        let d = Duration::from_secs(secs);
        let now = if ahead {
            SystemTime::now() + d
        } else {
            SystemTime::now() - d
        };
        r.checker()
            .clock(Arc::new(FixedClock(now)))
            .clock_skew(Duration::from_secs(60))
            .max_this_update_age(Duration::from_secs(120))
            .build()
            .expect("checker")
    };
    assert_eq!(shifted(true, 60).check(&r.pki.auth_der), Ok(OcspStatus::Good));
    assert_eq!(
        shifted(true, 3600).check(&r.pki.auth_der),
        Err(OcspError::ThisUpdateTooOld)
    );
    // Our clock an hour behind the responder's: its thisUpdate is in our future.
    assert_eq!(
        shifted(false, 3600).check(&r.pki.auth_der),
        Err(OcspError::ThisUpdateInFuture)
    );
}

#[test]
fn certificates_without_aia_need_a_configured_responder() {
    // The default test PKI (recorded transcripts) has no AIA.
    let pki = common::pki_p384();
    let ocsp = OcspChecker::builder()
        .issuers(pem(&pki.ca_der).as_bytes())
        .build()
        .expect("checker");
    assert_eq!(ocsp.check(&pki.auth_der), Err(OcspError::NoResponder));
    // A certificate of another CA.
    assert_eq!(ocsp.check(&common::pki_other().auth_der), Err(OcspError::UnknownIssuer));
}

#[test]
fn a_configured_responder_url_overrides_the_aia() {
    let r = Responder::start(Signer::Ca, 1, &[]);
    // Certificates naming a dead responder (same keys and serials as the responder's PKI); the
    // configured responder is asked instead.
    let dead = pki_with_ocsp(&format!("http://127.0.0.1:{}/", free_port().expect("port")));
    let ocsp = r.checker().responder_url(&r.url).build().expect("checker");
    assert_eq!(ocsp.check(&dead.auth_der), Ok(OcspStatus::Good));
    assert!(matches!(
        OcspChecker::builder()
            .issuers(pem(&r.pki.ca_der).as_bytes())
            .responder_url("https://ocsp.example/")
            .build(),
        Err(eidlink_verifier::ConfigError::ResponderUrl(_))
    ));
}

#[test]
fn the_ocsp_url_is_only_in_the_leaves_and_only_when_asked_for() {
    let default = common::pki_p384();
    let with = pki_with_ocsp("http://127.0.0.1:1/");
    let aia = |der: &[u8]| {
        let cert = <x509_cert::Certificate as der::Decode>::from_der(der).expect("cert");
        cert.tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .any(|e| e.extn_id.to_string() == "1.3.6.1.5.5.7.1.1")
    };
    assert!(aia(&with.auth_der) && aia(&with.sign_der));
    assert!(!aia(&with.ca_der) && !aia(&with.root_der));
    assert!(!aia(&default.auth_der) && !aia(&default.sign_der));
    // Same keys and CA, so the default certificates stay as they were.
    assert_eq!(with.ca_der, default.ca_der);
}

#[test]
fn a_designated_responder_configured_by_the_site_may_sign() {
    // The root signs; the site trusts its certificate as the designated responder.
    let r = Responder::start(Signer::Root, 1, &[]);
    let ocsp = r
        .checker()
        .responder_certificate(pem(&r.pki.root_der).as_bytes())
        .build()
        .expect("checker");
    assert_eq!(ocsp.check(&r.pki.auth_der), Ok(OcspStatus::Good));
}

#[test]
fn responder_errors_and_garbage_are_told_apart_from_no_answer() {
    let pki = pki_with_ocsp("http://127.0.0.1:1/");
    let via = |body: Vec<u8>| {
        OcspChecker::builder()
            .issuers(pem(&pki.ca_der).as_bytes())
            .responder_url(&replay_server(body))
            .build()
            .expect("checker")
            .check(&pki.auth_der)
    };
    // OCSPResponse { responseStatus tryLater } (RFC 6960 §4.2.1), no responseBytes.
    assert_eq!(
        via(vec![0x30, 0x03, 0x0A, 0x01, 0x03]),
        Err(OcspError::ResponderStatus("tryLater"))
    );
    assert_eq!(
        via(vec![0x30, 0x03, 0x0A, 0x01, 0x06]),
        Err(OcspError::ResponderStatus("unauthorized"))
    );
    assert!(matches!(
        via(b"<html>not OCSP</html>".to_vec()),
        Err(OcspError::Malformed(_))
    ));
    // An HTTP error is no answer.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/ocsp", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            read_request(&mut s);
            let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let status = OcspChecker::builder()
        .issuers(pem(&pki.ca_der).as_bytes())
        .responder_url(&url)
        .build()
        .expect("checker")
        .check(&pki.auth_der);
    assert!(
        matches!(&status, Ok(OcspStatus::Unreachable { reason }) if reason.contains("HTTP 503")),
        "{status:?}"
    );
}
