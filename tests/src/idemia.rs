//! EstEID IDEMIA (Cosmo 8, 2018) command processing (cards.md §2.1-2.7).

use std::sync::Arc;

use crate::apdu::{response, status, sw, Command, PendingResponse};
use crate::card::CardOptions;
use crate::crypto;
use crate::error::Result;
use crate::fs::{fids, read_binary, FileSystem, Node, Path, ShortRead, MF};
use crate::pin::{decode_ascii_ff, Pin, PinCheck};
use crate::pki::{LeafKey, Pki};
use crate::tlv::der;

/// IAS-ECC main application; selecting it makes the MF current (cards.md §2.2).
pub const MAIN_AID: &[u8] = &[
    0xA0, 0x00, 0x00, 0x00, 0x77, 0x01, 0x08, 0x00, 0x07, 0x00, 0x00, 0xFE, 0x00, 0x00, 0x01, 0x00,
];
/// ADF1 "AWP" (authentication) AID.
pub const ADF1_AID: &[u8] = &[
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xF2, 0x50, 0x4F, 0x54, 0x20, 0x41, 0x57, 0x50,
];
/// ADF2 "QSCD Application" (signing) AID.
pub const ADF2_AID: &[u8] = b"QSCD Application";

/// FID of ADF1.
pub const ADF1: u16 = 0xADF1;
/// FID of ADF2.
pub const ADF2: u16 = 0xADF2;
/// Authentication certificate EF in ADF1 (cards.md §2.3).
pub const EF_AUTH_CERT: u16 = 0x3401;
/// Signing certificate EF in ADF2 (cards.md §2.3).
pub const EF_SIGN_CERT: u16 = 0x341F;
/// Document number EF in the MF, read by OpenSC's pkcs15-esteid2018.
pub const EF_DOC_NUMBER: u16 = 0xD003;

/// PIN references (cards.md §2.4).
const PIN1_REF: u8 = 0x01;
const PUK_REF: u8 = 0x02;
const PIN2_REF: u8 = 0x85;
/// Key references (cards.md §2.6, §2.7).
const AUTH_KEY: u8 = 0x81;
const SIGN_KEY: u8 = 0x9F;
/// Both middlewares pad the hash to 48 bytes (cards.md §2.7; OpenSC
/// card-esteid2018.c SIGNATURE_PAYLOAD_SIZE).
const HASH_LEN: usize = 48;

/// Which security environment MSE SET established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Se {
    /// AT template (A4), key 81: INTERNAL AUTHENTICATE.
    Auth,
    /// DST template (B6), key 9F: PSO CDS.
    Sign,
}

/// State lost on reset / power-off / removal.
#[derive(Debug, Default)]
struct Volatile {
    cur_df: Path,
    cur_ef: Option<Path>,
    se: Option<Se>,
    pin1_verified: bool,
    pin2_verified: bool,
    puk_verified: bool,
    pending: PendingResponse,
}

/// The EstEID IDEMIA card.
pub struct Idemia {
    pki: Arc<Pki>,
    fs: FileSystem,
    pin1: Pin,
    pin2: Pin,
    puk: Pin,
    vol: Volatile,
}

impl Idemia {
    /// Builds the card.
    pub fn new(options: &CardOptions, pki: Arc<Pki>) -> Result<Self> {
        let max = options.max_tries;
        let mut fs = FileSystem::new();
        // The document number "AS" + 7 digits, as tag 04 in an 11-byte file.
        let digits: String = crate::pki::derive_bytes(&pki.spec.seed, "document-number", 7)
            .iter()
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        fs.add_ef(&[MF, EF_DOC_NUMBER], der(0x04, format!("AS{digits}").as_bytes()));
        fs.add_df(&[MF, ADF1], Some(ADF1_AID));
        fs.add_df(&[MF, ADF2], Some(ADF2_AID));
        // Certificate files hold the exact DER (FCP size = DER length, §2.3).
        fs.add_ef(&[MF, ADF1, EF_AUTH_CERT], pki.auth_der.clone());
        fs.add_ef(&[MF, ADF2, EF_SIGN_CERT], pki.sign_der.clone());
        let mut card = Idemia {
            pki,
            fs,
            pin1: Pin::new(&options.pin, max, options.tries_left.unwrap_or(max)),
            pin2: Pin::new(&options.sign_pin, max, options.sign_tries_left.unwrap_or(max)),
            puk: Pin::new(&options.puk, max, max),
            vol: Volatile::default(),
        };
        card.reset();
        Ok(card)
    }

    /// After reset the MF is current, no SE, no PIN verified.
    pub fn reset(&mut self) {
        self.vol = Volatile {
            cur_df: vec![MF],
            ..Volatile::default()
        };
    }

    /// Tries left of PIN1.
    pub fn pin1_tries_left(&self) -> u8 {
        self.pin1.tries_left()
    }

    /// Tries left of PIN2.
    pub fn pin2_tries_left(&self) -> u8 {
        self.pin2.tries_left()
    }

    /// The file tree.
    pub fn file_system(&self) -> &FileSystem {
        &self.fs
    }

    /// Processes one parsed command.
    pub fn process(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.ins != 0xC0 {
            self.vol.pending.clear();
        }
        if cmd.cla != 0x00 {
            return status(sw::CLA_NOT_SUPPORTED);
        }
        match cmd.ins {
            0xA4 => self.select(cmd),
            0xB0 => self.read_binary(cmd),
            0xC0 => self.vol.pending.get_response(cmd),
            0xCB => self.get_data(cmd),
            0x20 => self.verify(cmd),
            0x24 => self.change_reference_data(cmd),
            0x2C => self.reset_retry_counter(cmd),
            0x22 => self.mse_set(cmd),
            0x88 => self.internal_authenticate(cmd),
            0x2A => self.pso_cds(cmd),
            _ => status(sw::INS_NOT_SUPPORTED),
        }
    }

    /// SELECT (cards.md §2.2, §2.3): P1=04 AID, 00 MF, 01 DF by FID under the
    /// current DF, 02 EF under the current DF, 08 path from the MF, 09 path
    /// from the current DF. P2=0C: no answer data; 04/00: FCP `62 .. 80 02 size`.
    fn select(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if !matches!(cmd.p2, 0x00 | 0x04 | 0x0C) {
            return status(sw::WRONG_P1P2);
        }
        let target = match cmd.p1 {
            0x04 if cmd.data == MAIN_AID => Some(vec![MF]),
            0x04 => self.fs.by_aid(cmd.data),
            0x00 if cmd.data.is_empty() || cmd.data == [0x3F, 0x00] => Some(vec![MF]),
            0x00 => return status(sw::LC_INCONSISTENT),
            0x01 | 0x02 => {
                let [hi, lo] = cmd.data else {
                    return status(sw::LC_INCONSISTENT);
                };
                let fid = u16::from_be_bytes([*hi, *lo]);
                let want_df = cmd.p1 == 0x01;
                self.fs
                    .child(&self.vol.cur_df, fid)
                    .filter(|p| self.fs.is_df(p) == want_df)
            }
            0x08 | 0x09 => {
                let Some(mut path) = fids(cmd.data) else {
                    return status(sw::LC_INCONSISTENT);
                };
                let start = if cmd.p1 == 0x08 {
                    if path.first() == Some(&MF) {
                        path.remove(0);
                    }
                    vec![MF]
                } else {
                    self.vol.cur_df.clone()
                };
                if path.is_empty() {
                    Some(start)
                } else {
                    self.fs.walk(&start, &path)
                }
            }
            _ => return status(sw::WRONG_P1P2),
        };
        let Some(path) = target else {
            return status(sw::FILE_NOT_FOUND);
        };
        let fcp = self.make_current(path);
        // The FCP is only sent when asked for (P2 00/04) and Le is present:
        // OpenSC's gp_select_aid sends P2=00 as a case-3 command.
        if cmd.p2 == 0x0C || cmd.le.is_none() {
            status(sw::OK)
        } else {
            self.vol.pending.answer(cmd, fcp)
        }
    }

    /// Makes `path` current and returns its FCP.
    fn make_current(&mut self, path: Path) -> Vec<u8> {
        let (df, fcp) = match self.fs.node(&path) {
            Some(Node::Ef(content)) => {
                let size = u16::try_from(content.len()).unwrap_or(u16::MAX);
                let df = path[..path.len().saturating_sub(1)].to_vec();
                self.vol.cur_ef = Some(path);
                (df, der(0x62, &der(0x80, &size.to_be_bytes())))
            }
            _ => {
                let fid = path.last().copied().unwrap_or(MF);
                self.vol.cur_ef = None;
                (path, der(0x62, &der(0x83, &fid.to_be_bytes())))
            }
        };
        if df != self.vol.cur_df {
            // A new DF brings its default (empty) SE; PIN2 is local to ADF2.
            self.vol.se = None;
            if df.last() != Some(&ADF2) {
                self.vol.pin2_verified = false;
            }
            self.vol.cur_df = df;
        }
        fcp
    }

    /// READ BINARY (cards.md §2.3): libelectronic-id reads exact lengths;
    /// reading past the end gives the rest with `62 82` (ISO 7816-4, a guess
    /// for this card), an offset at or past the end `6B 00`.
    fn read_binary(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if !cmd.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        if cmd.p1 & 0x80 != 0 {
            return status(sw::WRONG_P1P2);
        }
        let Some(content) = self.vol.cur_ef.as_ref().and_then(|p| self.fs.ef(p)) else {
            return status(sw::NO_CURRENT_EF);
        };
        let offset = usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
        read_binary(content, offset, cmd.ne(), ShortRead::EndOfFile)
    }

    /// GET DATA (odd INS) retry counter query
    /// `00 CB 3F FF 0A 4D 08 70 06 BF 81 <ref&0F> 02 A0 80 00` (cards.md §2.5).
    fn get_data(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
            return status(sw::WRONG_P1P2);
        }
        let &[0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, reference, 0x02, 0xA0, 0x80] = cmd.data else {
            return status(sw::WRONG_DATA);
        };
        let (pin, access) = match reference {
            0x01 => (&self.pin1, 0x43),
            0x02 => (&self.puk, 0x43),
            // PIN2 is local to ADF2 (OpenSC selects ADF2 before asking).
            0x05 if self.in_adf2() => (&self.pin2, 0xFF),
            _ => return status(sw::REF_NOT_FOUND),
        };
        let sc = [0xF3, 0x00, 0x00, 0x73, access, 0x00];
        let inner = [
            der(0x9A, &[pin.max_tries()]),
            der(0x9B, &[pin.tries_left()]),
            der(0xA1, &[der(0x8C, &sc), der(0x9C, &sc)].concat()),
        ]
        .concat();
        let data = der(
            0x70,
            &[
                &[0xBF, 0x81, reference][..],
                &crate::tlv::der_len(inner.len() + 2),
                &der(0xA0, &inner),
            ]
            .concat(),
        );
        self.vol.pending.answer(cmd, data)
    }

    fn in_adf2(&self) -> bool {
        self.vol.cur_df.last() == Some(&ADF2)
    }

    /// Which PIN a reference names, if it is usable from the current DF.
    fn pin_for(&mut self, reference: u8) -> Option<(&mut Pin, &mut bool, usize)> {
        let in_adf2 = self.in_adf2();
        match reference {
            PIN1_REF => Some((&mut self.pin1, &mut self.vol.pin1_verified, 4)),
            PUK_REF => Some((&mut self.puk, &mut self.vol.puk_verified, 8)),
            PIN2_REF if in_adf2 => Some((&mut self.pin2, &mut self.vol.pin2_verified, 5)),
            _ => None,
        }
    }

    /// VERIFY `00 20 00 <ref> 0C <ASCII digits, FF-padded>` (cards.md §2.4);
    /// an empty body is a status query.
    fn verify(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return status(sw::WRONG_P1P2);
        }
        let empty = cmd.is_empty_body();
        let len = cmd.data.len();
        let Some((pin, verified, min)) = self.pin_for(cmd.p2) else {
            return status(sw::REF_NOT_FOUND);
        };
        if empty {
            return status(if pin.is_blocked() {
                sw::PIN_BLOCKED
            } else if *verified {
                sw::OK
            } else {
                sw::WRONG_PIN | u16::from(pin.tries_left())
            });
        }
        if len != 12 {
            return status(sw::WRONG_LENGTH);
        }
        let Some(candidate) = decode_ascii_ff(cmd.data, min) else {
            return status(sw::WRONG_DATA);
        };
        match pin.check(&candidate) {
            PinCheck::Ok => {
                *verified = true;
                status(sw::OK)
            }
            PinCheck::Wrong(left) => {
                *verified = false;
                status(sw::WRONG_PIN | u16::from(left))
            }
            PinCheck::Blocked => {
                *verified = false;
                status(sw::PIN_BLOCKED)
            }
        }
    }

    /// CHANGE REFERENCE DATA `00 24 00 <ref> 18 <old 12><new 12>`.
    fn change_reference_data(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return status(sw::WRONG_P1P2);
        }
        let data = cmd.data;
        let Some((pin, verified, min)) = self.pin_for(cmd.p2) else {
            return status(sw::REF_NOT_FOUND);
        };
        if data.len() != 24 {
            return status(sw::WRONG_LENGTH);
        }
        let (Some(old), Some(new)) = (decode_ascii_ff(&data[..12], min), decode_ascii_ff(&data[12..], min)) else {
            return status(sw::WRONG_DATA);
        };
        match pin.check(&old) {
            PinCheck::Ok => {
                pin.set(&new);
                status(sw::OK)
            }
            PinCheck::Wrong(left) => {
                *verified = false;
                status(sw::WRONG_PIN | u16::from(left))
            }
            PinCheck::Blocked => status(sw::PIN_BLOCKED),
        }
    }

    /// RESET RETRY COUNTER after VERIFY PUK (OpenSC esteid_pin_cmd UNBLOCK):
    /// P1=03 resets the counter, P1=02 also sets a new PIN.
    fn reset_retry_counter(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if !self.vol.puk_verified {
            return status(sw::SECURITY_STATUS);
        }
        let (p1, data) = (cmd.p1, cmd.data);
        if cmd.p2 == PUK_REF {
            return status(sw::REF_NOT_FOUND);
        }
        let Some((pin, _, min)) = self.pin_for(cmd.p2) else {
            return status(sw::REF_NOT_FOUND);
        };
        match p1 {
            0x03 if data.is_empty() => pin.unblock(),
            0x02 => match decode_ascii_ff(data, min) {
                Some(new) => pin.set(&new),
                None => return status(sw::WRONG_DATA),
            },
            _ => return status(sw::WRONG_P1P2),
        }
        status(sw::OK)
    }

    /// MSE SET AT `00 22 41 A4 06 80 01 04 84 01 81` or DST
    /// `00 22 41 B6 06 80 01 54 84 01 9F` (cards.md §2.6, §2.7). OpenSC's
    /// 4-byte algorithm references `FF 20 08 00` / `FF 15 08 00` are accepted too.
    fn mse_set(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0x41 {
            return status(sw::WRONG_P1P2);
        }
        let (algo, key) = match cmd.data {
            [0x80, 0x01, a, 0x84, 0x01, k] => (vec![*a], *k),
            [0x80, 0x04, a @ .., 0x84, 0x01, k] if a.len() == 4 => (a.to_vec(), *k),
            _ => return status(sw::WRONG_DATA),
        };
        let se = match (cmd.p2, algo.as_slice(), key) {
            (0xA4, [0x04] | [0xFF, 0x20, 0x08, 0x00], AUTH_KEY) => Se::Auth,
            (0xB6, [0x54] | [0xFF, 0x15, 0x08, 0x00], SIGN_KEY) => Se::Sign,
            (0xA4 | 0xB6, _, AUTH_KEY | SIGN_KEY) => return status(sw::WRONG_DATA),
            (0xA4 | 0xB6, _, _) => return status(sw::REF_NOT_FOUND),
            _ => return status(sw::WRONG_P1P2),
        };
        // The auth key lives in ADF1, the signing key in ADF2.
        let home = if se == Se::Auth { ADF1 } else { ADF2 };
        if self.vol.cur_df.last() != Some(&home) {
            return status(sw::REF_NOT_FOUND);
        }
        self.vol.se = Some(se);
        status(sw::OK)
    }

    /// INTERNAL AUTHENTICATE `00 88 00 00 30 <48-byte hash> 00` → r‖s,
    /// PIN1 verified once per session (cards.md §2.6).
    fn internal_authenticate(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return status(sw::WRONG_P1P2);
        }
        if self.vol.se != Some(Se::Auth) {
            return status(sw::CONDITIONS);
        }
        if !self.vol.pin1_verified {
            return status(sw::SECURITY_STATUS);
        }
        self.sign(cmd, true)
    }

    /// PSO CDS `00 2A 9E 9A 30 <48-byte hash> 00` → r‖s; PIN2 must be
    /// verified before every signature (cards.md §2.7).
    fn pso_cds(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0x9E || cmd.p2 != 0x9A {
            return status(sw::WRONG_P1P2);
        }
        if self.vol.se != Some(Se::Sign) {
            return status(sw::CONDITIONS);
        }
        if !std::mem::take(&mut self.vol.pin2_verified) {
            return status(sw::SECURITY_STATUS);
        }
        self.sign(cmd, false)
    }

    fn sign(&mut self, cmd: &Command<'_>, auth: bool) -> Vec<u8> {
        if cmd.data.len() != HASH_LEN {
            return status(if cmd.data.is_empty() {
                sw::WRONG_LENGTH
            } else {
                sw::WRONG_DATA
            });
        }
        let key = if auth { &self.pki.auth_key } else { &self.pki.sign_key };
        let LeafKey::P384(key) = key else {
            return status(sw::CONDITIONS);
        };
        match crypto::ecdsa_sign_digest(key, cmd.data) {
            Ok(sig) => self.vol.pending.answer(cmd, sig),
            Err(_) => response(&[], sw::WRONG_DATA),
        }
    }
}
