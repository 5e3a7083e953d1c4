//! The tray icon over a real D-Bus session bus, with a status-notifier host played by the test (the
//! `org.kde.StatusNotifierWatcher` a desktop's panel provides): the app registers its item, starts
//! hidden, its icon's colour and tooltip follow the card, and activating the icon opens the window.
//! Without a watcher, the same app runs as a window.
//!
//! Needs dbus-daemon, Xvfb and pcscd with the vpcd driver (as `scripts/test.sh` starts it).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eidlink_tests::vpcd;
use eidlink_tests::xvfb::Display;
use eidlink_tests::{vpcd_test_lock, CardOptions, Profile, VirtualCardHandle};
use serde_json::Value;
use zbus::blocking::{connection, Connection, Proxy};
use zbus::message::Header;

const TRAY: &str = env!("CARGO_BIN_EXE_eidlink-tray");
const TIMEOUT: Duration = Duration::from_secs(15);

/// A private session bus, stopped on drop.
struct SessionBus {
    address: String,
    daemon: Child,
}

impl SessionBus {
    fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt-get install -y dbus-daemon) starts");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            address: line.trim().to_owned(),
            daemon,
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The panel's side: records the items that register.
struct Watcher {
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: &str, #[zbus(header)] header: Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.items.lock().unwrap().push((sender, service.to_owned()));
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().iter().map(|(_, s)| s.clone()).collect()
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

struct App {
    child: Child,
    state_file: PathBuf,
    _home: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl App {
    fn start(display: &Display, bus: &SessionBus, name: &str, args: &[&str]) -> Self {
        let home = std::env::temp_dir().join(format!("eidlink-tray-icon-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let state_file = home.join("state.json");
        let child = eidlink_tests::tray::command(TRAY, display, &home, Some(&bus.address))
            .args(args)
            .arg("--state-file")
            .arg(&state_file)
            .stdout(Stdio::null())
            .spawn()
            .expect("start eidlink-tray");
        Self {
            child,
            state_file,
            _home: TempDir(home),
        }
    }

    fn state(&self) -> Option<Value> {
        let text = std::fs::read_to_string(&self.state_file).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some(s) = self.state().filter(|s| pred(s)) {
                return s;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("eidlink-tray exited ({status}) while waiting for {what}");
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for {what}; state: {:?}",
                self.state()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn item_proxy<'a>(conn: &'a Connection, service: &str) -> Proxy<'a> {
    // ksni registers a well-known name and serves the item at /StatusNotifierItem. Items announce
    // changes with NewIcon/NewToolTip signals, not PropertiesChanged: read afresh every time.
    zbus::blocking::proxy::Builder::new(conn)
        .destination(service.to_owned())
        .unwrap()
        .path("/StatusNotifierItem")
        .unwrap()
        .interface("org.kde.StatusNotifierItem")
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .unwrap()
}

/// The icon's pixel left of the card, as RGB (StatusNotifierItem pixmaps are ARGB32, big-endian).
fn icon_rgb(item: &Proxy<'_>) -> [u8; 3] {
    let pixmaps: Vec<Pixmap> = item.get_property("IconPixmap").unwrap();
    let (w, h, data) = pixmaps.first().expect("an icon pixmap");
    let (x, y) = (3usize, usize::try_from(*h).unwrap() / 2);
    let i = (y * usize::try_from(*w).unwrap() + x) * 4;
    [data[i + 1], data[i + 2], data[i + 3]]
}

fn tooltip(item: &Proxy<'_>) -> String {
    let (_, _, title, description): (String, Vec<Pixmap>, String, String) = item.get_property("ToolTip").unwrap();
    format!("{title}|{description}")
}

/// A StatusNotifierItem pixmap: width, height, ARGB32 bytes.
type Pixmap = (i32, i32, Vec<u8>);

const GREY: [u8; 3] = [0x75, 0x75, 0x75];
const GREEN: [u8; 3] = [0x2e, 0x7d, 0x32];

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hidden_at_login_icon_follows_the_card_and_opens_the_window() {
    let _lock = vpcd_test_lock();
    let display = Display::start().expect("Xvfb");
    let bus = SessionBus::start();
    let items = Arc::new(Mutex::new(Vec::new()));
    let conn = connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.kde.StatusNotifierWatcher")
        .unwrap()
        .serve_at("/StatusNotifierWatcher", Watcher { items: items.clone() })
        .unwrap()
        .build()
        .unwrap();

    let card = VirtualCardHandle::start(Profile::Belpic18, &CardOptions::default(), vpcd::port()).unwrap();
    card.remove();
    card.wait_removed(TIMEOUT).unwrap();

    let mut app = App::start(&display, &bus, "hidden", &["--hidden"]);
    let s = app.wait("no card, hidden, with an icon", |s| s["overall"] == "no-card");
    assert_eq!(s["tray"], "icon");
    assert_eq!(s["window_visible"], false, "started at login: only the icon shows");

    let (_, service) = wait_until("the item to register", || items.lock().unwrap().first().cloned());
    let item = item_proxy(&conn, &service);
    let title: String = item.get_property("Title").unwrap();
    assert_eq!(title, "eidlink");
    wait_until("a grey icon", || (icon_rgb(&item) == GREY).then_some(()));
    assert!(tooltip(&item).contains("No card"), "{}", tooltip(&item));

    // The card goes in while the window is hidden: the icon and the state follow all the same.
    card.insert();
    let s = app.wait("ready", |s| s["overall"] == "ready");
    assert_eq!(s["window_visible"], false);
    wait_until("a green icon", || (icon_rgb(&item) == GREEN).then_some(()));
    wait_until("the tooltip to say ready", || {
        tooltip(&item).contains("Ready: your card can be used").then_some(())
    });

    // A click on the icon opens the window.
    let _: () = item.call("Activate", &(10i32, 10i32)).unwrap();
    app.wait("the window to show", |s| s["window_visible"] == true);

    card.remove();
    app.wait("no card again", |s| s["overall"] == "no-card");
    wait_until("a grey icon again", || (icon_rgb(&item) == GREY).then_some(()));
    card.stop();
}

#[test]
fn without_a_status_notifier_host_it_is_a_window() {
    let display = Display::start().expect("Xvfb");
    let bus = SessionBus::start();
    // --hidden is ignored: with no tray, a hidden window could never be opened again.
    let mut app = App::start(&display, &bus, "notray", &["--hidden"]);
    let s = app.wait("a state", |s| s["overall"] != "starting");
    assert_eq!(s["tray"], "window-only");
    assert_eq!(s["window_visible"], true);
    display.wait_window("eidlink", TIMEOUT).expect("the window is mapped");
}
