//! The raw fields of a certificate that token interfaces hand out byte for byte: the DER of the
//! subject, the issuer and the serial number, and the public key's parts. PKCS#11 serves them as
//! attributes (PKCS#11 v2.40 §4.6.3 for certificates, §2.3 and §2.6 of the mechanisms document for
//! the key parts), so that NSS and OpenSSL can match a certificate to its key and to a server's
//! list of acceptable issuers without parsing the certificate themselves.

use x509_parser::public_key::PublicKey as ParsedKey;

use crate::error::CertError;
use crate::summary::parse;

/// The public key's parts, as PKCS#11 attributes carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParts {
    /// RSA: `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`, big-endian without leading zeros.
    Rsa {
        /// The modulus.
        modulus: Vec<u8>,
        /// The public exponent.
        public_exponent: Vec<u8>,
    },
    /// EC: `CKA_EC_PARAMS` (the DER of the curve's OID, as in the certificate) and `CKA_EC_POINT`
    /// (the DER OCTET STRING around the uncompressed point, as PKCS#11 v2.40 §2.3.3 asks).
    Ec {
        /// DER of the ECParameters (a namedCurve OID).
        params: Vec<u8>,
        /// DER OCTET STRING holding the point.
        point: Vec<u8>,
    },
}

/// The raw fields of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    /// DER of the subject Name.
    pub subject: Vec<u8>,
    /// DER of the issuer Name.
    pub issuer: Vec<u8>,
    /// DER of the serial number INTEGER (tag and length included, as `CKA_SERIAL_NUMBER` holds it).
    pub serial: Vec<u8>,
    /// DER of the SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// The public key's parts.
    pub key: KeyParts,
}

/// The raw fields of the DER certificate `der`.
pub fn fields(der: &[u8]) -> Result<CertFields, CertError> {
    let cert = parse(der)?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_pki;
    let key = match spki
        .parsed()
        .map_err(|e| CertError::Parse(format!("public key: {e}")))?
    {
        ParsedKey::RSA(rsa) => KeyParts::Rsa {
            modulus: strip_zeros(rsa.modulus),
            public_exponent: strip_zeros(rsa.exponent),
        },
        ParsedKey::EC(point) => {
            let params = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or_else(|| CertError::Parse("an EC key without its curve".to_owned()))?;
            KeyParts::Ec {
                params: der_tlv(params.tag().0 as u8, params.data),
                point: der_tlv(0x04, point.data()),
            }
        }
        _ => return Err(CertError::Parse("neither an RSA nor an EC key".to_owned())),
    };
    Ok(CertFields {
        subject: tbs.subject.as_raw().to_vec(),
        issuer: tbs.issuer.as_raw().to_vec(),
        serial: der_tlv(0x02, tbs.raw_serial()),
        spki: spki.raw.to_vec(),
        key,
    })
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes[start..].to_vec()
}

/// One DER TLV with a low tag number (X.690 §8.1.2) and a definite length (§8.1.3).
fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_encoded_short_and_long() {
        assert_eq!(der_tlv(0x04, &[1, 2]), [0x04, 0x02, 1, 2]);
        let long = der_tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = der_tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(strip_zeros(&[0, 0, 1, 0]), [1, 0]);
        assert_eq!(strip_zeros(&[0]), [0]);
    }
}
