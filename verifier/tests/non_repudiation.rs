//! `check_non_repudiation`: only a certificate whose keyUsage has nonRepudiation may commit its holder
//! to a document; the authentication certificate (digitalSignature only) may not.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use eidlink_verifier::{check_non_repudiation, VerifyError};

/// keyUsage (2.5.29.15) BIT STRINGs: digitalSignature + nonRepudiation, and keyEncipherment.
const KU_BOTH: &[u8] = &[0x03, 0x02, 0x06, 0xC0];
const KU_KEY_ENCIPHERMENT: &[u8] = &[0x03, 0x02, 0x05, 0x20];

#[test]
fn signing_certificates_have_it_authentication_and_ca_certificates_do_not() {
    for pki in [pki_p384(), pki_rsa()] {
        assert_eq!(check_non_repudiation(&pki.sign_der), Ok(()));
        // Valid, trusted and the holder's, and verify_signing_certificate takes it: still not for signing.
        assert!(verifier(pki).verify_signing_certificate_at(&pki.auth_der, at()).is_ok());
        assert_eq!(check_non_repudiation(&pki.auth_der), Err(VerifyError::KeyUsage));
        assert_eq!(check_non_repudiation(&pki.ca_der), Err(VerifyError::KeyUsage));
        assert_eq!(check_non_repudiation(&pki.root_der), Err(VerifyError::KeyUsage));
    }
}

#[test]
fn only_the_bit_counts() {
    let pki = pki_p384();
    let both = reissue(&pki.auth_der, &pki.ca_key, |tbs| {
        set_extension(tbs, "2.5.29.15", true, KU_BOTH);
    });
    assert_eq!(check_non_repudiation(&both), Ok(()));
    let other_bit = reissue(&pki.sign_der, &pki.ca_key, |tbs| {
        set_extension(tbs, "2.5.29.15", true, KU_KEY_ENCIPHERMENT);
    });
    assert_eq!(check_non_repudiation(&other_bit), Err(VerifyError::KeyUsage));
    // No keyUsage at all is no commitment either.
    let none = reissue(&pki.sign_der, &pki.ca_key, |tbs| {
        let ku = der::oid::ObjectIdentifier::new("2.5.29.15").unwrap();
        tbs.extensions.as_mut().unwrap().retain(|e| e.extn_id != ku);
    });
    assert_eq!(check_non_repudiation(&none), Err(VerifyError::KeyUsage));
    assert!(matches!(
        check_non_repudiation(b"not a certificate"),
        Err(VerifyError::Certificate(_))
    ));
}
