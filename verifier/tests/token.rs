//! `TokenVerifier` against tokens made with the virtual card's test PKI keys: the good cases, and one
//! failing case per rule of protocol.md §4.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use eidlink_verifier::{
    ConfigError, FixedClock, TokenAlgorithm, TokenVerifier, VerifyError, OID_CLIENT_AUTH, TOKEN_MAX_LEN,
};

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EKU: &str = "2.5.29.37";
const OID_POLICIES: &str = "2.5.29.32";
/// extKeyUsage = SEQUENCE { id-kp-serverAuth }.
const EKU_SERVER_AUTH: &[u8] = &[0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// certificatePolicies = SEQUENCE { PolicyInformation { 1.2.3.4 } }.
const POLICY_1234: &[u8] = &[0x30, 0x07, 0x30, 0x05, 0x06, 0x03, 0x2A, 0x03, 0x04];
/// basicConstraints = SEQUENCE { cA BOOLEAN FALSE }: the DEFAULT value encoded anyway, as some real eID
/// certificates do (not DER, which says to omit it).
const BC_EXPLICIT_FALSE: &[u8] = &[0x30, 0x03, 0x01, 0x01, 0x00];
/// basicConstraints = SEQUENCE {} (not a CA).
const BC_EMPTY: &[u8] = &[0x30, 0x00];

fn err(v: &TokenVerifier, token: &str) -> VerifyError {
    match v.verify_at(token, NONCE, at()) {
        Ok(t) => panic!("accepted: {t:?}"),
        Err(e) => e,
    }
}

#[test]
fn es384_token_from_the_p384_card_passes() {
    let pki = pki_p384();
    let v = verifier(pki);
    let t = v.verify_at(&token(pki, TokenAlgorithm::Es384), NONCE, at()).unwrap();
    assert_eq!(t.algorithm, TokenAlgorithm::Es384);
    assert_eq!(t.certificate_der, pki.auth_der);
    assert_eq!(t.format, "web-eid:1.0");
    assert_eq!(t.app_version.as_deref(), Some("https://eidlink.example/releases/0.1.0"));
    let s = &t.subject;
    assert_eq!(s.common_name.as_deref(), Some("Alice Specimen (Authentication)"));
    assert_eq!(s.given_name.as_deref(), Some("Alice"));
    assert_eq!(s.surname.as_deref(), Some("Specimen"));
    assert_eq!(s.serial_number.as_deref(), Some("85010112486"));
    assert_eq!(s.national_number.as_deref(), Some("85010112486"));
    assert_eq!(s.country.as_deref(), Some("BE"));
    assert_eq!(s.full_name().as_deref(), Some("Alice Specimen"));
}

#[test]
fn estonian_names_give_the_personal_code() {
    let pki = eidlink_tests::Pki::generate(&eidlink_tests::PkiSpec::default_for(
        eidlink_tests::Country::Estonia,
        eidlink_tests::LeafKeyType::P384,
    ))
    .unwrap();
    let t = verifier(&pki)
        .verify_at(&token(&pki, TokenAlgorithm::Es384), NONCE, at())
        .unwrap();
    assert_eq!(t.subject.serial_number.as_deref(), Some("PNOEE-48501010003"));
    assert_eq!(t.subject.national_number.as_deref(), Some("48501010003"));
    assert_eq!(t.subject.country.as_deref(), Some("EE"));
}

#[test]
fn rs256_and_ps256_tokens_from_the_rsa_card_pass() {
    let pki = pki_rsa();
    let v = verifier(pki);
    for alg in [TokenAlgorithm::Rs256, TokenAlgorithm::Ps256] {
        let t = v.verify_at(&token(pki, alg), NONCE, at()).unwrap();
        assert_eq!(t.algorithm, alg);
        assert_eq!(t.subject.serial_number.as_deref(), Some("85010112486"));
    }
    // RS384/RS512/PS384 use the algorithm's own hash for H.
    for alg in [TokenAlgorithm::Rs384, TokenAlgorithm::Rs512] {
        v.verify_at(&token(pki, alg), NONCE, at()).unwrap();
    }
    // A PKCS#1 v1.5 signature is not a PSS one, and vice versa.
    let rs = token(pki, TokenAlgorithm::Rs256).replace("\"RS256\"", "\"PS256\"");
    assert_eq!(err(&v, &rs), VerifyError::BadSignature);
    let ps = token(pki, TokenAlgorithm::Ps256).replace("\"PS256\"", "\"RS256\"");
    assert_eq!(err(&v, &ps), VerifyError::BadSignature);
}

#[test]
fn chain_through_a_supplied_intermediate_to_a_trusted_root() {
    let pki = pki_p384();
    let t = token(pki, TokenAlgorithm::Es384);
    let root_only = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.root_der)
        .build()
        .unwrap();
    assert_eq!(err(&root_only, &t), VerifyError::UntrustedIssuer);
    let with_ca = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.root_der)
        .intermediates(pem(&pki.ca_der).as_bytes())
        .build()
        .unwrap();
    with_ca.verify_at(&t, NONCE, at()).unwrap();
    // Both in one PEM bundle, both trusted.
    let bundle = format!("{}{}", pem(&pki.root_der), pem(&pki.ca_der));
    let both = TokenVerifier::builder(ORIGIN)
        .trusted_cas(bundle.as_bytes())
        .build()
        .unwrap();
    both.verify_at(&t, NONCE, at()).unwrap();
}

#[test]
fn wrong_origin_or_nonce_is_a_bad_signature() {
    let pki = pki_p384();
    let v = verifier(pki);
    let other_site = token_for(
        &pki.auth_der,
        &pki.auth_key,
        TokenAlgorithm::Es384,
        "https://evil.example",
        NONCE,
    );
    assert_eq!(err(&v, &other_site), VerifyError::BadSignature);
    let t = token(pki, TokenAlgorithm::Es384);
    let other_nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(v.verify_at(&t, other_nonce, at()), Err(VerifyError::BadSignature));
    // The nonce the server gives must look like one.
    assert_eq!(v.verify_at(&t, "", at()), Err(VerifyError::InvalidNonce(0)));
    assert_eq!(
        v.verify_at(&t, &"A".repeat(129), at()),
        Err(VerifyError::InvalidNonce(129))
    );
}

#[test]
fn the_configured_origin_is_normalized_like_a_browser_origin() {
    let pki = pki_p384();
    let v = TokenVerifier::builder("HTTPS://EIDLINK.example:443/")
        .trusted_cas(&pki.ca_der)
        .build()
        .unwrap();
    assert_eq!(v.origin(), ORIGIN);
    v.verify_at(&token(pki, TokenAlgorithm::Es384), NONCE, at()).unwrap();
}

#[test]
fn certificate_validity_follows_the_clock() {
    let pki = pki_p384();
    let v = verifier(pki);
    let t = token(pki, TokenAlgorithm::Es384);
    // The leaf is valid 2024-01-01 .. 2034-01-01.
    assert_eq!(v.verify_at(&t, NONCE, time("2034-01-02")), Err(VerifyError::Expired));
    assert_eq!(
        v.verify_at(&t, NONCE, time("2023-12-31")),
        Err(VerifyError::NotYetValid)
    );
    v.verify_at(&t, NONCE, time("2033-12-31T23:59:59Z")).unwrap();
    // The injected clock is what `verify` uses.
    let stopped = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.ca_der)
        .clock(Arc::new(FixedClock(time("2040-01-01"))))
        .build()
        .unwrap();
    assert_eq!(stopped.verify(&t, NONCE), Err(VerifyError::Expired));
    let good = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.ca_der)
        .clock(Arc::new(FixedClock(at())))
        .build()
        .unwrap();
    good.verify(&t, NONCE).unwrap();
}

#[test]
fn a_trusted_ca_must_itself_be_valid_now() {
    let pki = pki_p384();
    // The same citizen CA (name, key) re-issued by the root for 2024..2025 only.
    let short_ca = reissue(&pki.ca_der, &pki.root_key, |tbs| {
        set_validity(tbs, "2024-01-01", "2025-01-01")
    });
    let v = TokenVerifier::builder(ORIGIN).trusted_cas(&short_ca).build().unwrap();
    let t = token(pki, TokenAlgorithm::Es384);
    v.verify_at(&t, NONCE, time("2024-06-01")).unwrap();
    assert!(matches!(
        v.verify_at(&t, NONCE, at()),
        Err(VerifyError::IssuerNotValid(name)) if name == "eidlink TEST EC Citizen CA"
    ));
}

#[test]
fn an_issuer_must_be_a_ca() {
    let pki = pki_p384();
    let not_ca = reissue(&pki.ca_der, &pki.root_key, |tbs| {
        set_extension(tbs, OID_BASIC_CONSTRAINTS, true, BC_EMPTY)
    });
    let v = TokenVerifier::builder(ORIGIN).trusted_cas(&not_ca).build().unwrap();
    assert!(matches!(
        err(&v, &token(pki, TokenAlgorithm::Es384)),
        VerifyError::IssuerNotCa(_)
    ));
}

#[test]
fn a_ca_from_another_pki_is_not_trusted() {
    // Same names, other keys: the signature does not verify and the key identifiers differ.
    let v = verifier(pki_other());
    assert_eq!(
        err(&v, &token(pki_p384(), TokenAlgorithm::Es384)),
        VerifyError::UntrustedIssuer
    );
}

#[test]
fn an_altered_certificate_breaks_the_chain() {
    let pki = pki_p384();
    let mut der = pki.auth_der.clone();
    // Change one letter of the holder's name inside the signed part ("Alice" → "Blice").
    let pos = der.windows(5).position(|w| w == b"Alice").unwrap();
    der[pos] = b'B';
    let t = token_for(&der, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    assert!(matches!(err(&verifier(pki), &t), VerifyError::ChainSignature(_)));
}

#[test]
fn the_signing_certificate_has_no_digital_signature_usage() {
    let pki = pki_p384();
    let t = token_for(&pki.sign_der, &pki.sign_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    assert_eq!(err(&verifier(pki), &t), VerifyError::KeyUsage);
}

#[test]
fn extended_key_usage_must_include_client_auth() {
    let pki = pki_p384();
    let server_only = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, OID_EKU, false, EKU_SERVER_AUTH)
    });
    let t = token_for(&server_only, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    assert_eq!(err(&verifier(pki), &t), VerifyError::ExtendedKeyUsage);
    // No EKU at all is accepted.
    let no_eku = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        if let Some(exts) = tbs.extensions.as_mut() {
            exts.retain(|e| e.extn_id.to_string() != OID_EKU);
        }
    });
    let t = token_for(&no_eku, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    verifier(pki).verify_at(&t, NONCE, at()).unwrap();
    assert_eq!(OID_CLIENT_AUTH, "1.3.6.1.5.5.7.3.2");
}

#[test]
fn disallowed_policies_are_refused() {
    let pki = pki_p384();
    let with_policy = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, OID_POLICIES, false, POLICY_1234)
    });
    let t = token_for(&with_policy, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    verifier(pki).verify_at(&t, NONCE, at()).unwrap();
    let strict = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.ca_der)
        .disallow_policy("1.2.9")
        .disallow_policy("1.2.3.4")
        .build()
        .unwrap();
    assert_eq!(err(&strict, &t), VerifyError::DisallowedPolicy("1.2.3.4".into()));
}

#[test]
fn an_explicitly_encoded_ca_false_is_tolerated() {
    let pki = pki_p384();
    let quirky = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, OID_BASIC_CONSTRAINTS, false, BC_EXPLICIT_FALSE)
    });
    // The certificate really carries the non-DER encoding: extnID basicConstraints, extnValue
    // OCTET STRING { SEQUENCE { BOOLEAN FALSE } }.
    let encoded = [&[0x06, 0x03, 0x55, 0x1D, 0x13, 0x04, 0x05][..], BC_EXPLICIT_FALSE].concat();
    assert!(quirky.windows(encoded.len()).any(|w| w == encoded));
    let t = token_for(&quirky, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    verifier(pki).verify_at(&t, NONCE, at()).unwrap();
}

#[test]
fn an_unknown_critical_extension_is_refused() {
    let pki = pki_p384();
    let c = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, "1.2.3.5", true, &[0x05, 0x00])
    });
    let t = token_for(&c, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    assert_eq!(
        err(&verifier(pki), &t),
        VerifyError::UnsupportedCriticalExtension("1.2.3.5".into())
    );
    // The same extension, not critical, is ignored.
    let c = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, "1.2.3.5", false, &[0x05, 0x00])
    });
    let t = token_for(&c, &pki.auth_key, TokenAlgorithm::Es384, ORIGIN, NONCE);
    verifier(pki).verify_at(&t, NONCE, at()).unwrap();
}

#[test]
fn a_tampered_signature_is_refused() {
    let pki = pki_p384();
    let mut sig = card_sign(
        &pki.auth_key,
        TokenAlgorithm::Es384,
        &eidlink_verifier::auth_signed_data(ORIGIN, NONCE, TokenAlgorithm::Es384),
    );
    sig[10] ^= 1;
    let t = token_json(&b64(&pki.auth_der), "ES384", &b64(&sig), "web-eid:1.0");
    assert_eq!(err(&verifier(pki), &t), VerifyError::BadSignature);
    // A DER-encoded ECDSA signature is not what Web eID sends.
    let sig = card_sign(
        &pki.auth_key,
        TokenAlgorithm::Es384,
        &eidlink_verifier::auth_signed_data(ORIGIN, NONCE, TokenAlgorithm::Es384),
    );
    let der_sig = p384::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
    let t = token_json(&b64(&pki.auth_der), "ES384", &b64(der_sig.as_bytes()), "web-eid:1.0");
    assert_eq!(err(&verifier(pki), &t), VerifyError::BadSignature);
}

#[test]
fn unknown_algorithms_are_refused() {
    let pki = pki_p384();
    let t = token(pki, TokenAlgorithm::Es384);
    for alg in ["HS256", "es384", "ES384 ", "none", ""] {
        let bad = t.replace("\"ES384\"", &format!("\"{alg}\""));
        assert_eq!(
            err(&verifier(pki), &bad),
            VerifyError::UnknownAlgorithm(alg.into()),
            "{alg}"
        );
    }
}

#[test]
fn the_algorithm_must_fit_the_key() {
    let pki = pki_p384();
    let v = verifier(pki);
    let t = token(pki, TokenAlgorithm::Es384);
    for alg in ["ES256", "ES512", "RS256", "PS256"] {
        let bad = t.replace("\"ES384\"", &format!("\"{alg}\""));
        assert!(
            matches!(err(&v, &bad), VerifyError::AlgorithmKeyMismatch { ref algorithm, ref key }
                if algorithm == alg && key == "EC P-384"),
            "{alg}"
        );
    }
    let pki = pki_rsa();
    let t = token(pki, TokenAlgorithm::Rs256).replace("\"RS256\"", "\"ES384\"");
    assert!(matches!(
        err(&verifier(pki), &t),
        VerifyError::AlgorithmKeyMismatch { ref key, .. } if key == "RSA 2048"
    ));
}

#[test]
fn token_length_bounds() {
    let v = verifier(pki_p384());
    let short = r#"{"format":"web-eid:1.0"}"#;
    assert_eq!(err(&v, short), VerifyError::TokenTooShort(short.len()));
    let t = token(pki_p384(), TokenAlgorithm::Es384);
    let padded = format!("{}, \"pad\": \"{}\"}}", &t[..t.len() - 1], "x".repeat(TOKEN_MAX_LEN));
    assert_eq!(err(&v, &padded), VerifyError::TokenTooLong(padded.len()));
    // Just under the limit, unknown fields are ignored.
    let room = TOKEN_MAX_LEN - t.len() - 12;
    let padded = format!("{}, \"pad\": \"{}\"}}", &t[..t.len() - 1], "x".repeat(room));
    assert!(padded.len() <= TOKEN_MAX_LEN);
    v.verify_at(&padded, NONCE, at()).unwrap();
}

#[test]
fn malformed_base64_is_refused() {
    let pki = pki_p384();
    let v = verifier(pki);
    let t = token(pki, TokenAlgorithm::Es384);
    let sig_b64 = serde_json::from_str::<serde_json::Value>(&t).unwrap()["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    // base64url, missing padding, and a stray character are all refused.
    for bad in [
        sig_b64.replace('+', "-").replace('/', "_"),
        sig_b64.trim_end_matches('=').to_owned() + "A",
        format!("{sig_b64}!"),
    ] {
        if bad == sig_b64 {
            continue;
        }
        let t2 = t.replace(&sig_b64, &bad);
        assert!(
            matches!(err(&v, &t2), VerifyError::Base64 { field: "signature", .. }),
            "{bad}"
        );
    }
    let t2 = token_json("MIIB*not base64*", "ES384", &sig_b64, "web-eid:1.0");
    assert!(matches!(
        err(&v, &t2),
        VerifyError::Base64 {
            field: "unverifiedCertificate",
            ..
        }
    ));
    let t2 = token_json(&b64(b"not a certificate at all"), "ES384", &sig_b64, "web-eid:1.0");
    assert!(matches!(err(&v, &t2), VerifyError::Certificate(_)));
}

#[test]
fn structure_format_and_fields() {
    let pki = pki_p384();
    let v = verifier(pki);
    let t = token(pki, TokenAlgorithm::Es384);
    for (format, ok) in [
        ("web-eid:1.0", true),
        ("web-eid:1.1", true),
        ("web-eid:2.0", false),
        ("webeid:1.0", false),
        ("", false),
    ] {
        let t2 = t.replace("\"web-eid:1.0\"", &format!("\"{format}\""));
        match v.verify_at(&t2, NONCE, at()) {
            Ok(_) => assert!(ok, "{format}"),
            Err(e) => {
                assert!(!ok, "{format}: {e}");
                assert_eq!(e, VerifyError::Format(format.into()));
            }
        }
    }
    let mut obj: serde_json::Value = serde_json::from_str(&t).unwrap();
    for field in ["format", "unverifiedCertificate", "algorithm", "signature"] {
        let mut o = obj.clone();
        o.as_object_mut().unwrap().remove(field);
        // Keep the token long enough for the length rule not to fire first.
        o["padding"] = serde_json::Value::String("x".repeat(200));
        assert_eq!(err(&v, &o.to_string()), VerifyError::MissingField(field), "{field}");
        let mut o = obj.clone();
        o[field] = serde_json::Value::Null;
        assert_eq!(err(&v, &o.to_string()), VerifyError::MissingField(field), "{field}");
        let mut o = obj.clone();
        o[field] = serde_json::json!(42);
        assert_eq!(err(&v, &o.to_string()), VerifyError::FieldType(field), "{field}");
    }
    // appVersion is optional.
    obj.as_object_mut().unwrap().remove("appVersion");
    assert_eq!(v.verify_at(&obj.to_string(), NONCE, at()).unwrap().app_version, None);
    let array = format!("[{}]", "1,".repeat(60) + "1");
    assert!(matches!(err(&v, &array), VerifyError::Json(_)));
    let not_json = "x".repeat(200);
    assert!(matches!(err(&v, &not_json), VerifyError::Json(_)));
}

#[test]
fn configuration_errors() {
    let pki = pki_p384();
    let build = |origin: &str| TokenVerifier::builder(origin).trusted_cas(&pki.ca_der).build();
    assert!(matches!(
        build("https://a.example/path"),
        Err(ConfigError::Origin { .. })
    ));
    assert!(matches!(build("http://a.example"), Err(ConfigError::Origin { .. })));
    assert!(build("http://localhost:8080").is_ok());
    assert_eq!(
        TokenVerifier::builder(ORIGIN).build().map(|_| ()),
        Err(ConfigError::NoTrustedCa)
    );
    assert!(matches!(
        TokenVerifier::builder(ORIGIN).trusted_cas(b"garbage").build(),
        Err(ConfigError::Certificate(_))
    ));
    assert!(matches!(
        TokenVerifier::builder(ORIGIN)
            .trusted_cas(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .build(),
        Err(ConfigError::Certificate(_))
    ));
    assert_eq!(
        TokenVerifier::builder(ORIGIN)
            .trusted_cas(&pki.ca_der)
            .disallow_policy("not.an.oid")
            .build()
            .map(|_| ()),
        Err(ConfigError::Policy("not.an.oid".into()))
    );
}
