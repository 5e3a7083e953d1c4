//! What eidlink shows of a certificate: holder, national number, issuer, validity, key.

use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_GIVEN_NAME, OID_X509_SERIALNUMBER, OID_X509_SURNAME};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use crate::error::CertError;
use crate::key::PublicKey;

/// A readable summary of a certificate: what the CLI, the PIN dialog and the tray app display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// Subject common name.
    pub subject_cn: String,
    /// Given name and surname, when present; else the common name.
    pub holder: String,
    /// Subject serialNumber (the national number on Belgian cards).
    pub serial_number: Option<String>,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Start of validity (RFC 2822).
    pub not_before: String,
    /// End of validity (RFC 2822).
    pub not_after: String,
    /// First day of validity, `YYYY-MM-DD` (what dialogs show).
    pub valid_from: String,
    /// Last day of validity, `YYYY-MM-DD`.
    pub valid_to: String,
    /// Start of validity, Unix seconds (for the tray's expiry warning).
    pub not_before_unix: i64,
    /// End of validity, Unix seconds.
    pub not_after_unix: i64,
    /// Key, e.g. "EC P-384" or "RSA 2048".
    pub key: String,
}

pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?;
    Ok(cert)
}

fn attr(name: &X509Name<'_>, oid: &x509_parser::der_parser::Oid<'_>) -> Option<String> {
    name.iter_by_oid(oid)
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

/// Summarises a DER certificate. Fails if it does not parse or its key is not one eID cards use.
pub fn summarize(der: &[u8]) -> Result<CertSummary, CertError> {
    let cert = parse(der)?;
    let subject = cert.subject();
    let subject_cn = attr(subject, &OID_X509_COMMON_NAME).unwrap_or_default();
    let holder = match (attr(subject, &OID_X509_GIVEN_NAME), attr(subject, &OID_X509_SURNAME)) {
        (Some(g), Some(s)) => format!("{g} {s}"),
        _ => subject_cn.clone(),
    };
    let key = PublicKey::from_spki_der(cert.public_key().raw)?.to_string();
    let validity = cert.validity();
    Ok(CertSummary {
        subject_cn,
        holder,
        serial_number: attr(subject, &OID_X509_SERIALNUMBER),
        issuer_cn: attr(cert.issuer(), &OID_X509_COMMON_NAME).unwrap_or_default(),
        not_before: validity.not_before.to_rfc2822().unwrap_or_default(),
        not_after: validity.not_after.to_rfc2822().unwrap_or_default(),
        valid_from: day(&validity.not_before),
        valid_to: day(&validity.not_after),
        not_before_unix: validity.not_before.timestamp(),
        not_after_unix: validity.not_after.timestamp(),
        key,
    })
}

/// What a certificate is for, as its extensions say (RFC 5280 §4.2.1.3, §4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertUsage {
    /// keyUsage has nonRepudiation (contentCommitment): a signing (qualified) certificate.
    pub non_repudiation: bool,
    /// basicConstraints cA, or keyUsage keyCertSign: a CA certificate, not a holder's.
    pub ca: bool,
}

/// Reads what a DER certificate is for (a token's certificates carry no other role).
pub fn usage(der: &[u8]) -> Result<CertUsage, CertError> {
    let cert = parse(der)?;
    let ku = cert.key_usage().ok().flatten().map(|e| *e.value);
    let ca = cert.basic_constraints().ok().flatten().is_some_and(|b| b.value.ca);
    Ok(CertUsage {
        non_repudiation: ku.is_some_and(|k| k.non_repudiation()),
        ca: ca || ku.is_some_and(|k| k.key_cert_sign()),
    })
}

fn day(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_tests::pki::{Country, LeafKeyType, Pki, PkiSpec};

    #[test]
    fn a_belgian_certificate_is_summarized() {
        let pki = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap();
        let s = summarize(&pki.auth_der).unwrap();
        assert_eq!(s.holder, pki.spec.holder.full_name());
        assert_eq!(
            s.serial_number.as_deref(),
            Some(pki.spec.holder.national_number.as_str())
        );
        assert!(s.subject_cn.ends_with("(Authentication)"), "{}", s.subject_cn);
        assert_eq!(s.key, "EC P-384");
        assert!(s.not_before_unix < s.not_after_unix);
        assert_eq!(s.valid_from.len(), 10);
        assert!(matches!(summarize(b"junk"), Err(CertError::Parse(_))));

        let rsa = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::Rsa2048)).unwrap();
        assert_eq!(summarize(&rsa.sign_der).unwrap().key, "RSA 2048");
    }

    #[test]
    fn usage_tells_signing_authentication_and_ca_apart() {
        let pki = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap();
        let of = |der: &[u8]| usage(der).unwrap();
        assert_eq!(of(&pki.auth_der), CertUsage::default());
        assert_eq!(
            of(&pki.sign_der),
            CertUsage {
                non_repudiation: true,
                ca: false
            }
        );
        assert!(of(&pki.ca_der).ca && of(&pki.root_der).ca);
        assert!(usage(b"junk").is_err());
    }
}
