//! The real `eidlink-tray` under Xvfb with the virtual card, through the real pcscd and its vpcd
//! reader: the state the window shows (read from its `--state-file`) follows the card's insertion,
//! reading, removal and a blocked PIN; the app saves a screenshot of each state (copied to
//! `target/screenshots/tray-*.png` for review); without pcscd it says so and recovers when the
//! service comes back; closing its window (no tray) quits it.
//!
//! Needs Xvfb and xdotool, and pcscd with the vsmartcard vpcd driver, as `scripts/test.sh` starts
//! it; like the other tests through pcscd, these fail and say what is missing rather than pass
//! without testing. Every wait polls the state file up to a generous deadline: the assertions are
//! on what the app shows, never on how fast.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use eidlink_tests::vpcd::{self, require_vpcd, READER, SECOND_READER};
use eidlink_tests::xvfb::{screenshot_dir, Display};
use eidlink_tests::{pki, vpcd_test_lock, CardOptions, HandleConfig, Profile, VirtualCard, VirtualCardHandle};
use serde_json::Value;

const TRAY: &str = env!("CARGO_BIN_EXE_eidlink-tray");
/// How long any one state may take to show: far beyond pcscd's 400 ms poll and a card read.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The private X server, or a failed test naming what to install.
fn display() -> Display {
    Display::start().unwrap_or_else(|e| panic!("these tests run the real tray window under Xvfb: {e}"))
}

/// Asks a window to close as a window manager does when its close button is clicked: the ICCCM
/// `WM_DELETE_WINDOW` message. (`xdotool windowclose` destroys the window instead, which no window
/// manager does, and winit panics on it.)
fn close_window(display: &Display, window: &str) {
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
    let window: u32 = window.trim().parse().expect("a window id");
    let (conn, _) = x11rb::connect(Some(display.name())).expect("connect to Xvfb");
    let atom = |name: &[u8]| conn.intern_atom(false, name).unwrap().reply().unwrap().atom;
    let (protocols, delete) = (atom(b"WM_PROTOCOLS"), atom(b"WM_DELETE_WINDOW"));
    let event = ClientMessageEvent::new(32, window, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
    // Checked, that is a round trip: the server has handled the request before the connection
    // closes. Only flushed, the request may be dropped with the closing connection, and the app
    // never sees it (seen with Debian 12's Xvfb).
    conn.send_event(false, window, EventMask::NO_EVENT, event)
        .unwrap()
        .check()
        .expect("the X server took the close message");
}

/// A scratch home for one app: HOME and the XDG directories point inside it, so no user
/// configuration, journal or autostart entry is read or touched.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("eidlink-tray-xvfb-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("shots")).unwrap();
        std::fs::create_dir_all(dir.join("home")).unwrap();
        Self { dir }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn overall(s: &Value) -> &str {
    s["overall"].as_str().unwrap_or("")
}

fn seq(s: &Value) -> u64 {
    s["seq"].as_u64().unwrap_or(0)
}

fn reader<'a>(s: &'a Value, name: &str) -> Option<&'a Value> {
    s["readers"].as_array()?.iter().find(|r| r["name"] == name)
}

/// The running app.
struct App {
    child: Child,
    state_file: PathBuf,
    shots: PathBuf,
    stderr: PathBuf,
    /// Every state the polling saw, as (seq, overall), in order.
    seen: Vec<(u64, String)>,
}

impl App {
    fn start(display: &Display, home: &Home, env: &[(&str, &Path)]) -> Self {
        let state_file = home.dir.join("state.json");
        let shots = home.dir.join("shots");
        let stderr = home.dir.join("stderr.log");
        let child = eidlink_tests::tray::command(TRAY, display, &home.dir.join("home"), None)
            .args(["--no-tray", "--page", "status", "--state-file"])
            .arg(&state_file)
            .arg("--screenshot-dir")
            .arg(&shots)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start eidlink-tray");
        Self {
            child,
            state_file,
            shots,
            stderr,
            seen: Vec::new(),
        }
    }

    fn state(&self) -> Option<Value> {
        // Written atomically: a file that is there is whole.
        let text = std::fs::read_to_string(&self.state_file).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn report(&self) -> String {
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!(
            "states seen (seq, overall): {:?}\nlast state: {}\napp stderr (tail):\n{}",
            self.seen,
            self.state().map_or_else(|| "none".into(), |s| s.to_string()),
            tail.join("\n")
        )
    }

    /// Polls the state file until `ok` holds for it.
    fn wait(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(s) = self.state() {
                let entry = (seq(&s), overall(&s).to_owned());
                if self.seen.last() != Some(&entry) {
                    self.seen.push(entry);
                }
                if ok(&s) {
                    return s;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "eidlink-tray exited ({status}) while waiting for {what}\n{}",
                    self.report()
                );
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}\n{}", self.report());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The screenshots taken so far: (seq, overall, path), by seq.
    fn screenshots(&self) -> Vec<(u64, String, PathBuf)> {
        let mut shots: Vec<(u64, String, PathBuf)> = std::fs::read_dir(&self.shots)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.strip_suffix("-status.png")?.to_owned();
                let (n, overall) = name.split_once('-')?;
                Some((n.parse().ok()?, overall.to_owned(), p))
            })
            .collect();
        shots.sort();
        shots
    }

    /// Waits until the screenshot of state `seq` is saved (the app saves it a frame after drawing).
    fn wait_screenshot(&self, seq: u64) -> Vec<(u64, String, PathBuf)> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let shots = self.screenshots();
            if shots.iter().any(|(n, _, p)| *n == seq && png_complete(p)) {
                return shots;
            }
            assert!(
                Instant::now() < deadline,
                "no screenshot of state {seq} in {}: {shots:?}\n{}",
                self.shots.display(),
                self.report()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_exit(&mut self, limit: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn png_complete(path: &Path) -> bool {
    // A PNG ends with its IEND chunk: a file still being written has none yet.
    std::fs::read(path).is_ok_and(|b| b.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]))
}

/// Checks that a screenshot is a real picture of a window, not an empty or one-colour frame.
fn check_png(path: &Path) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()))
        .to_rgba8();
    let (w, h) = img.dimensions();
    assert!(w >= 300 && h >= 200, "{}: {w}x{h} is not the window", path.display());
    let distinct: std::collections::HashSet<_> = img.pixels().collect();
    assert!(
        distinct.len() > 20,
        "{}: the image is nearly blank ({} colours)",
        path.display(),
        distinct.len()
    );
}

fn pixels(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().to_rgba8().into_raw()
}

/// Where screenshots for review go: `target/screenshots`.
fn review_dir() -> PathBuf {
    screenshot_dir().expect("target/screenshots")
}

/// Checks the screenshot of each state in `wanted` (the first of its kind) and copies it to
/// `target/screenshots/tray-<name>.png`.
fn keep_screenshots(shots: &[(u64, String, PathBuf)], wanted: &[(&str, &str)]) {
    for (overall, name) in wanted {
        let (_, _, path) = shots
            .iter()
            .find(|(_, o, _)| o == overall)
            .unwrap_or_else(|| panic!("no screenshot of the {overall} state: {shots:?}"));
        check_png(path);
        let to = review_dir().join(format!("tray-{name}.png"));
        std::fs::copy(path, &to).unwrap();
        eprintln!("screenshot: {}", to.display());
    }
}

fn card(options: &CardOptions, port: u16, inserted: bool) -> VirtualCardHandle {
    let card = VirtualCard::new(Profile::Belpic18, options).expect("the virtual card");
    VirtualCardHandle::start_with(
        card,
        HandleConfig {
            port,
            inserted,
            ..HandleConfig::default()
        },
    )
    .expect("start the virtual card")
}

#[test]
fn the_window_follows_the_card_and_closing_it_quits() {
    let _lock = vpcd_test_lock();
    require_vpcd();
    let display = display();
    let home = Home::new("card");
    let card = card(&CardOptions::default(), vpcd::port(), false);
    let mut app = App::start(&display, &home, &[]);

    // The card is out: the window asks for it.
    let s = app.wait("no card in the reader", |s| {
        overall(s) == "no-card" && reader(s, READER).is_some_and(|r| r["card"] == "empty")
    });
    assert_eq!(s["action"], "insert-card", "{s}");
    assert_eq!(s["tray"], "window-only", "{s}");
    assert_eq!(s["window_visible"], true, "{s}");
    assert_eq!(s["page"], "status", "{s}");
    let out = seq(&s);

    // Inserted: the monitor's event shows "reading", then the read card is ready.
    card.insert();
    let s = app.wait("the card to be ready", |s| overall(s) == "ready");
    let ready = seq(&s);
    let r = reader(&s, READER).unwrap_or_else(|| panic!("no {READER} in {s}"));
    assert_eq!(r["card"], "read", "{s}");
    assert_eq!(r["status"], "ready", "{s}");
    let summary = &r["summary"];
    assert_eq!(summary["holder"], pki::DEFAULT_HOLDER, "{s}");
    assert_eq!(summary["national_number"], pki::DEFAULT_BE_NATIONAL_NUMBER, "{s}");
    assert_eq!(summary["auth_pin_tries"], 3, "{s}");
    assert_eq!(summary["card"], "Belgian eID (applet 1.8, EC P-384)", "{s}");
    assert!(
        summary["auth_not_after"].is_i64() && summary["sign_not_after"].is_i64(),
        "{s}"
    );
    // The card is read only after the UI applied its insertion, so "reading" was a state of its
    // own; the poll may miss it, its screenshot (one per state written) may not.
    let shots = app.wait_screenshot(ready);
    let reading = app.seen.iter().any(|(n, o)| (out..ready).contains(n) && o == "reading")
        || shots.iter().any(|(n, o, _)| (out..ready).contains(n) && o == "reading");
    assert!(
        reading,
        "no reading state between {out} and {ready}: {shots:?}\n{}",
        app.report()
    );
    // Reading the tries spent none.
    assert_eq!(card.pin_tries_left(), 3);
    // What the X server shows of the window, beside the app's own pictures.
    let window = display
        .wait_window("eidlink", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}\n{}", app.report()));
    let grabbed = review_dir().join("tray-x11-ready.png");
    display.screenshot_window(&window, &grabbed).unwrap();
    check_png(&grabbed);

    // Removed: back to "insert your card".
    card.remove();
    app.wait("no card after the removal", |s| {
        overall(s) == "no-card" && reader(s, READER).is_some_and(|r| r["card"] == "empty")
    });

    // A card with a blocked PIN in the second reader: the one thing to do says so.
    let blocked = card_with_blocked_pin();
    let s = app.wait("the blocked PIN", |s| overall(s) == "problem");
    assert_eq!(s["action"], "pin-blocked", "{s}");
    let r = reader(&s, SECOND_READER).unwrap_or_else(|| panic!("no {SECOND_READER} in {s}"));
    assert_eq!(r["status"], "pin-blocked", "{s}");
    assert_eq!(r["summary"]["auth_pin_tries"], 0, "{s}");
    assert_eq!(r["summary"]["holder"], pki::DEFAULT_HOLDER, "{s}");
    let problem = seq(&s);
    blocked.stop();
    let s = app.wait("no card after the blocked card's removal", |s| overall(s) == "no-card");
    assert!(seq(&s) > problem);

    let shots = app.wait_screenshot(seq(&s));
    keep_screenshots(
        &shots,
        &[
            ("no-card", "no-card"),
            ("reading", "reading"),
            ("ready", "ready"),
            ("problem", "pin-blocked"),
        ],
    );
    for (_, _, path) in &shots {
        check_png(path);
    }
    // Without a tray, the window is the app: closing it quits, cleanly.
    close_window(&display, &window);
    let (status, took) = app
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the app did not quit when its window was closed\n{}", app.report()));
    eprintln!("the app quit {took:?} after its window was closed: {status}");
    assert!(status.success(), "exit status {status}\n{}", app.report());
    // Each picture shows the state it is named after: two states in a row never look the same.
    // (Checked last: a picture taken a frame late shows the next state.)
    for pair in shots.windows(2) {
        let ((n1, o1, p1), (n2, o2, p2)) = (&pair[0], &pair[1]);
        if o1 != o2 {
            assert!(
                pixels(p1) != pixels(p2),
                "screenshots {n1} ({o1}) and {n2} ({o2}) show the same picture: one of them is not of \
                 its state ({} and {})",
                p1.display(),
                p2.display()
            );
        }
    }

    drop(card);
}

fn card_with_blocked_pin() -> VirtualCardHandle {
    let options = CardOptions {
        tries_left: Some(0),
        ..CardOptions::default()
    };
    card(&options, vpcd::second_port(), true)
}

/// Without pcscd the window says to start the service; when the service is there again, the app
/// finds it by itself and shows the readers.
#[test]
fn no_service_then_the_service_comes_back() {
    // The service, once back, shows the vpcd readers: no other card may be in them meanwhile.
    let _lock = vpcd_test_lock();
    require_vpcd();
    let display = display();
    let home = Home::new("service");
    // libpcsclite looks for pcscd at PCSCLITE_CSOCK_NAME: nothing there yet.
    let socket = home.dir.join("pcscd.comm");
    let mut app = App::start(&display, &home, &[("PCSCLITE_CSOCK_NAME", &socket)]);
    let s = app.wait("no service", |s| overall(s) == "no-service");
    assert_eq!(s["action"], "start-service", "{s}");
    let shots = app.wait_screenshot(seq(&s));
    keep_screenshots(&shots, &[("no-service", "no-service")]);

    // The service "starts": the path the app uses now leads to the real pcscd's socket.
    let real =
        std::env::var_os("PCSCLITE_CSOCK_NAME").map_or_else(|| PathBuf::from("/run/pcscd/pcscd.comm"), PathBuf::from);
    std::os::unix::fs::symlink(&real, &socket).unwrap();
    let s = app.wait("the readers once the service is back", |s| {
        overall(s) == "no-card" && reader(s, READER).is_some()
    });
    assert_eq!(s["action"], "insert-card", "{s}");
}
