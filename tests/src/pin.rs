//! PIN objects with a persistent retry counter (cards.md §1.9, §2.4).

use zeroize::Zeroize;

/// Outcome of presenting a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    /// Correct; the retry counter was reset to its maximum.
    Ok,
    /// Wrong; this many tries are left (0 = now blocked).
    Wrong(u8),
    /// The PIN was already blocked; nothing was compared.
    Blocked,
}

/// A PIN with its retry counter. The value and the counter are persistent
/// (they survive reset and removal); the "verified" flags live in the
/// profiles' volatile state.
#[derive(Clone)]
pub struct Pin {
    value: Vec<u8>,
    max_tries: u8,
    tries_left: u8,
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pin")
            .field("value", &"<redacted>")
            .field("max_tries", &self.max_tries)
            .field("tries_left", &self.tries_left)
            .finish()
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl Pin {
    /// A PIN made of ASCII digits with `tries_left` of `max_tries` tries.
    pub fn new(digits: &str, max_tries: u8, tries_left: u8) -> Self {
        Pin {
            value: digits.as_bytes().to_vec(),
            max_tries,
            tries_left: tries_left.min(max_tries),
        }
    }

    /// Tries left before the PIN blocks.
    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }

    /// Maximum number of tries.
    pub fn max_tries(&self) -> u8 {
        self.max_tries
    }

    /// `true` once the retry counter reached zero.
    pub fn is_blocked(&self) -> bool {
        self.tries_left == 0
    }

    /// Compares `candidate` (ASCII digits) and updates the retry counter.
    pub fn check(&mut self, candidate: &[u8]) -> PinCheck {
        if self.is_blocked() {
            return PinCheck::Blocked;
        }
        if constant_time_eq(&self.value, candidate) {
            self.tries_left = self.max_tries;
            PinCheck::Ok
        } else {
            self.tries_left = self.tries_left.saturating_sub(1);
            PinCheck::Wrong(self.tries_left)
        }
    }

    /// Replaces the PIN value and resets the counter (CHANGE REFERENCE DATA,
    /// RESET RETRY COUNTER).
    pub fn set(&mut self, digits: &[u8]) {
        self.value.zeroize();
        self.value = digits.to_vec();
        self.tries_left = self.max_tries;
    }

    /// Resets the retry counter without changing the value.
    pub fn unblock(&mut self) {
        self.tries_left = self.max_tries;
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes a BELPIC format-2 PIN block `2L PP PP .. FF` (cards.md §1.9):
/// control nibble 2, length 4..12, BCD digits, `F` filler. `None` if malformed.
pub fn decode_format2_block(block: &[u8]) -> Option<Vec<u8>> {
    let (&first, _) = block.split_first()?;
    if block.len() != 8 || first >> 4 != 2 {
        return None;
    }
    let len = usize::from(first & 0x0F);
    if !(4..=12).contains(&len) {
        return None;
    }
    let nibbles: Vec<u8> = block[1..].iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
    let (digits, filler) = nibbles.split_at(len);
    if digits.iter().any(|d| *d > 9) || filler.iter().any(|f| *f != 0x0F) {
        return None;
    }
    Some(digits.iter().map(|d| b'0' + d).collect())
}

/// Encodes ASCII digits into a BELPIC format-2 PIN block (test helper and
/// the inverse of [`decode_format2_block`]).
pub fn encode_format2_block(digits: &str) -> Vec<u8> {
    let mut nibbles = vec![0x2, u8::try_from(digits.len()).unwrap_or(0x0F) & 0x0F];
    nibbles.extend(digits.bytes().map(|d| d.wrapping_sub(b'0') & 0x0F));
    nibbles.resize(16, 0x0F);
    nibbles.chunks_exact(2).map(|c| (c[0] << 4) | c[1]).collect()
}

/// Decodes an IDEMIA PIN field: ASCII digits right-padded with `FF` to 12
/// bytes (cards.md §2.4). `None` if malformed or outside `min..=12` digits.
pub fn decode_ascii_ff(field: &[u8], min: usize) -> Option<Vec<u8>> {
    if field.len() != 12 {
        return None;
    }
    let len = field.iter().position(|b| *b == 0xFF).unwrap_or(field.len());
    let (digits, pad) = field.split_at(len);
    if len < min || !digits.iter().all(u8::is_ascii_digit) || pad.iter().any(|b| *b != 0xFF) {
        return None;
    }
    Some(digits.to_vec())
}

/// Encodes ASCII digits as an IDEMIA PIN field (test helper).
pub fn encode_ascii_ff(digits: &str) -> Vec<u8> {
    let mut out = digits.as_bytes().to_vec();
    out.resize(12, 0xFF);
    out
}

/// `true` if `pin` is only ASCII digits and its length is in `min..=max`.
pub fn valid_digits(pin: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}
