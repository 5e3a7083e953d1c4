//! Public keys of eID certificates and the three signature primitives every check here reduces to:
//! ECDSA over a digest (raw `r || s` from cards, DER in certificates), RSA PKCS#1 v1.5 over a
//! DigestInfo, RSA-PSS over a digest.

use eidlink_core::HashAlgorithm;
use p256::pkcs8::DecodePublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use signature::hazmat::PrehashVerifier;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::VerifyError;

/// rsaEncryption (RFC 8017 appendix C).
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// id-RSASSA-PSS used as a key algorithm (RFC 4055 §1.2): the key is still a plain RSA key.
const OID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
/// id-ecPublicKey (RFC 5480 §2.1.1).
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

/// A certificate's public key.
#[derive(Clone)]
pub(crate) enum PublicKey {
    /// EC P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// EC P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// EC P-521.
    P521(p521::ecdsa::VerifyingKey),
    /// RSA.
    Rsa(rsa::RsaPublicKey),
}

/// How an ECDSA signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EcdsaEncoding {
    /// `r || s`, each the curve's size: what cards and Web eID return (protocol.md §2.2).
    Raw,
    /// ASN.1 `Ecdsa-Sig-Value`: what certificates carry (RFC 3279 §2.2.3).
    Der,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PublicKey {
    /// The key of a SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<Self, VerifyError> {
        let alg = spki.algorithm.algorithm.to_id_string();
        match alg.as_str() {
            // The pkcs8 decoders check the curve OID themselves, so a P-256 key never decodes as P-384.
            OID_EC_PUBLIC_KEY => {
                if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(spki.raw) {
                    return Ok(Self::P384(k));
                }
                if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(spki.raw) {
                    return Ok(Self::P256(k));
                }
                if let Ok(k) = p521::PublicKey::from_public_key_der(spki.raw) {
                    return p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                        .map(Self::P521)
                        .map_err(|_| VerifyError::UnsupportedKey("invalid P-521 point".into()));
                }
                Err(VerifyError::UnsupportedKey(
                    "EC key on a curve other than P-256, P-384, P-521".into(),
                ))
            }
            OID_RSA_ENCRYPTION | OID_RSASSA_PSS => rsa::RsaPublicKey::from_pkcs1_der(&spki.subject_public_key.data)
                .map(Self::Rsa)
                .map_err(|e| VerifyError::UnsupportedKey(format!("RSA key: {e}"))),
            other => Err(VerifyError::UnsupportedKey(format!("key algorithm {other}"))),
        }
    }

    /// "EC P-384", "RSA 2048", for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::P256(_) => "EC P-256".into(),
            Self::P384(_) => "EC P-384".into(),
            Self::P521(_) => "EC P-521".into(),
            Self::Rsa(k) => format!("RSA {}", k.size() * 8),
        }
    }

    /// ECDSA over `digest`. `Ok(false)` for a wrong signature, `Err` if this is not an EC key.
    ///
    /// A digest shorter than the curve is taken as an integer, i.e. left-padded with zeros (FIPS
    /// 186-5 §6.4.1: the leftmost min(N, outlen) bits), which is what the cards do (cards.md §2.7);
    /// a longer one is truncated by the ecdsa crate itself.
    pub(crate) fn verify_ecdsa(&self, digest: &[u8], sig: &[u8], encoding: EcdsaEncoding) -> Result<bool, ()> {
        fn padded(digest: &[u8], len: usize) -> Vec<u8> {
            if digest.len() >= len {
                return digest.to_vec();
            }
            let mut v = vec![0u8; len - digest.len()];
            v.extend_from_slice(digest);
            v
        }
        Ok(match (self, encoding) {
            (Self::P256(k), EcdsaEncoding::Raw) => {
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 32), &s).is_ok())
            }
            (Self::P256(k), EcdsaEncoding::Der) => {
                p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 32), &s).is_ok())
            }
            (Self::P384(k), EcdsaEncoding::Raw) => {
                p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 48), &s).is_ok())
            }
            (Self::P384(k), EcdsaEncoding::Der) => {
                p384::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 48), &s).is_ok())
            }
            (Self::P521(k), EcdsaEncoding::Raw) => {
                p521::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 66), &s).is_ok())
            }
            (Self::P521(k), EcdsaEncoding::Der) => {
                p521::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&padded(digest, 66), &s).is_ok())
            }
            (Self::Rsa(_), _) => return Err(()),
        })
    }

    /// RSASSA-PKCS1-v1_5 over `DigestInfo(hash, digest)` (RFC 8017 §8.2, §9.2). `Err` if this is not
    /// an RSA key.
    pub(crate) fn verify_pkcs1(&self, hash: HashAlgorithm, digest: &[u8], sig: &[u8]) -> Result<bool, ()> {
        let Self::Rsa(k) = self else { return Err(()) };
        let scheme = rsa::Pkcs1v15Sign {
            hash_len: Some(hash.output_len()),
            prefix: hash.digest_info_prefix().into(),
        };
        Ok(k.verify(scheme, digest, sig).is_ok())
    }

    /// RSASSA-PSS over `digest` with MGF1 of the same hash and the given salt length (RFC 8017 §8.1).
    /// `Err` if this is not an RSA key or the hash is unknown.
    pub(crate) fn verify_pss(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &[u8],
        salt_len: usize,
    ) -> Result<bool, ()> {
        let Self::Rsa(k) = self else { return Err(()) };
        let scheme = match hash {
            HashAlgorithm::Sha224 => rsa::Pss::new_with_salt::<sha2::Sha224>(salt_len),
            HashAlgorithm::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt_len),
            HashAlgorithm::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt_len),
            HashAlgorithm::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt_len),
            HashAlgorithm::Sha3_224 => rsa::Pss::new_with_salt::<sha3::Sha3_224>(salt_len),
            HashAlgorithm::Sha3_256 => rsa::Pss::new_with_salt::<sha3::Sha3_256>(salt_len),
            HashAlgorithm::Sha3_384 => rsa::Pss::new_with_salt::<sha3::Sha3_384>(salt_len),
            HashAlgorithm::Sha3_512 => rsa::Pss::new_with_salt::<sha3::Sha3_512>(salt_len),
            _ => return Err(()),
        };
        if digest.len() != hash.output_len() {
            return Ok(false);
        }
        Ok(k.verify(scheme, digest, sig).is_ok())
    }
}
