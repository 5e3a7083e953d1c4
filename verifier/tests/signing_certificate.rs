//! `TokenVerifier::verify_signing_certificate`: the signing certificate a site is about to use.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use eidlink_verifier::{TokenVerifier, VerifyError};

#[test]
fn the_signing_certificate_chains_and_names_the_holder() {
    let pki = pki_p384();
    let s = verifier(pki)
        .verify_signing_certificate_at(&pki.sign_der, at())
        .unwrap();
    assert_eq!(s.common_name.as_deref(), Some("Alice Specimen (Signature)"));
    assert_eq!(s.national_number.as_deref(), Some("85010112486"));
    // Through an intermediate when only the root is trusted.
    let v = TokenVerifier::builder(ORIGIN)
        .trusted_cas(&pki.root_der)
        .intermediates(&pki.ca_der)
        .build()
        .unwrap();
    assert!(v.verify_signing_certificate_at(&pki.sign_der, at()).is_ok());
}

#[test]
fn other_pki_expired_or_wrong_purpose_are_refused() {
    let pki = pki_p384();
    let v = verifier(pki);
    assert_eq!(
        v.verify_signing_certificate_at(&pki_other().sign_der, at()),
        Err(VerifyError::UntrustedIssuer)
    );
    assert_eq!(
        v.verify_signing_certificate_at(&pki.sign_der, time("2035-01-01T00:00:00Z")),
        Err(VerifyError::Expired)
    );
    // The CA certificate has neither nonRepudiation nor digitalSignature.
    assert_eq!(
        v.verify_signing_certificate_at(&pki.ca_der, at()),
        Err(VerifyError::KeyUsage)
    );
    assert!(matches!(
        v.verify_signing_certificate_at(b"not a certificate", at()),
        Err(VerifyError::Certificate(_))
    ));
}
