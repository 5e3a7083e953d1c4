#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod cert;
mod clock;
mod error;
mod nonce;
mod ocsp;
mod origin;
mod sign;
mod token;

pub use cert::{check_non_repudiation, load_certificates, Subject, OID_CLIENT_AUTH};
pub use clock::{parse_utc, Clock, FixedClock, SystemClock};
pub use eidlink_webeid::{SignResult, SignatureAlgorithm, TokenAlgorithm};
pub use error::{ConfigError, NonceError, VerifyError};
pub use nonce::{NonceStore, DEFAULT_CAPACITY, NONCE_TTL};
pub use ocsp::{
    OcspChecker, OcspCheckerBuilder, OcspError, OcspStatus, RevocationReason, UnreachablePolicy, DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_THIS_UPDATE_AGE, DEFAULT_TIMEOUT,
};
pub use origin::normalize_origin;
pub use sign::{verify_sign_result, verify_signature};
pub use token::{
    auth_signed_data, verify_auth_signature, TokenVerifier, TokenVerifierBuilder, VerifiedToken, TOKEN_MAX_LEN,
    TOKEN_MIN_LEN,
};
