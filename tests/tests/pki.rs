//! Tests of the deterministic test PKI (cards.md §8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use der::{Decode, Encode, Tag, Tagged};
use eidlink_tests::{CardOptions, Country, LeafKeyType, Pki, PkiSpec, Profile};
use p384::ecdsa::{DerSignature, VerifyingKey};
use signature::Verifier;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::Certificate;

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).expect("valid certificate DER")
}

fn extension<T: for<'a> Decode<'a> + der::oid::AssociatedOid>(c: &Certificate) -> Option<(bool, T)> {
    let ext = c.tbs_certificate().extensions()?.iter().find(|e| e.extn_id == T::OID)?;
    Some((ext.critical, T::from_der(ext.extn_value.as_bytes()).unwrap()))
}

/// Checks `child` was signed by `issuer_key` (ecdsa-with-SHA384).
fn signed_by(child: &Certificate, issuer_key: &VerifyingKey) -> bool {
    let tbs = child.tbs_certificate().to_der().unwrap();
    let Some(sig_bytes) = child.signature().as_bytes() else {
        return false;
    };
    let sig = DerSignature::try_from(sig_bytes).unwrap();
    issuer_key.verify(&tbs, &sig).is_ok()
}

#[test]
fn same_seed_same_der_other_seed_other_der() {
    for profile in [Profile::Belpic18, Profile::EstEid] {
        let spec = profile.pki_spec(&CardOptions::default()).unwrap();
        let a = Pki::generate(&spec).unwrap();
        let b = Pki::generate(&spec).unwrap();
        assert_eq!(a.root_der, b.root_der);
        assert_eq!(a.ca_der, b.ca_der);
        assert_eq!(a.auth_der, b.auth_der);
        assert_eq!(a.sign_der, b.sign_der);
        assert_eq!(a.rrn_der, b.rrn_der);
        let other = PkiSpec {
            seed: b"another seed".to_vec(),
            ..spec
        };
        let c = Pki::generate(&other).unwrap();
        assert_ne!(a.auth_der, c.auth_der);
        assert_ne!(a.root_der, c.root_der);
    }
}

#[test]
fn rsa_pki_is_deterministic_too() {
    let spec = Profile::Belpic17.pki_spec(&CardOptions::default()).unwrap();
    assert_eq!(spec.leaf_keys, LeafKeyType::Rsa2048);
    let a = common::pki(Profile::Belpic17);
    let b = Pki::generate(&spec).unwrap();
    assert_eq!(a.auth_der, b.auth_der);
    assert_eq!(a.sign_der, b.sign_der);
    let auth = cert(&a.auth_der);
    let spki = auth.tbs_certificate().subject_public_key_info();
    assert_eq!(spki.algorithm.oid.to_string(), "1.2.840.113549.1.1.1");
    assert_eq!(spki.to_der().unwrap(), a.auth_key.public_key_der().unwrap());
}

#[test]
fn chain_subjects_and_extensions() {
    let pki = common::pki(Profile::Belpic18);
    let root = cert(&pki.root_der);
    let ca = cert(&pki.ca_der);
    let auth = cert(&pki.auth_der);
    let sign = cert(&pki.sign_der);
    let root_key = pki.root_key.verifying_key();
    let ca_key = pki.ca_key.verifying_key();
    assert!(signed_by(&root, root_key));
    assert!(signed_by(&ca, root_key));
    assert!(signed_by(&auth, ca_key));
    assert!(signed_by(&sign, ca_key));
    assert!(signed_by(&cert(&pki.rrn_der), root_key));
    assert!(!signed_by(&auth, root_key));

    let subject = auth.tbs_certificate().subject();
    assert_eq!(attr(subject, "2.5.4.6"), ("BE".to_string(), Tag::PrintableString));
    assert_eq!(attr(subject, "2.5.4.3").0, "Alice Specimen (Authentication)");
    assert_eq!(attr(subject, "2.5.4.4").0, "Specimen");
    assert_eq!(attr(subject, "2.5.4.42").0, "Alice");
    assert_eq!(
        attr(subject, "2.5.4.5"),
        ("85010112486".to_string(), Tag::PrintableString)
    );
    assert!(sign
        .tbs_certificate()
        .subject()
        .to_string()
        .contains("Alice Specimen (Signature)"));
    assert_eq!(auth.tbs_certificate().issuer(), ca.tbs_certificate().subject());
    assert_eq!(ca.tbs_certificate().issuer(), root.tbs_certificate().subject());
    assert_eq!(
        auth.tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
            .as_secs(),
        1_704_067_200
    );
    assert_eq!(
        auth.tbs_certificate().validity().not_after.to_unix_duration().as_secs(),
        2_019_686_400
    );

    let (crit, bc) = extension::<BasicConstraints>(&ca).unwrap();
    assert!(crit && bc.ca);
    let (_, bc) = extension::<BasicConstraints>(&root).unwrap();
    assert!(bc.ca);
    let (crit, ku) = extension::<KeyUsage>(&ca).unwrap();
    assert!(crit && ku.key_cert_sign() && ku.crl_sign());
    let (crit, ku) = extension::<KeyUsage>(&auth).unwrap();
    assert!(crit);
    assert!(ku.digital_signature() && !ku.non_repudiation() && !ku.key_cert_sign());
    let (_, eku) = extension::<ExtendedKeyUsage>(&auth).unwrap();
    assert_eq!(
        eku.0.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        ["1.3.6.1.5.5.7.3.2"]
    );
    let (_, ku) = extension::<KeyUsage>(&sign).unwrap();
    assert!(ku.non_repudiation() && !ku.digital_signature());
    assert!(extension::<ExtendedKeyUsage>(&sign).is_none());
    for c in [&ca, &auth, &sign] {
        assert!(extension::<x509_cert::ext::pkix::AuthorityKeyIdentifier>(c).is_some());
        assert!(extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(c).is_some());
    }
    // The card's public keys are the certificates' keys.
    assert_eq!(
        auth.tbs_certificate().subject_public_key_info().to_der().unwrap(),
        pki.auth_key.public_key_der().unwrap()
    );
}

/// Value and string type of the first attribute `oid` in a name.
fn attr(name: &x509_cert::name::Name, oid: &str) -> (String, Tag) {
    let atv = name
        .iter()
        .find(|atv| atv.oid.to_string() == oid)
        .unwrap_or_else(|| panic!("no {oid} in {name}"));
    let value = std::str::from_utf8(atv.value.value()).unwrap().to_string();
    (value, atv.value.tag())
}

#[test]
fn estonian_naming() {
    let pki = common::pki(Profile::EstEid);
    assert_eq!(pki.spec.country, Country::Estonia);
    let subject = cert(&pki.auth_der).tbs_certificate().subject().clone();
    assert_eq!(attr(&subject, "2.5.4.6").0, "EE");
    assert_eq!(attr(&subject, "2.5.4.3").0, "SPECIMEN,ALICE,48501010003");
    assert_eq!(attr(&subject, "2.5.4.42").0, "ALICE");
    assert_eq!(attr(&subject, "2.5.4.5").0, "PNOEE-48501010003");
}

#[test]
fn holder_and_national_number_options() {
    let options = CardOptions {
        holder: "Van Damme, Jean-Claude".into(),
        national_number: Some("60101812345".into()),
        ..CardOptions::default()
    };
    let spec = Profile::Belpic18.pki_spec(&options).unwrap();
    assert_eq!(spec.holder.surname, "Van Damme");
    assert_eq!(spec.holder.given_name, "Jean-Claude");
    let pki = Pki::generate(&spec).unwrap();
    let subject = cert(&pki.auth_der).tbs_certificate().subject().clone();
    assert_eq!(attr(&subject, "2.5.4.3").0, "Jean-Claude Van Damme (Authentication)");
    assert_eq!(attr(&subject, "2.5.4.5").0, "60101812345");
    let bad = CardOptions {
        holder: "Cher".into(),
        ..CardOptions::default()
    };
    assert!(Profile::Belpic18.pki_spec(&bad).is_err());
}

#[test]
fn export_writes_pem_and_der() {
    let pki = common::pki(Profile::Belpic18);
    let dir = std::env::temp_dir().join(format!("eidlink-vcard-export-{}", std::process::id()));
    let written = pki.export(&dir).unwrap();
    assert_eq!(written.len(), 10);
    assert_eq!(std::fs::read(dir.join("auth.der")).unwrap(), pki.auth_der);
    let pem = std::fs::read_to_string(dir.join("root.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "CERTIFICATE");
    assert_eq!(der, pki.root_der);
    std::fs::remove_dir_all(&dir).unwrap();
}
