//! Watching readers and cards without polling: one thread blocked in `SCardGetStatusChange` on every
//! reader plus the PnP pseudo-reader (`\\?PnP?\Notification`), which wakes it when a reader comes or
//! goes. It has its own PC/SC context, re-established with backoff when the service stops (pcscd
//! exits when idle or is restarted by an update), and reports everything as [`MonitorEvent`]s.
//!
//! It never connects to a card: reading a card is its consumer's business, on another thread, so
//! that a slow card never delays the next event.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eidlink_core::Atr;
use pcsc::{Context, State, PNP_NOTIFICATION};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorEvent {
    /// The smart-card service answers (first contact, or back after [`MonitorEvent::ServiceDown`]).
    /// The readers present follow as [`MonitorEvent::ReaderAdded`].
    ServiceUp,
    /// The smart-card service is not running or went away; every reader is gone with it. The
    /// monitor keeps trying to reach it.
    ServiceDown,
    /// A reader appeared (or was there when the service came up).
    ReaderAdded {
        /// Reader name.
        reader: String,
    },
    /// A reader was unplugged (its card, if any, is reported removed first).
    ReaderRemoved {
        /// Reader name.
        reader: String,
    },
    /// A card is in the reader (inserted, or there when the reader was first seen).
    CardInserted {
        /// Reader name.
        reader: String,
        /// The card's answer to reset.
        atr: Atr,
    },
    /// A card is in the reader but does not answer (inserted the wrong way, broken, not a chip card).
    CardMute {
        /// Reader name.
        reader: String,
    },
    /// The card left the reader.
    CardRemoved {
        /// Reader name.
        reader: String,
    },
}

/// Timings of the reconnection to the service.
#[derive(Debug, Clone, Copy)]
pub struct MonitorOptions {
    /// First wait after the service was found down.
    pub backoff_min: Duration,
    /// Longest wait between two attempts.
    pub backoff_max: Duration,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        Self {
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// What the monitor thread and its owner share.
#[derive(Default)]
struct Shared {
    /// The context the thread is blocked in, for cancelling it; and the stop flag, under the same
    /// lock, so that the thread never publishes a context after the owner looked for one to cancel.
    inner: Mutex<Inner>,
    /// Wakes the thread from a backoff wait.
    wake: Condvar,
}

#[derive(Default)]
struct Inner {
    ctx: Option<Context>,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The data is a flag and a handle: a panicking holder cannot leave it inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.lock().stop
    }

    /// Waits `d` or until stopped; returns whether to go on.
    fn sleep(&self, d: Duration) -> bool {
        let guard = self.lock();
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |i| !i.stop)
            .unwrap_or_else(PoisonError::into_inner);
        !guard.stop
    }
}

/// A running reader monitor. Dropping it stops it (see [`Monitor::stop`]).
pub struct Monitor {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// How long [`Monitor::stop`] insists before giving up on a thread stuck in the PC/SC library.
const STOP_LIMIT: Duration = Duration::from_secs(3);

impl Monitor {
    /// Starts the monitor thread; `sink` gets every event, on the monitor thread, and returns
    /// `false` when nobody listens any more (the monitor then ends).
    pub fn start<F>(options: MonitorOptions, sink: F) -> std::io::Result<Self>
    where
        F: FnMut(MonitorEvent) -> bool + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new().name("eidlink-monitor".into()).spawn({
            let shared = Arc::clone(&shared);
            move || run(&shared, options, sink)
        })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Starts the monitor with a channel as its sink.
    pub fn with_channel(options: MonitorOptions) -> std::io::Result<(Self, std::sync::mpsc::Receiver<MonitorEvent>)> {
        let (tx, rx) = std::sync::mpsc::channel();
        let monitor = Self::start(options, move |e| tx.send(e).is_ok())?;
        Ok((monitor, rx))
    }

    /// Whether the thread has ended (stopped, or its sink hung up).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the monitor and waits for its thread: cancels the blocking `SCardGetStatusChange`
    /// (`SCardCancel` from this thread, through a clone of its context) and wakes a backoff wait.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        let deadline = Instant::now() + STOP_LIMIT;
        loop {
            {
                let mut inner = self.shared.lock();
                inner.stop = true;
                // pcsc-lite drops a cancel that arrives while the thread is between two calls, so
                // cancel again until the thread is gone (it checks the flag before each call).
                if let Some(ctx) = &inner.ctx {
                    if let Err(e) = ctx.cancel() {
                        tracing::debug!(error = %e, "SCardCancel");
                    }
                }
            }
            self.shared.wake.notify_all();
            if thread.is_finished() {
                break;
            }
            if Instant::now() > deadline {
                // Joining could hang the caller (the UI) for good: leave the thread behind.
                tracing::warn!("the reader monitor does not stop; leaving it");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if thread.join().is_err() {
            tracing::warn!("the reader monitor thread panicked");
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long a connection to the service must last for the next loss to start the backoff over.
const SERVICE_STABLE: Duration = Duration::from_secs(10);

/// Why a watch over one context ended.
enum End {
    Stopped,
    ServiceLost,
}

fn run<F: FnMut(MonitorEvent) -> bool>(shared: &Shared, options: MonitorOptions, mut sink: F) {
    let mut emit = |e: MonitorEvent| {
        tracing::debug!(event = ?e, "monitor");
        sink(e)
    };
    let mut backoff = options.backoff_min;
    // None until the first attempt, so the consumer hears about the service once either way.
    let mut service_up: Option<bool> = None;
    loop {
        if shared.stopped() {
            return;
        }
        let ctx = match crate::context() {
            Ok(ctx) => ctx,
            Err(e) => {
                tracing::debug!(error = %e, retry_in = ?backoff, "no PC/SC service");
                if service_up != Some(false) {
                    service_up = Some(false);
                    if !emit(MonitorEvent::ServiceDown) {
                        return;
                    }
                }
                if !shared.sleep(backoff) {
                    return;
                }
                backoff = (backoff * 2).min(options.backoff_max);
                continue;
            }
        };
        {
            let mut inner = shared.lock();
            if inner.stop {
                return;
            }
            inner.ctx = Some(ctx.clone());
        }
        let since = Instant::now();
        let end = if emit(MonitorEvent::ServiceUp) {
            watch(&ctx, shared, &mut emit)
        } else {
            End::Stopped
        };
        shared.lock().ctx = None;
        match end {
            End::Stopped => return,
            End::ServiceLost => {
                service_up = Some(false);
                // A service that keeps failing right after answering must not make us (and the UI)
                // flap: only a connection that lasted resets the backoff.
                if since.elapsed() > SERVICE_STABLE {
                    backoff = options.backoff_min;
                }
                if !emit(MonitorEvent::ServiceDown) || !shared.sleep(backoff) {
                    return;
                }
                backoff = (backoff * 2).min(options.backoff_max);
            }
        }
    }
}

/// What the consumer was last told about a reader's slot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Empty,
    Card(Atr),
    Mute,
}

fn slot_of(rs: &pcsc::ReaderState) -> Slot {
    let ev = rs.event_state();
    if !ev.contains(State::PRESENT) {
        Slot::Empty
    } else if ev.contains(State::MUTE) {
        Slot::Mute
    } else {
        Slot::Card(Atr(rs.atr().to_vec()))
    }
}

struct Known {
    slot: Slot,
    /// pcsc-lite's per-reader count of insertions and removals, to see a card swapped between two
    /// wake-ups.
    count: u32,
}

/// Whether the card seen now may be another one than the card seen before, from pcsc-lite's event
/// counter (the high 16 bits of `dwEventState`, one step per insertion and per removal).
///
/// pcscd publishes a reader's new state a moment before it steps the counter (eventhandler.c sets
/// `readerState`, then `eventCounter++`, then wakes the clients), so a client that reads the states
/// in between (any wake-up, or the start of the next call) sees the inserted card with the old
/// count, and the next wake-up sees the same card with the count one higher. A step of one is
/// therefore the insertion already reported; only two or more (a removal and an insertion) mean the
/// card was swapped unseen. Counting a step of one as a swap made the monitor report a removal and
/// an insertion that never happened.
fn swapped(before: u32, now: u32) -> bool {
    // The counter wraps at 16 bits.
    now.wrapping_sub(before) & 0xFFFF >= 2
}

/// Events leading from `old` to `new` for one reader.
fn transition(reader: &str, old: &Slot, new: &Slot, swapped: bool, out: &mut Vec<MonitorEvent>) {
    if old == new && !(swapped && *new != Slot::Empty) {
        return;
    }
    if *old != Slot::Empty {
        out.push(MonitorEvent::CardRemoved {
            reader: reader.to_owned(),
        });
    }
    match new {
        Slot::Empty => {}
        Slot::Mute => out.push(MonitorEvent::CardMute {
            reader: reader.to_owned(),
        }),
        Slot::Card(atr) => out.push(MonitorEvent::CardInserted {
            reader: reader.to_owned(),
            atr: atr.clone(),
        }),
    }
}

fn watch<F: FnMut(MonitorEvent) -> bool>(ctx: &Context, shared: &Shared, emit: &mut F) -> End {
    // Index 0 is the PnP pseudo-reader; the others are real readers.
    let mut states = vec![pcsc::ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut relist = true;
    loop {
        let mut events = Vec::new();
        if relist {
            let names = match ctx.list_readers_owned() {
                Ok(n) => n,
                Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
                Err(e) => {
                    tracing::debug!(error = %e, "listing readers");
                    return End::ServiceLost;
                }
            };
            // Gone readers: their card first, then the reader.
            let mut i = 1;
            while i < states.len() {
                if names.iter().any(|n| n.as_c_str() == states[i].name()) {
                    i += 1;
                    continue;
                }
                let rs = states.remove(i);
                let reader = crate::reader_name(rs.name());
                if let Some(k) = known.remove(&reader) {
                    transition(&reader, &k.slot, &Slot::Empty, false, &mut events);
                }
                events.push(MonitorEvent::ReaderRemoved { reader });
            }
            for name in names {
                if !states.iter().any(|s| s.name() == name.as_c_str()) {
                    events.push(MonitorEvent::ReaderAdded {
                        reader: crate::reader_name(&name),
                    });
                    // UNAWARE: the next call returns at once with its state.
                    states.push(pcsc::ReaderState::new(name, State::UNAWARE));
                }
            }
            relist = false;
        }
        for e in events {
            if !emit(e) {
                return End::Stopped;
            }
        }
        if shared.stopped() {
            return End::Stopped;
        }
        match ctx.get_status_change(None, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Cancelled) if shared.stopped() => return End::Stopped,
            // Someone else's cancel, or a spurious wake-up: look again.
            Err(pcsc::Error::Cancelled | pcsc::Error::Timeout) => continue,
            // A reader went away between the listing and the call.
            Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => {
                relist = true;
                continue;
            }
            Err(e) => {
                tracing::debug!(error = %e, "waiting for a status change");
                return End::ServiceLost;
            }
        }
        let mut events = Vec::new();
        for rs in states.iter_mut() {
            let ev = rs.event_state();
            if rs.name() == PNP_NOTIFICATION() {
                relist |= ev.contains(State::CHANGED);
            } else if ev.intersects(State::UNKNOWN | State::UNAVAILABLE) {
                // The reader is going away; the relisting reports it.
                relist = true;
            } else if ev.contains(State::CHANGED) || rs.current_state() == State::UNAWARE {
                let reader = crate::reader_name(rs.name());
                let new = slot_of(rs);
                let count = rs.event_count();
                match known.get_mut(&reader) {
                    Some(k) => {
                        transition(&reader, &k.slot, &new, swapped(k.count, count), &mut events);
                        k.slot = new;
                        k.count = count;
                    }
                    None => {
                        transition(&reader, &Slot::Empty, &new, false, &mut events);
                        known.insert(reader, Known { slot: new, count });
                    }
                }
            }
            rs.sync_current_state();
        }
        for e in events {
            if !emit(e) {
                return End::Stopped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(b: u8) -> Slot {
        Slot::Card(Atr(vec![0x3B, b]))
    }

    fn run(old: &Slot, new: &Slot, swapped: bool) -> Vec<MonitorEvent> {
        let mut out = Vec::new();
        transition("R", old, new, swapped, &mut out);
        out
    }

    #[test]
    fn transitions_between_slots() {
        let r = || "R".to_owned();
        assert!(run(&Slot::Empty, &Slot::Empty, false).is_empty());
        assert!(run(&card(1), &card(1), false).is_empty());
        assert_eq!(
            run(&Slot::Empty, &card(1), false),
            vec![MonitorEvent::CardInserted {
                reader: r(),
                atr: Atr(vec![0x3B, 1])
            }]
        );
        assert_eq!(
            run(&card(1), &Slot::Empty, false),
            vec![MonitorEvent::CardRemoved { reader: r() }]
        );
        assert_eq!(
            run(&Slot::Empty, &Slot::Mute, false),
            vec![MonitorEvent::CardMute { reader: r() }]
        );
        // A card swapped for another between two wake-ups: removed, then inserted.
        let swapped = vec![
            MonitorEvent::CardRemoved { reader: r() },
            MonitorEvent::CardInserted {
                reader: r(),
                atr: Atr(vec![0x3B, 1]),
            },
        ];
        assert_eq!(run(&card(1), &card(1), true), swapped);
        assert_eq!(run(&card(2), &card(1), false), swapped);
        // Inserted and pulled again between two wake-ups: nothing to tell.
        assert!(run(&Slot::Empty, &Slot::Empty, true).is_empty());
    }

    #[test]
    fn only_two_counter_steps_or_more_are_a_swap() {
        // The same card seen before and after pcscd stepped the counter for its insertion.
        assert!(!swapped(7, 7));
        assert!(!swapped(7, 8));
        // Removed and inserted again (or more) between two looks.
        assert!(swapped(7, 9));
        assert!(swapped(7, 12));
        // Across the 16-bit wrap.
        assert!(!swapped(0xFFFF, 0));
        assert!(swapped(0xFFFF, 1));
        assert!(swapped(0xFFFE, 0));
    }
}
