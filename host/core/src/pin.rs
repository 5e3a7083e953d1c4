//! PINs in zeroizing buffers, the rules a card puts on them, and the PIN blocks VERIFY sends.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::PinFailure;

/// A PIN as the user typed it. Zeroized on drop; `Debug` prints `REDACTED`; no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Takes ownership of the typed PIN.
    pub fn new(pin: Zeroizing<String>) -> Self {
        Self(pin)
    }

    /// The PIN characters, for building a PIN block.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// Whether the PIN is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Pin {
    fn from(s: &str) -> Self {
        Self(Zeroizing::new(s.to_owned()))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(REDACTED)")
    }
}

/// Which characters a PIN may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinCharset {
    /// Decimal digits only: every eID card PIN.
    Digits,
    /// Any printable characters: PKCS#11 tokens and PIV cards allow them.
    Any,
}

/// What a token accepts as a PIN: its length in characters and which characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    /// Fewest characters.
    pub min_len: u8,
    /// Most characters.
    pub max_len: u8,
    /// Which characters.
    pub charset: PinCharset,
}

impl PinPolicy {
    /// A digits-only policy (eID cards).
    pub const fn digits(min_len: u8, max_len: u8) -> Self {
        Self {
            min_len,
            max_len,
            charset: PinCharset::Digits,
        }
    }

    /// A policy of any printable characters (PKCS#11 tokens, PIV).
    pub const fn any(min_len: u8, max_len: u8) -> Self {
        Self {
            min_len,
            max_len,
            charset: PinCharset::Any,
        }
    }

    /// Checks a PIN before any token is touched, so a malformed PIN never costs a try.
    pub fn check(&self, pin: &Pin) -> Result<(), PinFailure> {
        let len = pin.len();
        if len < usize::from(self.min_len)
            || len > usize::from(self.max_len)
            || !pin.expose().chars().all(|c| self.accepts_char(c))
        {
            return Err(PinFailure::InvalidFormat);
        }
        Ok(())
    }

    /// Whether `c` may appear in a PIN (for dialogs that refuse other characters as they are typed).
    pub fn accepts_char(&self, c: char) -> bool {
        match self.charset {
            PinCharset::Digits => c.is_ascii_digit(),
            PinCharset::Any => !c.is_control(),
        }
    }
}

/// ISO 9564-1 format 2 PIN block, 8 bytes: `2L` then the digits as BCD nibbles, padded with `F`
/// (Belgian eID applet 1.7/1.8 reference manual §3.2; cards.md §1.9). "1234" → `24 12 34 FF FF FF FF FF`.
pub fn format2_block(pin: &Pin) -> Result<Zeroizing<Vec<u8>>, PinFailure> {
    let digits = pin.expose().as_bytes();
    if !(4..=12).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return Err(PinFailure::InvalidFormat);
    }
    let mut nibbles = Zeroizing::new(Vec::with_capacity(16));
    nibbles.push(0x2);
    nibbles.push(digits.len() as u8);
    nibbles.extend(digits.iter().map(|d| d - b'0'));
    nibbles.resize(16, 0xF);
    Ok(Zeroizing::new(nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()))
}

/// ASCII digits right-padded with `pad` to `len` bytes (IAS-ECC / IDEMIA: `FF`, Thales: `00`;
/// cards.md §2.4, §2.8).
pub fn ascii_padded_block(pin: &Pin, len: usize, pad: u8) -> Result<Zeroizing<Vec<u8>>, PinFailure> {
    let digits = pin.expose().as_bytes();
    if digits.is_empty() || digits.len() > len || !digits.iter().all(u8::is_ascii_digit) {
        return Err(PinFailure::InvalidFormat);
    }
    let mut block = Zeroizing::new(Vec::with_capacity(len));
    block.extend_from_slice(digits);
    block.resize(len, pad);
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format2_blocks() {
        assert_eq!(
            format2_block(&Pin::from("1234")).map(|b| b.to_vec()),
            Ok(vec![0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        );
        assert_eq!(
            format2_block(&Pin::from("12345")).map(|b| b.to_vec()),
            Ok(vec![0x25, 0x12, 0x34, 0x5F, 0xFF, 0xFF, 0xFF, 0xFF])
        );
        assert_eq!(
            format2_block(&Pin::from("123456789012")).map(|b| b.to_vec()),
            Ok(vec![0x2C, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xFF])
        );
        assert_eq!(format2_block(&Pin::from("123")), Err(PinFailure::InvalidFormat));
        assert_eq!(format2_block(&Pin::from("12a4")), Err(PinFailure::InvalidFormat));
        assert_eq!(
            format2_block(&Pin::from("1234567890123")),
            Err(PinFailure::InvalidFormat)
        );
    }

    #[test]
    fn ascii_blocks() {
        assert_eq!(
            ascii_padded_block(&Pin::from("1234"), 12, 0xFF).map(|b| b.to_vec()),
            Ok(hex::decode("31323334FFFFFFFFFFFFFFFF").unwrap_or_default())
        );
        assert_eq!(
            ascii_padded_block(&Pin::from("1234"), 12, 0x00).map(|b| b.to_vec()),
            Ok(hex::decode("313233340000000000000000").unwrap_or_default())
        );
        assert!(ascii_padded_block(&Pin::from("1234567890123"), 12, 0xFF).is_err());
    }

    #[test]
    fn policy_and_debug() {
        let p = PinPolicy::digits(4, 12);
        assert!(p.check(&Pin::from("1234")).is_ok());
        assert_eq!(p.check(&Pin::from("123")), Err(PinFailure::InvalidFormat));
        assert_eq!(p.check(&Pin::from("12 4")), Err(PinFailure::InvalidFormat));
        assert!(!p.accepts_char('a'));
        // A PKCS#11 or PIV PIN may hold letters and signs, counted in characters, never controls.
        let any = PinPolicy::any(4, 8);
        assert!(any.check(&Pin::from("ab#9")).is_ok());
        assert!(any.check(&Pin::from("éèàç")).is_ok());
        assert_eq!(any.check(&Pin::from("abc")), Err(PinFailure::InvalidFormat));
        assert_eq!(any.check(&Pin::from("abc\n")), Err(PinFailure::InvalidFormat));
        assert_eq!(any.check(&Pin::from("123456789")), Err(PinFailure::InvalidFormat));
        let pin = Pin::from("987654");
        let dbg = format!("{pin:?}");
        assert_eq!(dbg, "Pin(REDACTED)");
        assert!(!dbg.contains("987654"));
    }
}
