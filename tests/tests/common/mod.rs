//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, OnceLock};

use eidlink_tests::{CardOptions, Pki, Profile, VirtualCard};

/// Hex with optional spaces → bytes.
pub fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("valid hex in test")
}

/// Status word of an R-APDU.
pub fn sw(r: &[u8]) -> u16 {
    assert!(r.len() >= 2, "R-APDU shorter than 2 bytes: {r:02X?}");
    u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
}

/// Data part of an R-APDU.
pub fn data(r: &[u8]) -> &[u8] {
    &r[..r.len() - 2]
}

/// Sends hex, returns the R-APDU.
pub fn send(card: &mut VirtualCard, apdu: &str) -> Vec<u8> {
    card.process(&hex(apdu))
}

/// Sends hex and asserts the SW; returns the data.
#[track_caller]
pub fn expect_sw(card: &mut VirtualCard, apdu: &str, want: u16) -> Vec<u8> {
    let r = send(card, apdu);
    assert_eq!(sw(&r), want, "{apdu} answered {r:02X?}");
    data(&r).to_vec()
}

/// Shared PKI per profile (RSA key generation is the slow part).
pub fn pki(profile: Profile) -> Arc<Pki> {
    static PKIS: OnceLock<[Arc<Pki>; 3]> = OnceLock::new();
    let all = PKIS.get_or_init(|| {
        Profile::ALL.map(|p| {
            let spec = p.pki_spec(&CardOptions::default()).unwrap();
            Arc::new(Pki::generate(&spec).unwrap())
        })
    });
    let i = Profile::ALL.iter().position(|p| *p == profile).unwrap();
    all[i].clone()
}

/// A fresh card with default options on the shared PKI.
pub fn card(profile: Profile) -> VirtualCard {
    card_with(profile, &CardOptions::default())
}

/// A fresh card with options on the shared PKI.
pub fn card_with(profile: Profile, options: &CardOptions) -> VirtualCard {
    VirtualCard::with_pki(profile, options, pki(profile)).unwrap()
}

/// Reads a whole transparent EF the way eid-mw does: `00 B0 hi lo FC`
/// chunks, following 6Cxx, until 6B00 or a short chunk.
pub fn read_all(card: &mut VirtualCard) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let [hi, lo] = u16::try_from(out.len()).unwrap().to_be_bytes();
        let mut r = card.process(&[0x00, 0xB0, hi, lo, 0xFC]);
        if sw(&r) & 0xFF00 == 0x6C00 {
            r = card.process(&[0x00, 0xB0, hi, lo, (sw(&r) & 0xFF) as u8]);
        }
        match sw(&r) {
            0x9000 => {
                let chunk = data(&r);
                out.extend_from_slice(chunk);
                if chunk.len() < 0xFC {
                    return out;
                }
            }
            0x6B00 if !out.is_empty() => return out,
            other => panic!("READ BINARY at {} answered {other:04X}", out.len()),
        }
    }
}
