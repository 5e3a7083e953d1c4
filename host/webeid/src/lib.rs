#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod error;
pub mod nonce;
pub mod origin;
pub mod reply;
pub mod signature;

pub use algorithm::{auth_digest, TokenAlgorithm};
pub use error::{ErrorBody, ErrorCode, ErrorReply, Reason};
pub use nonce::{InvalidNonce, Nonce, NONCE_MAX_LEN, NONCE_MIN_LEN};
pub use origin::{HttpLocalhost, Origin, OriginError, MAX_ORIGIN_LEN};
pub use reply::{base64_decode, base64_encode, AuthToken, SignResult, SigningCertificate, TokenError, TOKEN_FORMAT};
pub use signature::{crypto_name, padding_name, SignatureAlgorithm, SignatureAlgorithmError};
