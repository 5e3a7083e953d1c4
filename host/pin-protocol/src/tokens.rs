//! What a dialog shows of a token's key and certificate (feature `tokens`): the one translation
//! from the token layer's types, shared by the native-messaging host and the PKCS#11 module.

use eidlink_core::{KeyInfo, PinCharset};

use crate::{CertificateInfo, Charset, PinRules};

/// The PIN field the dialog shows for `key`.
pub fn pin_rules(key: &KeyInfo, tries_left: Option<u8>, max_tries: Option<u8>) -> PinRules {
    PinRules {
        label: key.pin_label.to_owned(),
        min: key.pin.min_len,
        max: key.pin.max_len,
        tries_left,
        max_tries,
        charset: match key.pin.charset {
            PinCharset::Digits => Charset::Digits,
            PinCharset::Any => Charset::Any,
        },
    }
}

/// What the dialog shows of a certificate.
pub fn certificate_info(summary: &eidlink_cert::CertSummary) -> CertificateInfo {
    CertificateInfo {
        subject: summary.subject_cn.clone(),
        issuer: summary.issuer_cn.clone(),
        not_before: summary.valid_from.clone(),
        not_after: summary.valid_to.clone(),
    }
}
