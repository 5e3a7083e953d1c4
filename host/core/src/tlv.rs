//! BER-TLV (ISO/IEC 7816-4 §5.2, ISO/IEC 8825-1) reader over a byte slice, without allocation.
//!
//! Card answers are untrusted input: every length is checked against the bytes actually present.

use crate::error::CardError;

/// One data object: its tag (1 to 3 bytes, as a big-endian number) and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, e.g. `0x62`, `0x5FC1`, `0xBF8101`.
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Whether the tag is constructed (bit 6 of its first byte).
    pub fn is_constructed(&self) -> bool {
        let first = self.tag.to_be_bytes().into_iter().find(|b| *b != 0).unwrap_or(0);
        first & 0x20 != 0
    }

    /// The data objects inside a constructed value.
    pub fn children(&self) -> TlvIter<'a> {
        TlvIter::new(self.value)
    }
}

/// Iterates over consecutive data objects. Yields an error once on malformed input, then stops.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> TlvIter<'a> {
    /// Iterates over the data objects in `bytes`. `00` and `FF` bytes between objects are skipped
    /// (ISO 7816-4 §5.2 allows them as padding).
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, CardError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while let [0x00 | 0xFF, rest @ ..] = self.rest {
            self.rest = rest;
        }
        if self.rest.is_empty() {
            return None;
        }
        match parse_one(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses one data object at the start of `bytes`; returns it and what follows.
pub fn parse_one(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), CardError> {
    let (tag, rest) = parse_tag(bytes)?;
    let (len, rest) = parse_length(rest)?;
    if rest.len() < len {
        return Err(CardError::Malformed("TLV value longer than the data"));
    }
    let (value, rest) = rest.split_at(len);
    Ok((Tlv { tag, value }, rest))
}

/// Finds the first object with `tag` among the objects of `bytes` (not recursive).
pub fn find(bytes: &[u8], tag: u32) -> Result<Option<&[u8]>, CardError> {
    for tlv in TlvIter::new(bytes) {
        let tlv = tlv?;
        if tlv.tag == tag {
            return Ok(Some(tlv.value));
        }
    }
    Ok(None)
}

/// Follows a path of tags through nested constructed objects, e.g. `[0x62, 0x80]` for the file size
/// in an FCP template.
pub fn find_path<'a>(bytes: &'a [u8], path: &[u32]) -> Result<Option<&'a [u8]>, CardError> {
    let mut current = bytes;
    for tag in path {
        match find(current, *tag)? {
            Some(v) => current = v,
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

fn parse_tag(bytes: &[u8]) -> Result<(u32, &[u8]), CardError> {
    let (&first, mut rest) = bytes.split_first().ok_or(CardError::Malformed("empty TLV"))?;
    let mut tag = u32::from(first);
    if first & 0x1F == 0x1F {
        // Subsequent tag bytes while bit 8 is set (ISO 8825-1 §8.1.2.4); at most 3 bytes in all.
        for i in 0..2 {
            let (&b, r) = rest.split_first().ok_or(CardError::Malformed("truncated TLV tag"))?;
            rest = r;
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                break;
            }
            if i == 1 {
                return Err(CardError::Malformed("TLV tag longer than 3 bytes"));
            }
        }
    }
    Ok((tag, rest))
}

fn parse_length(bytes: &[u8]) -> Result<(usize, &[u8]), CardError> {
    let (&first, rest) = bytes.split_first().ok_or(CardError::Malformed("missing TLV length"))?;
    match first {
        0x00..=0x7F => Ok((usize::from(first), rest)),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7F);
            if rest.len() < n {
                return Err(CardError::Malformed("truncated TLV length"));
            }
            let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((len, &rest[n..]))
        }
        _ => Err(CardError::Malformed("unsupported TLV length form")),
    }
}

/// The total length (header + content) of the DER object at the start of `bytes`, read from its
/// header alone. Used to trim certificate files padded with zeros, and to know how much to read.
pub fn der_total_length(bytes: &[u8]) -> Result<usize, CardError> {
    let (_, after_tag) = parse_tag(bytes)?;
    let (len, after_len) = parse_length(after_tag)?;
    Ok(bytes.len() - after_len.len() + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_multibyte_tags() {
        // EstEID PIN retry answer (cards.md §2.5).
        let bytes = hex::decode("701EBF81011AA0189A01039B0102A1108C06F30000734300 9C06F30000734300".replace(' ', ""))
            .unwrap_or_default();
        let left = find_path(&bytes, &[0x70, 0xBF8101, 0xA0, 0x9B]).ok().flatten();
        assert_eq!(left, Some(&[0x02][..]));
        let outer = parse_one(&bytes).map(|(t, _)| t).ok();
        assert!(outer.is_some_and(|t| t.is_constructed()));
    }

    #[test]
    fn long_lengths_and_der_total() {
        let mut cert = vec![0x30, 0x82, 0x01, 0x00];
        cert.extend(std::iter::repeat_n(0xAB, 256));
        cert.extend(std::iter::repeat_n(0x00, 1100));
        assert_eq!(der_total_length(&cert).ok(), Some(260));
        assert_eq!(der_total_length(&[0x30, 0x03, 1, 2, 3]).ok(), Some(5));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            &[0x62, 0x05, 0x80][..],
            &[0x9F][..],
            &[0x62, 0x84, 0, 0, 0, 1][..],
            &[0x5F, 0x81, 0x81, 0x01],
        ] {
            let all: Vec<_> = TlvIter::new(bad).collect();
            assert!(all.iter().any(|r| r.is_err()), "{bad:02X?}");
        }
        assert!(der_total_length(&[]).is_err());
    }

    #[test]
    fn padding_is_skipped() {
        let bytes = [0x00, 0x80, 0x01, 0x07, 0xFF, 0xFF];
        let tags: Vec<u32> = TlvIter::new(&bytes).filter_map(Result::ok).map(|t| t.tag).collect();
        assert_eq!(tags, vec![0x80]);
    }
}
