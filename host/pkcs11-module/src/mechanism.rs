//! The signature mechanisms a key offers, and what a `C_Sign` input means for the card: the card
//! drivers sign a [`Digest`] (they add the PKCS#1 or PSS padding themselves), so each mechanism's
//! input is read back into one (PKCS#11 v2.40 Mechanisms §2.1.6 CKM_RSA_PKCS, §2.1.10
//! CKM_RSA_PKCS_PSS, §2.3.6 CKM_ECDSA).

use cryptoki_sys::{
    CKF_HW, CKF_SIGN, CKG_MGF1_SHA224, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512, CKM_ECDSA, CKM_RSA_PKCS,
    CKM_RSA_PKCS_PSS, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE,
    CKR_KEY_TYPE_INCONSISTENT, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID, CK_MECHANISM_INFO,
    CK_MECHANISM_TYPE, CK_RV, CK_ULONG,
};
use eidlink_core::{CryptoAlgorithm, Digest, HashAlgorithm, KeyAlgorithm, KeyInfo, Padding};

/// A mechanism with its parameters, as `C_SignInit` gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// CKM_ECDSA: the input is the hash; the output raw `r || s`.
    Ecdsa,
    /// CKM_RSA_PKCS: the input is a DER DigestInfo (what NSS and OpenSSL give for TLS 1.2).
    RsaPkcs,
    /// CKM_RSA_PKCS_PSS with its CK_RSA_PKCS_PSS_PARAMS: the input is the hash.
    RsaPss {
        /// `hashAlg`.
        hash: CK_MECHANISM_TYPE,
        /// `mgf`.
        mgf: CK_ULONG,
        /// `sLen`.
        salt_len: CK_ULONG,
    },
}

impl Mechanism {
    /// The padding the card applies for it.
    pub(crate) fn padding(self) -> Padding {
        match self {
            Self::Ecdsa => Padding::None,
            Self::RsaPkcs => Padding::Pkcs1v15,
            Self::RsaPss { .. } => Padding::Pss,
        }
    }

    /// The mechanism's number.
    pub(crate) fn kind(self) -> CK_MECHANISM_TYPE {
        match self {
            Self::Ecdsa => CKM_ECDSA,
            Self::RsaPkcs => CKM_RSA_PKCS,
            Self::RsaPss { .. } => CKM_RSA_PKCS_PSS,
        }
    }
}

/// The mechanisms `key` can sign with, by what its schemes offer.
pub(crate) fn mechanisms(key: &KeyInfo) -> Vec<CK_MECHANISM_TYPE> {
    let mut out = Vec::new();
    for (padding, mechanism) in [
        (Padding::None, CKM_ECDSA),
        (Padding::Pkcs1v15, CKM_RSA_PKCS),
        (Padding::Pss, CKM_RSA_PKCS_PSS),
    ] {
        if key.schemes.iter().any(|s| s.padding == padding) && !out.contains(&mechanism) {
            out.push(mechanism);
        }
    }
    out
}

/// `C_GetMechanismInfo` of `mechanism` for `key`.
pub(crate) fn info(key: &KeyInfo, mechanism: CK_MECHANISM_TYPE) -> Option<CK_MECHANISM_INFO> {
    if !mechanisms(key).contains(&mechanism) {
        return None;
    }
    let bits = match key.algorithm {
        KeyAlgorithm::Ec(curve) => (curve.scalar_len() * 8) as CK_ULONG,
        KeyAlgorithm::Rsa { bits } => CK_ULONG::from(bits),
    };
    // P-521 keys are 521 bits, not 528.
    let bits = if bits == 528 { 521 } else { bits };
    Some(CK_MECHANISM_INFO {
        ulMinKeySize: bits,
        ulMaxKeySize: bits,
        flags: CKF_SIGN | CKF_HW,
    })
}

/// Checks at `C_SignInit` that `mechanism` fits `key`.
pub(crate) fn check(key: &KeyInfo, mechanism: Mechanism) -> Result<(), CK_RV> {
    let fits = matches!(
        (key.algorithm, mechanism),
        (KeyAlgorithm::Ec(_), Mechanism::Ecdsa)
            | (KeyAlgorithm::Rsa { .. }, Mechanism::RsaPkcs | Mechanism::RsaPss { .. })
    );
    if !fits {
        return Err(CKR_KEY_TYPE_INCONSISTENT);
    }
    if !mechanisms(key).contains(&mechanism.kind()) {
        return Err(CKR_MECHANISM_INVALID);
    }
    if let Mechanism::RsaPss { hash, mgf, salt_len } = mechanism {
        // The cards pad with MGF1 of the same hash and a salt of the hash's length (cards.md; the
        // parameters TLS 1.3 uses: RFC 8446 §4.2.3): any other choice cannot be made on them.
        let alg = hash_of_mechanism(hash).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
        if mgf_of(alg) != Some(mgf) || salt_len != alg.output_len() as CK_ULONG {
            return Err(CKR_MECHANISM_PARAM_INVALID);
        }
        if !key.schemes.iter().any(|s| s.padding == Padding::Pss && s.hash == alg) {
            return Err(CKR_MECHANISM_PARAM_INVALID);
        }
    }
    Ok(())
}

/// The digest the card signs for `data` given to `C_Sign` with `mechanism`.
pub(crate) fn digest(key: &KeyInfo, mechanism: Mechanism, data: &[u8]) -> Result<Digest, CK_RV> {
    let (padding, alg, hash) = match mechanism {
        Mechanism::Ecdsa => {
            // A bare hash: its length names the function among those the key signs with (ECDSA
            // signs the bytes whatever function made them).
            let alg = key
                .schemes
                .iter()
                .filter(|s| s.padding == Padding::None)
                .map(|s| s.hash)
                .find(|h| h.output_len() == data.len())
                .ok_or(CKR_DATA_LEN_RANGE)?;
            (Padding::None, alg, data)
        }
        Mechanism::RsaPkcs => {
            let alg = HashAlgorithm::ALL
                .into_iter()
                .find(|a| {
                    let prefix = a.digest_info_prefix();
                    data.len() == prefix.len() + a.output_len() && data.starts_with(prefix)
                })
                // Only DigestInfo inputs can be signed: the cards build the padding themselves
                // (a TLS 1.0 MD5+SHA-1 concatenation is refused here).
                .ok_or(CKR_DATA_INVALID)?;
            (Padding::Pkcs1v15, alg, &data[alg.digest_info_prefix().len()..])
        }
        Mechanism::RsaPss { hash, .. } => {
            let alg = hash_of_mechanism(hash).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
            if data.len() != alg.output_len() {
                return Err(CKR_DATA_LEN_RANGE);
            }
            (Padding::Pss, alg, data)
        }
    };
    let crypto = match key.algorithm {
        KeyAlgorithm::Ec(_) => CryptoAlgorithm::Ecc,
        KeyAlgorithm::Rsa { .. } => CryptoAlgorithm::Rsa,
    };
    if !key
        .schemes
        .iter()
        .any(|s| s.padding == padding && s.crypto == crypto && s.hash == alg)
    {
        return Err(CKR_MECHANISM_INVALID);
    }
    Digest::new(alg, hash.to_vec()).map_err(|_| CKR_DATA_LEN_RANGE)
}

fn hash_of_mechanism(m: CK_MECHANISM_TYPE) -> Option<HashAlgorithm> {
    match m {
        CKM_SHA224 => Some(HashAlgorithm::Sha224),
        CKM_SHA256 => Some(HashAlgorithm::Sha256),
        CKM_SHA384 => Some(HashAlgorithm::Sha384),
        CKM_SHA512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

fn mgf_of(alg: HashAlgorithm) -> Option<CK_ULONG> {
    match alg {
        HashAlgorithm::Sha224 => Some(CKG_MGF1_SHA224),
        HashAlgorithm::Sha256 => Some(CKG_MGF1_SHA256),
        HashAlgorithm::Sha384 => Some(CKG_MGF1_SHA384),
        HashAlgorithm::Sha512 => Some(CKG_MGF1_SHA512),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_core::{Curve, PinEntry, PinPolicy, SignatureAlgorithm};

    fn key(algorithm: KeyAlgorithm, schemes: Vec<SignatureAlgorithm>) -> KeyInfo {
        KeyInfo {
            role: eidlink_core::KeyRole::Authentication,
            algorithm,
            schemes,
            pin: PinPolicy::digits(4, 12),
            pin_label: "PIN",
            entry: PinEntry::Dialog,
        }
    }

    fn pss(hash: HashAlgorithm) -> SignatureAlgorithm {
        SignatureAlgorithm {
            crypto: CryptoAlgorithm::Rsa,
            hash,
            padding: Padding::Pss,
        }
    }

    #[test]
    fn ecdsa_takes_the_hash_by_its_length() {
        let k = key(
            KeyAlgorithm::Ec(Curve::P384),
            SignatureAlgorithm::ecdsa(&HashAlgorithm::ALL),
        );
        assert_eq!(mechanisms(&k), [CKM_ECDSA]);
        let d = digest(&k, Mechanism::Ecdsa, &[5; 32]).unwrap();
        assert_eq!(d.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(
            digest(&k, Mechanism::Ecdsa, &[5; 48]).unwrap().algorithm(),
            HashAlgorithm::Sha384
        );
        assert_eq!(digest(&k, Mechanism::Ecdsa, &[5; 20]).unwrap_err(), CKR_DATA_LEN_RANGE);
        assert_eq!(check(&k, Mechanism::RsaPkcs), Err(CKR_KEY_TYPE_INCONSISTENT));
        let info = info(&k, CKM_ECDSA).unwrap();
        assert_eq!((info.ulMinKeySize, info.ulMaxKeySize), (384, 384));
    }

    #[test]
    fn rsa_pkcs1_reads_the_digest_info_back() {
        let k = key(
            KeyAlgorithm::Rsa { bits: 2048 },
            SignatureAlgorithm::rsa_pkcs1(&[HashAlgorithm::Sha256]),
        );
        let want = Digest::of(HashAlgorithm::Sha256, b"x");
        let got = digest(&k, Mechanism::RsaPkcs, &want.digest_info()).unwrap();
        assert_eq!(got, want);
        // A SHA-384 DigestInfo with a key that signs SHA-256 only.
        let other = Digest::of(HashAlgorithm::Sha384, b"x").digest_info();
        assert_eq!(
            digest(&k, Mechanism::RsaPkcs, &other).unwrap_err(),
            CKR_MECHANISM_INVALID
        );
        assert_eq!(mechanisms(&k), [CKM_RSA_PKCS], "no PSS where the card has none");
    }

    #[test]
    fn pss_needs_the_parameters_the_card_uses() {
        let k = key(KeyAlgorithm::Rsa { bits: 2048 }, vec![pss(HashAlgorithm::Sha256)]);
        assert_eq!(mechanisms(&k), [CKM_RSA_PKCS_PSS]);
        let tls13 = Mechanism::RsaPss {
            hash: CKM_SHA256,
            mgf: CKG_MGF1_SHA256,
            salt_len: 32,
        };
        assert_eq!(check(&k, tls13), Ok(()));
        assert_eq!(digest(&k, tls13, &[1; 32]).unwrap().algorithm(), HashAlgorithm::Sha256);
        assert_eq!(digest(&k, tls13, &[1; 48]).unwrap_err(), CKR_DATA_LEN_RANGE);
        for bad in [
            Mechanism::RsaPss {
                hash: CKM_SHA256,
                mgf: CKG_MGF1_SHA384,
                salt_len: 32,
            },
            Mechanism::RsaPss {
                hash: CKM_SHA256,
                mgf: CKG_MGF1_SHA256,
                salt_len: 20,
            },
            Mechanism::RsaPss {
                hash: CKM_SHA384,
                mgf: CKG_MGF1_SHA384,
                salt_len: 48,
            },
        ] {
            assert_eq!(check(&k, bad), Err(CKR_MECHANISM_PARAM_INVALID), "{bad:?}");
        }
        assert_eq!(check(&k, Mechanism::RsaPkcs), Err(CKR_MECHANISM_INVALID));
    }
}
