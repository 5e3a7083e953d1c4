//! Compatibility with Web eID's own validator: real tokens from its test suite, which its Java
//! validator accepts, must pass here too.
//!
//! Public test data from web-eid/web-eid-authtoken-validation-java:
//! - the Belgian test-card tokens (ES384 with a P-384 key, RS256 with an RSA-2048 key, both under
//!   "eID TEST EC Citizen CA"), their origin and nonces, validated at 2024-12-24:
//!   src/test/java/eu/webeid/security/validator/AuthTokenCertificateBelgianIdCardTest.java and
//!   src/test/java/eu/webeid/security/testutil/AuthTokenValidators.java (getAuthTokenValidatorForBelgianIdCard);
//! - the CA certificate "eID TEST EC Citizen CA" (tests/data/), the same file as the Java suite's
//!   src/test/resources, taken from web-eid/web-eid-authtoken-validation-php tests/_resources/;
//! - the Estonian ES384 token of the test person JÕEORG, JAAK-KRISTJAN (issuer "TEST of ESTEID2018"),
//!   origin https://ria.ee and its nonce: src/test/java/eu/webeid/security/testutil/AbstractTestWithValidator.java.
//!   The "TEST of ESTEID2018" CA certificate is not available as text, so only its signature (step 7),
//!   policies and dates are checked.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::time;
use eidlink_verifier::{verify_auth_signature, TokenAlgorithm, TokenVerifier, VerifyError};

const BE_CA_PEM: &[u8] = include_bytes!("data/eID TEST EC Citizen CA.pem");
const BE_ORIGIN: &str = "https://47f0-46-131-86-189.ngrok-free.app";

const BE_TOKEN_ECC: &str = r#"{
  "action": "web-eid:authenticate-success",
  "algorithm": "ES384",
  "appVersion": "https://web-eid.eu/web-eid-app/releases/2.7.0+965",
  "format": "web-eid:1.0",
  "signature": "VWCxJ+NrWpNsLJwLbJ1IXuJkkrRsxhfZ1uVmaoY3gBMPrvULaLAp+A1VYGJ2QWobL9FvhMyEQpVlO99ytovux3pX75gHkf3Z0sBjtNqr/QS0ac+qI2hEccFnU0H7deO7",
  "unverifiedCertificate": "MIIDQDCCAsegAwIBAgIQEAAAAAAA8evx/gAAAAGKYTAKBggqhkjOPQQDAzAuMQswCQYDVQQGEwJCRTEfMB0GA1UEAwwWZUlEIFRFU1QgRUMgQ2l0aXplbiBDQTAeFw0yMDEwMjIyMjAwMDBaFw0zMDEwMjIyMjAwMDBaMHYxCzAJBgNVBAYTAkJFMScwJQYDVQQDDB5Ob3JhIFNwZWNpbWVuIChBdXRoZW50aWNhdGlvbikxETAPBgNVBAQMCFNwZWNpbWVuMRUwEwYDVQQqDAxOb3JhIEFuZ8OobGUxFDASBgNVBAUTCzAxMDUwMzk5ODY0MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEPybypdwlvczyuKQtJ87s/RmB+hRFaP4BdtR/Sc8jfQTmKUYVn0KDYZPBllh928yMPxU7F+Za3FtFrAPCnDH75IquYsn0oc5olVO7Uas5gn61Y2EA5askyCljNVLA0Gquo4IBYDCCAVwwHwYDVR0jBBgwFoAU3bN/45oZjlnJEVYCLfX6nW/ehEswDgYDVR0PAQH/BAQDAgeAMEkGA1UdIARCMEAwPgYHYDgMAQECAjAzMDEGCCsGAQUFBwIBFiVodHRwOi8vZWlkZGV2Y2FyZHMuemV0ZXNjYXJkcy5iZS9jZXJ0MBMGA1UdJQQMMAoGCCsGAQUFBwMCMEUGA1UdHwQ+MDwwOqA4oDaGNGh0dHA6Ly9laWRkZXZjYXJkcy56ZXRlc2NhcmRzLmJlL2NybC9jaXRpemVuY2FFQy5jcmwwgYEGCCsGAQUFBwEBBHUwczA+BggrBgEFBQcwAoYyaHR0cDovL2VpZGRldmNhcmRzLnpldGVzY2FyZHMuYmUvY2VydC9yb290Y2FFQy5jcnQwMQYIKwYBBQUHMAGGJWh0dHA6Ly9laWRkZXZjYXJkcy56ZXRlc2NhcmRzLmJlOjg4ODgwCgYIKoZIzj0EAwMDZwAwZAIwE7uLOjrhXbid+tRKe/5wgE/R3rFVsE6HkpHJg+9+mqlBToLrLWvckmiPRmUot85BAjBNyxy48pVF+azJEnt0Z/hipToVhgJLlMkPFwZiL2+4B3w2WtNeSphEl3gjClos+Wg="
}"#;
const BE_NONCE_ECC: &str = "iMeEwP2cgUINY2XoO/lqEpOUn7z/ysHRqGXkGKC4VXE=";

const BE_TOKEN_RSA: &str = r#"{
  "action": "web-eid:authenticate-success",
  "algorithm": "RS256",
  "appVersion": "https://web-eid.eu/web-eid-app/releases/2.7.0+965",
  "format": "web-eid:1.0",
  "signature": "KQsMoSj3lWz1H3NZ2LYtV27oIi2LdiBonYVjxZrRUt7qFBmepRRHY+vtM0qOZ0J8i9DwR25hmVi60S2yNAkYMIdYp3g2o8FamSpdz5MZBAGCpxF0yqK74sHN+87qjqj4qMv2rUIKMluhvjuwLSzZHaJzJyels/jdOHTQNgZ8S3ufEoCvLYcVU19TFryoo7ZWKfSB8qTWIv3UdOBTWG7fcU/fOwQmw9YAGrfKTJevTDIwcdLccqKXc1JzDWx6eargAx9Pa3Ehwa1SwB0aTXYVsfO+9awlFzjTXAnCudzKLoYBmNJedmv0MXlxNHSFQ9sNZDVgV4Sb5nQSlXE0st9uoQ==",
  "unverifiedCertificate": "MIID7zCCA3WgAwIBAgIQEAAAAAAA8evx/gAAAAHu2TAKBggqhkjOPQQDAzAuMQswCQYDVQQGEwJCRTEfMB0GA1UEAwwWZUlEIFRFU1QgRUMgQ2l0aXplbiBDQTAeFw0yMzA5MjYyMjAwMDBaFw0zMzA5MjYyMjAwMDBaMHYxCzAJBgNVBAYTAkJFMScwJQYDVQQDDB5Ob3JhIFNwZWNpbWVuIChBdXRoZW50aWNhdGlvbikxETAPBgNVBAQMCFNwZWNpbWVuMRUwEwYDVQQqDAxOb3JhIEFuZ8OobGUxFDASBgNVBAUTCzAxMDUwMzk5ODY0MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx/JkeHwt4rQhx/QrpPSCLUd98YxiZRvtKyo1glLiByNvDu7D6Jgg70tj2wlrwn3X0c8Rz/Yy3SgLIPzc92ptvaJG0H52cecRKABzDKwn9Qf/ZwsasDkKnprx0KUbiTaBU9Se1AEim5hyG4naahcfQJo+SwvIMhjIVPk1l1B+fbwRBlYG+LoJXdLSwoYRWArnf+4vx2PXR1nrmfLDw0NrtuNQy637O58DSL2XGd0+jKpQfYCBrqN0B26zA2RU0Uzb0ztEf4VXYH26dmv+bqwpXdPQYPQ7elNFXzFCRnmgJfxt4aKSkGZ2sQFWrKeIRxzVizLFDnfW8TSV5S4tuwYSMwIDAQABo4IBYDCCAVwwHwYDVR0jBBgwFoAU3bN/45oZjlnJEVYCLfX6nW/ehEswDgYDVR0PAQH/BAQDAgeAMEkGA1UdIARCMEAwPgYHYDgMAQECAjAzMDEGCCsGAQUFBwIBFiVodHRwOi8vZWlkZGV2Y2FyZHMuemV0ZXNjYXJkcy5iZS9jZXJ0MBMGA1UdJQQMMAoGCCsGAQUFBwMCMEUGA1UdHwQ+MDwwOqA4oDaGNGh0dHA6Ly9laWRkZXZjYXJkcy56ZXRlc2NhcmRzLmJlL2NybC9jaXRpemVuY2FFQy5jcmwwgYEGCCsGAQUFBwEBBHUwczA+BggrBgEFBQcwAoYyaHR0cDovL2VpZGRldmNhcmRzLnpldGVzY2FyZHMuYmUvY2VydC9yb290Y2FFQy5jcnQwMQYIKwYBBQUHMAGGJWh0dHA6Ly9laWRkZXZjYXJkcy56ZXRlc2NhcmRzLmJlOjg4ODgwCgYIKoZIzj0EAwMDaAAwZQIwL3Mp3pSlxfjUQ6zlsAwLHBbs1//7vPiqx//IcyUZYuVXZ00KG8MelmaMNbmzDVxaAjEAnqHxkwV5sSDwQCUbb6Tofaypm+DO6C2LriHS5r+s84x2Eq+s+lAJ1L4WkcgsKxns"
}"#;
const BE_NONCE_RSA: &str = "YPVgYc7Qds0qmK/RilPLffnsIg7IIovM4BAWqGZWwiY=";

const EE_TOKEN: &str = r#"{"algorithm":"ES384","unverifiedCertificate":"MIIEBDCCA2WgAwIBAgIQY5OGshxoPMFg+Wfc0gFEaTAKBggqhkjOPQQDBDBgMQswCQYDVQQGEwJFRTEbMBkGA1UECgwSU0sgSUQgU29sdXRpb25zIEFTMRcwFQYDVQRhDA5OVFJFRS0xMDc0NzAxMzEbMBkGA1UEAwwSVEVTVCBvZiBFU1RFSUQyMDE4MB4XDTIxMDcyMjEyNDMwOFoXDTI2MDcwOTIxNTk1OVowfzELMAkGA1UEBhMCRUUxKjAoBgNVBAMMIUrDlUVPUkcsSkFBSy1LUklTVEpBTiwzODAwMTA4NTcxODEQMA4GA1UEBAwHSsOVRU9SRzEWMBQGA1UEKgwNSkFBSy1LUklTVEpBTjEaMBgGA1UEBRMRUE5PRUUtMzgwMDEwODU3MTgwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAQmwEKsJTjaMHSaZj19hb9EJaJlwbKc5VFzmlGMFSJVk4dDy+eUxa5KOA7tWXqzcmhh5SYdv+MxcaQKlKWLMa36pfgv20FpEDb03GCtLqjLTRZ7649PugAQ5EmAqIic29CjggHDMIIBvzAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIDiDBHBgNVHSAEQDA+MDIGCysGAQQBg5EhAQIBMCMwIQYIKwYBBQUHAgEWFWh0dHBzOi8vd3d3LnNrLmVlL0NQUzAIBgYEAI96AQIwHwYDVR0RBBgwFoEUMzgwMDEwODU3MThAZWVzdGkuZWUwHQYDVR0OBBYEFPlp/ceABC52itoqppEmbf71TJz6MGEGCCsGAQUFBwEDBFUwUzBRBgYEAI5GAQUwRzBFFj9odHRwczovL3NrLmVlL2VuL3JlcG9zaXRvcnkvY29uZGl0aW9ucy1mb3ItdXNlLW9mLWNlcnRpZmljYXRlcy8TAkVOMCAGA1UdJQEB/wQWMBQGCCsGAQUFBwMCBggrBgEFBQcDBDAfBgNVHSMEGDAWgBTAhJkpxE6fOwI09pnhClYACCk+ezBzBggrBgEFBQcBAQRnMGUwLAYIKwYBBQUHMAGGIGh0dHA6Ly9haWEuZGVtby5zay5lZS9lc3RlaWQyMDE4MDUGCCsGAQUFBzAChilodHRwOi8vYy5zay5lZS9UZXN0X29mX0VTVEVJRDIwMTguZGVyLmNydDAKBggqhkjOPQQDBAOBjAAwgYgCQgDCAgybz0u3W+tGI+AX+PiI5CrE9ptEHO5eezR1Jo4j7iGaO0i39xTGUB+NSC7P6AQbyE/ywqJjA1a62jTLcS9GHAJCARxN4NO4eVdWU3zVohCXm8WN3DWA7XUcn9TZiLGQ29P4xfQZOXJi/z4PNRRsR4plvSNB3dfyBvZn31HhC7my8woi","appVersion":"https://web-eid.eu/web-eid-app/releases/2.5.0+0","signature":"0Ov7ME6pTY1K2GXMj8Wxov/o2fGIMEds8OMY5dKdkB0nrqQX7fG1E5mnsbvyHpMDecMUH6Yg+p1HXdgB/lLqOcFZjt/OVXPjAAApC5d1YgRYATDcxsR1zqQwiNcHdmWn","format":"web-eid:1.0"}"#;
const EE_ORIGIN: &str = "https://ria.ee";
const EE_NONCE: &str = "12345678123456781234567812345678912356789123";
/// The Estonian IDEMIA card policy the Java suite disallows in one test.
const EE_IDEMIA_POLICY: &str = "1.3.6.1.4.1.51361.1.2.1";

fn belgian_verifier() -> TokenVerifier {
    TokenVerifier::builder(BE_ORIGIN)
        .trusted_cas(BE_CA_PEM)
        .build()
        .unwrap()
}

fn field(token: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(token).unwrap()[name]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn belgian_test_card_es384_token_passes() {
    let t = belgian_verifier()
        .verify_at(BE_TOKEN_ECC, BE_NONCE_ECC, time("2024-12-24"))
        .unwrap();
    assert_eq!(t.algorithm, TokenAlgorithm::Es384);
    assert_eq!(t.subject.common_name.as_deref(), Some("Nora Specimen (Authentication)"));
    assert_eq!(t.subject.given_name.as_deref(), Some("Nora Angèle"));
    assert_eq!(t.subject.surname.as_deref(), Some("Specimen"));
    assert_eq!(t.subject.national_number.as_deref(), Some("01050399864"));
    assert_eq!(t.subject.country.as_deref(), Some("BE"));
}

#[test]
fn belgian_test_card_rs256_token_passes() {
    let t = belgian_verifier()
        .verify_at(BE_TOKEN_RSA, BE_NONCE_RSA, time("2024-12-24"))
        .unwrap();
    assert_eq!(t.algorithm, TokenAlgorithm::Rs256);
    assert_eq!(t.subject.serial_number.as_deref(), Some("01050399864"));
}

#[test]
fn belgian_tokens_fail_where_they_should() {
    let v = belgian_verifier();
    let at = time("2024-12-24");
    // Each token's nonce belongs to it only.
    assert_eq!(
        v.verify_at(BE_TOKEN_ECC, BE_NONCE_RSA, at),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        v.verify_at(BE_TOKEN_RSA, BE_NONCE_ECC, at),
        Err(VerifyError::BadSignature)
    );
    // Another site.
    let elsewhere = TokenVerifier::builder("https://ria.ee")
        .trusted_cas(BE_CA_PEM)
        .build()
        .unwrap();
    assert_eq!(
        elsewhere.verify_at(BE_TOKEN_ECC, BE_NONCE_ECC, at),
        Err(VerifyError::BadSignature)
    );
    // The ES384 certificate expires 2030-10-22; the RSA one starts 2023-09-26.
    assert_eq!(
        v.verify_at(BE_TOKEN_ECC, BE_NONCE_ECC, time("2030-10-23")),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        v.verify_at(BE_TOKEN_RSA, BE_NONCE_RSA, time("2023-09-01")),
        Err(VerifyError::NotYetValid)
    );
    // The Belgian policy 2.16.56.12.1.1.2.2 is in the certificates.
    let strict = TokenVerifier::builder(BE_ORIGIN)
        .trusted_cas(BE_CA_PEM)
        .disallow_policy("2.16.56.12.1.1.2.2")
        .build()
        .unwrap();
    assert_eq!(
        strict.verify_at(BE_TOKEN_ECC, BE_NONCE_ECC, at),
        Err(VerifyError::DisallowedPolicy("2.16.56.12.1.1.2.2".into()))
    );
    // Our test PKI's CA is not theirs.
    let ours = TokenVerifier::builder(BE_ORIGIN)
        .trusted_cas(&common::pki_p384().ca_der)
        .build()
        .unwrap();
    assert_eq!(
        ours.verify_at(BE_TOKEN_ECC, BE_NONCE_ECC, at),
        Err(VerifyError::UntrustedIssuer)
    );
}

#[test]
fn estonian_test_token_signature_verifies() {
    let cert = common_b64(&field(EE_TOKEN, "unverifiedCertificate"));
    let sig = common_b64(&field(EE_TOKEN, "signature"));
    verify_auth_signature(&cert, TokenAlgorithm::Es384, EE_ORIGIN, EE_NONCE, &sig).unwrap();
    assert_eq!(
        verify_auth_signature(&cert, TokenAlgorithm::Es384, "https://ria.ee:8443", EE_NONCE, &sig),
        Err(VerifyError::BadSignature)
    );
    // Through the verifier: the certificate parses and passes the purpose check; the policy rule and
    // the missing CA are reported in protocol order.
    let at = time("2024-01-01");
    let strict = TokenVerifier::builder(EE_ORIGIN)
        .trusted_cas(BE_CA_PEM)
        .disallow_policy(EE_IDEMIA_POLICY)
        .build()
        .unwrap();
    assert_eq!(
        strict.verify_at(EE_TOKEN, EE_NONCE, at),
        Err(VerifyError::DisallowedPolicy(EE_IDEMIA_POLICY.into()))
    );
    let v = TokenVerifier::builder(EE_ORIGIN)
        .trusted_cas(BE_CA_PEM)
        .build()
        .unwrap();
    assert_eq!(v.verify_at(EE_TOKEN, EE_NONCE, at), Err(VerifyError::UntrustedIssuer));
    assert_eq!(
        v.verify_at(EE_TOKEN, EE_NONCE, time("2026-07-10")),
        Err(VerifyError::Expired)
    );
}

fn common_b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
