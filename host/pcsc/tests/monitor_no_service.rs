//! The reader monitor with no smart-card service: it says so once, keeps retrying with backoff, and
//! stops promptly while waiting. Its own test binary, because the client library's socket is chosen
//! once per process (`PCSCLITE_CSOCK_NAME`, pointed nowhere here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use eidlink_pcsc::monitor::{Monitor, MonitorEvent, MonitorOptions};

#[test]
fn no_service_is_reported_once_and_stop_is_prompt() {
    std::env::set_var("PCSCLITE_CSOCK_NAME", "/nonexistent/eidlink-test/pcscd.comm");
    let options = MonitorOptions {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_secs(30),
    };
    let (monitor, rx) = Monitor::with_channel(options).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(MonitorEvent::ServiceDown));
    // Several attempts fail meanwhile (20, 40, 80... ms), without another event.
    assert!(rx.recv_timeout(Duration::from_millis(400)).is_err());
    assert!(!monitor.is_finished());
    // Now in a long backoff wait: stop wakes it.
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    monitor.stop();
    assert!(t.elapsed() < Duration::from_millis(200), "stop took {:?}", t.elapsed());
}
