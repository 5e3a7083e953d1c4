//! The objects a card shows through the module: its authentication certificate and the matching
//! private key, paired by `CKA_ID` (PKCS#11 v2.40 §4.4, §4.6.3, §4.9). Only what a TLS client needs
//! (the attribute set of field-notes-2.md §B): the signing (non-repudiation) key is never offered,
//! since a TLS handshake must not be able to make a qualified signature.

use cryptoki_sys::{
    CKA_ALWAYS_AUTHENTICATE, CKA_ALWAYS_SENSITIVE, CKA_CERTIFICATE_CATEGORY, CKA_CERTIFICATE_TYPE, CKA_CLASS,
    CKA_DECRYPT, CKA_DERIVE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_EXTRACTABLE, CKA_ID, CKA_ISSUER, CKA_KEY_TYPE, CKA_LABEL,
    CKA_LOCAL, CKA_MODIFIABLE, CKA_MODULUS, CKA_MODULUS_BITS, CKA_NEVER_EXTRACTABLE, CKA_PRIVATE, CKA_PUBLIC_EXPONENT,
    CKA_PUBLIC_KEY_INFO, CKA_SENSITIVE, CKA_SERIAL_NUMBER, CKA_SIGN, CKA_SIGN_RECOVER, CKA_SUBJECT, CKA_TOKEN,
    CKA_TRUSTED, CKA_UNWRAP, CKA_VALUE, CKC_X_509, CKK_EC, CKK_RSA, CKO_CERTIFICATE, CKO_PRIVATE_KEY,
    CK_ATTRIBUTE_TYPE, CK_ULONG,
};
use eidlink_cert::{CertFields, KeyParts};
use sha2::Digest as _;

/// `CKA_CERTIFICATE_CATEGORY` "token user" (PKCS#11 v2.40 §4.6.2): a certificate of the token's
/// owner, which NSS offers for client authentication.
const CATEGORY_TOKEN_USER: CK_ULONG = 1;

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The X.509 certificate.
    Certificate,
    /// The private key (usable only through `C_Sign`, after the PIN dialog).
    PrivateKey,
}

/// One object with every attribute it answers, in the byte form PKCS#11 gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub(crate) class: Class,
    attributes: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
}

impl Object {
    /// The value of attribute `t`, if the object has it.
    pub(crate) fn attribute(&self, t: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        self.attributes.iter().find(|(a, _)| *a == t).map(|(_, v)| v.as_slice())
    }

    /// Whether every attribute of a `C_FindObjectsInit` template has exactly this value here.
    pub(crate) fn matches(&self, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> bool {
        template.iter().all(|(t, v)| self.attribute(*t) == Some(v.as_slice()))
    }
}

/// A `CK_ULONG` attribute value, in the platform's size and byte order (what C callers read).
pub(crate) fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn bool_(v: bool) -> Vec<u8> {
    vec![u8::from(v)]
}

/// The certificate and private key of a card's authentication key: `label` names both, and
/// `CKA_ID` is the first 20 bytes of the SHA-256 of the public key (stable for a card, different
/// between cards, so a browser never pairs one card's certificate with another's key).
pub(crate) fn authentication_objects(cert_der: &[u8], fields: &CertFields, label: &str) -> Vec<Object> {
    let id = sha2::Sha256::digest(&fields.spki)[..20].to_vec();
    let common = |class: CK_ULONG| {
        vec![
            (CKA_CLASS, ulong(class)),
            (CKA_TOKEN, bool_(true)),
            (CKA_PRIVATE, bool_(false)),
            (CKA_MODIFIABLE, bool_(false)),
            (CKA_LABEL, label.as_bytes().to_vec()),
            (CKA_ID, id.clone()),
            (CKA_SUBJECT, fields.subject.clone()),
        ]
    };
    let mut cert = common(CKO_CERTIFICATE);
    cert.extend([
        (CKA_CERTIFICATE_TYPE, ulong(CKC_X_509)),
        (CKA_CERTIFICATE_CATEGORY, ulong(CATEGORY_TOKEN_USER)),
        (CKA_TRUSTED, bool_(false)),
        (CKA_VALUE, cert_der.to_vec()),
        (CKA_ISSUER, fields.issuer.clone()),
        (CKA_SERIAL_NUMBER, fields.serial.clone()),
        (CKA_PUBLIC_KEY_INFO, fields.spki.clone()),
    ]);
    let mut key = common(CKO_PRIVATE_KEY);
    key.extend([
        (CKA_SIGN, bool_(true)),
        (CKA_SIGN_RECOVER, bool_(false)),
        (CKA_DECRYPT, bool_(false)),
        (CKA_UNWRAP, bool_(false)),
        (CKA_DERIVE, bool_(false)),
        (CKA_SENSITIVE, bool_(true)),
        (CKA_ALWAYS_SENSITIVE, bool_(true)),
        (CKA_EXTRACTABLE, bool_(false)),
        (CKA_NEVER_EXTRACTABLE, bool_(true)),
        (CKA_LOCAL, bool_(true)),
        // The PIN is asked at each signature by the module's own dialog, not by the caller.
        (CKA_ALWAYS_AUTHENTICATE, bool_(false)),
        (CKA_PUBLIC_KEY_INFO, fields.spki.clone()),
    ]);
    match &fields.key {
        KeyParts::Rsa {
            modulus,
            public_exponent,
        } => {
            key.extend([
                (CKA_KEY_TYPE, ulong(CKK_RSA)),
                (CKA_MODULUS, modulus.clone()),
                (CKA_PUBLIC_EXPONENT, public_exponent.clone()),
                (CKA_MODULUS_BITS, ulong(bits(modulus))),
            ]);
        }
        KeyParts::Ec { params, point } => {
            key.extend([
                (CKA_KEY_TYPE, ulong(CKK_EC)),
                (CKA_EC_PARAMS, params.clone()),
                (CKA_EC_POINT, point.clone()),
            ]);
        }
    }
    vec![
        Object {
            class: Class::Certificate,
            attributes: cert,
        },
        Object {
            class: Class::PrivateKey,
            attributes: key,
        },
    ]
}

/// The size in bits of a big-endian number without leading zero bytes.
fn bits(n: &[u8]) -> CK_ULONG {
    match n.first() {
        None => 0,
        Some(&first) => ((n.len() - 1) * 8 + (8 - first.leading_zeros() as usize)) as CK_ULONG,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_count_from_the_top_bit() {
        assert_eq!(bits(&[0x80, 0, 0]), 24);
        assert_eq!(bits(&[0x01, 0]), 9);
        assert_eq!(bits(&[]), 0);
    }
}
