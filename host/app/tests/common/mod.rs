//! Shared set-up of the tests that run through the real pcscd with the virtual card in the vpcd reader.
#![allow(dead_code)]
// Test support: a failed set-up step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::mpsc;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use eidlink_core::{Found, Token};
use eidlink_pcsc::PcscProvider;
use eidlink_tests::vpcd;
pub use eidlink_tests::vpcd::READER;
use eidlink_tests::{vpcd_test_lock, CardOptions, Profile, VirtualCardHandle};

/// A virtual card in the vpcd reader, for the duration of one test (which holds the vpcd lock).
pub struct Inserted {
    pub handle: VirtualCardHandle,
    _lock: MutexGuard<'static, ()>,
}

/// Inserts a card with default options (PIN 1234, EstEID PIN2 12345, 3 tries).
pub fn insert(profile: Profile) -> Inserted {
    insert_with(profile, &CardOptions::default())
}

/// Inserts a card and waits until pcscd shows it in the reader with its ATR.
pub fn insert_with(profile: Profile, options: &CardOptions) -> Inserted {
    let lock = vpcd_test_lock();
    vpcd::require_vpcd();
    let port = vpcd::port();
    // The previous test's card must be seen as gone first, or pcscd would keep its ATR.
    wait_reader(
        |atr| atr.is_none(),
        "the reader to be empty (is another eidlink-vcard running?)",
    );
    let handle = VirtualCardHandle::start(profile, options, port).expect("start the virtual card");
    handle
        .wait_present(Duration::from_secs(10))
        .expect("vpcd polls the card");
    let want = profile.atr().to_vec();
    wait_reader(|atr| atr == Some(&want[..]), "pcscd to show the card");
    Inserted { handle, _lock: lock }
}

/// Waits until the reader's state satisfies `ok` (pcscd polls vpcd about every 400 ms).
pub fn wait_reader(ok: impl Fn(Option<&[u8]>) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ctx = eidlink_pcsc::context().expect("PC/SC context");
        let state = eidlink_pcsc::readers(&ctx).expect("list readers");
        let reader = state.iter().find(|r| r.name == READER);
        if ok(reader.and_then(|r| r.atr.as_ref()).map(|a| a.as_bytes())) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {state:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Standard base64, as the protocol writes binary fields.
pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The bytes of a base64 JSON string.
pub fn unb64(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("string"))
        .expect("base64")
}

/// The card in the vpcd reader, as the PC/SC provider finds it.
pub fn token() -> Box<dyn Token> {
    match PcscProvider.look_in(READER).expect("PC/SC context") {
        Found::Token(t) => t,
        other => panic!("no supported card in {READER}: {other:?}"),
    }
}

/// The scripted PIN program (a binary of the eidlink-tests package), built on first use next to
/// the binaries of this package.
pub fn pin_script() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_BIN_EXE_eidlink-host"))
            .parent()
            .expect("target dir");
        let path = dir.join("eidlink-pin-script");
        if !path.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let ok = std::process::Command::new(cargo)
                .args(["build", "-p", "eidlink-tests", "--bin", "eidlink-pin-script"])
                .status()
                .expect("run cargo");
            assert!(ok.success() && path.exists(), "cannot build eidlink-pin-script");
        }
        path
    })
    .clone()
}

/// Runs `f` on another thread and fails the test if it does not return within `limit`: an
/// operation that hangs is a bug, whatever it would have returned.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("the operation hung")
}

/// SHA-2 digest of `data`.
pub fn sha(alg: eidlink_core::HashAlgorithm, data: &[u8]) -> eidlink_core::Digest {
    eidlink_core::Digest::of(alg, data)
}

/// The commands of the APDU log, as (INS, has data).
pub fn commands(h: &VirtualCardHandle) -> Vec<Vec<u8>> {
    h.apdu_log().into_iter().map(|l| l.command).collect()
}

/// Whether a logged command is a VERIFY carrying a PIN (not the empty status query).
pub fn is_pin_verify(cmd: &[u8]) -> bool {
    cmd.len() > 5 && cmd[1] == 0x20
}

/// Runs the `eidlink` binary with `args`, `stdin` as its input and extra environment variables.
pub fn run_eidlink(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_eidlink"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eidlink");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("eidlink output")
}

/// Program output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
