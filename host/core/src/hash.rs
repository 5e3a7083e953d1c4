//! Hash functions that eID signatures use, their standard names (FIPS 180-4 / FIPS 202 spelling),
//! and their DigestInfo prefixes for RSA PKCS#1 v1.5 (RFC 8017 §9.2 note 1).

use crate::error::CardError;

/// A hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA3-224.
    Sha3_224,
    /// SHA3-256.
    Sha3_256,
    /// SHA3-384.
    Sha3_384,
    /// SHA3-512.
    Sha3_512,
}

impl HashAlgorithm {
    /// Every hash function: SHA-2, then SHA-3, shortest first.
    pub const ALL: [Self; 8] = [
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_224,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha224 | Self::Sha3_224 => 28,
            Self::Sha256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }

    /// The standard name ("SHA-256", "SHA3-384", ...), as protocols write it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Sha3_224 => "SHA3-224",
            Self::Sha3_256 => "SHA3-256",
            Self::Sha3_384 => "SHA3-384",
            Self::Sha3_512 => "SHA3-512",
        }
    }

    /// Parses a name of [`HashAlgorithm::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The DER DigestInfo header that precedes the digest in an RSA PKCS#1 v1.5 signature
    /// (RFC 8017 §9.2; SHA-3 OIDs from NIST CSOR 2.16.840.1.101.3.4.2.7-10).
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha224 => &DI_SHA224,
            Self::Sha256 => &DI_SHA256,
            Self::Sha384 => &DI_SHA384,
            Self::Sha512 => &DI_SHA512,
            Self::Sha3_224 => &DI_SHA3_224,
            Self::Sha3_256 => &DI_SHA3_256,
            Self::Sha3_384 => &DI_SHA3_384,
            Self::Sha3_512 => &DI_SHA3_512,
        }
    }
}

/// A digest computed off-card, with the function that produced it. The length is checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Digest {
    alg: HashAlgorithm,
    bytes: Vec<u8>,
}

impl Digest {
    /// Wraps a digest; fails if its length is not the function's output length.
    pub fn new(alg: HashAlgorithm, bytes: Vec<u8>) -> Result<Self, CardError> {
        if bytes.len() != alg.output_len() {
            return Err(CardError::InvalidArgument(format!(
                "a {} digest has {} bytes, got {}",
                alg.name(),
                alg.output_len(),
                bytes.len()
            )));
        }
        Ok(Self { alg, bytes })
    }

    /// Hashes `data`.
    pub fn of(alg: HashAlgorithm, data: &[u8]) -> Self {
        Self {
            alg,
            bytes: hash(alg, data),
        }
    }

    /// The hash function.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.alg
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// DigestInfo(prefix || digest), what an RSA PKCS#1 v1.5 key signs.
    pub fn digest_info(&self) -> Vec<u8> {
        let mut v = self.alg.digest_info_prefix().to_vec();
        v.extend_from_slice(&self.bytes);
        v
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({}, {})", self.alg.name(), hex::encode(&self.bytes))
    }
}

/// Hashes `data` with `alg`.
pub fn hash(alg: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match alg {
        HashAlgorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
        HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        HashAlgorithm::Sha3_224 => sha3::Sha3_224::digest(data).to_vec(),
        HashAlgorithm::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
        HashAlgorithm::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
        HashAlgorithm::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
    }
}

/// The DigestInfo header (RFC 8017 §9.2) of the NIST hash with OID 2.16.840.1.101.3.4.2.`arc` and an
/// output of `len` bytes: SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (len) }, with the OCTET
/// STRING's content (the digest) to follow.
const fn digest_info_header(arc: u8, len: u8) -> [u8; 19] {
    [
        0x30,
        0x11 + len,
        0x30,
        0x0D,
        0x06,
        0x09,
        0x60,
        0x86,
        0x48,
        0x01,
        0x65,
        0x03,
        0x04,
        0x02,
        arc,
        0x05,
        0x00,
        0x04,
        len,
    ]
}

const DI_SHA224: [u8; 19] = digest_info_header(0x04, 28);
const DI_SHA256: [u8; 19] = digest_info_header(0x01, 32);
const DI_SHA384: [u8; 19] = digest_info_header(0x02, 48);
const DI_SHA512: [u8; 19] = digest_info_header(0x03, 64);
const DI_SHA3_224: [u8; 19] = digest_info_header(0x07, 28);
const DI_SHA3_256: [u8; 19] = digest_info_header(0x08, 32);
const DI_SHA3_384: [u8; 19] = digest_info_header(0x09, 48);
const DI_SHA3_512: [u8; 19] = digest_info_header(0x0A, 64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lengths_and_prefixes() {
        for h in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(h.name()), Some(h));
            let p = h.digest_info_prefix();
            // The outer SEQUENCE length covers the rest of the prefix plus the digest.
            assert_eq!(usize::from(p[1]), p.len() - 2 + h.output_len());
            assert_eq!(usize::from(p[18]), h.output_len());
        }
        // As RFC 8017 §9.2 note 1 writes them.
        assert_eq!(
            HashAlgorithm::Sha256.digest_info_prefix(),
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                0x04, 0x20
            ]
        );
        assert_eq!(
            HashAlgorithm::Sha512.digest_info_prefix(),
            [
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00,
                0x04, 0x40
            ]
        );
        assert_eq!(HashAlgorithm::from_name("SHA-1"), None);
        assert!(Digest::new(HashAlgorithm::Sha256, vec![0; 31]).is_err());
        let d = Digest::new(HashAlgorithm::Sha256, vec![0xAB; 32]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.digest_info().len(), 51);
    }

    #[test]
    fn hashes_known_answers() {
        // FIPS 180-4 / FIPS 202 example values for "abc".
        assert_eq!(
            hex::encode(hash(HashAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(hash(HashAlgorithm::Sha3_256, b"abc")),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        for h in HashAlgorithm::ALL {
            assert_eq!(hash(h, b"abc").len(), h.output_len(), "{h:?}");
            assert_eq!(Digest::of(h, b"abc").as_bytes(), &hash(h, b"abc")[..]);
        }
    }
}
