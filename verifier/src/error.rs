//! Why a token, a signature, a configuration or a nonce was refused. One variant per rule, so a service
//! can log precisely and tests can tell the rules apart; the `Display` text is for logs, not for users.

/// A refused authentication token or `sign` result. The rules are numbered as in protocol.md §4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// §4.1: the token JSON is shorter than 100 bytes.
    #[error("the token is too short ({0} bytes, at least 100)")]
    TokenTooShort(usize),
    /// §4.1: the token JSON is longer than 10000 bytes.
    #[error("the token is too long ({0} bytes, at most 10000)")]
    TokenTooLong(usize),
    /// §4.1: the token is not a JSON object.
    #[error("the token is not a JSON object: {0}")]
    Json(String),
    /// §4.1: `format` does not start with `web-eid:1`.
    #[error("unsupported token format {0:?} (expected web-eid:1.x)")]
    Format(String),
    /// §4.1: a required field is absent or null.
    #[error("the token has no {0} field")]
    MissingField(&'static str),
    /// §4.1: a field is present but is not a string.
    #[error("the token's {0} field is not a string")]
    FieldType(&'static str),
    /// A field is not standard base64 with padding (protocol.md §2.1).
    #[error("the {field} field is not standard base64: {reason}")]
    Base64 {
        /// The field.
        field: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The nonce handed to the verifier is not 44..128 characters (protocol.md §2.1): a server bug,
    /// not the client's.
    #[error("the challenge nonce must be 44 to 128 characters, got {0}")]
    InvalidNonce(usize),
    /// §4.2: the certificate does not parse as X.509.
    #[error("the certificate does not parse: {0}")]
    Certificate(String),
    /// The certificate's public key is not EC P-256/P-384/P-521 or RSA.
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    /// §4.3 (or the `sign` check): keyUsage is missing or lacks the needed bit (digitalSignature for
    /// authentication; nonRepudiation or digitalSignature for signing).
    #[error("the certificate's key usage does not allow this signature")]
    KeyUsage,
    /// §4.3: extendedKeyUsage is present without clientAuth (1.3.6.1.5.5.7.3.2).
    #[error("the certificate's extended key usage does not include clientAuth")]
    ExtendedKeyUsage,
    /// §4.4: the certificate carries a policy the site disallows.
    #[error("the certificate has the disallowed policy {0}")]
    DisallowedPolicy(String),
    /// A certificate of the path has a critical extension this verifier does not process (RFC 5280
    /// §4.2: it must then be rejected).
    #[error("unsupported critical extension {0}")]
    UnsupportedCriticalExtension(String),
    /// §4.5: the certificate's notBefore is in the future.
    #[error("the certificate is not yet valid")]
    NotYetValid,
    /// §4.5: the certificate's notAfter is in the past.
    #[error("the certificate has expired")]
    Expired,
    /// §4.5: no configured trusted CA (directly or through a supplied intermediate) issued the
    /// certificate.
    #[error("the certificate was not issued by a trusted CA")]
    UntrustedIssuer,
    /// §4.5: a certificate's signature does not verify with the key of the CA it names (same key
    /// identifier): the certificate was altered.
    #[error("the signature on the certificate of {0} does not verify with its issuer's key")]
    ChainSignature(String),
    /// §4.5: an issuer of the path (trusted or intermediate) is not valid now.
    #[error("the CA certificate {0} is not valid now")]
    IssuerNotValid(String),
    /// §4.5: an issuer of the path is not a CA (basicConstraints cA, keyCertSign).
    #[error("the certificate {0} is not a CA certificate")]
    IssuerNotCa(String),
    /// §4.5: a CA's pathLenConstraint is exceeded.
    #[error("the path is too long for the CA {0}")]
    PathLength(String),
    /// A certificate signature algorithm this verifier does not implement.
    #[error("unsupported certificate signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// §4.7: `algorithm` is not one of ES256/384/512, PS256/384/512, RS256/384/512.
    #[error("unknown token algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// §4.7 / `sign`: the algorithm does not fit the certificate's key (e.g. ES384 with a P-256 key,
    /// RS256 with an EC key).
    #[error("algorithm {algorithm} does not fit the certificate's {key} key")]
    AlgorithmKeyMismatch {
        /// The algorithm claimed.
        algorithm: String,
        /// The key in the certificate.
        key: String,
    },
    /// §4.7 / `sign`: the signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `sign`: `hashFunction` is not one of protocol.md §2.1.
    #[error("unknown hash function {0:?}")]
    UnknownHashFunction(String),
    /// `sign`: the hash function asked for differs from the one in `signatureAlgorithm`.
    #[error("hash function {requested} differs from the signature's {signed}")]
    HashFunctionMismatch {
        /// What the site asked to sign with.
        requested: String,
        /// What the result says it signed with.
        signed: String,
    },
    /// `sign`: the hash's length is not the hash function's output length.
    #[error("a {function} hash has {expected} bytes, got {actual}")]
    HashLength {
        /// The hash function.
        function: &'static str,
        /// Its output length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// `sign`: `cryptoAlgorithm`/`paddingScheme` is not ECC/NONE, RSA/PKCS1.5 or RSA/PSS.
    #[error("unknown signature algorithm {0}")]
    UnknownSignatureAlgorithm(String),
}

impl From<eidlink_webeid::TokenError> for VerifyError {
    fn from(e: eidlink_webeid::TokenError) -> Self {
        use eidlink_webeid::TokenError;
        match e {
            TokenError::Json(s) => Self::Json(s),
            TokenError::Format(s) => Self::Format(s),
            TokenError::MissingField(f) => Self::MissingField(f),
            TokenError::FieldType(f) => Self::FieldType(f),
            // The wire crate may learn new rules; until this crate names them, they are JSON errors.
            other => Self::Json(other.to_string()),
        }
    }
}

/// A [`crate::TokenVerifier`] configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The site origin is not `https://host[:port]` (or http on localhost).
    #[error("invalid site origin {origin:?}: {reason}")]
    Origin {
        /// The origin given.
        origin: String,
        /// What is wrong with it.
        reason: eidlink_webeid::OriginError,
    },
    /// A trusted or intermediate certificate does not load.
    #[error("invalid CA certificate: {0}")]
    Certificate(String),
    /// No trusted CA was configured: every token would be refused.
    #[error("no trusted CA certificate configured")]
    NoTrustedCa,
    /// A disallowed policy is not a dotted OID.
    #[error("invalid policy OID {0:?}")]
    Policy(String),
    /// A configured OCSP responder URL is not `http://host[:port][/path]`.
    #[error("invalid OCSP responder URL {0:?} (expected http://host[:port][/path])")]
    ResponderUrl(String),
}

/// Why a challenge nonce was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NonceError {
    /// Never issued here, already used, or purged long after expiry.
    #[error("unknown or already used challenge nonce")]
    Unknown,
    /// Issued here but more than the time-to-live ago.
    #[error("the challenge nonce has expired")]
    Expired,
}

impl VerifyError {
    /// The rule a failed check of the certificate crate breaks. `algorithm` names the scheme as the
    /// token or the `sign` reply gave it ("ES384", "RSA/PSS"), for [`Self::AlgorithmKeyMismatch`].
    pub(crate) fn from_check(e: eidlink_cert::CertError, algorithm: impl FnOnce() -> String) -> Self {
        use eidlink_cert::CertError;
        match e {
            CertError::SchemeMismatch { key, .. } => Self::AlgorithmKeyMismatch {
                algorithm: algorithm(),
                key,
            },
            // A raw signature of the wrong length is no valid signature (protocol.md §2.2).
            CertError::BadSignature | CertError::SignatureLength { .. } => Self::BadSignature,
            CertError::HashMismatch { scheme, digest } => Self::HashFunctionMismatch {
                requested: digest.to_owned(),
                signed: scheme.to_owned(),
            },
            CertError::UnsupportedHash(name) => Self::UnknownHashFunction(name.to_owned()),
            other => Self::UnsupportedKey(other.to_string()),
        }
    }
}
