//! Answer-to-reset values and the patterns drivers register (exact, or masked for card families
//! whose ATR carries a version byte).

use std::fmt;

/// A card's answer to reset.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Atr(pub Vec<u8>);

impl Atr {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atr({self})")
    }
}

impl fmt::Display for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&parts.join(" "))
    }
}

/// An ATR pattern: the ATR matches when `atr & mask == bytes & mask` and the lengths are equal.
/// An exact pattern has no mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtrPattern {
    /// Expected bytes.
    pub bytes: &'static [u8],
    /// Mask (same length as `bytes`), or `None` for an exact match.
    pub mask: Option<&'static [u8]>,
}

impl AtrPattern {
    /// An exact ATR.
    pub const fn exact(bytes: &'static [u8]) -> Self {
        Self { bytes, mask: None }
    }

    /// A masked ATR.
    pub const fn masked(bytes: &'static [u8], mask: &'static [u8]) -> Self {
        Self {
            bytes,
            mask: Some(mask),
        }
    }

    /// Whether `atr` matches.
    pub fn matches(&self, atr: &Atr) -> bool {
        let atr = atr.as_bytes();
        if atr.len() != self.bytes.len() {
            return false;
        }
        match self.mask {
            None => atr == self.bytes,
            Some(mask) => {
                mask.len() == atr.len() && atr.iter().zip(self.bytes).zip(mask).all(|((a, b), m)| a & m == b & m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_masked() {
        const OLD_BELPIC: AtrPattern = AtrPattern::masked(
            &[
                0x3B, 0x98, 0x13, 0x40, 0x0A, 0xA5, 0x03, 0x01, 0x01, 0x01, 0xAD, 0x13, 0x11,
            ],
            &[
                0xFF, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
            ],
        );
        let v1 = Atr(vec![
            0x3B, 0x98, 0x94, 0x40, 0xFF, 0xA5, 0x03, 0x01, 0x01, 0x01, 0xAD, 0x13, 0x10,
        ]);
        assert!(OLD_BELPIC.matches(&v1));
        let other = Atr(vec![
            0x3B, 0x98, 0x94, 0x40, 0xFF, 0xA5, 0x03, 0x01, 0x01, 0x02, 0xAD, 0x13, 0x10,
        ]);
        assert!(!OLD_BELPIC.matches(&other));
        assert!(!OLD_BELPIC.matches(&Atr(vec![0x3B, 0x98])));
        let exact = AtrPattern::exact(&[0x3B, 0x00]);
        assert!(exact.matches(&Atr(vec![0x3B, 0x00])));
        assert!(!exact.matches(&Atr(vec![0x3B, 0x01])));
        assert_eq!(v1.to_string(), "3B 98 94 40 FF A5 03 01 01 01 AD 13 10");
    }
}
