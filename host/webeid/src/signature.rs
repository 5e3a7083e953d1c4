//! The `{cryptoAlgorithm, hashFunction, paddingScheme}` object of `supportedSignatureAlgorithms` and
//! `signatureAlgorithm` (protocol.md §2.3), and its conversion to the token layer's scheme. The wire
//! names are written here only.

use eidlink_core::{CryptoAlgorithm, HashAlgorithm, Padding};
use serde::{Deserialize, Serialize};

/// `cryptoAlgorithm` of an ECDSA key.
const ECC: &str = "ECC";
/// `cryptoAlgorithm` of an RSA key.
const RSA: &str = "RSA";
/// `paddingScheme` of ECDSA.
const NONE: &str = "NONE";
/// `paddingScheme` of RSA PKCS#1 v1.5.
const PKCS1_5: &str = "PKCS1.5";
/// `paddingScheme` of RSA-PSS.
const PSS: &str = "PSS";

/// The Web eID name of a key's algorithm: "ECC" or "RSA".
pub const fn crypto_name(crypto: CryptoAlgorithm) -> &'static str {
    match crypto {
        CryptoAlgorithm::Ecc => ECC,
        CryptoAlgorithm::Rsa => RSA,
    }
}

/// The Web eID name of a padding: "NONE", "PKCS1.5" or "PSS".
pub const fn padding_name(padding: Padding) -> &'static str {
    match padding {
        Padding::None => NONE,
        Padding::Pkcs1v15 => PKCS1_5,
        Padding::Pss => PSS,
    }
}

/// Why a wire signature algorithm is not one eidlink knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureAlgorithmError {
    /// `hashFunction` is not one of protocol.md §2.1.
    #[error("unknown hash function {0:?}")]
    UnknownHashFunction(String),
    /// `cryptoAlgorithm`/`paddingScheme` is not ECC/NONE, RSA/PKCS1.5 or RSA/PSS.
    #[error("unknown signature algorithm {crypto}/{padding}")]
    UnknownScheme {
        /// The `cryptoAlgorithm` given.
        crypto: String,
        /// The `paddingScheme` given.
        padding: String,
    },
}

/// The Web eID signature-algorithm object as it travels. The fields stay strings so that a list
/// with an entry from a newer protocol (`supportedSignatureAlgorithms`) still reads; use
/// [`SignatureAlgorithm::scheme`] to know what it means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureAlgorithm {
    /// "ECC" or "RSA".
    pub crypto_algorithm: String,
    /// "SHA-256", "SHA3-384", ...
    pub hash_function: String,
    /// "NONE" (ECC), "PKCS1.5" or "PSS" (RSA).
    pub padding_scheme: String,
}

impl SignatureAlgorithm {
    /// The hash function, when it is one of protocol.md §2.1.
    pub fn hash(&self) -> Option<HashAlgorithm> {
        HashAlgorithm::from_name(&self.hash_function)
    }

    /// The scheme this names: ECC/NONE (ECDSA), RSA/PKCS1.5 or RSA/PSS, with a known hash.
    pub fn scheme(&self) -> Result<eidlink_core::SignatureAlgorithm, SignatureAlgorithmError> {
        let (crypto, padding) = match (self.crypto_algorithm.as_str(), self.padding_scheme.as_str()) {
            (ECC, NONE) => (CryptoAlgorithm::Ecc, Padding::None),
            (RSA, PKCS1_5) => (CryptoAlgorithm::Rsa, Padding::Pkcs1v15),
            (RSA, PSS) => (CryptoAlgorithm::Rsa, Padding::Pss),
            (crypto, padding) => {
                return Err(SignatureAlgorithmError::UnknownScheme {
                    crypto: crypto.to_owned(),
                    padding: padding.to_owned(),
                })
            }
        };
        let hash = self
            .hash()
            .ok_or_else(|| SignatureAlgorithmError::UnknownHashFunction(self.hash_function.clone()))?;
        Ok(eidlink_core::SignatureAlgorithm { crypto, hash, padding })
    }
}

impl From<eidlink_core::SignatureAlgorithm> for SignatureAlgorithm {
    fn from(a: eidlink_core::SignatureAlgorithm) -> Self {
        Self {
            crypto_algorithm: crypto_name(a.crypto).to_owned(),
            hash_function: a.hash.name().to_owned(),
            padding_scheme: padding_name(a.padding).to_owned(),
        }
    }
}

impl From<&eidlink_core::SignatureAlgorithm> for SignatureAlgorithm {
    fn from(a: &eidlink_core::SignatureAlgorithm) -> Self {
        Self::from(*a)
    }
}

impl TryFrom<&SignatureAlgorithm> for eidlink_core::SignatureAlgorithm {
    type Error = SignatureAlgorithmError;

    fn try_from(a: &SignatureAlgorithm) -> Result<Self, Self::Error> {
        a.scheme()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(c: &str, h: &str, p: &str) -> SignatureAlgorithm {
        SignatureAlgorithm {
            crypto_algorithm: c.into(),
            hash_function: h.into(),
            padding_scheme: p.into(),
        }
    }

    #[test]
    fn wire_names() {
        // The table of protocol.md §2.3, written out independently of the constants above.
        let table = [
            (CryptoAlgorithm::Ecc, Padding::None, "ECC", "NONE"),
            (CryptoAlgorithm::Rsa, Padding::Pkcs1v15, "RSA", "PKCS1.5"),
            (CryptoAlgorithm::Rsa, Padding::Pss, "RSA", "PSS"),
        ];
        for (crypto, padding, c, p) in table {
            for hash in HashAlgorithm::ALL {
                let core = eidlink_core::SignatureAlgorithm { crypto, hash, padding };
                let w = SignatureAlgorithm::from(core);
                assert_eq!(w, wire(c, hash.name(), p));
                assert_eq!(w.scheme(), Ok(core));
                assert_eq!(eidlink_core::SignatureAlgorithm::try_from(&w), Ok(core));
                assert_eq!(w.hash(), Some(hash));
            }
        }
    }

    #[test]
    fn unknown_algorithms_are_named() {
        assert_eq!(
            wire("ECC", "SHA-256", "PSS").scheme(),
            Err(SignatureAlgorithmError::UnknownScheme {
                crypto: "ECC".into(),
                padding: "PSS".into()
            })
        );
        assert!(wire("RSA", "SHA-256", "NONE").scheme().is_err());
        assert!(wire("ecc", "SHA-256", "NONE").scheme().is_err());
        assert!(wire("EdDSA", "SHA-512", "NONE").scheme().is_err());
        assert_eq!(
            wire("ECC", "SHA-1", "NONE").scheme(),
            Err(SignatureAlgorithmError::UnknownHashFunction("SHA-1".into()))
        );
        assert_eq!(
            SignatureAlgorithmError::UnknownScheme {
                crypto: "ECC".into(),
                padding: "PSS".into()
            }
            .to_string(),
            "unknown signature algorithm ECC/PSS"
        );
    }

    #[test]
    fn json_field_names() {
        let core = eidlink_core::SignatureAlgorithm {
            crypto: CryptoAlgorithm::Rsa,
            hash: HashAlgorithm::Sha384,
            padding: Padding::Pss,
        };
        let w = SignatureAlgorithm::from(&core);
        assert_eq!(
            serde_json::to_string(&w).ok().as_deref(),
            Some(r#"{"cryptoAlgorithm":"RSA","hashFunction":"SHA-384","paddingScheme":"PSS"}"#)
        );
        let back: SignatureAlgorithm =
            serde_json::from_value(json!({"cryptoAlgorithm":"ECC","hashFunction":"SHA3-256","paddingScheme":"NONE"}))
                .unwrap();
        assert_eq!(back, wire("ECC", "SHA3-256", "NONE"));
        // An entry of a later protocol still reads; only its meaning is unknown.
        let later: SignatureAlgorithm =
            serde_json::from_value(json!({"cryptoAlgorithm":"EdDSA","hashFunction":"SHAKE256","paddingScheme":"NONE"}))
                .unwrap();
        assert!(later.scheme().is_err());
        assert!(serde_json::from_value::<SignatureAlgorithm>(json!({"cryptoAlgorithm":"ECC"})).is_err());
    }
}
