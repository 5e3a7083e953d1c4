//! IDEMIA IAS-ECC cards (Cosmo 8 / Cosmo X): Estonian eID (EC P-384) and Latvian eID v2 (RSA-2048).
//!
//! One generic driver, [`IdemiaDriver`], speaks the family's APDUs; a profile ([`IdemiaProfile`])
//! supplies the constants of one card (architecture.md §1.4). Sources: cards.md §2.1–2.7 (from
//! web-eid/libelectronic-id `EIDIDEMIA.cpp`, `EstEIDIDEMIA.hpp`, `LatEIDIDEMIAv2.cpp` and OpenSC
//! `card-esteid2018.c`), and the recorded transcripts of test cards (`esteid-idemia-*.apdu`,
//! `lateid-idemia-v2-*.apdu`), which these flows reproduce byte for byte.
//!
//! The card holds three applications: MAIN (IAS-ECC, PIN1 and PUK), ADF1 "AWP" (authentication key
//! and certificate) and ADF2 "QSCD" (qualified signing key, its certificate and PIN2).
//! - certificate: SELECT MAIN, then the certificate EF (EstEID: by path ADF/EF from MAIN; LatEID v2:
//!   SELECT the key's ADF, then ODF `5031` → CDF → certificate EF, as PKCS#15 says), READ BINARY in
//!   `C0` chunks, the last one exact (cards.md §2.3);
//! - PIN state: SELECT MAIN (PIN1) or QSCD (PIN2), GET DATA `4D` on the PIN's security data object
//!   (cards.md §2.5);
//! - signature: SELECT the key's ADF → (LatEID v2: PrKDF `7001` for the key reference) → MSE SET →
//!   VERIFY → INTERNAL AUTHENTICATE (authentication key, AT template) or PSO COMPUTE DIGITAL SIGNATURE
//!   (signing key, DST template) (cards.md §2.6, §2.7).

use std::marker::PhantomData;

use crate::apdu::{exchange, Command, SHORT_MAX_LE};
use crate::atr::AtrPattern;
use crate::cards::{certificate_in_file, pin1_pin2, typed_pin_key, CardDriver};
use crate::error::CardError;
use crate::hash::{Digest, HashAlgorithm};
use crate::iso7816;
use crate::pin::{ascii_padded_block, Pin, PinPolicy};
use crate::tlv::{self, TlvIter};
use crate::token::{CertificateKind, Curve, KeyAlgorithm, KeyInfo, KeyRole, PinInfo, Signature, SignatureAlgorithm};
use crate::transport::CardChannel;

/// Name of the Estonian driver.
pub const NAME_ESTEID: &str = "Estonian eID (IDEMIA, EC P-384)";
/// Name of the Latvian v2 driver.
pub const NAME_LATEID_V2: &str = "Latvian eID (IDEMIA v2, RSA-2048)";

/// Estonian IDEMIA cards.
pub static ATRS_ESTEID: &[AtrPattern] = &[
    // EstEID IDEMIA Cosmo 8.1/8.2 (2018): libelectronic-id electronic-id.cpp SUPPORTED_ATRS
    // "EstEID Idemia v1.0"; cards.md §2.1; the ATR of esteid-idemia-*.apdu.
    AtrPattern::exact(&[
        0x3B, 0xDB, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00, 0x12, 0x23, 0x3F, 0x53, 0x65, 0x49, 0x44,
        0x0F, 0x90, 0x00, 0xF1,
    ]),
    // EstEID IDEMIA Cosmo X ("2018 v2", issued from 2025), same applications and commands: cards.md §2.1
    // (libelectronic-id maps it to EstEIDIDEMIAV1; OpenSC card-esteid2018.c:43-49).
    AtrPattern::exact(&[
        0x3B, 0xDC, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00, 0x12, 0x23, 0x3F, 0x54, 0x65, 0x49, 0x44,
        0x32, 0x0F, 0x90, 0x00, 0xC3,
    ]),
];

/// Latvian IDEMIA v2 cards.
pub static ATRS_LATEID_V2: &[AtrPattern] = &[
    // LatEID IDEMIA v2.0 (Cosmo 8): libelectronic-id electronic-id.cpp SUPPORTED_ATRS "LatEID Idemia
    // v2.0"; cards.md §2.1; the ATR of lateid-idemia-v2-*.apdu.
    AtrPattern::exact(&[
        0x3B, 0xDB, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00, 0x12, 0x42, 0x8F, 0x53, 0x65, 0x49, 0x44,
        0x0F, 0x90, 0x00, 0x20,
    ]),
];

/// Builds the Estonian driver.
pub fn make_esteid() -> Box<dyn CardDriver> {
    Box::new(IdemiaDriver::<EstEidIdemia>::new())
}

/// Builds the Latvian v2 driver.
pub fn make_lateid_v2() -> Box<dyn CardDriver> {
    Box::new(IdemiaDriver::<LatEidIdemiaV2>::new())
}

/// Where a card keeps its two certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateLocation {
    /// Fixed paths (ADF id, EF id) selected from MAIN with SELECT P1 `09` (path from the current DF),
    /// P2 `04` (return the FCP) (cards.md §2.3).
    PathFromMain {
        /// Path of the authentication certificate.
        authentication: [u8; 4],
        /// Path of the signing certificate.
        signing: [u8; 4],
    },
    /// Found through the PKCS#15 directory files of the key's ADF (ISO/IEC 7816-15 / PKCS#15): the ODF at
    /// `odf` names the CDF, whose first certificate object names the certificate EF.
    Pkcs15 {
        /// File id of the ODF in each ADF.
        odf: [u8; 2],
    },
}

/// Where the reference of a private key (the `84` of MSE SET) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyReference {
    /// A fixed reference.
    Fixed(u8),
    /// The `keyReference` of the first private key object in the PrKDF EF `prkdf` of the key's ADF
    /// (ISO/IEC 7816-15 CommonKeyAttributes).
    PrKdf {
        /// File id of the PrKDF.
        prkdf: [u8; 2],
    },
}

/// What the security operation gets as input, which follows from the MSE algorithm byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureInput {
    /// ECDSA over the hash, zero-padded on the left or truncated to the curve size (FIPS 186-5 §6.4;
    /// cards.md §2.7). The card answers raw `r || s`.
    EcdsaHash,
    /// RSA PKCS#1 v1.5 where the host sends DigestInfo and the card pads (IAS-ECC algorithm `02`).
    RsaDigestInfo,
    /// RSA PKCS#1 v1.5 with SHA-256 where the host sends the bare hash and the card adds DigestInfo
    /// (IAS-ECC algorithm `42`).
    RsaHash,
}

/// One key of a card: how to find it, its PIN, and how the card signs with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdemiaKey {
    /// Key algorithm.
    pub algorithm: KeyAlgorithm,
    /// Algorithm byte of MSE SET (tag `80`).
    pub mse_algorithm: u8,
    /// What the signing command carries.
    pub input: SignatureInput,
    /// Hash functions this key signs.
    pub hashes: &'static [HashAlgorithm],
    /// The key reference of MSE SET (tag `84`).
    pub key_reference: KeyReference,
    /// VERIFY P2 of the PIN guarding the key.
    pub pin_reference: u8,
    /// The PIN's length rules.
    pub pin: PinPolicy,
}

/// The constants of one IDEMIA card.
pub trait IdemiaProfile: std::fmt::Debug + Default + Send + Sync + 'static {
    /// Human name of the card.
    const NAME: &'static str;
    /// Where the certificates are.
    const CERTIFICATES: CertificateLocation;
    /// The authentication key (ADF1 "AWP", PIN1).
    const AUTHENTICATION: IdemiaKey;
    /// The qualified signing key (ADF2 "QSCD", PIN2).
    const SIGNING: IdemiaKey;
}

/// Estonian eID on IDEMIA Cosmo 8 / Cosmo X: EC P-384 keys (cards.md §2.3–2.7).
#[derive(Debug, Default, Clone, Copy)]
pub struct EstEidIdemia;

impl IdemiaProfile for EstEidIdemia {
    const NAME: &'static str = NAME_ESTEID;
    // cards.md §2.3 (EIDIDEMIA.cpp:51-52).
    const CERTIFICATES: CertificateLocation = CertificateLocation::PathFromMain {
        authentication: [0xAD, 0xF1, 0x34, 0x01],
        signing: [0xAD, 0xF2, 0x34, 0x1F],
    };
    // cards.md §2.4, §2.6: MSE AT algorithm 04 (ECDSA), key 81, PIN1 ref 01 with 4 to 12 digits.
    const AUTHENTICATION: IdemiaKey = IdemiaKey {
        algorithm: KeyAlgorithm::Ec(Curve::P384),
        mse_algorithm: 0x04,
        input: SignatureInput::EcdsaHash,
        hashes: &HashAlgorithm::ALL,
        key_reference: KeyReference::Fixed(0x81),
        pin_reference: 0x01,
        pin: PinPolicy::digits(4, 12),
    };
    // cards.md §2.4, §2.7: MSE DST algorithm 54 (ECDSA), key 9F, PIN2 ref 85 with 5 to 12 digits.
    const SIGNING: IdemiaKey = IdemiaKey {
        algorithm: KeyAlgorithm::Ec(Curve::P384),
        mse_algorithm: 0x54,
        input: SignatureInput::EcdsaHash,
        hashes: &HashAlgorithm::ALL,
        key_reference: KeyReference::Fixed(0x9F),
        pin_reference: 0x85,
        pin: PinPolicy::digits(5, 12),
    };
}

/// Latvian eID v2 on IDEMIA Cosmo 8: RSA-2048 keys found through PKCS#15 files (libelectronic-id
/// `LatEIDIDEMIAv2.cpp`, `LatEIDIDEMIACommon.hpp`; lateid-idemia-v2-*.apdu).
#[derive(Debug, Default, Clone, Copy)]
pub struct LatEidIdemiaV2;

impl IdemiaProfile for LatEidIdemiaV2 {
    const NAME: &'static str = NAME_LATEID_V2;
    // The test card's ODF 5031 names the CDF 7005 (tag A4) and the PrKDF 7001 (tag A0) in each ADF.
    const CERTIFICATES: CertificateLocation = CertificateLocation::Pkcs15 { odf: [0x50, 0x31] };
    // MSE AT algorithm 02: the host sends DigestInfo to INTERNAL AUTHENTICATE (LatEIDIDEMIAv2.cpp;
    // the transcript sends a SHA-256 DigestInfo). Any SHA-2 DigestInfo fits a 2048-bit block; the
    // reference middleware only uses SHA-256 (RS256).
    const AUTHENTICATION: IdemiaKey = IdemiaKey {
        algorithm: KeyAlgorithm::Rsa { bits: 2048 },
        mse_algorithm: 0x02,
        input: SignatureInput::RsaDigestInfo,
        hashes: &[
            HashAlgorithm::Sha224,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ],
        key_reference: KeyReference::PrKdf { prkdf: [0x70, 0x01] },
        pin_reference: 0x01,
        pin: PinPolicy::digits(4, 12),
    };
    // MSE DST algorithm 42: RSA PKCS#1 v1.5 with SHA-256, the card builds DigestInfo from the bare
    // hash, so SHA-256 is the only hash (libelectronic-id supports RS256 only).
    const SIGNING: IdemiaKey = IdemiaKey {
        algorithm: KeyAlgorithm::Rsa { bits: 2048 },
        mse_algorithm: 0x42,
        input: SignatureInput::RsaHash,
        hashes: &[HashAlgorithm::Sha256],
        key_reference: KeyReference::PrKdf { prkdf: [0x70, 0x01] },
        pin_reference: 0x85,
        pin: PinPolicy::digits(6, 12),
    };
}

/// The IDEMIA family driver, parameterised by a card profile.
#[derive(Debug, Default)]
pub struct IdemiaDriver<P: IdemiaProfile> {
    profile: PhantomData<P>,
}

impl<P: IdemiaProfile> IdemiaDriver<P> {
    /// A driver for the card of profile `P`.
    pub fn new() -> Self {
        Self { profile: PhantomData }
    }

    fn spec(role: KeyRole) -> &'static IdemiaKey {
        match role {
            KeyRole::Authentication => &P::AUTHENTICATION,
            KeyRole::Signing => &P::SIGNING,
        }
    }

    /// The application holding the key of `role` (cards.md §2.2).
    fn adf(role: KeyRole) -> &'static [u8] {
        match role {
            KeyRole::Authentication => &ADF1_AWP_AID,
            KeyRole::Signing => &ADF2_QSCD_AID,
        }
    }

    fn scheme(key: &IdemiaKey, hash: HashAlgorithm) -> SignatureAlgorithm {
        let schemes = match key.input {
            SignatureInput::EcdsaHash => SignatureAlgorithm::ecdsa(&[hash]),
            SignatureInput::RsaDigestInfo | SignatureInput::RsaHash => SignatureAlgorithm::rsa_pkcs1(&[hash]),
        };
        schemes[0]
    }

    /// The data of INTERNAL AUTHENTICATE / PSO CDS for a digest.
    fn signature_input(key: &IdemiaKey, digest: &Digest) -> Result<Vec<u8>, CardError> {
        if !key.hashes.contains(&digest.algorithm()) {
            return Err(CardError::Unsupported("this hash function with this key"));
        }
        Ok(match (key.input, key.algorithm) {
            (SignatureInput::EcdsaHash, KeyAlgorithm::Ec(curve)) => ecdsa_input(digest.as_bytes(), curve.scalar_len()),
            (SignatureInput::EcdsaHash, KeyAlgorithm::Rsa { .. }) => {
                return Err(CardError::Unsupported("ECDSA input for an RSA key"))
            }
            (SignatureInput::RsaDigestInfo, _) => digest.digest_info(),
            (SignatureInput::RsaHash, _) => digest.as_bytes().to_vec(),
        })
    }

    /// Reads the key reference from the PrKDF of the (selected) key's ADF, then selects the ADF
    /// again: the reference middleware reads the PrKDF in a step of its own that leaves the PrKDF
    /// selected, and the transcripts show it re-selecting the ADF before MSE SET. Redundant for the
    /// card (MSE works with an EF of the ADF selected), reproduced for byte-exact traces.
    fn key_reference(&self, ch: &mut dyn CardChannel, role: KeyRole) -> Result<u8, CardError> {
        match Self::spec(role).key_reference {
            KeyReference::Fixed(r) => Ok(r),
            KeyReference::PrKdf { prkdf } => {
                let size = select_ef(ch, &prkdf)?;
                let data = iso7816::read_advancing(ch, size)?;
                let r = prkdf_key_reference(&data)?;
                select_adf(ch, Self::adf(role))?;
                Ok(r)
            }
        }
    }

    /// SELECT ADF → PKCS#15 ODF → CDF → certificate EF; returns the certificate EF's size.
    fn select_pkcs15_certificate(ch: &mut dyn CardChannel, role: KeyRole, odf: [u8; 2]) -> Result<usize, CardError> {
        select_adf(ch, Self::adf(role))?;
        let size = select_ef(ch, &odf)?;
        let odf_data = iso7816::read_advancing(ch, size)?;
        let cdf = tlv::find_path(&odf_data, &[ODF_CDF, SEQUENCE, OCTET_STRING])?
            .ok_or(CardError::Malformed("the ODF names no certificate directory (CDF)"))?
            .to_vec();
        let size = select_ef(ch, &cdf)?;
        let cdf_data = iso7816::read_advancing(ch, size)?;
        let cert = cdf_certificate_path(&cdf_data)?.to_vec();
        select_ef(ch, &cert)
    }
}

impl<P: IdemiaProfile> CardDriver for IdemiaDriver<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn key(&self, role: KeyRole) -> KeyInfo {
        let key = Self::spec(role);
        let schemes = match key.input {
            SignatureInput::EcdsaHash => SignatureAlgorithm::ecdsa(key.hashes),
            SignatureInput::RsaDigestInfo | SignatureInput::RsaHash => SignatureAlgorithm::rsa_pkcs1(key.hashes),
        };
        // PIN1 in MAIN for authentication, PIN2 in QSCD for qualified signatures (cards.md §2.4).
        typed_pin_key(role, key.algorithm, schemes, key.pin, pin1_pin2(role))
    }

    fn certificate(&self, ch: &mut dyn CardChannel, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        let role = match kind {
            CertificateKind::Authentication => KeyRole::Authentication,
            CertificateKind::Signing => KeyRole::Signing,
            CertificateKind::IntermediateCa | CertificateKind::Root => {
                return Err(CardError::Unsupported("this card carries no CA certificates"))
            }
        };
        select_adf(ch, &MAIN_AID)?;
        let size = match P::CERTIFICATES {
            CertificateLocation::PathFromMain {
                authentication,
                signing,
            } => {
                let path = match role {
                    KeyRole::Authentication => authentication,
                    KeyRole::Signing => signing,
                };
                let resp = exchange(ch, &iso7816::select(0x09, 0x04, &path, Some(SHORT_MAX_LE)))?;
                iso7816::selected_file_size(resp)?
            }
            CertificateLocation::Pkcs15 { odf } => Self::select_pkcs15_certificate(ch, role, odf)?,
        };
        // Exact-length chunks of C0 bytes: libelectronic-id treats any other answer length as an
        // error, and OpenSC caps IDEMIA reads at C0 for a reader bug (cards.md §2.1, §2.3).
        let data = iso7816::read_exact(ch, size, READ_CHUNK)?;
        certificate_in_file(data)
    }

    fn pin_info(&self, ch: &mut dyn CardChannel, role: KeyRole) -> Result<PinInfo, CardError> {
        // PIN1 lives in MAIN, PIN2 in QSCD; GET DATA needs the PIN's DF selected (cards.md §2.5).
        match role {
            KeyRole::Authentication => select_adf(ch, &MAIN_AID)?,
            KeyRole::Signing => select_adf(ch, &ADF2_QSCD_AID)?,
        }
        let pin_ref = Self::spec(role).pin_reference;
        let data = exchange(ch, &get_pin_data(pin_ref))?.ok("GET DATA (PIN retry counter)")?;
        parse_pin_data(&data, pin_ref)
    }

    fn sign(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: &Pin,
        digest: &Digest,
    ) -> Result<Signature, CardError> {
        let key = Self::spec(role);
        // Everything that can fail without the card is checked before a PIN try can be spent.
        let input = Self::signature_input(key, digest)?;
        key.pin.check(pin)?;
        let block = ascii_padded_block(pin, PIN_BLOCK_LEN, PIN_PAD)?;

        select_adf(ch, Self::adf(role))?;
        let key_ref = self.key_reference(ch, role)?;
        // IDEMIA order: MSE SET → VERIFY → operation (cards.md §2.7).
        let template = match role {
            KeyRole::Authentication => TEMPLATE_AT,
            KeyRole::Signing => TEMPLATE_DST,
        };
        iso7816::mse_status(exchange(ch, &mse_set(template, key.mse_algorithm, key_ref))?.sw)?;
        iso7816::run_verify(ch, &iso7816::verify(key.pin_reference, block))?;
        // Le = 00: the card answers the whole signature (96 bytes for P-384, 256 for RSA-2048).
        let (cmd, during) = match role {
            KeyRole::Authentication => (
                iso7816::internal_authenticate(0x00, 0x00, &input, Some(SHORT_MAX_LE)),
                "INTERNAL AUTHENTICATE",
            ),
            KeyRole::Signing => (
                iso7816::pso_cds(&input, Some(SHORT_MAX_LE)),
                "PSO COMPUTE DIGITAL SIGNATURE",
            ),
        };
        let bytes = iso7816::signature_answer(exchange(ch, &cmd)?, during, key.algorithm)?;
        Ok(Signature {
            bytes,
            algorithm: Self::scheme(key, digest.algorithm()),
        })
    }
}

/// ECDSA input of `len` bytes: a shorter hash is zero-padded on the left (the same integer), a longer
/// one keeps its leftmost bytes, as ECDSA itself does (FIPS 186-5 §6.4.1; cards.md §2.7).
fn ecdsa_input(hash: &[u8], len: usize) -> Vec<u8> {
    if hash.len() >= len {
        return hash[..len].to_vec();
    }
    let mut out = vec![0u8; len - hash.len()];
    out.extend_from_slice(hash);
    out
}

/// SELECT an application by AID, no answer data (`00 A4 04 0C`, cards.md §2.2).
fn select_adf(ch: &mut dyn CardChannel, aid: &[u8]) -> Result<(), CardError> {
    exchange(ch, &iso7816::select_aid(aid, 0x0C))?.check("SELECT application")
}

/// SELECT an EF of the current DF (P1 `02`) returning its FCP (P2 `04`, Le `00`); returns the EF size.
/// A PKCS#15 path of several file ids is absolute when it starts with the MF `3F00` (P1 `08`, MF left
/// out) and relative to the current DF otherwise (P1 `09`) (ISO/IEC 7816-4 SELECT).
fn select_ef(ch: &mut dyn CardChannel, path: &[u8]) -> Result<usize, CardError> {
    let (p1, path) = match path {
        [_, _] => (0x02, path),
        [0x3F, 0x00, rest @ ..] if !rest.is_empty() && rest.len().is_multiple_of(2) => (0x08, rest),
        _ if path.len() > 2 && path.len().is_multiple_of(2) => (0x09, path),
        _ => return Err(CardError::Malformed("PKCS#15 path of odd length")),
    };
    let resp = exchange(ch, &iso7816::select(p1, 0x04, path, Some(SHORT_MAX_LE)))?;
    iso7816::selected_file_size(resp)
}

/// The path of the first certificate in a CDF: `x509Certificate` SEQUENCE → `[1]` typeAttributes →
/// X509CertificateAttributes SEQUENCE → `value` Path SEQUENCE → `path` OCTET STRING (ISO/IEC 7816-15
/// `X509CertificateObject`; PKCS#15 v1.1 `CertificateObject`). The common attributes before `[1]` are skipped by tag.
fn cdf_certificate_path(cdf: &[u8]) -> Result<&[u8], CardError> {
    tlv::find_path(cdf, &[SEQUENCE, CONTEXT_1, SEQUENCE, SEQUENCE, OCTET_STRING])?
        .ok_or(CardError::Malformed("the CDF names no certificate file"))
}

/// The `keyReference` INTEGER of the first private key object of a PrKDF: the object's second
/// element is CommonKeyAttributes (ISO/IEC 7816-15 / PKCS#15 v1.1 `PrivateKeyObject`), whose INTEGER is the
/// key reference (its other elements are an OCTET STRING iD and BIT STRINGs).
/// The test cards hold one key per ADF; with several, the first is taken.
fn prkdf_key_reference(prkdf: &[u8]) -> Result<u8, CardError> {
    let missing = CardError::Malformed("the PrKDF has no key reference");
    let object = TlvIter::new(prkdf).next().ok_or(missing.clone())??;
    let common_key = object.children().nth(1).ok_or(missing.clone())??;
    let int = tlv::find(common_key.value, INTEGER)?.ok_or(missing)?;
    // A DER INTEGER may carry a leading 00 so that 0x81 stays positive.
    let digits: Vec<u8> = int.iter().copied().skip_while(|b| *b == 0).collect();
    match digits.as_slice() {
        [] => Ok(0),
        [r] => Ok(*r),
        _ => Err(CardError::Malformed("PrKDF key reference larger than a byte")),
    }
}

/// GET DATA (odd INS `CB`, ISO/IEC 7816-4) of the PIN's security data object `BF 81 <ref & 0F>`
/// with an extended header list: `00 CB 3F FF 0A 4D 08 70 06 BF 81 xx 02 A0 80 00` (cards.md §2.5).
fn get_pin_data(pin_ref: u8) -> Command {
    Command::new(0x00, 0xCB, 0x3F, 0xFF)
        .with_data(vec![
            0x4D,
            0x08,
            0x70,
            0x06,
            0xBF,
            0x81,
            pin_ref & 0x0F,
            0x02,
            0xA0,
            0x80,
        ])
        .with_le(SHORT_MAX_LE)
}

/// `70 → BF 81 xx → A0 → 9A` (max tries) and `9B` (tries left) (cards.md §2.5).
fn parse_pin_data(data: &[u8], pin_ref: u8) -> Result<PinInfo, CardError> {
    let sdo = 0x00BF_8100 | u32::from(pin_ref & 0x0F);
    let byte = |tag: u32| -> Result<Option<u8>, CardError> {
        Ok(tlv::find_path(data, &[0x70, sdo, 0xA0, tag])?.and_then(|v| v.first().copied()))
    };
    let tries_left = byte(0x9B)?.ok_or(CardError::Malformed("GET DATA without the PIN tries left"))?;
    let max_tries = byte(0x9A)?.unwrap_or(DEFAULT_MAX_TRIES);
    Ok(PinInfo::counted(tries_left, max_tries))
}

/// ISO/IEC 7816-4 MANAGE SECURITY ENVIRONMENT: SET, template `A4` (authentication) or `B6`
/// (digital signature), with the algorithm (`80`) and the key reference (`84`) (cards.md §2.6, §2.7).
fn mse_set(template: u8, algorithm: u8, key_ref: u8) -> Command {
    iso7816::mse_set(template, &[0x80, 0x01, algorithm, 0x84, 0x01, key_ref])
}

/// IAS-ECC main application (cards.md §2.2).
const MAIN_AID: [u8; 16] = [
    0xA0, 0x00, 0x00, 0x00, 0x77, 0x01, 0x08, 0x00, 0x07, 0x00, 0x00, 0xFE, 0x00, 0x00, 0x01, 0x00,
];
/// ADF1 "AWP", the authentication application (cards.md §2.2).
const ADF1_AWP_AID: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xF2, 0x50, 0x4F, 0x54, 0x20, 0x41, 0x57, 0x50,
];
/// ADF2 "QSCD Application", the signing application (cards.md §2.2).
const ADF2_QSCD_AID: [u8; 16] = *b"QSCD Application";
/// READ BINARY chunk (cards.md §2.3).
const READ_CHUNK: usize = 0xC0;
/// PIN blocks are ASCII digits padded with `FF` to 12 bytes (cards.md §2.4).
const PIN_BLOCK_LEN: usize = 12;
/// PIN padding byte (cards.md §2.4).
const PIN_PAD: u8 = 0xFF;
/// Tries of a fresh PIN, if the card's answer lacks tag `9A` (cards.md §2.5).
const DEFAULT_MAX_TRIES: u8 = 3;
/// MSE template for INTERNAL AUTHENTICATE.
const TEMPLATE_AT: u8 = 0xA4;
/// MSE template for PSO COMPUTE DIGITAL SIGNATURE.
const TEMPLATE_DST: u8 = 0xB6;
/// ODF entry `[4]` cdf (ISO/IEC 7816-15 / PKCS#15 v1.1 `PKCS15Objects`).
const ODF_CDF: u32 = 0xA4;
/// `[1]` typeAttributes of a PKCS#15 object.
const CONTEXT_1: u32 = 0xA1;
/// DER SEQUENCE.
const SEQUENCE: u32 = 0x30;
/// DER OCTET STRING.
const OCTET_STRING: u32 = 0x04;
/// DER INTEGER.
const INTEGER: u32 = 0x02;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PinFailure;
    use crate::transcript::ScriptedChannel;

    const SELECT_AWP: &str = "00 A4 04 0C 0D E8 28 BD 08 0F F2 50 4F 54 20 41 57 50";
    const SELECT_QSCD: &str = "00 A4 04 0C 10 51 53 43 44 20 41 70 70 6C 69 63 61 74 69 6F 6E";
    const SELECT_MAIN: &str = "00 A4 04 0C 10 A0 00 00 00 77 01 08 00 07 00 00 FE 00 00 01 00";

    fn digest(alg: HashAlgorithm, byte: u8) -> Digest {
        Digest::new(alg, vec![byte; alg.output_len()]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn wrong_pin_is_reported_with_the_tries_left_and_nothing_is_signed() {
        let mut ch = ScriptedChannel::from_pairs(&[
            (SELECT_QSCD, "9000"),
            ("00 22 41 B6 06 80 01 54 84 01 9F", "9000"),
            ("00 20 00 85 0C 31 32 33 34 35 FF FF FF FF FF FF FF", "63C2"),
        ]);
        let drv = IdemiaDriver::<EstEidIdemia>::new();
        let out = drv.sign(
            &mut ch,
            KeyRole::Signing,
            &Pin::from("12345"),
            &digest(HashAlgorithm::Sha384, 1),
        );
        assert_eq!(out, Err(PinFailure::Wrong { retries: Some(2) }.into()));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn blocked_pin_is_reported() {
        for sw in ["6983", "63C0"] {
            let mut ch = ScriptedChannel::from_pairs(&[
                (SELECT_AWP, "9000"),
                ("00 22 41 A4 06 80 01 04 84 01 81", "9000"),
                ("00 20 00 01 0C 31 32 33 34 FF FF FF FF FF FF FF FF", sw),
            ]);
            let drv = IdemiaDriver::<EstEidIdemia>::new();
            let out = drv.sign(
                &mut ch,
                KeyRole::Authentication,
                &Pin::from("1234"),
                &digest(HashAlgorithm::Sha384, 1),
            );
            assert_eq!(out, Err(PinFailure::Blocked.into()), "{sw}");
            assert!(ch.finish().is_ok());
        }
    }

    #[test]
    fn malformed_pins_and_unsupported_hashes_never_reach_the_card() {
        let mut ch = ScriptedChannel::from_pairs(&[]);
        let est = IdemiaDriver::<EstEidIdemia>::new();
        // PIN2 has at least 5 digits.
        let out = est.sign(
            &mut ch,
            KeyRole::Signing,
            &Pin::from("1234"),
            &digest(HashAlgorithm::Sha384, 1),
        );
        assert_eq!(out, Err(PinFailure::InvalidFormat.into()));
        // LatEID's signing algorithm 42 is SHA-256 only.
        let lat = IdemiaDriver::<LatEidIdemiaV2>::new();
        let out = lat.sign(
            &mut ch,
            KeyRole::Signing,
            &Pin::from("123456"),
            &digest(HashAlgorithm::Sha384, 1),
        );
        assert!(matches!(out, Err(CardError::Unsupported(_))), "{out:?}");
        assert_eq!(ch.sent(), 0);
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn ecdsa_input_is_padded_or_truncated_to_the_curve() {
        let short = ecdsa_input(&[0xAA; 32], 48);
        assert_eq!(&short[..16], &[0u8; 16]);
        assert_eq!(&short[16..], &[0xAA; 32]);
        let long: Vec<u8> = (0..64).collect();
        assert_eq!(ecdsa_input(&long, 48), long[..48].to_vec());
        // The padded SHA-256 digest is what INTERNAL AUTHENTICATE carries.
        let d = digest(HashAlgorithm::Sha256, 0x11);
        let input = IdemiaDriver::<EstEidIdemia>::signature_input(&EstEidIdemia::AUTHENTICATION, &d);
        assert_eq!(input.map(|v| v.len()).ok(), Some(48));
    }

    #[test]
    fn absent_certificate_is_unsupported() {
        let mut ch = ScriptedChannel::from_pairs(&[(SELECT_MAIN, "9000"), ("00 A4 09 04 04 AD F2 34 1F 00", "6A82")]);
        let out = IdemiaDriver::<EstEidIdemia>::new().certificate(&mut ch, CertificateKind::Signing);
        assert!(matches!(out, Err(CardError::Unsupported(_))), "{out:?}");
        assert!(ch.finish().is_ok());
        let mut ch = ScriptedChannel::from_pairs(&[]);
        let out = IdemiaDriver::<EstEidIdemia>::new().certificate(&mut ch, CertificateKind::Root);
        assert!(matches!(out, Err(CardError::Unsupported(_))));
    }

    #[test]
    fn empty_certificate_file_is_unsupported() {
        let zeros = format!("{}9000", "00".repeat(0x10));
        let mut ch = ScriptedChannel::from_pairs(&[
            (SELECT_MAIN, "9000"),
            ("00 A4 09 04 04 AD F1 34 01 00", "62 04 80 02 00 10 9000"),
            ("00 B0 00 00 10", &zeros),
        ]);
        let out = IdemiaDriver::<EstEidIdemia>::new().certificate(&mut ch, CertificateKind::Authentication);
        assert!(matches!(out, Err(CardError::Unsupported(_))), "{out:?}");
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn pin_info_reads_tries_left_and_max() {
        let mut ch = ScriptedChannel::from_pairs(&[
            (SELECT_MAIN, "9000"),
            (
                "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80 00",
                "70 1E BF 81 01 1A A0 18 9A 01 03 9B 01 01 A1 10 8C 06 F3 00 00 73 43 00 9C 06 F3 00 00 73 43 00 9000",
            ),
        ]);
        let info = IdemiaDriver::<LatEidIdemiaV2>::new().pin_info(&mut ch, KeyRole::Authentication);
        assert_eq!(info.ok(), Some(PinInfo::counted(1, 3)));
        assert!(ch.finish().is_ok());
        // An answer for another PIN, or without 9B, is malformed.
        assert!(matches!(
            parse_pin_data(&hex::decode("7009BF810505A0039A0103").unwrap_or_default(), 0x01),
            Err(CardError::Malformed(_))
        ));
    }

    #[test]
    fn pkcs15_directory_parsing() {
        // Full PKCS#15 forms: common attributes before the parts we want.
        // PrKDF: privateRSAKey { CommonObjectAttributes { label }, CommonKeyAttributes { iD 45,
        // usage, keyReference 0x9E } }.
        let prkdf = hex::decode("3013300530030C0141300A04014503020640 02019E".replace(' ', "")).unwrap_or_default();
        assert_eq!(prkdf_key_reference(&prkdf).ok(), Some(0x9E));
        // The test card's minimal form, with a DER sign byte.
        assert_eq!(
            prkdf_key_reference(&hex::decode("30083000300402020081").unwrap_or_default()).ok(),
            Some(0x81)
        );
        assert!(prkdf_key_reference(&hex::decode("30023000").unwrap_or_default()).is_err());
        assert!(prkdf_key_reference(&hex::decode("3009300030050203010000").unwrap_or_default()).is_err());
        // CDF: x509Certificate { CommonObjectAttributes, CommonCertificateAttributes { iD }, [1] { { Path } } }.
        let cdf = hex::decode("3012 3000 3003 040145 A109 3007 3005 0403 3F0034".replace(' ', "")).unwrap_or_default();
        assert_eq!(cdf_certificate_path(&cdf).ok(), Some(&[0x3F, 0x00, 0x34][..]));
        assert!(cdf_certificate_path(&hex::decode("30023000").unwrap_or_default()).is_err());
    }

    #[test]
    fn pkcs15_paths_select_with_the_right_p1() {
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 A4 02 04 02 34 01 00", "62 04 80 02 01 00 9000"),
            ("00 A4 08 04 04 AD F1 34 01 00", "62 04 80 02 02 00 9000"),
            ("00 A4 09 04 04 AD F1 34 01 00", "62 04 81 02 03 00 9000"),
        ]);
        assert_eq!(select_ef(&mut ch, &[0x34, 0x01]).ok(), Some(0x100));
        assert_eq!(
            select_ef(&mut ch, &[0x3F, 0x00, 0xAD, 0xF1, 0x34, 0x01]).ok(),
            Some(0x200)
        );
        assert_eq!(select_ef(&mut ch, &[0xAD, 0xF1, 0x34, 0x01]).ok(), Some(0x300));
        assert!(select_ef(&mut ch, &[0x34]).is_err());
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn lateid_key_reference_comes_from_the_prkdf() {
        let sig = format!("{}9000", "5A".repeat(256));
        let d = digest(HashAlgorithm::Sha256, 0x22);
        let pso = format!("00 2A 9E 9A 20 {} 00", "22".repeat(32));
        let mut ch = ScriptedChannel::from_pairs(&[
            (SELECT_QSCD, "9000"),
            ("00 A4 02 04 02 70 01 00", "62 04 80 02 00 0A 9000"),
            ("00 B0 00 00 00", "30 08 30 00 30 04 02 02 00 9E 9000"),
            (SELECT_QSCD, "9000"),
            ("00 22 41 B6 06 80 01 42 84 01 9E", "9000"),
            ("00 20 00 85 0C 31 32 33 34 35 36 FF FF FF FF FF FF", "9000"),
            (&pso, &sig),
        ]);
        let out = IdemiaDriver::<LatEidIdemiaV2>::new().sign(&mut ch, KeyRole::Signing, &Pin::from("123456"), &d);
        let sig = out.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sig.bytes.len(), 256);
        assert_eq!(
            sig.algorithm,
            SignatureAlgorithm::rsa_pkcs1(&[HashAlgorithm::Sha256])[0]
        );
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn signature_refused_for_want_of_a_pin_is_reported() {
        let mut ch = ScriptedChannel::from_pairs(&[
            (SELECT_QSCD, "9000"),
            ("00 22 41 B6 06 80 01 54 84 01 9F", "9000"),
            ("00 20 00 85 0C 31 32 33 34 35 FF FF FF FF FF FF FF", "9000"),
            (&format!("00 2A 9E 9A 30 {} 00", "01".repeat(48)), "6982"),
        ]);
        let out = IdemiaDriver::<EstEidIdemia>::new().sign(
            &mut ch,
            KeyRole::Signing,
            &Pin::from("12345"),
            &digest(HashAlgorithm::Sha384, 1),
        );
        assert_eq!(out, Err(CardError::PinRequired));
        assert!(ch.finish().is_ok());
    }
}
