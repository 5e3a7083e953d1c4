//! One look at a module: its slots with a token, each token's holder certificates (paired with
//! private keys by `CKA_ID`), the key roles from the certificates and the signature schemes from
//! the key and the module's mechanisms.

use std::sync::Arc;

use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass};
use cryptoki::slot::Slot as P11Slot;
use eidlink_core::{
    CardError, CryptoAlgorithm, Found, HashAlgorithm, KeyAlgorithm, KeyInfo, KeyRole, Padding, SignatureAlgorithm, Slot,
};

use crate::module::Module;
use crate::token::{entry, pin_policy, pss_hash, Key, Pkcs11Token};

/// What a slot of a module holds.
#[derive(Debug)]
pub struct SlotReport {
    /// The slot id.
    pub id: u64,
    /// `slotDescription` (often the reader's name).
    pub description: String,
    /// The token's label, if a token is present.
    pub token: Option<String>,
    /// What the token offers, or why it cannot be used.
    pub keys: Result<Vec<(KeyRole, String)>, CardError>,
}

/// Looks at every slot with an initialized token (`C_GetSlotList(CK_TRUE)`; SoftHSM, for one, always
/// offers a blank token to initialize, which can hold no holder's keys).
pub(crate) fn scan(module: &Arc<Module>) -> Result<Vec<Found>, CardError> {
    let slots = module.ctx.get_slots_with_token().map_err(|e| module.map(&e))?;
    Ok(slots.into_iter().filter_map(|s| look(module, s)).collect())
}

fn look(module: &Arc<Module>, slot: P11Slot) -> Option<Found> {
    let description = module
        .ctx
        .get_slot_info(slot)
        .map(|i| i.slot_description().trim().to_owned())
        .unwrap_or_default();
    let where_ = Slot::Pkcs11 {
        module: module.name().to_owned(),
        slot_id: slot.id(),
        description: if description.is_empty() {
            format!("slot {}", slot.id())
        } else {
            description
        },
    };
    let ti = match module.ctx.get_token_info(slot) {
        Ok(ti) if !ti.token_initialized() => return None,
        Ok(ti) => ti,
        Err(e) => {
            return Some(Found::Error {
                slot: where_.name().to_owned(),
                error: module.map(&e),
            })
        }
    };
    Some(match token(module, slot, &ti, where_.clone()) {
        Ok(t) => Found::Token(Box::new(t)),
        Err(error) => Found::Error {
            slot: where_.name().to_owned(),
            error,
        },
    })
}

fn token(
    module: &Arc<Module>,
    slot: P11Slot,
    ti: &cryptoki::slot::TokenInfo,
    where_: Slot,
) -> Result<Pkcs11Token, CardError> {
    let mechanisms = module.ctx.get_mechanism_list(slot).map_err(|e| module.map(&e))?;
    let signs = |m: MechanismType| {
        mechanisms.contains(&m)
            && module
                .ctx
                .get_mechanism_info(slot, m)
                // A module that cannot describe a mechanism it lists is taken at its word.
                .map_or(true, |i| i.sign())
    };
    let ecdsa = signs(MechanismType::ECDSA);
    let pkcs1 = signs(MechanismType::RSA_PKCS);
    let pss = signs(MechanismType::RSA_PKCS_PSS);
    let session = module.ctx.open_ro_session(slot).map_err(|e| module.map(&e))?;
    let handles = session
        .find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
        ])
        .map_err(|e| module.map(&e))?;
    let mut keys: Vec<Key> = Vec::new();
    let mut cas = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(h, &[AttributeType::Value, AttributeType::Id])
            .map_err(|e| module.map(&e))?;
        let (mut value, mut id) = (None, None);
        for a in attrs {
            match a {
                Attribute::Value(v) => value = Some(v),
                Attribute::Id(i) => id = Some(i),
                _ => {}
            }
        }
        let Some(der) = value else { continue };
        let Ok(usage) = eidlink_cert::usage(&der) else {
            tracing::warn!("{}: a certificate that does not parse is left out", module.name());
            continue;
        };
        if usage.ca {
            cas.push(der);
            continue;
        }
        let role = if usage.non_repudiation {
            KeyRole::Signing
        } else {
            KeyRole::Authentication
        };
        // One key per role: the first certificate of a role is the token's (libelectronic-id takes
        // the same view of multi-certificate tokens).
        if keys.iter().any(|k| k.info.role == role) {
            continue;
        }
        let Some(id) = id.filter(|i| !i.is_empty()) else {
            tracing::warn!(
                "{}: a certificate without CKA_ID cannot be paired with its key",
                module.name()
            );
            continue;
        };
        let Ok(public) = eidlink_cert::public_key(&der) else {
            tracing::warn!(
                "{}: a certificate with a key eidlink does not use is left out",
                module.name()
            );
            continue;
        };
        let algorithm = public.algorithm();
        let schemes = schemes(algorithm, ecdsa, pkcs1, pss);
        if schemes.is_empty() {
            tracing::warn!("{}: no signature mechanism for a {algorithm:?} key", module.name());
            continue;
        }
        keys.push(Key {
            info: KeyInfo {
                role,
                algorithm,
                schemes,
                pin: pin_policy(ti.min_pin_length(), ti.max_pin_length()),
                pin_label: "PIN",
                entry: entry(ti.protected_authentication_path()),
            },
            certificate: der,
            id,
        });
    }
    drop(session);
    if keys.is_empty() {
        return Err(CardError::Unsupported(
            "the token shows no holder certificate (some modules show them only after the PIN)",
        ));
    }
    keys.sort_by_key(|k| k.info.role == KeyRole::Signing);
    Ok(Pkcs11Token {
        module: Arc::clone(module),
        slot_id: slot,
        slot: where_,
        label: ti.label().trim().to_owned(),
        keys,
        cas,
    })
}

/// The schemes a key offers through the module: ECDSA with any of our hashes (the module signs the
/// hash we give), RSA PKCS#1 v1.5 with any hash whose DigestInfo we build, RSA-PSS with the SHA-2
/// hashes (MGF1 needs one the standard names).
fn schemes(alg: KeyAlgorithm, ecdsa: bool, pkcs1: bool, pss: bool) -> Vec<SignatureAlgorithm> {
    match alg {
        KeyAlgorithm::Ec(_) if ecdsa => SignatureAlgorithm::ecdsa(&HashAlgorithm::ALL),
        KeyAlgorithm::Ec(_) => Vec::new(),
        KeyAlgorithm::Rsa { .. } => {
            let mut out = if pkcs1 {
                SignatureAlgorithm::rsa_pkcs1(&HashAlgorithm::ALL)
            } else {
                Vec::new()
            };
            if pss {
                out.extend(
                    HashAlgorithm::ALL
                        .into_iter()
                        .filter(|h| pss_hash(*h).is_some())
                        .map(|hash| SignatureAlgorithm {
                            crypto: CryptoAlgorithm::Rsa,
                            hash,
                            padding: Padding::Pss,
                        }),
                );
            }
            out
        }
    }
}

/// Whether a CA certificate is its own issuer (a root).
pub(crate) fn is_self_signed(der: &[u8]) -> bool {
    eidlink_cert::summarize(der).is_ok_and(|s| s.subject_cn == s.issuer_cn)
}

/// What `diagnose` shows of each slot.
pub(crate) fn report(module: &Arc<Module>) -> Result<Vec<SlotReport>, CardError> {
    let slots = module.ctx.get_all_slots().map_err(|e| module.map(&e))?;
    Ok(slots
        .into_iter()
        .map(|slot| {
            let description = module
                .ctx
                .get_slot_info(slot)
                .map(|i| i.slot_description().trim().to_owned())
                .unwrap_or_default();
            let ti = module.ctx.get_token_info(slot).ok();
            let label = ti.as_ref().map(|t| {
                let label = t.label().trim().to_owned();
                if t.token_initialized() {
                    label
                } else {
                    format!("{label} (not initialized)")
                }
            });
            let keys = match &ti {
                None => Ok(Vec::new()),
                Some(ti) => token(
                    module,
                    slot,
                    ti,
                    Slot::Pkcs11 {
                        module: module.name().to_owned(),
                        slot_id: slot.id(),
                        description: description.clone(),
                    },
                )
                .map(|t| {
                    t.keys
                        .iter()
                        .map(|k| {
                            let holder = eidlink_cert::summarize(&k.certificate)
                                .map(|s| format!("{} ({})", s.holder, s.key))
                                .unwrap_or_default();
                            (k.info.role, holder)
                        })
                        .collect()
                }),
            };
            SlotReport {
                id: slot.id(),
                description,
                token: label,
                keys,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_core::Curve;

    #[test]
    fn schemes_follow_the_mechanisms() {
        let ec = KeyAlgorithm::Ec(Curve::P256);
        let rsa = KeyAlgorithm::Rsa { bits: 2048 };
        assert!(schemes(ec, false, true, true).is_empty());
        assert_eq!(schemes(ec, true, false, false).len(), HashAlgorithm::ALL.len());
        let both = schemes(rsa, false, true, true);
        assert_eq!(both.iter().filter(|a| a.padding == Padding::Pkcs1v15).count(), 8);
        assert_eq!(both.iter().filter(|a| a.padding == Padding::Pss).count(), 4);
        assert!(schemes(rsa, true, false, false).is_empty());
    }
}
