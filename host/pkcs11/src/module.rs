//! A loaded module: each file is loaded and initialized once per process and never finalized
//! (another part of the process, or the next request in the tray, may still use it), and every call
//! that does not wait for the user runs under a time limit, on a thread of its own, so that a module
//! that hangs or panics fails the request with a clear error instead of taking the host down.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use eidlink_core::{CardError, PinFailure, TransportError};

use crate::ffi::FunctionList;

/// How long a module may take to load, initialize or list its tokens: OpenSC with a slow card
/// takes a second or two; ten is far beyond any module that works.
pub const CALL_LIMIT: Duration = Duration::from_secs(10);

/// What a module says of itself (`C_GetInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryInfo {
    /// `libraryDescription`.
    pub description: String,
    /// `manufacturerID`.
    pub manufacturer: String,
    /// `libraryVersion`, `major.minor`.
    pub version: String,
    /// The PKCS#11 version it implements.
    pub cryptoki_version: String,
}

/// A module loaded in this process.
pub struct Module {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    pub(crate) ctx: Pkcs11,
    pub(crate) info: LibraryInfo,
    /// The raw function list, opened on first need (a key with CKA_ALWAYS_AUTHENTICATE).
    functions: OnceLock<Option<FunctionList>>,
    /// Set when a call did not return in time: the module is not asked again in this process.
    stuck: AtomicBool,
}

impl Module {
    /// The module's file, as shown to the user.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the module says of itself.
    pub fn info(&self) -> &LibraryInfo {
        &self.info
    }

    /// The raw function list, for the one call cryptoki lacks.
    pub(crate) fn functions(&self) -> Option<&FunctionList> {
        self.functions
            .get_or_init(|| match FunctionList::open(&self.path) {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::warn!("{}: no function list for context-specific logins: {e}", self.name);
                    None
                }
            })
            .as_ref()
    }

    /// An error about this module.
    pub(crate) fn error(&self, what: impl Into<String>) -> CardError {
        module_error(&self.path, what)
    }

    /// Maps a cryptoki error of `function` to ours. A wrong PIN is mapped by the caller, which
    /// reads the token's flags to tell what is known of the tries left.
    pub(crate) fn map(&self, e: &P11Error) -> CardError {
        match e {
            P11Error::Pkcs11(rv, function) => match rv {
                RvError::TokenNotPresent
                | RvError::DeviceRemoved
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::SlotIdInvalid => CardError::Transport(TransportError::CardRemoved),
                RvError::PinLocked => CardError::Pin(PinFailure::Blocked),
                RvError::PinLenRange | RvError::PinInvalid => CardError::Pin(PinFailure::InvalidFormat),
                // With a protected authentication path: cancelled on the reader or in the
                // module's window.
                RvError::FunctionCanceled => CardError::Pin(PinFailure::PinpadCancelled),
                RvError::UserNotLoggedIn => CardError::PinRequired,
                RvError::TokenNotRecognized => CardError::Unsupported("the module does not recognize this card"),
                other => self.error(format!("failed: {} returned {}", c_name(*function), rv_name(*other))),
            },
            P11Error::LibraryLoading(e) => self.error(format!("cannot be loaded: {e}")),
            other => self.error(format!("answered something eidlink cannot use: {other}")),
        }
    }

    /// Runs `f` on the module under [`CALL_LIMIT`], on its own thread. A call that does not return
    /// in time leaves its thread behind and marks the module stuck; a panic (in cryptoki, on an
    /// answer it cannot decode) is an error of the module.
    pub(crate) fn bounded<R: Send + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        f: impl FnOnce(&Arc<Module>) -> Result<R, CardError> + Send + 'static,
    ) -> Result<R, CardError> {
        if self.stuck.load(Ordering::Relaxed) {
            return Err(self.error("stopped answering earlier: eidlink no longer asks it (restart the program)"));
        }
        let module = Arc::clone(self);
        let result = run_bounded(CALL_LIMIT, move || f(&module));
        match result {
            Bounded::Done(r) => r,
            Bounded::Panicked => Err(self.error(format!("failed during {what}: its answer could not be decoded"))),
            Bounded::TimedOut => {
                self.stuck.store(true, Ordering::Relaxed);
                tracing::error!("{}: {what} did not return within {} s", self.name, CALL_LIMIT.as_secs());
                Err(self.error(format!("did not answer {what} within {} s", CALL_LIMIT.as_secs())))
            }
        }
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish()
    }
}

pub(crate) fn module_error(path: &Path, what: impl Into<String>) -> CardError {
    CardError::Module {
        module: path.display().to_string(),
        what: what.into(),
    }
}

enum Bounded<R> {
    Done(R),
    Panicked,
    TimedOut,
}

fn run_bounded<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> Bounded<R> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("pkcs11-call".into()).spawn(move || {
        let r = std::panic::catch_unwind(AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    if spawned.is_err() {
        return Bounded::Panicked;
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(r)) => Bounded::Done(r),
        Ok(Err(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Bounded::Panicked,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Bounded::TimedOut,
    }
}

/// The C name of a PKCS#11 function (`C_Sign`; cryptoki shows `Function::Sign`).
pub(crate) fn c_name(f: cryptoki::context::Function) -> String {
    format!("C_{f:?}")
}

/// The PKCS#11 name of a return value (`CKR_PIN_INCORRECT`), as support and vendors know it.
pub(crate) fn rv_name(rv: RvError) -> String {
    let camel = format!("{rv:?}");
    let mut out = String::from("CKR");
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Modules by file, loaded at most once per process; a file that failed to load is tried again at
/// the next look (it may have been installed since), but one that hung while loading is not.
fn registry() -> &'static Mutex<HashMap<PathBuf, Loaded>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Loaded>>> = OnceLock::new();
    MODULES.get_or_init(Default::default)
}

#[derive(Clone)]
enum Loaded {
    Ready(Arc<Module>),
    Stuck,
}

/// The module at `path`, loaded and initialized on first use.
pub fn load(path: &Path) -> Result<Arc<Module>, CardError> {
    let mut modules = registry().lock().unwrap_or_else(|p| p.into_inner());
    match modules.get(path) {
        Some(Loaded::Ready(m)) => return Ok(Arc::clone(m)),
        Some(Loaded::Stuck) => {
            return Err(module_error(
                path,
                "did not finish loading earlier: eidlink no longer loads it",
            ));
        }
        None => {}
    }
    if !path.is_file() {
        return Err(module_error(path, "does not exist"));
    }
    crate::probe::check(path)?;
    let owned = path.to_path_buf();
    match run_bounded(CALL_LIMIT, move || open(&owned)) {
        Bounded::Done(Ok(m)) => {
            let m = Arc::new(m);
            modules.insert(path.to_path_buf(), Loaded::Ready(Arc::clone(&m)));
            tracing::info!("loaded PKCS#11 module {} ({:?})", path.display(), m.info);
            Ok(m)
        }
        Bounded::Done(Err(e)) => Err(e),
        Bounded::Panicked => Err(module_error(
            path,
            "failed while loading: its answers could not be decoded",
        )),
        Bounded::TimedOut => {
            modules.insert(path.to_path_buf(), Loaded::Stuck);
            Err(module_error(
                path,
                format!("did not finish loading within {} s", CALL_LIMIT.as_secs()),
            ))
        }
    }
}

fn open(path: &Path) -> Result<Module, CardError> {
    let ctx = Pkcs11::new(path).map_err(|e| match e {
        P11Error::LibraryLoading(e) => module_error(path, format!("cannot be loaded: {e}")),
        P11Error::MissingSymbol(s) => module_error(path, format!("is not a PKCS#11 module (no {s})")),
        other => module_error(path, format!("is not a PKCS#11 module: {other}")),
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another part of this process initialized it already: that is the state we want.
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(P11Error::Pkcs11(rv, f)) => {
            return Err(module_error(
                path,
                format!("failed to start: {} returned {}", c_name(f), rv_name(rv)),
            ));
        }
        Err(e) => return Err(module_error(path, format!("failed to start: {e}"))),
    }
    let info = ctx
        .get_library_info()
        .map(|i| LibraryInfo {
            description: i.library_description().trim().to_owned(),
            manufacturer: i.manufacturer_id().trim().to_owned(),
            version: i.library_version().to_string(),
            cryptoki_version: i.cryptoki_version().to_string(),
        })
        .map_err(|e| module_error(path, format!("does not describe itself (C_GetInfo): {e}")))?;
    Ok(Module {
        name: path.display().to_string(),
        path: path.to_path_buf(),
        ctx,
        info,
        functions: OnceLock::new(),
        stuck: AtomicBool::new(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_are_named_as_the_standard_does() {
        assert_eq!(rv_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(rv_name(RvError::DeviceError), "CKR_DEVICE_ERROR");
        assert_eq!(c_name(cryptoki::context::Function::GetSlotList), "C_GetSlotList");
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = load(Path::new("/nonexistent/libnothing.so")).expect_err("no such file");
        assert_eq!(
            e.to_string(),
            "the PKCS#11 module /nonexistent/libnothing.so does not exist"
        );
    }

    #[test]
    fn a_library_that_is_not_a_module_is_refused() {
        // Any shared library without C_GetFunctionList: the C library itself.
        let libc = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
            "/usr/lib64/libc.so.6",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file());
        let Some(libc) = libc else {
            eprintln!("skipped: no libc.so.6 at a known path");
            return;
        };
        let e = load(libc).expect_err("libc is no PKCS#11 module");
        assert!(e.to_string().contains("is not a PKCS#11 module"), "{e}");
    }

    #[test]
    fn a_hanging_call_times_out_and_a_panic_is_caught() {
        // Generous for answers: printing a panic's backtrace (RUST_BACKTRACE=1) on a loaded
        // machine takes a while; short only for the call that never answers.
        let limit = Duration::from_secs(20);
        assert!(matches!(run_bounded(limit, || 7), Bounded::Done(7)));
        assert!(matches!(
            run_bounded(limit, || -> u8 { panic!("garbage") }),
            Bounded::Panicked
        ));
        let hang = run_bounded(Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(3))
        });
        assert!(matches!(hang, Bounded::TimedOut));
    }
}
