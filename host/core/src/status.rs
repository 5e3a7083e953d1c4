//! Status words (ISO/IEC 7816-4 §5.1.3, tables 5 and 6).

use std::fmt;

/// The two trailing bytes SW1-SW2 of every response APDU.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// Builds a status word from SW1 and SW2.
    pub const fn new(sw1: u8, sw2: u8) -> Self {
        Self(((sw1 as u16) << 8) | sw2 as u16)
    }

    /// SW1.
    pub const fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// SW2.
    pub const fn sw2(self) -> u8 {
        (self.0 & 0xFF) as u8
    }

    /// `90 00`: normal processing.
    pub const fn is_ok(self) -> bool {
        self.0 == 0x9000
    }

    /// `63 Cx` (or the `63 0x` some cards answer): verification failed, `x` tries left.
    pub const fn retries_left(self) -> Option<u8> {
        match self.sw1() {
            0x63 if self.sw2() & 0xF0 == 0xC0 => Some(self.sw2() & 0x0F),
            _ => None,
        }
    }

    /// The ISO meaning of the status word, for messages and logs.
    pub fn describe(self) -> &'static str {
        match self.0 {
            0x9000 => "success",
            0x6281 => "part of returned data may be corrupted",
            0x6282 => "end of file reached before reading Le bytes",
            0x6283 => "selected file deactivated",
            0x6400 => "execution error",
            0x6581 => "memory failure",
            0x6700 => "wrong length",
            0x6881 => "logical channel not supported",
            0x6882 => "secure messaging not supported",
            0x6883 => "last command of the chain expected",
            0x6884 => "command chaining not supported",
            0x6981 => "command incompatible with file structure",
            0x6982 => "security status not satisfied",
            0x6983 => "authentication method blocked",
            0x6984 => "reference data not usable",
            0x6985 => "conditions of use not satisfied",
            0x6986 => "command not allowed (no current EF)",
            0x6999 => "applet selection failed",
            0x6A80 => "incorrect parameters in the data field",
            0x6A81 => "function not supported",
            0x6A82 => "file or application not found",
            0x6A83 => "record not found",
            0x6A84 => "not enough memory space in the file",
            0x6A86 => "incorrect parameters P1-P2",
            0x6A87 => "Lc inconsistent with P1-P2",
            0x6A88 => "referenced data not found",
            0x6B00 => "wrong parameters P1-P2 (offset outside the EF)",
            0x6D00 => "instruction code not supported or invalid",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            _ => match self.sw1() {
                0x61 => "more response bytes available",
                0x63 => "verification failed",
                0x6C => "wrong Le field",
                _ => "unknown status",
            },
        }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X} {:02X} ({})", self.sw1(), self.sw2(), self.describe())
    }
}

impl From<u16> for StatusWord {
    fn from(v: u16) -> Self {
        Self(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_retries() {
        for v in [0x9000u16, 0x63C2, 0x6A82, 0x6C10, 0x6100] {
            let sw = StatusWord(v);
            assert_eq!(StatusWord::new(sw.sw1(), sw.sw2()), sw);
        }
        assert_eq!(StatusWord(0x63C2).retries_left(), Some(2));
        assert_eq!(StatusWord(0x63C0).retries_left(), Some(0));
        assert_eq!(StatusWord(0x6983).retries_left(), None);
        assert!(StatusWord(0x9000).is_ok());
        assert!(!StatusWord(0x6282).is_ok());
        assert_eq!(StatusWord(0x6A82).to_string(), "6A 82 (file or application not found)");
    }
}
