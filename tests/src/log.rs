//! APDU log of the virtual card, with PIN data masked.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::apdu::Command;

/// A fault injected instead of the card's own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// The card answered this status word without processing the command.
    Sw(u16),
    /// The card was removed when this command arrived (no answer).
    Removal,
}

/// One C-APDU and what the card answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedApdu {
    /// 1-based number of the APDU since the handle started (not reset by
    /// `clear_log`).
    pub seq: u64,
    /// When the command arrived.
    pub time: SystemTime,
    /// The C-APDU; for VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER
    /// the data field is replaced by as many `00` bytes (see `masked`).
    pub command: Vec<u8>,
    /// The R-APDU (empty if the card was removed instead of answering).
    pub response: Vec<u8>,
    /// `true` when `command` had its PIN data masked.
    pub masked: bool,
    /// The injected fault, if any.
    pub injected: Option<Injected>,
    /// Time from arrival to the answer being ready (including any delay).
    pub duration: Duration,
}

impl LoggedApdu {
    /// INS byte of the command.
    pub fn ins(&self) -> u8 {
        self.command.get(1).copied().unwrap_or(0)
    }

    /// The status word answered (`None` if removed).
    pub fn sw(&self) -> Option<u16> {
        match self.response.as_slice() {
            [.., sw1, sw2] => Some(u16::from_be_bytes([*sw1, *sw2])),
            _ => None,
        }
    }

    /// One text line: `<unix time> > <C-APDU hex> < <R-APDU hex> [# note]`;
    /// masked bytes print as `**`.
    pub fn to_line(&self) -> String {
        let secs = self.time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let mut line = format!("{secs:.3} #{} > {}", self.seq, command_hex(self));
        line.push_str(" < ");
        line.push_str(&hex_spaced(&self.response));
        match self.injected {
            Some(Injected::Sw(sw)) => {
                let _ = write!(line, " # injected SW {sw:04X}");
            }
            Some(Injected::Removal) => line.push_str(" # card removed"),
            None => {}
        }
        line
    }
}

/// Upper-case hex with spaces, as in the vectors/apdu transcripts (the core's transcript format).
pub use eidlink_core::transcript::hex_spaced;

fn command_hex(entry: &LoggedApdu) -> String {
    if !entry.masked {
        return hex_spaced(&entry.command);
    }
    let data_range = data_range(&entry.command);
    entry
        .command
        .iter()
        .enumerate()
        .map(|(i, b)| match &data_range {
            Some(r) if r.contains(&i) => "**".to_string(),
            _ => format!("{b:02X}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Byte range of the data field of a short APDU.
fn data_range(apdu: &[u8]) -> Option<std::ops::Range<usize>> {
    let cmd = Command::parse(apdu).ok()?;
    (!cmd.data.is_empty()).then(|| 5..5 + cmd.data.len())
}

/// Masks the PIN data of VERIFY (20), CHANGE REFERENCE DATA (24) and RESET
/// RETRY COUNTER (2C): PINs never reach a log.
pub fn mask_command(apdu: &[u8]) -> (Vec<u8>, bool) {
    let mut out = apdu.to_vec();
    let is_pin_ins = matches!(apdu.get(1), Some(0x20 | 0x24 | 0x2C));
    if !is_pin_ins {
        return (out, false);
    }
    match data_range(apdu) {
        Some(range) => {
            for b in &mut out[range] {
                *b = 0;
            }
            (out, true)
        }
        // Unparseable: mask everything after the header to be safe.
        None if apdu.len() > 5 => {
            for b in &mut out[5..] {
                *b = 0;
            }
            (out, true)
        }
        None => (out, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_data_is_masked() {
        let (masked, was) = mask_command(&[
            0x00, 0x20, 0x00, 0x01, 0x08, 0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        assert!(was);
        assert_eq!(masked[..5], [0x00, 0x20, 0x00, 0x01, 0x08]);
        assert!(masked[5..].iter().all(|b| *b == 0));
        let entry = LoggedApdu {
            seq: 1,
            time: UNIX_EPOCH,
            command: masked,
            response: vec![0x90, 0x00],
            masked: true,
            injected: None,
            duration: Duration::ZERO,
        };
        let line = entry.to_line();
        assert!(
            line.contains("> 00 20 00 01 08 ** ** ** ** ** ** ** ** < 90 00"),
            "{line}"
        );
        let (plain, was) = mask_command(&[0x00, 0xB0, 0x00, 0x00, 0x10]);
        assert!(!was);
        assert_eq!(plain, [0x00, 0xB0, 0x00, 0x00, 0x10]);
    }
}
