//! ISO 7816-4 short APDU parsing and status words shared by all card profiles.
//!
//! Only short APDUs exist on the emulated cards (cards.md §1.1: BELPIC is T=0
//! only; §2.1: the IDEMIA cards are used with short APDUs by every middleware).
//! An APDU that does not parse is answered `67 00` by the caller.

/// Status words used by the emulated cards (cards.md §1.14).
pub mod sw {
    /// Success.
    pub const OK: u16 = 0x9000;
    /// `61 xx`: more data available with GET RESPONSE (xx added by the caller).
    pub const MORE_DATA: u16 = 0x6100;
    /// End of file reached before reading Le bytes (ISO 7816-4, used by the IDEMIA profile).
    pub const END_OF_FILE: u16 = 0x6282;
    /// `63 Cx`: wrong PIN, x tries left (x added by the caller).
    pub const WRONG_PIN: u16 = 0x63C0;
    /// Wrong length.
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Command incompatible with the file structure.
    pub const NOT_STRUCTURED: u16 = 0x6981;
    /// Security status not satisfied.
    pub const SECURITY_STATUS: u16 = 0x6982;
    /// Authentication method (PIN) blocked.
    pub const PIN_BLOCKED: u16 = 0x6983;
    /// Conditions of use not satisfied (e.g. no security environment).
    pub const CONDITIONS: u16 = 0x6985;
    /// Command not allowed: no current EF.
    pub const NO_CURRENT_EF: u16 = 0x6986;
    /// Incorrect data field.
    pub const WRONG_DATA: u16 = 0x6A80;
    /// File or application not found.
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    /// Record (tag) not found.
    pub const RECORD_NOT_FOUND: u16 = 0x6A83;
    /// Incorrect P1-P2.
    pub const WRONG_P1P2: u16 = 0x6A86;
    /// Lc inconsistent with P1-P2.
    pub const LC_INCONSISTENT: u16 = 0x6A87;
    /// Referenced data (key, PIN) not found.
    pub const REF_NOT_FOUND: u16 = 0x6A88;
    /// Wrong parameters: offset outside the EF / bad P1-P2 (BELPIC usage).
    pub const WRONG_OFFSET: u16 = 0x6B00;
    /// `6C xx`: wrong Le, xx is the exact length (xx added by the caller).
    pub const WRONG_LE: u16 = 0x6C00;
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
}

/// A parsed short command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Raw Le byte if present (case 2 and 4); `00` means 256.
    pub le: Option<u8>,
}

impl<'a> Command<'a> {
    /// Parses a short APDU (cases 1 to 4). Extended-length APDUs and
    /// inconsistent lengths are rejected with `Err(67 00)`.
    pub fn parse(raw: &'a [u8]) -> Result<Self, u16> {
        let (header, rest) = match raw {
            [cla, ins, p1, p2, rest @ ..] => ([*cla, *ins, *p1, *p2], rest),
            _ => return Err(sw::WRONG_LENGTH),
        };
        let [cla, ins, p1, p2] = header;
        let (data, le) = match rest {
            [] => (&rest[..0], None),
            [le] => (&rest[..0], Some(*le)),
            [0, ..] => return Err(sw::WRONG_LENGTH), // extended length: not supported
            [lc, body @ ..] => {
                let lc = usize::from(*lc);
                if body.len() == lc {
                    (body, None)
                } else if body.len() == lc + 1 {
                    (&body[..lc], body.get(lc).copied())
                } else {
                    return Err(sw::WRONG_LENGTH);
                }
            }
        };
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// Expected response length Ne: Le `00` (or an absent Le) means 256.
    pub fn ne(&self) -> usize {
        match self.le {
            None | Some(0) => 256,
            Some(n) => usize::from(n),
        }
    }

    /// `true` when the command carries neither data nor a non-zero Le:
    /// `CLA INS P1 P2` or `CLA INS P1 P2 00`. The BELPIC VERIFY status query
    /// and LOG OFF accept both forms (cards.md §1.9, §1.12, §8b).
    pub fn is_empty_body(&self) -> bool {
        self.data.is_empty() && matches!(self.le, None | Some(0))
    }
}

/// Builds an R-APDU: `data ‖ SW1 SW2`.
pub fn response(data: &[u8], sw: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&sw.to_be_bytes());
    out
}

/// Builds a status-only R-APDU.
pub fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

/// Encodes a length into the SW2 byte of `61 xx` / `6C xx` (256 → `00`).
pub fn len_byte(len: usize) -> u16 {
    u16::from(u8::try_from(len).unwrap_or(0))
}

/// T=0 style response buffer for case-4 commands (cards.md §1.1, §1.11).
///
/// A T=0 card cannot send data in answer to a command that carried data:
/// when the host leaves Le out the card answers `61 xx` and keeps the data
/// for GET RESPONSE `00 C0 00 00 xx`. Any other command discards it.
#[derive(Debug, Default, Clone)]
pub struct PendingResponse {
    data: Option<Vec<u8>>,
}

impl PendingResponse {
    /// Answers a command that produced `data`: with Le present the data is
    /// returned at once (`6C xx` if a non-zero Le is too small), without Le the
    /// card answers `61 xx` and keeps the data for GET RESPONSE.
    pub fn answer(&mut self, cmd: &Command<'_>, data: Vec<u8>) -> Vec<u8> {
        match cmd.le {
            None => {
                let sw = sw::MORE_DATA | len_byte(data.len());
                self.data = Some(data);
                status(sw)
            }
            Some(le) if le != 0 && usize::from(le) < data.len() => status(sw::WRONG_LE | len_byte(data.len())),
            Some(_) => response(&data, sw::OK),
        }
    }

    /// Drops the pending data (any command other than GET RESPONSE does this).
    pub fn clear(&mut self) {
        self.data = None;
    }

    /// GET RESPONSE `00 C0 00 00 Le` (cards.md §1.5, §1.7): serves the pending
    /// data; a shorter Le gets the first Le bytes and `61 xx` for the rest, a
    /// longer Le gets `6C xx`.
    pub fn get_response(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            self.data = None;
            return status(sw::WRONG_P1P2);
        }
        if !cmd.data.is_empty() {
            self.data = None;
            return status(sw::WRONG_LENGTH);
        }
        let Some(mut data) = self.data.take() else {
            return status(sw::CONDITIONS);
        };
        let ne = cmd.ne();
        if ne > data.len() {
            let sw = sw::WRONG_LE | len_byte(data.len());
            self.data = Some(data);
            return status(sw);
        }
        let rest = data.split_off(ne);
        if rest.is_empty() {
            response(&data, sw::OK)
        } else {
            let sw = sw::MORE_DATA | len_byte(rest.len());
            self.data = Some(rest);
            response(&data, sw)
        }
    }
}
