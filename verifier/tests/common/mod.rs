//! Test helpers: the virtual card's test PKI, tokens signed with its keys as a card would, and
//! certificates re-issued with one thing changed.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::sync::OnceLock;
use std::time::SystemTime;

use base64::Engine as _;
use der::asn1::OctetString;
use der::Decode;
use eidlink_tests::pki::CertFields;
use eidlink_tests::{Country, LeafKey, LeafKeyType, Pki, PkiSpec};
use eidlink_verifier::{auth_signed_data, TokenAlgorithm, TokenVerifier};
use p384::ecdsa::SigningKey;
use x509_cert::ext::Extension;
use x509_cert::Certificate;

/// The site of most tests.
pub const ORIGIN: &str = "https://eidlink.example";
/// A nonce as the server issues them (44 characters).
pub const NONCE: &str = "T2TfE5QBbDJHkU5ksVwY7+2wOZBg3E8jGqtBJJCjpfI=";

/// A time when every certificate of the default test PKI is valid (2024..2034).
pub fn at() -> SystemTime {
    eidlink_verifier::parse_utc("2026-01-01T00:00:00Z").expect("time")
}

/// A UTC time.
pub fn time(s: &str) -> SystemTime {
    eidlink_verifier::parse_utc(s).expect("time")
}

/// The Belgian P-384 test PKI (Belgian 1.8 card).
pub fn pki_p384() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).expect("pki"))
}

/// The Belgian RSA-2048 test PKI (Belgian 1.7 card), leafs under the EC CA.
pub fn pki_rsa() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::Rsa2048)).expect("pki"))
}

/// Another P-384 PKI with the same names but other keys (another seed).
pub fn pki_other() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
        spec.seed = b"another test PKI".to_vec();
        Pki::generate(&spec).expect("pki")
    })
}

/// PEM of a DER certificate.
pub fn pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).expect("pem")
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A verifier for [`ORIGIN`] trusting the PKI's citizen CA.
pub fn verifier(pki: &Pki) -> TokenVerifier {
    TokenVerifier::builder(ORIGIN)
        .trusted_cas(pem(&pki.ca_der).as_bytes())
        .build()
        .expect("verifier")
}

/// What the card returns when asked to sign `digest` with `key` for `alg`: ECDSA raw r‖s, RSA
/// PKCS#1 v1.5 over the DigestInfo the host builds, or PSS.
pub fn card_sign(key: &LeafKey, alg: TokenAlgorithm, digest: &[u8]) -> Vec<u8> {
    key.card_sign(alg.hash(), alg.scheme().padding, digest)
        .expect("card signature")
}

/// A `web-eid:1.0` token as the host returns it, for `cert_der` signed by `key`.
pub fn token_for(cert_der: &[u8], key: &LeafKey, alg: TokenAlgorithm, origin: &str, nonce: &str) -> String {
    let sig = card_sign(key, alg, &auth_signed_data(origin, nonce, alg));
    token_json(&b64(cert_der), alg.name(), &b64(&sig), "web-eid:1.0")
}

/// The PKI's authentication token for [`ORIGIN`] and [`NONCE`].
pub fn token(pki: &Pki, alg: TokenAlgorithm) -> String {
    token_for(&pki.auth_der, &pki.auth_key, alg, ORIGIN, NONCE)
}

/// A token from its fields (as web-eid-app writes it, plus the `action` the extension adds).
pub fn token_json(cert_b64: &str, alg: &str, sig_b64: &str, format: &str) -> String {
    serde_json::json!({
        "action": "web-eid:authenticate-success",
        "algorithm": alg,
        "appVersion": "https://eidlink.example/releases/0.1.0",
        "format": format,
        "signature": sig_b64,
        "unverifiedCertificate": cert_b64,
    })
    .to_string()
}

/// Re-issues `der` (signed again with `issuer_key`, ecdsa-with-SHA384) after `change` edits it.
/// x509-cert 0.3 keeps a TBSCertificate's fields private: the edit goes through the test PKI's
/// [`CertFields`], which signs with the same builder as the PKI itself.
pub fn reissue(der: &[u8], issuer_key: &SigningKey, change: impl FnOnce(&mut CertFields)) -> Vec<u8> {
    let cert = Certificate::from_der(der).expect("decode");
    let mut fields = CertFields::from_certificate(&cert);
    change(&mut fields);
    fields.sign(issuer_key).expect("sign")
}

/// Replaces (or adds) the extension `oid` with raw DER contents.
pub fn set_extension(tbs: &mut CertFields, oid: &str, critical: bool, value: &[u8]) {
    let oid = der::oid::ObjectIdentifier::new(oid).expect("oid");
    let exts = tbs.extensions.get_or_insert_with(Vec::new);
    exts.retain(|e| e.extn_id != oid);
    exts.push(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_vec()).expect("octets"),
    });
}

/// Sets the validity period.
pub fn set_validity(tbs: &mut CertFields, not_before: &str, not_after: &str) {
    let t = |s: &str| {
        let secs = time(s).duration_since(SystemTime::UNIX_EPOCH).expect("after 1970");
        x509_cert::time::Time::UtcTime(der::asn1::UtcTime::from_unix_duration(secs).expect("utc time"))
    };
    tbs.validity.not_before = t(not_before);
    tbs.validity.not_after = t(not_after);
}
