//! Public keys of eID certificates and the signature checks every caller reduces to.

use eidlink_core::{CryptoAlgorithm, Curve, Digest, HashAlgorithm, KeyAlgorithm, Padding, SignatureAlgorithm};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use signature::hazmat::PrehashVerifier;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::CertError;

/// rsaEncryption (RFC 8017 appendix C).
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// id-RSASSA-PSS used as a key algorithm (RFC 4055 §1.2): the key is still a plain RSA key.
const OID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
/// id-ecPublicKey (RFC 5480 §2.1.1).
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// The named curves of RFC 5480 §2.1.1.1.
const OID_SECP256R1: &str = "1.2.840.10045.3.1.7";
const OID_SECP384R1: &str = "1.3.132.0.34";
const OID_SECP521R1: &str = "1.3.132.0.35";

/// A certificate's public key.
#[derive(Clone)]
pub enum PublicKey {
    /// EC P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// EC P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// EC P-521.
    P521(p521::ecdsa::VerifyingKey),
    /// RSA.
    Rsa(rsa::PublicKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// "EC P-384", "RSA 2048": what messages and the certificate summary say.
impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.algorithm() {
            KeyAlgorithm::Ec(Curve::P256) => f.write_str("EC P-256"),
            KeyAlgorithm::Ec(Curve::P384) => f.write_str("EC P-384"),
            KeyAlgorithm::Ec(Curve::P521) => f.write_str("EC P-521"),
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA {bits}"),
        }
    }
}

/// A scheme in words, for messages ("RSA-PSS with SHA-256"); the wire names belong to the protocol.
fn scheme_name(alg: &SignatureAlgorithm) -> String {
    let kind = match (alg.crypto, alg.padding) {
        (CryptoAlgorithm::Ecc, Padding::None) => "ECDSA",
        (CryptoAlgorithm::Ecc, _) => "ECDSA with padding",
        (CryptoAlgorithm::Rsa, Padding::Pkcs1v15) => "RSA PKCS#1 v1.5",
        (CryptoAlgorithm::Rsa, Padding::Pss) => "RSA-PSS",
        (CryptoAlgorithm::Rsa, Padding::None) => "RSA without padding",
    };
    format!("{kind} with {}", alg.hash.name())
}

/// The digest as the integer ECDSA takes: a digest shorter than the curve is left-padded with zeros
/// (FIPS 186-5 §6.4.1 takes the leftmost min(N, outlen) bits of it as an integer), which is what the
/// cards do (cards.md §2.7); a longer one is truncated by the ecdsa crate itself.
fn ecdsa_input(digest: &[u8], curve: Curve) -> Vec<u8> {
    let len = curve.scalar_len();
    if digest.len() >= len {
        return digest.to_vec();
    }
    let mut v = vec![0u8; len - digest.len()];
    v.extend_from_slice(digest);
    v
}

fn invalid<E: std::fmt::Display>(algorithm: &'static str) -> impl FnOnce(E) -> CertError {
    move |e| CertError::InvalidKey {
        algorithm,
        reason: e.to_string(),
    }
}

fn ok_or_bad(verified: bool) -> Result<(), CertError> {
    if verified {
        Ok(())
    } else {
        Err(CertError::BadSignature)
    }
}

impl PublicKey {
    /// The key of a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, CertError> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(spki).map_err(|e| CertError::Parse(e.to_string()))?;
        let key_bytes: &[u8] = &spki.subject_public_key.data;
        match spki.algorithm.algorithm.to_id_string().as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| oid.to_id_string())
                    .ok_or_else(|| CertError::UnsupportedCurve("(no named curve)".into()))?;
                match curve.as_str() {
                    OID_SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map(Self::P256)
                        .map_err(invalid("EC P-256")),
                    OID_SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map(Self::P384)
                        .map_err(invalid("EC P-384")),
                    OID_SECP521R1 => p521::PublicKey::from_sec1_bytes(key_bytes)
                        .map_err(invalid("EC P-521"))
                        .and_then(|k| {
                            p521::ecdsa::VerifyingKey::from_affine(*k.as_affine()).map_err(invalid("EC P-521"))
                        })
                        .map(Self::P521),
                    other => Err(CertError::UnsupportedCurve(other.to_owned())),
                }
            }
            OID_RSA_ENCRYPTION | OID_RSASSA_PSS => rsa::PublicKey::from_pkcs1_der(key_bytes)
                .map(Self::Rsa)
                .map_err(invalid("RSA")),
            other => Err(CertError::UnsupportedKey(other.to_owned())),
        }
    }

    /// The key of a DER X.509 certificate.
    pub fn from_certificate(der: &[u8]) -> Result<Self, CertError> {
        let cert = crate::summary::parse(der)?;
        Self::from_spki_der(cert.public_key().raw)
    }

    /// The key's algorithm, as the core describes keys.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Self::P256(_) => KeyAlgorithm::Ec(Curve::P256),
            Self::P384(_) => KeyAlgorithm::Ec(Curve::P384),
            Self::P521(_) => KeyAlgorithm::Ec(Curve::P521),
            // A modulus beyond 65535 bits is no card's: saturate rather than fail a description.
            Self::Rsa(k) => KeyAlgorithm::Rsa {
                bits: u16::try_from(k.size() * 8).unwrap_or(u16::MAX),
            },
        }
    }

    /// Checks a signature as cards and Web eID give it (protocol.md §2.2, §2.3): ECDSA as raw
    /// `r || s`; RSA PKCS#1 v1.5 over the digest's DigestInfo; RSA-PSS with MGF1 of the same hash and
    /// a salt of the hash's length. The digest must come from the scheme's hash function.
    pub fn verify(&self, alg: &SignatureAlgorithm, digest: &Digest, sig: &[u8]) -> Result<(), CertError> {
        if alg.hash != digest.algorithm() {
            return Err(CertError::HashMismatch {
                scheme: alg.hash.name(),
                digest: digest.algorithm().name(),
            });
        }
        let mismatch = || CertError::SchemeMismatch {
            scheme: scheme_name(alg),
            key: self.to_string(),
        };
        match (alg.crypto, alg.padding, self) {
            (CryptoAlgorithm::Ecc, Padding::None, Self::P256(_) | Self::P384(_) | Self::P521(_)) => {
                self.verify_ecdsa_raw(digest.as_bytes(), sig)
            }
            (CryptoAlgorithm::Rsa, Padding::Pkcs1v15, Self::Rsa(_)) => self.verify_pkcs1(digest, sig),
            (CryptoAlgorithm::Rsa, Padding::Pss, Self::Rsa(_)) => {
                self.verify_pss(digest, sig, digest.algorithm().output_len())
            }
            _ => Err(mismatch()),
        }
    }

    /// ECDSA, raw `r || s` of the curve's size, over a digest.
    fn verify_ecdsa_raw(&self, digest: &[u8], sig: &[u8]) -> Result<(), CertError> {
        let KeyAlgorithm::Ec(curve) = self.algorithm() else {
            return Err(self.not_ec());
        };
        if sig.len() != 2 * curve.scalar_len() {
            return Err(CertError::SignatureLength {
                expected: 2 * curve.scalar_len(),
                actual: sig.len(),
            });
        }
        let input = ecdsa_input(digest, curve);
        ok_or_bad(match self {
            Self::P256(k) => {
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok())
            }
            Self::P384(k) => {
                p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok())
            }
            Self::P521(k) => {
                p521::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok())
            }
            Self::Rsa(_) => return Err(self.not_ec()),
        })
    }

    /// ECDSA with the signature as an ASN.1 `Ecdsa-Sig-Value`: what certificates and CRLs carry
    /// (RFC 3279 §2.2.3).
    pub fn verify_ecdsa_der(&self, digest: &Digest, sig: &[u8]) -> Result<(), CertError> {
        let KeyAlgorithm::Ec(curve) = self.algorithm() else {
            return Err(self.not_ec());
        };
        let input = ecdsa_input(digest.as_bytes(), curve);
        ok_or_bad(match self {
            Self::P256(k) => p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok()),
            Self::P384(k) => p384::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok()),
            Self::P521(k) => p521::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(&input, &s).is_ok()),
            Self::Rsa(_) => return Err(self.not_ec()),
        })
    }

    /// RSASSA-PKCS1-v1_5 over `DigestInfo(hash, digest)` (RFC 8017 §8.2, §9.2).
    pub fn verify_pkcs1(&self, digest: &Digest, sig: &[u8]) -> Result<(), CertError> {
        let k = self.rsa(digest.algorithm(), Padding::Pkcs1v15)?;
        Self::check_rsa_len(k, sig)?;
        let scheme = rsa::Pkcs1v15Sign {
            hash_len: Some(digest.as_bytes().len()),
            prefix: digest.algorithm().digest_info_prefix().into(),
        };
        ok_or_bad(k.verify(scheme, digest.as_bytes(), sig).is_ok())
    }

    /// RSASSA-PSS over `digest` with MGF1 of the digest's hash and a salt of `salt_len` bytes (RFC
    /// 8017 §8.1). Web eID and the cards use a salt of the hash's length (see [`Self::verify`]);
    /// certificates name theirs in the algorithm parameters.
    pub fn verify_pss(&self, digest: &Digest, sig: &[u8], salt_len: usize) -> Result<(), CertError> {
        let k = self.rsa(digest.algorithm(), Padding::Pss)?;
        Self::check_rsa_len(k, sig)?;
        let d = digest.as_bytes();
        let verified = match digest.algorithm() {
            HashAlgorithm::Sha224 => k.verify(rsa::Pss::<sha2::Sha224>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha256 => k.verify(rsa::Pss::<sha2::Sha256>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha384 => k.verify(rsa::Pss::<sha2::Sha384>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha512 => k.verify(rsa::Pss::<sha2::Sha512>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha3_224 => k.verify(rsa::Pss::<sha3::Sha3_224>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha3_256 => k.verify(rsa::Pss::<sha3::Sha3_256>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha3_384 => k.verify(rsa::Pss::<sha3::Sha3_384>::new_with_salt(salt_len), d, sig),
            HashAlgorithm::Sha3_512 => k.verify(rsa::Pss::<sha3::Sha3_512>::new_with_salt(salt_len), d, sig),
            // The core may name hash functions this crate does not know yet.
            other => return Err(CertError::UnsupportedHash(other.name())),
        };
        ok_or_bad(verified.is_ok())
    }

    fn rsa(&self, hash: HashAlgorithm, padding: Padding) -> Result<&rsa::PublicKey, CertError> {
        match self {
            Self::Rsa(k) => Ok(k),
            _ => Err(CertError::SchemeMismatch {
                scheme: scheme_name(&SignatureAlgorithm {
                    crypto: CryptoAlgorithm::Rsa,
                    hash,
                    padding,
                }),
                key: self.to_string(),
            }),
        }
    }

    fn not_ec(&self) -> CertError {
        CertError::SchemeMismatch {
            scheme: "ECDSA".into(),
            key: self.to_string(),
        }
    }

    /// An RSA signature is exactly the modulus' size (RFC 8017 §8.2.2 step 1).
    fn check_rsa_len(k: &rsa::PublicKey, sig: &[u8]) -> Result<(), CertError> {
        if sig.len() == k.size() {
            Ok(())
        } else {
            Err(CertError::SignatureLength {
                expected: k.size(),
                actual: sig.len(),
            })
        }
    }
}

/// An ECDSA signature as raw `r || s` on `curve` from its ASN.1 `Ecdsa-Sig-Value` (RFC 3279
/// §2.2.3): what a PKCS#11 module that answers in DER instead of the standard's raw form
/// (PKCS#11 v2.40 curr. mech. §2.3.1) is normalized to. `None` if it is not one.
pub fn ecdsa_raw_from_der(curve: Curve, der: &[u8]) -> Option<Vec<u8>> {
    Some(match curve {
        Curve::P256 => p256::ecdsa::Signature::from_der(der).ok()?.to_bytes().to_vec(),
        Curve::P384 => p384::ecdsa::Signature::from_der(der).ok()?.to_bytes().to_vec(),
        Curve::P521 => p521::ecdsa::Signature::from_der(der).ok()?.to_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_der_ecdsa_signature_becomes_r_and_s() {
        use p384::ecdsa::signature::hazmat::PrehashSigner;
        let key = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
        let sig: p384::ecdsa::Signature = key.sign_prehash(&[1u8; 48]).unwrap();
        let der = sig.to_der();
        let raw = ecdsa_raw_from_der(Curve::P384, der.as_bytes()).unwrap();
        assert_eq!(raw, sig.to_bytes().to_vec());
        assert!(ecdsa_raw_from_der(Curve::P384, &raw).is_none(), "raw is not DER");
        assert!(
            ecdsa_raw_from_der(Curve::P256, der.as_bytes()).is_none(),
            "a P-384 value is no P-256 signature"
        );
    }

    use super::*;
    use p256::elliptic_curve::Generate;
    use p256::pkcs8::EncodePublicKey;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use signature::hazmat::PrehashSigner;
    use std::sync::OnceLock;

    const DATA: &[u8] = b"what the card is asked to sign";

    fn ecdsa(hash: HashAlgorithm) -> SignatureAlgorithm {
        SignatureAlgorithm {
            crypto: CryptoAlgorithm::Ecc,
            hash,
            padding: Padding::None,
        }
    }

    fn rsa_alg(hash: HashAlgorithm, padding: Padding) -> SignatureAlgorithm {
        SignatureAlgorithm {
            crypto: CryptoAlgorithm::Rsa,
            hash,
            padding,
        }
    }

    fn flipped(sig: &[u8], at: usize) -> Vec<u8> {
        let mut v = sig.to_vec();
        v[at] ^= 0x01;
        v
    }

    /// The checks every scheme must pass: the signature verifies; a flipped byte, another digest,
    /// the same data under another hash, a digest of another hash than the scheme's, a scheme of
    /// another key type and a shortened signature do not.
    fn assert_scheme(key: &PublicKey, alg: SignatureAlgorithm, sig: &[u8], wrong_key_alg: SignatureAlgorithm) {
        let digest = Digest::of(alg.hash, DATA);
        assert_eq!(key.verify(&alg, &digest, sig), Ok(()), "{alg:?} on {key}");
        for at in [0, sig.len() / 2, sig.len() - 1] {
            assert_eq!(
                key.verify(&alg, &digest, &flipped(sig, at)),
                Err(CertError::BadSignature),
                "{alg:?}, byte {at} flipped"
            );
        }
        let other = Digest::of(alg.hash, b"another document");
        assert_eq!(key.verify(&alg, &other, sig), Err(CertError::BadSignature));
        let other_hash = if alg.hash == HashAlgorithm::Sha384 {
            HashAlgorithm::Sha512
        } else {
            HashAlgorithm::Sha384
        };
        let other_alg = SignatureAlgorithm {
            hash: other_hash,
            ..alg
        };
        assert_eq!(
            key.verify(&other_alg, &Digest::of(other_hash, DATA), sig),
            Err(CertError::BadSignature),
            "{alg:?} checked as {other_hash:?}"
        );
        assert_eq!(
            key.verify(&alg, &Digest::of(other_hash, DATA), sig),
            Err(CertError::HashMismatch {
                scheme: alg.hash.name(),
                digest: other_hash.name(),
            })
        );
        assert!(
            matches!(
                key.verify(&wrong_key_alg, &Digest::of(wrong_key_alg.hash, DATA), sig),
                Err(CertError::SchemeMismatch { key: ref k, .. }) if *k == key.to_string()
            ),
            "{wrong_key_alg:?} on {key}"
        );
        assert_eq!(
            key.verify(&alg, &digest, &sig[1..]),
            Err(CertError::SignatureLength {
                expected: sig.len(),
                actual: sig.len() - 1
            })
        );
    }

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn ecdsa_p256_raw() {
        let sk = p256::ecdsa::SigningKey::generate_from_rng(&mut rng(1));
        let spki = sk.verifying_key().to_public_key_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Ec(Curve::P256));
        assert_eq!(key.to_string(), "EC P-256");
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha3_256] {
            let sig: p256::ecdsa::Signature = sk.sign_prehash(Digest::of(hash, DATA).as_bytes()).unwrap();
            assert_scheme(&key, ecdsa(hash), &sig.to_bytes(), rsa_alg(hash, Padding::Pkcs1v15));
        }
    }

    #[test]
    fn ecdsa_p384_raw_with_a_shorter_digest() {
        let sk = p384::ecdsa::SigningKey::generate_from_rng(&mut rng(2));
        let spki = sk.verifying_key().to_public_key_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        assert_eq!(key.to_string(), "EC P-384");
        // A SHA-256 digest on P-384 is what the cards sign left-padded with zeros (cards.md §2.7).
        let digest = Digest::of(HashAlgorithm::Sha256, DATA);
        let padded = ecdsa_input(digest.as_bytes(), Curve::P384);
        assert_eq!(padded.len(), 48);
        let sig: p384::ecdsa::Signature = sk.sign_prehash(&padded).unwrap();
        assert_scheme(
            &key,
            ecdsa(HashAlgorithm::Sha256),
            &sig.to_bytes(),
            rsa_alg(HashAlgorithm::Sha256, Padding::Pss),
        );
        let sig: p384::ecdsa::Signature = sk
            .sign_prehash(Digest::of(HashAlgorithm::Sha384, DATA).as_bytes())
            .unwrap();
        assert_scheme(
            &key,
            ecdsa(HashAlgorithm::Sha384),
            &sig.to_bytes(),
            rsa_alg(HashAlgorithm::Sha384, Padding::Pkcs1v15),
        );
        // DER-encoded ECDSA (certificates) goes through its own check.
        let digest = Digest::of(HashAlgorithm::Sha384, DATA);
        assert_eq!(key.verify_ecdsa_der(&digest, sig.to_der().as_bytes()), Ok(()));
        assert_eq!(
            key.verify_ecdsa_der(&digest, &sig.to_bytes()),
            Err(CertError::BadSignature)
        );
    }

    #[test]
    fn ecdsa_p521_raw() {
        let sk = p521::ecdsa::SigningKey::generate_from_rng(&mut rng(3));
        let vk = p521::ecdsa::VerifyingKey::from(&sk);
        let spki = p521::PublicKey::from_affine(*vk.as_affine())
            .unwrap()
            .to_public_key_der()
            .unwrap();
        let key = PublicKey::from_spki_der(spki.as_bytes()).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Ec(Curve::P521));
        let sig: p521::ecdsa::Signature = sk
            .sign_prehash(Digest::of(HashAlgorithm::Sha512, DATA).as_bytes())
            .unwrap();
        assert_eq!(sig.to_bytes().len(), 132);
        assert_scheme(
            &key,
            ecdsa(HashAlgorithm::Sha512),
            &sig.to_bytes(),
            rsa_alg(HashAlgorithm::Sha512, Padding::Pss),
        );
    }

    fn rsa_key() -> &'static rsa::PrivateKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| rsa::PrivateKey::new(&mut rng(4), 2048).unwrap())
    }

    fn rsa_public() -> PublicKey {
        let spki = rsa::pkcs8::EncodePublicKey::to_public_key_der(&rsa_key().to_public_key()).unwrap();
        PublicKey::from_spki_der(spki.as_bytes()).unwrap()
    }

    #[test]
    fn rsa_pkcs1v15() {
        let key = rsa_public();
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
        assert_eq!(key.to_string(), "RSA 2048");
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha512, HashAlgorithm::Sha3_384] {
            let digest = Digest::of(hash, DATA);
            let sig = rsa_key()
                .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest.digest_info())
                .unwrap();
            assert_scheme(&key, rsa_alg(hash, Padding::Pkcs1v15), &sig, ecdsa(hash));
            // A PKCS#1 v1.5 signature is no PSS signature.
            assert_eq!(
                key.verify(&rsa_alg(hash, Padding::Pss), &digest, &sig),
                Err(CertError::BadSignature)
            );
        }
    }

    #[test]
    fn rsa_pss_salt_of_the_hash_length() {
        let key = rsa_public();
        let digest = Digest::of(HashAlgorithm::Sha256, DATA);
        let sig = rsa_key()
            .sign_with_rng(
                &mut rng(5),
                rsa::Pss::<sha2::Sha256>::new_with_salt(32),
                digest.as_bytes(),
            )
            .unwrap();
        assert_scheme(
            &key,
            rsa_alg(HashAlgorithm::Sha256, Padding::Pss),
            &sig,
            ecdsa(HashAlgorithm::Sha256),
        );
        assert_eq!(
            key.verify(&rsa_alg(HashAlgorithm::Sha256, Padding::Pkcs1v15), &digest, &sig),
            Err(CertError::BadSignature)
        );
        // Web eID's PSS has a salt of the hash's length: another salt length does not verify.
        let short_salt = rsa_key()
            .sign_with_rng(
                &mut rng(6),
                rsa::Pss::<sha2::Sha256>::new_with_salt(20),
                digest.as_bytes(),
            )
            .unwrap();
        assert_eq!(
            key.verify(&rsa_alg(HashAlgorithm::Sha256, Padding::Pss), &digest, &short_salt),
            Err(CertError::BadSignature)
        );
        assert_eq!(key.verify_pss(&digest, &short_salt, 20), Ok(()));
        for hash in [HashAlgorithm::Sha384, HashAlgorithm::Sha512, HashAlgorithm::Sha3_256] {
            let d = Digest::of(hash, DATA);
            let sig = match hash {
                HashAlgorithm::Sha384 => {
                    rsa_key().sign_with_rng(&mut rng(7), rsa::Pss::<sha2::Sha384>::new_with_salt(48), d.as_bytes())
                }
                HashAlgorithm::Sha512 => {
                    rsa_key().sign_with_rng(&mut rng(7), rsa::Pss::<sha2::Sha512>::new_with_salt(64), d.as_bytes())
                }
                _ => rsa_key().sign_with_rng(&mut rng(7), rsa::Pss::<sha3::Sha3_256>::new_with_salt(32), d.as_bytes()),
            }
            .unwrap();
            assert_scheme(&key, rsa_alg(hash, Padding::Pss), &sig, ecdsa(hash));
        }
    }

    #[test]
    fn keys_other_than_eid_keys_are_refused_by_name() {
        let sk = p256::ecdsa::SigningKey::generate_from_rng(&mut rng(8));
        let spki = sk.verifying_key().to_public_key_der().unwrap().as_bytes().to_vec();
        // secp256r1 is 1.2.840.10045.3.1.7 (2A 86 48 CE 3D 03 01 07); its last arc changed to 8.
        let curve_at = spki
            .windows(8)
            .position(|w| w == [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07])
            .unwrap();
        let mut other_curve = spki.clone();
        other_curve[curve_at + 7] = 0x08;
        assert_eq!(
            PublicKey::from_spki_der(&other_curve).map(|_| ()),
            Err(CertError::UnsupportedCurve("1.2.840.10045.3.1.8".into()))
        );
        // id-ecPublicKey is 1.2.840.10045.2.1 (2A 86 48 CE 3D 02 01); changed to 2.2.
        let alg_at = spki
            .windows(7)
            .position(|w| w == [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01])
            .unwrap();
        let mut other_alg = spki.clone();
        other_alg[alg_at + 6] = 0x02;
        assert_eq!(
            PublicKey::from_spki_der(&other_alg).map(|_| ()),
            Err(CertError::UnsupportedKey("1.2.840.10045.2.2".into()))
        );
        // A point that is not on the curve.
        let mut off_curve = spki.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 0x01;
        assert!(matches!(
            PublicKey::from_spki_der(&off_curve),
            Err(CertError::InvalidKey {
                algorithm: "EC P-256",
                ..
            })
        ));
        assert!(matches!(PublicKey::from_spki_der(b"junk"), Err(CertError::Parse(_))));
    }

    #[test]
    fn the_key_of_a_certificate() {
        use eidlink_tests::pki::{Country, LeafKeyType, Pki, PkiSpec};
        let pki = Pki::generate(&PkiSpec::default_for(Country::Estonia, LeafKeyType::P384)).unwrap();
        let key = PublicKey::from_certificate(&pki.auth_der).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Ec(Curve::P384));
        let digest = Digest::of(HashAlgorithm::Sha384, DATA);
        let eidlink_tests::pki::LeafKey::P384(sk) = &pki.auth_key else {
            panic!("a P-384 leaf key")
        };
        let sig = eidlink_tests::crypto::ecdsa_sign_digest(sk, digest.as_bytes()).unwrap();
        assert_eq!(
            crate::verify(&pki.auth_der, &digest, &sig, &ecdsa(HashAlgorithm::Sha384)),
            Ok(())
        );
        assert_eq!(
            crate::verify(&pki.auth_der, &digest, &flipped(&sig, 3), &ecdsa(HashAlgorithm::Sha384)),
            Err(CertError::BadSignature)
        );
    }
}
