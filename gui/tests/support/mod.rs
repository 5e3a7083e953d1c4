//! Helpers for the tests that run the real `eidlink-pin` window: a private Xvfb display, the
//! tools they need, and a child process with line-by-line stdout.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Debian/Ubuntu packages these tests need (scripts/test.sh installs them).
pub const TEST_PACKAGES: &str = "xvfb xdotool imagemagick libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri";

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

/// Xvfb servers are started and stopped one at a time, each on its own display number (checked
/// free, in a range away from the usual :0/:1/:99), so tests running in parallel never meet.
static XVFB_LIFECYCLE: std::sync::Mutex<()> = std::sync::Mutex::new(());
static NEXT_DISPLAY: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// An X display for the test: a private Xvfb killed on drop, or the display named by
/// `EIDLINK_GUI_TEST_DISPLAY` if set.
pub struct Display {
    pub name: String,
    xvfb: Option<Child>,
}

impl Display {
    pub fn start() -> Display {
        if let Ok(name) = std::env::var("EIDLINK_GUI_TEST_DISPLAY") {
            return Display { name, xvfb: None };
        }
        require(&["Xvfb"]);
        let _serial = XVFB_LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..50 {
            let seq = NEXT_DISPLAY.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let number = 200 + (std::process::id().wrapping_mul(7).wrapping_add(seq * 13)) % 700;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            if Path::new(&format!("/tmp/.X{number}-lock")).exists() || socket.exists() {
                continue;
            }
            let mut xvfb = Command::new("Xvfb")
                .arg(format!(":{number}"))
                // -noreset: without it the server resets whenever its last client leaves (each xdotool
                // call), and a client connecting during the reset fails to open the display.
                .args(["-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start Xvfb ({e}); apt-get install -y {TEST_PACKAGES}"));
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                    return Display {
                        name: format!(":{number}"),
                        xvfb: Some(xvfb),
                    };
                }
                if let Ok(Some(_)) = xvfb.try_wait() {
                    break; // lost a race for this number: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = xvfb.kill();
            let _ = xvfb.wait();
        }
        panic!("Xvfb did not start on any display number (apt-get install -y {TEST_PACKAGES})");
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(xvfb) = &mut self.xvfb {
            let _serial = XVFB_LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner());
            // SIGTERM lets Xvfb remove its lock file and socket (SIGKILL leaves them behind).
            let _ = Command::new("kill").arg("-TERM").arg(xvfb.id().to_string()).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = xvfb.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = xvfb.kill();
            let _ = xvfb.wait();
        }
    }
}

/// `xdotool` on `display`; returns stdout.
pub fn xdotool(display: &Display, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", &display.name)
        .output()
        .expect("run xdotool");
    assert!(
        out.status.success(),
        "xdotool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits for a visible window titled exactly `title`; returns its id.
pub fn wait_for_window(display: &Display, title: &str, timeout: Duration) -> String {
    let start = Instant::now();
    let pattern = format!("^{title}$");
    loop {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", &pattern])
            .env("DISPLAY", &display.name)
            .output()
            .expect("run xdotool");
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
            return id.trim().to_owned();
        }
        if start.elapsed() > timeout {
            let sockets = Command::new("sh")
                .args([
                    "-c",
                    "ls -la --time-style=full-iso /tmp/.X11-unix/ /tmp/.X*-lock; cat /tmp/.X*-lock; pgrep -a Xvfb",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let info = Command::new("xdpyinfo").env("DISPLAY", &display.name).output();
            let info = info
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default();
            panic!(
                "no window titled {title:?} after {timeout:?} on {} ({:?})\n{sockets}\nxdpyinfo: {info}",
                display.name,
                display.xvfb.as_ref().map(|c| c.id())
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The PIN program under test.
pub fn pin_program() -> &'static str {
    env!("CARGO_BIN_EXE_eidlink-pin")
}

/// A running `eidlink-pin`, its stdout read line by line on a thread.
pub struct PinProcess {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl PinProcess {
    pub fn spawn(display: &Display) -> PinProcess {
        let mut child = Command::new(pin_program())
            .env("DISPLAY", &display.name)
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

/// `target/screenshots/` (next to the `debug/` directory the program was built in).
pub fn screenshot_dir() -> PathBuf {
    let exe = Path::new(pin_program());
    let target = exe.parent().and_then(Path::parent).expect("target directory");
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Grabs a window into a PNG with ImageMagick's `import`, if it is installed (review aid only).
pub fn grab_window(display: &Display, window: &str, path: &Path) -> bool {
    if which("import").is_none() {
        return false;
    }
    Command::new("import")
        .args(["-window", window, path.to_str().unwrap()])
        .env("DISPLAY", &display.name)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
