//! The `Token` the host works with, whatever the card or module behind it, and `CardToken`, which runs
//! a card driver over a transport.

use crate::atr::Atr;
use crate::cards::CardDriver;
use crate::error::CardError;
use crate::hash::{Digest, HashAlgorithm};
use crate::pin::{Pin, PinPolicy};
use crate::transport::CardTransport;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinInfo {
    /// Tries left, when the card tells (0 = blocked).
    pub tries_left: Option<u8>,
    /// Tries a fresh PIN has.
    pub max_tries: u8,
}

impl PinInfo {
    /// Whether the PIN is blocked.
    pub fn is_blocked(&self) -> bool {
        self.tries_left == Some(0)
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

/// A signing device the host can use: a card through a driver, or (later) a PKCS#11 token.
pub trait Token: Send {
    /// The reader (or slot) name.
    fn reader(&self) -> &str;
    /// The card's ATR.
    fn atr(&self) -> &Atr;
    /// Which card this is ("Belgian eID (applet 1.8)").
    fn card_name(&self) -> &'static str;
    /// The key algorithm of a role.
    fn key_algorithm(&self, role: KeyRole) -> KeyAlgorithm;
    /// Signature schemes the key of `role` offers.
    fn signature_algorithms(&self, role: KeyRole) -> Vec<SignatureAlgorithm>;
    /// The PIN rules of `role`.
    fn pin_policy(&self, role: KeyRole) -> PinPolicy;
    /// Reads a certificate (DER).
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError>;
    /// Reads the PIN state of `role` without spending a try.
    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError>;
    /// Card facts (serial, version).
    fn card_info(&mut self) -> Result<CardInfo, CardError>;
    /// Whether the signing key has a PIN of its own (PIN2).
    fn has_signing_pin(&self) -> bool;
    /// Verifies `pin` and signs `digest` with the key of `role`. Never retries a PIN.
    fn sign(&mut self, role: KeyRole, pin: &Pin, digest: &Digest) -> Result<Signature, CardError>;
}

/// A card in a reader driven by a [`CardDriver`]: validates arguments, opens one exclusive session
/// per operation and lets the driver speak.
pub struct CardToken<T: CardTransport> {
    transport: T,
    driver: Box<dyn CardDriver>,
}

impl<T: CardTransport> CardToken<T> {
    /// Binds a driver to a connected card.
    pub fn new(transport: T, driver: Box<dyn CardDriver>) -> Self {
        Self { transport, driver }
    }

    /// The transport (for diagnostics).
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: CardTransport> Token for CardToken<T> {
    fn reader(&self) -> &str {
        self.transport.reader()
    }

    fn atr(&self) -> &Atr {
        self.transport.atr()
    }

    fn card_name(&self) -> &'static str {
        self.driver.name()
    }

    fn key_algorithm(&self, role: KeyRole) -> KeyAlgorithm {
        self.driver.key_algorithm(role)
    }

    fn signature_algorithms(&self, role: KeyRole) -> Vec<SignatureAlgorithm> {
        self.driver.signature_algorithms(role)
    }

    fn pin_policy(&self, role: KeyRole) -> PinPolicy {
        self.driver.pin_policy(role)
    }

    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        let mut ch = self.transport.begin()?;
        self.driver.certificate(ch.as_mut(), kind)
    }

    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError> {
        let mut ch = self.transport.begin()?;
        self.driver.pin_info(ch.as_mut(), role)
    }

    fn card_info(&mut self) -> Result<CardInfo, CardError> {
        let mut ch = self.transport.begin()?;
        self.driver.card_info(ch.as_mut())
    }

    fn has_signing_pin(&self) -> bool {
        self.driver.has_signing_pin()
    }

    fn sign(&mut self, role: KeyRole, pin: &Pin, digest: &Digest) -> Result<Signature, CardError> {
        // Checked before the card is touched: a malformed PIN or an unsupported hash never costs a try.
        self.driver.pin_policy(role).check(pin)?;
        if !self
            .driver
            .signature_algorithms(role)
            .iter()
            .any(|a| a.hash == digest.algorithm())
        {
            return Err(CardError::Unsupported("this hash function with this key"));
        }
        let mut ch = self.transport.begin()?;
        self.driver.sign(ch.as_mut(), role, pin, digest)
    }
}
