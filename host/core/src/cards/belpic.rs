//! Belgian eID (BELPIC applet 1.7, RSA-2048, and 1.8, ECDSA P-384), natively over PC/SC.
//!
//! Sources: "Public Belpic Applet v1.8 Reference Manual" and the v1.7 manual (§ numbers below refer to
//! the 1.8 manual unless noted), "Belgian Electronic Identity Card content" v5.4; summarised in
//! cards.md §1. The card speaks T=0 only, so case-4 commands may be answered `61 xx`; `exchange`
//! handles that.
//!
//! Round trips: certificates are selected by absolute path in one SELECT and read in as few READ
//! BINARY as T=0 allows (256 bytes each, the first chunk giving the DER length so the 1100 padding
//! zeros are never read); a signature is MSE SET, VERIFY, PSO CDS with Le (no GET RESPONSE needed
//! where the reader passes Le).

use crate::apdu::{exchange, Command};
use crate::atr::AtrPattern;
use crate::cards::{typed_pin_key, CardDriver};
use crate::error::CardError;
use crate::hash::{Digest, HashAlgorithm};
use crate::iso7816;
use crate::pin::{format2_block, Pin, PinPolicy};
use crate::token::{
    CardInfo, CertificateKind, CryptoAlgorithm, Curve, KeyAlgorithm, KeyInfo, KeyRole, Padding, PinInfo, Signature,
    SignatureAlgorithm,
};
use crate::transcript::hex_spaced;
use crate::transport::CardChannel;

/// Name of the 1.8 driver.
pub const NAME_V18: &str = "Belgian eID (applet 1.8, EC P-384)";
/// Name of the 1.7 driver.
pub const NAME_V17: &str = "Belgian eID (applet 1.7, RSA-2048)";

/// Applet 1.8: electrical perso v04 (cards.md §1.1; content v5.4 §2.3).
pub static ATRS_V18: &[AtrPattern] = &[AtrPattern::exact(&[
    0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x04, 0x01, 0x20, 0x12, 0x0F, 0xFF, 0x82, 0x90,
    0x00,
])];

/// Applets 1.1–1.7: perso v01/v02 ATRs, masked over the bytes that vary between chip batches
/// (cards.md §1.1: eid-mw beidmdrv.inf mask; libelectronic-id "BelEID v1.7").
pub static ATRS_V17: &[AtrPattern] = &[AtrPattern::masked(
    &[
        0x3B, 0x98, 0x13, 0x40, 0x0A, 0xA5, 0x03, 0x01, 0x01, 0x01, 0xAD, 0x13, 0x11,
    ],
    &[
        0xFF, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
    ],
)];

/// Builds the 1.8 driver.
pub fn make_v18() -> Box<dyn CardDriver> {
    Box::new(Belpic { applet: Applet::V18 })
}

/// Builds the 1.7 driver.
pub fn make_v17() -> Box<dyn CardDriver> {
    Box::new(Belpic { applet: Applet::V17 })
}

/// Which applet generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applet {
    /// Applet 1.7 (RSA-2048).
    V17,
    /// Applet 1.8 (EC P-384).
    V18,
}

/// The Belgian eID driver.
#[derive(Debug, Clone)]
pub struct Belpic {
    applet: Applet,
}

impl Belpic {
    /// A driver for one applet generation.
    pub fn new(applet: Applet) -> Self {
        Self { applet }
    }

    /// Signs with the card's current security state when `pin` is `None` (the authentication key's
    /// "PIN once" rule lets a second signature skip VERIFY within one card session); with a PIN, the
    /// order is MSE SET → VERIFY → PSO, the one the non-repudiation key's "PIN just before" rule needs
    /// (§5.1.2: MSE may come before VERIFY and VERIFY does not reset the environment).
    pub fn sign_with(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: Option<&Pin>,
        digest: &Digest,
    ) -> Result<Signature, CardError> {
        let padding = self.scheme(digest.algorithm()).padding;
        self.sign_padded(ch, role, pin, digest, padding)
    }

    /// [`sign_with`](Self::sign_with) with the padding named: on 1.7, PKCS#1 v1.5 (every hash) or
    /// PSS (SHA-256 only: the card pads, MGF1-SHA-256 and a 32-byte salt).
    fn sign_padded(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: Option<&Pin>,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        let (algo_byte, data) = self.algorithm_input(digest, padding)?;
        let key_ref = match role {
            KeyRole::Authentication => KEY_AUTH,
            KeyRole::Signing => KEY_NON_REPUDIATION,
        };
        iso7816::mse_status(exchange(ch, &mse_set(algo_byte, key_ref))?.sw)?;
        if let Some(pin) = pin {
            let block = format2_block(pin)?;
            iso7816::run_verify(ch, &iso7816::verify(PIN_REF, block))?;
        }
        let key = self.key_algorithm();
        let resp = exchange(ch, &iso7816::pso_cds(&data, Some(key.signature_len())))?;
        let bytes = iso7816::signature_answer(resp, "PSO COMPUTE DIGITAL SIGNATURE", key)?;
        Ok(Signature {
            bytes,
            algorithm: SignatureAlgorithm {
                padding,
                ..self.scheme(digest.algorithm())
            },
        })
    }

    /// MSE algorithm byte and PSO input for a digest (1.8 Table 14; 1.7 Table 11).
    fn algorithm_input(&self, digest: &Digest, padding: Padding) -> Result<(u8, Vec<u8>), CardError> {
        match (self.applet, padding) {
            (Applet::V17, Padding::Pss) => {
                // Algorithm 20: PSS with SHA-256, the card takes the bare hash (1.7 Table 11); the
                // only PSS the card has besides SHA-1's.
                if digest.algorithm() != HashAlgorithm::Sha256 {
                    return Err(CardError::Unsupported("RSA-PSS with this hash on this card"));
                }
                return Ok((0x20, digest.as_bytes().to_vec()));
            }
            (Applet::V18, Padding::None) | (Applet::V17, Padding::Pkcs1v15) => {}
            _ => return Err(CardError::Unsupported("this padding with this key")),
        }
        match self.applet {
            Applet::V18 => {
                let algo = match digest.algorithm() {
                    HashAlgorithm::Sha256 => 0x01,
                    HashAlgorithm::Sha384 => 0x02,
                    HashAlgorithm::Sha512 => 0x04,
                    HashAlgorithm::Sha3_256 => 0x08,
                    HashAlgorithm::Sha3_384 => 0x10,
                    HashAlgorithm::Sha3_512 => 0x20,
                    // "Hash not specified": the card accepts a 28-byte DTBS too.
                    _ => 0x40,
                };
                Ok((algo, digest.as_bytes().to_vec()))
            }
            // Algorithm 01: PKCS#1 v1.5 where the host supplies DigestInfo and the card pads; this
            // covers every hash, including those without an algorithm byte of their own.
            Applet::V17 => Ok((0x01, digest.digest_info())),
        }
    }

    /// Both keys of a card have the same algorithm: RSA-2048 on 1.7, EC P-384 on 1.8 (cards.md §1).
    fn key_algorithm(&self) -> KeyAlgorithm {
        match self.applet {
            Applet::V18 => KeyAlgorithm::Ec(Curve::P384),
            Applet::V17 => KeyAlgorithm::Rsa { bits: 2048 },
        }
    }

    fn scheme(&self, hash: HashAlgorithm) -> SignatureAlgorithm {
        match self.applet {
            Applet::V18 => SignatureAlgorithm::ecdsa(&[hash])[0],
            Applet::V17 => SignatureAlgorithm::rsa_pkcs1(&[hash])[0],
        }
    }

    /// SELECT by absolute path; if the BELPIC applet is not the selected one (another application
    /// selected something else), select it by AID and try once more (as eid-mw does on `6A82`/`6A86`/`6D00`).
    fn select_file(&self, ch: &mut dyn CardChannel, fid: [u8; 2]) -> Result<(), CardError> {
        let path = [0xDF, 0x00, fid[0], fid[1]];
        let cmd = iso7816::select(0x08, 0x0C, &path, None);
        let resp = exchange(ch, &cmd)?;
        match resp.sw.0 {
            0x9000 => Ok(()),
            0x6A82 | 0x6A86 | 0x6D00 => {
                exchange(ch, &iso7816::select_aid(&BELPIC_AID, 0x0C))?.check("SELECT applet")?;
                let again = exchange(ch, &cmd)?;
                match again.sw.0 {
                    0x9000 => Ok(()),
                    0x6A82 => Err(CardError::Unsupported("this certificate is not on the card")),
                    _ => Err(CardError::status(again.sw, "SELECT FILE")),
                }
            }
            _ => Err(CardError::status(resp.sw, "SELECT FILE")),
        }
    }

    /// GET CARD DATA (§6.14): 28 bytes with P2=00; on 1.8, 31 bytes with P2=01 (adds tries left).
    fn card_data(&self, ch: &mut dyn CardChannel) -> Result<Vec<u8>, CardError> {
        let (p2, le) = match self.applet {
            Applet::V18 => (0x01, 0x1F),
            Applet::V17 => (0x00, 0x1C),
        };
        let data = exchange(ch, &Command::new(0x80, 0xE4, 0x00, p2).with_le(le))?.ok("GET CARD DATA")?;
        if data.len() < 0x1C {
            return Err(CardError::Malformed("GET CARD DATA answer too short"));
        }
        Ok(data)
    }
}

impl CardDriver for Belpic {
    fn name(&self) -> &'static str {
        match self.applet {
            Applet::V18 => NAME_V18,
            Applet::V17 => NAME_V17,
        }
    }

    fn key(&self, role: KeyRole) -> KeyInfo {
        let schemes = match self.applet {
            Applet::V18 => SignatureAlgorithm::ecdsa(&HashAlgorithm::ALL),
            // PKCS#1 v1.5 first (the default for a hash), then PSS with SHA-256, which TLS 1.3
            // requires of RSA keys (RFC 8446 §4.2.3).
            Applet::V17 => {
                let mut s = SignatureAlgorithm::rsa_pkcs1(&HashAlgorithm::ALL);
                s.push(SignatureAlgorithm {
                    crypto: CryptoAlgorithm::Rsa,
                    hash: HashAlgorithm::Sha256,
                    padding: Padding::Pss,
                });
                s
            }
        };
        // Both keys share one cardholder PIN, 4 to 12 digits (§3.1, §3.2).
        typed_pin_key(role, self.key_algorithm(), schemes, PinPolicy::digits(4, 12), "PIN")
    }

    fn certificate(&self, ch: &mut dyn CardChannel, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        let fid = match kind {
            CertificateKind::Authentication => [0x50, 0x38],
            CertificateKind::Signing => [0x50, 0x39],
            CertificateKind::IntermediateCa => [0x50, 0x3A],
            CertificateKind::Root => [0x50, 0x3B],
        };
        self.select_file(ch, fid)?;
        // An absent certificate is a file of zeros (content v5.4 §4.5): read_der reports it.
        iso7816::read_der(ch, 256)
    }

    fn pin_info(&self, ch: &mut dyn CardChannel, _role: KeyRole) -> Result<PinInfo, CardError> {
        let tries_left = match self.applet {
            Applet::V18 => {
                let data = self.card_data(ch)?;
                match data.get(28) {
                    Some(0xFF) | None => return Err(CardError::Malformed("GET CARD DATA without a PIN counter")),
                    Some(t) => *t,
                }
            }
            // 1.7 (manual §6.5): VERIFY without data answers the state without spending a try.
            Applet::V17 => {
                let resp = exchange(ch, &iso7816::verify_status(PIN_REF))?;
                match resp.sw.0 {
                    0x9000 => MAX_TRIES,
                    0x6983 => 0,
                    _ => resp
                        .sw
                        .retries_left()
                        .ok_or(CardError::status(resp.sw, "VERIFY (status)"))?,
                }
            }
        };
        Ok(PinInfo::counted(tries_left, MAX_TRIES))
    }

    fn sign(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: &Pin,
        digest: &Digest,
    ) -> Result<Signature, CardError> {
        self.sign_with(ch, role, Some(pin), digest)
    }

    fn sign_as(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: &Pin,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        self.sign_padded(ch, role, Some(pin), digest, padding)
    }

    fn card_info(&self, ch: &mut dyn CardChannel) -> Result<CardInfo, CardError> {
        let data = self.card_data(ch)?;
        let mut extra = vec![
            ("applet life cycle", format!("{:02X}", data[27])),
            ("global OS version", format!("{:02X}{:02X}", data[22], data[23])),
        ];
        if self.applet == Applet::V18 {
            if let Some(t) = data.get(28) {
                extra.push(("PIN tries left", t.to_string()));
            }
        }
        Ok(CardInfo {
            serial: Some(hex_spaced(&data[..16]).replace(' ', "")),
            version: Some(format!("applet {}.{}", data[21] >> 4, data[21] & 0x0F)),
            extra,
        })
    }
}

/// MSE SET for a digital signature (§6.12): note the non-ISO leading byte `04`, the length of what
/// follows.
fn mse_set(algo: u8, key_ref: u8) -> Command {
    iso7816::mse_set(0xB6, &[0x04, 0x80, algo, 0x84, key_ref])
}

/// Applet instance AID (§2.2).
const BELPIC_AID: [u8; 15] = [
    0xA0, 0x00, 0x00, 0x00, 0x30, 0x29, 0x05, 0x70, 0x00, 0xAD, 0x13, 0x10, 0x01, 0x01, 0xFF,
];
/// Cardholder PIN reference (§3.1).
const PIN_REF: u8 = 0x01;
/// Tries of the cardholder PIN (§3.1).
const MAX_TRIES: u8 = 3;
/// Authentication key reference (Table 16).
const KEY_AUTH: u8 = 0x82;
/// Non-repudiation key reference (Table 16).
const KEY_NON_REPUDIATION: u8 = 0x83;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PinFailure;
    use crate::transcript::ScriptedChannel;

    fn digest384() -> Digest {
        Digest::new(HashAlgorithm::Sha384, vec![0x11; 48]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn v18_authentication_is_mse_verify_pso() {
        let sig = "AB".repeat(96);
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 22 41 B6 05 04 80 02 84 82", "9000"),
            ("00 20 00 01 08 24 12 34 FF FF FF FF FF", "9000"),
            (&format!("00 2A 9E 9A 30 {} 60", "11".repeat(48)), &format!("{sig}9000")),
        ]);
        let out = make_v18().sign(&mut ch, KeyRole::Authentication, &Pin::from("1234"), &digest384());
        assert_eq!(out.map(|s| s.bytes.len()).ok(), Some(96));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn wrong_pin_stops_before_the_signature() {
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 22 41 B6 05 04 80 02 84 83", "9000"),
            ("00 20 00 01 08 24 12 34 FF FF FF FF FF", "63C1"),
        ]);
        let out = make_v18().sign(&mut ch, KeyRole::Signing, &Pin::from("1234"), &digest384());
        assert_eq!(out, Err(PinFailure::Wrong { retries: Some(1) }.into()));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn v17_signs_digest_info_and_reads_tries_with_an_empty_verify() {
        let d = Digest::new(HashAlgorithm::Sha256, vec![0x22; 32]).unwrap_or_else(|e| panic!("{e}"));
        let di = hex::encode(d.digest_info());
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 22 41 B6 05 04 80 01 84 82", "9000"),
            ("00 20 00 01 08 24 12 34 FF FF FF FF FF", "9000"),
            (&format!("00 2A 9E 9A 33 {di} 00"), "6100"),
            ("00 C0 00 00 00", &format!("{}9000", "CD".repeat(256))),
            ("00 20 00 01", "63C2"),
        ]);
        let drv = make_v17();
        let out = drv.sign(&mut ch, KeyRole::Authentication, &Pin::from("1234"), &d);
        assert_eq!(out.map(|s| s.bytes.len()).ok(), Some(256));
        let info = drv.pin_info(&mut ch, KeyRole::Authentication);
        assert_eq!(info.ok().and_then(|i| i.tries_left), Some(2));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn v17_pss_is_algorithm_20_over_the_bare_hash() {
        // 1.7 Table 11: algorithm 20 = PSS with SHA-256; the PSO takes the 32-byte hash.
        let d = Digest::new(HashAlgorithm::Sha256, vec![0x33; 32]).unwrap_or_else(|e| panic!("{e}"));
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 22 41 B6 05 04 80 20 84 82", "9000"),
            ("00 20 00 01 08 24 12 34 FF FF FF FF FF", "9000"),
            (
                &format!("00 2A 9E 9A 20 {} 00", "33".repeat(32)),
                &format!("{}9000", "CD".repeat(256)),
            ),
        ]);
        let drv = make_v17();
        let out = drv.sign_as(&mut ch, KeyRole::Authentication, &Pin::from("1234"), &d, Padding::Pss);
        let sig = out.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sig.algorithm.padding, Padding::Pss);
        assert!(ch.finish().is_ok());
        // PSS with another hash, or on 1.8, is refused before any APDU.
        let d384 = digest384();
        let mut none = ScriptedChannel::from_pairs(&[]);
        let refused = drv.sign_as(
            &mut none,
            KeyRole::Authentication,
            &Pin::from("1234"),
            &d384,
            Padding::Pss,
        );
        assert!(matches!(refused, Err(CardError::Unsupported(_))));
        let refused = make_v18().sign_as(
            &mut none,
            KeyRole::Authentication,
            &Pin::from("1234"),
            &d384,
            Padding::Pss,
        );
        assert!(matches!(refused, Err(CardError::Unsupported(_))));
        assert!(none.finish().is_ok());
        // The default for SHA-256 stays PKCS#1 v1.5 (what Web eID's RS256 signs).
        let key = drv.key(KeyRole::Authentication);
        assert_eq!(
            key.default_scheme(HashAlgorithm::Sha256).map(|s| s.padding),
            Some(Padding::Pkcs1v15)
        );
    }

    #[test]
    fn certificate_read_reselects_the_applet_once() {
        let mut cert = vec![0x30, 0x81, 0x10];
        cert.extend([0x55; 16]);
        let padded = format!("{}{}9000", hex::encode(&cert), "00".repeat(237));
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 A4 08 0C 04 DF 00 50 38", "6A82"),
            ("00 A4 04 0C 0F A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF", "9000"),
            ("00 A4 08 0C 04 DF 00 50 38", "9000"),
            ("00 B0 00 00 00", &padded),
        ]);
        let out = make_v18().certificate(&mut ch, CertificateKind::Authentication);
        assert_eq!(out.ok(), Some(cert));
        assert!(ch.finish().is_ok());
    }

    #[test]
    fn non_repudiation_without_fresh_pin_is_reported() {
        let mut ch = ScriptedChannel::from_pairs(&[
            ("00 22 41 B6 05 04 80 02 84 83", "9000"),
            (&format!("00 2A 9E 9A 30 {} 60", "11".repeat(48)), "6982"),
        ]);
        let out = Belpic::new(Applet::V18).sign_with(&mut ch, KeyRole::Signing, None, &digest384());
        assert_eq!(out, Err(CardError::PinRequired));
    }
}
