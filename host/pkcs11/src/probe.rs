//! Crash isolation for module loads: a module that crashes while it loads or starts (a segfault in
//! its initialisers or `C_Initialize`) would take the whole process down, so the first time a
//! program sees a module file (by path, size and modification time) it loads it in a child process
//! of itself first: the same executable started with [`PROBE_ARG`], which loads, initializes and
//! lists the module's slots, and exits. A child killed by a signal, or one that does not finish in
//! [`CALL_LIMIT`](crate::CALL_LIMIT), keeps the module out of this process with an error that says
//! so. A module that passed is remembered in the user's cache directory (`pkcs11-probes`, 0600),
//! so later runs load it at once.
//!
//! Programs opt in by calling [`isolate_module_loads`] first thing in `main` (eidlink-host, eidlink,
//! eidlink-tray); a library user or a test that does not gets in-process loads.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};

use crate::module::{module_error, CALL_LIMIT};
use eidlink_core::CardError;

/// The argument that makes a program a probe: `PROGRAM --eidlink-probe-pkcs11-module PATH`.
pub const PROBE_ARG: &str = "--eidlink-probe-pkcs11-module";

static ISOLATE: AtomicBool = AtomicBool::new(false);

/// First thing in `main`: when this process was started as a probe, probes and exits; otherwise
/// turns on probing in a child for the modules this process loads.
pub fn isolate_module_loads() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == PROBE_ARG) {
        let code = match args.next() {
            Some(path) => probe_here(Path::new(&path)),
            None => ExitCode::from(2),
        };
        std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
    ISOLATE.store(true, Ordering::Relaxed);
}

/// The probe itself, in the child.
fn probe_here(path: &Path) -> ExitCode {
    let ok = Pkcs11::new(path).and_then(|ctx| {
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(e),
        }
        ctx.get_slots_with_token().map(|_| ())
    });
    match ok {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            ExitCode::FAILURE
        }
    }
}

/// Before `path` is loaded in this process: `Ok` to go on (probed now or before, or isolation is
/// off), or why the module stays out.
pub(crate) fn check(path: &Path) -> Result<(), CardError> {
    if !ISOLATE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let Some(key) = fingerprint(path) else {
        return Ok(());
    };
    let cache = cache_file();
    if cache.as_ref().is_some_and(|c| passed(c, &key)) {
        return Ok(());
    }
    // A module that failed its probe fails again at once in this process (diagnose looks twice).
    static FAILED: std::sync::Mutex<Vec<(String, CardError)>> = std::sync::Mutex::new(Vec::new());
    let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, e)) = failed.iter().find(|(k, _)| *k == key) {
        return Err(e.clone());
    }
    let exe = std::env::current_exe().map_err(|e| module_error(path, format!("cannot be checked: {e}")))?;
    let verdict = run_probe(&exe, path, CALL_LIMIT);
    match &verdict {
        Ok(()) => {
            if let Some(c) = cache {
                remember(&c, &key);
            }
        }
        Err(e) => failed.push((key, e.clone())),
    }
    verdict
}

/// Runs the probe child; a clean failure (not a PKCS#11 module, ...) is left to the in-process
/// load, which names it precisely.
pub(crate) fn run_probe(exe: &Path, path: &Path, limit: Duration) -> Result<(), CardError> {
    let mut child = Command::new(exe)
        .arg(PROBE_ARG)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| module_error(path, format!("cannot be checked: {e}")))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return verdict(path, status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(module_error(
                    path,
                    format!(
                        "did not finish loading within {} s (checked in a separate process)",
                        limit.as_secs()
                    ),
                ));
            }
            Err(e) => return Err(module_error(path, format!("cannot be checked: {e}"))),
        }
    }
}

#[cfg(unix)]
fn verdict(path: &Path, status: std::process::ExitStatus) -> Result<(), CardError> {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(sig) => Err(module_error(
            path,
            format!(
                "crashed while loading ({}): eidlink does not load it",
                match sig {
                    11 => "segmentation fault".to_owned(),
                    6 => "aborted".to_owned(),
                    7 => "bus error".to_owned(),
                    n => format!("signal {n}"),
                }
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn verdict(path: &Path, status: std::process::ExitStatus) -> Result<(), CardError> {
    // Windows: an access violation ends the process with the NTSTATUS as its exit code.
    match status.code() {
        Some(0 | 1) => Ok(()),
        Some(code) => Err(module_error(
            path,
            format!(
                "crashed while loading (exit code {:#x}): eidlink does not load it",
                code as u32
            ),
        )),
        None => Ok(()),
    }
}

/// What identifies one version of a module file.
fn fingerprint(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(format!("{}\t{}\t{mtime}", path.display(), m.len()))
}

fn cache_file() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("org", "eidlink", "eidlink")?;
    Some(dirs.cache_dir().join("pkcs11-probes"))
}

fn passed(cache: &Path, key: &str) -> bool {
    std::fs::read_to_string(cache).is_ok_and(|t| t.lines().any(|l| l == key))
}

fn remember(cache: &Path, key: &str) {
    if let Some(dir) = cache.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Ok(mut f) = options.open(cache) {
        let _ = writeln!(f, "{key}");
    }
}
