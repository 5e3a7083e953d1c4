//! The drivers against the recorded APDU transcripts of real test cards (../shared/vectors/apdu/).
//!
//! Each transcript is one flow of another middleware: read a certificate, read the PIN state, sign.
//! The driver picked by the transcript's ATR must send every command byte for byte and nothing else,
//! read the tries left from the card's answer, and return a signature that verifies against the public
//! key of the certificate read in the same transcript. Set `EIDLINK_VECTORS` to use another directory;
//! without the vectors the tests print `SKIP: ...` and pass (the project's rule for vectors).

// clippy.toml's allow-*-in-tests covers `#[test]` functions only, not the helpers of an integration
// test crate; failing loudly is what every helper here is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use der::asn1::ObjectIdentifier;
use der::Decode;
use eidlink_core::transcript::Transcript;
use eidlink_core::{
    detect, CardDriver, CertificateKind, CryptoAlgorithm, Curve, Digest, HashAlgorithm, KeyAlgorithm, KeyRole, Padding,
    Pin, PinInfo, Signature,
};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use signature::hazmat::PrehashVerifier;
use x509_cert::Certificate;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// How a card's signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// Raw `r || s` on P-256, over the prehash.
    EcdsaP256,
    /// Raw `r || s` on P-384, over the prehash.
    EcdsaP384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 DigestInfo.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt of 32 bytes.
    RsaPssSha256,
}

/// What one transcript must give.
struct Case {
    file: &'static str,
    driver: &'static str,
    role: KeyRole,
    /// Commands in the transcript (and so sent by the driver).
    apdus: usize,
    /// Tries left as the card answered (IDEMIA: tag 9B; Thales: first byte of DF21).
    pin: PinInfo,
    scheme: Scheme,
}

fn vectors_dir() -> PathBuf {
    match std::env::var_os("EIDLINK_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/apdu/")),
    }
}

/// The transcript, or `None` (after a SKIP line) when the vectors directory is absent.
fn load(file: &str) -> Option<Transcript> {
    let dir = vectors_dir();
    if !dir.is_dir() {
        eprintln!("SKIP: vectors not found at {}", dir.display());
        return None;
    }
    let path = dir.join(file);
    // The directory is there: a missing or broken file is a failure, not a skip.
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(Transcript::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The PIN of the transcript's VERIFY: the ASCII digits before the padding (FF or 00).
fn pin_from(t: &Transcript) -> Pin {
    let cmds = t.command_bytes();
    let verify = cmds
        .iter()
        .find(|c| c.len() > 5 && c[1] == 0x20)
        .expect("a VERIFY with data");
    let block = &verify[5..];
    assert_eq!(usize::from(verify[4]), block.len());
    let digits: String = block
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| char::from(*b))
        .collect();
    let pad = &block[digits.len()..];
    assert!(
        pad.iter().all(|b| *b == 0xFF) || pad.iter().all(|b| *b == 0x00),
        "PIN padding {pad:02X?}"
    );
    Pin::from(digits.as_str())
}

/// The digest the card was asked to sign: the data of PSO HASH (Thales, tag 90), or of INTERNAL
/// AUTHENTICATE / PSO CDS (IDEMIA), with an RSA DigestInfo prefix removed.
fn digest_from(t: &Transcript) -> Digest {
    let cmds = t.command_bytes();
    let data = |c: &Vec<u8>| c[5..5 + usize::from(c[4])].to_vec();
    let raw = if let Some(c) = cmds.iter().find(|c| c[1] == 0x2A && c[2] == 0x90 && c[3] == 0xA0) {
        let d = data(c);
        assert_eq!(d[0], 0x90, "PSO HASH data is tag 90");
        assert_eq!(usize::from(d[1]), d.len() - 2);
        d[2..].to_vec()
    } else {
        let c = cmds
            .iter()
            .find(|c| c.len() > 5 && (c[1] == 0x88 || (c[1] == 0x2A && c[2] == 0x9E && c[3] == 0x9A)))
            .expect("a signing command with data");
        data(c)
    };
    for alg in HashAlgorithm::ALL {
        let prefix = alg.digest_info_prefix();
        if raw.len() == prefix.len() + alg.output_len() && raw.starts_with(prefix) {
            return Digest::new(alg, raw[prefix.len()..].to_vec()).expect("digest");
        }
    }
    let alg = match raw.len() {
        32 => HashAlgorithm::Sha256,
        48 => HashAlgorithm::Sha384,
        64 => HashAlgorithm::Sha512,
        n => panic!("no hash of {n} bytes"),
    };
    Digest::new(alg, raw).expect("digest")
}

/// The key algorithm of a certificate's subject public key.
fn key_algorithm(cert: &Certificate) -> KeyAlgorithm {
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let key = rsa::PublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes()).expect("RSA key");
        return KeyAlgorithm::Rsa {
            bits: u16::try_from(key.n().bit_width()).expect("modulus size"),
        };
    }
    assert_eq!(spki.algorithm.oid, ID_EC_PUBLIC_KEY);
    let curve: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .expect("named curve")
        .decode_as()
        .expect("curve OID");
    match curve {
        SECP256R1 => KeyAlgorithm::Ec(Curve::P256),
        SECP384R1 => KeyAlgorithm::Ec(Curve::P384),
        other => panic!("unexpected curve {other}"),
    }
}

/// Whether `sig` is a valid signature of `digest` under the certificate's key with `scheme`.
fn verifies(cert: &Certificate, scheme: Scheme, digest: &[u8], sig: &[u8]) -> bool {
    let key = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    match scheme {
        Scheme::EcdsaP256 => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key).expect("P-256 key");
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
        }
        Scheme::EcdsaP384 => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key).expect("P-384 key");
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
        }
        Scheme::RsaPkcs1Sha256 => {
            let pk = rsa::PublicKey::from_pkcs1_der(key).expect("RSA key");
            pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest, sig).is_ok()
        }
        Scheme::RsaPssSha256 => {
            let pk = rsa::PublicKey::from_pkcs1_der(key).expect("RSA key");
            pk.verify(rsa::Pss::<sha2::Sha256>::new(), digest, sig).is_ok()
        }
    }
}

/// The Web eID description the driver must give the signature.
fn expected_algorithm(scheme: Scheme) -> (CryptoAlgorithm, Padding) {
    match scheme {
        Scheme::EcdsaP256 | Scheme::EcdsaP384 => (CryptoAlgorithm::Ecc, Padding::None),
        Scheme::RsaPkcs1Sha256 => (CryptoAlgorithm::Rsa, Padding::Pkcs1v15),
        Scheme::RsaPssSha256 => (CryptoAlgorithm::Rsa, Padding::Pss),
    }
}

fn driver_for(t: &Transcript, expected: &str) -> Box<dyn CardDriver> {
    let atr = t.atr.as_ref().expect("# atr: header");
    let entry = detect(atr).unwrap_or_else(|| panic!("no driver for {atr}"));
    assert_eq!(entry.name, expected, "driver picked for {atr}");
    (entry.make)()
}

fn run(case: &Case) {
    let Some(t) = load(case.file) else { return };
    assert_eq!(t.len(), case.apdus, "{}: commands in the transcript", case.file);
    let driver = driver_for(&t, case.driver);
    let kind = match case.role {
        KeyRole::Authentication => CertificateKind::Authentication,
        KeyRole::Signing => CertificateKind::Signing,
    };
    let pin = pin_from(&t);
    let digest = digest_from(&t);

    let mut ch = t.channel();
    let flow = (|| -> Result<(Vec<u8>, PinInfo, Signature), eidlink_core::CardError> {
        let cert = driver.certificate(&mut ch, kind)?;
        let info = driver.pin_info(&mut ch, case.role)?;
        let sig = driver.sign(&mut ch, case.role, &pin, &digest)?;
        Ok((cert, info, sig))
    })();
    // The script's own diff explains a mismatch better than the driver's error.
    if let Err(diff) = ch.finish() {
        panic!("{}: {diff}\n(driver said: {:?})", case.file, flow.err());
    }
    let (cert_der, info, sig) = flow.unwrap_or_else(|e| panic!("{}: {e}", case.file));
    assert_eq!(ch.sent(), case.apdus);

    assert_eq!(info, case.pin, "{}: PIN state", case.file);

    let cert = Certificate::from_der(&cert_der).unwrap_or_else(|e| panic!("{}: certificate: {e}", case.file));
    assert_eq!(
        key_algorithm(&cert),
        driver.key(case.role).algorithm,
        "{}: key",
        case.file
    );

    let (crypto, padding) = expected_algorithm(case.scheme);
    assert_eq!(sig.algorithm.crypto, crypto, "{}", case.file);
    assert_eq!(sig.algorithm.padding, padding, "{}", case.file);
    assert_eq!(sig.algorithm.hash, digest.algorithm(), "{}", case.file);
    assert!(
        driver.key(case.role).schemes.contains(&sig.algorithm),
        "{}: the driver must offer the scheme it used",
        case.file
    );

    assert!(
        verifies(&cert, case.scheme, digest.as_bytes(), &sig.bytes),
        "{}: the signature does not verify against the certificate",
        case.file
    );
    // The check can fail: a flipped signature byte and another digest must not verify.
    let mut flipped = sig.bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    assert!(
        !verifies(&cert, case.scheme, digest.as_bytes(), &flipped),
        "{}",
        case.file
    );
    let mut other = digest.as_bytes().to_vec();
    other[0] ^= 0x80;
    assert!(!verifies(&cert, case.scheme, &other, &sig.bytes), "{}", case.file);
}

#[test]
fn esteid_idemia_authenticate() {
    run(&Case {
        file: "esteid-idemia-authenticate.apdu",
        driver: eidlink_core::cards::idemia::NAME_ESTEID,
        role: KeyRole::Authentication,
        apdus: 14,
        pin: PinInfo::counted(3, 3),
        scheme: Scheme::EcdsaP384,
    });
}

#[test]
fn esteid_idemia_sign() {
    run(&Case {
        file: "esteid-idemia-sign.apdu",
        driver: eidlink_core::cards::idemia::NAME_ESTEID,
        role: KeyRole::Signing,
        apdus: 14,
        pin: PinInfo::counted(3, 3),
        scheme: Scheme::EcdsaP384,
    });
}

#[test]
fn lateid_idemia_v2_authenticate() {
    run(&Case {
        file: "lateid-idemia-v2-authenticate.apdu",
        driver: eidlink_core::cards::idemia::NAME_LATEID_V2,
        role: KeyRole::Authentication,
        apdus: 26,
        pin: PinInfo::counted(3, 3),
        scheme: Scheme::RsaPkcs1Sha256,
    });
}

#[test]
fn lateid_idemia_v2_sign() {
    run(&Case {
        file: "lateid-idemia-v2-sign.apdu",
        driver: eidlink_core::cards::idemia::NAME_LATEID_V2,
        role: KeyRole::Signing,
        apdus: 28,
        pin: PinInfo::counted(3, 3),
        scheme: Scheme::RsaPkcs1Sha256,
    });
}

#[test]
fn fineid_v3_authenticate() {
    run(&Case {
        file: "fineid-v3-authenticate.apdu",
        driver: eidlink_core::cards::thales::NAME_FINEID_V3,
        role: KeyRole::Authentication,
        apdus: 17,
        pin: PinInfo::counted(5, 5),
        scheme: Scheme::RsaPssSha256,
    });
}

#[test]
fn fineid_v3_sign() {
    run(&Case {
        file: "fineid-v3-sign.apdu",
        driver: eidlink_core::cards::thales::NAME_FINEID_V3,
        role: KeyRole::Signing,
        apdus: 16,
        pin: PinInfo::counted(5, 5),
        scheme: Scheme::EcdsaP256,
    });
}

#[test]
fn fineid_v4_authenticate() {
    run(&Case {
        file: "fineid-v4-authenticate.apdu",
        driver: eidlink_core::cards::thales::NAME_FINEID_V4,
        role: KeyRole::Authentication,
        apdus: 14,
        pin: PinInfo::counted(5, 5),
        scheme: Scheme::EcdsaP384,
    });
}

#[test]
fn fineid_v4_sign() {
    run(&Case {
        file: "fineid-v4-sign.apdu",
        driver: eidlink_core::cards::thales::NAME_FINEID_V4,
        role: KeyRole::Signing,
        apdus: 14,
        pin: PinInfo::counted(5, 5),
        scheme: Scheme::EcdsaP384,
    });
}

/// The replay itself can fail: another digest (or PIN) than the recorded one is a different command,
/// which the scripted channel reports and `finish` refuses.
#[test]
fn a_different_digest_or_pin_breaks_the_replay() {
    let Some(t) = load("esteid-idemia-sign.apdu") else {
        return;
    };
    let driver = driver_for(&t, eidlink_core::cards::idemia::NAME_ESTEID);
    let digest = digest_from(&t);
    let mut other = digest.as_bytes().to_vec();
    other[47] ^= 0x01;
    let other = Digest::new(digest.algorithm(), other).expect("digest");

    let mut ch = t.channel();
    assert!(driver.certificate(&mut ch, CertificateKind::Signing).is_ok());
    assert!(driver.pin_info(&mut ch, KeyRole::Signing).is_ok());
    assert!(driver.sign(&mut ch, KeyRole::Signing, &pin_from(&t), &other).is_err());
    assert!(ch.finish().is_err());

    let mut ch = t.channel();
    assert!(driver.certificate(&mut ch, CertificateKind::Signing).is_ok());
    assert!(driver.pin_info(&mut ch, KeyRole::Signing).is_ok());
    assert!(driver
        .sign(&mut ch, KeyRole::Signing, &Pin::from("54321"), &digest)
        .is_err());
    assert!(ch.finish().is_err());
}
