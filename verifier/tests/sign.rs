//! `verify_signature`: results of Web eID `sign` made with the test PKI's signing keys.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use eidlink_core::HashAlgorithm;
use eidlink_tests::LeafKey;
use eidlink_verifier::{verify_sign_result, verify_signature, SignatureAlgorithm, VerifyError};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use signature::hazmat::PrehashSigner;

fn alg(crypto: &str, hash: &str, padding: &str) -> SignatureAlgorithm {
    SignatureAlgorithm {
        crypto_algorithm: crypto.into(),
        hash_function: hash.into(),
        padding_scheme: padding.into(),
    }
}

/// The document hash a site would send.
fn doc_hash(h: HashAlgorithm) -> Vec<u8> {
    eidlink_core::hash::hash(h, b"the document")
}

fn rsa_key(pki: &eidlink_tests::Pki) -> &rsa::PrivateKey {
    match &pki.sign_key {
        LeafKey::Rsa2048(k) => k,
        LeafKey::P384(_) => panic!("not RSA"),
    }
}

fn pss_sign(key: &rsa::PrivateKey, h: HashAlgorithm, hash: &[u8], salt: usize) -> Vec<u8> {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    // Pss is generic over the digest in rsa 0.10: one call per hash.
    match h {
        HashAlgorithm::Sha256 => key.sign_with_rng(&mut rng, rsa::Pss::<sha2::Sha256>::new_with_salt(salt), hash),
        HashAlgorithm::Sha384 => key.sign_with_rng(&mut rng, rsa::Pss::<sha2::Sha384>::new_with_salt(salt), hash),
        HashAlgorithm::Sha3_256 => key.sign_with_rng(&mut rng, rsa::Pss::<sha3::Sha3_256>::new_with_salt(salt), hash),
        other => panic!("{other:?}"),
    }
    .unwrap()
}

#[test]
fn ecdsa_signatures_over_every_hash() {
    let pki = pki_p384();
    let LeafKey::P384(key) = &pki.sign_key else { panic!() };
    for h in HashAlgorithm::ALL {
        let hash = doc_hash(h);
        let sig = card_sign(&pki.sign_key, eidlink_verifier::TokenAlgorithm::Es384, &hash);
        let a = alg("ECC", h.name(), "NONE");
        verify_signature(&pki.sign_der, h.name(), &hash, &sig, &a).unwrap_or_else(|e| panic!("{}: {e}", h.name()));
        let mut bad = sig.clone();
        bad[0] ^= 0x80;
        assert_eq!(
            verify_signature(&pki.sign_der, h.name(), &hash, &bad, &a),
            Err(VerifyError::BadSignature)
        );
        let mut other = hash.clone();
        other[0] ^= 1;
        assert_eq!(
            verify_signature(&pki.sign_der, h.name(), &other, &sig, &a),
            Err(VerifyError::BadSignature)
        );
    }
    // The p384 crate's own prehash signature agrees with the card's.
    let hash = doc_hash(HashAlgorithm::Sha384);
    let sig: p384::ecdsa::Signature = key.sign_prehash(&hash).unwrap();
    verify_signature(
        &pki.sign_der,
        "SHA-384",
        &hash,
        &sig.to_bytes(),
        &alg("ECC", "SHA-384", "NONE"),
    )
    .unwrap();
    // DER is not the wire form.
    assert_eq!(
        verify_signature(
            &pki.sign_der,
            "SHA-384",
            &hash,
            sig.to_der().as_bytes(),
            &alg("ECC", "SHA-384", "NONE")
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn rsa_pkcs1_signatures_including_sha3() {
    let pki = pki_rsa();
    let key = rsa_key(pki);
    for h in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha512,
        HashAlgorithm::Sha3_256,
        HashAlgorithm::Sha3_384,
    ] {
        let hash = doc_hash(h);
        let mut di = h.digest_info_prefix().to_vec();
        di.extend_from_slice(&hash);
        let sig = eidlink_tests::crypto::rsa_sign_pkcs1(key, &di).unwrap();
        let a = alg("RSA", h.name(), "PKCS1.5");
        verify_signature(&pki.sign_der, h.name(), &hash, &sig, &a).unwrap_or_else(|e| panic!("{}: {e}", h.name()));
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert_eq!(
            verify_signature(&pki.sign_der, h.name(), &hash, &bad, &a),
            Err(VerifyError::BadSignature)
        );
        // The same signature is not PSS.
        assert_eq!(
            verify_signature(&pki.sign_der, h.name(), &hash, &sig, &alg("RSA", h.name(), "PSS")),
            Err(VerifyError::BadSignature)
        );
    }
}

#[test]
fn rsa_pss_signatures() {
    let pki = pki_rsa();
    let key = rsa_key(pki);
    for h in [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha3_256] {
        let hash = doc_hash(h);
        let sig = pss_sign(key, h, &hash, h.output_len());
        let a = alg("RSA", h.name(), "PSS");
        verify_signature(&pki.sign_der, h.name(), &hash, &sig, &a).unwrap_or_else(|e| panic!("{}: {e}", h.name()));
        let mut bad = sig.clone();
        bad[5] ^= 1;
        assert_eq!(
            verify_signature(&pki.sign_der, h.name(), &hash, &bad, &a),
            Err(VerifyError::BadSignature)
        );
    }
    // protocol.md §2.2: the salt is the hash's length; another salt does not verify.
    let hash = doc_hash(HashAlgorithm::Sha256);
    let sig = pss_sign(key, HashAlgorithm::Sha256, &hash, 20);
    assert_eq!(
        verify_signature(&pki.sign_der, "SHA-256", &hash, &sig, &alg("RSA", "SHA-256", "PSS")),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn inputs_are_checked_before_the_signature() {
    let pki = pki_p384();
    let hash = doc_hash(HashAlgorithm::Sha256);
    let sig = card_sign(&pki.sign_key, eidlink_verifier::TokenAlgorithm::Es384, &hash);
    let ecc = alg("ECC", "SHA-256", "NONE");
    assert_eq!(
        verify_signature(&pki.sign_der, "SHA-1", &hash, &sig, &alg("ECC", "SHA-1", "NONE")),
        Err(VerifyError::UnknownHashFunction("SHA-1".into()))
    );
    assert_eq!(
        verify_signature(&pki.sign_der, "SHA-384", &hash, &sig, &ecc),
        Err(VerifyError::HashFunctionMismatch {
            requested: "SHA-384".into(),
            signed: "SHA-256".into()
        })
    );
    assert_eq!(
        verify_signature(&pki.sign_der, "SHA-256", &hash[..31], &sig, &ecc),
        Err(VerifyError::HashLength {
            function: "SHA-256",
            expected: 32,
            actual: 31
        })
    );
    assert!(matches!(
        verify_signature(&pki.sign_der, "SHA-256", &hash, &sig, &alg("RSA", "SHA-256", "PKCS1.5")),
        Err(VerifyError::AlgorithmKeyMismatch { .. })
    ));
    assert_eq!(
        verify_signature(&pki.sign_der, "SHA-256", &hash, &sig, &alg("ECC", "SHA-256", "PSS")),
        Err(VerifyError::UnknownSignatureAlgorithm("ECC/PSS".into()))
    );
    assert!(matches!(
        verify_signature(b"junk", "SHA-256", &hash, &sig, &ecc),
        Err(VerifyError::Certificate(_))
    ));
    let rsa = pki_rsa();
    assert!(matches!(
        verify_signature(&rsa.sign_der, "SHA-256", &hash, &sig, &ecc),
        Err(VerifyError::AlgorithmKeyMismatch { .. })
    ));
}

#[test]
fn the_certificate_must_allow_signing() {
    let pki = pki_p384();
    let hash = doc_hash(HashAlgorithm::Sha256);
    let ecc = alg("ECC", "SHA-256", "NONE");
    // The authentication certificate (digitalSignature) is accepted, as Web eID does.
    let sig = card_sign(&pki.auth_key, eidlink_verifier::TokenAlgorithm::Es384, &hash);
    verify_signature(&pki.auth_der, "SHA-256", &hash, &sig, &ecc).unwrap();
    // keyUsage = keyEncipherment only: BIT STRING 05 A0 (bit 2).
    let ku = reissue(&pki.sign_der, &pki.ca_key, |tbs| {
        set_extension(tbs, "2.5.29.15", true, &[0x03, 0x02, 0x05, 0x20])
    });
    let sig = card_sign(&pki.sign_key, eidlink_verifier::TokenAlgorithm::Es384, &hash);
    assert_eq!(
        verify_signature(&ku, "SHA-256", &hash, &sig, &ecc),
        Err(VerifyError::KeyUsage)
    );
}

#[test]
fn the_json_reply_of_sign() {
    let pki = pki_p384();
    let hash = doc_hash(HashAlgorithm::Sha384);
    let sig = card_sign(&pki.sign_key, eidlink_verifier::TokenAlgorithm::Es384, &hash);
    let reply = serde_json::json!({
        "signature": b64(&sig),
        "signatureAlgorithm": {"cryptoAlgorithm": "ECC", "hashFunction": "SHA-384", "paddingScheme": "NONE"},
    })
    .to_string();
    verify_sign_result(&b64(&pki.sign_der), "SHA-384", &b64(&hash), &reply).unwrap();
    let mut other = hash.clone();
    other[1] ^= 1;
    assert_eq!(
        verify_sign_result(&b64(&pki.sign_der), "SHA-384", &b64(&other), &reply),
        Err(VerifyError::BadSignature)
    );
    assert!(matches!(
        verify_sign_result(&b64(&pki.sign_der), "SHA-384", "not base64!", &reply),
        Err(VerifyError::Base64 { field: "hash", .. })
    ));
    assert!(matches!(
        verify_sign_result(&b64(&pki.sign_der), "SHA-384", &b64(&hash), "{}"),
        Err(VerifyError::Json(_))
    ));
}
