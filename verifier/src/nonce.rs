//! Challenge nonces (protocol.md §4, last paragraph): 32 random bytes in standard base64 (44
//! characters), each usable once, for 5 minutes. The store is in memory, bounded, and shareable
//! between request handlers (`Arc<NonceStore>` in an axum state).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use getrandom::rand_core::{Rng, UnwrapErr};
use getrandom::SysRng;

use crate::error::NonceError;

/// How long a nonce stays valid.
pub const NONCE_TTL: Duration = Duration::from_secs(5 * 60);
/// Default bound on outstanding nonces.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Issued, not yet used nonces.
#[derive(Debug)]
pub struct NonceStore {
    inner: Mutex<Inner>,
    ttl: Duration,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// Nonce → expiry.
    live: HashMap<String, SystemTime>,
    /// (expiry, nonce) in issue order, so expired entries are purged from the front; entries whose
    /// nonce was consumed meanwhile are stale and skipped.
    order: VecDeque<(SystemTime, String)>,
}

impl Default for NonceStore {
    fn default() -> Self {
        Self::new()
    }
}

impl NonceStore {
    /// A store with the protocol's 5-minute lifetime and [`DEFAULT_CAPACITY`].
    pub fn new() -> Self {
        Self::with_limits(NONCE_TTL, DEFAULT_CAPACITY)
    }

    /// A store with another lifetime and bound (at least 1).
    pub fn with_limits(ttl: Duration, capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps consistent (every update is a
        // single insert/remove), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a fresh nonce now.
    pub fn issue(&self) -> String {
        self.issue_at(SystemTime::now())
    }

    /// Issues a fresh nonce at `now`: 32 bytes from the OS generator, standard base64 (44 chars).
    /// Expired nonces are purged first; if the store is still full, the oldest nonce is dropped, so
    /// memory stays bounded even under a flood of unused challenges.
    pub fn issue_at(&self, now: SystemTime) -> String {
        let mut bytes = [0u8; 32];
        // As before with rand_core 0.6's OsRng: an OS without randomness is not one to issue nonces on.
        UnwrapErr(SysRng).fill_bytes(&mut bytes);
        let nonce = eidlink_webeid::base64_encode(&bytes);
        let expiry = now + self.ttl;
        let mut inner = self.lock();
        inner.purge(now, self.capacity);
        inner.live.insert(nonce.clone(), expiry);
        inner.order.push_back((expiry, nonce.clone()));
        nonce
    }

    /// Uses a nonce: succeeds once, within its lifetime; the nonce is gone afterwards either way.
    pub fn consume(&self, nonce: &str, now: SystemTime) -> Result<(), NonceError> {
        let mut inner = self.lock();
        let expiry = inner.live.remove(nonce).ok_or(NonceError::Unknown)?;
        if now > expiry {
            return Err(NonceError::Expired);
        }
        Ok(())
    }

    /// Outstanding (issued, unused, maybe expired but not yet purged) nonces.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether no nonce is outstanding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    /// Drops expired nonces, then the oldest ones while the store is full, and compacts the order
    /// queue when stale entries (consumed nonces) dominate it.
    fn purge(&mut self, now: SystemTime, capacity: usize) {
        while let Some((expiry, _)) = self.order.front() {
            let expired = *expiry < now;
            if !expired && self.live.len() < capacity {
                break;
            }
            if let Some((expiry, nonce)) = self.order.pop_front() {
                if self.live.get(&nonce) == Some(&expiry) {
                    self.live.remove(&nonce);
                }
            }
        }
        if self.order.len() > 2 * capacity {
            let live = &self.live;
            self.order.retain(|(e, n)| live.get(n) == Some(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_and_expiry() {
        let store = NonceStore::new();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let n = store.issue_at(t0);
        assert_eq!(n.len(), 44);
        assert!(eidlink_webeid::Nonce::new(n.as_str()).is_ok());
        assert_eq!(eidlink_webeid::base64_decode(&n).map(|b| b.len()), Ok(32));
        assert_eq!(store.consume(&n, t0 + Duration::from_secs(10)), Ok(()));
        assert_eq!(
            store.consume(&n, t0 + Duration::from_secs(11)),
            Err(NonceError::Unknown)
        );

        let n = store.issue_at(t0);
        assert_eq!(store.consume(&n, t0 + NONCE_TTL), Ok(()), "valid up to the 5th minute");
        let n = store.issue_at(t0);
        assert_eq!(
            store.consume(&n, t0 + NONCE_TTL + Duration::from_secs(1)),
            Err(NonceError::Expired)
        );
        assert_eq!(
            store.consume(&n, t0),
            Err(NonceError::Unknown),
            "gone after an expired try"
        );
        assert_eq!(store.consume("never issued", t0), Err(NonceError::Unknown));
        assert_ne!(store.issue_at(t0), store.issue_at(t0));
    }

    #[test]
    fn memory_is_bounded() {
        let store = NonceStore::with_limits(NONCE_TTL, 10);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let first = store.issue_at(t0);
        for _ in 0..100 {
            store.issue_at(t0);
        }
        assert_eq!(store.len(), 10);
        assert_eq!(
            store.consume(&first, t0),
            Err(NonceError::Unknown),
            "the oldest was dropped"
        );
        // Expired ones are purged on the next insert.
        store.issue_at(t0 + NONCE_TTL + Duration::from_secs(1));
        assert_eq!(store.len(), 1);
        // Consumed nonces do not let the order queue grow without bound.
        for _ in 0..1000 {
            let n = store.issue_at(t0 + NONCE_TTL + Duration::from_secs(2));
            assert_eq!(store.consume(&n, t0 + NONCE_TTL + Duration::from_secs(2)), Ok(()));
        }
        assert!(store.lock().order.len() <= 21);
    }
}
