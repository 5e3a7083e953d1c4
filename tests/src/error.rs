//! Typed errors of the virtual card crate.

use std::io;

/// Everything that can go wrong while building or running a virtual card.
///
/// Card-level protocol errors are never reported through this type: a card
/// answers them with an ISO 7816 status word, exactly like a real card does.
#[derive(Debug, thiserror::Error)]
pub enum VcardError {
    /// Socket or file I/O failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// DER encoding or decoding failed while building the test PKI.
    #[error("DER error: {0}")]
    Der(#[from] der::Error),
    /// A public key could not be encoded (SubjectPublicKeyInfo).
    #[error("public key encoding error: {0}")]
    Spki(#[from] spki::Error),
    /// RSA key generation or signing failed.
    #[error("RSA error: {0}")]
    Rsa(#[from] rsa::Error),
    /// Building a test-PKI certificate failed (x509-cert builder).
    #[error("certificate builder error: {0}")]
    CertificateBuilder(#[from] x509_cert::builder::Error),
    /// ECDSA signing failed.
    #[error("signature error: {0}")]
    Signature(#[from] signature::Error),
    /// A card or PKI option is out of range (PIN length, tries, names...).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A profile name was not recognised.
    #[error("unknown card profile {0:?} (expected belpic18, belpic17 or esteid)")]
    UnknownProfile(String),
    /// Waiting for a card state change took too long.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(std::time::Duration, &'static str),
    /// The card thread is gone (it was stopped, or it could not be started).
    #[error("the virtual card thread is not running")]
    Stopped,
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, VcardError>;
