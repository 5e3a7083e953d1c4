//! Minimal TLV builders: DER (BER definite lengths) for the PKCS#15 files and
//! the Belgian "simplified TLV" of the identity files (cards.md §1.4).

/// DER length octets of `len`.
pub fn der_len(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

/// One DER TLV with a single-byte tag.
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// One DER TLV whose content is the concatenation of `parts`.
pub fn der_cat(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    der(tag, &parts.concat())
}

/// A Belgian identity-file field: tag, length (`FF` repeated for every 255,
/// then the remainder), value (cards.md §1.4).
pub fn be_field(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let mut len = value.len();
    while len >= 255 {
        out.push(0xFF);
        len -= 255;
    }
    out.push(len as u8);
    out.extend_from_slice(value);
    out
}

/// Parses a Belgian identity/address file into `(tag, value)` fields; stops
/// at the zero padding (a `00 00` field) or at a truncated field.
pub fn be_fields(file: &[u8]) -> Vec<(u8, &[u8])> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while let Some(&tag) = file.get(pos) {
        let mut len = 0usize;
        pos += 1;
        loop {
            let Some(&b) = file.get(pos) else {
                return fields;
            };
            pos += 1;
            len += usize::from(b);
            if b != 0xFF {
                break;
            }
        }
        if tag == 0 && len == 0 {
            break;
        }
        let Some(value) = file.get(pos..pos + len) else {
            break;
        };
        fields.push((tag, value));
        pos += len;
    }
    fields
}
