//! The one home of eID certificates in eidlink: what is shown of a certificate ([`summarize`]), its
//! public key ([`PublicKey`]: EC P-256, P-384, P-521 or RSA, from the SubjectPublicKeyInfo), and the
//! checks of the signatures cards make over a digest: raw ECDSA `r || s`, RSA PKCS#1 v1.5 and RSA-PSS
//! (MGF1 with the same hash, salt of the hash's length, as Web eID and FinEID v3 use). Used by the
//! CLI, the native-messaging host, the tray app and the verifier, so they cannot drift apart.
//!
//! The schemes are the core's types ([`eidlink_core::SignatureAlgorithm`]): the Web eID wire names
//! are parsed elsewhere, once.

mod error;
mod fields;
mod key;
mod summary;

pub use error::CertError;
pub use fields::{fields, CertFields, KeyParts};
pub use key::ecdsa_raw_from_der;
pub use key::PublicKey;
pub use summary::{summarize, usage, CertSummary, CertUsage};

use eidlink_core::{Digest, SignatureAlgorithm};

/// The public key of a DER certificate.
pub fn public_key(der: &[u8]) -> Result<PublicKey, CertError> {
    PublicKey::from_certificate(der)
}

/// Checks a card signature `sig` over `digest` with the key of the DER certificate `der`, by the
/// scheme `alg`: what `eidlink sign` and the host check before handing a signature out.
pub fn verify(der: &[u8], digest: &Digest, sig: &[u8], alg: &SignatureAlgorithm) -> Result<(), CertError> {
    public_key(der)?.verify(alg, digest, sig)
}
