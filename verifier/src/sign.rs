//! Checking the result of a Web eID `sign` (protocol.md §2.1, §2.3, §4 last paragraph): the card
//! signed the document hash the site sent, with the signing certificate's key.

use eidlink_core::{Digest, HashAlgorithm};
use eidlink_webeid::{SignResult, SignatureAlgorithm, SignatureAlgorithmError};

use crate::cert;
use crate::error::VerifyError;

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
    let unknown = || {
        VerifyError::UnknownSignatureAlgorithm(format!(
            "{}/{}",
            signature_algorithm.crypto_algorithm, signature_algorithm.padding_scheme
        ))
    };
    let scheme = signature_algorithm.scheme().map_err(|e| match e {
        // Not reached (the hash function was checked above), but named as what it is.
        SignatureAlgorithmError::UnknownHashFunction(name) => VerifyError::UnknownHashFunction(name),
        _ => unknown(),
    })?;
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
    eidlink_webeid::base64_decode(s).map_err(|e| VerifyError::Base64 {
        field,
        reason: e.to_string(),
    })
}
