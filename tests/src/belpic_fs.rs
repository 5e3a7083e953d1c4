//! Content of the Belgian eID file system (cards.md §1.3, §1.3b, §1.4).
//!
//! The PKCS#15 files follow the byte templates of §1.3b, with every DER
//! length computed here (the 1.8 manual's offsets are inconsistent).

use p384::ecdsa::DerSignature;
use p384::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha384};
use signature::Signer;

use crate::error::Result;
use crate::fs::{FileSystem, MF};
use crate::pki::{derive_bytes, Pki};
use crate::tlv::{be_field, der, der_cat};

/// BELPIC applet instance AID (cards.md §1.2).
pub const APPLET_AID: &[u8] = &[
    0xA0, 0x00, 0x00, 0x00, 0x30, 0x29, 0x05, 0x70, 0x00, 0xAD, 0x13, 0x10, 0x01, 0x01, 0xFF,
];
/// DF(BELPIC) AID, "..PKCS-15" (cards.md §1.2).
pub const DF_BELPIC_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x01, 0x77, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35];
/// DF(ID) AID, "..IdFiles" (cards.md §1.2).
pub const DF_ID_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x01, 0x77, 0x49, 0x64, 0x46, 0x69, 0x6C, 0x65, 0x73];

/// FID of DF(BELPIC).
pub const DF_BELPIC: u16 = 0xDF00;
/// FID of DF(ID).
pub const DF_ID: u16 = 0xDF01;
/// EF(ID#RRN), the identity file.
pub const EF_ID: u16 = 0x4031;
/// EF(ID#Address).
pub const EF_ADDRESS: u16 = 0x4033;

/// Zero bytes appended to every certificate file (cards.md §1.3, v5_4 §4.5).
pub const CERT_PADDING: usize = 1100;
/// Fixed size of the address file (cards.md §1.3, v5_4 §6.2.4).
pub const ADDRESS_FILE_SIZE: usize = 117;
/// Fixed size of the zero-padded DER ECDSA P-384 signature files 4032/4034
/// (the largest DER encoding of a P-384 signature).
pub const SIGNATURE_FILE_SIZE: usize = 104;

/// What the Belgian profile carries besides the file tree.
pub struct BelpicContent {
    /// The file tree.
    pub fs: FileSystem,
    /// 16-byte chip serial (TokenInfo, GET CARD DATA bytes 0-15, ID tag 02).
    pub chip_serial: [u8; 16],
}

/// Builds the whole file tree of a 1.7 (`v18 == false`) or 1.8 card.
pub fn build(v18: bool, pki: &Pki) -> Result<BelpicContent> {
    let seed = &pki.spec.seed;
    let mut chip_serial = [0u8; 16];
    // "SLBP" prefix as in the eid-mw test card's chip number (cards.md §1.3).
    chip_serial[..4].copy_from_slice(b"SLBP");
    chip_serial[4..].copy_from_slice(&derive_bytes(seed, "chip-serial", 12));

    let mut fs = FileSystem::new();
    fs.add_ef(&[MF, 0x2F00], ef_dir());
    fs.add_df(&[MF, DF_BELPIC], Some(DF_BELPIC_AID));
    fs.add_df(&[MF, DF_ID], Some(DF_ID_AID));

    let p15 = |fid: u16| [MF, DF_BELPIC, fid];
    fs.add_ef(&p15(0x5031), odf());
    fs.add_ef(&p15(0x5032), token_info(v18, &chip_serial));
    fs.add_ef(&p15(0x5034), aodf());
    fs.add_ef(&p15(0x5035), prkdf(v18));
    fs.add_ef(&p15(0x5037), cdf(v18));
    for (fid, cert) in [
        (0x5038, &pki.auth_der),
        (0x5039, &pki.sign_der),
        (0x503A, &pki.ca_der),
        (0x503B, &pki.root_der),
        (0x503C, &pki.rrn_der),
    ] {
        let mut content = cert.clone();
        content.resize(cert.len() + CERT_PADDING, 0);
        fs.add_ef(&p15(fid), content);
    }

    let id = |fid: u16| [MF, DF_ID, fid];
    let photo = photo(pki);
    let basic_key_file = if v18 {
        Some(pki.basic_key.verifying_key().to_public_key_der()?.as_bytes().to_vec())
    } else {
        None
    };
    let identity = identity_file(v18, pki, &chip_serial, &photo, basic_key_file.as_deref());
    let identity_sig = rrn_signature(pki, &identity)?;
    let address = address_file();
    let mut signed_address = trim_zeros(&address).to_vec();
    signed_address.extend_from_slice(trim_zeros_der(&identity_sig));
    let address_sig = rrn_signature(pki, &signed_address)?;
    fs.add_ef(&id(EF_ID), identity);
    fs.add_ef(&id(0x4032), identity_sig);
    fs.add_ef(&id(EF_ADDRESS), address);
    fs.add_ef(&id(0x4034), address_sig);
    fs.add_ef(&id(0x4035), photo);
    if let Some(key) = basic_key_file {
        fs.add_ef(&id(0x4040), key);
    }
    Ok(BelpicContent { fs, chip_serial })
}

/// EF(DIR) 2F00 (cards.md §1.3b).
fn ef_dir() -> Vec<u8> {
    der_cat(
        0x61,
        &[
            &der(0x4F, DF_BELPIC_AID),
            &der(0x50, b"BELPIC"),
            &der(0x51, &[0x3F, 0x00, 0xDF, 0x00]),
            &der(0x73, &der(0x06, &[0x60, 0x38, 0x02])),
        ],
    )
}

fn path_p15(fid: u16) -> Vec<u8> {
    let [hi, lo] = fid.to_be_bytes();
    der(0x04, &[0x3F, 0x00, 0xDF, 0x00, hi, lo])
}

/// EF(ODF) 5031: PrKDF 5035, CDF 5037, AODF 5034 (cards.md §1.3b).
fn odf() -> Vec<u8> {
    [
        der(0xA0, &der(0x30, &path_p15(0x5035))),
        der(0xA4, &der(0x30, &path_p15(0x5037))),
        der(0xA8, &der(0x30, &path_p15(0x5034))),
    ]
    .concat()
}

/// EF(TokenInfo) 5032 (cards.md §1.3b). The version bytes (graphical perso,
/// electrical perso, electrical perso interface, RFU) are guesses: 1.8 cards
/// carry electrical perso v04 (§1.1), 1.7 cards v02.
fn token_info(v18: bool, serial: &[u8; 16]) -> Vec<u8> {
    let versions: [u8; 4] = if v18 {
        [0x01, 0x04, 0x01, 0x00]
    } else {
        [0x01, 0x02, 0x00, 0x00]
    };
    der_cat(
        0x30,
        &[
            &der(0x02, &[0x00]),
            &der(0x04, serial),
            &der(0x80, b"BELPIC"),
            &der(0x03, &[0x04, 0x30]),
            &der(0x9E, &versions),
        ],
    )
}

/// CommonObjectAttributes: label, flags, optional authId and userConsent.
fn common_object(label: &str, flags: u8, auth_id: bool, user_consent: bool) -> Vec<u8> {
    let mut parts = vec![der(0x0C, label.as_bytes()), der(0x03, &[0x06, flags])];
    if auth_id {
        parts.push(der(0x04, &[0x01]));
    }
    if user_consent {
        parts.push(der(0x02, &[0x01]));
    }
    der(0x30, &parts.concat())
}

/// EF(AODF) 5034: the "Basic PIN" (cards.md §1.3b).
fn aodf() -> Vec<u8> {
    let pin_attrs = der_cat(
        0x30,
        &[
            &der(0x03, &[0x02, 0x0C]), // flags: initialized, needs-padding
            &der(0x0A, &[0x00]),       // pinType bcd
            &der(0x02, &[0x04]),       // minLength
            &der(0x02, &[0x08]),       // storedLength
            &der(0x80, &[0x01]),       // pinReference
            &der(0x04, &[0xFF]),       // padChar
            &der(0x30, &der(0x04, &[0x3F, 0x00])),
        ],
    );
    der_cat(
        0x30,
        &[
            &common_object("Basic PIN", 0xC0, false, false),
            &der(0x30, &der(0x04, &[0x01])),
            &der(0xA1, &pin_attrs),
        ],
    )
}

/// EF(PrKDF) 5035 (cards.md §1.3b): 1.7 RSA entries (`30`, 2048-bit, the
/// DERIVED `08 00`), 1.8 EC entries (`A0`, 384-bit).
fn prkdf(v18: bool) -> Vec<u8> {
    let (tag, key_len): (u8, [u8; 2]) = if v18 {
        (0xA0, [0x01, 0x80])
    } else {
        (0x30, [0x08, 0x00])
    };
    let type_attrs = der(
        0xA1,
        &der_cat(
            0x30,
            &[&der(0x30, &der(0x04, &[0x3F, 0x00, 0xDF, 0x00])), &der(0x02, &key_len)],
        ),
    );
    let entry = |label: &str, consent: bool, id: u8, usage: &[u8], key_ref: u8| {
        der_cat(
            tag,
            &[
                &common_object(label, 0xC0, true, consent),
                &der_cat(
                    0x30,
                    &[
                        &der(0x04, &[id]),
                        &der(0x03, usage),
                        &der(0x03, &[0x03, 0xB8]), // accessFlags
                        &der(0x02, &[0x00, key_ref]),
                    ],
                ),
                &type_attrs,
            ],
        )
    };
    [
        entry("Authentication", false, 0x02, &[0x05, 0x20], 0x82),
        entry("Signature", true, 0x03, &[0x06, 0x00, 0x40], 0x83),
    ]
    .concat()
}

/// EF(CDF) 5037 (cards.md §1.3b). 1.8 uses flags `06 40` and adds
/// implicitTrust FALSE (`83 01 00`).
fn cdf(v18: bool) -> Vec<u8> {
    let flags = if v18 { 0x40 } else { 0xC0 };
    let entry = |label: &str, id: u8, authority: bool, fid: u16| {
        let mut attrs = der(0x04, &[id]);
        if authority {
            attrs.extend(der(0x01, &[0xFF]));
        }
        if v18 {
            attrs.extend(der(0x83, &[0x00]));
        }
        der_cat(
            0x30,
            &[
                &common_object(label, flags, true, false),
                &der(0x30, &attrs),
                &der(0xA1, &der(0x30, &der(0x30, &path_p15(fid)))),
            ],
        )
    };
    [
        entry("Authentication", 0x02, false, 0x5038),
        entry("Signature", 0x03, false, 0x5039),
        entry("CA", 0x04, true, 0x503A),
        entry("Root", 0x06, true, 0x503B),
    ]
    .concat()
}

/// A tiny JPEG-framed blob (SOI, APP0/JFIF, COM, EOI): enough for
/// middlewares that store or hash the photo, not a decodable picture.
fn photo(pki: &Pki) -> Vec<u8> {
    let mut out = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00,
    ];
    let comment = format!("eidlink virtual card photo of {}", pki.spec.holder.full_name());
    let len = u16::try_from(comment.len() + 2).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

const MONTHS_NL: [&str; 12] = [
    "JAN", "FEB", "MAAR", "APR", "MEI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEC",
];

/// Date of birth "DD MMM YYYY" and gender "M"/"V" from a national number
/// (YYMMDD, sequence odd = male, mod-97 check with a leading 2 for births
/// from 2000). Falls back to fixed values for non-standard numbers.
fn birth_and_gender(nn: &str) -> (String, &'static str) {
    let digits: Vec<u32> = nn.bytes().map(|b| u32::from(b.wrapping_sub(b'0'))).collect();
    if digits.len() != 11 || digits.iter().any(|d| *d > 9) {
        return ("01 JAN 1985".into(), "V");
    }
    let num = |r: std::ops::Range<usize>| digits[r].iter().fold(0u64, |a, d| a * 10 + u64::from(*d));
    let first9 = num(0..9);
    let check = num(9..11);
    let century = if 97 - first9 % 97 == check { 1900 } else { 2000 };
    let year = century + num(0..2);
    let month = usize::try_from(num(2..4)).unwrap_or(1).clamp(1, 12);
    let day = num(4..6).clamp(1, 31);
    let gender = if num(6..9) % 2 == 1 { "M" } else { "V" };
    (format!("{day:02} {} {year}", MONTHS_NL[month - 1]), gender)
}

/// EF(ID#RRN) 4031 (cards.md §1.4, tags from eid-mw beid_p11.h).
fn identity_file(v18: bool, pki: &Pki, chip_serial: &[u8; 16], photo: &[u8], basic_key_file: Option<&[u8]>) -> Vec<u8> {
    let h = &pki.spec.holder;
    let card_digits: String = derive_bytes(&pki.spec.seed, "card-number", 10)
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    let card_number = format!("59{card_digits}");
    let (birth, gender) = birth_and_gender(&h.national_number);
    // 1.7-era cards hash the photo with SHA-1, 1.8 cards with SHA-384.
    let photo_hash = if v18 {
        Sha384::digest(photo).to_vec()
    } else {
        sha1::Sha1::digest(photo).to_vec()
    };
    let mut fields: Vec<(u8, Vec<u8>)> = vec![
        (0x01, card_number.into_bytes()),
        (0x02, chip_serial.to_vec()),
        (0x03, b"01.01.2024".to_vec()),
        (0x04, b"01.01.2034".to_vec()),
        (0x05, b"Brussel".to_vec()),
        (0x06, h.national_number.as_bytes().to_vec()),
        (0x07, h.surname.as_bytes().to_vec()),
        (0x08, h.given_name.as_bytes().to_vec()),
        (0x09, Vec::new()),
        (0x0A, b"Belg".to_vec()),
        (0x0B, b"Brussel".to_vec()),
        (0x0C, birth.into_bytes()),
        (0x0D, gender.as_bytes().to_vec()),
        (0x0E, Vec::new()),
        (0x0F, b"1".to_vec()),
        (0x10, b"0".to_vec()),
        (0x11, photo_hash),
    ];
    if let Some(key) = basic_key_file {
        fields.push((0x1A, Sha384::digest(key).to_vec()));
    }
    fields.iter().flat_map(|(t, v)| be_field(*t, v)).collect()
}

/// EF(ID#Address) 4033: street, zip, municipality, zero-padded to 117 bytes.
fn address_file() -> Vec<u8> {
    let mut out = [
        be_field(0x01, b"Wetstraat 16"),
        be_field(0x02, b"1000"),
        be_field(0x03, b"Brussel"),
    ]
    .concat();
    out.resize(ADDRESS_FILE_SIZE, 0);
    out
}

/// RRN signature file: DER ECDSA P-384/SHA-384, zero-padded to a fixed size
/// (cards.md §1.3: "real length = byte[1]+2").
fn rrn_signature(pki: &Pki, data: &[u8]) -> Result<Vec<u8>> {
    let sig: DerSignature = pki.rrn_key.try_sign(data)?;
    let mut out = sig.as_bytes().to_vec();
    out.resize(SIGNATURE_FILE_SIZE, 0);
    Ok(out)
}

fn trim_zeros(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
    &data[..end]
}

fn trim_zeros_der(sig_file: &[u8]) -> &[u8] {
    let len = sig_file.get(1).map_or(0, |l| usize::from(*l) + 2);
    sig_file.get(..len).unwrap_or(sig_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hex template with `"text"` runs replaced by their ASCII hex.
    fn template(t: &str) -> String {
        let mut out = String::new();
        for (i, part) in t.split('"').enumerate() {
            if i % 2 == 1 {
                out.push_str(&hex::encode_upper(part));
            } else {
                out.extend(part.chars().filter(|c| !c.is_whitespace()));
            }
        }
        out
    }

    #[test]
    fn pkcs15_files_match_cards_md_1_3b() {
        assert_eq!(
            hex::encode_upper(ef_dir()),
            template(
                "61 23 4F 0C A0 00 00 01 77 50 4B 43 53 2D 31 35 50 06 42 45 4C 50 49 43
                 51 04 3F 00 DF 00 73 05 06 03 60 38 02"
            )
        );
        assert_eq!(
            hex::encode_upper(odf()),
            template(
                "A0 0A 30 08 04 06 3F 00 DF 00 50 35  A4 0A 30 08 04 06 3F 00 DF 00 50 37
                 A8 0A 30 08 04 06 3F 00 DF 00 50 34"
            )
        );
        assert_eq!(
            hex::encode_upper(aodf()),
            template(
                r#"30 33 30 0F 0C 09 "Basic PIN" 03 02 06 C0 30 03 04 01 01
                 A1 1B 30 19 03 02 02 0C 0A 01 00 02 01 04 02 01 08 80 01 01 04 01 FF 30 04 04 02 3F 00"#
            )
        );
        let serial = [0x11u8; 16];
        assert_eq!(
            hex::encode_upper(token_info(true, &serial)),
            template(&format!(
                r#"30 27 02 01 00 04 10 {} 80 06 "BELPIC" 03 02 04 30 9E 04 01 04 01 00"#,
                hex::encode_upper(serial)
            ))
        );
        // 1.7: the v4_01 dump with the DERIVED 2048-bit key length 08 00.
        assert_eq!(
            hex::encode_upper(prkdf(false)),
            template(
                r#"30 3A 30 17 0C 0E "Authentication" 03 02 06 C0 04 01 01
                     30 0F 04 01 02 03 02 05 20 03 02 03 B8 02 02 00 82
                     A1 0E 30 0C 30 06 04 04 3F 00 DF 00 02 02 08 00
                   30 39 30 15 0C 09 "Signature" 03 02 06 C0 04 01 01 02 01 01
                     30 10 04 01 03 03 03 06 00 40 03 02 03 B8 02 02 00 83
                     A1 0E 30 0C 30 06 04 04 3F 00 DF 00 02 02 08 00"#
            )
        );
        // 1.8: [0] entries, 384-bit keys.
        assert_eq!(
            hex::encode_upper(prkdf(true)),
            template(
                r#"A0 3A 30 17 0C 0E "Authentication" 03 02 06 C0 04 01 01
                     30 0F 04 01 02 03 02 05 20 03 02 03 B8 02 02 00 82
                     A1 0E 30 0C 30 06 04 04 3F 00 DF 00 02 02 01 80
                   A0 39 30 15 0C 09 "Signature" 03 02 06 C0 04 01 01 02 01 01
                     30 10 04 01 03 03 03 06 00 40 03 02 03 B8 02 02 00 83
                     A1 0E 30 0C 30 06 04 04 3F 00 DF 00 02 02 01 80"#
            )
        );
        assert_eq!(
            hex::encode_upper(cdf(false)),
            template(
                r#"30 2C 30 17 0C 0E "Authentication" 03 02 06 C0 04 01 01 30 03 04 01 02
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 38
                   30 27 30 12 0C 09 "Signature" 03 02 06 C0 04 01 01 30 03 04 01 03
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 39
                   30 23 30 0B 0C 02 "CA" 03 02 06 C0 04 01 01 30 06 04 01 04 01 01 FF
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 3A
                   30 25 30 0D 0C 04 "Root" 03 02 06 C0 04 01 01 30 06 04 01 06 01 01 FF
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 3B"#
            )
        );
        // 1.8: flags 06 40 and implicitTrust FALSE; lengths grow by 3.
        assert_eq!(
            hex::encode_upper(cdf(true)),
            template(
                r#"30 2F 30 17 0C 0E "Authentication" 03 02 06 40 04 01 01 30 06 04 01 02 83 01 00
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 38
                   30 2A 30 12 0C 09 "Signature" 03 02 06 40 04 01 01 30 06 04 01 03 83 01 00
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 39
                   30 26 30 0B 0C 02 "CA" 03 02 06 40 04 01 01 30 09 04 01 04 01 01 FF 83 01 00
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 3A
                   30 28 30 0D 0C 04 "Root" 03 02 06 40 04 01 01 30 09 04 01 06 01 01 FF 83 01 00
                     A1 0C 30 0A 30 08 04 06 3F 00 DF 00 50 3B"#
            )
        );
    }

    #[test]
    fn birth_date_and_gender_from_national_number() {
        assert_eq!(birth_and_gender("85010112486"), ("01 JAN 1985".into(), "V"));
        assert_eq!(birth_and_gender("85010112387"), ("01 JAN 1985".into(), "M"));
    }
}
