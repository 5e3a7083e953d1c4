//! A virtual card plugged into pcscd through vpcd, run in a background
//! thread, with runtime insertion/removal, fault injection and an APDU log.
//!
//! ```no_run
//! use eidlink_tests::{CardOptions, Profile, VirtualCardHandle};
//! use std::time::Duration;
//!
//! let _guard = eidlink_tests::vpcd_test_lock(); // one vpcd user at a time
//! let card = VirtualCardHandle::start(Profile::Belpic18, &CardOptions::default(), 35963)?;
//! card.wait_present(Duration::from_secs(5))?; // pcscd powered the card
//! // ... drive the card through PC/SC ...
//! card.remove_at(3);                           // pull it out on the 3rd APDU from now
//! assert_eq!(card.pin_tries_left(), 3);
//! # Ok::<(), eidlink_tests::VcardError>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::apdu::status;
use crate::card::{CardOptions, Profile, VirtualCard};
use crate::error::{Result, VcardError};
use crate::log::{mask_command, Injected, LoggedApdu};
use crate::pki::Pki;
use crate::vpcd::{self, Message};

/// How to run the card.
#[derive(Debug, Clone)]
pub struct HandleConfig {
    /// vpcd port: 35963 = `Virtual PCD 00 00`, 35964 = `Virtual PCD 00 01` (default:
    /// [`vpcd::port`], the tests' pcscd).
    pub port: u16,
    /// Insert the card at start (default `true`).
    pub inserted: bool,
    /// Append every APDU (masked) and every event to this text file.
    pub apdu_log: Option<PathBuf>,
    /// Pause between connection attempts while vpcd is not listening, and
    /// before reconnecting after vpcd closed the connection.
    pub reconnect_interval: Duration,
    /// Shortest time the card stays out after a removal before an
    /// [`insert`](VirtualCardHandle::insert) reconnects. pcscd polls vpcd
    /// about every 400 ms: a card back within one poll is never seen as
    /// removed (no "card removed" event, no new power-up). Default 800 ms;
    /// 0 to test exactly that race.
    pub min_absence: Duration,
}

impl Default for HandleConfig {
    fn default() -> Self {
        HandleConfig {
            port: vpcd::port(),
            inserted: true,
            apdu_log: None,
            reconnect_interval: Duration::from_millis(100),
            min_absence: Duration::from_millis(800),
        }
    }
}

/// Pending fault-injection rules.
#[derive(Debug, Default)]
struct Faults {
    /// Absolute APDU number at which the card is pulled out.
    remove_at: Option<u64>,
    /// Absolute APDU numbers answered with a given SW.
    sw_at: Vec<(u64, u16)>,
    /// Delay before every answer.
    delay: Duration,
}

struct State {
    card: VirtualCard,
    want_inserted: bool,
    stop: bool,
    /// Clone of the live connection, kept to shut it down from other threads.
    stream: Option<TcpStream>,
    connected: bool,
    /// vpcd sent at least one message on the current connection, i.e. it
    /// accepted the connection and pcscd polls the card.
    polled: bool,
    powered: bool,
    /// When the last connection ended.
    removed_at: Option<Instant>,
    connections: u64,
    /// APDUs received since start.
    apdus: u64,
    faults: Faults,
    log: Vec<LoggedApdu>,
    log_file: Option<File>,
    last_error: Option<String>,
}

impl State {
    fn event(&mut self, what: &str) {
        if let Some(file) = self.log_file.as_mut() {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            // The log is a test aid: a failed write must not stop the card.
            let _ = writeln!(file, "{secs:.3} # {what}");
        }
    }

    fn disconnect(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

struct Inner {
    port: u16,
    reconnect_interval: Duration,
    min_absence: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running virtual card. Dropping it removes the card and stops the thread.
pub struct VirtualCardHandle {
    inner: Arc<Inner>,
    profile: Profile,
    pki: Arc<Pki>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for VirtualCardHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCardHandle")
            .field("profile", &self.profile)
            .field("port", &self.inner.port)
            .finish_non_exhaustive()
    }
}

impl VirtualCardHandle {
    /// Builds a card (and its PKI) and inserts it into the vpcd reader on
    /// `port`. The connection is retried until vpcd listens.
    pub fn start(profile: Profile, options: &CardOptions, port: u16) -> Result<Self> {
        let card = VirtualCard::new(profile, options)?;
        Self::start_with(
            card,
            HandleConfig {
                port,
                ..HandleConfig::default()
            },
        )
    }

    /// Runs an existing card (e.g. one built on a shared PKI).
    pub fn start_with(card: VirtualCard, config: HandleConfig) -> Result<Self> {
        let log_file = match &config.apdu_log {
            Some(path) => Some(OpenOptions::new().create(true).append(true).open(path)?),
            None => None,
        };
        let profile = card.profile();
        let pki = card.pki().clone();
        let inner = Arc::new(Inner {
            port: config.port,
            reconnect_interval: config.reconnect_interval,
            min_absence: config.min_absence,
            state: Mutex::new(State {
                card,
                want_inserted: config.inserted,
                stop: false,
                stream: None,
                connected: false,
                polled: false,
                powered: false,
                removed_at: None,
                connections: 0,
                apdus: 0,
                faults: Faults::default(),
                log: Vec::new(),
                log_file,
                last_error: None,
            }),
            changed: Condvar::new(),
        });
        let worker = inner.clone();
        let thread = std::thread::Builder::new()
            .name(format!("vcard-{}-{}", profile, config.port))
            .spawn(move || run(&worker))?;
        Ok(VirtualCardHandle {
            inner,
            profile,
            pki,
            thread: Some(thread),
        })
    }

    /// The emulated profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The vpcd port.
    pub fn port(&self) -> u16 {
        self.inner.port
    }

    /// The card's PKI, to compare certificates and verify signatures.
    pub fn pki(&self) -> Arc<Pki> {
        self.pki.clone()
    }

    /// Inserts the card (connects to vpcd; a new connection, fresh power-up,
    /// PIN counters kept). No-op if already inserted.
    pub fn insert(&self) {
        let mut st = self.inner.lock();
        if !st.want_inserted {
            st.want_inserted = true;
            self.inner.changed.notify_all();
        }
    }

    /// Removes the card (closes the vpcd connection) and waits briefly until
    /// the card thread has seen it.
    pub fn remove(&self) {
        let mut st = self.inner.lock();
        st.want_inserted = false;
        st.disconnect();
        self.inner.changed.notify_all();
        let deadline = deadline_after(Duration::from_secs(2));
        while st.connected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .inner
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Removes the card when the `k`-th APDU from now arrives (k = 1: the
    /// next one); that APDU gets no answer. The card stays out until
    /// [`insert`](Self::insert). `k = 0` is taken as 1.
    pub fn remove_at(&self, k: u64) {
        let mut st = self.inner.lock();
        st.faults.remove_at = Some(st.apdus.saturating_add(k.max(1)));
    }

    /// Answers `sw` to the `k`-th APDU from now (k = 1: the next one)
    /// instead of processing it. `k = 0` is taken as 1.
    pub fn sw_at(&self, k: u64, sw: u16) {
        let mut st = self.inner.lock();
        let at = st.apdus.saturating_add(k.max(1));
        st.faults.sw_at.push((at, sw));
    }

    /// Delays every answer by `ms` milliseconds (0 = no delay).
    pub fn delay(&self, ms: u64) {
        self.inner.lock().faults.delay = Duration::from_millis(ms);
    }

    /// Drops every pending fault rule and the delay.
    pub fn clear_faults(&self) {
        self.inner.lock().faults = Faults::default();
    }

    /// Every APDU since start or the last [`clear_log`](Self::clear_log).
    pub fn apdu_log(&self) -> Vec<LoggedApdu> {
        self.inner.lock().log.clone()
    }

    /// Empties the in-memory APDU log (the file log is kept).
    pub fn clear_log(&self) {
        self.inner.lock().log.clear();
    }

    /// Number of APDUs in the log.
    pub fn apdu_count(&self) -> usize {
        self.inner.lock().log.len()
    }

    /// Tries left of the PIN (Belgian) or PIN1 (EstEID).
    pub fn pin_tries_left(&self) -> u8 {
        self.inner.lock().card.pin_tries_left()
    }

    /// Tries left of the EstEID PIN2 (`None` on Belgian cards).
    pub fn sign_pin_tries_left(&self) -> Option<u8> {
        self.inner.lock().card.sign_pin_tries_left()
    }

    /// Runs `f` on the card under the handle's lock (no APDU is processed
    /// meanwhile).
    pub fn with_card<R>(&self, f: impl FnOnce(&mut VirtualCard) -> R) -> R {
        f(&mut self.inner.lock().card)
    }

    /// `true` while the card is meant to be inserted.
    pub fn is_inserted(&self) -> bool {
        self.inner.lock().want_inserted
    }

    /// `true` while the TCP connection to vpcd is up.
    pub fn is_connected(&self) -> bool {
        self.inner.lock().connected
    }

    /// `true` while vpcd polls the card on the current connection (pcscd
    /// then reports it present).
    pub fn is_present(&self) -> bool {
        let st = self.inner.lock();
        st.connected && st.polled
    }

    /// `true` between pcscd's power-on and power-off. pcscd powers an idle
    /// card down after a short grace period, so this is not "present".
    pub fn is_powered(&self) -> bool {
        let st = self.inner.lock();
        st.connected && st.powered
    }

    /// Number of vpcd connections made so far (one per insertion).
    pub fn connection_count(&self) -> u64 {
        self.inner.lock().connections
    }

    /// Last connection error (e.g. vpcd not listening), if any.
    pub fn last_error(&self) -> Option<String> {
        self.inner.lock().last_error.clone()
    }

    /// Waits until the card is connected to vpcd.
    pub fn wait_connected(&self, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, "vpcd connection", |st| st.connected)
    }

    /// Waits until vpcd accepted the connection and polled the card, i.e.
    /// PC/SC clients see it (vpcd polls about every 400 ms, cards.md §6,
    /// test-infra.md §1). For PC/SC-level sync, also wait on
    /// `SCardGetStatusChange`.
    pub fn wait_present(&self, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, "vpcd to poll the card", |st| st.connected && st.polled)
    }

    /// Waits until pcscd powers the card up (on insertion and on connect).
    pub fn wait_powered(&self, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, "card power-up by pcscd", |st| st.connected && st.powered)
    }

    /// Waits until the vpcd connection is closed.
    pub fn wait_removed(&self, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, "card removal", |st| !st.connected)
    }

    fn wait_for(&self, timeout: Duration, what: &'static str, done: impl Fn(&State) -> bool) -> Result<()> {
        let deadline = deadline_after(timeout);
        let mut st = self.inner.lock();
        loop {
            if done(&st) {
                return Ok(());
            }
            if st.stop {
                return Err(VcardError::Stopped);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(VcardError::Timeout(timeout, what));
            }
            st = self
                .inner
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Removes the card and stops the thread (what `Drop` does).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        {
            let mut st = self.inner.lock();
            st.stop = true;
            st.want_inserted = false;
            st.disconnect();
            self.inner.changed.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VirtualCardHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `now + timeout`, saturating (a huge timeout means "forever").
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// The card thread: connect while the card should be inserted, serve vpcd,
/// and start over after every removal.
fn run(inner: &Inner) {
    loop {
        {
            let mut st = inner.lock();
            while !st.stop && !st.want_inserted {
                st = inner.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            if st.stop {
                return;
            }
            // Stay out long enough for pcscd to notice the removal.
            if let Some(at) = st.removed_at {
                let left = inner.min_absence.saturating_sub(at.elapsed());
                if !left.is_zero() {
                    let _ = inner
                        .changed
                        .wait_timeout(st, left)
                        .unwrap_or_else(PoisonError::into_inner);
                    continue;
                }
            }
        }
        let stream = match vpcd::connect(inner.port) {
            Ok(stream) => stream,
            Err(err) => {
                let mut st = inner.lock();
                st.last_error = Some(format!("vpcd on port {}: {err}", inner.port));
                let _ = inner
                    .changed
                    .wait_timeout(st, inner.reconnect_interval)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
        };
        {
            let mut st = inner.lock();
            if st.stop || !st.want_inserted {
                continue; // removed while connecting: dropping `stream` closes it
            }
            // The clone lets remove()/Drop shut the socket from other threads;
            // without it the card could not be pulled out, so do not go on.
            match stream.try_clone() {
                Ok(clone) => st.stream = Some(clone),
                Err(err) => {
                    st.last_error = Some(format!("cannot clone the vpcd socket: {err}"));
                    continue;
                }
            }
            st.connected = true;
            st.polled = false;
            st.powered = false;
            st.connections += 1;
            st.last_error = None;
            st.card.reset();
            let n = st.connections;
            st.event(&format!("card inserted (vpcd connection {n})"));
            inner.changed.notify_all();
        }
        let vpcd_closed = serve(inner, stream);
        let wanted = {
            let mut st = inner.lock();
            st.disconnect();
            st.connected = false;
            st.polled = false;
            st.powered = false;
            st.removed_at = Some(Instant::now());
            st.card.reset();
            st.event(if vpcd_closed {
                "vpcd closed the connection"
            } else {
                "card removed"
            });
            inner.changed.notify_all();
            st.want_inserted && !st.stop
        };
        if wanted {
            // vpcd went away (pcscd stopped?): retry, without spinning.
            std::thread::sleep(inner.reconnect_interval);
        }
    }
}

/// Serves one vpcd connection. Returns `true` if vpcd (not us) ended it.
fn serve(inner: &Inner, mut stream: TcpStream) -> bool {
    loop {
        vpcd::quick_ack(&stream);
        let payload = match vpcd::read_frame(&mut stream) {
            Ok(payload) => payload,
            Err(_) => return inner.lock().want_inserted,
        };
        let message = Message::from_payload(payload);
        {
            let mut st = inner.lock();
            if !st.polled {
                st.polled = true;
                // vpcd accepts the connection only when pcscd polls the reader (about every
                // 400 ms), and asks for the ATR at once: this is when pcscd noticed the card.
                st.event(&format!(
                    "first vpcd message ({}): pcscd noticed the card",
                    message.name()
                ));
                inner.changed.notify_all();
            }
        }
        let reply = match message {
            Message::PowerOff => power(inner, false, "power off"),
            Message::PowerOn => power(inner, true, "power on"),
            Message::Reset => power(inner, true, "reset"),
            Message::GetAtr => Some(inner.lock().card.atr()),
            Message::UnknownControl(_) => None,
            Message::Apdu(apdu) => match apdu_reply(inner, &apdu) {
                Some(reply) => Some(reply),
                None => return false, // injected removal
            },
        };
        if let Some(reply) = reply {
            if vpcd::write_frame(&mut stream, &reply).is_err() {
                return inner.lock().want_inserted;
            }
        }
    }
}

/// Power-on, reset and power-off all clear the card's volatile state.
fn power(inner: &Inner, on: bool, what: &str) -> Option<Vec<u8>> {
    let mut st = inner.lock();
    st.card.reset();
    st.powered = on;
    st.event(what);
    inner.changed.notify_all();
    None
}

/// Processes one APDU with the fault rules; `None` = pull the card out.
fn apdu_reply(inner: &Inner, apdu: &[u8]) -> Option<Vec<u8>> {
    let arrived = Instant::now();
    let time = SystemTime::now();
    let (response, injected, delay, seq) = {
        let mut st = inner.lock();
        st.apdus += 1;
        let seq = st.apdus;
        let injected = if st.faults.remove_at == Some(seq) {
            st.faults.remove_at = None;
            Some(Injected::Removal)
        } else {
            let hit = st.faults.sw_at.iter().position(|(at, _)| *at == seq);
            hit.map(|i| Injected::Sw(st.faults.sw_at.remove(i).1))
        };
        let response = match injected {
            Some(Injected::Removal) => Vec::new(),
            Some(Injected::Sw(sw)) => status(sw),
            None => st.card.process(apdu),
        };
        (response, injected, st.faults.delay, seq)
    };
    let removal = injected == Some(Injected::Removal);
    if !removal && !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let (command, masked) = mask_command(apdu);
    let entry = LoggedApdu {
        seq,
        time,
        command,
        response: response.clone(),
        masked,
        injected,
        duration: arrived.elapsed(),
    };
    let mut st = inner.lock();
    if let Some(file) = st.log_file.as_mut() {
        let _ = writeln!(file, "{}", entry.to_line());
    }
    st.log.push(entry);
    if removal {
        st.want_inserted = false;
        st.disconnect();
        inner.changed.notify_all();
        return None;
    }
    Some(response)
}
