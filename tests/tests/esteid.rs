//! In-process tests of the EstEID IDEMIA profile (cards.md §2), replaying
//! the flows of shared/vectors/apdu/esteid-idemia-*.apdu on our own PKI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{card, card_with, expect_sw, hex, send, sw};
use eidlink_tests::pin::encode_ascii_ff;
use eidlink_tests::{CardOptions, Profile, VirtualCard};
use sha2::{Digest, Sha384};

const SELECT_MAIN: &str = "00 A4 04 0C 10 A0 00 00 00 77 01 08 00 07 00 00 FE 00 00 01 00";
const SELECT_ADF1: &str = "00 A4 04 0C 0D E8 28 BD 08 0F F2 50 4F 54 20 41 57 50";
const SELECT_ADF2: &str = "00 A4 04 0C 10 51 53 43 44 20 41 70 70 6C 69 63 61 74 69 6F 6E";
const MSE_AT: &str = "00 22 41 A4 06 80 01 04 84 01 81";
const MSE_DST: &str = "00 22 41 B6 06 80 01 54 84 01 9F";
const VERIFY_PIN1: &str = "00 20 00 01 0C 31 32 33 34 FF FF FF FF FF FF FF FF";
const VERIFY_PIN2: &str = "00 20 00 85 0C 31 32 33 34 35 FF FF FF FF FF FF FF";
const OK: u16 = 0x9000;

fn retries(reference: u8) -> String {
    format!("00 CB 3F FF 0A 4D 08 70 06 BF 81 {reference:02X} 02 A0 80 00")
}

fn hash() -> Vec<u8> {
    Sha384::digest(b"web-eid challenge").to_vec()
}

/// Reads a certificate the libelectronic-id way: FCP size, 0xC0 chunks, exact tail.
fn read_cert(c: &mut VirtualCard, select: &str) -> Vec<u8> {
    let fcp = expect_sw(c, select, OK);
    assert_eq!(&fcp[..4], &[0x62, 0x04, 0x80, 0x02]);
    let size = usize::from(u16::from_be_bytes([fcp[4], fcp[5]]));
    let mut out = Vec::new();
    while out.len() < size {
        let chunk = (size - out.len()).min(0xC0);
        let [hi, lo] = u16::try_from(out.len()).unwrap().to_be_bytes();
        let d = expect_sw(c, &format!("00 B0 {hi:02X} {lo:02X} {chunk:02X}"), OK);
        assert_eq!(d.len(), chunk);
        out.extend(d);
    }
    out
}

#[test]
fn atr_matches_cards_md() {
    assert_eq!(
        card(Profile::EstEid).atr(),
        hex("3B DB 96 00 80 B1 FE 45 1F 83 00 12 23 3F 53 65 49 44 0F 90 00 F1")
    );
}

#[test]
fn authenticate_flow_of_the_transcript() {
    let mut c = card(Profile::EstEid);
    expect_sw(&mut c, SELECT_MAIN, OK);
    let cert = read_cert(&mut c, "00 A4 09 04 04 AD F1 34 01 00");
    assert_eq!(cert, c.pki().auth_der);
    expect_sw(&mut c, SELECT_MAIN, OK);
    let r = send(&mut c, &retries(0x01));
    assert_eq!(
        r,
        hex("70 1E BF 81 01 1A A0 18 9A 01 03 9B 01 03 A1 10 8C 06 F3 00 00 73 43 00 9C 06 F3 00 00 73 43 00 90 00")
    );
    expect_sw(&mut c, SELECT_ADF1, OK);
    expect_sw(&mut c, MSE_AT, OK);
    expect_sw(&mut c, VERIFY_PIN1, OK);
    let h = hash();
    let sig = expect_sw(&mut c, &format!("00 88 00 00 30 {} 00", hex::encode(&h)), OK);
    assert_eq!(sig.len(), 96);
    assert!(c.pki().auth_key.verify(&h, &sig));
    // PIN1 stays verified for further authentications in the session.
    let sig2 = expect_sw(&mut c, &format!("00 88 00 00 30 {} 00", hex::encode(&h)), OK);
    assert_eq!(sig, sig2, "RFC 6979 is deterministic");
    // Without Le: T=0 style 61 60 and GET RESPONSE.
    assert_eq!(
        send(&mut c, &format!("00 88 00 00 30 {}", hex::encode(&h))),
        vec![0x61, 0x60]
    );
    assert_eq!(expect_sw(&mut c, "00 C0 00 00 60", OK), sig);
}

#[test]
fn sign_flow_of_the_transcript() {
    let mut c = card(Profile::EstEid);
    expect_sw(&mut c, SELECT_MAIN, OK);
    let cert = read_cert(&mut c, "00 A4 09 04 04 AD F2 34 1F 00");
    assert_eq!(cert, c.pki().sign_der);
    expect_sw(&mut c, SELECT_ADF2, OK);
    let r = send(&mut c, &retries(0x05));
    assert_eq!(
        r,
        hex("70 1E BF 81 05 1A A0 18 9A 01 03 9B 01 03 A1 10 8C 06 F3 00 00 73 FF 00 9C 06 F3 00 00 73 FF 00 90 00")
    );
    expect_sw(&mut c, SELECT_ADF2, OK);
    expect_sw(&mut c, MSE_DST, OK);
    expect_sw(&mut c, VERIFY_PIN2, OK);
    let h = hash();
    let pso = format!("00 2A 9E 9A 30 {} 00", hex::encode(&h));
    let sig = expect_sw(&mut c, &pso, OK);
    assert!(c.pki().sign_key.verify(&h, &sig));
    // PIN2 must be presented again for every signature.
    expect_sw(&mut c, &pso, 0x6982);
    expect_sw(&mut c, VERIFY_PIN2, OK);
    expect_sw(&mut c, &pso, OK);
}

#[test]
fn preconditions_and_key_homes() {
    let mut c = card(Profile::EstEid);
    let h = hex::encode(hash());
    // MSE needs the key's DF.
    expect_sw(&mut c, SELECT_MAIN, OK);
    expect_sw(&mut c, MSE_AT, 0x6A88);
    expect_sw(&mut c, &format!("00 88 00 00 30 {h} 00"), 0x6985);
    expect_sw(&mut c, SELECT_ADF1, OK);
    expect_sw(&mut c, MSE_DST, 0x6A88);
    expect_sw(&mut c, MSE_AT, OK);
    expect_sw(&mut c, &format!("00 88 00 00 30 {h} 00"), 0x6982);
    expect_sw(&mut c, VERIFY_PIN1, OK);
    expect_sw(&mut c, "00 88 00 00 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 0x6A80);
    // Selecting another DF drops the SE.
    expect_sw(&mut c, SELECT_MAIN, OK);
    expect_sw(&mut c, SELECT_ADF1, OK);
    expect_sw(&mut c, &format!("00 88 00 00 30 {h} 00"), 0x6985);
    // PIN2 lives in ADF2 only.
    expect_sw(&mut c, VERIFY_PIN2, 0x6A88);
    expect_sw(&mut c, &retries(0x05), 0x6A88);
    // OpenSC's 4-byte algorithm references are accepted.
    expect_sw(&mut c, "00 22 41 A4 09 80 04 FF 20 08 00 84 01 81", OK);
    expect_sw(&mut c, &format!("00 88 00 00 30 {h} 60"), OK);
    // Reset: MF current, nothing verified.
    c.reset();
    expect_sw(&mut c, SELECT_ADF1, OK);
    expect_sw(&mut c, MSE_AT, OK);
    expect_sw(&mut c, &format!("00 88 00 00 30 {h} 00"), 0x6982);
}

#[test]
fn pin_counters_block_and_query() {
    let mut c = card(Profile::EstEid);
    let wrong = "00 20 00 01 0C 39 39 39 39 FF FF FF FF FF FF FF FF";
    expect_sw(&mut c, "00 20 00 01 00", 0x63C3);
    expect_sw(&mut c, wrong, 0x63C2);
    assert_eq!(send(&mut c, &retries(0x01))[13], 2);
    expect_sw(&mut c, "00 20 00 01", 0x63C2);
    expect_sw(&mut c, wrong, 0x63C1);
    expect_sw(&mut c, wrong, 0x63C0);
    expect_sw(&mut c, VERIFY_PIN1, 0x6983);
    expect_sw(&mut c, "00 20 00 01 00", 0x6983);
    assert_eq!(c.pin_tries_left(), 0);
    assert_eq!(c.sign_pin_tries_left(), Some(3), "PIN2 has its own counter");
    // Format errors cost nothing: too short for PIN2, bad padding, bad Lc.
    expect_sw(&mut c, SELECT_ADF2, OK);
    expect_sw(&mut c, "00 20 00 85 0C 31 32 33 34 FF FF FF FF FF FF FF FF", 0x6A80);
    expect_sw(&mut c, "00 20 00 85 0C 31 32 33 34 35 00 FF FF FF FF FF FF", 0x6A80);
    expect_sw(&mut c, "00 20 00 85 05 31 32 33 34 35", 0x6700);
    assert_eq!(c.sign_pin_tries_left(), Some(3));
    // Unblock PIN1 with the PUK (OpenSC flow: VERIFY PUK, RESET RETRY COUNTER).
    expect_sw(&mut c, "00 2C 03 01", 0x6982);
    let puk = hex::encode(encode_ascii_ff("12345678"));
    expect_sw(&mut c, &format!("00 20 00 02 0C {puk}"), OK);
    expect_sw(&mut c, "00 2C 03 01", OK);
    expect_sw(&mut c, VERIFY_PIN1, OK);
}

#[test]
fn configured_pins_and_change() {
    let options = CardOptions {
        pin: "4321".into(),
        sign_pin: "54321".into(),
        sign_tries_left: Some(1),
        ..CardOptions::default()
    };
    let mut c = card_with(Profile::EstEid, &options);
    assert_eq!(c.sign_pin_tries_left(), Some(1));
    expect_sw(&mut c, VERIFY_PIN1, 0x63C2);
    let old = hex::encode(encode_ascii_ff("4321"));
    let new = hex::encode(encode_ascii_ff("0000"));
    expect_sw(&mut c, &format!("00 24 00 01 18 {old}{new}"), OK);
    expect_sw(&mut c, &format!("00 20 00 01 0C {new}"), OK);
}

#[test]
fn opensc_style_selection_and_reads() {
    let mut c = card(Profile::EstEid);
    // gp_select_aid: P2=00, no Le.
    expect_sw(
        &mut c,
        "00 A4 04 00 10 A0 00 00 00 77 01 08 00 07 00 00 FE 00 00 01 00",
        OK,
    );
    // Document number 3F00/D003: MF, then P1=09 path, 11-byte read with tag 04.
    expect_sw(&mut c, "00 A4 00 0C", OK);
    let fcp = expect_sw(&mut c, "00 A4 09 04 02 D0 03 00", OK);
    assert_eq!(fcp, hex("62 04 80 02 00 0B"));
    let docnr = expect_sw(&mut c, "00 B0 00 00 0B", OK);
    assert_eq!(&docnr[..4], &hex("04 09 41 53"));
    // DF by FID (P1=01), then EF by FID (P1=02).
    expect_sw(&mut c, "00 A4 00 0C", OK);
    expect_sw(&mut c, "00 A4 01 0C 02 AD F1", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 34 01", OK);
    let size = c.pki().auth_der.len();
    // Past the end: the rest with 62 82; at the end: 6B 00.
    let [hi, lo] = u16::try_from(size - 5).unwrap().to_be_bytes();
    let r = send(&mut c, &format!("00 B0 {hi:02X} {lo:02X} 00"));
    assert_eq!(sw(&r), 0x6282);
    assert_eq!(r.len(), 5 + 2);
    let [hi, lo] = u16::try_from(size).unwrap().to_be_bytes();
    expect_sw(&mut c, &format!("00 B0 {hi:02X} {lo:02X} 10"), 0x6B00);
    // Path from the MF with P1=08, with and without 3F00.
    expect_sw(&mut c, "00 A4 08 0C 04 AD F2 34 1F", OK);
    expect_sw(&mut c, "00 A4 08 0C 06 3F 00 AD F2 34 1F", OK);
    expect_sw(&mut c, "00 A4 09 04 04 AD F3 34 01 00", 0x6A82);
    expect_sw(&mut c, "00 A4 01 0C 02 34 01", 0x6A82);
    // Unknown commands and classes.
    expect_sw(&mut c, "00 84 00 00 08", 0x6D00);
    expect_sw(&mut c, "80 CA 9F 7F 00", 0x6E00);
}
