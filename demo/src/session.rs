//! Server-side sessions behind a random cookie: the pending challenge, who logged in, and the
//! signature being prepared. In memory, bounded, idle sessions expire.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine as _;
use eidlink_core::HashAlgorithm;
use eidlink_verifier::TokenAlgorithm;

use crate::i18n::Lang;

/// The session cookie. The `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and no
/// `Domain`, so no other site on the same host name can plant one.
pub const COOKIE: &str = "__Host-eidlink-demo";
/// A session unused for this long is forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A prepared signature must be finished within this time.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// At most this many sessions are kept; the least recently used goes first.
pub const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes from the OS, base64url without padding (43 characters): session and document ids.
pub fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Who logged in, from the verified authentication certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// "ALICE SPECIMEN": the full name as printed on the card, upper case.
    pub holder: String,
    /// The national number (serialNumber without an ETSI prefix such as `PNOEE-`).
    pub national_number: String,
    /// The subject serialNumber as written in the certificate (what the signing certificate must
    /// repeat).
    pub serial_number: String,
    /// The subject's country, if any.
    pub country: Option<String>,
    /// The token's algorithm.
    pub algorithm: TokenAlgorithm,
}

/// A document hash handed to the page for `sign`, waiting for the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignature {
    /// The signing certificate the page sent (base64 DER), checked to be the holder's.
    pub certificate_b64: String,
    /// The hash function chosen.
    pub hash_function: HashAlgorithm,
    /// The document's hash (base64).
    pub hash_b64: String,
    /// The exact document text whose UTF-8 bytes were hashed.
    pub document: String,
    /// When the document was prepared (RFC 3339, also written in the document).
    pub prepared_at: String,
    /// The language of the document.
    pub lang: Lang,
    /// For the expiry.
    pub created: Instant,
}

/// The last document signed in this session (to show it again on the contract page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSummary {
    /// Document id (download path).
    pub id: String,
    /// "Signé par … le …", in the language of the signing.
    pub signed_by_text: String,
}

/// One browser's state.
#[derive(Debug, Clone)]
pub struct Session {
    /// The challenge nonce issued to this browser and not used yet.
    pub challenge: Option<String>,
    /// Who is logged in.
    pub user: Option<User>,
    /// The signature being prepared.
    pub pending: Option<PendingSignature>,
    /// The last signed document.
    pub last_signed: Option<SignedSummary>,
    pub(crate) last_seen: Instant,
}

impl Session {
    /// An anonymous session.
    pub fn new() -> Self {
        Session {
            challenge: None,
            user: None,
            pending: None,
            last_seen: Instant::now(),
            last_signed: None,
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// The sessions, by id.
#[derive(Debug, Default)]
pub struct SessionStore {
    inner: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `session` under a new random id and returns the id.
    pub fn create(&self, session: Session) -> Result<String, getrandom::Error> {
        let id = random_id()?;
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, s| now.duration_since(s.last_seen) <= SESSION_IDLE);
        while map.len() >= MAX_SESSIONS {
            let oldest = map.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(
            id.clone(),
            Session {
                last_seen: now,
                ..session
            },
        );
        Ok(id)
    }

    /// Runs `f` on the live session `id` (and marks it used); `None` if there is none.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let mut map = self.lock();
        let now = Instant::now();
        let expired = map
            .get(id)
            .is_some_and(|s| now.duration_since(s.last_seen) > SESSION_IDLE);
        if expired {
            map.remove(id);
            return None;
        }
        let session = map.get_mut(id)?;
        session.last_seen = now;
        Some(f(session))
    }

    /// Forgets the session `id`; returns it if it was live.
    pub fn remove(&self, id: &str) -> Option<Session> {
        self.lock().remove(id)
    }

    /// The number of sessions kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id in the request's cookies, if any.
pub fn cookie_session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64)
}

/// `Set-Cookie` for a session id: a browser-session cookie, HttpOnly, Secure, SameSite=Strict.
pub fn set_cookie(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict")).ok()
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-eidlink-demo=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_found_by_cookie_and_forgotten() {
        let store = SessionStore::new();
        let id = store.create(Session::new()).ok().unwrap_or_default();
        assert_eq!(id.len(), 43);
        let mut headers = HeaderMap::new();
        let cookie = format!("other=1; {COOKIE}={id}; x=y");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(cookie_session_id(&headers).as_deref(), Some(id.as_str()));
        assert_eq!(store.with(&id, |s| s.user.is_none()), Some(true));
        assert!(store.remove(&id).is_some());
        assert_eq!(store.with(&id, |_| ()), None);
        assert!(store.is_empty());
        assert!(clear_cookie().to_str().is_ok_and(|c| c.starts_with(COOKIE)));
    }
}
