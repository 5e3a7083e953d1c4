//! APDU transcripts: the text format of recorded card sessions, a channel that replays one (for unit
//! tests of the drivers) and a channel that records one (to capture a trace from a real card).
//!
//! Format: `# key: value` header comments (`card`, `atr`, `flow`), then pairs of lines
//! `> <command hex>` and `< <response hex, SW included>`. In commands of our own traces `XX` matches
//! any byte and a final `..` matches any remaining bytes (nonces, digests).

use std::fmt::Write as _;

use crate::atr::Atr;
use crate::transport::{CardChannel, TransportError};

/// One expected byte of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pat {
    Byte(u8),
    Any,
    Rest,
}

/// A parsed transcript.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// `# card:` header.
    pub card: Option<String>,
    /// `# atr:` header.
    pub atr: Option<Atr>,
    /// `# flow:` header.
    pub flow: Option<String>,
    steps: Vec<(Vec<Pat>, Vec<u8>)>,
}

/// A transcript line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transcript line {line}: {what}")]
pub struct TranscriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub what: &'static str,
}

impl Transcript {
    /// Parses the text format.
    pub fn parse(text: &str) -> Result<Self, TranscriptError> {
        let mut t = Self::default();
        let mut pending: Option<Vec<Pat>> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let err = |what| TranscriptError { line: i + 1, what };
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if let Some((key, value)) = comment.split_once(':') {
                    let value = value.trim().to_owned();
                    match key.trim() {
                        "card" => t.card = Some(value),
                        "flow" => t.flow = Some(value),
                        "atr" => t.atr = Some(Atr(parse_hex(&value).ok_or(err("bad ATR hex"))?)),
                        _ => {}
                    }
                }
                continue;
            }
            if let Some(cmd) = line.strip_prefix('>') {
                if pending.is_some() {
                    return Err(err("two commands without a response"));
                }
                pending = Some(parse_pattern(cmd).ok_or(err("bad command hex"))?);
            } else if let Some(resp) = line.strip_prefix('<') {
                let cmd = pending.take().ok_or(err("response without a command"))?;
                let resp = parse_hex(resp).ok_or(err("bad response hex"))?;
                if resp.len() < 2 {
                    return Err(err("response without a status word"));
                }
                t.steps.push((cmd, resp));
            } else {
                return Err(err("line is neither a comment, a command nor a response"));
            }
        }
        if pending.is_some() {
            return Err(TranscriptError {
                line: text.lines().count(),
                what: "last command has no response",
            });
        }
        Ok(t)
    }

    /// The commands, as hex with `XX`/`..` wildcards.
    pub fn commands(&self) -> Vec<String> {
        self.steps.iter().map(|(c, _)| pattern_hex(c)).collect()
    }

    /// The responses, raw.
    pub fn responses(&self) -> impl Iterator<Item = &[u8]> {
        self.steps.iter().map(|(_, r)| r.as_slice())
    }

    /// The exact command bytes of each step (wildcards dropped), for tests that take values from a
    /// recorded command (the digest a card was asked to sign).
    pub fn command_bytes(&self) -> Vec<Vec<u8>> {
        self.steps
            .iter()
            .map(|(c, _)| {
                c.iter()
                    .filter_map(|p| if let Pat::Byte(b) = p { Some(*b) } else { None })
                    .collect()
            })
            .collect()
    }

    /// Number of command/response pairs.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// A channel that replays this transcript.
    pub fn channel(&self) -> ScriptedChannel {
        ScriptedChannel {
            steps: self.steps.clone(),
            next: 0,
            mismatch: None,
        }
    }
}

/// Replays a transcript: each command must equal the next expected one, and gets its recorded
/// response. The first unexpected command fails with a diff.
#[derive(Debug, Clone)]
pub struct ScriptedChannel {
    steps: Vec<(Vec<Pat>, Vec<u8>)>,
    next: usize,
    mismatch: Option<String>,
}

impl ScriptedChannel {
    /// A channel from `(command hex, response hex)` pairs (spaces allowed).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let steps = pairs
            .iter()
            .map(|(c, r)| (parse_pattern(c).unwrap_or_default(), parse_hex(r).unwrap_or_default()))
            .collect();
        Self {
            steps,
            next: 0,
            mismatch: None,
        }
    }

    /// Succeeds if every expected command was sent and nothing unexpected was.
    pub fn finish(&self) -> Result<(), String> {
        if let Some(m) = &self.mismatch {
            return Err(m.clone());
        }
        if self.next != self.steps.len() {
            let mut msg = format!(
                "{} of {} expected commands were not sent; next expected:",
                self.steps.len() - self.next,
                self.steps.len()
            );
            for (c, _) in self.steps[self.next..].iter().take(3) {
                let _ = write!(msg, "\n  > {}", pattern_hex(c));
            }
            return Err(msg);
        }
        Ok(())
    }

    /// Number of commands sent so far.
    pub fn sent(&self) -> usize {
        self.next
    }
}

impl CardChannel for ScriptedChannel {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let Some((expected, response)) = self.steps.get(self.next) else {
            let m = format!(
                "unexpected command after the end of the script (step {}):\n  got      > {}",
                self.next + 1,
                hex_spaced(apdu)
            );
            self.mismatch.get_or_insert(m.clone());
            return Err(TransportError::Other(m));
        };
        if !matches(expected, apdu) {
            let m = format!(
                "command {} differs from the script:\n  expected > {}\n  got      > {}",
                self.next + 1,
                pattern_hex(expected),
                hex_spaced(apdu)
            );
            self.mismatch.get_or_insert(m.clone());
            return Err(TransportError::Other(m));
        }
        self.next += 1;
        Ok(response.clone())
    }
}

/// Wraps a channel and writes every exchange in the transcript format. The data of VERIFY, CHANGE
/// REFERENCE DATA and RESET RETRY COUNTER (INS `20`, `24`, `2C`) is replaced by `XX` bytes, so a
/// recorded trace never holds a PIN.
pub struct RecordingChannel<'a> {
    inner: &'a mut dyn CardChannel,
    text: String,
    count: usize,
}

impl<'a> RecordingChannel<'a> {
    /// Starts recording around `inner`.
    pub fn new(inner: &'a mut dyn CardChannel) -> Self {
        Self {
            inner,
            text: String::new(),
            count: 0,
        }
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &str {
        &self.text
    }

    /// Number of commands sent.
    pub fn count(&self) -> usize {
        self.count
    }
}

impl CardChannel for RecordingChannel<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.count += 1;
        let _ = writeln!(self.text, "> {}", redacted_hex(apdu));
        let result = self.inner.transmit(apdu);
        match &result {
            Ok(resp) => {
                let _ = writeln!(self.text, "< {}", hex_spaced(resp));
            }
            Err(e) => {
                let _ = writeln!(self.text, "# error: {e}");
            }
        }
        result
    }
}

/// Hex of a command with the data of PIN commands replaced by `XX`.
pub fn redacted_hex(apdu: &[u8]) -> String {
    let secret = apdu.len() > 5 && matches!(apdu[1], 0x20 | 0x24 | 0x2C);
    if !secret {
        return hex_spaced(apdu);
    }
    let mut s = hex_spaced(&apdu[..5]);
    for _ in 5..apdu.len() {
        s.push_str(" XX");
    }
    s
}

/// Upper-case hex with a space between bytes.
pub fn hex_spaced(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(compact).ok()
}

fn parse_pattern(s: &str) -> Option<Vec<Pat>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::with_capacity(compact.len() / 2);
    let bytes = compact.as_bytes();
    for (i, pair) in bytes.chunks(2).enumerate() {
        match pair {
            b"XX" | b"xx" => out.push(Pat::Any),
            b".." if (i + 1) * 2 == bytes.len() => out.push(Pat::Rest),
            [h, l] => {
                let hi = (*h as char).to_digit(16)?;
                let lo = (*l as char).to_digit(16)?;
                out.push(Pat::Byte((hi * 16 + lo) as u8));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn matches(pattern: &[Pat], apdu: &[u8]) -> bool {
    let mut i = 0;
    for p in pattern {
        match p {
            Pat::Rest => return true,
            Pat::Any if i < apdu.len() => {}
            Pat::Byte(b) if apdu.get(i) == Some(b) => {}
            _ => return false,
        }
        i += 1;
    }
    i == apdu.len()
}

fn pattern_hex(p: &[Pat]) -> String {
    p.iter()
        .map(|x| match x {
            Pat::Byte(b) => format!("{b:02X}"),
            Pat::Any => "XX".to_owned(),
            Pat::Rest => "..".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_replays() {
        let text = "# card: test\n# atr: 3B 00\n> 00 A4 04 0C 02 XX XX\n< 90 00\n> 00 2A ..\n< 01 90 00\n";
        let t = Transcript::parse(text).unwrap_or_default();
        assert_eq!(t.card.as_deref(), Some("test"));
        assert_eq!(t.atr, Some(Atr(vec![0x3B, 0x00])));
        assert_eq!(t.len(), 2);
        let mut ch = t.channel();
        assert_eq!(ch.transmit(&[0, 0xA4, 4, 0x0C, 2, 1, 2]), Ok(vec![0x90, 0]));
        assert_eq!(ch.transmit(&[0, 0x2A, 9, 9, 9]), Ok(vec![1, 0x90, 0]));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn reports_a_diff_on_the_first_unexpected_command() {
        let mut ch = ScriptedChannel::from_pairs(&[("00A4040C01AA", "9000")]);
        let err = ch.transmit(&[0, 0xA4, 4, 0x0C, 1, 0xAB]);
        assert!(err.is_err());
        let msg = ch.finish().err().unwrap_or_default();
        assert!(msg.contains("expected > 00 A4 04 0C 01 AA"), "{msg}");
        assert!(msg.contains("got      > 00 A4 04 0C 01 AB"), "{msg}");
        let ch = ScriptedChannel::from_pairs(&[("00A4040C01AA", "9000")]);
        assert!(ch.finish().is_err(), "an unsent command must fail finish()");
    }

    #[test]
    fn rejects_malformed_transcripts() {
        assert!(Transcript::parse("> 00 A4\n> 00 B0\n").is_err());
        assert!(Transcript::parse("< 90 00\n").is_err());
        assert!(Transcript::parse("> 0G\n< 9000\n").is_err());
        assert!(Transcript::parse("> 00\n").is_err());
        assert!(Transcript::parse("hello\n").is_err());
    }

    #[test]
    fn recording_masks_pins() {
        let mut inner = ScriptedChannel::from_pairs(&[("0020000108241234FFFFFFFFFF", "9000")]);
        let mut rec = RecordingChannel::new(&mut inner);
        let _ = rec.transmit(&hex::decode("0020000108241234FFFFFFFFFF").unwrap_or_default());
        assert_eq!(rec.transcript(), "> 00 20 00 01 08 XX XX XX XX XX XX XX XX\n< 90 00\n");
        assert_eq!(rec.count(), 1);
    }
}
