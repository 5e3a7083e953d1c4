//! The virtual card in-process, as a token provider: host flows, CLI work and tray reads run
//! against it without pcscd, for the fast test tier. The APDUs still go through our real drivers
//! (the core's `detect` and `CardToken`); only the reader and its card live in memory.
//!
//! Insertion and removal are what a reader does: a removed card fails the commands of a session
//! that was open on it with `CardRemoved`, and a card inserted again is powered on afresh (reset:
//! its PIN-verified state is gone, its tries are kept). Watchers hear of every change, as pcscd's
//! monitor would tell.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use eidlink_core::{
    detect, Atr, CardChannel, CardError, CardToken, CardTransport, Found, ProviderWatch, Slot, TokenProvider,
    TransportError,
};

use crate::card::VirtualCard;

/// Readers in memory, each with or without a virtual card; cheap to clone (shared state).
#[derive(Clone)]
pub struct InProcessReaders {
    shared: Arc<Shared>,
}

struct Shared {
    readers: Mutex<Vec<Reader>>,
    watchers: Mutex<Vec<(u64, Watcher)>>,
    next_id: AtomicU64,
    /// Every command sent to any card, for tests that count APDUs.
    apdus: AtomicUsize,
}

/// Told of every insertion and removal.
type Watcher = Arc<dyn Fn() + Send + Sync>;

struct Reader {
    name: String,
    card: Option<Inserted>,
}

struct Inserted {
    card: VirtualCard,
    /// Changes at each insertion: a transport opened on an earlier insertion sees a removed card.
    generation: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock leaves the readers as they were: go on.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcessReaders {
    /// Readers with these names, all empty.
    pub fn new(names: &[&str]) -> Self {
        Self {
            shared: Arc::new(Shared {
                readers: Mutex::new(
                    names
                        .iter()
                        .map(|n| Reader {
                            name: (*n).to_owned(),
                            card: None,
                        })
                        .collect(),
                ),
                watchers: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
                apdus: AtomicUsize::new(0),
            }),
        }
    }

    /// Puts `card` in reader `index` (powered on: reset), replacing any card there.
    ///
    /// # Panics
    /// When there is no reader `index` (a mistake in the test).
    pub fn insert(&self, index: usize, mut card: VirtualCard) {
        card.reset();
        let generation = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.readers)[index].card = Some(Inserted { card, generation });
        self.changed();
    }

    /// Takes the card out of reader `index`, giving it back.
    ///
    /// # Panics
    /// When there is no reader `index`.
    pub fn remove(&self, index: usize) -> Option<VirtualCard> {
        let card = lock(&self.shared.readers)[index].card.take().map(|i| i.card);
        self.changed();
        card
    }

    /// Runs `f` on the card in reader `index` (to read its tries, or to change it).
    pub fn with_card<T>(&self, index: usize, f: impl FnOnce(&mut VirtualCard) -> T) -> Option<T> {
        lock(&self.shared.readers)
            .get_mut(index)
            .and_then(|r| r.card.as_mut())
            .map(|i| f(&mut i.card))
    }

    /// How many commands the cards were sent.
    pub fn apdu_count(&self) -> usize {
        self.shared.apdus.load(Ordering::Relaxed)
    }

    /// How many watches are running (a host waiting for a card has one).
    pub fn watchers(&self) -> usize {
        lock(&self.shared.watchers).len()
    }

    /// The provider that finds the cards of these readers.
    pub fn provider(&self) -> Box<dyn TokenProvider> {
        Box::new(self.clone())
    }

    fn changed(&self) {
        let watchers: Vec<_> = lock(&self.shared.watchers).iter().map(|(_, w)| w.clone()).collect();
        for w in watchers {
            w();
        }
    }
}

impl TokenProvider for InProcessReaders {
    fn name(&self) -> &str {
        "in-process virtual card"
    }

    fn scan(&self) -> Result<Vec<Found>, CardError> {
        let readers = lock(&self.shared.readers);
        Ok(readers
            .iter()
            .enumerate()
            .map(|(index, r)| match &r.card {
                None => Found::Empty { slot: r.name.clone() },
                Some(i) => {
                    let atr = Atr(i.card.atr());
                    match detect(&atr) {
                        Some(entry) => Found::Token(Box::new(CardToken::new(
                            Transport {
                                shared: self.shared.clone(),
                                index,
                                generation: i.generation,
                                reader: r.name.clone(),
                                atr,
                            },
                            (entry.make)(),
                        ))),
                        None => Found::Unsupported {
                            slot: Slot::Reader {
                                reader: r.name.clone(),
                                atr,
                            },
                        },
                    }
                }
            })
            .collect())
    }

    fn watch(&self, on_change: Box<dyn Fn() + Send + Sync>) -> Option<Box<dyn ProviderWatch>> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.watchers).push((id, Arc::from(on_change)));
        Some(Box::new(Watch {
            shared: self.shared.clone(),
            id,
        }))
    }
}

struct Watch {
    shared: Arc<Shared>,
    id: u64,
}

impl ProviderWatch for Watch {
    fn stop(self: Box<Self>) {
        drop(self);
    }
}

impl Drop for Watch {
    /// Dropping ends the watch, as stopping does (`ProviderWatch`'s contract): a host whose stop
    /// never ran (its runtime shut down first) leaves no watcher behind.
    fn drop(&mut self) {
        lock(&self.shared.watchers).retain(|(id, _)| *id != self.id);
    }
}

/// The connection to one insertion of a card.
struct Transport {
    shared: Arc<Shared>,
    index: usize,
    generation: u64,
    reader: String,
    atr: Atr,
}

impl Transport {
    fn exchange(&self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut readers = lock(&self.shared.readers);
        match readers.get_mut(self.index).and_then(|r| r.card.as_mut()) {
            Some(i) if i.generation == self.generation => {
                self.shared.apdus.fetch_add(1, Ordering::Relaxed);
                Ok(i.card.process(apdu))
            }
            _ => Err(TransportError::CardRemoved),
        }
    }
}

impl CardTransport for Transport {
    fn reader(&self) -> &str {
        &self.reader
    }

    fn atr(&self) -> &Atr {
        &self.atr
    }

    fn begin(&mut self) -> Result<Box<dyn CardChannel + '_>, TransportError> {
        let present = lock(&self.shared.readers)
            .get(self.index)
            .and_then(|r| r.card.as_ref())
            .is_some_and(|i| i.generation == self.generation);
        if !present {
            return Err(TransportError::CardRemoved);
        }
        Ok(Box::new(Channel(self)))
    }
}

struct Channel<'a>(&'a Transport);

impl CardChannel for Channel<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.0.exchange(apdu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{CardOptions, Profile};
    use eidlink_core::{discover, CertificateKind, Digest, HashAlgorithm, KeyRole, Pin, PinInput, Providers};

    #[test]
    fn cards_come_and_go_and_sign_through_our_drivers() {
        let readers = InProcessReaders::new(&["Mem 0", "Mem 1"]);
        let providers: Providers = Arc::from(vec![readers.provider()]);
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        let watch = providers[0]
            .watch(Box::new(move || {
                count.fetch_add(1, Ordering::Relaxed);
            }))
            .unwrap();
        assert!(matches!(
            discover(&providers).pick(|_| true),
            Err(eidlink_core::NotFound::NoCard)
        ));

        let card = VirtualCard::new(Profile::Belpic18, &CardOptions::default()).unwrap();
        let pki = card.pki().clone();
        readers.insert(1, card);
        assert_eq!(seen.load(Ordering::Relaxed), 1);
        let mut t = discover(&providers).pick(|_| true).unwrap();
        assert_eq!(t.slot().name(), "Mem 1");
        assert_eq!(t.certificate(CertificateKind::Authentication).unwrap(), pki.auth_der);
        let digest = Digest::of(HashAlgorithm::Sha384, b"in-process");
        let pin = Pin::from("1234");
        let sig = t.sign(KeyRole::Authentication, PinInput::Typed(&pin), &digest).unwrap();
        // Checked with the public key of the card's certificate.
        eidlink_verifier::verify_signature(
            &pki.auth_der,
            "SHA-384",
            digest.as_bytes(),
            &sig.bytes,
            &sig.algorithm.into(),
        )
        .unwrap();
        assert!(readers.apdu_count() > 0);

        // Pulled out: the token's next command fails as a removed card's does, and nothing is found.
        readers.remove(1).unwrap();
        assert_eq!(
            t.certificate(CertificateKind::Signing),
            Err(CardError::Transport(TransportError::CardRemoved))
        );
        assert!(matches!(
            discover(&providers).pick(|_| true),
            Err(eidlink_core::NotFound::NoCard)
        ));
        watch.stop();
        readers.insert(0, VirtualCard::new(Profile::Belpic18, &CardOptions::default()).unwrap());
        assert_eq!(seen.load(Ordering::Relaxed), 2, "a stopped watch hears nothing");
    }
}
