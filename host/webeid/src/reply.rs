//! The success replies of the host (protocol.md §2.1): the authentication token, the signing
//! certificate with what its key can do, and the signature. The host writes them; the verifier and
//! the demo read them. Binary values travel as standard base64 with padding.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::algorithm::TokenAlgorithm;
use crate::signature::SignatureAlgorithm;

/// The `format` eidlink writes.
pub const TOKEN_FORMAT: &str = "web-eid:1.0";

/// The `format` prefix a reader accepts (protocol.md §4.1): every `web-eid:1.x`.
const TOKEN_FORMAT_FAMILY: &str = "web-eid:1";

/// Standard base64 with `=` padding, the only alphabet of the wire (protocol.md §2.1).
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 with `=` padding, strictly: no base64url, no missing padding.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text)
}

/// Why a token's JSON is not a token (protocol.md §4.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JSON object.
    #[error("the token is not a JSON object: {0}")]
    Json(String),
    /// `format` does not start with `web-eid:1`.
    #[error("unsupported token format {0:?} (expected web-eid:1.x)")]
    Format(String),
    /// A required field is absent or null.
    #[error("the token has no {0} field")]
    MissingField(&'static str),
    /// A field is present but is not a string.
    #[error("the token's {0} field is not a string")]
    FieldType(&'static str),
}

/// The reply of `authenticate`, a `web-eid:1.0` token. Fields are the wire strings: the verifier
/// decodes and checks them in its own order (certificate first, then the algorithm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthToken {
    /// The authentication certificate, base64 DER.
    pub unverified_certificate: String,
    /// The token algorithm's JOSE name ("ES384", ...).
    pub algorithm: String,
    /// The signature over [`crate::auth_digest`], base64 (ECDSA as raw `r || s`).
    pub signature: String,
    /// "web-eid:1.0".
    pub format: String,
    /// What made the token (informational).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
}

impl AuthToken {
    /// A `web-eid:1.0` token.
    pub fn new(certificate_der: &[u8], algorithm: TokenAlgorithm, signature: &[u8], app_version: String) -> Self {
        Self {
            unverified_certificate: base64_encode(certificate_der),
            algorithm: algorithm.name().to_owned(),
            signature: base64_encode(signature),
            format: TOKEN_FORMAT.to_owned(),
            app_version: Some(app_version),
        }
    }

    /// Reads a token as Web eID's validators do (protocol.md §4.1, without the length bounds):
    /// a JSON object whose `format` starts with `web-eid:1`, with string `unverifiedCertificate`,
    /// `algorithm` and `signature`; a null field counts as absent; `appVersion` is kept when it is a
    /// string; other fields (`action`, those of web-eid:1.1) are ignored.
    pub fn from_json(json: &str) -> Result<Self, TokenError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| TokenError::Json(e.to_string()))?;
        let obj = value
            .as_object()
            .ok_or_else(|| TokenError::Json("not an object".into()))?;
        let field = |name: &'static str| match obj.get(name) {
            None | Some(serde_json::Value::Null) => Err(TokenError::MissingField(name)),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(TokenError::FieldType(name)),
        };
        let format = field("format")?;
        if !format.starts_with(TOKEN_FORMAT_FAMILY) {
            return Err(TokenError::Format(format));
        }
        Ok(Self {
            unverified_certificate: field("unverifiedCertificate")?,
            algorithm: field("algorithm")?,
            signature: field("signature")?,
            format,
            app_version: field("appVersion").ok(),
        })
    }
}

/// The reply of `get-signing-certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningCertificate {
    /// The signing certificate, base64 DER.
    pub certificate: String,
    /// What the signing key can do.
    pub supported_signature_algorithms: Vec<SignatureAlgorithm>,
}

impl SigningCertificate {
    /// The reply for a certificate and the schemes of its key.
    pub fn new(certificate_der: &[u8], schemes: &[eidlink_core::SignatureAlgorithm]) -> Self {
        Self {
            certificate: base64_encode(certificate_der),
            supported_signature_algorithms: schemes.iter().map(SignatureAlgorithm::from).collect(),
        }
    }
}

/// The reply of `sign`: `{signature, signatureAlgorithm}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignResult {
    /// The signature, base64 (ECDSA as raw `r || s`).
    pub signature: String,
    /// How it was made.
    pub signature_algorithm: SignatureAlgorithm,
}

impl SignResult {
    /// The reply for a signature the card made.
    pub fn new(signature: &[u8], scheme: eidlink_core::SignatureAlgorithm) -> Self {
        Self {
            signature: base64_encode(signature),
            signature_algorithm: scheme.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_core::HashAlgorithm;
    use serde_json::json;

    fn obj(v: &impl Serialize) -> Vec<String> {
        match serde_json::to_value(v).unwrap() {
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn token_json() {
        let t = AuthToken::new(
            &[1, 2, 3],
            TokenAlgorithm::Es384,
            &[0xFB; 4],
            "eidlink/0.1.0 (Web eID 2.0.0)".into(),
        );
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({
                "unverifiedCertificate": "AQID",
                "algorithm": "ES384",
                "signature": "+/v7+w==",
                "format": "web-eid:1.0",
                "appVersion": "eidlink/0.1.0 (Web eID 2.0.0)",
            })
        );
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"unverifiedCertificate":"AQID","algorithm":"ES384","signature":"+/v7+w==","format":"web-eid:1.0","appVersion":"eidlink/0.1.0 (Web eID 2.0.0)"}"#
        );
        assert_eq!(AuthToken::from_json(&serde_json::to_string(&t).unwrap()), Ok(t.clone()));
        let without = AuthToken { app_version: None, ..t };
        assert!(!obj(&without).contains(&"appVersion".to_owned()));
    }

    #[test]
    fn token_reading_rules() {
        let full = json!({"unverifiedCertificate":"AQID","algorithm":"ES256","signature":"AA==","format":"web-eid:1.1","action":"web-eid:authenticate-success","appVersion":7});
        let t = AuthToken::from_json(&full.to_string()).unwrap();
        assert_eq!((t.format.as_str(), t.app_version), ("web-eid:1.1", None));
        let with = |k: &str, v: serde_json::Value| {
            let mut o = full.clone();
            o[k] = v;
            AuthToken::from_json(&o.to_string())
        };
        assert_eq!(
            with("format", json!("webeid:1.0")),
            Err(TokenError::Format("webeid:1.0".into()))
        );
        assert_eq!(
            with("format", json!("web-eid:2")),
            Err(TokenError::Format("web-eid:2".into()))
        );
        assert_eq!(
            with("algorithm", serde_json::Value::Null),
            Err(TokenError::MissingField("algorithm"))
        );
        assert_eq!(with("signature", json!(1)), Err(TokenError::FieldType("signature")));
        assert_eq!(
            AuthToken::from_json(r#"{"algorithm":"ES256"}"#),
            Err(TokenError::MissingField("format"))
        );
        assert!(matches!(AuthToken::from_json("[1]"), Err(TokenError::Json(_))));
        assert!(matches!(AuthToken::from_json("nope"), Err(TokenError::Json(_))));
    }

    #[test]
    fn signing_certificate_json() {
        let schemes = eidlink_core::SignatureAlgorithm::ecdsa(&[HashAlgorithm::Sha256, HashAlgorithm::Sha3_512]);
        let r = SigningCertificate::new(&[0xAB], &schemes);
        let wire = json!({
            "certificate": "qw==",
            "supportedSignatureAlgorithms": [
                {"cryptoAlgorithm": "ECC", "hashFunction": "SHA-256", "paddingScheme": "NONE"},
                {"cryptoAlgorithm": "ECC", "hashFunction": "SHA3-512", "paddingScheme": "NONE"},
            ],
        });
        assert_eq!(serde_json::to_value(&r).unwrap(), wire);
        assert_eq!(serde_json::from_value::<SigningCertificate>(wire).unwrap(), r);
    }

    #[test]
    fn sign_result_json() {
        let scheme = eidlink_core::SignatureAlgorithm::rsa_pkcs1(&[HashAlgorithm::Sha256])[0];
        let r = SignResult::new(&[0, 1, 2], scheme);
        let wire = json!({
            "signature": "AAEC",
            "signatureAlgorithm": {"cryptoAlgorithm": "RSA", "hashFunction": "SHA-256", "paddingScheme": "PKCS1.5"},
        });
        assert_eq!(serde_json::to_value(&r).unwrap(), wire);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"signature":"AAEC","signatureAlgorithm":{"cryptoAlgorithm":"RSA","hashFunction":"SHA-256","paddingScheme":"PKCS1.5"}}"#
        );
        assert_eq!(serde_json::from_value::<SignResult>(wire).unwrap(), r);
        assert_eq!(r.signature_algorithm.scheme(), Ok(scheme));
    }

    #[test]
    fn base64_is_standard_and_padded() {
        assert_eq!(base64_encode(&[0xFB, 0xFF]), "+/8=");
        assert_eq!(base64_decode("+/8="), Ok(vec![0xFB, 0xFF]));
        assert!(base64_decode("-_8=").is_err());
        assert!(base64_decode("+/8").is_err());
    }
}
