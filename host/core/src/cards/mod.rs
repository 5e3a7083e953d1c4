//! Card drivers and the ATR registry that picks one.
//!
//! A driver knows one card family's APDUs. It is stateless between calls (it can be re-created after a
//! card reset) and only sees `&mut dyn CardChannel`, so every driver runs the same over PC/SC, over a
//! scripted channel in unit tests, or over any other transport.

pub mod belpic;
pub mod idemia;
pub mod thales;

use crate::atr::{Atr, AtrPattern};
use crate::error::CardError;
use crate::hash::Digest;
use crate::pin::{Pin, PinPolicy};
use crate::tlv;
use crate::token::{
    CardInfo, CertificateKind, KeyAlgorithm, KeyInfo, KeyRole, Padding, PinEntry, PinInfo, Signature,
    SignatureAlgorithm,
};
use crate::transport::CardChannel;

/// One card family's logic.
pub trait CardDriver: Send + Sync {
    /// Human name of the card ("Belgian eID (applet 1.8)").
    fn name(&self) -> &'static str;
    /// What the key of a role is: algorithm, signature schemes, PIN rules and the PIN's name.
    fn key(&self, role: KeyRole) -> KeyInfo;
    /// Reads a certificate; returns exactly the DER (trailing file padding removed).
    fn certificate(&self, ch: &mut dyn CardChannel, kind: CertificateKind) -> Result<Vec<u8>, CardError>;
    /// Reads the PIN state without spending a try.
    fn pin_info(&self, ch: &mut dyn CardChannel, role: KeyRole) -> Result<PinInfo, CardError>;
    /// Verifies the PIN and signs the digest. A wrong PIN is reported, never retried.
    fn sign(&self, ch: &mut dyn CardChannel, role: KeyRole, pin: &Pin, digest: &Digest)
        -> Result<Signature, CardError>;
    /// [`sign`](Self::sign) with a padding the caller names, for keys that offer more than one per
    /// hash; by default only the key's default scheme for the hash is offered.
    fn sign_as(
        &self,
        ch: &mut dyn CardChannel,
        role: KeyRole,
        pin: &Pin,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        match self.key(role).default_scheme(digest.algorithm()) {
            Some(s) if s.padding == padding => self.sign(ch, role, pin, digest),
            _ => Err(CardError::Unsupported("this padding with this key")),
        }
    }
    /// Card facts (serial, versions).
    fn card_info(&self, _ch: &mut dyn CardChannel) -> Result<CardInfo, CardError> {
        Ok(CardInfo::default())
    }
}

/// The key of `role` on a card whose PIN is typed in eidlink's dialog and sent by the driver (PIN-pad
/// readers change `entry` in the transport's token, which knows the reader).
fn typed_pin_key(
    role: KeyRole,
    algorithm: KeyAlgorithm,
    schemes: Vec<SignatureAlgorithm>,
    pin: PinPolicy,
    pin_label: &'static str,
) -> KeyInfo {
    KeyInfo {
        role,
        algorithm,
        schemes,
        pin,
        pin_label,
        entry: PinEntry::Dialog,
    }
}

/// The name of a role's PIN on cards with PIN1 for authentication and PIN2 for qualified signatures,
/// as their documents call them (cards.md §2.4, §2.8).
const fn pin1_pin2(role: KeyRole) -> &'static str {
    match role {
        KeyRole::Authentication => "PIN1",
        KeyRole::Signing => "PIN2",
    }
}

/// The DER certificate at the start of a certificate file, its padding removed.
fn certificate_in_file(mut data: Vec<u8>) -> Result<Vec<u8>, CardError> {
    if data.first() != Some(&0x30) {
        return Err(CardError::Unsupported("no certificate in this file"));
    }
    let total = tlv::der_total_length(&data)?;
    if total > data.len() {
        return Err(CardError::Malformed("certificate longer than its file"));
    }
    data.truncate(total);
    Ok(data)
}

/// A registry entry: the ATRs of a card and how to make its driver.
pub struct DriverEntry {
    /// Card name.
    pub name: &'static str,
    /// ATRs that select this driver.
    pub atrs: &'static [AtrPattern],
    /// Builds the driver.
    pub make: fn() -> Box<dyn CardDriver>,
}

impl std::fmt::Debug for DriverEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every driver, in match order: exact ATRs of a family before masked ones of another.
pub static DRIVERS: &[DriverEntry] = &[
    DriverEntry {
        name: belpic::NAME_V18,
        atrs: belpic::ATRS_V18,
        make: belpic::make_v18,
    },
    DriverEntry {
        name: belpic::NAME_V17,
        atrs: belpic::ATRS_V17,
        make: belpic::make_v17,
    },
    // `3B DB 96 00 80 B1 FE 45 1F 83 00 12 23 3F 53 65 49 44 0F 90 00 F1`: EstEID IDEMIA Cosmo 8.1/8.2
    // (libelectronic-id electronic-id.cpp "EstEID Idemia v1.0"; cards.md §2.1).
    // `3B DC 96 00 80 B1 FE 45 1F 83 00 12 23 3F 54 65 49 44 32 0F 90 00 C3`: EstEID IDEMIA Cosmo X
    // (cards.md §2.1; OpenSC card-esteid2018.c:43-49).
    DriverEntry {
        name: idemia::NAME_ESTEID,
        atrs: idemia::ATRS_ESTEID,
        make: idemia::make_esteid,
    },
    // `3B DB 96 00 80 B1 FE 45 1F 83 00 12 42 8F 53 65 49 44 0F 90 00 20`: LatEID IDEMIA v2.0
    // (libelectronic-id electronic-id.cpp "LatEID Idemia v2.0"; cards.md §2.1).
    DriverEntry {
        name: idemia::NAME_LATEID_V2,
        atrs: idemia::ATRS_LATEID_V2,
        make: idemia::make_lateid_v2,
    },
    // `3B 7F 96 00 00 80 31 B8 65 B0 85 03 00 EF 12 00 F6 82 90 00`: FinEID v3.0
    // (libelectronic-id electronic-id.cpp "FinEID v3.0").
    // `3B 7F 96 00 00 80 31 B8 65 B0 85 04 02 1B 12 00 F6 82 90 00`: FinEID v3.1
    // (libelectronic-id electronic-id.cpp "FinEID v3.1").
    DriverEntry {
        name: thales::NAME_FINEID_V3,
        atrs: thales::ATRS_FINEID_V3,
        make: thales::make_fineid_v3,
    },
    // `3B 7F 96 00 00 80 31 B8 65 B0 85 05 00 11 12 24 60 82 90 00`: FinEID v4.0
    // (libelectronic-id electronic-id.cpp "FinEID v4.0").
    DriverEntry {
        name: thales::NAME_FINEID_V4,
        atrs: thales::ATRS_FINEID_V4,
        make: thales::make_fineid_v4,
    },
];

/// The driver entry whose ATR patterns match `atr`.
pub fn detect(atr: &Atr) -> Option<&'static DriverEntry> {
    DRIVERS.iter().find(|d| d.atrs.iter().any(|p| p.matches(atr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_atr_detects_its_own_driver() {
        for entry in DRIVERS {
            for p in entry.atrs {
                let found = detect(&Atr(p.bytes.to_vec())).map(|e| e.name);
                assert_eq!(found, Some(entry.name), "{:02X?}", p.bytes);
            }
        }
        assert!(detect(&Atr(vec![0x3B, 0x8A, 0x01, 0x46])).is_none());
    }
}
