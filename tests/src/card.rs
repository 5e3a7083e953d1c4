//! The virtual card: profile selection, options, and the in-process
//! `atr` / `reset` / `process` interface (no I/O).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::apdu::{status, Command};
use crate::belpic::Belpic;
use crate::error::{Result, VcardError};
use crate::fs::FileSystem;
use crate::idemia::Idemia;
use crate::pin::valid_digits;
use crate::pki::{Country, Holder, LeafKey, LeafKeyType, Pki, PkiSpec, DEFAULT_HOLDER, DEFAULT_SEED};

/// ATR of the Belgian applet 1.8 card (cards.md §1.1).
pub const ATR_BELPIC18: &[u8] = &[
    0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x04, 0x01, 0x20, 0x12, 0x0F, 0xFF, 0x82, 0x90,
    0x00,
];
/// ATR of the Belgian applet 1.7 card, perso v02 (cards.md §1.1).
pub const ATR_BELPIC17: &[u8] = &[
    0x3B, 0x98, 0x13, 0x40, 0x0A, 0xA5, 0x03, 0x01, 0x01, 0x01, 0xAD, 0x13, 0x11,
];
/// ATR of the EstEID IDEMIA Cosmo 8.1/8.2 card (cards.md §2.1).
pub const ATR_ESTEID_IDEMIA: &[u8] = &[
    0x3B, 0xDB, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00, 0x12, 0x23, 0x3F, 0x53, 0x65, 0x49, 0x44, 0x0F,
    0x90, 0x00, 0xF1,
];

/// Which card to emulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Belgian eID, BELPIC applet 1.8, ECDSA P-384.
    Belpic18,
    /// Belgian eID, BELPIC applet 1.7, RSA-2048.
    Belpic17,
    /// Estonian eID, IDEMIA (2018), ECDSA P-384.
    EstEid,
}

impl Profile {
    /// All profiles.
    pub const ALL: [Profile; 3] = [Profile::Belpic18, Profile::Belpic17, Profile::EstEid];

    /// Command-line name: `belpic18`, `belpic17`, `esteid`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Belpic18 => "belpic18",
            Profile::Belpic17 => "belpic17",
            Profile::EstEid => "esteid",
        }
    }

    /// The ATR the card presents.
    pub fn atr(self) -> &'static [u8] {
        match self {
            Profile::Belpic18 => ATR_BELPIC18,
            Profile::Belpic17 => ATR_BELPIC17,
            Profile::EstEid => ATR_ESTEID_IDEMIA,
        }
    }

    /// Country conventions of the profile's certificates.
    pub fn country(self) -> Country {
        match self {
            Profile::Belpic18 | Profile::Belpic17 => Country::Belgium,
            Profile::EstEid => Country::Estonia,
        }
    }

    /// Key type of the holder's keys.
    pub fn leaf_keys(self) -> LeafKeyType {
        match self {
            Profile::Belpic17 => LeafKeyType::Rsa2048,
            Profile::Belpic18 | Profile::EstEid => LeafKeyType::P384,
        }
    }

    /// The PKI spec these options give for this profile.
    pub fn pki_spec(self, options: &CardOptions) -> Result<PkiSpec> {
        let default = PkiSpec::default_for(self.country(), self.leaf_keys());
        let national_number = options
            .national_number
            .clone()
            .unwrap_or(default.holder.national_number);
        Ok(PkiSpec {
            seed: options.seed.clone(),
            holder: Holder::parse(&options.holder, &national_number)?,
            country: self.country(),
            leaf_keys: self.leaf_keys(),
            ocsp_url: None,
        })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = VcardError;

    fn from_str(s: &str) -> Result<Self> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| VcardError::UnknownProfile(s.to_string()))
    }
}

/// Card options: PINs, retry counters and what the PKI is derived from.
#[derive(Clone, PartialEq, Eq)]
pub struct CardOptions {
    /// The PIN (Belgian) or PIN1 (EstEID). Default `1234`.
    pub pin: String,
    /// EstEID PIN2 (signature). Default `12345`. Unused by the Belgian profiles.
    pub sign_pin: String,
    /// EstEID PUK. Default `12345678`. Unused by the Belgian profiles.
    pub puk: String,
    /// Maximum tries of every PIN. Default 3.
    pub max_tries: u8,
    /// Tries left at start for the PIN / PIN1 (`None` = `max_tries`).
    pub tries_left: Option<u8>,
    /// Tries left at start for the EstEID PIN2 (`None` = `max_tries`).
    pub sign_tries_left: Option<u8>,
    /// PKI seed. Default [`DEFAULT_SEED`].
    pub seed: Vec<u8>,
    /// Holder name, "Given Surname" or "Surname, Given". Default [`DEFAULT_HOLDER`].
    pub holder: String,
    /// National number / personal code (`None` = the profile's default).
    pub national_number: Option<String>,
}

impl fmt::Debug for CardOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PINs are secrets even on a test card: never print them.
        f.debug_struct("CardOptions")
            .field("max_tries", &self.max_tries)
            .field("tries_left", &self.tries_left)
            .field("sign_tries_left", &self.sign_tries_left)
            .field("seed", &String::from_utf8_lossy(&self.seed))
            .field("holder", &self.holder)
            .field("national_number", &self.national_number)
            .finish_non_exhaustive()
    }
}

impl Default for CardOptions {
    fn default() -> Self {
        CardOptions {
            pin: "1234".into(),
            sign_pin: "12345".into(),
            puk: "12345678".into(),
            max_tries: 3,
            tries_left: None,
            sign_tries_left: None,
            seed: DEFAULT_SEED.as_bytes().to_vec(),
            holder: DEFAULT_HOLDER.into(),
            national_number: None,
        }
    }
}

impl CardOptions {
    /// Checks the options against the profile's PIN rules (cards.md §1.9: BELPIC
    /// 4-12 digits; §2.4: PIN1 4-12, PIN2 5-12, PUK 8-12).
    pub fn validate(&self, profile: Profile) -> Result<()> {
        let bad = |what: &str| Err(VcardError::InvalidOption(what.to_string()));
        if !(1..=15).contains(&self.max_tries) {
            return bad("max tries must be 1..=15");
        }
        if self.tries_left.unwrap_or(0) > self.max_tries || self.sign_tries_left.unwrap_or(0) > self.max_tries {
            return bad("tries left cannot exceed max tries");
        }
        if !valid_digits(&self.pin, 4, 12) {
            return bad("PIN must be 4 to 12 digits");
        }
        if profile == Profile::EstEid {
            if !valid_digits(&self.sign_pin, 5, 12) {
                return bad("EstEID PIN2 must be 5 to 12 digits");
            }
            if !valid_digits(&self.puk, 8, 12) {
                return bad("EstEID PUK must be 8 to 12 digits");
            }
        }
        Ok(())
    }
}

/// The applet behind the ATR.
enum Applet {
    Belpic(Box<Belpic>),
    Idemia(Box<Idemia>),
}

/// An in-process virtual card. `process` takes a C-APDU and returns the
/// R-APDU (always at least SW1 SW2); `reset` is what power-on, reset and
/// power-off do (volatile state cleared, PIN counters kept).
pub struct VirtualCard {
    profile: Profile,
    pki: Arc<Pki>,
    applet: Applet,
}

impl fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualCard")
            .field("profile", &self.profile)
            .field("pin_tries_left", &self.pin_tries_left())
            .finish_non_exhaustive()
    }
}

impl VirtualCard {
    /// Builds a card and its PKI from the options (RSA key generation for
    /// `belpic17` takes a few seconds: prefer [`VirtualCard::with_pki`] with
    /// a shared PKI in tests).
    pub fn new(profile: Profile, options: &CardOptions) -> Result<Self> {
        options.validate(profile)?;
        let pki = Pki::generate(&profile.pki_spec(options)?)?;
        Self::with_pki(profile, options, Arc::new(pki))
    }

    /// Builds a card on an existing PKI, which must have the profile's key type.
    pub fn with_pki(profile: Profile, options: &CardOptions, pki: Arc<Pki>) -> Result<Self> {
        options.validate(profile)?;
        let key_ok = matches!(
            (profile.leaf_keys(), &pki.auth_key, &pki.sign_key),
            (LeafKeyType::P384, LeafKey::P384(_), LeafKey::P384(_))
                | (LeafKeyType::Rsa2048, LeafKey::Rsa2048(_), LeafKey::Rsa2048(_))
        );
        if !key_ok {
            return Err(VcardError::InvalidOption(format!(
                "the PKI's key type does not fit profile {profile}"
            )));
        }
        let applet = match profile {
            Profile::Belpic18 => Applet::Belpic(Box::new(Belpic::new(true, options, pki.clone())?)),
            Profile::Belpic17 => Applet::Belpic(Box::new(Belpic::new(false, options, pki.clone())?)),
            Profile::EstEid => Applet::Idemia(Box::new(Idemia::new(options, pki.clone())?)),
        };
        Ok(VirtualCard { profile, pki, applet })
    }

    /// The emulated profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The card's PKI (certificates and private keys).
    pub fn pki(&self) -> &Arc<Pki> {
        &self.pki
    }

    /// The ATR.
    pub fn atr(&self) -> Vec<u8> {
        self.profile.atr().to_vec()
    }

    /// Power-on / reset / power-off: selected files, security environment,
    /// PIN-verified flags and pending GET RESPONSE data are dropped; PIN
    /// values and retry counters persist.
    pub fn reset(&mut self) {
        match &mut self.applet {
            Applet::Belpic(a) => a.reset(),
            Applet::Idemia(a) => a.reset(),
        }
    }

    /// Processes one C-APDU and returns the R-APDU (never empty).
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let cmd = match Command::parse(apdu) {
            Ok(cmd) => cmd,
            Err(sw) => return status(sw),
        };
        let out = match &mut self.applet {
            Applet::Belpic(a) => a.process(&cmd),
            Applet::Idemia(a) => a.process(&cmd),
        };
        if out.len() < 2 {
            // Defensive: vpcd ejects the card on an empty answer (cards.md §6).
            return status(crate::apdu::sw::CONDITIONS);
        }
        out
    }

    /// Tries left of the PIN (Belgian) or PIN1 (EstEID).
    pub fn pin_tries_left(&self) -> u8 {
        match &self.applet {
            Applet::Belpic(a) => a.pin_tries_left(),
            Applet::Idemia(a) => a.pin1_tries_left(),
        }
    }

    /// Tries left of the EstEID PIN2 (`None` on Belgian cards).
    pub fn sign_pin_tries_left(&self) -> Option<u8> {
        match &self.applet {
            Applet::Belpic(_) => None,
            Applet::Idemia(a) => Some(a.pin2_tries_left()),
        }
    }

    /// The card's file tree (read-only), e.g. to compare what a driver read.
    pub fn file_system(&self) -> &FileSystem {
        match &self.applet {
            Applet::Belpic(a) => a.file_system(),
            Applet::Idemia(a) => a.file_system(),
        }
    }

    /// Content of the EF at `path` (MF included, e.g. `[0x3F00, 0xDF00, 0x5038]`).
    pub fn file(&self, path: &[u16]) -> Option<&[u8]> {
        self.file_system().ef(path)
    }
}
