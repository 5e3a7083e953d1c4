//! Prints the reader monitor's events until Ctrl-C (or for `--seconds N`): a manual check of what
//! pcscd reports when readers, cards and the service itself come and go.
//!
//!     cargo run -p eidlink-pcsc --example monitor -- --seconds 30

use std::time::{Duration, Instant};

use eidlink_pcsc::monitor::{Monitor, MonitorOptions};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        // A year: "until Ctrl-C" without overflowing the deadline.
        .unwrap_or(365 * 24 * 3600);
    let (monitor, rx) = Monitor::with_channel(MonitorOptions::default())?;
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        if let Ok(event) = rx.recv_timeout(left) {
            println!("{:8.3} {event:?}", start.elapsed().as_secs_f64());
        }
    }
    let t = Instant::now();
    monitor.stop();
    println!("stopped in {:?}", t.elapsed());
    Ok(())
}
