//! Certificate checks of protocol.md §4 steps 2 to 5: parsing, purpose, policies, validity, and one
//! link of a PKIX path (issuer name, CA constraints, signature).

use eidlink_cert::PublicKey;
use eidlink_core::{Digest, HashAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{
    OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME, OID_X509_GIVEN_NAME, OID_X509_SERIALNUMBER, OID_X509_SURNAME,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AlgorithmIdentifier, X509Name};

use crate::error::{ConfigError, VerifyError};

/// id-kp-clientAuth (RFC 5280 §4.2.1.12), what an authentication certificate's EKU must contain.
pub const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";

/// Extensions whose meaning this verifier either checks or that cannot weaken a path when ignored
/// (identifiers, distribution points, QC statements). Any other extension marked critical makes the
/// certificate unusable (RFC 5280 §4.2).
const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.14",            // subjectKeyIdentifier
    "2.5.29.15",            // keyUsage
    "2.5.29.17",            // subjectAltName
    "2.5.29.19",            // basicConstraints
    "2.5.29.31",            // cRLDistributionPoints
    "2.5.29.32",            // certificatePolicies
    "2.5.29.35",            // authorityKeyIdentifier
    "2.5.29.37",            // extKeyUsage
    "1.3.6.1.5.5.7.1.1",    // authorityInfoAccess
    "1.3.6.1.5.5.7.1.3",    // qcStatements
    "1.3.6.1.5.5.7.48.1.5", // id-pkix-ocsp-nocheck
];

/// Parses one DER certificate, refusing trailing bytes. x509-parser is lenient where real eID
/// certificates are not strict DER (protocol.md §4.2: e.g. an explicitly encoded `cA=FALSE`, a
/// DEFAULT value that DER says must be omitted), unlike the strict `der`/`x509-cert` decoders.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, VerifyError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| VerifyError::Certificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(VerifyError::Certificate(format!(
            "{} bytes after the certificate",
            rest.len()
        )));
    }
    Ok(cert)
}

/// [`load_certificates`] for a builder's chained setters: a failure loads nothing and is kept (the
/// first one) in `error`, for `build()` to report.
pub(crate) fn load_noting_error(bytes: &[u8], error: &mut Option<ConfigError>) -> Vec<Vec<u8>> {
    load_certificates(bytes).unwrap_or_else(|e| {
        error.get_or_insert(e);
        Vec::new()
    })
}

/// Loads certificates from PEM (one or more `CERTIFICATE` blocks; other blocks are ignored) or from a
/// single DER certificate, and returns their DER. Every certificate must parse.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ConfigError> {
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    let ders = if looks_pem {
        let mut ders = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| ConfigError::Certificate(format!("PEM: {e}")))?;
            if pem.label == "CERTIFICATE" {
                ders.push(pem.contents);
            }
        }
        if ders.is_empty() {
            return Err(ConfigError::Certificate("no CERTIFICATE block in the PEM".into()));
        }
        ders
    } else {
        vec![bytes.to_vec()]
    };
    for der in &ders {
        parse(der).map_err(|e| ConfigError::Certificate(e.to_string()))?;
    }
    Ok(ders)
}

/// Who the certificate names: what a service uses to log the citizen in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// commonName, e.g. "Alice Specimen (Authentication)" (BE) or "JÕEORG,JAAK-KRISTJAN,38001085718" (EE).
    pub common_name: Option<String>,
    /// givenName.
    pub given_name: Option<String>,
    /// surname.
    pub surname: Option<String>,
    /// serialNumber as written, e.g. "85010112486" (BE) or "PNOEE-38001085718" (EE, ETSI EN 319 412-1).
    pub serial_number: Option<String>,
    /// The national identification number: `serial_number` without an ETSI EN 319 412-1 §5.1.3
    /// semantics prefix such as "PNOEE-".
    pub national_number: Option<String>,
    /// countryName (two letters).
    pub country: Option<String>,
}

impl Subject {
    /// "Given Surname", or the common name when either is missing.
    pub fn full_name(&self) -> Option<String> {
        match (&self.given_name, &self.surname) {
            (Some(g), Some(s)) => Some(format!("{g} {s}")),
            _ => self.common_name.clone(),
        }
    }
}

fn attr(name: &X509Name<'_>, oid: &x509_parser::der_parser::Oid<'_>) -> Option<String> {
    name.iter_by_oid(oid)
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

/// Strips "PNOEE-", "IDCBE-", ... (three letters, two letters, hyphen) from a serialNumber.
fn national_number(serial: &str) -> String {
    let b = serial.as_bytes();
    let prefixed = b.len() > 6
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b[5] == b'-'
        && matches!(&b[..3], b"PNO" | b"IDC" | b"PAS" | b"TIN");
    if prefixed {
        serial[6..].to_owned()
    } else {
        serial.to_owned()
    }
}

/// The subject's identity attributes.
pub(crate) fn subject(cert: &X509Certificate<'_>) -> Subject {
    let name = cert.subject();
    let serial_number = attr(name, &OID_X509_SERIALNUMBER);
    Subject {
        common_name: attr(name, &OID_X509_COMMON_NAME),
        given_name: attr(name, &OID_X509_GIVEN_NAME),
        surname: attr(name, &OID_X509_SURNAME),
        national_number: serial_number.as_deref().map(national_number),
        serial_number,
        country: attr(name, &OID_X509_COUNTRY_NAME),
    }
}

/// The subject's commonName, or its whole DN, for messages.
pub(crate) fn display_name(cert: &X509Certificate<'_>) -> String {
    attr(cert.subject(), &OID_X509_COMMON_NAME).unwrap_or_else(|| cert.subject().to_string())
}

/// The certificate's public key.
pub(crate) fn public_key(cert: &X509Certificate<'_>) -> Result<PublicKey, VerifyError> {
    PublicKey::from_spki_der(cert.public_key().raw).map_err(|e| VerifyError::UnsupportedKey(e.to_string()))
}

/// §4.3: keyUsage present with digitalSignature; extendedKeyUsage, if present, with clientAuth. An
/// unparseable or duplicated extension counts as absent-with-the-bit-missing (refused).
pub(crate) fn check_auth_purpose(cert: &X509Certificate<'_>) -> Result<(), VerifyError> {
    match cert.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() => {}
        _ => return Err(VerifyError::KeyUsage),
    }
    match cert.extended_key_usage() {
        Ok(None) => Ok(()),
        // Only clientAuth itself: anyExtendedKeyUsage is not accepted, as in Web eID's validators.
        Ok(Some(eku)) if eku.value.client_auth => Ok(()),
        _ => Err(VerifyError::ExtendedKeyUsage),
    }
}

/// The `sign` check: keyUsage with nonRepudiation (qualified signing certificates) or
/// digitalSignature.
pub(crate) fn check_signing_purpose(cert: &X509Certificate<'_>) -> Result<(), VerifyError> {
    match cert.key_usage() {
        Ok(Some(ku)) if ku.value.non_repudiation() || ku.value.digital_signature() => Ok(()),
        _ => Err(VerifyError::KeyUsage),
    }
}

/// Whether a certificate may commit its holder to a document: its keyUsage has nonRepudiation
/// (contentCommitment, RFC 5280 §4.2.1.3). [`crate::verify_signature`] and
/// [`crate::TokenVerifier::verify_signing_certificate`] also take digitalSignature alone, which is
/// what authentication certificates carry; a site that has a contract signed calls this as well, so
/// a login certificate cannot stand in for a signing one. `Err(KeyUsage)` when the bit is absent.
pub fn check_non_repudiation(certificate_der: &[u8]) -> Result<(), VerifyError> {
    let c = parse(certificate_der)?;
    match c.key_usage() {
        Ok(Some(ku)) if ku.value.non_repudiation() => Ok(()),
        _ => Err(VerifyError::KeyUsage),
    }
}

/// §4.4: none of the certificate's policies is disallowed.
pub(crate) fn check_policies(cert: &X509Certificate<'_>, disallowed: &[String]) -> Result<(), VerifyError> {
    if disallowed.is_empty() {
        return Ok(());
    }
    for ext in cert.extensions() {
        if let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() {
            for p in policies {
                let id = p.policy_id.to_id_string();
                if disallowed.contains(&id) {
                    return Err(VerifyError::DisallowedPolicy(id));
                }
            }
        }
    }
    Ok(())
}

/// RFC 5280 §4.2: a critical extension the verifier does not know refuses the certificate.
pub(crate) fn check_critical_extensions(cert: &X509Certificate<'_>) -> Result<(), VerifyError> {
    for ext in cert.extensions() {
        let id = ext.oid.to_id_string();
        if ext.critical && !KNOWN_EXTENSIONS.contains(&id.as_str()) {
            return Err(VerifyError::UnsupportedCriticalExtension(id));
        }
    }
    Ok(())
}

/// Whether `now` (Unix seconds) is inside the validity period: `Err(NotYetValid | Expired)`.
pub(crate) fn check_validity(cert: &X509Certificate<'_>, now: i64) -> Result<(), VerifyError> {
    let v = cert.validity();
    if now < v.not_before.timestamp() {
        return Err(VerifyError::NotYetValid);
    }
    if now > v.not_after.timestamp() {
        return Err(VerifyError::Expired);
    }
    Ok(())
}

/// Whether `issuer`'s subject is `child`'s issuer: the same DER (how CAs write it), or else the same
/// attributes compared case-insensitively (RFC 5280 §7.1 in its simple form: the string types may
/// differ between the two encodings).
pub(crate) fn names_match(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    let (a, b) = (child.issuer(), issuer.subject());
    if a.as_raw() == b.as_raw() {
        return true;
    }
    let attrs = |n: &X509Name<'_>| -> Option<Vec<(String, String)>> {
        n.iter_attributes()
            .map(|at| {
                let value = at.as_str().ok()?;
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
                Some((at.attr_type().to_id_string(), value))
            })
            .collect()
    };
    match (attrs(a), attrs(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Whether `child`'s authorityKeyIdentifier names `issuer`'s subjectKeyIdentifier: then a failing
/// signature means an altered certificate rather than another CA of the same name.
pub(crate) fn key_ids_match(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    let aki = child.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|k| k.0),
        _ => None,
    });
    let ski = issuer.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
        _ => None,
    });
    matches!((aki, ski), (Some(a), Some(s)) if a == s)
}

/// RFC 5280 §4.2.1.9/§4.2.1.3: the issuer is a CA (basicConstraints cA=TRUE) whose keyUsage, if
/// present, allows keyCertSign, and whose pathLenConstraint allows `intermediates_below` CA
/// certificates between it and the end-entity.
pub(crate) fn check_is_ca(issuer: &X509Certificate<'_>, intermediates_below: u32) -> Result<(), VerifyError> {
    let name = || display_name(issuer);
    let bc = match issuer.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => bc,
        _ => return Err(VerifyError::IssuerNotCa(name())),
    };
    match issuer.key_usage() {
        Ok(None) => {}
        Ok(Some(ku)) if ku.value.key_cert_sign() => {}
        _ => return Err(VerifyError::IssuerNotCa(name())),
    }
    if let Some(max) = bc.value.path_len_constraint {
        if intermediates_below > max {
            return Err(VerifyError::PathLength(name()));
        }
    }
    Ok(())
}

/// Hash OIDs (NIST CSOR) of RSASSA-PSS parameters.
fn hash_of_oid(oid: &str) -> Option<HashAlgorithm> {
    Some(match oid {
        "2.16.840.1.101.3.4.2.1" => HashAlgorithm::Sha256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithm::Sha384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithm::Sha512,
        "2.16.840.1.101.3.4.2.4" => HashAlgorithm::Sha224,
        _ => return None,
    })
}

/// Verifies `child`'s signature with `issuer`'s key. `Ok(false)` for a signature that does not verify
/// (or a key of the wrong type); `Err` for an algorithm this verifier does not implement. SHA-1 based
/// algorithms are not accepted.
pub(crate) fn signed_by(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Result<bool, VerifyError> {
    verify_signed(
        issuer,
        &child.signature_algorithm,
        child.tbs_certificate.as_ref(),
        child.signature_value.data.as_ref(),
    )
}

/// Verifies a signature `sig` made with `algorithm` over the DER `tbs` with `signer`'s key: a
/// certificate's, or an OCSP response's (RFC 6960 §4.2.1, the same AlgorithmIdentifier and BIT
/// STRING). Results as for [`signed_by`].
pub(crate) fn verify_signed(
    signer: &X509Certificate<'_>,
    algorithm: &AlgorithmIdentifier<'_>,
    tbs: &[u8],
    sig: &[u8],
) -> Result<bool, VerifyError> {
    let key = public_key(signer)?;
    let oid = algorithm.algorithm.to_id_string();
    let unsupported = || VerifyError::UnsupportedSignatureAlgorithm(oid.clone());
    // Any failed check (wrong signature, or a key of the wrong type for the algorithm) is a
    // signature that does not verify: the caller then tries another CA of the same name.
    let ecdsa = |h: HashAlgorithm| Ok(key.verify_ecdsa_der(&Digest::of(h, tbs), sig).is_ok());
    let pkcs1 = |h: HashAlgorithm| Ok(key.verify_pkcs1(&Digest::of(h, tbs), sig).is_ok());
    match oid.as_str() {
        // RFC 5758 §3.2.
        "1.2.840.10045.4.3.1" => ecdsa(HashAlgorithm::Sha224),
        "1.2.840.10045.4.3.2" => ecdsa(HashAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => ecdsa(HashAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => ecdsa(HashAlgorithm::Sha512),
        // RFC 4055 §5.
        "1.2.840.113549.1.1.14" => pkcs1(HashAlgorithm::Sha224),
        "1.2.840.113549.1.1.11" => pkcs1(HashAlgorithm::Sha256),
        "1.2.840.113549.1.1.12" => pkcs1(HashAlgorithm::Sha384),
        "1.2.840.113549.1.1.13" => pkcs1(HashAlgorithm::Sha512),
        // RSASSA-PSS (RFC 4055 §3.1): MGF1 with the same hash, trailer field 1.
        "1.2.840.113549.1.1.10" => {
            let params = algorithm
                .parameters
                .as_ref()
                .and_then(|p| x509_parser::signature_algorithm::RsaSsaPssParams::try_from(p).ok())
                .ok_or_else(unsupported)?;
            let hash = hash_of_oid(&params.hash_algorithm_oid().to_id_string()).ok_or_else(unsupported)?;
            let mgf = params.mask_gen_algorithm().map_err(|_| unsupported())?;
            if mgf.mgf.to_id_string() != "1.2.840.113549.1.1.8"
                || hash_of_oid(&mgf.hash.to_id_string()) != Some(hash)
                || params.trailer_field() != 1
            {
                return Err(unsupported());
            }
            let salt = usize::try_from(params.salt_length()).map_err(|_| unsupported())?;
            Ok(key.verify_pss(&Digest::of(hash, tbs), sig, salt).is_ok())
        }
        _ => Err(unsupported()),
    }
}
