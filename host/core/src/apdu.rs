//! Command and response APDUs (ISO/IEC 7816-4 §5.1) and the one `exchange` every driver uses.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::error::CardError;
use crate::status::StatusWord;
use crate::transport::CardChannel;

/// Largest Nc of a short APDU (ISO 7816-4 §5.1).
pub const SHORT_MAX_DATA: usize = 255;
/// Largest Ne of a short APDU (Le = `00` means 256).
pub const SHORT_MAX_LE: usize = 256;
/// Largest Nc and Ne of an extended APDU.
pub const EXTENDED_MAX: usize = 65_536;
/// Cap on the total bytes collected through GET RESPONSE, so a card cannot make us loop forever.
const MAX_RESPONSE: usize = 65_536;
/// GET RESPONSE rounds after one command: 64 KiB in chunks of 256 bytes, and one more.
const MAX_GET_RESPONSE_ROUNDS: usize = MAX_RESPONSE / SHORT_MAX_LE + 1;

/// A command could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApduError {
    /// The data field is longer than an extended APDU allows.
    #[error("command data too long ({0} bytes)")]
    DataTooLong(usize),
    /// Le is zero or larger than an extended APDU allows.
    #[error("invalid expected length Le={0}")]
    InvalidLe(usize),
}

/// The data field of a command: plain, or secret (PIN blocks), which is zeroized and never printed.
#[derive(Clone, PartialEq, Eq)]
pub enum Data {
    /// Non-secret data.
    Plain(Vec<u8>),
    /// Secret data (a PIN block): zeroized on drop, `REDACTED` in `Debug`.
    Secret(Zeroizing<Vec<u8>>),
}

impl Data {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Self::Plain(d) => d,
            Self::Secret(d) => d,
        }
    }

    /// Whether the data is secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(d) => write!(f, "{}", hex::encode_upper(d)),
            Self::Secret(_) => f.write_str("REDACTED"),
        }
    }
}

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Data field (Nc = its length).
    pub data: Data,
    /// Expected response length Ne (`None`: no Le field).
    pub le: Option<usize>,
    /// Send data longer than 255 bytes as a chain of short commands (CLA bit 5, ISO 7816-4 §5.1.1.1)
    /// instead of one extended APDU.
    pub chaining: bool,
}

impl Command {
    /// A case 1 command (no data, no Le).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Data::Plain(Vec::new()),
            le: None,
            chaining: false,
        }
    }

    /// Sets the data field.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = Data::Plain(data.into());
        self
    }

    /// Sets a secret data field (PIN blocks).
    pub fn with_secret(mut self, data: Zeroizing<Vec<u8>>) -> Self {
        self.data = Data::Secret(data);
        self
    }

    /// Sets Ne (1..=65536; 256 is sent as `00` in a short APDU).
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Sends long data with command chaining rather than extended length.
    pub fn with_chaining(mut self) -> Self {
        self.chaining = true;
        self
    }

    /// Whether this command needs the extended form (Nc > 255 or Ne > 256).
    pub fn is_extended(&self) -> bool {
        self.data.as_slice().len() > SHORT_MAX_DATA || self.le.is_some_and(|le| le > SHORT_MAX_LE)
    }

    /// Encodes the command (ISO 7816-4 §5.1, cases 1, 2S/E, 3S/E, 4S/E). The buffer is zeroized when
    /// dropped, as it may hold a PIN.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, ApduError> {
        let data = self.data.as_slice();
        if data.len() > EXTENDED_MAX - 1 {
            return Err(ApduError::DataTooLong(data.len()));
        }
        if let Some(le) = self.le {
            if le == 0 || le > EXTENDED_MAX {
                return Err(ApduError::InvalidLe(le));
            }
        }
        let mut out = Zeroizing::new(Vec::with_capacity(data.len() + 9));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if self.is_extended() {
            // Extended: Lc = 00 HH LL; Le = HH LL after Lc, or 00 HH LL without data; 65536 = 00 00.
            if !data.is_empty() {
                out.push(0x00);
                out.extend_from_slice(&(data.len() as u16).to_be_bytes());
                out.extend_from_slice(data);
            }
            if let Some(le) = self.le {
                if data.is_empty() {
                    out.push(0x00);
                }
                out.extend_from_slice(&((le % EXTENDED_MAX) as u16).to_be_bytes());
            }
        } else {
            if !data.is_empty() {
                out.push(data.len() as u8);
                out.extend_from_slice(data);
            }
            if let Some(le) = self.le {
                out.push((le % SHORT_MAX_LE) as u8);
            }
        }
        Ok(out)
    }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// SW1-SW2.
    pub sw: StatusWord,
}

impl Response {
    /// Splits raw response bytes into data and status word.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, CardError> {
        match raw.len() {
            0 | 1 => Err(CardError::Malformed("response shorter than a status word")),
            n => Ok(Self {
                data: raw[..n - 2].to_vec(),
                sw: StatusWord::new(raw[n - 2], raw[n - 1]),
            }),
        }
    }

    /// The data if the status is `90 00`, else an error naming the command.
    pub fn ok(self, during: &'static str) -> Result<Vec<u8>, CardError> {
        if self.sw.is_ok() {
            Ok(self.data)
        } else {
            Err(CardError::status(self.sw, during))
        }
    }

    /// Succeeds on `90 00`, else an error naming the command.
    pub fn check(&self, during: &'static str) -> Result<(), CardError> {
        if self.sw.is_ok() {
            Ok(())
        } else {
            Err(CardError::status(self.sw, during))
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} bytes, SW {:?})", self.data.len(), self.sw)
    }
}

/// Sends `cmd` and returns the complete response:
/// - command chaining when asked and Nc > 255 (ISO 7816-4 §5.1.1.1);
/// - `6C xx`: the command is sent once more with Le = xx (§5.1.3, "wrong Le field");
/// - `61 xx`: GET RESPONSE (`00 C0 00 00 xx`, §11.3.1) until the card has no more, concatenated.
pub fn exchange(ch: &mut dyn CardChannel, cmd: &Command) -> Result<Response, CardError> {
    let data = cmd.data.as_slice();
    if cmd.chaining && data.len() > SHORT_MAX_DATA {
        let chunks: Vec<&[u8]> = data.chunks(SHORT_MAX_DATA).collect();
        let last = chunks.len() - 1;
        for chunk in &chunks[..last] {
            let mut part = Command::new(cmd.cla | 0x10, cmd.ins, cmd.p1, cmd.p2);
            part.data = match cmd.data {
                Data::Plain(_) => Data::Plain(chunk.to_vec()),
                Data::Secret(_) => Data::Secret(Zeroizing::new(chunk.to_vec())),
            };
            let resp = transmit(ch, &part)?;
            if !resp.sw.is_ok() {
                return Ok(resp);
            }
        }
        let mut final_part = cmd.clone();
        final_part.chaining = false;
        final_part.data = match cmd.data {
            Data::Plain(_) => Data::Plain(chunks[last].to_vec()),
            Data::Secret(_) => Data::Secret(Zeroizing::new(chunks[last].to_vec())),
        };
        return exchange_single(ch, &final_part);
    }
    exchange_single(ch, cmd)
}

fn exchange_single(ch: &mut dyn CardChannel, cmd: &Command) -> Result<Response, CardError> {
    let mut resp = transmit(ch, cmd)?;
    if resp.sw.sw1() == 0x6C {
        let mut again = cmd.clone();
        again.le = Some(match resp.sw.sw2() {
            0 => SHORT_MAX_LE,
            n => usize::from(n),
        });
        resp = transmit(ch, &again)?;
    }
    let mut data = std::mem::take(&mut resp.data);
    let mut rounds = 0;
    while resp.sw.sw1() == 0x61 {
        // A hostile or broken card can answer `61 xx` forever without data, which the byte cap
        // alone never stops: bound the rounds, and take a GET RESPONSE that brings nothing but
        // another `61 xx` as malformed (a card that has more bytes hands some over each time).
        rounds += 1;
        if rounds > MAX_GET_RESPONSE_ROUNDS {
            return Err(CardError::Malformed("too many GET RESPONSE rounds"));
        }
        let ne = match resp.sw.sw2() {
            0 => SHORT_MAX_LE,
            n => usize::from(n),
        };
        resp = transmit(ch, &get_response(ne))?;
        if resp.data.is_empty() && resp.sw.sw1() == 0x61 {
            return Err(CardError::Malformed("GET RESPONSE answered 61xx with no data"));
        }
        data.extend_from_slice(&resp.data);
        if data.len() > MAX_RESPONSE {
            return Err(CardError::Malformed("response longer than 64 KiB"));
        }
    }
    Ok(Response { data, sw: resp.sw })
}

fn transmit(ch: &mut dyn CardChannel, cmd: &Command) -> Result<Response, CardError> {
    let bytes = cmd.to_bytes()?;
    let raw = ch.transmit(&bytes)?;
    Response::from_bytes(&raw)
}

/// ISO 7816-4 §11.3.1 GET RESPONSE.
pub fn get_response(ne: usize) -> Command {
    Command::new(0x00, 0xC0, 0x00, 0x00).with_le(ne)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::ScriptedChannel;

    fn hexb(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap_or_default()
    }

    #[test]
    fn encodes_the_four_cases_short_and_extended() {
        let case1 = Command::new(0x80, 0xE6, 0x00, 0x00);
        assert_eq!(*case1.to_bytes().unwrap_or_default(), hexb("80E60000"));
        let case2 = Command::new(0, 0xB0, 0, 0).with_le(256);
        assert_eq!(*case2.to_bytes().unwrap_or_default(), hexb("00B0000000"));
        let case3 = Command::new(0, 0xA4, 2, 0x0C).with_data(vec![0xDF, 0x00]);
        assert_eq!(*case3.to_bytes().unwrap_or_default(), hexb("00A4020C02DF00"));
        let case4 = Command::new(0, 0x88, 0, 0).with_data(vec![1, 2]).with_le(256);
        assert_eq!(*case4.to_bytes().unwrap_or_default(), hexb("008800000201 0200"));
        let ext3 = Command::new(0, 0x2A, 0x9E, 0x9A).with_data(vec![0xAA; 300]);
        let b = ext3.to_bytes().unwrap_or_default();
        assert_eq!(&b[..7], &hexb("002A9E9A00012C")[..]);
        assert_eq!(b.len(), 7 + 300);
        let ext2 = Command::new(0, 0xB0, 0, 0).with_le(65536);
        assert_eq!(*ext2.to_bytes().unwrap_or_default(), hexb("00B00000000000"));
        let ext4 = Command::new(0, 0x2A, 0, 0).with_data(vec![0; 256]).with_le(1000);
        let b = ext4.to_bytes().unwrap_or_default();
        assert_eq!(&b[b.len() - 2..], &[0x03, 0xE8]);
        assert_eq!(
            Command::new(0, 0, 0, 0).with_le(0).to_bytes(),
            Err(ApduError::InvalidLe(0))
        );
    }

    #[test]
    fn secret_data_is_redacted_in_debug() {
        let cmd = Command::new(0, 0x20, 0, 1).with_secret(Zeroizing::new(vec![0x24, 0x12, 0x34]));
        let dbg = format!("{cmd:?}");
        assert!(dbg.contains("REDACTED"), "{dbg}");
        assert!(!dbg.contains("2412"), "{dbg}");
    }

    #[test]
    fn get_response_is_followed_and_concatenated() {
        let mut ch = ScriptedChannel::from_pairs(&[
            ("002A9E9A0201 02", "6104"),
            ("00C0000004", "0102030461 02"),
            ("00C0000002", "05069000"),
        ]);
        let cmd = Command::new(0, 0x2A, 0x9E, 0x9A).with_data(vec![1, 2]);
        let resp = exchange(&mut ch, &cmd).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.data, vec![1, 2, 3, 4, 5, 6]);
        assert!(resp.sw.is_ok());
        ch.finish().unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn wrong_le_is_resent_once() {
        let mut ch = ScriptedChannel::from_pairs(&[("00B0000000", "6C03"), ("00B0000003", "AABBCC9000")]);
        let resp = exchange(&mut ch, &Command::new(0, 0xB0, 0, 0).with_le(256)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.data, vec![0xAA, 0xBB, 0xCC]);
        ch.finish().unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn long_data_is_chained_when_asked() {
        let data: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let first = format!("102A9E9AFF{}", hex::encode_upper(&data[..255]));
        let last = format!("002A9E9A2D{}00", hex::encode_upper(&data[255..]));
        let mut ch = ScriptedChannel::from_pairs(&[(&first, "9000"), (&last, "AB9000")]);
        let cmd = Command::new(0, 0x2A, 0x9E, 0x9A)
            .with_data(data)
            .with_le(256)
            .with_chaining();
        let resp = exchange(&mut ch, &cmd).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.data, vec![0xAB]);
        ch.finish().unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn short_responses_are_rejected() {
        let mut ch = ScriptedChannel::from_pairs(&[("00B0000000", "90")]);
        let err = exchange(&mut ch, &Command::new(0, 0xB0, 0, 0).with_le(256));
        assert!(matches!(err, Err(CardError::Malformed(_))));
    }

    /// A card that answers every command with `61 01` and no data.
    struct EndlessMore {
        commands: usize,
    }

    impl CardChannel for EndlessMore {
        fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, crate::transport::TransportError> {
            self.commands += 1;
            // Without a bound in `exchange` this would loop for as long as the card stays in.
            if self.commands > 10_000 {
                return Err(crate::transport::TransportError::CardRemoved);
            }
            Ok(vec![0x61, 0x01])
        }
    }

    #[test]
    fn a_card_answering_61xx_without_data_is_malformed_at_once() {
        let mut card = EndlessMore { commands: 0 };
        let err = exchange(&mut card, &Command::new(0, 0xB0, 0, 0).with_le(256));
        assert!(matches!(err, Err(CardError::Malformed(_))), "{err:?}");
        assert_eq!(card.commands, 2, "the command and one GET RESPONSE");
    }

    /// A card that hands over one byte per GET RESPONSE and always says one more is waiting.
    struct Trickle {
        commands: usize,
    }

    impl CardChannel for Trickle {
        fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, crate::transport::TransportError> {
            self.commands += 1;
            if self.commands > 100_000 {
                return Err(crate::transport::TransportError::CardRemoved);
            }
            Ok(vec![0xAA, 0x61, 0x01])
        }
    }

    #[test]
    fn get_response_rounds_are_bounded() {
        let mut card = Trickle { commands: 0 };
        let err = exchange(&mut card, &Command::new(0, 0xB0, 0, 0).with_le(256));
        assert!(matches!(err, Err(CardError::Malformed(_))), "{err:?}");
        assert!(
            card.commands <= MAX_GET_RESPONSE_ROUNDS + 1,
            "{} commands",
            card.commands
        );
    }
}
