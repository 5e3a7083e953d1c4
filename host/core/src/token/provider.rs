//! Where tokens come from. A [`TokenProvider`] per backend (PC/SC readers with our drivers, PKCS#11
//! modules, the in-process virtual card of the tests) and the one [`discover`] that the host, every
//! CLI command, diagnose and the tray call, with the one verdict ([`Discovery::pick`]) on what to
//! tell the user when no suitable token is there.

use thiserror::Error;

use crate::error::CardError;
use crate::token::{Slot, Token};

/// One look at one slot.
pub enum Found {
    /// A token one of our backends can drive.
    Token(Box<dyn Token>),
    /// A reader (or slot) with nothing in it.
    Empty {
        /// The reader's name.
        slot: String,
    },
    /// A card none of our drivers knows.
    Unsupported {
        /// Where it sits (with its ATR).
        slot: Slot,
    },
    /// A slot that could not be looked at (card mute, in use by another application, ...).
    Error {
        /// The reader's name.
        slot: String,
        /// What went wrong.
        error: CardError,
    },
}

impl Found {
    /// The name of the slot this is about.
    pub fn slot_name(&self) -> &str {
        match self {
            Self::Token(t) => t.slot().name(),
            Self::Empty { slot } | Self::Error { slot, .. } => slot,
            Self::Unsupported { slot } => slot.name(),
        }
    }
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(t) => write!(f, "Token({:?}, {})", t.slot(), t.label()),
            Self::Empty { slot } => write!(f, "Empty({slot})"),
            Self::Unsupported { slot } => write!(f, "Unsupported({slot:?})"),
            Self::Error { slot, error } => write!(f, "Error({slot}: {error})"),
        }
    }
}

/// A running watch for changes of a provider's slots; dropping or stopping it ends the watch.
pub trait ProviderWatch: Send {
    /// Stops watching (may block for a round trip to the service).
    fn stop(self: Box<Self>);
}

/// A backend that finds tokens.
pub trait TokenProvider: Send + Sync {
    /// What the backend is, for diagnostics ("PC/SC", a PKCS#11 module's path).
    fn name(&self) -> &str;
    /// Looks at every slot once. Fails only when the backend cannot look at all (no PC/SC service,
    /// a module that does not load).
    fn scan(&self) -> Result<Vec<Found>, CardError>;
    /// Starts calling `on_change` whenever a slot, a card or the service changes, so that a caller
    /// waiting for a card looks again at once instead of polling. `None`: this backend cannot tell,
    /// the caller polls.
    fn watch(&self, on_change: Box<dyn Fn() + Send + Sync>) -> Option<Box<dyn ProviderWatch>> {
        let _ = on_change;
        None
    }
    /// A fallback is looked through only when the other providers found no token but a card that
    /// none of our drivers runs: the well-known vendor modules, so that a card our drivers run, an
    /// empty reader or a wait for the card never loads and asks a module (native drivers first,
    /// then any module).
    fn is_fallback(&self) -> bool {
        false
    }
    /// Whether this provider's token wins over another provider's token in the reader `reader`
    /// (the `prefer-module` setting).
    fn prefers(&self, reader: &str) -> bool {
        let _ = reader;
        false
    }
}

/// The backends a program looks through, in order; shared with the threads that look.
pub type Providers = std::sync::Arc<[Box<dyn TokenProvider>]>;

/// What every provider found in one look.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Every slot of every provider that could look, in provider order.
    pub found: Vec<Found>,
    /// The providers that could not look, with why.
    pub failures: Vec<(String, CardError)>,
}

/// Looks once through every provider (the fallbacks only for a card no driver runs), and lists
/// each reader once: a card that a PKCS#11 module also shows through the same reader is kept from
/// the provider that drives it best ([`dedupe`]).
pub fn discover(providers: &[Box<dyn TokenProvider>]) -> Discovery {
    let mut found: Vec<(usize, Found)> = Vec::new();
    let mut failures = Vec::new();
    for fallbacks in [false, true] {
        // The fallbacks are asked only about a card in a reader that none of our drivers runs.
        let unsupported = found.iter().any(|(_, f)| matches!(f, Found::Unsupported { .. }));
        if fallbacks && (!unsupported || found.iter().any(|(_, f)| matches!(f, Found::Token(_)))) {
            break;
        }
        for (i, p) in providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_fallback() == fallbacks)
        {
            match p.scan() {
                Ok(f) => found.extend(f.into_iter().map(|f| (i, f))),
                Err(e) => failures.push((p.name().to_owned(), e)),
            }
        }
    }
    Discovery {
        found: dedupe(found, providers),
        failures,
    }
}

/// The reader a look is about, when it is a physical reader: a PC/SC reader, or a PKCS#11 slot,
/// whose description modules fill with the reader's name (blank-padded to 64 bytes, so a longer
/// name arrives cut).
fn reader_of(f: &Found) -> Option<&str> {
    match f {
        Found::Token(t) => Some(t.slot().name()),
        Found::Unsupported { slot } => Some(slot.name()),
        Found::Empty { slot } | Found::Error { slot, .. } => Some(slot.as_str()),
    }
    .map(str::trim_end)
    .filter(|r| !r.is_empty())
}

fn same_reader(a: &str, b: &str) -> bool {
    /// `CK_SLOT_INFO.slotDescription` is 64 bytes (PKCS#11 v2.40 §3.2).
    const SLOT_DESCRIPTION_LEN: usize = 64;
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.len() >= SLOT_DESCRIPTION_LEN - 1 && long.starts_with(short))
}

/// One entry per reader: a token over an unsupported, empty or unreadable look; between two
/// tokens, the one whose provider [`prefers`](TokenProvider::prefers) the reader, else the earlier
/// provider's (our drivers come first). Slots of different readers, and tokens that are not in a
/// reader (a software token), are all kept, in provider order.
fn dedupe(found: Vec<(usize, Found)>, providers: &[Box<dyn TokenProvider>]) -> Vec<Found> {
    let rank = |(i, f): &(usize, Found), reader: &str| -> u8 {
        match f {
            Found::Token(_) if providers.get(*i).is_some_and(|p| p.prefers(reader)) => 3,
            Found::Token(_) => 2,
            Found::Unsupported { .. } | Found::Error { .. } => 1,
            Found::Empty { .. } => 0,
        }
    };
    let mut kept: Vec<(usize, Found)> = Vec::with_capacity(found.len());
    for entry in found {
        let Some(reader) = reader_of(&entry.1).map(str::to_owned) else {
            kept.push(entry);
            continue;
        };
        let twin = kept.iter().position(|k| {
            // Two slots of one module are two tokens (OpenSC gives one per PIN), never twins.
            k.0 != entry.0 && reader_of(&k.1).is_some_and(|r| same_reader(r, &reader))
        });
        match twin {
            Some(at) => {
                if rank(&entry, &reader) > rank(&kept[at], &reader) {
                    kept[at] = entry;
                }
            }
            None => kept.push(entry),
        }
    }
    kept.into_iter().map(|(_, f)| f).collect()
}

/// Why no suitable token was found, worst news last: the verdict every caller gives the user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotFound {
    /// No backend could look (no PC/SC service).
    #[error(transparent)]
    Service(CardError),
    /// The backends looked and found no reader.
    #[error("no card reader found: connect a reader")]
    NoReader,
    /// Readers, but no card in them.
    #[error("no eID card in the reader: insert your card")]
    NoCard,
    /// A card could not be read.
    #[error("{slot}: {error}")]
    Unreadable {
        /// The reader.
        slot: String,
        /// Why.
        error: CardError,
    },
    /// A card none of our drivers knows.
    #[error("the card in the reader is not supported (ATR {atr})")]
    Unsupported {
        /// Its ATR, hex (or the slot for tokens without one).
        atr: String,
    },
    /// Supported tokens, none of them the one asked for.
    #[error("no inserted card is the one asked for")]
    NotWanted,
}

impl Discovery {
    /// Keeps only the slots whose name contains `part` (the CLI's `--reader`).
    pub fn in_slot(mut self, part: &str) -> Self {
        self.found.retain(|f| f.slot_name().contains(part));
        self
    }

    /// The tokens found, in order, leaving the rest.
    pub fn into_tokens(self) -> impl Iterator<Item = Box<dyn Token>> {
        self.found.into_iter().filter_map(|f| match f {
            Found::Token(t) => Some(t),
            _ => None,
        })
    }

    /// The first token that `wanted` accepts, or why there is none: a token refused by `wanted`
    /// weighs more than an unsupported card, which weighs more than an unreadable one, then an empty
    /// reader, then no reader at all, then a backend that could not look.
    pub fn pick(self, mut wanted: impl FnMut(&mut dyn Token) -> bool) -> Result<Box<dyn Token>, NotFound> {
        let any_slot = !self.found.is_empty();
        let mut verdict = None::<NotFound>;
        let rank = |n: &NotFound| match n {
            NotFound::NotWanted => 4,
            NotFound::Unsupported { .. } => 3,
            NotFound::Unreadable { .. } => 2,
            _ => 1,
        };
        for f in self.found {
            let why = match f {
                Found::Token(mut t) => {
                    if wanted(t.as_mut()) {
                        return Ok(t);
                    }
                    NotFound::NotWanted
                }
                Found::Unsupported { slot } => NotFound::Unsupported {
                    atr: slot.atr().map_or_else(|| slot.name().to_owned(), ToString::to_string),
                },
                Found::Error { slot, error } => NotFound::Unreadable { slot, error },
                Found::Empty { .. } => NotFound::NoCard,
            };
            if verdict.as_ref().is_none_or(|v| rank(&why) > rank(v)) {
                verdict = Some(why);
            }
        }
        Err(match verdict {
            Some(v) => v,
            None if any_slot => NotFound::NoCard,
            None => match self.failures.into_iter().next() {
                Some((_, e)) => NotFound::Service(e),
                None => NotFound::NoReader,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{KeyInfo, KeyRole, TokenSession};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fake {
        slot: Slot,
        label: &'static str,
    }

    impl Token for Fake {
        fn slot(&self) -> &Slot {
            &self.slot
        }
        fn label(&self) -> &str {
            self.label
        }
        fn key(&self, _: KeyRole) -> Option<KeyInfo> {
            None
        }
        fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError> {
            Err(CardError::Unsupported("fake"))
        }
    }

    fn reader(name: &str) -> Slot {
        Slot::Reader {
            reader: name.to_owned(),
            atr: crate::atr::Atr(vec![0x3B, 0x00]),
        }
    }

    fn module_slot(desc: &str) -> Slot {
        Slot::Pkcs11 {
            module: "/m.so".into(),
            slot_id: 1,
            description: desc.to_owned(),
        }
    }

    #[derive(Default)]
    struct Backend {
        name: &'static str,
        slots: Vec<(Slot, Option<&'static str>)>,
        fallback: bool,
        prefers: Option<&'static str>,
        scans: AtomicUsize,
    }

    impl TokenProvider for Backend {
        fn name(&self) -> &str {
            self.name
        }
        fn scan(&self) -> Result<Vec<Found>, CardError> {
            self.scans.fetch_add(1, Ordering::Relaxed);
            Ok(self
                .slots
                .iter()
                .map(|(slot, label)| match label {
                    Some(label) => Found::Token(Box::new(Fake {
                        slot: slot.clone(),
                        label,
                    })),
                    None => Found::Unsupported { slot: slot.clone() },
                })
                .collect())
        }
        fn is_fallback(&self) -> bool {
            self.fallback
        }
        fn prefers(&self, reader: &str) -> bool {
            self.prefers.is_some_and(|p| reader.contains(p))
        }
    }

    fn labels(d: &Discovery) -> Vec<String> {
        d.found
            .iter()
            .map(|f| match f {
                Found::Token(t) => t.label().to_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_card_is_listed_once_from_our_driver_unless_a_module_is_preferred() {
        let long = "A reader whose name is longer than the sixty-four bytes of a slot description";
        let native = Backend {
            name: "pcsc",
            slots: vec![(reader("Reader A"), Some("ours A")), (reader(long), Some("ours long"))],
            ..Default::default()
        };
        let module = Backend {
            name: "module",
            slots: vec![
                (module_slot("Reader A"), Some("module A")),
                // Cut to 64 bytes, blank-padded, as CK_SLOT_INFO holds it.
                (module_slot(&format!("{:<64}", &long[..64])), Some("module long")),
                (module_slot("SoftHSM slot 0"), Some("software token")),
            ],
            ..Default::default()
        };
        let providers: Vec<Box<dyn TokenProvider>> = vec![Box::new(native), Box::new(module)];
        assert_eq!(labels(&discover(&providers)), ["ours A", "ours long", "software token"]);

        let native = Backend {
            name: "pcsc",
            slots: vec![(reader("Reader A"), Some("ours A"))],
            ..Default::default()
        };
        let module = Backend {
            name: "module",
            slots: vec![
                (module_slot("Reader A"), Some("module A, PIN 1")),
                (module_slot("Reader A"), Some("module A, PIN 2")),
            ],
            prefers: Some("Reader"),
            ..Default::default()
        };
        let providers: Vec<Box<dyn TokenProvider>> = vec![Box::new(native), Box::new(module)];
        assert_eq!(labels(&discover(&providers)), ["module A, PIN 1", "module A, PIN 2"]);
    }

    #[test]
    fn fallbacks_are_asked_only_about_a_card_no_driver_runs() {
        // A fallback that was asked shows: its token is in a reader of its own unless told.
        let fallback = |reader: &str| Backend {
            name: "well-known",
            slots: vec![(module_slot(reader), Some("vendor token"))],
            fallback: true,
            ..Default::default()
        };
        // Our driver runs the card: the fallback is not even asked.
        let providers: Vec<Box<dyn TokenProvider>> = vec![
            Box::new(Backend {
                name: "pcsc",
                slots: vec![(reader("Reader B"), Some("ours"))],
                ..Default::default()
            }),
            Box::new(fallback("Reader C")),
        ];
        assert_eq!(labels(&discover(&providers)), ["ours"]);
        // An unsupported card: the vendor module's token replaces it.
        let providers: Vec<Box<dyn TokenProvider>> = vec![
            Box::new(Backend {
                name: "pcsc",
                slots: vec![(reader("Reader B"), None)],
                ..Default::default()
            }),
            Box::new(fallback("Reader B")),
        ];
        assert_eq!(labels(&discover(&providers)), ["vendor token"]);
        // Nothing in the readers: not asked.
        let empty = Backend {
            name: "pcsc",
            ..Default::default()
        };
        let fb = fallback("Reader C");
        let providers: Vec<Box<dyn TokenProvider>> = vec![Box::new(empty), Box::new(fb)];
        let d = discover(&providers);
        assert!(d.found.is_empty());
    }
}
