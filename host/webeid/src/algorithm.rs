//! The `algorithm` of an authentication token and what the card signs for it (protocol.md §2.2),
//! shared by the host that builds tokens and the verifier that checks them, so the two can never
//! disagree.
//!
//! The token algorithm follows the authentication key; its hash `H` gives
//! `M = H(utf8(origin)) || H(utf8(challengeNonce))`, and the card signs `H(M)` ("field separation": the
//! two values can never be shifted into each other).

use eidlink_core::hash::hash;
use eidlink_core::{CryptoAlgorithm, Curve, Digest, HashAlgorithm, KeyAlgorithm, Padding, SignatureAlgorithm};

/// The `algorithm` of a `web-eid:1.0` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenAlgorithm {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
    /// RSA PKCS#1 v1.5 with SHA-256.
    Rs256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    Rs384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    Rs512,
    /// RSA-PSS (MGF1, salt = hash length) with SHA-256.
    Ps256,
    /// RSA-PSS with SHA-384.
    Ps384,
    /// RSA-PSS with SHA-512.
    Ps512,
}

impl TokenAlgorithm {
    /// Every algorithm.
    pub const ALL: [Self; 9] = [
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
    ];

    /// The JOSE name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
        }
    }

    /// Parses a JOSE name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The hash function `H`.
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::Es256 | Self::Rs256 | Self::Ps256 => HashAlgorithm::Sha256,
            Self::Es384 | Self::Rs384 | Self::Ps384 => HashAlgorithm::Sha384,
            Self::Es512 | Self::Rs512 | Self::Ps512 => HashAlgorithm::Sha512,
        }
    }

    /// The signature scheme the key uses for it.
    pub fn scheme(self) -> SignatureAlgorithm {
        let (crypto, padding) = match self {
            Self::Es256 | Self::Es384 | Self::Es512 => (CryptoAlgorithm::Ecc, Padding::None),
            Self::Rs256 | Self::Rs384 | Self::Rs512 => (CryptoAlgorithm::Rsa, Padding::Pkcs1v15),
            Self::Ps256 | Self::Ps384 | Self::Ps512 => (CryptoAlgorithm::Rsa, Padding::Pss),
        };
        SignatureAlgorithm {
            crypto,
            hash: self.hash(),
            padding,
        }
    }

    /// The algorithm for an authentication key (protocol.md §2.2): EC by curve; RSA → RS256, or PS256
    /// when the key only offers PSS. `None` if the key offers neither.
    pub fn for_key(key: KeyAlgorithm, offered: &[SignatureAlgorithm]) -> Option<Self> {
        let candidate = match key {
            KeyAlgorithm::Ec(Curve::P256) => Self::Es256,
            KeyAlgorithm::Ec(Curve::P384) => Self::Es384,
            KeyAlgorithm::Ec(Curve::P521) => Self::Es512,
            KeyAlgorithm::Rsa { .. } if offered.contains(&Self::Rs256.scheme()) => Self::Rs256,
            KeyAlgorithm::Rsa { .. } => Self::Ps256,
        };
        offered.contains(&candidate.scheme()).then_some(candidate)
    }

    /// The algorithm whose scheme `scheme` is: how to name a signature the card made.
    pub fn for_scheme(scheme: SignatureAlgorithm) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.scheme() == scheme)
    }
}

impl std::fmt::Display for TokenAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `H(M)`, `M = H(origin) || H(nonce)`: the digest the card signs for an authentication token.
/// `origin` is the serialized origin ([`crate::Origin::as_str`]) and `nonce` the challenge, both
/// hashed as their UTF-8 bytes.
pub fn auth_digest(alg: TokenAlgorithm, origin: &str, nonce: &str) -> Digest {
    let h = alg.hash();
    let mut m = hash(h, origin.as_bytes());
    m.extend_from_slice(&hash(h, nonce.as_bytes()));
    Digest::of(h, &m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_follows_the_key() {
        let ec = SignatureAlgorithm::ecdsa(&HashAlgorithm::ALL);
        let rsa = SignatureAlgorithm::rsa_pkcs1(&[HashAlgorithm::Sha256]);
        assert_eq!(
            TokenAlgorithm::for_key(KeyAlgorithm::Ec(Curve::P384), &ec),
            Some(TokenAlgorithm::Es384)
        );
        assert_eq!(
            TokenAlgorithm::for_key(KeyAlgorithm::Ec(Curve::P256), &ec),
            Some(TokenAlgorithm::Es256)
        );
        assert_eq!(
            TokenAlgorithm::for_key(KeyAlgorithm::Rsa { bits: 2048 }, &rsa),
            Some(TokenAlgorithm::Rs256)
        );
        let pss = vec![TokenAlgorithm::Ps256.scheme()];
        assert_eq!(
            TokenAlgorithm::for_key(KeyAlgorithm::Rsa { bits: 2048 }, &pss),
            Some(TokenAlgorithm::Ps256)
        );
        assert_eq!(TokenAlgorithm::for_key(KeyAlgorithm::Rsa { bits: 2048 }, &[]), None);
        for a in TokenAlgorithm::ALL {
            assert_eq!(TokenAlgorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(TokenAlgorithm::from_name("HS256"), None);
        for a in TokenAlgorithm::ALL {
            assert_eq!(TokenAlgorithm::for_scheme(a.scheme()), Some(a));
            assert_eq!(a.to_string(), a.name());
        }
        let ecc_sha3 = SignatureAlgorithm::ecdsa(&[HashAlgorithm::Sha3_256]);
        assert_eq!(TokenAlgorithm::for_scheme(ecc_sha3[0]), None);
    }

    #[test]
    fn auth_digest_known_answers() {
        // Computed independently (Python hashlib) for Web eID's test origin and a 44-character nonce.
        let (origin, nonce) = ("https://ria.ee", "12345678123456781234567812345678912356789123");
        assert_eq!(
            hex(auth_digest(TokenAlgorithm::Es256, origin, nonce).as_bytes()),
            "b279891a871202b377cf749958337a6ac4b69c00ede9746966c00b7887f07f14"
        );
        assert_eq!(
            hex(auth_digest(TokenAlgorithm::Ps384, origin, nonce).as_bytes()),
            "6ab5b68a5b108467440b4787a75bd827a7afcdd7d90f4f3ec57fe4718d0cc6d3daeb4affee561758dfbb5d3fee88b548"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn auth_digest_is_hash_of_both_hashes() {
        // Recomputed by hand: SHA-256(SHA-256("https://a.b") || SHA-256("n")).
        let d = auth_digest(TokenAlgorithm::Es256, "https://a.b", "n");
        let mut m = hash(HashAlgorithm::Sha256, b"https://a.b");
        m.extend(hash(HashAlgorithm::Sha256, b"n"));
        assert_eq!(d.as_bytes(), &hash(HashAlgorithm::Sha256, &m)[..]);
        assert_eq!(d.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(
            auth_digest(TokenAlgorithm::Es384, "https://a.b", "n").as_bytes().len(),
            48
        );
        assert_ne!(
            auth_digest(TokenAlgorithm::Es256, "https://a.b", "n").as_bytes(),
            auth_digest(TokenAlgorithm::Es256, "https://a.bn", "").as_bytes()
        );
    }
}
