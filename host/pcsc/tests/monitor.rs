//! The reader monitor through the real pcscd, the vpcd reader and the virtual card: events for
//! insertion and removal, and a prompt stop. Needs pcscd with the vsmartcard vpcd driver (as
//! `scripts/test.sh` starts it); without it these tests fail on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use eidlink_core::Atr;
use eidlink_pcsc::monitor::{Monitor, MonitorEvent, MonitorOptions};
use eidlink_tests::vpcd::{self, require_vpcd, READER};
use eidlink_tests::{vpcd_test_lock, CardOptions, Profile, VirtualCardHandle};

/// Waits for an event equal to `want`, skipping others (other vpcd readers, an earlier state).
fn expect(rx: &Receiver<MonitorEvent>, want: &MonitorEvent) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(e) if &e == want => return,
            Ok(e) => seen.push(e),
            Err(_) => break,
        }
    }
    panic!("no {want:?} within 10 s; seen {seen:?}");
}

/// The next card event of the vpcd reader (skipping the service, reader and other readers' events).
fn next_card_event(rx: &Receiver<MonitorEvent>, log: &mut Vec<(Duration, MonitorEvent)>, t0: Instant) -> MonitorEvent {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(e) = rx.recv_timeout(left) else { break };
        log.push((t0.elapsed(), e.clone()));
        match &e {
            MonitorEvent::CardInserted { reader, .. }
            | MonitorEvent::CardMute { reader }
            | MonitorEvent::CardRemoved { reader }
                if reader == READER =>
            {
                return e
            }
            _ => {}
        }
    }
    panic!("no card event for {READER} within 10 s; events so far: {log:?}");
}

/// Waits until pcscd shows the vpcd reader empty: a card left by the previous test binary stays
/// visible until pcscd's next poll of vpcd (about 400 ms), and its events are not this test's.
fn wait_reader_empty() {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ctx = eidlink_pcsc::context().unwrap();
        let readers = eidlink_pcsc::readers(&ctx).unwrap();
        if readers.iter().any(|r| r.name == READER && !r.card_present) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the vpcd reader never became empty: {readers:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn insertion_and_removal_arrive_as_events() {
    let _lock = vpcd_test_lock();
    require_vpcd();
    wait_reader_empty();
    let (monitor, rx) = Monitor::with_channel(MonitorOptions::default()).unwrap();
    expect(&rx, &MonitorEvent::ServiceUp);
    expect(&rx, &MonitorEvent::ReaderAdded { reader: READER.into() });
    let inserted = MonitorEvent::CardInserted {
        reader: READER.into(),
        atr: Atr(Profile::Belpic18.atr().to_vec()),
    };
    let removed = MonitorEvent::CardRemoved { reader: READER.into() };
    // Exactly one event per real change, in order: a missed one or a made-up one (a removal and
    // insertion that never happened) both fail here, with the whole timeline.
    let t0 = Instant::now();
    let mut log = Vec::new();
    let card = VirtualCardHandle::start(Profile::Belpic18, &CardOptions::default(), vpcd::port()).unwrap();
    assert_eq!(next_card_event(&rx, &mut log, t0), inserted, "{log:?}");
    card.remove();
    assert_eq!(next_card_event(&rx, &mut log, t0), removed, "{log:?}");
    card.insert();
    assert_eq!(next_card_event(&rx, &mut log, t0), inserted, "{log:?}");
    card.stop();
    assert_eq!(next_card_event(&rx, &mut log, t0), removed, "{log:?}");
    // Nothing more about this reader: no late duplicate.
    while let Ok(e) = rx.recv_timeout(Duration::from_millis(600)) {
        log.push((t0.elapsed(), e.clone()));
        assert!(
            !matches!(&e, MonitorEvent::CardInserted { reader, .. } | MonitorEvent::CardRemoved { reader } | MonitorEvent::CardMute { reader } if reader == READER),
            "an extra event: {log:?}"
        );
    }

    let t = Instant::now();
    monitor.stop();
    assert!(t.elapsed() < Duration::from_secs(1), "stop took {:?}", t.elapsed());
}

#[test]
fn stop_ends_a_blocked_monitor_promptly() {
    require_vpcd();
    for _ in 0..3 {
        let (monitor, rx) = Monitor::with_channel(MonitorOptions::default()).unwrap();
        expect(&rx, &MonitorEvent::ServiceUp);
        expect(&rx, &MonitorEvent::ReaderAdded { reader: READER.into() });
        // Let it block in SCardGetStatusChange.
        std::thread::sleep(Duration::from_millis(200));
        assert!(!monitor.is_finished());
        let t = Instant::now();
        monitor.stop();
        assert!(t.elapsed() < Duration::from_millis(500), "stop took {:?}", t.elapsed());
        // The thread is gone: its sender with it.
        while rx.recv_timeout(Duration::from_secs(1)).is_ok() {}
    }
}
