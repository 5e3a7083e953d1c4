//! [`Pkcs11Provider`]: one module as a backend of the token layer.

use std::path::{Path, PathBuf};

use eidlink_core::{CardError, Found, TokenProvider};

use crate::module::{self, LibraryInfo};
use crate::scan::{self, SlotReport};

/// Why a module is looked through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Listed in `pkcs11-modules` (or named by `prefer-module`): always asked.
    Configured,
    /// A well-known vendor module found on this system: asked only about a card none of our
    /// drivers runs.
    WellKnown {
        /// The module's name in the table.
        name: &'static str,
    },
}

/// The tokens of one PKCS#11 module.
#[derive(Debug, Clone)]
pub struct Pkcs11Provider {
    path: PathBuf,
    name: String,
    origin: Origin,
    preferred_readers: Vec<String>,
}

impl Pkcs11Provider {
    /// A module the user configured.
    pub fn configured(path: impl Into<PathBuf>) -> Self {
        Self::new(path.into(), Origin::Configured)
    }

    /// A well-known module found at `path`.
    pub fn well_known(name: &'static str, path: impl Into<PathBuf>) -> Self {
        Self::new(path.into(), Origin::WellKnown { name })
    }

    fn new(path: PathBuf, origin: Origin) -> Self {
        Self {
            name: path.display().to_string(),
            path,
            origin,
            preferred_readers: Vec::new(),
        }
    }

    /// This module's token wins over our driver's in readers whose name contains one of `readers`.
    pub fn preferred_for(mut self, readers: Vec<String>) -> Self {
        self.preferred_readers = readers;
        self
    }

    /// The module's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why it is looked through.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The readers it is preferred for.
    pub fn preferred_readers(&self) -> &[String] {
        &self.preferred_readers
    }

    /// What `diagnose` shows: whether the module loads (and why not), what it says of itself, and
    /// every slot with its token and keys.
    pub fn report(&self) -> Result<(LibraryInfo, Vec<SlotReport>), CardError> {
        let m = module::load(&self.path)?;
        let info = m.info().clone();
        let slots = m.bounded("C_GetSlotList", scan::report)?;
        Ok((info, slots))
    }
}

impl TokenProvider for Pkcs11Provider {
    fn name(&self) -> &str {
        &self.name
    }

    fn scan(&self) -> Result<Vec<Found>, CardError> {
        let m = module::load(&self.path)?;
        m.bounded("C_GetSlotList", scan::scan)
    }

    fn is_fallback(&self) -> bool {
        matches!(self.origin, Origin::WellKnown { .. })
    }

    fn prefers(&self, reader: &str) -> bool {
        self.preferred_readers.iter().any(|r| reader.contains(r.as_str()))
    }
}
