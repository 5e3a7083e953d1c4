//! eidlink's second tier: the tokens of vendor PKCS#11 modules (through `cryptoki`), behind the same
//! token layer as our own card drivers, so that the host, the CLI, the tray and `diagnose` use them
//! through the one discovery.
//!
//! - [`providers`]: the one list of backends of a configuration (our drivers first).
//! - [`Pkcs11Provider`]: one module, configured (`pkcs11-modules`, always asked) or well known
//!   ([`known_modules`], asked only about a card none of our drivers runs).
//! - Each module file is loaded and initialized once per process; loading, initializing and
//!   listing run under a time limit on a thread of their own, so a module that hangs or answers
//!   nonsense fails with an error naming it ([`eidlink_core::CardError::Module`]); a program that
//!   calls [`isolate_module_loads`] first loads each new module file in a child process, so one that
//!   crashes while it loads is kept out instead of taking the program down.
//! - Tokens: holder certificates paired with private keys by `CKA_ID`; the role from the
//!   certificate (nonRepudiation → signing, else authentication); `CKM_ECDSA` over our hash (answers
//!   normalized to raw `r || s`), `CKM_RSA_PKCS` over the DigestInfo we build, `CKM_RSA_PKCS_PSS`;
//!   the PIN state from the token flags only (final try, locked, count low); a protected
//!   authentication path means the PIN is entered on the reader or in the module's window.

#![deny(unsafe_code)]

mod backends;
#[allow(unsafe_code)]
mod ffi;
mod known;
mod module;
mod probe;
mod provider;
mod scan;
mod token;

pub use backends::{module_preferred, module_providers, providers};
pub use known::{known_modules, KnownModule};
pub use module::{load, LibraryInfo, Module, CALL_LIMIT};
pub use probe::{isolate_module_loads, PROBE_ARG};
pub use provider::{Origin, Pkcs11Provider};
pub use scan::SlotReport;
pub use token::Pkcs11Token;
