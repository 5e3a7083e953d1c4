//! What eidlink shows of a certificate (holder, national number, issuer, validity), and checking a
//! signature with its public key. Shared by the CLI, the host and the tray app.

use eidlink_core::{CryptoAlgorithm, Digest, Padding, SignatureAlgorithm};
use p256::pkcs8::DecodePublicKey;
use signature::hazmat::PrehashVerifier;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a certificate or signature check failed.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The DER does not parse as X.509.
    #[error("the certificate does not parse: {0}")]
    Parse(String),
    /// The key type is not one eID cards use.
    #[error("unsupported public key in the certificate")]
    UnsupportedKey,
    /// The signature does not verify.
    #[error("the signature does NOT verify with the certificate's public key")]
    BadSignature,
}

/// A readable summary of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// Subject common name.
    pub subject_cn: String,
    /// Given name and surname, when present.
    pub holder: String,
    /// Subject serialNumber (the national number on Belgian cards).
    pub serial_number: Option<String>,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// First day of validity, `YYYY-MM-DD` (what dialogs show).
    pub valid_from: String,
    /// Last day of validity, `YYYY-MM-DD`.
    pub valid_to: String,
    /// Key, e.g. "EC P-384" or "RSA 2048".
    pub key: String,
}

/// Summarises a DER certificate.
pub fn summarize(der: &[u8]) -> Result<CertSummary, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?;
    let attr = |name: &x509_parser::x509::X509Name<'_>, oid: &x509_parser::der_parser::Oid<'_>| {
        name.iter_by_oid(oid)
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
    };
    use x509_parser::oid_registry::{
        OID_X509_COMMON_NAME, OID_X509_GIVEN_NAME, OID_X509_SERIALNUMBER, OID_X509_SURNAME,
    };
    let subject = cert.subject();
    let subject_cn = attr(subject, &OID_X509_COMMON_NAME).unwrap_or_default();
    let holder = match (attr(subject, &OID_X509_GIVEN_NAME), attr(subject, &OID_X509_SURNAME)) {
        (Some(g), Some(s)) => format!("{g} {s}"),
        _ => subject_cn.clone(),
    };
    let key = match public_key(der)? {
        PublicKey::P256(_) => "EC P-256".to_owned(),
        PublicKey::P384(_) => "EC P-384".to_owned(),
        PublicKey::Rsa(k) => format!("RSA {}", rsa::traits::PublicKeyParts::size(&k) * 8),
    };
    Ok(CertSummary {
        subject_cn,
        holder,
        serial_number: attr(subject, &OID_X509_SERIALNUMBER),
        issuer_cn: attr(cert.issuer(), &OID_X509_COMMON_NAME).unwrap_or_default(),
        not_before: cert.validity().not_before.to_rfc2822().unwrap_or_default(),
        not_after: cert.validity().not_after.to_rfc2822().unwrap_or_default(),
        valid_from: day(&cert.validity().not_before),
        valid_to: day(&cert.validity().not_after),
        key,
    })
}

fn day(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A certificate's public key.
pub enum PublicKey {
    /// EC P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// EC P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// RSA.
    Rsa(rsa::RsaPublicKey),
}

/// Extracts the public key of a DER certificate.
pub fn public_key(der: &[u8]) -> Result<PublicKey, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?;
    let spki = cert.public_key().raw;
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(spki) {
        return Ok(PublicKey::P384(k));
    }
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(spki) {
        return Ok(PublicKey::P256(k));
    }
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(spki) {
        return Ok(PublicKey::Rsa(k));
    }
    Err(CertError::UnsupportedKey)
}

/// Checks a card signature over `digest` with the certificate's key: ECDSA raw `r || s`, RSA
/// PKCS#1 v1.5 with the digest's DigestInfo.
pub fn verify(der: &[u8], digest: &Digest, sig: &[u8], alg: &SignatureAlgorithm) -> Result<(), CertError> {
    let ok = match (public_key(der)?, alg.crypto, alg.padding) {
        (PublicKey::P384(k), CryptoAlgorithm::Ecc, _) => {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(digest.as_bytes(), &s).is_ok())
        }
        (PublicKey::P256(k), CryptoAlgorithm::Ecc, _) => {
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify_prehash(digest.as_bytes(), &s).is_ok())
        }
        (PublicKey::Rsa(k), CryptoAlgorithm::Rsa, Padding::Pkcs1v15) => {
            let scheme = rsa::Pkcs1v15Sign {
                hash_len: Some(digest.as_bytes().len()),
                prefix: digest.algorithm().digest_info_prefix().into(),
            };
            k.verify(scheme, digest.as_bytes(), sig).is_ok()
        }
        _ => return Err(CertError::UnsupportedKey),
    };
    if ok {
        Ok(())
    } else {
        Err(CertError::BadSignature)
    }
}
