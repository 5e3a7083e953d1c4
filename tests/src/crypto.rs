//! Signature primitives of the emulated cards. The cards sign the digest
//! they are given; they never hash the data themselves (cards.md §1.11, §2.6).

use p384::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey, Pss, PublicKey as RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::error::Result;

/// Length of a P-384 field element / scalar.
const P384_LEN: usize = 48;

/// ECDSA input as a P-384 card uses it: digests shorter than the curve
/// order are taken as an integer, i.e. left-padded with zeros (FIPS 186-5
/// §6.4; cards.md §2.7); longer ones are truncated to their leftmost 384 bits
/// by `sign_prehash` itself.
fn ecdsa_input(digest: &[u8]) -> Vec<u8> {
    if digest.len() >= P384_LEN {
        digest.to_vec()
    } else {
        let mut padded = vec![0u8; P384_LEN - digest.len()];
        padded.extend_from_slice(digest);
        padded
    }
}

/// Deterministic (RFC 6979) ECDSA P-384 over a digest; returns the plain
/// `r ‖ s` encoding (96 bytes, TR-03111) the cards answer (cards.md §1.11).
pub fn ecdsa_sign_digest(key: &SigningKey, digest: &[u8]) -> Result<Vec<u8>> {
    let sig: Signature = key.sign_prehash(&ecdsa_input(digest))?;
    Ok(sig.to_bytes().to_vec())
}

/// Verifies a plain `r ‖ s` P-384 signature over a digest, with the same
/// padding rule as [`ecdsa_sign_digest`].
pub fn ecdsa_verify_digest(key: &VerifyingKey, digest: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_prehash(&ecdsa_input(digest), &sig).is_ok()
}

/// DigestInfo prefixes the 1.7 card puts in front of a bare hash for MSE
/// algorithms 02/04/08 (cards.md §1.11, eid-mw card.cpp:49-97).
pub mod digest_info {
    /// SHA-1 (20-byte hash).
    pub const SHA1: &[u8] = &[
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    /// MD5 (16-byte hash).
    pub const MD5: &[u8] = &[
        0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10,
    ];
    /// SHA-256 (32-byte hash).
    pub const SHA256: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    /// SHA-384 (48-byte hash).
    pub const SHA384: &[u8] = &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
        0x30,
    ];
    /// SHA-512 (64-byte hash).
    pub const SHA512: &[u8] = &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
        0x40,
    ];
}

/// RSASSA-PKCS1-v1_5 over an already built DigestInfo (the card only adds
/// the padding; cards.md §1.10 algorithm 01).
pub fn rsa_sign_pkcs1(key: &RsaPrivateKey, digest_info: &[u8]) -> Result<Vec<u8>> {
    Ok(key.sign(Pkcs1v15Sign::new_unprefixed(), digest_info)?)
}

/// Verifies an RSASSA-PKCS1-v1_5 signature over a DigestInfo.
pub fn rsa_verify_pkcs1(key: &RsaPublicKey, digest_info: &[u8], signature: &[u8]) -> bool {
    key.verify(Pkcs1v15Sign::new_unprefixed(), digest_info, signature)
        .is_ok()
}

/// Hash functions of the 1.7 applet's PSS algorithms (MSE algo 10 / 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssHash {
    /// SHA-1, salt 20 bytes.
    Sha1,
    /// SHA-256, salt 32 bytes.
    Sha256,
}

/// RSASSA-PSS over a hash. The salt comes from a ChaCha20 stream seeded with
/// the hash, so that the card stays deterministic like the ECDSA profiles.
pub fn rsa_sign_pss(key: &RsaPrivateKey, hash: PssHash, digest: &[u8]) -> Result<Vec<u8>> {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"eidlink-vcard pss salt")
        .chain_update(digest)
        .finalize()
        .into();
    let mut rng = ChaCha20Rng::from_seed(seed);
    let sig = match hash {
        PssHash::Sha1 => key.sign_with_rng(&mut rng, Pss::<sha1::Sha1>::new_with_salt(20), digest)?,
        PssHash::Sha256 => key.sign_with_rng(&mut rng, Pss::<Sha256>::new_with_salt(32), digest)?,
    };
    Ok(sig)
}

/// Verifies an RSASSA-PSS signature over a hash.
pub fn rsa_verify_pss(key: &RsaPublicKey, hash: PssHash, digest: &[u8], signature: &[u8]) -> bool {
    // Pss is generic over the digest in rsa 0.10: one call per hash.
    match hash {
        PssHash::Sha1 => key.verify(Pss::<sha1::Sha1>::new(), digest, signature),
        PssHash::Sha256 => key.verify(Pss::<Sha256>::new(), digest, signature),
    }
    .is_ok()
}
