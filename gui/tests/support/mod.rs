//! Helpers for the tests that run the real `eidlink-pin` window: a private Xvfb display, the
//! tools they need, and a child process with line-by-line stdout.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Debian/Ubuntu packages these tests need (scripts/test.sh installs them).
pub const TEST_PACKAGES: &str = "xvfb xdotool libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri";

/// Path of a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Fails the test, naming the packages, when a tool is missing.
pub fn require(programs: &[&str]) {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| which(p).is_none()).collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?}: these tests drive the real PIN window under Xvfb. \
         Install the packages with: apt-get install -y {TEST_PACKAGES}"
    );
}

/// The X display for the test: eidlink-tests' private Xvfb (killed on drop), or the display named
/// by `EIDLINK_GUI_TEST_DISPLAY`.
pub use eidlink_tests::xvfb::Display;

/// Starts a display, failing with the packages to install when Xvfb is missing.
pub fn display() -> Display {
    require(&["Xvfb", "xdotool"]);
    Display::start().expect("start Xvfb")
}

/// `xdotool` on `display`; returns stdout.
pub fn xdotool(display: &Display, args: &[&str]) -> String {
    display.xdotool(args).expect("xdotool")
}

/// Waits for a visible window titled exactly `title`; returns its id.
pub fn wait_for_window(display: &Display, title: &str, timeout: Duration) -> String {
    display.wait_window(title, timeout).expect("the window shows")
}

/// The PIN program under test: this build's, or the program EIDLINK_TEST_PIN names, run through
/// EIDLINK_TEST_PIN_RUNNER when set (installer/windows/wine-test.sh: `eidlink-pin.exe` under
/// `wine`).
pub fn pin_command() -> Command {
    eidlink_tests::program_under_test(
        env!("CARGO_BIN_EXE_eidlink-pin"),
        "EIDLINK_TEST_PIN",
        "EIDLINK_TEST_PIN_RUNNER",
    )
}

/// A running `eidlink-pin`, its stdout read line by line on a thread.
pub struct PinProcess {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl PinProcess {
    pub fn spawn(display: &Display) -> PinProcess {
        let mut child = pin_command()
            .env("DISPLAY", display.name())
            .env_remove("WAYLAND_DISPLAY")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start eidlink-pin");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        PinProcess {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// Writes one request line.
    pub fn send(&mut self, json: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(json.trim().as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next stdout line.
    pub fn answer(&self, timeout: Duration) -> String {
        self.lines
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("no answer line within {timeout:?}"))
    }

    /// No stdout line arrives within `wait`.
    pub fn assert_silent(&self, wait: Duration) {
        if let Ok(line) = self.lines.recv_timeout(wait) {
            panic!("unexpected answer line {line:?}");
        }
    }

    /// Waits for the process to exit; returns its status and how long it took.
    pub fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("eidlink-pin still running after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for PinProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = eidlink_tests::xvfb::screenshot_dir().expect("target/screenshots");
    if std::env::var_os("EIDLINK_TEST_PIN").is_none() {
        return dir;
    }
    // Another build's windows (the Windows .exe under Wine) beside this build's, not over them.
    let dir = dir.join("windows");
    std::fs::create_dir_all(&dir).expect("target/screenshots/windows");
    dir
}

/// Grabs a window into a PNG (review aid only).
pub fn grab_window(display: &Display, window: &str, path: &Path) -> bool {
    display.screenshot_window(window, path).is_ok()
}
