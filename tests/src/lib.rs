//! eidlink's virtual eID card: an independent card-side implementation of
//! the Belgian eID (BELPIC 1.7 RSA / 1.8 EC) and the EstEID IDEMIA card,
//! speaking vsmartcard's vpcd protocol so that the real pcscd shows a
//! reader with a real-looking card.
//!
//! * [`VirtualCard`]: the card logic in-process (`atr`, `reset`, `process`).
//! * [`VirtualCardHandle`]: the card plugged into vpcd in a background
//!   thread, with insertion/removal, fault injection and an APDU log.
//! * [`Pki`]: the deterministic test PKI the card carries.
//! * [`control`]: the line protocol of the `eidlink-vcard --control` socket.
//! * [`xvfb`]: a private X server for the tests of real windows, with PNG screenshots.
//!
//! The behaviour follows shared/docs/cards.md; every command handler cites
//! its section. See tests/README.md for usage.

pub mod apdu;
pub mod belpic;
pub mod belpic_fs;
pub mod card;
pub mod control;
pub mod crypto;
pub mod error;
pub mod fs;
pub mod handle;
pub mod idemia;
pub mod inproc;
pub mod log;
pub mod ocsp;
pub mod pin;
pub mod pki;
pub mod softhsm;
pub mod tls;
pub mod tlv;
pub mod tray;
pub mod vpcd;
pub mod xvfb;

/// The program a test runs: `default` (this build's), or the one the environment variable `exe_var`
/// names, started through the program `runner_var` names when that is set too. The Wine tests
/// (installer/windows/wine-test.sh) run the Windows .exe files this way with `wine`.
pub fn program_under_test(default: &str, exe_var: &str, runner_var: &str) -> std::process::Command {
    let Some(exe) = std::env::var_os(exe_var) else {
        return std::process::Command::new(default);
    };
    match std::env::var_os(runner_var) {
        Some(runner) => {
            let mut command = std::process::Command::new(runner);
            command.arg(exe);
            command
        }
        None => std::process::Command::new(exe),
    }
}

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use card::{CardOptions, Profile, VirtualCard};
pub use error::{Result, VcardError};
pub use handle::{HandleConfig, VirtualCardHandle};
pub use inproc::InProcessReaders;
pub use log::{Injected, LoggedApdu};
pub use pki::{Country, Holder, LeafKey, LeafKeyType, Pki, PkiSpec};

/// Serialises the tests of one process that use the vpcd readers: vpcd has
/// one slot per port, so two virtual cards cannot share it. Hold the guard
/// for the whole test. (Cargo runs test binaries one after the other, so a
/// process-wide lock is enough.)
pub fn vpcd_test_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}
