//! The reader monitor while the smart-card service stops and comes back: `ServiceDown`, then
//! `ServiceUp` once it answers again, without polling in between. The service is a private pcscd
//! (no readers) in a private mount namespace where its socket takes the place of the system one, so
//! the system pcscd and the virtual card are not touched. A tmpfs covers all of /run (/run/pcscd
//! need not exist) and the USB drivers (no real reader), and the monitor looks at that socket, not
//! at the tests' pcscd that PCSCLITE_CSOCK_NAME names. Needs root (as CI runs) and util-linux's
//! unshare. The namespace runs this test binary again, as `child_in_namespace`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use eidlink_pcsc::monitor::{Monitor, MonitorEvent, MonitorOptions};

const CHILD_CONF: &str = "EIDLINK_TEST_PCSCD_CONF";

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn service_down_and_up_again() {
    assert!(
        is_root(),
        "this test starts a private pcscd in a mount namespace and must run as root (as CI does)"
    );
    let dir = std::env::temp_dir().join(format!("eidlink-monitor-restart-{}", std::process::id()));
    let conf = dir.join("reader.conf.d");
    std::fs::create_dir_all(&conf).unwrap();
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount -t tmpfs eidlink-test /run && mkdir /run/pcscd || exit 90\n\
             mount -t tmpfs eidlink-no-usb /usr/lib/pcsc/drivers || exit 90\n\
             export PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm\n\
             exec \"$0\" \"$@\"",
        )
        .arg(&exe)
        .args(["--exact", "child_in_namespace", "--nocapture", "--test-threads=1"])
        .env(CHILD_CONF, &conf)
        .status()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "the test in the namespace failed: {status}");
}

fn next(rx: &Receiver<MonitorEvent>) -> MonitorEvent {
    rx.recv_timeout(Duration::from_secs(10)).expect("an event within 10 s")
}

fn start_pcscd(conf: &str) -> Child {
    Command::new("pcscd")
        .args(["--foreground", "--config", conf])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pcscd")
}

/// Stops pcscd as a service manager would (SIGTERM), and waits for it.
fn stop_pcscd(mut pcscd: Child) {
    let ok = Command::new("kill").arg(pcscd.id().to_string()).status().unwrap();
    assert!(ok.success());
    pcscd.wait().unwrap();
}

#[test]
fn child_in_namespace() {
    let Ok(conf) = std::env::var(CHILD_CONF) else { return };
    let options = MonitorOptions {
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
    };
    let (monitor, rx) = Monitor::with_channel(options).unwrap();
    // No pcscd yet in this namespace.
    assert_eq!(next(&rx), MonitorEvent::ServiceDown);
    let pcscd = start_pcscd(&conf);
    assert_eq!(next(&rx), MonitorEvent::ServiceUp);
    // Blocked in SCardGetStatusChange when the service stops.
    std::thread::sleep(Duration::from_millis(300));
    stop_pcscd(pcscd);
    assert_eq!(next(&rx), MonitorEvent::ServiceDown);
    let pcscd = start_pcscd(&conf);
    assert_eq!(next(&rx), MonitorEvent::ServiceUp);
    // Nothing else happens: no readers here, and no polling that would report anything.
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
    let t = Instant::now();
    monitor.stop();
    assert!(t.elapsed() < Duration::from_millis(500), "stop took {:?}", t.elapsed());
    stop_pcscd(pcscd);
}
