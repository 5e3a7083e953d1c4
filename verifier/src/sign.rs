//! Checking the result of a Web eID `sign` (protocol.md §2.1, §2.3, §4 last paragraph): the card
//! signed the document hash the site sent, with the signing certificate's key.

use base64::Engine as _;
use eidlink_core::{CryptoAlgorithm, Digest, HashAlgorithm, Padding};
use serde::{Deserialize, Serialize};

use crate::cert;
use crate::error::VerifyError;

/// The Web eID `signatureAlgorithm` object (protocol.md §2.3), as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureAlgorithm {
    /// "ECC" or "RSA".
    pub crypto_algorithm: String,
    /// "SHA-256", "SHA3-384", ...
    pub hash_function: String,
    /// "NONE" (ECC), "PKCS1.5" or "PSS" (RSA).
    pub padding_scheme: String,
}

impl SignatureAlgorithm {
    /// The scheme in the core's terms, as the certificate crate checks it: the one place the
    /// verifier reads the wire names. `UnknownSignatureAlgorithm` for a pair other than ECC/NONE,
    /// RSA/PKCS1.5 and RSA/PSS; `UnknownHashFunction` for a hash outside protocol.md §2.1.
    pub(crate) fn scheme(&self) -> Result<eidlink_core::SignatureAlgorithm, VerifyError> {
        let hash = HashAlgorithm::from_name(&self.hash_function)
            .ok_or_else(|| VerifyError::UnknownHashFunction(self.hash_function.clone()))?;
        let (crypto, padding) = match (self.crypto_algorithm.as_str(), self.padding_scheme.as_str()) {
            ("ECC", "NONE") => (CryptoAlgorithm::Ecc, Padding::None),
            ("RSA", "PKCS1.5") => (CryptoAlgorithm::Rsa, Padding::Pkcs1v15),
            ("RSA", "PSS") => (CryptoAlgorithm::Rsa, Padding::Pss),
            (crypto, padding) => {
                return Err(VerifyError::UnknownSignatureAlgorithm(format!("{crypto}/{padding}")));
            }
        };
        Ok(eidlink_core::SignatureAlgorithm { crypto, hash, padding })
    }
}

/// The success reply of `sign`: `{signature, signatureAlgorithm}` (protocol.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignResult {
    /// Base64 signature.
    pub signature: String,
    /// How it was made.
    pub signature_algorithm: SignatureAlgorithm,
}

/// Verifies a `sign` result: `signature` over the document `hash` (computed by the site with
/// `hash_function`) with the key of `certificate_der`.
///
/// Checks, in order: the certificate parses and its keyUsage has nonRepudiation or digitalSignature;
/// `hash_function` is one of protocol.md §2.1 and is the one `signature_algorithm` names; `hash` has
/// that function's length; then the signature: ECC/NONE → ECDSA raw `r || s` over the hash; RSA/PKCS1.5
/// → PKCS#1 v1.5 over the hash's DigestInfo (SHA-3 included); RSA/PSS → PSS with MGF1 of the same hash
/// and a salt of the hash's length.
///
/// The certificate's chain and validity are not checked here: the site chose it from
/// `get-signing-certificate` and validates it as its signature format requires.
pub fn verify_signature(
    certificate_der: &[u8],
    hash_function: &str,
    hash: &[u8],
    signature: &[u8],
    signature_algorithm: &SignatureAlgorithm,
) -> Result<(), VerifyError> {
    let c = cert::parse(certificate_der)?;
    cert::check_signing_purpose(&c)?;
    let h = HashAlgorithm::from_name(hash_function)
        .ok_or_else(|| VerifyError::UnknownHashFunction(hash_function.to_owned()))?;
    if signature_algorithm.hash_function != hash_function {
        return Err(VerifyError::HashFunctionMismatch {
            requested: hash_function.to_owned(),
            signed: signature_algorithm.hash_function.clone(),
        });
    }
    if hash.len() != h.output_len() {
        return Err(VerifyError::HashLength {
            function: h.name(),
            expected: h.output_len(),
            actual: hash.len(),
        });
    }
    let key = cert::public_key(&c)?;
    let scheme = signature_algorithm.scheme()?;
    let digest = Digest::new(h, hash.to_vec()).map_err(|_| VerifyError::HashLength {
        function: h.name(),
        expected: h.output_len(),
        actual: hash.len(),
    })?;
    key.verify(&scheme, &digest, signature).map_err(|e| {
        VerifyError::from_check(e, || {
            format!(
                "{}/{}",
                signature_algorithm.crypto_algorithm, signature_algorithm.padding_scheme
            )
        })
    })
}

/// [`verify_signature`] with the wire forms: the base64 certificate and hash the site sent to `sign`,
/// and the JSON success reply it got back.
pub fn verify_sign_result(
    certificate_b64: &str,
    hash_function: &str,
    hash_b64: &str,
    result_json: &str,
) -> Result<(), VerifyError> {
    let result: SignResult = serde_json::from_str(result_json).map_err(|e| VerifyError::Json(e.to_string()))?;
    let certificate = decode_b64(certificate_b64, "certificate")?;
    let hash = decode_b64(hash_b64, "hash")?;
    let signature = decode_b64(&result.signature, "signature")?;
    verify_signature(
        &certificate,
        hash_function,
        &hash,
        &signature,
        &result.signature_algorithm,
    )
}

/// Standard base64 with padding, strictly (protocol.md §2.1).
pub(crate) fn decode_b64(s: &str, field: &'static str) -> Result<Vec<u8>, VerifyError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| VerifyError::Base64 {
            field,
            reason: e.to_string(),
        })
}
