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

/// Looks once through every provider.
pub fn discover(providers: &[Box<dyn TokenProvider>]) -> Discovery {
    let mut d = Discovery::default();
    for p in providers {
        match p.scan() {
            Ok(found) => d.found.extend(found),
            Err(e) => {
                d.failures.push((p.name().to_owned(), e));
            }
        }
    }
    d
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
