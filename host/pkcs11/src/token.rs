//! [`Pkcs11Token`]: one token of a module, with its holder certificates paired to private keys by
//! `CKA_ID`, behind the same [`Token`] the card drivers implement.

use std::sync::Arc;

use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot as P11Slot;
use cryptoki::types::RawAuthPin;
use eidlink_core::{
    CardError, CardInfo, CertificateKind, CryptoAlgorithm, Digest, HashAlgorithm, KeyAlgorithm, KeyInfo, KeyRole,
    Padding, PinEntry, PinFailure, PinInfo, PinInput, PinPolicy, Signature, SignatureAlgorithm, Slot, Token,
    TokenSession,
};

use crate::module::Module;

/// A holder's key: its certificate and how to reach the private key.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) info: KeyInfo,
    pub(crate) certificate: Vec<u8>,
    pub(crate) id: Vec<u8>,
}

/// A token of a PKCS#11 module.
pub struct Pkcs11Token {
    pub(crate) module: Arc<Module>,
    pub(crate) slot_id: P11Slot,
    pub(crate) slot: Slot,
    pub(crate) label: String,
    pub(crate) keys: Vec<Key>,
    /// CA certificates the token carries.
    pub(crate) cas: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Token")
            .field("slot", &self.slot)
            .field("label", &self.label)
            .field("keys", &self.keys.iter().map(|k| k.info.role).collect::<Vec<_>>())
            .finish()
    }
}

impl Pkcs11Token {
    /// The module the token is reached through.
    pub fn module(&self) -> &Module {
        &self.module
    }

    fn key_of(&self, role: KeyRole) -> Result<&Key, CardError> {
        self.keys
            .iter()
            .find(|k| k.info.role == role)
            .ok_or(CardError::Unsupported(match role {
                KeyRole::Authentication => "this token has no authentication certificate",
                KeyRole::Signing => "this token has no signing certificate",
            }))
    }

    /// The PIN state from the token's flags (PKCS#11 v2.40 §3.2 `CK_TOKEN_INFO`), which tell only
    /// "final try", "locked" and "count low".
    fn read_pin_info(&self) -> Result<PinInfo, CardError> {
        let ti = self
            .module
            .ctx
            .get_token_info(self.slot_id)
            .map_err(|e| self.module.map(&e))?;
        Ok(pin_info_from_flags(
            ti.user_pin_locked(),
            ti.user_pin_final_try(),
            ti.user_pin_count_low(),
        ))
    }

    /// A wrong PIN, with what the token's flags tell of the tries left.
    fn wrong_pin(&self) -> CardError {
        match self.read_pin_info() {
            Ok(p) if p.is_blocked() => CardError::Pin(PinFailure::Blocked),
            Ok(p) => CardError::Pin(PinFailure::Wrong { retries: p.tries_left }),
            Err(_) => CardError::Pin(PinFailure::Wrong { retries: None }),
        }
    }

    fn map(&self, e: &P11Error) -> CardError {
        match e {
            P11Error::Pkcs11(RvError::PinIncorrect, _) => self.wrong_pin(),
            other => self.module.map(other),
        }
    }
}

/// PIN state from the token flags: LOCKED → 0 tries, FINAL_TRY → 1, COUNT_LOW → a wrong PIN was
/// entered (no count), else nothing known. Never a made-up number.
pub(crate) fn pin_info_from_flags(locked: bool, final_try: bool, count_low: bool) -> PinInfo {
    PinInfo {
        tries_left: if locked {
            Some(0)
        } else if final_try {
            Some(1)
        } else {
            None
        },
        max_tries: None,
        low: count_low && !locked && !final_try,
    }
}

impl Token for Pkcs11Token {
    fn slot(&self) -> &Slot {
        &self.slot
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn key(&self, role: KeyRole) -> Option<KeyInfo> {
        self.keys.iter().find(|k| k.info.role == role).map(|k| k.info.clone())
    }

    fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError> {
        let session = self
            .module
            .ctx
            .open_ro_session(self.slot_id)
            .map_err(|e| self.module.map(&e))?;
        Ok(Box::new(Pkcs11Session {
            token: self,
            session,
            logged_in: false,
        }))
    }
}

struct Pkcs11Session<'a> {
    token: &'a Pkcs11Token,
    session: Session,
    /// Whether this session logged in (and so logs out when it ends).
    logged_in: bool,
}

impl Pkcs11Session<'_> {
    fn login(&mut self, user: UserType, pin: PinInput<'_>) -> Result<(), CardError> {
        let r = match pin {
            PinInput::Typed(p) => {
                let raw = RawAuthPin::new(Box::new(p.expose().as_bytes().to_vec()));
                self.session.login_with_raw(user, &raw)
            }
            // The reader's pad or the module's own window asks (CKF_PROTECTED_AUTHENTICATION_PATH).
            PinInput::External => self.session.login(user, None),
        };
        match r {
            // Another session of this process (the tray, say) is logged in already.
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                self.logged_in = true;
                Ok(())
            }
            Err(e) => Err(self.token.map(&e)),
        }
    }

    fn private_key(&self, id: &[u8]) -> Result<ObjectHandle, CardError> {
        let found = self
            .session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id.to_vec())])
            .map_err(|e| self.token.map(&e))?;
        match found.as_slice() {
            [key] => Ok(*key),
            [] => Err(self
                .token
                .module
                .error(format!("shows no private key with the certificate's id {}", hex(id)))),
            _ => Err(self.token.module.error(format!(
                "shows {} private keys with the certificate's id {}",
                found.len(),
                hex(id)
            ))),
        }
    }

    fn always_authenticate(&self, key: ObjectHandle) -> bool {
        matches!(
            self.session
                .get_attributes(key, &[AttributeType::AlwaysAuthenticate])
                .as_deref(),
            Ok([Attribute::AlwaysAuthenticate(true)])
        )
    }
}

impl Drop for Pkcs11Session<'_> {
    fn drop(&mut self) {
        // The login belongs to the application, not the session: end it, so the next request asks
        // for the PIN again. Not logged in (the Croatian module says so) is fine.
        if !self.logged_in {
            return;
        }
        match self.session.logout() {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserNotLoggedIn, _)) => {}
            Err(e) => tracing::debug!("{}: C_Logout: {e}", self.token.module.name()),
        }
    }
}

impl TokenSession for Pkcs11Session<'_> {
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        let t = self.token;
        match kind {
            CertificateKind::Authentication => Ok(t.key_of(KeyRole::Authentication)?.certificate.clone()),
            CertificateKind::Signing => Ok(t.key_of(KeyRole::Signing)?.certificate.clone()),
            CertificateKind::IntermediateCa | CertificateKind::Root => {
                let root = matches!(kind, CertificateKind::Root);
                t.cas
                    .iter()
                    .find(|c| crate::scan::is_self_signed(c) == root)
                    .cloned()
                    .ok_or(CardError::Unsupported("this token carries no such CA certificate"))
            }
        }
    }

    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError> {
        self.token.key_of(role)?;
        self.token.read_pin_info()
    }

    fn card_info(&mut self) -> Result<CardInfo, CardError> {
        let t = self.token;
        let ti = t.module.ctx.get_token_info(t.slot_id).map_err(|e| t.module.map(&e))?;
        let info = t.module.info();
        let mut extra = vec![
            ("module", t.module.name().to_owned()),
            (
                "module library",
                format!("{} {} ({})", info.description, info.version, info.manufacturer),
            ),
            ("token manufacturer", ti.manufacturer_id().trim().to_owned()),
            ("token model", ti.model().trim().to_owned()),
        ];
        if ti.protected_authentication_path() {
            extra.push(("PIN entry", "on the reader or in the module's own window".to_owned()));
        }
        Ok(CardInfo {
            serial: Some(ti.serial_number().trim().to_owned()).filter(|s| !s.is_empty()),
            version: Some(ti.firmware_version().to_string()),
            extra,
        })
    }

    fn sign(&mut self, role: KeyRole, pin: PinInput<'_>, digest: &Digest) -> Result<Signature, CardError> {
        let key = self.token.key_of(role)?.clone();
        key.info.check(pin, digest)?;
        let algorithm = *key
            .info
            .schemes
            .iter()
            .find(|a| a.hash == digest.algorithm())
            .ok_or(CardError::Unsupported("this hash function with this key"))?;
        let (mechanism, data) = mechanism_for(&algorithm, digest)?;
        self.login(UserType::User, pin)?;
        let handle = self.private_key(&key.id)?;
        let raw = if self.always_authenticate(handle) {
            // CKA_ALWAYS_AUTHENTICATE: C_SignInit, a context-specific C_Login, then C_Sign
            // (PKCS#11 v2.40 §4.9, §5.2).
            let functions = self.token.module.functions().ok_or_else(|| {
                self.token
                    .module
                    .error("needs a login for each signature, and its function list could not be read")
            })?;
            self.session
                .sign_init(&mechanism, handle)
                .map_err(|e| self.token.map(&e))?;
            self.login(UserType::ContextSpecific, pin)?;
            functions.sign(self.session.handle(), &data).map_err(|rv| {
                match cryptoki::error::Rv::from(rv).into_result(cryptoki::context::Function::Sign) {
                    Err(e) => self.token.map(&e),
                    Ok(()) => self.token.module.error("C_Sign failed without saying why"),
                }
            })?
        } else {
            self.session
                .sign(&mechanism, handle, &data)
                .map_err(|e| self.token.map(&e))?
        };
        let bytes = normalize(&self.token.module, key.info.algorithm, raw)?;
        Ok(Signature { bytes, algorithm })
    }
}

/// The mechanism and the bytes it signs: `CKM_ECDSA` over our hash, `CKM_RSA_PKCS` over the
/// DigestInfo we build (RFC 8017 §9.2), `CKM_RSA_PKCS_PSS` over the hash with MGF1 of the same
/// hash and a salt of its length (PKCS#11 v2.40 curr. mech. §2.1.6, §2.1.14).
fn mechanism_for(a: &SignatureAlgorithm, digest: &Digest) -> Result<(Mechanism<'static>, Vec<u8>), CardError> {
    Ok(match (a.crypto, a.padding) {
        (CryptoAlgorithm::Ecc, _) => (Mechanism::Ecdsa, digest.as_bytes().to_vec()),
        (CryptoAlgorithm::Rsa, Padding::Pkcs1v15 | Padding::None) => (Mechanism::RsaPkcs, digest.digest_info()),
        (CryptoAlgorithm::Rsa, Padding::Pss) => {
            let (hash_alg, mgf) = pss_hash(a.hash).ok_or(CardError::Unsupported("RSA-PSS with this hash function"))?;
            let params = PkcsPssParams {
                hash_alg,
                mgf,
                // CK_ULONG is 32 bits on Windows: the salt length always fits.
                s_len: cryptoki::types::Ulong::try_from(digest.algorithm().output_len())
                    .map_err(|_| CardError::Unsupported("RSA-PSS with this hash function"))?,
            };
            (Mechanism::RsaPkcsPss(params), digest.as_bytes().to_vec())
        }
    })
}

pub(crate) fn pss_hash(h: HashAlgorithm) -> Option<(MechanismType, PkcsMgfType)> {
    Some(match h {
        HashAlgorithm::Sha224 => (MechanismType::SHA224, PkcsMgfType::MGF1_SHA224),
        HashAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        _ => return None,
    })
}

/// ECDSA as raw `r || s` (a module answering DER is normalized); any signature of the wrong size
/// is the module's error, not something to hand to a site.
fn normalize(module: &Module, alg: KeyAlgorithm, sig: Vec<u8>) -> Result<Vec<u8>, CardError> {
    let want = alg.signature_len();
    match alg {
        KeyAlgorithm::Ec(_) if sig.len() == want => Ok(sig),
        KeyAlgorithm::Ec(curve) => eidlink_cert::ecdsa_raw_from_der(curve, &sig).ok_or_else(|| {
            module.error(format!(
                "answered an ECDSA signature of {} bytes that is neither r || s nor DER",
                sig.len()
            ))
        }),
        KeyAlgorithm::Rsa { .. } if sig.len() == want => Ok(sig),
        KeyAlgorithm::Rsa { .. } => Err(module.error(format!(
            "answered an RSA signature of {} bytes for a {want}-byte modulus",
            sig.len()
        ))),
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The PIN rules a token gives (`ulMinPinLen`, `ulMaxPinLen`), kept within what our dialog takes;
/// modules that report 0 or nonsense get 4..=64.
pub(crate) fn pin_policy(min: usize, max: usize) -> PinPolicy {
    // The PIN dialog's limit (eidlink-pin-protocol's MAX_PIN_LEN).
    let cap = 64;
    let min = min.clamp(1, cap);
    let max = if max < min || max > cap { cap } else { max };
    PinPolicy::any(min as u8, max as u8)
}

/// How the PIN reaches the token.
pub(crate) fn entry(protected_path: bool) -> PinEntry {
    if protected_path {
        PinEntry::Token
    } else {
        PinEntry::Dialog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_give_what_they_tell_and_no_more() {
        assert_eq!(pin_info_from_flags(false, false, false), PinInfo::default());
        let low = pin_info_from_flags(false, false, true);
        assert!(low.low && low.tries_left.is_none() && low.max_tries.is_none());
        assert!(pin_info_from_flags(false, true, true).is_last_try());
        assert!(pin_info_from_flags(true, true, true).is_blocked());
        assert_eq!(
            low.describe(),
            "not told by the token (a wrong PIN was entered since the last right one)"
        );
        assert_eq!(pin_info_from_flags(false, true, false).describe(), "last try");
    }

    #[test]
    fn pin_rules_are_kept_sane() {
        assert_eq!((pin_policy(4, 8).min_len, pin_policy(4, 8).max_len), (4, 8));
        assert_eq!((pin_policy(0, 0).min_len, pin_policy(0, 0).max_len), (1, 64));
        assert_eq!(pin_policy(6, 255).max_len, 64);
        assert_eq!(pin_policy(usize::MAX, 3).min_len, 64);
    }
}
