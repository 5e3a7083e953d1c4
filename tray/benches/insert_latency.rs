//! How fast the tray app notices a card, and what it costs when nothing happens.
//!
//! `cargo bench -p eidlink-tray --bench insert_latency` (the optimised build of `eidlink-tray`,
//! which cargo builds for benches) under a private Xvfb, with pcscd and its vpcd reader as
//! `scripts/test.sh` starts them, and the virtual card. For each of N insertions of the card
//! (at a random moment relative to pcscd's 400 ms poll of vpcd), from `insert` (the card connects
//! to vpcd):
//!
//! - **pcscd noticed**: the first message vpcd sends the card (vpcd accepts the connection and asks
//!   for the ATR only when pcscd polls it), from the card's event log;
//! - **app: reading**, **app: ready**: the app's state file showing the card being read (the
//!   monitor's event reached the UI) and read; the time is the app's own (`changed_at_ms`);
//! - **peer: SCardGetStatusChange**: a plain PC/SC client in this process, blocked in
//!   `SCardGetStatusChange` on the reader, seeing the card present;
//! - **peer: pcsc_scan**: pcsc-tools' `pcsc_scan -n` printing "Card inserted" (if installed).
//!
//! Then, with the card ready, the app's CPU time over an idle period (utime + stime from
//! /proc/PID/stat) and its memory (VmRSS, VmHWM), beside `pcsc_scan`'s.
//!
//! `EIDLINK_BENCH_CYCLES` (default 20) and `EIDLINK_BENCH_IDLE_SECONDS` (default 30) change the
//! run's length.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eidlink_tests::vpcd::{self, listener_present, READER};
use eidlink_tests::xvfb::Display;
use eidlink_tests::{CardOptions, HandleConfig, Profile, VirtualCard, VirtualCardHandle};
use pcsc::{Context, ReaderState, Scope, State};
use serde_json::Value;

const TRAY: &str = env!("CARGO_BIN_EXE_eidlink-tray");
const TIMEOUT: Duration = Duration::from_secs(15);

/// Milliseconds since the Unix epoch, as a float.
fn unix_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

fn now_ms() -> f64 {
    unix_ms(SystemTime::now())
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Kills a child process on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_state(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn overall(s: &Value) -> &str {
    s["overall"].as_str().unwrap_or("")
}

/// Changes of the card's presence a peer saw: (present, when in ms).
type Events = Arc<Mutex<Vec<(bool, f64)>>>;

/// When the app first showed each state after `since_seq`, by its own clock (ms).
#[derive(Default)]
struct AppTimes {
    reading: Option<f64>,
    ready: Option<f64>,
    last_seq: u64,
}

/// Polls the state file until `done`, noting when "reading" and "ready" first appeared.
fn watch_app(path: &Path, since_seq: u64, done: &str) -> AppTimes {
    let deadline = Instant::now() + TIMEOUT;
    let mut times = AppTimes {
        last_seq: since_seq,
        ..AppTimes::default()
    };
    loop {
        if let Some(s) = read_state(path) {
            let seq = s["seq"].as_u64().unwrap_or(0);
            if seq > times.last_seq {
                times.last_seq = seq;
                let at = s["changed_at_ms"].as_f64();
                match overall(&s) {
                    "reading" if times.reading.is_none() => times.reading = at,
                    "ready" if times.ready.is_none() => times.ready = at,
                    _ => {}
                }
                if overall(&s) == done {
                    return times;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "the app did not show {done}: {:?}",
            read_state(path)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A plain PC/SC client waiting in SCardGetStatusChange on the reader; notes every change of
/// presence with its time.
fn status_change_waiter(stop: Arc<AtomicBool>) -> Events {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&seen);
    std::thread::spawn(move || {
        let ctx = Context::establish(Scope::User).expect("PC/SC context");
        let reader = std::ffi::CString::new(READER).unwrap();
        let mut states = [ReaderState::new(reader, State::UNAWARE)];
        let mut present: Option<bool> = None;
        while !stop.load(Ordering::Relaxed) {
            match ctx.get_status_change(Duration::from_millis(500), &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(e) => panic!("SCardGetStatusChange: {e}"),
            }
            let at = now_ms();
            let s = &mut states[0];
            let now_present = s.event_state().contains(State::PRESENT);
            if present != Some(now_present) {
                present = Some(now_present);
                out.lock().unwrap().push((now_present, at));
            }
            s.sync_current_state();
        }
    });
    seen
}

/// `pcsc_scan -n`, line-buffered: the times it printed "Card inserted" / "Card removed".
fn pcsc_scan() -> Option<(Killed, Events)> {
    let mut child = Command::new("stdbuf")
        .args(["-oL", "pcsc_scan", "-n"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut reader_zero = false;
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let at = now_ms();
            let line = String::from_utf8_lossy(&line);
            if line.contains("Reader ") {
                reader_zero = line.contains(READER);
            } else if reader_zero && line.contains("Card inserted") {
                out.lock().unwrap().push((true, at));
            } else if reader_zero && line.contains("Card removed") {
                out.lock().unwrap().push((false, at));
            }
        }
    });
    Some((Killed(child), seen))
}

/// The first `present` event at or after `since` (ms).
fn first_after(events: &Mutex<Vec<(bool, f64)>>, present: bool, since: f64) -> Option<f64> {
    events
        .lock()
        .unwrap()
        .iter()
        .find(|(p, at)| *p == present && *at >= since)
        .map(|(_, at)| *at)
}

fn wait_for(events: &Mutex<Vec<(bool, f64)>>, present: bool, since: f64) -> Option<f64> {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if let Some(at) = first_after(events, present, since) {
            return Some(at);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// The time (ms) of the card's log line "first vpcd message ..." of vpcd connection `n`.
fn pcscd_noticed(log: &Path, n: u64) -> Option<f64> {
    let deadline = Instant::now() + TIMEOUT;
    let marker = format!("card inserted (vpcd connection {n})");
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let mut after_insert = false;
        for line in text.lines() {
            if line.ends_with(&marker) {
                after_insert = true;
            } else if after_insert && line.contains("# first vpcd message") {
                let secs: f64 = line.split_whitespace().next()?.parse().ok()?;
                return Some(secs * 1000.0);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32, ticks_per_second: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime field 14, stime field 15.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / ticks_per_second
}

/// (VmRSS, VmHWM) in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A small xorshift generator: random moments relative to pcscd's poll, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Stats {
    name: &'static str,
    values: Vec<f64>,
    missed: usize,
}

impl Stats {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            values: Vec::new(),
            missed: 0,
        }
    }

    fn push(&mut self, value: Option<f64>) {
        match value {
            Some(v) => self.values.push(v),
            None => self.missed += 1,
        }
    }

    fn median(&self) -> f64 {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    fn row(&self) -> String {
        let min = self.values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let missed = if self.missed > 0 {
            format!("  ({} missed)", self.missed)
        } else {
            String::new()
        };
        format!(
            "{:<40} {:>3} {:>9.1} {:>9.1} {:>9.1}{missed}",
            self.name,
            self.values.len(),
            self.median(),
            min,
            max
        )
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: only measure for real.
    if !std::env::args().any(|a| a == "--bench") {
        println!("insert_latency: run with `cargo bench -p eidlink-tray --bench insert_latency`");
        return;
    }
    assert!(
        listener_present(vpcd::port()),
        "pcscd with the vsmartcard vpcd driver is not running: start it as scripts/test.sh does"
    );
    let cycles = env_number("EIDLINK_BENCH_CYCLES", 20);
    let idle = Duration::from_secs(env_number("EIDLINK_BENCH_IDLE_SECONDS", 30));
    let display = Display::start().unwrap_or_else(|e| panic!("Xvfb: {e}"));
    let dir = std::env::temp_dir().join(format!("eidlink-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let state_file = dir.join("state.json");
    let card_log = dir.join("card.log");

    let card = VirtualCardHandle::start_with(
        VirtualCard::new(Profile::Belpic18, &CardOptions::default()).unwrap(),
        HandleConfig {
            port: vpcd::port(),
            inserted: false,
            apdu_log: Some(card_log.clone()),
            ..HandleConfig::default()
        },
    )
    .unwrap();
    let home = dir.join("home");
    let app = Killed(
        eidlink_tests::tray::command(TRAY, &display, &home, None)
            .args(["--no-tray", "--state-file"])
            .arg(&state_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start eidlink-tray"),
    );
    let app_pid = app.0.id();
    let stop = Arc::new(AtomicBool::new(false));
    let waiter = status_change_waiter(Arc::clone(&stop));
    let scan = pcsc_scan();
    if scan.is_none() {
        println!("pcsc_scan not found (apt-get install -y pcsc-tools): its column is left out");
    }
    let start = watch_app(&state_file, 0, "no-card");
    let mut seq = start.last_seq;

    let mut rng = Rng(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    let mut noticed = Stats::new("pcscd noticed (vpcd's first poll)");
    let mut reading = Stats::new("app: reading (monitor event in the UI)");
    let mut ready = Stats::new("app: ready (card read)");
    let mut peer = Stats::new("peer: SCardGetStatusChange");
    let mut scanned = Stats::new("peer: pcsc_scan -n");
    let mut app_after_pcscd = Stats::new("app reading - pcscd noticed");
    let mut app_after_peer = Stats::new("app reading - SCardGetStatusChange");
    let mut read_time = Stats::new("app ready - app reading (the read)");
    println!("{cycles} insertions of the virtual card (Belgian eID 1.8) in {READER}...");
    for n in 1..=cycles {
        // Out for longer than the handle's minimum absence, then in at a random moment of the poll.
        std::thread::sleep(Duration::from_millis(900 + rng.below(400)));
        let t0 = now_ms();
        card.insert();
        let app_times = watch_app(&state_file, seq, "ready");
        seq = app_times.last_seq;
        let pcscd = pcscd_noticed(&card_log, n);
        let peer_at = wait_for(&waiter, true, t0);
        let scan_at = scan.as_ref().and_then(|(_, s)| wait_for(s, true, t0));
        let since = |t: Option<f64>| t.map(|t| t - t0);
        noticed.push(since(pcscd));
        reading.push(since(app_times.reading));
        ready.push(since(app_times.ready));
        peer.push(since(peer_at));
        if scan.is_some() {
            scanned.push(since(scan_at));
        }
        app_after_pcscd.push(app_times.reading.zip(pcscd).map(|(a, p)| a - p));
        app_after_peer.push(app_times.reading.zip(peer_at).map(|(a, p)| a - p));
        read_time.push(app_times.ready.zip(app_times.reading).map(|(a, b)| a - b));
        if n == cycles {
            break; // the last card stays in for the idle measurement
        }
        let t1 = now_ms();
        card.remove();
        seq = watch_app(&state_file, seq, "no-card").last_seq;
        wait_for(&waiter, false, t1).expect("the peer saw the removal");
    }

    println!();
    println!("Latency from the card's insertion, ms (pcscd polls vpcd every 400 ms):");
    println!("{:<40} {:>3} {:>9} {:>9} {:>9}", "", "n", "median", "min", "max");
    for s in [&noticed, &peer, &reading, &ready] {
        println!("{}", s.row());
    }
    if scan.is_some() {
        println!("{}", scanned.row());
    }
    println!("{}", app_after_pcscd.row());
    println!("{}", app_after_peer.row());
    println!("{}", read_time.row());
    println!(
        "ratio app reading / SCardGetStatusChange peer (medians): {:.2}",
        reading.median() / peer.median()
    );

    // Idle: a reader, a card ready, nothing happening.
    let ticks = ticks_per_second();
    std::thread::sleep(Duration::from_secs(2));
    let scan_pid = scan.as_ref().map(|(k, _)| k.0.id());
    // `stdbuf` execs pcsc_scan: same process.
    let app_cpu = cpu_seconds(app_pid, ticks);
    let scan_cpu = scan_pid.map(|p| cpu_seconds(p, ticks));
    let seq_before = read_state(&state_file).and_then(|s| s["seq"].as_u64());
    std::thread::sleep(idle);
    let app_cpu = cpu_seconds(app_pid, ticks) - app_cpu;
    let scan_cpu = scan_pid.zip(scan_cpu).map(|(p, c)| cpu_seconds(p, ticks) - c);
    let seq_after = read_state(&state_file).and_then(|s| s["seq"].as_u64());
    let secs = idle.as_secs_f64();
    println!();
    println!(
        "Idle for {secs:.0} s with the card ready (state changes meanwhile: {}):",
        seq_after.unwrap_or(0) - seq_before.unwrap_or(0)
    );
    println!(
        "{:<40} {:>12} {:>8} {:>10} {:>10}",
        "", "CPU s", "CPU %", "VmRSS MiB", "VmHWM MiB"
    );
    let (rss, hwm) = memory_mib(app_pid);
    println!(
        "{:<40} {:>12.2} {:>8.3} {:>10.1} {:>10.1}",
        "eidlink-tray (release)",
        app_cpu,
        100.0 * app_cpu / secs,
        rss,
        hwm
    );
    if let (Some(pid), Some(cpu)) = (scan_pid, scan_cpu) {
        let (rss, hwm) = memory_mib(pid);
        println!(
            "{:<40} {:>12.2} {:>8.3} {:>10.1} {:>10.1}",
            "peer: pcsc_scan -n",
            cpu,
            100.0 * cpu / secs,
            rss,
            hwm
        );
    }
    println!("(CPU time has the kernel's tick resolution: {:.0} ms)", 1000.0 / ticks);
    stop.store(true, Ordering::Relaxed);
    drop(app);
    drop(card);
    let _ = std::fs::remove_dir_all(&dir);
}
