//! In-process tests of the Belgian eID profiles (cards.md §1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{card, card_with, expect_sw, hex, read_all, send, sw};
use eidlink_tests::crypto::{self, digest_info, PssHash};
use eidlink_tests::pin::encode_format2_block;
use eidlink_tests::tlv::be_fields;
use eidlink_tests::{CardOptions, LeafKey, Profile, VirtualCard};
use p384::pkcs8::EncodePublicKey;
use rsa::PublicKey as RsaPublicKey;
use sha2::{Digest, Sha256, Sha384};

const SELECT_APPLET: &str = "00 A4 04 00 0F A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF";
const VERIFY_1234: &str = "00 20 00 01 08 24 12 34 FF FF FF FF FF";
const VERIFY_9999: &str = "00 20 00 01 08 24 99 99 FF FF FF FF FF";
const MSE_AUTH_384: &str = "00 22 41 B6 05 04 80 02 84 82";
const MSE_NONREP_384: &str = "00 22 41 B6 05 04 80 02 84 83";
const GET_CARD_DATA: &str = "80 E4 00 00 1C";
const OK: u16 = 0x9000;

fn hash48(tag: &str) -> Vec<u8> {
    Sha384::digest(tag.as_bytes()).to_vec()
}

fn pso(hash: &[u8]) -> String {
    format!("00 2A 9E 9A {:02X} {}", hash.len(), hex::encode(hash))
}

/// PSO without Le (T=0): `61 xx`, then GET RESPONSE.
fn sign_t0(card: &mut VirtualCard, hash: &[u8]) -> Vec<u8> {
    let r = send(card, &pso(hash));
    assert_eq!(sw(&r) & 0xFF00, 0x6100, "PSO answered {r:02X?}");
    let le = sw(&r) & 0xFF;
    expect_sw(card, &format!("00 C0 00 00 {le:02X}"), OK)
}

fn verify_auth(card: &VirtualCard, hash: &[u8], sig: &[u8]) -> bool {
    card.pki().auth_key.verify(hash, sig)
}

#[test]
fn atrs_match_cards_md() {
    assert_eq!(
        card(Profile::Belpic18).atr(),
        hex("3B 7F 96 00 00 80 31 80 65 B0 85 04 01 20 12 0F FF 82 90 00")
    );
    assert_eq!(
        card(Profile::Belpic17).atr(),
        hex("3B 98 13 40 0A A5 03 01 01 01 AD 13 11")
    );
}

#[test]
fn select_forms_of_cards_md_1_6() {
    let mut c = card(Profile::Belpic18);
    let auth = c.pki().auth_der.clone();
    expect_sw(&mut c, SELECT_APPLET, OK);
    expect_sw(
        &mut c,
        "00 A4 04 0C 0F A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF",
        OK,
    );
    // eid-mw: FID first; 6A82 when not in the current DF, then the path walk.
    expect_sw(&mut c, "00 A4 02 0C 02 50 38", 0x6A82);
    expect_sw(&mut c, "00 A4 02 0C 02 3F 00", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 DF 00", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 50 38", OK);
    let via_fid = read_all(&mut c);
    assert_eq!(&via_fid[..auth.len()], auth.as_slice());
    assert_eq!(via_fid.len(), auth.len() + 1100, "1100 zero bytes appended");
    assert!(via_fid[auth.len()..].iter().all(|b| *b == 0));
    // A sibling EF of the current EF, the current DF itself, and its parent.
    expect_sw(&mut c, "00 A4 02 0C 02 50 39", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 DF 00", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 40 31", 0x6A82);
    expect_sw(&mut c, "00 A4 02 0C 02 3F 00", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 DF 01", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 40 31", OK);
    // P1=08 with and without the MF (OpenSC sends it, the manual does not).
    expect_sw(&mut c, "00 A4 08 0C 06 3F 00 DF 00 50 38", OK);
    assert_eq!(read_all(&mut c), via_fid);
    expect_sw(&mut c, "00 A4 08 0C 04 DF 00 50 38", OK);
    assert_eq!(read_all(&mut c), via_fid);
    expect_sw(&mut c, "00 A4 08 0C 02 3F 00", OK);
    // P1=04 with the two DF AIDs.
    expect_sw(&mut c, "00 A4 04 0C 0C A0 00 00 01 77 50 4B 43 53 2D 31 35", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 50 32", OK);
    assert_eq!(&read_all(&mut c)[..2], &[0x30, 0x27]);
    expect_sw(&mut c, "00 A4 04 0C 0C A0 00 00 01 77 49 64 46 69 6C 65 73", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 40 35", OK);
    // Errors of §1.6.
    expect_sw(&mut c, "00 A4 02 00 02 3F 00", 0x6A86);
    expect_sw(&mut c, "00 A4 08 00 04 DF 00 50 38", 0x6A86);
    expect_sw(&mut c, "00 A4 01 0C 02 DF 00", 0x6A86);
    expect_sw(&mut c, "00 A4 02 0C 03 3F 00 00", 0x6A87);
    expect_sw(&mut c, "00 A4 08 0C 03 DF 00 50", 0x6A87);
    expect_sw(&mut c, "00 A4 08 0C 04 DF 00 50 99", 0x6A82);
    expect_sw(&mut c, "00 A4 04 0C 07 A0 00 00 00 01 02 03", 0x6A82);
}

#[test]
fn read_binary_6b00_6cxx_and_le_00() {
    let mut c = card(Profile::Belpic18);
    expect_sw(&mut c, "00 A4 08 0C 04 DF 00 50 3B", OK);
    let size = c.pki().root_der.len() + 1100;
    // Le=00 means 256.
    assert_eq!(expect_sw(&mut c, "00 B0 00 00 00", OK).len(), 256);
    let last = size - 10;
    let [hi, lo] = u16::try_from(last).unwrap().to_be_bytes();
    expect_sw(&mut c, &format!("00 B0 {hi:02X} {lo:02X} FC"), 0x6C0A);
    assert_eq!(expect_sw(&mut c, &format!("00 B0 {hi:02X} {lo:02X} 0A"), OK).len(), 10);
    let [hi, lo] = u16::try_from(size).unwrap().to_be_bytes();
    expect_sw(&mut c, &format!("00 B0 {hi:02X} {lo:02X} 10"), 0x6B00);
    // No current EF after selecting a DF.
    expect_sw(&mut c, "00 A4 02 0C 02 3F 00", OK);
    expect_sw(&mut c, "00 B0 00 00 10", 0x6986);
}

#[test]
fn get_card_data_both_forms() {
    let mut c = card(Profile::Belpic18);
    let d = expect_sw(&mut c, GET_CARD_DATA, OK);
    assert_eq!(d.len(), 28);
    assert_eq!(d[21], 0x18);
    assert_eq!(&d[22..24], &[0x00, 0x01]);
    assert_eq!(d[25], 0x00);
    let d1 = expect_sw(&mut c, "80 E4 00 01 1F", OK);
    assert_eq!(d1.len(), 31);
    assert_eq!(&d1[..28], d.as_slice());
    assert_eq!(&d1[28..], &[3, 0xFF, 0xFF]);
    expect_sw(&mut c, "80 E4 00 00 20", 0x6C1C);
    expect_sw(&mut c, "80 E4 00 01 00", 0x6C1F);
    expect_sw(&mut c, "80 E4 00 02 1C", 0x6B00);
    // The chip serial is the TokenInfo serial.
    expect_sw(&mut c, "00 A4 08 0C 04 DF 00 50 32", OK);
    let token_info = read_all(&mut c);
    assert_eq!(&token_info[7..23], &d[..16]);

    let mut c17 = card(Profile::Belpic17);
    let d = expect_sw(&mut c17, GET_CARD_DATA, OK);
    assert_eq!(d[21], 0x17);
    assert_eq!(&d[22..24], &[0x00, 0x03]);
    assert_eq!(d[25], 0x21);
    expect_sw(&mut c17, "80 E4 00 01 1F", 0x6B00);
}

#[test]
fn pin_state_machine_blocks_after_three_wrong() {
    let mut c = card(Profile::Belpic18);
    // Status queries: 5-byte Lc=0 form and 4-byte form.
    expect_sw(&mut c, "00 20 00 01 00", 0x63C3);
    expect_sw(&mut c, "00 20 00 01", 0x63C3);
    expect_sw(&mut c, VERIFY_9999, 0x63C2);
    expect_sw(&mut c, "00 20 00 01 00", 0x63C2);
    expect_sw(&mut c, "00 20 00 01", 0x63C2);
    assert_eq!(c.pin_tries_left(), 2);
    expect_sw(&mut c, VERIFY_1234, OK);
    assert_eq!(c.pin_tries_left(), 3);
    expect_sw(&mut c, "00 20 00 01 00", OK);
    expect_sw(&mut c, VERIFY_9999, 0x63C2);
    expect_sw(&mut c, "00 20 00 01 00", 0x63C2);
    expect_sw(&mut c, VERIFY_9999, 0x63C1);
    assert_eq!(expect_sw(&mut c, "80 E4 00 01 1F", OK)[28], 1);
    expect_sw(&mut c, VERIFY_9999, 0x63C0);
    expect_sw(&mut c, VERIFY_1234, 0x6983);
    expect_sw(&mut c, "00 20 00 01 00", 0x6983);
    expect_sw(&mut c, "00 20 00 01", 0x6983);
    assert_eq!(expect_sw(&mut c, "80 E4 00 01 1F", OK)[28], 0);
    // Persistent across reset.
    c.reset();
    expect_sw(&mut c, VERIFY_1234, 0x6983);
    // Malformed blocks and references.
    let mut c = card(Profile::Belpic18);
    expect_sw(&mut c, "00 20 00 01 08 34 12 34 FF FF FF FF FF", 0x6A80);
    expect_sw(&mut c, "00 20 00 01 08 24 12 3A FF FF FF FF FF", 0x6A80);
    expect_sw(&mut c, "00 20 00 02 08 24 12 34 FF FF FF FF FF", 0x6A88);
    expect_sw(&mut c, "00 20 00 01 04 24 12 34 FF", 0x6700);
    assert_eq!(c.pin_tries_left(), 3, "format errors do not cost a try");
}

#[test]
fn configured_pin_and_tries() {
    let options = CardOptions {
        pin: "987654".into(),
        max_tries: 5,
        tries_left: Some(2),
        ..CardOptions::default()
    };
    let mut c = card_with(Profile::Belpic18, &options);
    expect_sw(&mut c, "00 20 00 01 00", 0x63C2);
    let block = hex::encode(encode_format2_block("987654"));
    assert_eq!(block, "26987654ffffffff");
    expect_sw(&mut c, &format!("00 20 00 01 08 {block}"), OK);
    assert_eq!(c.pin_tries_left(), 5);
}

#[test]
fn change_pin() {
    let mut c = card(Profile::Belpic18);
    let old = hex::encode(encode_format2_block("1234"));
    let new = hex::encode(encode_format2_block("24680"));
    expect_sw(&mut c, &format!("00 24 00 01 10 {new}{old}"), 0x63C2);
    expect_sw(&mut c, &format!("00 24 00 01 10 {old}{new}"), OK);
    expect_sw(&mut c, VERIFY_1234, 0x63C2);
    expect_sw(&mut c, &format!("00 20 00 01 08 {new}"), OK);
}

#[test]
fn auth_signature_t0_and_le_forms_verify() {
    let mut c = card(Profile::Belpic18);
    let hash = hash48("challenge");
    // Trace of cards.md §1.15.
    expect_sw(&mut c, SELECT_APPLET, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    expect_sw(&mut c, "80 E4 00 01 1F", OK);
    expect_sw(&mut c, "00 A4 02 0C 02 DF 00", OK);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    let r = send(&mut c, &pso(&hash));
    assert_eq!(r, vec![0x61, 0x60]);
    // A short GET RESPONSE gets part of it and 61xx for the rest.
    let first = expect_sw(&mut c, "00 C0 00 00 20", 0x6140);
    let rest = expect_sw(&mut c, "00 C0 00 00 40", OK);
    let sig = [first, rest].concat();
    assert_eq!(sig.len(), 96);
    assert!(verify_auth(&c, &hash, &sig));
    // Deterministic (RFC 6979) and PIN once: no new VERIFY needed, Le present.
    let sig2 = expect_sw(&mut c, &format!("{} 00", pso(&hash)), OK);
    assert_eq!(sig2, sig);
    // Algo 40 "hash not specified" with a 20-byte SHA-1 and a 64-byte hash.
    expect_sw(&mut c, "00 22 41 B6 05 04 80 40 84 82", OK);
    for len in [20usize, 28, 32, 48, 64] {
        let h: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let sig = sign_t0(&mut c, &h);
        assert!(verify_auth(&c, &h, &sig), "algo 40 with {len} bytes");
    }
    expect_sw(&mut c, &pso(&[1u8; 33]), 0x6A80);
    // Algo 01 = SHA-256: 32 bytes only.
    expect_sw(&mut c, "00 22 41 B6 05 04 80 01 84 82", OK);
    expect_sw(&mut c, &pso(&hash), 0x6A80);
    let h32 = Sha256::digest(b"x").to_vec();
    let sig = sign_t0(&mut c, &h32);
    assert!(verify_auth(&c, &h32, &sig));
    // GET RESPONSE with nothing pending.
    expect_sw(&mut c, "00 C0 00 00 60", 0x6985);
}

#[test]
fn signature_preconditions() {
    let mut c = card(Profile::Belpic18);
    let hash = hash48("x");
    expect_sw(&mut c, &pso(&hash), 0x6985);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // MSE errors of §1.10.
    expect_sw(&mut c, "00 22 41 B6 06 80 01 02 84 01 82", 0x6700);
    expect_sw(&mut c, "00 22 41 B6 05 05 80 02 84 82", 0x6A80);
    expect_sw(&mut c, "00 22 41 B6 05 04 80 03 84 82", 0x6A80);
    expect_sw(&mut c, "00 22 41 B6 05 04 80 02 84 85", 0x6A88);
    expect_sw(&mut c, "00 22 41 A4 05 04 80 02 84 82", 0x6B00);
    // Wrong VERIFY resets the access conditions.
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    sign_t0(&mut c, &hash);
    expect_sw(&mut c, VERIFY_9999, 0x63C2);
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // LOG OFF, 5-byte and 4-byte forms.
    for logoff in ["80 E6 00 00 00", "80 E6 00 00"] {
        expect_sw(&mut c, VERIFY_1234, OK);
        sign_t0(&mut c, &hash);
        expect_sw(&mut c, logoff, OK);
        expect_sw(&mut c, &pso(&hash), 0x6982);
    }
    // Reset drops the SE and the PIN right.
    expect_sw(&mut c, VERIFY_1234, OK);
    c.reset();
    expect_sw(&mut c, &pso(&hash), 0x6985);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
}

#[test]
fn nonrep_pin_just_before_1_8() {
    let mut c = card(Profile::Belpic18);
    let hash = hash48("contract");
    // eid-mw order: MSE → VERIFY → PSO; the right is consumed by one PSO.
    expect_sw(&mut c, MSE_NONREP_384, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    let sig = sign_t0(&mut c, &hash);
    assert!(c.pki().sign_key.verify(&hash, &sig));
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // 1.8: one other command between VERIFY and PSO is allowed...
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    sign_t0(&mut c, &hash);
    // ...two are not.
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // VERIFY → MSE → PSO (OpenSC-like order) counts MSE as the one command.
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, MSE_NONREP_384, OK);
    sign_t0(&mut c, &hash);
    // An authentication signature in between ends the window.
    expect_sw(&mut c, MSE_AUTH_384, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    sign_t0(&mut c, &hash);
    expect_sw(&mut c, MSE_NONREP_384, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
}

#[test]
fn nonrep_pin_just_before_1_7() {
    let mut c = card(Profile::Belpic17);
    let hash = Sha256::digest(b"contract").to_vec();
    let mse = "00 22 41 B6 05 04 80 08 84 83";
    expect_sw(&mut c, mse, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    let r = send(&mut c, &pso(&hash));
    assert_eq!(r, vec![0x61, 0x00], "256 bytes pending");
    let sig = expect_sw(&mut c, "00 C0 00 00 00", OK);
    assert_eq!(sig.len(), 256);
    assert!(c.pki().sign_key.verify(&[digest_info::SHA256, &hash].concat(), &sig));
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // 1.7: VERIFY must be immediately before the PSO.
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
}

#[test]
fn pin_mixed_rule() {
    let hash = hash48("m");
    // KO: Verify, Sign83, ..., Sign82.
    let mut c = card(Profile::Belpic18);
    expect_sw(&mut c, MSE_NONREP_384, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    sign_t0(&mut c, &hash);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    expect_sw(&mut c, &pso(&hash), 0x6982);
    // OK: Verify, ..., Verify, Sign83, ..., Sign82.
    let mut c = card(Profile::Belpic18);
    expect_sw(&mut c, VERIFY_1234, OK);
    expect_sw(&mut c, MSE_NONREP_384, OK);
    expect_sw(&mut c, VERIFY_1234, OK);
    sign_t0(&mut c, &hash);
    expect_sw(&mut c, MSE_AUTH_384, OK);
    let sig = sign_t0(&mut c, &hash);
    assert!(verify_auth(&c, &hash, &sig));
}

#[test]
fn rsa_algorithms_of_1_7() {
    let mut c = card(Profile::Belpic17);
    let LeafKey::Rsa2048(key) = &c.pki().auth_key else {
        panic!("belpic17 has RSA keys");
    };
    let public = RsaPublicKey::from(key.as_ref());
    expect_sw(&mut c, VERIFY_1234, OK);
    let sha1: Vec<u8> = sha1_of(b"a");
    let sha256 = Sha256::digest(b"a").to_vec();
    let sha384 = Sha384::digest(b"a").to_vec();
    let sign = |c: &mut VirtualCard, algo: u8, input: &[u8]| {
        expect_sw(c, &format!("00 22 41 B6 05 04 80 {algo:02X} 84 82"), OK);
        sign_t0(c, input)
    };
    // 01: the host supplies DigestInfo (eid-mw for SHA-384), card pads.
    let di384 = [digest_info::SHA384, &sha384].concat();
    let sig = sign(&mut c, 0x01, &di384);
    assert!(crypto::rsa_verify_pkcs1(&public, &di384, &sig));
    // 02 / 08: the card builds the DigestInfo.
    let sig = sign(&mut c, 0x02, &sha1);
    assert!(crypto::rsa_verify_pkcs1(
        &public,
        &[digest_info::SHA1, &sha1].concat(),
        &sig
    ));
    let sig = sign(&mut c, 0x08, &sha256);
    assert!(crypto::rsa_verify_pkcs1(
        &public,
        &[digest_info::SHA256, &sha256].concat(),
        &sig
    ));
    // 10 / 20: PSS.
    let sig = sign(&mut c, 0x10, &sha1);
    assert!(crypto::rsa_verify_pss(&public, PssHash::Sha1, &sha1, &sig));
    let sig = sign(&mut c, 0x20, &sha256);
    assert!(crypto::rsa_verify_pss(&public, PssHash::Sha256, &sha256, &sig));
    // Wrong lengths and 1.8-only algorithms.
    expect_sw(&mut c, "00 22 41 B6 05 04 80 08 84 82", OK);
    expect_sw(&mut c, &pso(&sha1), 0x6A80);
    expect_sw(&mut c, "00 22 41 B6 05 04 80 40 84 82", 0x6A80);
}

fn sha1_of(data: &[u8]) -> Vec<u8> {
    use sha1::Sha1;
    Sha1::digest(data).to_vec()
}

#[test]
fn internal_authenticate_basic_key_1_8() {
    let mut c = card(Profile::Belpic18);
    let challenge = hash48("basic");
    let r = send(&mut c, &format!("00 88 02 81 32 94 30 {}", hex::encode(&challenge)));
    assert_eq!(r, vec![0x61, 0x60]);
    let sig = expect_sw(&mut c, "00 C0 00 00 60", OK);
    let basic = c.pki().basic_key.verifying_key().to_owned();
    assert!(crypto::ecdsa_verify_digest(&basic, &challenge, &sig));
    // EF 4040 is the basic key, and ID tag 1A its SHA-384 (cards.md §1.13).
    let spki = basic.to_public_key_der().unwrap();
    let file_4040 = c.file(&[0x3F00, 0xDF01, 0x4040]).unwrap().to_vec();
    assert_eq!(file_4040, spki.as_bytes());
    assert_eq!(&file_4040[..4], &[0x30, 0x76, 0x30, 0x10]);
    let id = c.file(&[0x3F00, 0xDF01, 0x4031]).unwrap().to_vec();
    let tag_1a = be_fields(&id).into_iter().find(|(t, _)| *t == 0x1A).unwrap().1.to_vec();
    assert_eq!(tag_1a, Sha384::digest(&file_4040).to_vec());
    // Length checks, key reference, no PIN needed, SE cleared.
    expect_sw(
        &mut c,
        &format!("00 88 01 81 32 94 30 {}", hex::encode(&challenge)),
        0x6A80,
    );
    expect_sw(
        &mut c,
        &format!("00 88 02 82 32 94 30 {}", hex::encode(&challenge)),
        0x6A88,
    );
    expect_sw(&mut c, MSE_AUTH_384, OK);
    send(&mut c, &format!("00 88 02 81 32 94 30 {}", hex::encode(&challenge)));
    expect_sw(&mut c, &pso(&challenge), 0x6985);
    // 1.7 has no INTERNAL AUTHENTICATE and no READ RECORD.
    let mut c17 = card(Profile::Belpic17);
    expect_sw(
        &mut c17,
        &format!("00 88 02 81 32 94 30 {}", hex::encode(&challenge)),
        0x6D00,
    );
    expect_sw(&mut c17, "80 B2 06 06 00", 0x6D00);
}

#[test]
fn identity_files_and_read_record() {
    let mut c = card(Profile::Belpic18);
    expect_sw(&mut c, "00 A4 08 0C 04 DF 01 40 31", OK);
    let id = read_all(&mut c);
    let fields = be_fields(&id);
    let get = |tag: u8| fields.iter().find(|(t, _)| *t == tag).unwrap().1;
    assert_eq!(get(0x06), b"85010112486");
    assert_eq!(get(0x07), b"Specimen");
    assert_eq!(get(0x08), b"Alice");
    assert_eq!(get(0x0C), b"01 JAN 1985");
    assert_eq!(get(0x0D), b"V");
    let chip = expect_sw(&mut c, GET_CARD_DATA, OK)[..16].to_vec();
    assert_eq!(get(0x02), chip.as_slice());
    expect_sw(&mut c, "00 A4 08 0C 04 DF 01 40 35", OK);
    let photo = read_all(&mut c);
    assert_eq!(get(0x11), Sha384::digest(&photo).to_vec());
    // READ RECORD on the current identity file (1.8 §6.8).
    expect_sw(&mut c, "00 A4 08 0C 04 DF 01 40 31", OK);
    expect_sw(&mut c, "80 B2 06 06 00", 0x6C0D);
    assert_eq!(
        expect_sw(&mut c, "80 B2 06 06 0D", OK),
        [&[0x06, 0x0B][..], b"85010112486"].concat()
    );
    let both = expect_sw(&mut c, "80 B2 07 08 11", OK);
    assert_eq!(both, [&[0x07, 0x08][..], b"Specimen", &[0x08, 0x05], b"Alice"].concat());
    expect_sw(&mut c, "80 B2 30 31 00", 0x6A83);
    // Address file: fixed 117 bytes; 4034 signs address ‖ 4032 with the RRN key.
    expect_sw(&mut c, "00 A4 08 0C 04 DF 01 40 33", OK);
    let address = read_all(&mut c);
    assert_eq!(address.len(), 117);
    expect_sw(&mut c, "00 A4 08 0C 04 DF 01 40 32", OK);
    let id_sig = read_all(&mut c);
    let rrn = c.pki().rrn_key.verifying_key().to_owned();
    let der_len = usize::from(id_sig[1]) + 2;
    let sig = p384::ecdsa::DerSignature::try_from(&id_sig[..der_len]).unwrap();
    use signature::Verifier;
    assert!(rrn.verify(&id, &sig).is_ok(), "EF 4032 signs EF 4031");
}

#[test]
fn pkcs15_files_point_at_the_certificates() {
    let mut c = card(Profile::Belpic18);
    for (fid, der) in [
        ("50 38", c.pki().auth_der.clone()),
        ("50 39", c.pki().sign_der.clone()),
        ("50 3A", c.pki().ca_der.clone()),
        ("50 3B", c.pki().root_der.clone()),
        ("50 3C", c.pki().rrn_der.clone()),
    ] {
        expect_sw(&mut c, &format!("00 A4 08 0C 06 3F 00 DF 00 {fid}"), OK);
        let file = read_all(&mut c);
        assert_eq!(&file[..der.len()], der.as_slice(), "file {fid}");
        assert_eq!(file.len(), der.len() + 1100);
    }
    expect_sw(&mut c, "00 A4 08 0C 04 3F 00 2F 00", OK);
    assert_eq!(read_all(&mut c)[..4], [0x61, 0x23, 0x4F, 0x0C]);
}

#[test]
fn detection_apdus_and_class_errors() {
    let mut c = card(Profile::Belpic18);
    for (apdu, want) in [
        ("00 A4 04 00 07 62 76 01 FF 00 00 00", 0x6A82),
        ("00 A4 04 00 06 A0 00 00 00 01 01", 0x6A82),
        ("B0 3C 01 00", 0x6E00),
        ("00 CA 9F 7F 00", 0x6D00),
        ("80 CA 9F 7F 00", 0x6D00),
        ("00 84 00 00 08", 0x6D00),
        ("00 E4 00 00 1C", 0x6E00),
        ("80 B0 00 00 10", 0x6E00),
        ("FF CA 00 00 00", 0x6E00),
        ("00 A4", 0x6700),
        ("00 B0 00 00 05 01 02", 0x6700),
    ] {
        expect_sw(&mut c, apdu, want);
    }
    // The applet stayed selected through the failed selects.
    expect_sw(&mut c, GET_CARD_DATA, OK);
    // Empty AID selects the card manager; the applet is gone until re-selected.
    expect_sw(&mut c, "00 A4 04 00 00", OK);
    expect_sw(&mut c, GET_CARD_DATA, 0x6D00);
    expect_sw(&mut c, SELECT_APPLET, OK);
    expect_sw(&mut c, GET_CARD_DATA, OK);
    // No answer is ever shorter than a status word.
    for apdu in [vec![], vec![0x00], vec![0x00, 0xA4, 0x04], vec![0u8; 300]] {
        assert!(c.process(&apdu).len() >= 2);
    }
    for ins in 0u8..=255 {
        for cla in [0x00u8, 0x80, 0x0C, 0x90] {
            let r = c.process(&[cla, ins, 0x00, 0x00, 0x00]);
            assert!(r.len() >= 2, "{cla:02X} {ins:02X}");
            let r = c.process(&[cla, ins, 0x00, 0x00]);
            assert!(r.len() >= 2, "{cla:02X} {ins:02X}");
        }
    }
}
