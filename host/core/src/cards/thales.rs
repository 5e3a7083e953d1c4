//! Thales (Gemalto) PKCS#15 cards: Finnish eID (FinEID v3: RSA-2048 authentication key and EC P-256
//! signing key; FinEID v4: EC P-384 keys).
//!
//! One generic driver, [`ThalesDriver`], speaks the family's APDUs; a profile ([`ThalesProfile`])
//! supplies the constants of one card (architecture.md §1.4). Sources: cards.md §2.8 (from
//! web-eid/libelectronic-id `EIDThales.cpp` and `FinEID.cpp`, which cite the DVV FINEID S1 v3.0/v4.0
//! application and S4-1 v3.0/3.1/4.0 implementation specifications), and the recorded transcripts of
//! test cards (`fineid-v3-*.apdu`, `fineid-v4-*.apdu`), which these flows reproduce byte for byte.
//! The same family covers the 2025 Estonian Thales card (cards.md §2.8), which only needs a profile.
//!
//! - certificate: SELECT the PKCS#15 application, SELECT the certificate EF by path from the MF with
//!   its FCP, READ BINARY with Le = `00` advancing by what the card answered, up to the FCP size;
//! - PIN state: GET DATA `00 CB 00 FF` on the PIN's template `A0 { 83 ref }`; tries left in `DF21`;
//! - signature: VERIFY → MSE SET (DST) → PSO HASH `00 2A 90 A0` (the hash in tag `90`) → PSO COMPUTE
//!   DIGITAL SIGNATURE `00 2A 9E 9A 00` without data. Note the order: VERIFY comes before MSE here,
//!   unlike the IDEMIA family.

use std::marker::PhantomData;

use crate::apdu::{exchange, Command, SHORT_MAX_LE};
use crate::atr::AtrPattern;
use crate::cards::{certificate_in_file, pin1_pin2, typed_pin_key, CardDriver};
use crate::error::CardError;
use crate::hash::{Digest, HashAlgorithm};
use crate::iso7816;
use crate::pin::{ascii_padded_block, Pin, PinPolicy};
use crate::tlv;
use crate::token::{
    CertificateKind, CryptoAlgorithm, Curve, KeyAlgorithm, KeyInfo, KeyRole, Padding, PinInfo, Signature,
    SignatureAlgorithm,
};
use crate::transport::CardChannel;

/// Name of the FinEID v3 driver.
pub const NAME_FINEID_V3: &str = "Finnish eID (FinEID v3, RSA-2048 / EC P-256)";
/// Name of the FinEID v4 driver.
pub const NAME_FINEID_V4: &str = "Finnish eID (FinEID v4, EC P-384)";

/// FinEID v3 cards.
pub static ATRS_FINEID_V3: &[AtrPattern] = &[
    // FinEID v3.0: libelectronic-id electronic-id.cpp SUPPORTED_ATRS "FinEID v3.0".
    AtrPattern::exact(&[
        0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0xB8, 0x65, 0xB0, 0x85, 0x03, 0x00, 0xEF, 0x12, 0x00, 0xF6, 0x82,
        0x90, 0x00,
    ]),
    // FinEID v3.1: libelectronic-id electronic-id.cpp SUPPORTED_ATRS "FinEID v3.1"; the ATR of
    // fineid-v3-*.apdu.
    AtrPattern::exact(&[
        0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0xB8, 0x65, 0xB0, 0x85, 0x04, 0x02, 0x1B, 0x12, 0x00, 0xF6, 0x82,
        0x90, 0x00,
    ]),
];

/// FinEID v4 cards.
pub static ATRS_FINEID_V4: &[AtrPattern] = &[
    // FinEID v4.0: libelectronic-id electronic-id.cpp SUPPORTED_ATRS "FinEID v4.0"; the ATR of
    // fineid-v4-*.apdu.
    AtrPattern::exact(&[
        0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0xB8, 0x65, 0xB0, 0x85, 0x05, 0x00, 0x11, 0x12, 0x24, 0x60, 0x82,
        0x90, 0x00,
    ]),
];

/// Builds the FinEID v3 driver.
pub fn make_fineid_v3() -> Box<dyn CardDriver> {
    Box::new(ThalesDriver::<FinEidV3>::new())
}

/// Builds the FinEID v4 driver.
pub fn make_fineid_v4() -> Box<dyn CardDriver> {
    Box::new(ThalesDriver::<FinEidV4>::new())
}

/// How a Thales key signs: the low nibble of the MSE algorithm byte (cards.md §2.8; FinEID.cpp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThalesScheme {
    /// ECDSA, raw `r || s` (algorithm `x4`).
    Ecdsa,
    /// RSASSA-PSS with MGF1 on the same hash and a salt of the hash length (algorithm `x5`). SHA-3 has
    /// no algorithm byte for RSA on these cards.
    RsaPss,
}

impl ThalesScheme {
    const fn nibble(self) -> u8 {
        match self {
            Self::Ecdsa => 0x04,
            Self::RsaPss => 0x05,
        }
    }
}

/// One key of a card: its certificate, PIN, reference and scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThalesKey {
    /// Path of the certificate EF from the MF (SELECT P1 `08`).
    pub certificate: &'static [u8],
    /// Key algorithm.
    pub algorithm: KeyAlgorithm,
    /// How the key signs.
    pub scheme: ThalesScheme,
    /// Hash functions this key signs.
    pub hashes: &'static [HashAlgorithm],
    /// The key reference of MSE SET (tag `84`).
    pub key_reference: u8,
    /// VERIFY P2 of the PIN guarding the key.
    pub pin_reference: u8,
    /// The PIN's length rules.
    pub pin: PinPolicy,
}

/// The constants of one Thales card.
pub trait ThalesProfile: std::fmt::Debug + Default + Send + Sync + 'static {
    /// Human name of the card.
    const NAME: &'static str;
    /// AID of the PKCS#15 application.
    const AID: &'static [u8];
    /// Tries of a fresh PIN.
    const MAX_TRIES: u8;
    /// The authentication key.
    const AUTHENTICATION: ThalesKey;
    /// The signing key.
    const SIGNING: ThalesKey;
}

/// SHA-2 hashes, the ones RSA-PSS has algorithm bytes for.
const SHA2: [HashAlgorithm; 4] = [
    HashAlgorithm::Sha224,
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha512,
];

/// FinEID v3 (3.0, 3.1): RSA-2048 authentication key signing RSA-PSS, EC P-256 signing key
/// (libelectronic-id FinEID.cpp/.hpp: auth PS256, key 01, PIN 11 with 4–12 digits; signing ECDSA, key
/// 03, PIN 82 with 6–12 digits, certificate 5016/4335; the test card's certificates confirm the key
/// types).
#[derive(Debug, Default, Clone, Copy)]
pub struct FinEidV3;

impl ThalesProfile for FinEidV3 {
    const NAME: &'static str = NAME_FINEID_V3;
    const AID: &'static [u8] = &PKCS15_AID;
    const MAX_TRIES: u8 = FINEID_MAX_TRIES;
    const AUTHENTICATION: ThalesKey = ThalesKey {
        certificate: &[0x43, 0x31],
        algorithm: KeyAlgorithm::Rsa { bits: 2048 },
        scheme: ThalesScheme::RsaPss,
        hashes: &SHA2,
        key_reference: 0x01,
        pin_reference: FINEID_AUTH_PIN,
        pin: PinPolicy::digits(4, 12),
    };
    const SIGNING: ThalesKey = ThalesKey {
        certificate: &[0x50, 0x16, 0x43, 0x35],
        algorithm: KeyAlgorithm::Ec(Curve::P256),
        scheme: ThalesScheme::Ecdsa,
        hashes: &HashAlgorithm::ALL,
        key_reference: 0x03,
        pin_reference: FINEID_SIGN_PIN,
        pin: PinPolicy::digits(6, 12),
    };
}

/// FinEID v4: EC P-384 keys (libelectronic-id FinEID.cpp: ECDSA, auth key 01, signing key 02,
/// certificate 5016/4332; PINs as v3).
#[derive(Debug, Default, Clone, Copy)]
pub struct FinEidV4;

impl ThalesProfile for FinEidV4 {
    const NAME: &'static str = NAME_FINEID_V4;
    const AID: &'static [u8] = &PKCS15_AID;
    const MAX_TRIES: u8 = FINEID_MAX_TRIES;
    const AUTHENTICATION: ThalesKey = ThalesKey {
        certificate: &[0x43, 0x31],
        algorithm: KeyAlgorithm::Ec(Curve::P384),
        scheme: ThalesScheme::Ecdsa,
        hashes: &HashAlgorithm::ALL,
        key_reference: 0x01,
        pin_reference: FINEID_AUTH_PIN,
        pin: PinPolicy::digits(4, 12),
    };
    const SIGNING: ThalesKey = ThalesKey {
        certificate: &[0x50, 0x16, 0x43, 0x32],
        algorithm: KeyAlgorithm::Ec(Curve::P384),
        scheme: ThalesScheme::Ecdsa,
        hashes: &HashAlgorithm::ALL,
        key_reference: 0x02,
        pin_reference: FINEID_SIGN_PIN,
        pin: PinPolicy::digits(6, 12),
    };
}

/// The Thales family driver, parameterised by a card profile.
#[derive(Debug, Default)]
pub struct ThalesDriver<P: ThalesProfile> {
    profile: PhantomData<P>,
}

impl<P: ThalesProfile> ThalesDriver<P> {
    /// A driver for the card of profile `P`.
    pub fn new() -> Self {
        Self { profile: PhantomData }
    }

    fn spec(role: KeyRole) -> &'static ThalesKey {
        match role {
            KeyRole::Authentication => &P::AUTHENTICATION,
            KeyRole::Signing => &P::SIGNING,
        }
    }

    fn scheme(key: &ThalesKey, hash: HashAlgorithm) -> SignatureAlgorithm {
        match key.scheme {
            ThalesScheme::Ecdsa => SignatureAlgorithm {
                crypto: CryptoAlgorithm::Ecc,
                hash,
                padding: Padding::None,
            },
            ThalesScheme::RsaPss => SignatureAlgorithm {
                crypto: CryptoAlgorithm::Rsa,
                hash,
                padding: Padding::Pss,
            },
        }
    }
}

impl<P: ThalesProfile> CardDriver for ThalesDriver<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn key(&self, role: KeyRole) -> KeyInfo {
        let key = Self::spec(role);
        let schemes = key.hashes.iter().map(|&h| Self::scheme(key, h)).collect();
        // PIN1 for authentication, PIN2 for qualified signatures (cards.md §2.8).
        typed_pin_key(role, key.algorithm, schemes, key.pin, pin1_pin2(role))
    }

    fn certificate(&self, ch: &mut dyn CardChannel, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        let key = match kind {
            CertificateKind::Authentication => Self::spec(KeyRole::Authentication),
            CertificateKind::Signing => Self::spec(KeyRole::Signing),
            CertificateKind::IntermediateCa | CertificateKind::Root => {
                return Err(CardError::Unsupported("this card carries no CA certificates"))
            }
        };
        exchange(ch, &iso7816::select_aid(P::AID, 0x0C))?.check("SELECT application")?;
        // P1 08: path from the MF; P2 04 + Le 00: the card answers the FCP, whose tag 81 is the size.
        let resp = exchange(ch, &iso7816::select(0x08, 0x04, key.certificate, Some(SHORT_MAX_LE)))?;
        let size = iso7816::selected_file_size(resp)?;
        // Le = 00 and the card's own chunk size (181 bytes on the test cards), as the reference
        // middleware reads these files.
        certificate_in_file(iso7816::read_advancing(ch, size)?)
    }

    /// No SELECT first: the transcripts send GET DATA straight after the certificate read, with the
    /// PKCS#15 application that read selected (the card's PINs are global to it).
    fn pin_info(&self, ch: &mut dyn CardChannel, role: KeyRole) -> Result<PinInfo, CardError> {
        let pin_ref = Self::spec(role).pin_reference;
        let data = exchange(ch, &get_pin_data(pin_ref))?.ok("GET DATA (PIN retry counter)")?;
        let tries_left = tlv::find_path(&data, &[0xA0, 0xDF21])?
            .and_then(|v| v.first().copied())
            .ok_or(CardError::Malformed("GET DATA without the PIN tries left (DF21)"))?;
        Ok(PinInfo::counted(tries_left, P::MAX_TRIES))
    }

    /// No SELECT first either (as the transcripts): the PKCS#15 application must be the current one,
    /// which a certificate read in the same card session (or the card's default selection) ensures.
    fn sign(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: &Pin,
        digest: &Digest,
    ) -> Result<Signature, CardError> {
        let key = Self::spec(role);
        // Everything that can fail without the card is checked before a PIN try can be spent.
        let algorithm = mse_algorithm(key.scheme, digest.algorithm())?;
        if !key.hashes.contains(&digest.algorithm()) {
            return Err(CardError::Unsupported("this hash function with this key"));
        }
        key.pin.check(pin)?;
        let block = ascii_padded_block(pin, PIN_BLOCK_LEN, PIN_PAD)?;

        iso7816::run_verify(ch, &iso7816::verify(key.pin_reference, block))?;
        iso7816::mse_status(exchange(ch, &mse_set(algorithm, key.key_reference))?.sw)?;
        let hashed = exchange(ch, &pso_hash(digest.as_bytes()))?;
        match hashed.sw.0 {
            0x9000 => {}
            0x6982 => return Err(CardError::PinRequired),
            _ => return Err(CardError::status(hashed.sw, "PSO HASH")),
        }
        let resp = exchange(ch, &Command::new(0x00, 0x2A, 0x9E, 0x9A).with_le(SHORT_MAX_LE))?;
        let bytes = iso7816::signature_answer(resp, "PSO COMPUTE DIGITAL SIGNATURE", key.algorithm)?;
        Ok(Signature {
            bytes,
            algorithm: Self::scheme(key, digest.algorithm()),
        })
    }
}

/// The MSE algorithm byte: the hash size in the high nibble (`3` SHA-224, `4` SHA-256, `5` SHA-384,
/// `6` SHA-512, SHA-3 alike) and the scheme in the low one (cards.md §2.8; FinEID.cpp).
fn mse_algorithm(scheme: ThalesScheme, hash: HashAlgorithm) -> Result<u8, CardError> {
    let high = match hash {
        HashAlgorithm::Sha224 | HashAlgorithm::Sha3_224 => 0x30,
        HashAlgorithm::Sha256 | HashAlgorithm::Sha3_256 => 0x40,
        HashAlgorithm::Sha384 | HashAlgorithm::Sha3_384 => 0x50,
        HashAlgorithm::Sha512 | HashAlgorithm::Sha3_512 => 0x60,
    };
    let sha3 = matches!(
        hash,
        HashAlgorithm::Sha3_224 | HashAlgorithm::Sha3_256 | HashAlgorithm::Sha3_384 | HashAlgorithm::Sha3_512
    );
    if sha3 && scheme != ThalesScheme::Ecdsa {
        // The card builds the PSS encoding and knows no SHA-3 OID (FinEID.cpp).
        return Err(CardError::Unsupported("SHA-3 with an RSA key of this card"));
    }
    Ok(high | scheme.nibble())
}

/// GET DATA (`CB`, ISO/IEC 7816-4) of the PIN's template `A0 { 83 01 ref }`, with Le = `00`
/// (the T=1 form of the reference middleware, as the transcripts show; over T=0 the PC/SC layer
/// drops Le and `exchange` follows the `61 xx`) (cards.md §2.8).
fn get_pin_data(pin_ref: u8) -> Command {
    Command::new(0x00, 0xCB, 0x00, 0xFF)
        .with_data(vec![0xA0, 0x03, 0x83, 0x01, pin_ref])
        .with_le(SHORT_MAX_LE)
}

/// ISO/IEC 7816-4 MANAGE SECURITY ENVIRONMENT: SET for digital signature (DST `B6`) with the
/// algorithm (`80`) and key reference (`84`) (cards.md §2.8).
fn mse_set(algorithm: u8, key_ref: u8) -> Command {
    iso7816::mse_set(0xB6, &[0x80, 0x01, algorithm, 0x84, 0x01, key_ref])
}

/// ISO/IEC 7816-8 PERFORM SECURITY OPERATION: HASH (P1P2 `90A0`) with the hash computed off-card in
/// tag `90`, no Le; the following PSO CDS then signs it (cards.md §2.8).
fn pso_hash(hash: &[u8]) -> Command {
    let mut data = Vec::with_capacity(hash.len() + 2);
    data.push(0x90);
    data.push(hash.len() as u8);
    data.extend_from_slice(hash);
    Command::new(0x00, 0x2A, 0x90, 0xA0).with_data(data)
}

/// The FinEID PKCS#15 application "PKCS-15" (cards.md §2.8).
const PKCS15_AID: [u8; 12] = [0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35];
/// FinEID authentication PIN (PIN1) reference (FinEID.cpp).
const FINEID_AUTH_PIN: u8 = 0x11;
/// FinEID signing PIN (PIN2) reference (FinEID.cpp).
const FINEID_SIGN_PIN: u8 = 0x82;
/// FinEID PIN tries (FinEID.cpp; the test cards answer `DF21` = 05 with fresh PINs).
const FINEID_MAX_TRIES: u8 = 5;
/// PIN blocks are ASCII digits padded with `00` to 12 bytes (cards.md §2.8).
const PIN_BLOCK_LEN: usize = 12;
/// PIN padding byte (cards.md §2.8).
const PIN_PAD: u8 = 0x00;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PinFailure;
    use crate::transcript::ScriptedChannel;

    fn digest(alg: HashAlgorithm, byte: u8) -> Digest {
        Digest::new(alg, vec![byte; alg.output_len()]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn wrong_pin_stops_before_the_security_environment() {
        let mut ch = ScriptedChannel::from_pairs(&[("00 20 00 11 0C 31 32 33 34 00 00 00 00 00 00 00 00", "63C3")]);
        let out = ThalesDriver::<FinEidV4>::new().sign(
            &mut ch,
            KeyRole::Authentication,
            &Pin::from("1234"),
            &digest(HashAlgorithm::Sha384, 1),
        );
        assert_eq!(out, Err(PinFailure::Wrong { retries: Some(3) }.into()));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn blocked_pin_is_reported() {
        let mut ch = ScriptedChannel::from_pairs(&[("00 20 00 82 0C 31 32 33 34 35 36 00 00 00 00 00 00", "6983")]);
        let out = ThalesDriver::<FinEidV3>::new().sign(
            &mut ch,
            KeyRole::Signing,
            &Pin::from("123456"),
            &digest(HashAlgorithm::Sha256, 1),
        );
        assert_eq!(out, Err(PinFailure::Blocked.into()));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn algorithm_bytes_per_scheme_and_hash() {
        assert_eq!(
            mse_algorithm(ThalesScheme::RsaPss, HashAlgorithm::Sha256).ok(),
            Some(0x45)
        );
        assert_eq!(
            mse_algorithm(ThalesScheme::Ecdsa, HashAlgorithm::Sha256).ok(),
            Some(0x44)
        );
        assert_eq!(
            mse_algorithm(ThalesScheme::Ecdsa, HashAlgorithm::Sha384).ok(),
            Some(0x54)
        );
        assert_eq!(
            mse_algorithm(ThalesScheme::Ecdsa, HashAlgorithm::Sha3_512).ok(),
            Some(0x64)
        );
        assert_eq!(
            mse_algorithm(ThalesScheme::RsaPss, HashAlgorithm::Sha224).ok(),
            Some(0x35)
        );
        assert!(mse_algorithm(ThalesScheme::RsaPss, HashAlgorithm::Sha3_256).is_err());
    }

    #[test]
    fn sha3_with_the_rsa_key_never_reaches_the_card() {
        let mut ch = ScriptedChannel::from_pairs(&[]);
        let out = ThalesDriver::<FinEidV3>::new().sign(
            &mut ch,
            KeyRole::Authentication,
            &Pin::from("1234"),
            &digest(HashAlgorithm::Sha3_256, 1),
        );
        assert!(matches!(out, Err(CardError::Unsupported(_))), "{out:?}");
        let schemes = ThalesDriver::<FinEidV3>::new().key(KeyRole::Authentication).schemes;
        assert!(schemes.iter().all(|s| s.padding == Padding::Pss));
        assert_eq!(ch.sent(), 0);
    }

    #[test]
    fn sha512_signature_on_p384_uses_algorithm_64() {
        let d = digest(HashAlgorithm::Sha512, 0x33);
        let hash = format!("00 2A 90 A0 42 90 40 {}", "33".repeat(64));
        let sig = format!("{}9000", "44".repeat(96));
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 20 00 82 0C 31 32 33 34 35 36 00 00 00 00 00 00", "9000"),
            ("00 22 41 B6 06 80 01 64 84 01 02", "9000"),
            (&hash, "9000"),
            ("00 2A 9E 9A 00", &sig),
        ]);
        let out = ThalesDriver::<FinEidV4>::new().sign(&mut ch, KeyRole::Signing, &Pin::from("123456"), &d);
        assert_eq!(
            out.map(|s| (s.bytes.len(), s.algorithm.padding)).ok(),
            Some((96, Padding::None))
        );
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn signature_without_verified_pin_is_reported() {
        let d = digest(HashAlgorithm::Sha384, 0x33);
        let hash = format!("00 2A 90 A0 32 90 30 {}", "33".repeat(48));
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 20 00 11 0C 31 32 33 34 00 00 00 00 00 00 00 00", "9000"),
            ("00 22 41 B6 06 80 01 54 84 01 01", "9000"),
            (&hash, "9000"),
            ("00 2A 9E 9A 00", "6982"),
        ]);
        let out = ThalesDriver::<FinEidV4>::new().sign(&mut ch, KeyRole::Authentication, &Pin::from("1234"), &d);
        assert_eq!(out, Err(CardError::PinRequired));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn absent_certificate_is_unsupported() {
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 A4 04 0C 0C A0 00 00 00 63 50 4B 43 53 2D 31 35", "9000"),
            ("00 A4 08 04 04 50 16 43 32 00", "6A82"),
        ]);
        let out = ThalesDriver::<FinEidV4>::new().certificate(&mut ch, CertificateKind::Signing);
        assert!(matches!(out, Err(CardError::Unsupported(_))), "{out:?}");
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn pin_info_reads_df21_and_rejects_answers_without_it() {
        let mut ch = ScriptedChannel::from_pairs(&[
            (
                "00 CB 00 FF 05 A0 03 83 01 82 00",
                "A0 23 83 01 82 8C 04 F0 00 00 00 9C 04 F0 00 00 00 DF 21 04 02 FF A5 03 DF 27 02 FF FF DF 28 01 0C DF 2F 01 01 9000",
            ),
            ("00 CB 00 FF 05 A0 03 83 01 11 00", "A0 03 83 01 11 9000"),
        ]);
        let drv = ThalesDriver::<FinEidV3>::new();
        assert_eq!(
            drv.pin_info(&mut ch, KeyRole::Signing).ok(),
            Some(PinInfo::counted(2, 5))
        );
        assert!(matches!(
            drv.pin_info(&mut ch, KeyRole::Authentication),
            Err(CardError::Malformed(_))
        ));
        assert!(ch.finish().is_ok());
    }
}
