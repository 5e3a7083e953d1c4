//! The `Token` every part of eidlink works with, whatever the card or module behind it: a card in a
//! PC/SC reader run by one of our drivers ([`CardToken`]), a PKCS#11 module's slot, or the in-process
//! virtual card of the tests. Where tokens come from is [`provider`]'s business.

pub mod card;
pub mod provider;

use crate::atr::Atr;
use crate::error::CardError;
use crate::hash::{Digest, HashAlgorithm};
use crate::pin::{Pin, PinPolicy};

pub use card::CardToken;
pub use provider::{discover, Discovery, Found, NotFound, ProviderWatch, Providers, TokenProvider};

/// Which certificate to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateKind {
    /// The authentication (log in) certificate.
    Authentication,
    /// The signing (non-repudiation, qualified) certificate.
    Signing,
    /// The issuing CA certificate, when the card carries it (Belgian eID).
    IntermediateCa,
    /// The root CA certificate, when the card carries it (Belgian eID).
    Root,
}

/// Which private key (and so which PIN) an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The authentication key.
    Authentication,
    /// The signing key (non-repudiation); its PIN must be verified right before each signature.
    Signing,
}

/// Elliptic curves of eID keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
}

impl Curve {
    /// Size of one of r and s in a raw signature.
    pub const fn scalar_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// A key's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on a curve.
    Ec(Curve),
    /// RSA with a modulus of `bits`.
    Rsa {
        /// Modulus size in bits.
        bits: u16,
    },
}

impl KeyAlgorithm {
    /// Length of the signature the key produces: raw `r || s` for ECDSA, the modulus size for RSA.
    pub const fn signature_len(self) -> usize {
        match self {
            Self::Ec(curve) => 2 * curve.scalar_len(),
            Self::Rsa { bits } => (bits as usize).div_ceil(8),
        }
    }
}

/// The family of a signature algorithm (its wire names live in `eidlink-webeid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoAlgorithm {
    /// ECDSA.
    Ecc,
    /// RSA.
    Rsa,
}

/// How a digest is padded before the private-key operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// None (ECDSA).
    None,
    /// RSA PKCS#1 v1.5 (DigestInfo).
    Pkcs1v15,
    /// RSA-PSS (MGF1 with the same hash, salt = hash length).
    Pss,
}

/// A signature scheme a key offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignatureAlgorithm {
    /// ECC or RSA.
    pub crypto: CryptoAlgorithm,
    /// The hash function the digest comes from.
    pub hash: HashAlgorithm,
    /// Padding.
    pub padding: Padding,
}

impl SignatureAlgorithm {
    /// Every ECDSA scheme with one of `hashes`.
    pub fn ecdsa(hashes: &[HashAlgorithm]) -> Vec<Self> {
        hashes
            .iter()
            .map(|&hash| Self {
                crypto: CryptoAlgorithm::Ecc,
                hash,
                padding: Padding::None,
            })
            .collect()
    }

    /// Every RSA PKCS#1 v1.5 scheme with one of `hashes`.
    pub fn rsa_pkcs1(hashes: &[HashAlgorithm]) -> Vec<Self> {
        hashes
            .iter()
            .map(|&hash| Self {
                crypto: CryptoAlgorithm::Rsa,
                hash,
                padding: Padding::Pkcs1v15,
            })
            .collect()
    }
}

/// A signature as the card made it: ECDSA as raw `r || s`, RSA as the modulus-sized block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signature bytes.
    pub bytes: Vec<u8>,
    /// How it was made.
    pub algorithm: SignatureAlgorithm,
}

/// The state of a PIN, read without spending a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PinInfo {
    /// Tries left, when the token tells (0 = blocked). A PKCS#11 token tells only "final try" (1)
    /// and "locked" (0): otherwise this is `None`, never a made-up count.
    pub tries_left: Option<u8>,
    /// Tries a fresh PIN has, when the token tells (cards do, PKCS#11 does not).
    pub max_tries: Option<u8>,
    /// The token says a wrong PIN has been entered since the last right one, without a count
    /// (PKCS#11 `CKF_USER_PIN_COUNT_LOW`).
    pub low: bool,
}

impl PinInfo {
    /// A card's counter: `tries_left` of `max_tries`.
    pub const fn counted(tries_left: u8, max_tries: u8) -> Self {
        Self {
            tries_left: Some(tries_left),
            max_tries: Some(max_tries),
            low: false,
        }
    }

    /// Whether the PIN is blocked.
    pub fn is_blocked(&self) -> bool {
        self.tries_left == Some(0)
    }

    /// Whether the next wrong PIN blocks it.
    pub fn is_last_try(&self) -> bool {
        self.tries_left == Some(1)
    }

    /// What is known, in English, for the CLI and diagnose: "3 of 3", "blocked", "last try",
    /// "not told by the token (a wrong PIN was entered since the last right one)".
    pub fn describe(&self) -> String {
        match (self.tries_left, self.max_tries) {
            (Some(0), _) => "blocked".to_owned(),
            (Some(n), Some(max)) => format!("{n} of {max}"),
            (Some(1), None) => "last try".to_owned(),
            (Some(n), None) => n.to_string(),
            (None, _) if self.low => {
                "not told by the token (a wrong PIN was entered since the last right one)".to_owned()
            }
            (None, _) => "not told by the token".to_owned(),
        }
    }
}

/// Facts about the card for `info` and `diagnose`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardInfo {
    /// The chip serial number, hex.
    pub serial: Option<String>,
    /// The applet or card version, as the card reports it.
    pub version: Option<String>,
    /// Other facts as (name, value), in display order.
    pub extra: Vec<(&'static str, String)>,
}

/// Where a token sits: what the user sees as "the reader" and support needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Slot {
    /// A card in a PC/SC reader, run by one of our drivers.
    Reader {
        /// The reader's name, as PC/SC reports it.
        reader: String,
        /// The card's answer to reset.
        atr: Atr,
    },
    /// A slot of a vendor PKCS#11 module.
    Pkcs11 {
        /// The module's file.
        module: String,
        /// The slot id the module gives.
        slot_id: u64,
        /// The slot's description (often the reader name).
        description: String,
    },
}

impl Slot {
    /// The name to show: the reader, or the PKCS#11 slot's description.
    pub fn name(&self) -> &str {
        match self {
            Self::Reader { reader, .. } => reader,
            Self::Pkcs11 { description, .. } => description,
        }
    }

    /// The PKCS#11 module the token is reached through, if it is a module's.
    pub fn module(&self) -> Option<&str> {
        match self {
            Self::Reader { .. } => None,
            Self::Pkcs11 { module, .. } => Some(module),
        }
    }

    /// The card's ATR, where the token is a card we talk to directly.
    pub fn atr(&self) -> Option<&Atr> {
        match self {
            Self::Reader { atr, .. } => Some(atr),
            Self::Pkcs11 { .. } => None,
        }
    }
}

/// How the PIN of a key reaches the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinEntry {
    /// Typed in eidlink's PIN dialog and sent by the host.
    Dialog,
    /// Typed on the reader's PIN pad (PC/SC part 10); the computer never sees it.
    Pinpad,
    /// Asked by the token itself (PKCS#11 protected authentication path).
    Token,
}

impl PinEntry {
    /// Whether the PIN is entered outside eidlink's dialog (no PIN field to show).
    pub fn is_external(self) -> bool {
        !matches!(self, Self::Dialog)
    }
}

/// What the caller gives to a signature: the PIN typed in our dialog, or nothing because the reader or
/// the token asks for it ([`PinEntry::Pinpad`], [`PinEntry::Token`]).
#[derive(Debug, Clone, Copy)]
pub enum PinInput<'a> {
    /// A PIN typed by the user.
    Typed(&'a Pin),
    /// The PIN is entered on the reader's pad or by the token.
    External,
}

/// What a token says of one of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// What the key is for.
    pub role: KeyRole,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The signature schemes it offers.
    pub schemes: Vec<SignatureAlgorithm>,
    /// Its PIN's rules.
    pub pin: PinPolicy,
    /// The name of its PIN as the card's documents call it (`PIN`, `PIN1`, `PIN2`).
    pub pin_label: &'static str,
    /// How its PIN is entered.
    pub entry: PinEntry,
}

impl KeyInfo {
    /// Whether the key can sign a digest of `hash`.
    pub fn signs_with(&self, hash: HashAlgorithm) -> bool {
        self.schemes.iter().any(|a| a.hash == hash)
    }

    /// The scheme a plain [`TokenSession::sign`] of a `hash` digest uses: the first the key lists.
    pub fn default_scheme(&self, hash: HashAlgorithm) -> Option<SignatureAlgorithm> {
        self.schemes.iter().copied().find(|a| a.hash == hash)
    }

    /// Checks a signature request against the key before the token is touched: an unsupported hash,
    /// a PIN the rules refuse, or a typed PIN for a key whose PIN is entered elsewhere never costs a
    /// try.
    pub fn check(&self, pin: PinInput<'_>, digest: &Digest) -> Result<(), CardError> {
        if !self.signs_with(digest.algorithm()) {
            return Err(CardError::Unsupported("this hash function with this key"));
        }
        match (pin, self.entry) {
            (PinInput::Typed(p), PinEntry::Dialog) => Ok(self.pin.check(p)?),
            (PinInput::External, PinEntry::Pinpad | PinEntry::Token) => Ok(()),
            (PinInput::Typed(_), _) => Err(CardError::InvalidArgument(
                "this key's PIN is entered on the reader or by the token, not typed".into(),
            )),
            (PinInput::External, PinEntry::Dialog) => Err(CardError::InvalidArgument(
                "this key's PIN must be typed in the PIN dialog".into(),
            )),
        }
    }
}

/// A signing device: a card through one of our drivers, a PKCS#11 slot, or the in-process virtual
/// card. The host, the CLI, diagnose and the tray see only `Box<dyn Token>`.
pub trait Token: Send {
    /// Where the token sits.
    fn slot(&self) -> &Slot;
    /// What the token is ("Belgian eID (applet 1.8)", or a PKCS#11 token's label).
    fn label(&self) -> &str;
    /// The key of `role`, if the token has one.
    fn key(&self, role: KeyRole) -> Option<KeyInfo>;
    /// Opens a session in which several operations run without another application coming between
    /// them (one PC/SC transaction; one PKCS#11 session). Dropping it ends the session.
    fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError>;

    /// Reads a certificate (DER), in a session of its own.
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        self.session()?.certificate(kind)
    }
    /// Reads the PIN state of `role` without spending a try, in a session of its own.
    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError> {
        self.session()?.pin_info(role)
    }
    /// Card facts (serial, version), in a session of its own.
    fn card_info(&mut self) -> Result<CardInfo, CardError> {
        self.session()?.card_info()
    }
    /// Verifies the PIN and signs `digest` with the key of `role`, in a session of its own; the
    /// session checks the request against the key first. Never retries a PIN.
    fn sign(&mut self, role: KeyRole, pin: PinInput<'_>, digest: &Digest) -> Result<Signature, CardError> {
        self.session()?.sign(role, pin, digest)
    }
    /// [`sign`](Self::sign) with the padding the caller names (a PKCS#11 caller's mechanism:
    /// `CKM_RSA_PKCS` or `CKM_RSA_PKCS_PSS`, for a key that offers both), in a session of its own.
    fn sign_as(
        &mut self,
        role: KeyRole,
        pin: PinInput<'_>,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        let key = self
            .key(role)
            .ok_or(CardError::Unsupported("no key for this operation"))?;
        match key.default_scheme(digest.algorithm()) {
            Some(s) if s.padding == padding => self.sign(role, pin, digest),
            _ => self.session()?.sign_as(role, pin, digest, padding),
        }
    }
    /// The token's PINs, one per PIN label, with a role that uses it: one for a card whose two keys
    /// share a PIN, two (`PIN1`, `PIN2`) when the signing key has its own.
    fn pins(&self) -> Vec<(&'static str, KeyRole)> {
        let mut pins: Vec<(&'static str, KeyRole)> = Vec::new();
        for role in [KeyRole::Authentication, KeyRole::Signing] {
            if let Some(key) = self.key(role) {
                if !pins.iter().any(|(label, _)| *label == key.pin_label) {
                    pins.push((key.pin_label, role));
                }
            }
        }
        pins
    }
}

/// Operations inside one session of a [`Token`].
pub trait TokenSession {
    /// Reads a certificate (DER).
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError>;
    /// Reads the PIN state of `role` without spending a try.
    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError>;
    /// Card facts (serial, version).
    fn card_info(&mut self) -> Result<CardInfo, CardError>;
    /// Checks the request against the key ([`KeyInfo::check`]: before the token is touched), then
    /// verifies the PIN and signs `digest` with the key of `role`, by the key's
    /// [default scheme](KeyInfo::default_scheme) for the hash. Never retries a PIN.
    fn sign(&mut self, role: KeyRole, pin: PinInput<'_>, digest: &Digest) -> Result<Signature, CardError>;
    /// [`sign`](Self::sign) with a padding other than the key's default for the hash (the default
    /// one is [`Token::sign_as`]'s plain `sign`). Tokens whose keys offer one padding per hash
    /// need nothing more: this default refuses before the token is touched.
    fn sign_as(
        &mut self,
        role: KeyRole,
        pin: PinInput<'_>,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        let _ = (role, pin, digest, padding);
        Err(CardError::Unsupported("this padding with this key"))
    }
}
