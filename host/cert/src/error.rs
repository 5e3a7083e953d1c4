//! Why a certificate could not be read or a signature check failed: one variant per check, so callers
//! can tell a wrong signature from a scheme that cannot apply to the key.

/// A failed certificate read or signature check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The DER does not parse as an X.509 certificate or SubjectPublicKeyInfo.
    #[error("the certificate does not parse: {0}")]
    Parse(String),
    /// The key algorithm is neither EC nor RSA (its OID).
    #[error("unsupported public key algorithm {0}")]
    UnsupportedKey(String),
    /// An EC key on a curve other than P-256, P-384 and P-521 (the curve OID, or why there is none).
    #[error("unsupported elliptic curve {0}")]
    UnsupportedCurve(String),
    /// The key's bytes do not decode as a key of its algorithm.
    #[error("invalid {algorithm} public key: {reason}")]
    InvalidKey {
        /// "EC P-256", "RSA", ...
        algorithm: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The scheme cannot be made with this key (ECDSA with an RSA key, RSA with an EC key, RSA
    /// without padding).
    #[error("a {scheme} signature cannot be made with the certificate's {key} key")]
    SchemeMismatch {
        /// The scheme, e.g. "RSA-PSS with SHA-256".
        scheme: String,
        /// The key, e.g. "EC P-384".
        key: String,
    },
    /// The digest was made with another hash function than the scheme names.
    #[error("the scheme signs a {scheme} digest, the digest is {digest}")]
    HashMismatch {
        /// The scheme's hash function.
        scheme: &'static str,
        /// The digest's hash function.
        digest: &'static str,
    },
    /// A hash function this crate has no PSS implementation for.
    #[error("RSA-PSS with {0} is not supported")]
    UnsupportedHash(&'static str),
    /// The signature does not have the length the key gives (2 × the curve size for raw ECDSA, the
    /// modulus size for RSA).
    #[error("the signature has {actual} bytes, the key makes {expected}")]
    SignatureLength {
        /// What the key makes.
        expected: usize,
        /// What was given.
        actual: usize,
    },
    /// The signature does not verify.
    #[error("the signature does NOT verify with the certificate's public key")]
    BadSignature,
}
