//! Server-side sessions behind a random cookie: the pending challenge, who logged in, and the
//! signature being prepared. In memory, bounded, idle sessions expire.
//!
//! Anybody can open an anonymous session (one challenge without a cookie), so anonymous and
//! logged-in sessions are kept and bounded apart: a flood of challenges only ever pushes out other
//! anonymous sessions, never a person who logged in with a card. Challenges from clients that are not
//! logged in are also rate-limited per address ([`ChallengeLimiter`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine as _;
use eidlink_core::HashAlgorithm;
use eidlink_verifier::TokenAlgorithm;

use crate::i18n::Lang;
use crate::state::VerifiedEvent;

/// The session cookie. The `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and no
/// `Domain`, so no other site on the same host name can plant one.
pub const COOKIE: &str = "__Host-eidlink-demo";
/// A session unused for this long is forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A prepared signature must be finished within this time.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// At most this many logged-in sessions are kept; the least recently used goes first.
pub const MAX_SESSIONS: usize = 10_000;
/// At most this many anonymous sessions (a challenge, nobody logged in yet) are kept, apart from the
/// logged-in ones; the least recently used goes first.
pub const MAX_ANONYMOUS_SESSIONS: usize = 10_000;
/// An anonymous session unused for this long is forgotten: its challenge nonce expired long before.
pub const ANONYMOUS_IDLE: Duration = Duration::from_secs(10 * 60);
/// Challenges a client address that is not logged in may ask for in a row...
pub const CHALLENGE_BURST: u32 = 30;
/// ...and then one per this interval (a person retrying a login never comes near it).
pub const CHALLENGE_INTERVAL: Duration = Duration::from_secs(2);
/// Client addresses the challenge limiter follows at most.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

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
    /// The verified login of this session (what `GET /api/last` shows its owner).
    pub verified_login: Option<VerifiedEvent>,
    /// The last verified signature of this session.
    pub verified_signature: Option<VerifiedEvent>,
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
            verified_login: None,
            verified_signature: None,
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
    inner: Mutex<Pools>,
}

/// Anonymous and logged-in sessions, each bounded on its own.
#[derive(Debug, Default)]
struct Pools {
    anonymous: HashMap<String, Session>,
    logged_in: HashMap<String, Session>,
}

impl Pools {
    fn pool(&mut self, logged_in: bool) -> &mut HashMap<String, Session> {
        if logged_in {
            &mut self.logged_in
        } else {
            &mut self.anonymous
        }
    }

    /// Stores `session` in the pool of its kind, making room there if it is full.
    fn insert(&mut self, id: String, session: Session, now: Instant) {
        let logged_in = session.user.is_some();
        let cap = if logged_in {
            MAX_SESSIONS
        } else {
            MAX_ANONYMOUS_SESSIONS
        };
        let pool = self.pool(logged_in);
        make_room(pool, cap, now);
        pool.insert(id, session);
    }
}

/// How long `session` may stay unused.
fn idle_limit(session: &Session) -> Duration {
    if session.user.is_some() {
        SESSION_IDLE
    } else {
        ANONYMOUS_IDLE
    }
}

/// Makes room for one more session in `pool` (at most `cap`): expired sessions go; if it is still
/// full, the least recently used hundredth goes, so the sort is paid once per hundred insertions
/// of a full pool and not at each.
fn make_room(pool: &mut HashMap<String, Session>, cap: usize, now: Instant) {
    if pool.len() < cap {
        return;
    }
    pool.retain(|_, s| now.duration_since(s.last_seen) <= idle_limit(s));
    if pool.len() < cap {
        return;
    }
    let excess = pool.len() + 1 - cap + cap / 100;
    let mut by_age: Vec<(Instant, String)> = pool.iter().map(|(k, s)| (s.last_seen, k.clone())).collect();
    by_age.select_nth_unstable_by_key(excess - 1, |(seen, _)| *seen);
    for (_, id) in by_age.into_iter().take(excess) {
        pool.remove(&id);
    }
}

impl SessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Pools> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `session` under a new random id and returns the id. A full pool drops its least
    /// recently used sessions, from the pool of the new session's kind only.
    pub fn create(&self, session: Session) -> Result<String, getrandom::Error> {
        let id = random_id()?;
        let now = Instant::now();
        self.lock().insert(
            id.clone(),
            Session {
                last_seen: now,
                ..session
            },
            now,
        );
        Ok(id)
    }

    /// Runs `f` on the live session `id` (and marks it used); `None` if there is none. A session
    /// whose person `f` sets or clears moves to the pool of its new kind.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let mut pools = self.lock();
        let now = Instant::now();
        let logged_in = if pools.logged_in.contains_key(id) {
            true
        } else if pools.anonymous.contains_key(id) {
            false
        } else {
            return None;
        };
        let pool = pools.pool(logged_in);
        let session = pool.get_mut(id)?;
        if now.duration_since(session.last_seen) > idle_limit(session) {
            pool.remove(id);
            return None;
        }
        session.last_seen = now;
        let result = f(session);
        if session.user.is_some() != logged_in {
            if let Some(moved) = pool.remove(id) {
                pools.insert(id.to_owned(), moved, now);
            }
        }
        Some(result)
    }

    /// Forgets the session `id`; returns it if it was live.
    pub fn remove(&self, id: &str) -> Option<Session> {
        let mut pools = self.lock();
        pools.logged_in.remove(id).or_else(|| pools.anonymous.remove(id))
    }

    /// The number of sessions kept.
    pub fn len(&self) -> usize {
        let pools = self.lock();
        pools.logged_in.len() + pools.anonymous.len()
    }

    /// The number of anonymous sessions kept.
    pub fn anonymous_len(&self) -> usize {
        self.lock().anonymous.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A token bucket per client address for challenges asked without a login: [`CHALLENGE_BURST`] in
/// a row, then one per [`CHALLENGE_INTERVAL`]. Each bucket is kept as the time it will be full again
/// (the "theoretical arrival time" of GCRA), so a full bucket is simply an absent entry.
#[derive(Debug)]
pub struct ChallengeLimiter {
    full_at: Mutex<HashMap<IpAddr, Instant>>,
    burst: u32,
    interval: Duration,
}

impl Default for ChallengeLimiter {
    fn default() -> Self {
        Self::new(CHALLENGE_BURST, CHALLENGE_INTERVAL)
    }
}

/// The key of a client: its IPv4 address, or the /64 of an IPv6 one (a host usually holds a whole
/// /64, and could otherwise take a fresh address for each request).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

impl ChallengeLimiter {
    /// `burst` challenges in a row (at least 1), then one per `interval`.
    pub fn new(burst: u32, interval: Duration) -> Self {
        ChallengeLimiter {
            full_at: Mutex::new(HashMap::new()),
            burst: burst.max(1),
            interval,
        }
    }

    /// Takes one challenge from `client`'s bucket at `now`; `Err(wait)` when it is empty, `wait`
    /// being how long until the next one.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = client_key(client);
        let mut map = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let window = self.interval.saturating_mul(self.burst);
        let full_at = map.get(&key).copied().filter(|t| *t > now).unwrap_or(now);
        let next = full_at + self.interval;
        let ahead = next.duration_since(now);
        if ahead > window {
            return Err(ahead - window);
        }
        if !map.contains_key(&key) && map.len() >= MAX_TRACKED_CLIENTS {
            // Full buckets are the same as no entry: dropping them loses nothing.
            map.retain(|_, t| *t > now);
            if map.len() >= MAX_TRACKED_CLIENTS {
                // Many addresses at once: the one nearest to full goes (the sessions are bounded
                // apart anyway; this only decides who is slowed down).
                if let Some(k) = map.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k) {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, next);
        Ok(())
    }

    /// The number of client addresses followed.
    pub fn tracked(&self) -> usize {
        self.full_at.lock().unwrap_or_else(PoisonError::into_inner).len()
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

    fn alice() -> User {
        User {
            holder: "ALICE SPECIMEN".into(),
            national_number: "85010112486".into(),
            serial_number: "85010112486".into(),
            country: Some("BE".into()),
            algorithm: TokenAlgorithm::Es384,
        }
    }

    #[test]
    fn anonymous_sessions_never_push_out_logged_in_ones() {
        let store = SessionStore::new();
        let logged_in = Session {
            user: Some(alice()),
            ..Session::new()
        };
        let alice_id = store.create(logged_in).ok().unwrap_or_default();
        // More anonymous sessions (one per challenge without a cookie) than the store holds.
        for _ in 0..MAX_SESSIONS + 10 {
            assert!(store.create(Session::new()).is_ok());
        }
        assert_eq!(
            store.with(&alice_id, |s| s.user.clone()).flatten(),
            Some(alice()),
            "the logged-in session was evicted by anonymous ones"
        );
        assert!(store.len() <= MAX_SESSIONS + 1, "{}", store.len());
        assert!(
            store.anonymous_len() <= MAX_ANONYMOUS_SESSIONS,
            "{}",
            store.anonymous_len()
        );
        // The most recent anonymous sessions are the ones kept.
        let recent = store.create(Session::new()).ok().unwrap_or_default();
        assert_eq!(store.with(&recent, |s| s.user.is_none()), Some(true));
    }

    #[test]
    fn a_session_that_logs_in_in_place_moves_to_the_logged_in_pool() {
        let store = SessionStore::new();
        let id = store.create(Session::new()).ok().unwrap_or_default();
        assert_eq!(store.anonymous_len(), 1);
        store.with(&id, |s| s.user = Some(alice()));
        assert_eq!(store.anonymous_len(), 0);
        for _ in 0..MAX_ANONYMOUS_SESSIONS + 10 {
            assert!(store.create(Session::new()).is_ok());
        }
        assert_eq!(store.with(&id, |s| s.user.clone()).flatten(), Some(alice()));
        assert!(store.remove(&id).is_some());
    }

    #[test]
    fn challenges_are_a_token_bucket_per_address() {
        let limiter = ChallengeLimiter::new(3, Duration::from_secs(2));
        let t0 = Instant::now();
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(one, t0), Ok(()));
        }
        assert_eq!(limiter.check(one, t0), Err(Duration::from_secs(2)));
        // Another address has its own bucket.
        assert_eq!(limiter.check(other, t0), Ok(()));
        // One more after the interval, not two.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(limiter.check(one, t1), Ok(()));
        assert_eq!(limiter.check(one, t1), Err(Duration::from_secs(2)));
        // A bucket left alone fills up again, to the burst and no more.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check(one, t2), Ok(()));
        }
        assert!(limiter.check(one, t2).is_err());
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let limiter = ChallengeLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limiter.check(a, t0), Ok(()));
        assert!(limiter.check(b, t0).is_err(), "same /64");
        assert_eq!(limiter.check(c, t0), Ok(()));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(limiter.check(mapped, t0), Ok(()));
        assert!(limiter.check(v4, t0).is_err(), "an IPv4-mapped address is the IPv4 one");
        assert_eq!(limiter.tracked(), 3);
    }
}
