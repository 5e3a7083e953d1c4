//! What the service keeps in memory: the verifier and nonces, the sessions (each with its own
//! verified login and signature, for `GET /api/last`), the challenge rate limiter, and the signed
//! documents. Nothing about a person is kept outside that person's session and documents.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use eidlink_verifier::{NonceStore, OcspChecker, SignatureAlgorithm, TokenVerifier};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::i18n::Lang;
use crate::session::{ChallengeLimiter, SessionStore};

/// Signed documents kept (the oldest are dropped first).
pub const MAX_DOCUMENTS: usize = 1_000;

/// A verified signature of the contract: everything the download holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedDocument {
    /// Random id (download path).
    pub id: String,
    /// "ALICE SPECIMEN".
    pub holder: String,
    /// The holder's national number.
    pub national_number: String,
    /// The signer's certificate serialNumber (whose documents these are).
    #[serde(skip)]
    pub serial_number: String,
    /// The exact signed text.
    pub document: String,
    /// Its language.
    pub lang: &'static str,
    /// The hash function.
    pub hash_function: String,
    /// The hash of the document's UTF-8 bytes (base64).
    pub hash: String,
    /// The signature (base64).
    pub signature: String,
    /// How it was made.
    pub signature_algorithm: SignatureAlgorithm,
    /// The signing certificate (base64 DER).
    pub signing_certificate: String,
    /// When the document was prepared (RFC 3339; also inside `document`).
    pub prepared_at: String,
    /// When the server verified the signature (RFC 3339).
    pub signed_at: String,
    /// "Signé par ALICE SPECIMEN le …".
    #[serde(skip)]
    pub signed_by_text: String,
}

/// A verified login or signature, as `GET /api/last` shows it to the session's own person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedEvent {
    /// "login" or "signature".
    pub kind: &'static str,
    /// "ALICE SPECIMEN".
    pub holder: String,
    /// National number.
    pub national_number: String,
    /// Token algorithm ("ES384") for a login; "ECC/NONE" style for a signature.
    pub algorithm: String,
    /// The signature's hash function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_function: Option<String>,
    /// The signed document's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// When (RFC 3339, UTC).
    pub time: String,
}

/// Everything the handlers share.
pub struct AppState {
    /// Checks tokens and signing certificates for the site's origin.
    pub verifier: TokenVerifier,
    /// Challenge nonces.
    pub nonces: NonceStore,
    /// Browser sessions.
    pub sessions: SessionStore,
    /// Challenges asked without a login, per client address.
    pub challenges: ChallengeLimiter,
    /// The page ES module served at `/eidlink.js`.
    pub page_module: PathBuf,
    documents: Mutex<Documents>,
    /// With `--ocsp`: checks login and signing certificates for revocation (set once, before serving).
    ocsp: OnceLock<Arc<OcspChecker>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("verifier", &self.verifier)
            .field("page_module", &self.page_module)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Documents {
    by_id: HashMap<String, SignedDocument>,
    order: VecDeque<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// A fresh state.
    pub fn new(verifier: TokenVerifier, page_module: PathBuf) -> Self {
        AppState {
            verifier,
            nonces: NonceStore::new(),
            sessions: SessionStore::new(),
            challenges: ChallengeLimiter::default(),
            page_module,
            documents: Mutex::new(Documents::default()),
            ocsp: OnceLock::new(),
        }
    }

    /// Turns revocation checking on for logins and signatures; `false` if it already was.
    pub fn set_ocsp(&self, checker: OcspChecker) -> bool {
        self.ocsp.set(Arc::new(checker)).is_ok()
    }

    /// The revocation checker, when `--ocsp` is on.
    pub fn ocsp(&self) -> Option<Arc<OcspChecker>> {
        self.ocsp.get().cloned()
    }

    /// Keeps a signed document.
    pub fn store_document(&self, doc: SignedDocument) {
        let mut docs = lock(&self.documents);
        while docs.order.len() >= MAX_DOCUMENTS {
            if let Some(old) = docs.order.pop_front() {
                docs.by_id.remove(&old);
            }
        }
        docs.order.push_back(doc.id.clone());
        docs.by_id.insert(doc.id.clone(), doc);
    }

    /// The document `id` if it was signed by the person with this certificate serialNumber.
    pub fn document_for(&self, id: &str, serial_number: &str) -> Option<SignedDocument> {
        lock(&self.documents)
            .by_id
            .get(id)
            .filter(|d| d.serial_number == serial_number)
            .cloned()
    }
}

/// RFC 3339 in UTC, whole seconds: "2026-03-03T14:05:07Z".
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// "Signé par ALICE SPECIMEN le 3 mars 2026 à 14:05:07 UTC" / "Signed by … on 3 March 2026 at …".
pub fn signed_by_text(lang: Lang, holder: &str, t: OffsetDateTime) -> String {
    let texts = lang.texts();
    let (by, on, at, utc) = texts.signed_by;
    let month = texts.months[usize::from(u8::from(t.month())) - 1];
    format!(
        "{by}{holder}{on}{day} {month} {year}{at}{h:02}:{m:02}:{s:02}{utc}",
        day = t.day(),
        year = t.year(),
        h = t.hour(),
        m = t.minute(),
        s = t.second(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_for_people_and_machines() {
        let t = OffsetDateTime::from_unix_timestamp(1_772_546_707).unwrap();
        assert_eq!(rfc3339(t), "2026-03-03T14:05:07Z");
        assert_eq!(
            signed_by_text(Lang::Fr, "ALICE SPECIMEN", t),
            "Signé par ALICE SPECIMEN le 3 mars 2026 à 14:05:07 UTC"
        );
        assert_eq!(
            signed_by_text(Lang::En, "ALICE SPECIMEN", t),
            "Signed by ALICE SPECIMEN on 3 March 2026 at 14:05:07 UTC"
        );
    }
}
