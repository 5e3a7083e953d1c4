//! Belgian eID BELPIC applet 1.7 (RSA-2048) and 1.8 (ECDSA P-384) command
//! processing (cards.md §1).

use std::sync::Arc;

use crate::apdu::{len_byte, response, status, sw, Command, PendingResponse};
use crate::belpic_fs::{self, APPLET_AID, DF_BELPIC_AID, DF_ID_AID, EF_ADDRESS, EF_ID};
use crate::card::CardOptions;
use crate::crypto::{self, digest_info, PssHash};
use crate::error::Result;
use crate::fs::{fids, read_binary, FileSystem, Path, ShortRead, MF};
use crate::pin::{decode_format2_block, Pin, PinCheck};
use crate::pki::{LeafKey, Pki};
use crate::tlv::be_fields;

/// GlobalPlatform issuer security domain AID: selecting it (or an empty AID)
/// deselects the BELPIC applet (cards.md §1.2, 1.8 manual §6.6 note).
const CARD_MANAGER_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00];

/// Key references (cards.md §1.10, 1.8 Table 16).
const KEY_BASIC: u8 = 0x81;
const KEY_AUTH: u8 = 0x82;
const KEY_NONREP: u8 = 0x83;

/// INTERNAL AUTHENTICATE calls allowed between two PIN verifications
/// (cards.md §1.13).
const IA_LIMIT: u32 = 5000;

/// Current security environment (MSE SET).
#[derive(Debug, Clone, Copy)]
struct Se {
    algo: u8,
    key: u8,
}

/// State lost on reset / power-off / removal.
#[derive(Debug, Default)]
struct Volatile {
    /// `false` once the card manager was selected (empty or ISD AID).
    card_manager: bool,
    cur_df: Path,
    cur_ef: Option<Path>,
    se: Option<Se>,
    /// "PIN once" right of the authentication key (cards.md §1.12).
    auth_right: bool,
    /// `auth_right` as it was before the latest successful VERIFY: what is
    /// left after that VERIFY is consumed by a non-repudiation signature
    /// ("PIN mixed" rule, cards.md §1.12).
    auth_right_before_verify: bool,
    /// Command number of the latest successful VERIFY that can still open a
    /// non-repudiation signature ("PIN just before", cards.md §1.12).
    nonrep_verify_at: Option<u64>,
    /// Commands processed since reset.
    counter: u64,
    pending: PendingResponse,
}

/// The BELPIC applet.
pub struct Belpic {
    v18: bool,
    pki: Arc<Pki>,
    fs: FileSystem,
    chip_serial: [u8; 16],
    pin: Pin,
    /// INTERNAL AUTHENTICATE calls since the last successful VERIFY
    /// (persistent, like the card's EEPROM counter).
    ia_counter: u32,
    vol: Volatile,
}

impl Belpic {
    /// Builds the applet; `v18` selects applet 1.8, otherwise 1.7.
    pub fn new(v18: bool, options: &CardOptions, pki: Arc<Pki>) -> Result<Self> {
        let content = belpic_fs::build(v18, &pki)?;
        let pin = Pin::new(
            &options.pin,
            options.max_tries,
            options.tries_left.unwrap_or(options.max_tries),
        );
        let mut applet = Belpic {
            v18,
            pki,
            fs: content.fs,
            chip_serial: content.chip_serial,
            pin,
            ia_counter: 0,
            vol: Volatile::default(),
        };
        applet.reset();
        Ok(applet)
    }

    /// After reset the applet is selected and the MF is current (cards.md §1.2).
    pub fn reset(&mut self) {
        self.vol = Volatile {
            cur_df: vec![MF],
            ..Volatile::default()
        };
    }

    /// Tries left of the cardholder PIN.
    pub fn pin_tries_left(&self) -> u8 {
        self.pin.tries_left()
    }

    /// The file tree.
    pub fn file_system(&self) -> &FileSystem {
        &self.fs
    }

    /// Processes one parsed command.
    pub fn process(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        self.vol.counter += 1;
        if cmd.ins != 0xC0 {
            // T=0: any other command discards pending GET RESPONSE data.
            self.vol.pending.clear();
        }
        if let Some(sw) = check_class(cmd) {
            return status(sw);
        }
        if self.vol.card_manager && !(cmd.ins == 0xA4 && cmd.p1 == 0x04) {
            // The applet is deselected: the card manager knows none of its
            // commands (eid-mw re-selects the applet on 6D00, §1.14).
            return status(sw::INS_NOT_SUPPORTED);
        }
        match cmd.ins {
            0xA4 => self.select(cmd),
            0xB0 => self.read_binary(cmd),
            0xB2 if self.v18 => self.read_record(cmd),
            0xC0 => self.vol.pending.get_response(cmd),
            0xE4 => self.get_card_data(cmd),
            0x20 => self.verify(cmd),
            0x24 => self.change_pin(cmd),
            // No PUK on the citizen's side: unblocking needs the municipality.
            0x2C => status(sw::SECURITY_STATUS),
            0x22 => self.mse_set(cmd),
            0x2A => self.pso_cds(cmd),
            0x88 if self.v18 => self.internal_authenticate(cmd),
            0xE6 => self.log_off(cmd),
            _ => status(sw::INS_NOT_SUPPORTED),
        }
    }

    /// SELECT FILE (cards.md §1.5, §1.6; 1.8 manual §6.6 Table 20).
    fn select(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        match cmd.p1 {
            0x04 => self.select_aid(cmd),
            0x02 | 0x08 if cmd.p2 != 0x0C => status(sw::WRONG_P1P2),
            0x02 => {
                let [hi, lo] = cmd.data else {
                    return status(sw::LC_INCONSISTENT);
                };
                match self.resolve_fid(u16::from_be_bytes([*hi, *lo])) {
                    Some(path) => self.make_current(path),
                    None => status(sw::FILE_NOT_FOUND),
                }
            }
            0x08 => {
                let Some(mut path) = fids(cmd.data) else {
                    return status(sw::LC_INCONSISTENT);
                };
                // The manual's path excludes the MF; OpenSC sends it anyway (§1.6, §8b).
                if path.first() == Some(&MF) {
                    path.remove(0);
                }
                let target = if path.is_empty() {
                    Some(vec![MF])
                } else {
                    self.fs.walk(&[MF], &path)
                };
                match target {
                    Some(path) => self.make_current(path),
                    None => status(sw::FILE_NOT_FOUND),
                }
            }
            _ => status(sw::WRONG_P1P2),
        }
    }

    /// SELECT by AID: the applet (P2 00 or 0C), DF(BELPIC), DF(ID), or the
    /// card manager (cards.md §1.2, §1.6).
    fn select_aid(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p2 != 0x00 && cmd.p2 != 0x0C {
            return status(sw::WRONG_P1P2);
        }
        let aid = cmd.data;
        if aid.is_empty() || aid == CARD_MANAGER_AID {
            self.vol.card_manager = true;
            self.vol.se = None;
            self.vol.nonrep_verify_at = None;
            return status(sw::OK);
        }
        if aid == APPLET_AID {
            // Guess: re-selecting the applet makes the MF current and drops
            // the SE, but keeps the PIN rights (eid-mw re-selects it often).
            self.vol.card_manager = false;
            self.vol.cur_df = vec![MF];
            self.vol.cur_ef = None;
            self.vol.se = None;
            self.vol.nonrep_verify_at = None;
            return status(sw::OK);
        }
        if !(5..=16).contains(&aid.len()) {
            return status(sw::LC_INCONSISTENT);
        }
        if aid == DF_BELPIC_AID || aid == DF_ID_AID {
            if let Some(path) = self.fs.by_aid(aid) {
                return self.make_current(path);
            }
        }
        status(sw::FILE_NOT_FOUND)
    }

    /// FID selection (P1=02): the MF, the current DF itself, its parent, or a
    /// direct child of the current DF; anything else is `6A82` (cards.md §1.6).
    fn resolve_fid(&self, fid: u16) -> Option<Path> {
        let cur = &self.vol.cur_df;
        if fid == MF {
            return Some(vec![MF]);
        }
        if cur.last() == Some(&fid) {
            return Some(cur.clone());
        }
        if cur.len() > 1 && cur.get(cur.len() - 2) == Some(&fid) {
            return Some(cur[..cur.len() - 1].to_vec());
        }
        self.fs.child(cur, fid)
    }

    fn make_current(&mut self, path: Path) -> Vec<u8> {
        if self.fs.is_df(&path) {
            self.vol.cur_df = path;
            self.vol.cur_ef = None;
        } else {
            self.vol.cur_df = path[..path.len().saturating_sub(1)].to_vec();
            self.vol.cur_ef = Some(path);
        }
        status(sw::OK)
    }

    /// READ BINARY `00 B0 off_hi off_lo Le` (cards.md §1.7).
    fn read_binary(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if !cmd.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        if cmd.p1 & 0x80 != 0 {
            // Short EF identifiers are not supported by the applet.
            return status(sw::WRONG_OFFSET);
        }
        let Some(content) = self.vol.cur_ef.as_ref().and_then(|p| self.fs.ef(p)) else {
            return status(sw::NO_CURRENT_EF);
        };
        let offset = usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
        read_binary(content, offset, cmd.ne(), ShortRead::WrongLe)
    }

    /// READ RECORD `80 B2 firstTag lastTag Le` on the current identity or
    /// address file: the T‖L‖V of the fields in the tag range (1.8 §6.8).
    fn read_record(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if !cmd.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        let Some(path) = self.vol.cur_ef.as_ref() else {
            return status(sw::NO_CURRENT_EF);
        };
        if !matches!(path.last(), Some(&EF_ID) | Some(&EF_ADDRESS)) {
            return status(sw::NOT_STRUCTURED);
        }
        if cmd.p1 > cmd.p2 {
            return status(sw::WRONG_OFFSET);
        }
        let content = self.fs.ef(path).unwrap_or_default();
        let data: Vec<u8> = be_fields(content)
            .into_iter()
            .filter(|(tag, _)| (cmd.p1..=cmd.p2).contains(tag))
            .flat_map(|(tag, value)| crate::tlv::be_field(tag, value))
            .collect();
        if data.is_empty() {
            return status(sw::RECORD_NOT_FOUND);
        }
        if data.len() > 256 || cmd.ne() != data.len() {
            return status(sw::WRONG_LE | len_byte(data.len().min(256)));
        }
        response(&data, sw::OK)
    }

    /// GET CARD DATA `80 E4 00 P2 Le` (cards.md §1.8). P2=01 (1.8 only) adds
    /// the PIN tries left and two RFU bytes.
    fn get_card_data(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 || !(cmd.p2 == 0 || (self.v18 && cmd.p2 == 1)) {
            return status(sw::WRONG_OFFSET);
        }
        if !cmd.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        let mut data = self.chip_serial.to_vec();
        if self.v18 {
            // Component code, OS number/version, softmask number/version:
            // guessed from the ATR's historical bytes.
            data.extend_from_slice(&[0xB0, 0x85, 0x04, 0x01, 0x20]);
            // applet 1.8, global OS 00 01, interface 00, PKCS#1 00, key exchange 02, personalized.
            data.extend_from_slice(&[0x18, 0x00, 0x01, 0x00, 0x00, 0x02, 0x0F]);
        } else {
            data.extend_from_slice(&[0xA5, 0x03, 0x01, 0x01, 0x01]);
            // applet 1.7, global OS 00 03, interface 00, PKCS#1 v2.1, key exchange 01, personalized.
            data.extend_from_slice(&[0x17, 0x00, 0x03, 0x00, 0x21, 0x01, 0x0F]);
        }
        if cmd.p2 == 1 {
            data.extend_from_slice(&[self.pin.tries_left(), 0xFF, 0xFF]);
        }
        if cmd.ne() != data.len() {
            return status(sw::WRONG_LE | len_byte(data.len()));
        }
        response(&data, sw::OK)
    }

    /// VERIFY `00 20 00 01 08 <format-2 block>`; an empty body is a status
    /// query that does not decrement (cards.md §1.9, §8b).
    fn verify(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return status(sw::WRONG_P1P2);
        }
        if cmd.p2 != 0x01 {
            return status(sw::REF_NOT_FOUND);
        }
        if cmd.is_empty_body() {
            return status(if self.pin.is_blocked() {
                sw::PIN_BLOCKED
            } else if self.vol.auth_right || self.vol.nonrep_verify_at.is_some() {
                sw::OK
            } else {
                sw::WRONG_PIN | u16::from(self.pin.tries_left())
            });
        }
        if cmd.data.len() != 8 {
            return status(sw::WRONG_LENGTH);
        }
        let Some(candidate) = decode_format2_block(cmd.data) else {
            return status(sw::WRONG_DATA);
        };
        match self.pin.check(&candidate) {
            PinCheck::Ok => {
                self.ia_counter = 0;
                self.vol.auth_right_before_verify = self.vol.auth_right;
                self.vol.auth_right = true;
                self.vol.nonrep_verify_at = Some(self.vol.counter);
                status(sw::OK)
            }
            PinCheck::Wrong(left) => {
                // "A wrong PIN verification resets PIN access conditions" (§1.9).
                self.drop_rights();
                status(sw::WRONG_PIN | u16::from(left))
            }
            PinCheck::Blocked => status(sw::PIN_BLOCKED),
        }
    }

    /// CHANGE REFERENCE DATA `00 24 00 01 10 <old block><new block>` (cards.md §1.9).
    fn change_pin(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return status(sw::WRONG_P1P2);
        }
        if cmd.p2 != 0x01 {
            return status(sw::REF_NOT_FOUND);
        }
        if cmd.data.len() != 16 {
            return status(sw::WRONG_LENGTH);
        }
        let (Some(old), Some(new)) = (
            decode_format2_block(&cmd.data[..8]),
            decode_format2_block(&cmd.data[8..]),
        ) else {
            return status(sw::WRONG_DATA);
        };
        match self.pin.check(&old) {
            PinCheck::Ok => {
                self.pin.set(&new);
                status(sw::OK)
            }
            PinCheck::Wrong(left) => {
                self.drop_rights();
                status(sw::WRONG_PIN | u16::from(left))
            }
            PinCheck::Blocked => status(sw::PIN_BLOCKED),
        }
    }

    /// MSE SET `00 22 41 B6 05 04 80 <algo> 84 <key>`, with the non-ISO
    /// leading length byte (cards.md §1.10).
    fn mse_set(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0x41 || cmd.p2 != 0xB6 {
            return status(sw::WRONG_OFFSET);
        }
        let &[0x04, 0x80, algo, 0x84, key] = cmd.data else {
            return status(if cmd.data.len() == 5 {
                sw::WRONG_DATA
            } else {
                sw::WRONG_LENGTH
            });
        };
        if key != KEY_AUTH && key != KEY_NONREP {
            return status(sw::REF_NOT_FOUND);
        }
        let algo_ok = if self.v18 {
            // ECDSA SHA-256/384/512, SHA3-256/384/512, "hash not specified".
            matches!(algo, 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40)
        } else {
            // PKCS#1 v1.5 raw/SHA-1/MD5/SHA-256, PSS SHA-1/SHA-256.
            matches!(algo, 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20)
        };
        if !algo_ok {
            return status(sw::WRONG_DATA);
        }
        // MSE does not touch the PIN rights: eid-mw sends MSE → VERIFY → PSO (§1.12).
        self.vol.se = Some(Se { algo, key });
        status(sw::OK)
    }

    /// PSO COMPUTE DIGITAL SIGNATURE `00 2A 9E 9A Lc <hash> [Le]`
    /// (cards.md §1.11) under the PIN rules of §1.12.
    fn pso_cds(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0x9E || cmd.p2 != 0x9A {
            return status(sw::WRONG_OFFSET);
        }
        // Any PSO ends a non-repudiation window: the right is good for one
        // signature, and a PSO is never the "one other command" (§1.12).
        let verify_at = self.vol.nonrep_verify_at.take();
        let Some(se) = self.vol.se else {
            return status(sw::CONDITIONS);
        };
        if cmd.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        match se.key {
            KEY_AUTH if !self.vol.auth_right => return status(sw::SECURITY_STATUS),
            KEY_NONREP => {
                // 1.7: VERIFY immediately before; 1.8: at most one command between.
                let allowed_gap = if self.v18 { 1 } else { 0 };
                let fresh = verify_at.is_some_and(|at| self.vol.counter.saturating_sub(at + 1) <= allowed_gap);
                if !fresh {
                    return status(sw::SECURITY_STATUS);
                }
                // "PIN mixed": the VERIFY is used up by this sequence.
                self.vol.auth_right = self.vol.auth_right_before_verify;
            }
            _ => {}
        }
        let key = if se.key == KEY_AUTH {
            &self.pki.auth_key
        } else {
            &self.pki.sign_key
        };
        let signature = match key {
            LeafKey::P384(k) => {
                if !ecdsa_length_ok(se.algo, cmd.data.len()) {
                    return status(sw::WRONG_DATA);
                }
                crypto::ecdsa_sign_digest(k, cmd.data)
            }
            LeafKey::Rsa2048(k) => match rsa_input(se.algo, cmd.data) {
                Some(RsaInput::Pkcs1(digest_info)) => crypto::rsa_sign_pkcs1(k, &digest_info),
                Some(RsaInput::Pss(hash)) => crypto::rsa_sign_pss(k, hash, cmd.data),
                None => return status(sw::WRONG_DATA),
            },
        };
        match signature {
            Ok(sig) => self.vol.pending.answer(cmd, sig),
            Err(_) => status(sw::WRONG_DATA),
        }
    }

    /// INTERNAL AUTHENTICATE `00 88 <algo> 81 Lc 94 <len> <CHL> [Le]` with
    /// the basic key; no PIN needed; clears the SE (cards.md §1.13).
    fn internal_authenticate(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        self.vol.nonrep_verify_at = None;
        if cmd.p2 != KEY_BASIC {
            return status(sw::REF_NOT_FOUND);
        }
        let expected = match cmd.p1 {
            0x01 => 32,
            0x02 => 48,
            0x04 => 64,
            _ => return status(sw::WRONG_P1P2),
        };
        let [0x94, len, challenge @ ..] = cmd.data else {
            return status(sw::WRONG_DATA);
        };
        if usize::from(*len) != challenge.len() || challenge.len() != expected {
            return status(sw::WRONG_DATA);
        }
        if self.ia_counter >= IA_LIMIT {
            return status(sw::CONDITIONS);
        }
        self.ia_counter += 1;
        self.vol.se = None;
        match crypto::ecdsa_sign_digest(&self.pki.basic_key, challenge) {
            Ok(sig) => self.vol.pending.answer(cmd, sig),
            Err(_) => status(sw::WRONG_DATA),
        }
    }

    /// LOG OFF `80 E6 00 00` (4- or 5-byte form): discards the PIN rights
    /// (cards.md §1.12).
    fn log_off(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return status(sw::WRONG_OFFSET);
        }
        if !cmd.is_empty_body() {
            return status(sw::WRONG_LENGTH);
        }
        self.drop_rights();
        status(sw::OK)
    }

    fn drop_rights(&mut self) {
        self.vol.auth_right = false;
        self.vol.auth_right_before_verify = false;
        self.vol.nonrep_verify_at = None;
    }
}

/// `None` if the CLA fits the instruction: ISO commands use CLA 00, the
/// proprietary ones (GET CARD DATA, LOG OFF, READ RECORD) CLA 80.
fn check_class(cmd: &Command<'_>) -> Option<u16> {
    let iso = matches!(cmd.ins, 0xA4 | 0xB0 | 0xC0 | 0x20 | 0x24 | 0x2C | 0x22 | 0x2A | 0x88);
    let proprietary = matches!(cmd.ins, 0xE4 | 0xE6 | 0xB2);
    match cmd.cla {
        0x00 if iso => None,
        0x80 if proprietary => None,
        0x00 | 0x80 if !iso && !proprietary => Some(sw::INS_NOT_SUPPORTED),
        _ => Some(sw::CLA_NOT_SUPPORTED),
    }
}

/// Digest length required by a 1.8 ECDSA algorithm byte (cards.md §1.10).
fn ecdsa_length_ok(algo: u8, len: usize) -> bool {
    match algo {
        0x01 | 0x08 => len == 32,
        0x02 | 0x10 => len == 48,
        0x04 | 0x20 => len == 64,
        0x40 => matches!(len, 20 | 28 | 32 | 48 | 64),
        _ => false,
    }
}

enum RsaInput {
    Pkcs1(Vec<u8>),
    Pss(PssHash),
}

/// What the 1.7 card signs for each algorithm byte (cards.md §1.10-1.11):
/// 01 the host's DigestInfo (≤ 245 bytes for a 2048-bit key), 02/04/08 a
/// bare SHA-1/MD5/SHA-256 the card wraps in a DigestInfo, 10/20 PSS.
fn rsa_input(algo: u8, data: &[u8]) -> Option<RsaInput> {
    let wrap = |prefix: &[u8], len: usize| (data.len() == len).then(|| RsaInput::Pkcs1([prefix, data].concat()));
    match algo {
        0x01 if data.len() <= 245 => Some(RsaInput::Pkcs1(data.to_vec())),
        0x02 => wrap(digest_info::SHA1, 20),
        0x04 => wrap(digest_info::MD5, 16),
        0x08 => wrap(digest_info::SHA256, 32),
        0x10 => (data.len() == 20).then_some(RsaInput::Pss(PssHash::Sha1)),
        0x20 => (data.len() == 32).then_some(RsaInput::Pss(PssHash::Sha256)),
        _ => None,
    }
}
