//! Deterministic test PKI of the virtual cards (cards.md §8).
//!
//! From one seed: a self-signed test root CA → a citizen CA → the holder's
//! authentication and signing (non-repudiation) certificates, plus an RRN
//! (National Register) signer used for the Belgian identity-file signatures.
//! Every key is derived from the seed, and ECDSA is RFC 6979, so two builds
//! from the same [`PkiSpec`] give byte-identical DER.

use std::fmt;
use std::path::{Path, PathBuf};

use der::asn1::{Any, Ia5String, OctetString, PrintableStringRef, UtcTime, Utf8StringRef};
use der::oid::{AssociatedOid, ObjectIdentifier};
use der::referenced::OwnedToRef;
use der::{DateTime, Decode, Encode};
use p384::ecdsa::{DerSignature, SigningKey};
use p384::pkcs8::EncodePublicKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::{Digest, Sha256, Sha384};
use spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage,
    KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use crate::crypto;
use crate::error::{Result, VcardError};

/// Default seed of the test PKI.
pub const DEFAULT_SEED: &str = "eidlink-vcard";
/// Default holder name.
pub const DEFAULT_HOLDER: &str = "Alice Specimen";
/// Default Belgian national number: born 1985-01-01, even sequence number
/// (female), valid modulo-97 check digits.
pub const DEFAULT_BE_NATIONAL_NUMBER: &str = "85010112486";
/// Default Estonian personal code: 4 = woman born in the 1900s, 1985-01-01,
/// valid check digit.
pub const DEFAULT_EE_PERSONAL_CODE: &str = "48501010003";

const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_SURNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.4");
const OID_GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");
const OID_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const OID_KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-ad-ocsp (RFC 5280 §4.2.2.1).
const OID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// Which country's conventions the certificates follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    /// Belgian eID: `C=BE`, `serialNumber` = national number, CN "Name (Authentication)".
    Belgium,
    /// Estonian eID: `C=EE`, `serialNumber` = `PNOEE-<code>`, CN "SURNAME,GIVEN,code".
    Estonia,
}

/// Key type of the holder's two keys (the CAs are always P-384).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKeyType {
    /// ECDSA P-384 (Belgian 1.8, EstEID).
    P384,
    /// RSA-2048 (Belgian 1.7), under the EC CA like the real test PKI (cards.md §8).
    Rsa2048,
}

/// The card holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Given name(s), e.g. "Alice".
    pub given_name: String,
    /// Surname, e.g. "Specimen".
    pub surname: String,
    /// National number (BE, 11 digits) or personal code (EE, 11 digits).
    pub national_number: String,
}

impl Holder {
    /// Splits "Given Names Surname" (last word = surname) or
    /// "Surname, Given Names" into a holder.
    pub fn parse(name: &str, national_number: &str) -> Result<Holder> {
        let (given, surname) = if let Some((surname, given)) = name.split_once(',') {
            (given.trim(), surname.trim())
        } else {
            let name = name.trim();
            match name.rsplit_once(' ') {
                Some((given, surname)) => (given.trim(), surname.trim()),
                None => ("", name),
            }
        };
        if surname.is_empty() || given.is_empty() {
            return Err(VcardError::InvalidOption(format!(
                "holder {name:?}: expected \"Given Surname\" or \"Surname, Given\""
            )));
        }
        if national_number.is_empty() || !national_number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VcardError::InvalidOption(format!(
                "national number {national_number:?}: expected digits"
            )));
        }
        Ok(Holder {
            given_name: given.to_string(),
            surname: surname.to_string(),
            national_number: national_number.to_string(),
        })
    }

    /// "Given Surname".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.surname)
    }
}

/// Everything the PKI is derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiSpec {
    /// Seed of every key and serial number.
    pub seed: Vec<u8>,
    /// The card holder.
    pub holder: Holder,
    /// Naming conventions.
    pub country: Country,
    /// Key type of the authentication and signing keys.
    pub leaf_keys: LeafKeyType,
    /// OCSP responder URL for the authentication and signing certificates' authorityInfoAccess
    /// (id-ad-ocsp, RFC 5280 §4.2.2.1), for revocation tests. `None` (the default): no AIA
    /// extension, so the certificates stay byte-identical to those of recorded transcripts.
    pub ocsp_url: Option<String>,
}

impl PkiSpec {
    /// The default spec for a country: seed [`DEFAULT_SEED`], holder
    /// [`DEFAULT_HOLDER`] and the country's default national number.
    pub fn default_for(country: Country, leaf_keys: LeafKeyType) -> PkiSpec {
        let national_number = match country {
            Country::Belgium => DEFAULT_BE_NATIONAL_NUMBER,
            Country::Estonia => DEFAULT_EE_PERSONAL_CODE,
        };
        PkiSpec {
            seed: DEFAULT_SEED.as_bytes().to_vec(),
            holder: Holder {
                given_name: "Alice".into(),
                surname: "Specimen".into(),
                national_number: national_number.into(),
            },
            country,
            leaf_keys,
            ocsp_url: None,
        }
    }
}

/// One of the holder's private keys.
#[derive(Clone)]
pub enum LeafKey {
    /// ECDSA P-384.
    P384(SigningKey),
    /// RSA-2048.
    Rsa2048(Box<RsaPrivateKey>),
}

impl fmt::Debug for LeafKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeafKey::P384(_) => f.write_str("LeafKey::P384(<private>)"),
            LeafKey::Rsa2048(_) => f.write_str("LeafKey::Rsa2048(<private>)"),
        }
    }
}

impl LeafKey {
    /// DER SubjectPublicKeyInfo of the public key.
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            LeafKey::P384(key) => key.verifying_key().to_public_key_der()?,
            LeafKey::Rsa2048(key) => rsa::pkcs8::EncodePublicKey::to_public_key_der(&RsaPublicKey::from(key.as_ref()))?,
        };
        Ok(doc.as_bytes().to_vec())
    }

    /// What a card returns when asked to sign `digest` (hashed with `hash`) with this key: ECDSA
    /// raw `r ‖ s`; RSA PKCS#1 v1.5 over the DigestInfo the host builds, or RSA-PSS (SHA-256 only)
    /// when `padding` says so. For tests that build tokens and signatures the way a card would.
    pub fn card_sign(
        &self,
        hash: eidlink_core::HashAlgorithm,
        padding: eidlink_core::Padding,
        digest: &[u8],
    ) -> Result<Vec<u8>> {
        match (self, padding) {
            (LeafKey::P384(k), _) => crypto::ecdsa_sign_digest(k, digest),
            (LeafKey::Rsa2048(k), eidlink_core::Padding::Pss) => match hash {
                eidlink_core::HashAlgorithm::Sha256 => crypto::rsa_sign_pss(k, crypto::PssHash::Sha256, digest),
                other => Err(VcardError::InvalidOption(format!(
                    "PSS with {} in the test PKI",
                    other.name()
                ))),
            },
            (LeafKey::Rsa2048(k), _) => {
                let mut di = hash.digest_info_prefix().to_vec();
                di.extend_from_slice(digest);
                crypto::rsa_sign_pkcs1(k, &di)
            }
        }
    }

    /// Verifies what the card returns for this key: for P-384 a plain
    /// `r ‖ s` over `input` taken as a digest; for RSA a PKCS#1 v1.5
    /// signature over `input` taken as a complete DigestInfo.
    pub fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        match self {
            LeafKey::P384(key) => crypto::ecdsa_verify_digest(key.verifying_key(), input, signature),
            LeafKey::Rsa2048(key) => crypto::rsa_verify_pkcs1(&RsaPublicKey::from(key.as_ref()), input, signature),
        }
    }
}

/// The whole test PKI: certificates (DER) and private keys.
#[derive(Clone)]
pub struct Pki {
    /// What the PKI was derived from.
    pub spec: PkiSpec,
    /// Self-signed test root CA.
    pub root_der: Vec<u8>,
    /// Citizen CA, issued by the root.
    pub ca_der: Vec<u8>,
    /// Holder's authentication certificate, issued by the citizen CA.
    pub auth_der: Vec<u8>,
    /// Holder's signing (non-repudiation) certificate, issued by the citizen CA.
    pub sign_der: Vec<u8>,
    /// RRN (National Register) signer certificate, issued by the root.
    pub rrn_der: Vec<u8>,
    /// Root CA key (P-384).
    pub root_key: SigningKey,
    /// Citizen CA key (P-384).
    pub ca_key: SigningKey,
    /// RRN signer key (P-384); signs the Belgian identity and address files.
    pub rrn_key: SigningKey,
    /// Belgian 1.8 basic key (P-384, key 81, INTERNAL AUTHENTICATE; EF 4040).
    pub basic_key: SigningKey,
    /// Authentication key (Belgian key 82, EstEID key 81).
    pub auth_key: LeafKey,
    /// Signing key (Belgian key 83, EstEID key 9F).
    pub sign_key: LeafKey,
}

impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki")
            .field("spec", &self.spec)
            .field("root_der", &self.root_der.len())
            .field("ca_der", &self.ca_der.len())
            .field("auth_der", &self.auth_der.len())
            .field("sign_der", &self.sign_der.len())
            .field("rrn_der", &self.rrn_der.len())
            .finish_non_exhaustive()
    }
}

/// Attribute string types used in names.
#[derive(Clone, Copy)]
enum Str {
    Printable,
    Utf8,
}

fn name(attrs: &[(ObjectIdentifier, Str, &str)]) -> Result<Name> {
    let mut rdns = RdnSequence::default();
    for (oid, kind, value) in attrs {
        let value = match kind {
            Str::Printable => Any::encode_from(&PrintableStringRef::new(value)?)?,
            Str::Utf8 => Any::encode_from(&Utf8StringRef::new(value)?)?,
        };
        let atv = AttributeTypeAndValue { oid: *oid, value };
        rdns.push(RelativeDistinguishedName::try_from(vec![atv])?);
    }
    // Without its `hazmat` feature x509-cert 0.3 builds a `Name` only from a string (which picks
    // the string types itself) or from DER: the sequence goes through its encoding, which keeps
    // the chosen string types (the DER is the same as with x509-cert 0.2).
    Ok(Name::from_der(&rdns.to_der()?)?)
}

fn digest384(seed: &[u8], label: &str, counter: u32) -> [u8; 48] {
    let mut h = Sha384::new().chain_update(seed).chain_update(label.as_bytes());
    if counter > 0 {
        h.update(counter.to_be_bytes());
    }
    h.finalize().into()
}

/// P-384 key = SHA-384(seed ‖ label), re-hashed with a counter in the
/// (astronomically unlikely) case the digest is not a valid scalar.
pub fn derive_p384(seed: &[u8], label: &str) -> Result<SigningKey> {
    for counter in 0..16 {
        if let Ok(key) = SigningKey::from_slice(&digest384(seed, label, counter)) {
            return Ok(key);
        }
    }
    Err(VcardError::InvalidOption(format!(
        "seed gives no valid P-384 scalar for {label}"
    )))
}

/// PKCS#8 PEM of a P-384 key, e.g. a CA's for `openssl ocsp -rkey`.
pub fn key_pem(key: &SigningKey) -> Result<String> {
    use p384::pkcs8::EncodePrivateKey;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| VcardError::InvalidOption(format!("PKCS#8: {e}")))?;
    Ok(der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, der.as_bytes()).map_err(der::Error::from)?)
}

/// One line of an OpenSSL CA database (`index.txt`, as `openssl ca` writes it and `openssl ocsp
/// -index` reads it) for `cert_der`: valid, or revoked at `revoked = (YYMMDDHHMMSSZ, reason)` with an
/// RFC 5280 reason name such as `keyCompromise`. Expiry 2034 (that of the test PKI's leaves).
pub fn index_line(cert_der: &[u8], revoked: Option<(&str, &str)>) -> Result<String> {
    let cert = Certificate::from_der(cert_der)?;
    let serial: String = cert
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    Ok(match revoked {
        None => format!("V\t340101000000Z\t\t{serial}\tunknown\t/CN={serial}\n"),
        Some((at, reason)) => format!("R\t340101000000Z\t{at},{reason}\t{serial}\tunknown\t/CN={serial}\n"),
    })
}

/// RSA-2048 key from a ChaCha20 stream seeded with SHA-256(seed ‖ label).
pub fn derive_rsa2048(seed: &[u8], label: &str) -> Result<RsaPrivateKey> {
    let rng_seed: [u8; 32] = Sha256::new()
        .chain_update(seed)
        .chain_update(label.as_bytes())
        .finalize()
        .into();
    let mut rng = ChaCha20Rng::from_seed(rng_seed);
    Ok(RsaPrivateKey::new(&mut rng, 2048)?)
}

/// Deterministic bytes for identifiers (serial numbers, chip serials).
pub fn derive_bytes(seed: &[u8], label: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut counter = 1;
    while out.len() < len {
        out.extend_from_slice(&digest384(seed, label, counter));
        counter += 1;
    }
    out.truncate(len);
    out
}

fn utc(year: u16, month: u8, day: u8) -> Result<Time> {
    Ok(Time::UtcTime(UtcTime::from_date_time(DateTime::new(
        year, month, day, 0, 0, 0,
    )?)?))
}

fn ext<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn spki_of_p384(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned> {
    let doc = key.verifying_key().to_public_key_der()?;
    Ok(SubjectPublicKeyInfoOwned::from_der(doc.as_bytes())?)
}

fn spki_of_leaf(key: &LeafKey) -> Result<SubjectPublicKeyInfoOwned> {
    Ok(SubjectPublicKeyInfoOwned::from_der(&key.public_key_der()?)?)
}

/// What to put in one certificate.
struct CertTemplate<'a> {
    label: &'a str,
    subject: Name,
    issuer: Name,
    spki: SubjectPublicKeyInfoOwned,
    issuer_spki: &'a SubjectPublicKeyInfoOwned,
    issuer_key: &'a SigningKey,
    not_before: Time,
    not_after: Time,
    /// Extensions other than SKI/AKI.
    extensions: Vec<Extension>,
}

fn issue(seed: &[u8], t: CertTemplate<'_>) -> Result<Vec<u8>> {
    // Positive 16-byte serial with a non-zero first byte (RFC 5280 §4.1.2.2).
    let mut serial = derive_bytes(seed, &format!("serial:{}", t.label), 16);
    serial[0] = (serial[0] & 0x3F) | 0x10;
    let mut extensions = t.extensions;
    extensions.push(ext(&SubjectKeyIdentifier::try_from(t.spki.owned_to_ref())?, false)?);
    if t.subject != t.issuer {
        extensions.push(ext(
            &AuthorityKeyIdentifier::try_from(t.issuer_spki.owned_to_ref())?,
            false,
        )?);
    }
    CertFields {
        serial_number: SerialNumber::new(&serial)?,
        issuer: t.issuer,
        subject: t.subject,
        validity: Validity::new(t.not_before, t.not_after),
        subject_public_key_info: t.spki,
        extensions: Some(extensions),
    }
    .sign(t.issuer_key)
}

/// The contents of a v3 certificate the test PKI chooses; [`CertFields::sign`] makes the
/// certificate (version 3, ecdsa-with-SHA384, no unique identifiers). Tests edit a decoded
/// certificate through it ([`CertFields::from_certificate`]) and sign it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    /// Serial number.
    pub serial_number: SerialNumber,
    /// Issuer name.
    pub issuer: Name,
    /// Subject name.
    pub subject: Name,
    /// Validity period.
    pub validity: Validity,
    /// Subject public key.
    pub subject_public_key_info: SubjectPublicKeyInfoOwned,
    /// Extensions, in this order (`None` or empty: none, and the certificate becomes v1).
    pub extensions: Option<Extensions>,
}

impl CertFields {
    /// The fields of a decoded certificate's TBSCertificate (unique identifiers are dropped).
    pub fn from_certificate(cert: &Certificate) -> CertFields {
        let tbs: &TbsCertificate = cert.tbs_certificate();
        CertFields {
            serial_number: tbs.serial_number().clone(),
            issuer: tbs.issuer().clone(),
            subject: tbs.subject().clone(),
            validity: *tbs.validity(),
            subject_public_key_info: tbs.subject_public_key_info().clone(),
            extensions: tbs.extensions().cloned(),
        }
    }

    /// The DER certificate, signed with `issuer_key` (deterministic ECDSA P-384 with SHA-384).
    pub fn sign(self, issuer_key: &SigningKey) -> Result<Vec<u8>> {
        let profile = FixedProfile {
            issuer: self.issuer,
            subject: self.subject,
            extensions: self.extensions.unwrap_or_default(),
        };
        let builder =
            CertificateBuilder::new(profile, self.serial_number, self.validity, self.subject_public_key_info)?;
        let cert = builder.build::<_, DerSignature>(issuer_key)?;
        Ok(cert.to_der()?)
    }
}

/// A [`BuilderProfile`] that adds nothing: names and extensions exactly as given.
struct FixedProfile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

impl Pki {
    /// Builds the PKI. RSA key generation (1.7 profile) takes a few seconds;
    /// share the result (`Arc<Pki>`) between cards in tests.
    pub fn generate(spec: &PkiSpec) -> Result<Pki> {
        let seed = spec.seed.as_slice();
        let h = &spec.holder;
        let root_key = derive_p384(seed, "root-ca")?;
        let ca_key = derive_p384(seed, "citizen-ca")?;
        let rrn_key = derive_p384(seed, "rrn")?;
        let basic_key = derive_p384(seed, "basic")?;
        let (auth_key, sign_key) = match spec.leaf_keys {
            LeafKeyType::P384 => (
                LeafKey::P384(derive_p384(seed, "auth")?),
                LeafKey::P384(derive_p384(seed, "sign")?),
            ),
            LeafKeyType::Rsa2048 => (
                LeafKey::Rsa2048(Box::new(derive_rsa2048(seed, "auth")?)),
                LeafKey::Rsa2048(Box::new(derive_rsa2048(seed, "sign")?)),
            ),
        };

        let (c, root_cn, ca_cn, ca_serial) = match spec.country {
            Country::Belgium => (
                "BE",
                "eidlink TEST EC Root CA",
                "eidlink TEST EC Citizen CA",
                Some("202401"),
            ),
            Country::Estonia => ("EE", "eidlink TEST EE Root CA", "eidlink TEST of ESTEID2018", None),
        };
        let org = "eidlink test";
        let root_name = name(&[
            (OID_C, Str::Printable, c),
            (OID_O, Str::Utf8, org),
            (OID_CN, Str::Utf8, root_cn),
        ])?;
        let mut ca_attrs = vec![
            (OID_C, Str::Printable, c),
            (OID_O, Str::Utf8, org),
            (OID_CN, Str::Utf8, ca_cn),
        ];
        if let Some(serial) = ca_serial {
            ca_attrs.push((OID_SERIAL_NUMBER, Str::Printable, serial));
        }
        let ca_name = name(&ca_attrs)?;
        let rrn_name = name(&[
            (OID_C, Str::Printable, c),
            (OID_O, Str::Utf8, "eidlink test RRN"),
            (OID_CN, Str::Utf8, "RRN"),
        ])?;

        let (auth_cn, sign_cn, given, surname, serial) = match spec.country {
            Country::Belgium => (
                format!("{} (Authentication)", h.full_name()),
                format!("{} (Signature)", h.full_name()),
                h.given_name.clone(),
                h.surname.clone(),
                h.national_number.clone(),
            ),
            Country::Estonia => {
                let cn = format!(
                    "{},{},{}",
                    h.surname.to_uppercase(),
                    h.given_name.to_uppercase(),
                    h.national_number
                );
                (
                    cn.clone(),
                    cn,
                    h.given_name.to_uppercase(),
                    h.surname.to_uppercase(),
                    format!("PNOEE-{}", h.national_number),
                )
            }
        };
        let holder_name = |cn: &str| {
            name(&[
                (OID_C, Str::Printable, c),
                (OID_CN, Str::Utf8, cn),
                (OID_SURNAME, Str::Utf8, &surname),
                (OID_GIVEN_NAME, Str::Utf8, &given),
                (OID_SERIAL_NUMBER, Str::Printable, &serial),
            ])
        };

        let root_spki = spki_of_p384(&root_key)?;
        let ca_spki = spki_of_p384(&ca_key)?;
        let ca_usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        let leaf_bc = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        // Appended last, and only when asked for, so the default certificates keep their bytes.
        let leaf_aia = match &spec.ocsp_url {
            Some(url) => vec![ext(
                &AuthorityInfoAccessSyntax(vec![AccessDescription {
                    access_method: OID_AD_OCSP,
                    access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
                }]),
                false,
            )?],
            None => Vec::new(),
        };

        let root_der = issue(
            seed,
            CertTemplate {
                label: "root",
                subject: root_name.clone(),
                issuer: root_name.clone(),
                spki: root_spki.clone(),
                issuer_spki: &root_spki,
                issuer_key: &root_key,
                not_before: utc(2024, 1, 1)?,
                not_after: utc(2044, 1, 1)?,
                extensions: vec![
                    ext(
                        &BasicConstraints {
                            ca: true,
                            path_len_constraint: None,
                        },
                        true,
                    )?,
                    ext(&ca_usage, true)?,
                ],
            },
        )?;
        let ca_der = issue(
            seed,
            CertTemplate {
                label: "ca",
                subject: ca_name.clone(),
                issuer: root_name.clone(),
                spki: ca_spki.clone(),
                issuer_spki: &root_spki,
                issuer_key: &root_key,
                not_before: utc(2024, 1, 1)?,
                not_after: utc(2039, 1, 1)?,
                extensions: vec![
                    ext(
                        &BasicConstraints {
                            ca: true,
                            path_len_constraint: Some(0),
                        },
                        true,
                    )?,
                    ext(&ca_usage, true)?,
                ],
            },
        )?;
        let auth_der = issue(
            seed,
            CertTemplate {
                label: "auth",
                subject: holder_name(&auth_cn)?,
                issuer: ca_name.clone(),
                spki: spki_of_leaf(&auth_key)?,
                issuer_spki: &ca_spki,
                issuer_key: &ca_key,
                not_before: utc(2024, 1, 1)?,
                not_after: utc(2034, 1, 1)?,
                extensions: [
                    ext(&leaf_bc, false)?,
                    ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true)?,
                    ext(&ExtendedKeyUsage(vec![OID_KP_CLIENT_AUTH]), false)?,
                ]
                .into_iter()
                .chain(leaf_aia.iter().cloned())
                .collect(),
            },
        )?;
        let sign_der = issue(
            seed,
            CertTemplate {
                label: "sign",
                subject: holder_name(&sign_cn)?,
                issuer: ca_name,
                spki: spki_of_leaf(&sign_key)?,
                issuer_spki: &ca_spki,
                issuer_key: &ca_key,
                not_before: utc(2024, 1, 1)?,
                not_after: utc(2034, 1, 1)?,
                extensions: [
                    ext(&leaf_bc, false)?,
                    ext(&KeyUsage(KeyUsages::NonRepudiation.into()), true)?,
                ]
                .into_iter()
                .chain(leaf_aia.iter().cloned())
                .collect(),
            },
        )?;
        let rrn_der = issue(
            seed,
            CertTemplate {
                label: "rrn",
                subject: rrn_name,
                issuer: root_name,
                spki: spki_of_p384(&rrn_key)?,
                issuer_spki: &root_spki,
                issuer_key: &root_key,
                not_before: utc(2024, 1, 1)?,
                not_after: utc(2034, 1, 1)?,
                extensions: vec![
                    ext(&leaf_bc, false)?,
                    ext(&KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation), true)?,
                ],
            },
        )?;

        Ok(Pki {
            spec: spec.clone(),
            root_der,
            ca_der,
            auth_der,
            sign_der,
            rrn_der,
            root_key,
            ca_key,
            rrn_key,
            basic_key,
            auth_key,
            sign_key,
        })
    }

    /// Writes `root`, `ca`, `auth`, `sign` and `rrn` certificates as `.pem`
    /// and `.der` into `dir` (created if needed); returns the written paths.
    pub fn export(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (stem, der) in [
            ("root", &self.root_der),
            ("ca", &self.ca_der),
            ("auth", &self.auth_der),
            ("sign", &self.sign_der),
            ("rrn", &self.rrn_der),
        ] {
            let der_path = dir.join(format!("{stem}.der"));
            std::fs::write(&der_path, der)?;
            let pem =
                der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(der::Error::from)?;
            let pem_path = dir.join(format!("{stem}.pem"));
            std::fs::write(&pem_path, pem)?;
            written.push(pem_path);
            written.push(der_path);
        }
        Ok(written)
    }
}
