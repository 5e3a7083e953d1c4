//! Errors: what stops the service from starting ([`DemoError`]), and what an API call answers when it
//! is refused ([`ApiError`]).

use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use eidlink_verifier::{NonceError, VerifyError};

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A trusted or intermediate CA file, or the site origin, is not usable.
    #[error("verifier configuration: {0}")]
    Verifier(#[from] eidlink_verifier::ConfigError),
    /// The TLS certificate or key is not usable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The self-signed certificate could not be generated.
    #[error("generating the self-signed certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
    /// The listening socket could not be opened.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// Accepting connections failed for good.
    #[error("accepting connections: {0}")]
    Accept(std::io::Error),
}

impl From<rustls::Error> for DemoError {
    fn from(e: rustls::Error) -> Self {
        DemoError::Tls(e.to_string())
    }
}

/// Stable codes of refused API calls, read by the page script (and by tests) from
/// `{"error": {"code", "reason", "message"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    /// The request body is not what the endpoint takes.
    BadRequest,
    /// A cross-site request (its `Origin` is not the site's).
    BadOrigin,
    /// No session, or the session has no logged-in person.
    NotLoggedIn,
    /// No challenge was issued in this session, it was already used, or it expired.
    NonceRejected,
    /// The authentication token failed verification.
    TokenRejected,
    /// The signing certificate failed verification (purpose, validity, chain).
    CertificateRejected,
    /// The signing certificate names another person than the one logged in.
    CertificateNotHolder,
    /// None of the offered signature algorithms is one the service uses.
    UnsupportedAlgorithm,
    /// `finish` without a pending `prepare` (or after it expired or was used).
    NoPendingSignature,
    /// The signature failed verification.
    SignatureRejected,
    /// No such signed document for this person.
    NotFound,
    /// The request body did not arrive in time after its headers (a slow or stalled client).
    RequestTimeout,
    /// The request body is larger than any the service takes.
    BodyTooLarge,
    /// Too many challenges from this address without a login; `Retry-After` says when to try again.
    TooManyRequests,
    /// The server failed (no randomness, ...).
    Internal,
}

impl ApiCode {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiCode::BadRequest => "BAD_REQUEST",
            ApiCode::BadOrigin => "BAD_ORIGIN",
            ApiCode::NotLoggedIn => "NOT_LOGGED_IN",
            ApiCode::NonceRejected => "NONCE_REJECTED",
            ApiCode::TokenRejected => "TOKEN_REJECTED",
            ApiCode::CertificateRejected => "CERTIFICATE_REJECTED",
            ApiCode::CertificateNotHolder => "CERTIFICATE_NOT_HOLDER",
            ApiCode::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            ApiCode::NoPendingSignature => "NO_PENDING_SIGNATURE",
            ApiCode::SignatureRejected => "SIGNATURE_REJECTED",
            ApiCode::NotFound => "NOT_FOUND",
            ApiCode::RequestTimeout => "REQUEST_TIMEOUT",
            ApiCode::BodyTooLarge => "BODY_TOO_LARGE",
            ApiCode::TooManyRequests => "TOO_MANY_REQUESTS",
            ApiCode::Internal => "INTERNAL",
        }
    }

    /// The HTTP status.
    pub const fn status(self) -> StatusCode {
        match self {
            ApiCode::BadRequest => StatusCode::BAD_REQUEST,
            ApiCode::BadOrigin | ApiCode::CertificateRejected | ApiCode::CertificateNotHolder => StatusCode::FORBIDDEN,
            ApiCode::NotLoggedIn | ApiCode::NonceRejected | ApiCode::TokenRejected => StatusCode::UNAUTHORIZED,
            ApiCode::NoPendingSignature => StatusCode::CONFLICT,
            ApiCode::UnsupportedAlgorithm | ApiCode::SignatureRejected => StatusCode::UNPROCESSABLE_ENTITY,
            ApiCode::NotFound => StatusCode::NOT_FOUND,
            ApiCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ApiCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A refused API call: the code, a finer machine-readable reason (e.g. the verifier's rule), and a
/// developer-facing message (English; the page shows its own localized text for the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// What kind of refusal.
    pub code: ApiCode,
    /// Finer reason, e.g. `UNTRUSTED_ISSUER`.
    pub reason: Option<&'static str>,
    /// For developers and logs.
    pub message: String,
}

impl ApiError {
    /// A refusal with a message.
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: None,
            message: message.into(),
        }
    }

    /// A refusal because the verifier refused something.
    pub fn verify(code: ApiCode, e: &VerifyError) -> Self {
        ApiError {
            code,
            reason: Some(verify_reason(e)),
            message: e.to_string(),
        }
    }

    /// A refused challenge nonce.
    pub fn nonce(e: NonceError) -> Self {
        let reason = match e {
            NonceError::Expired => "NONCE_EXPIRED",
            _ => "NONCE_UNKNOWN",
        };
        ApiError {
            code: ApiCode::NonceRejected,
            reason: Some(reason),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "code": self.code.as_str(),
                "reason": self.reason,
                "message": self.message,
            }
        });
        (self.code.status(), axum::Json(body)).into_response()
    }
}

/// A stable name for each verifier rule, so the page and tests can tell them apart.
pub fn verify_reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::TokenTooShort(_) | VerifyError::TokenTooLong(_) => "TOKEN_LENGTH",
        VerifyError::Json(_) | VerifyError::MissingField(_) | VerifyError::FieldType(_) => "TOKEN_MALFORMED",
        VerifyError::Format(_) => "TOKEN_FORMAT",
        VerifyError::Base64 { .. } => "BASE64",
        VerifyError::InvalidNonce(_) => "INVALID_NONCE",
        VerifyError::Certificate(_) => "CERTIFICATE_MALFORMED",
        VerifyError::UnsupportedKey(_) => "UNSUPPORTED_KEY",
        VerifyError::KeyUsage | VerifyError::ExtendedKeyUsage => "CERTIFICATE_PURPOSE",
        VerifyError::DisallowedPolicy(_) => "DISALLOWED_POLICY",
        VerifyError::UnsupportedCriticalExtension(_) => "UNSUPPORTED_CRITICAL_EXTENSION",
        VerifyError::NotYetValid => "CERTIFICATE_NOT_YET_VALID",
        VerifyError::Expired => "CERTIFICATE_EXPIRED",
        VerifyError::UntrustedIssuer => "UNTRUSTED_ISSUER",
        VerifyError::ChainSignature(_) => "CHAIN_SIGNATURE",
        VerifyError::IssuerNotValid(_) | VerifyError::IssuerNotCa(_) | VerifyError::PathLength(_) => "CHAIN_INVALID",
        VerifyError::UnsupportedSignatureAlgorithm(_) => "UNSUPPORTED_CERTIFICATE_ALGORITHM",
        VerifyError::UnknownAlgorithm(_) | VerifyError::UnknownSignatureAlgorithm(_) => "UNKNOWN_ALGORITHM",
        VerifyError::AlgorithmKeyMismatch { .. } => "ALGORITHM_KEY_MISMATCH",
        VerifyError::BadSignature => "BAD_SIGNATURE",
        VerifyError::UnknownHashFunction(_) => "UNKNOWN_HASH_FUNCTION",
        VerifyError::HashFunctionMismatch { .. } => "HASH_FUNCTION_MISMATCH",
        VerifyError::HashLength { .. } => "HASH_LENGTH",
        _ => "VERIFICATION_FAILED",
    }
}
