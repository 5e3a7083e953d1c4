//! What runs behind the window: the reader monitor and a card-reading worker, both feeding
//! [`Event`]s to one sink (the UI's channel). The UI thread only applies events to its
//! [`AppState`](crate::state::AppState) and hands the returned [`Effect`]s to [`Backend::run`].

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use eidlink_pcsc::monitor::{Monitor, MonitorOptions};

use crate::state::{Effect, Event};

type Sink = Arc<dyn Fn(Event) -> bool + Send + Sync>;

/// The monitor and the card reader.
pub struct Backend {
    monitor: Option<Monitor>,
    reads: Option<Sender<(String, u64)>>,
    worker: Option<JoinHandle<()>>,
}

impl Backend {
    /// Starts both threads; `sink` gets every event and returns `false` once nobody listens. Cards
    /// are read through our drivers, and through the PKCS#11 modules of `config` where none of our
    /// drivers runs the card or a module is preferred for the reader.
    pub fn start<F>(options: MonitorOptions, config: eidlink_settings::Config, sink: F) -> std::io::Result<Self>
    where
        F: Fn(Event) -> bool + Send + Sync + 'static,
    {
        let sink: Sink = Arc::new(sink);
        let (reads, requests) = mpsc::channel::<(String, u64)>();
        let worker = std::thread::Builder::new().name("eidlink-card-reader".into()).spawn({
            let sink = Arc::clone(&sink);
            move || {
                // One card at a time: reads are short, and a second reader's card waits its turn.
                for (reader, insertion) in requests {
                    let outcome = crate::card::read_reader(&reader, &config);
                    if !sink(Event::CardRead {
                        reader,
                        insertion,
                        outcome,
                    }) {
                        return;
                    }
                }
            }
        })?;
        let monitor = Monitor::start(options, move |e| sink(Event::Monitor(e)))?;
        Ok(Self {
            monitor: Some(monitor),
            reads: Some(reads),
            worker: Some(worker),
        })
    }

    /// Starts the backend with a channel as its sink.
    pub fn with_channel(
        options: MonitorOptions,
        config: eidlink_settings::Config,
    ) -> std::io::Result<(Self, Receiver<Event>)> {
        let (tx, rx) = mpsc::channel();
        let backend = Self::start(options, config, move |e| tx.send(e).is_ok())?;
        Ok((backend, rx))
    }

    /// Carries out an effect of the reducer.
    pub fn run(&self, effect: Effect) {
        match effect {
            Effect::ReadCard { reader, insertion } => {
                if let Some(reads) = &self.reads {
                    // The worker ends only when its sink is gone, and then nobody wants the result.
                    let _ = reads.send((reader, insertion));
                }
            }
        }
    }

    /// Stops the monitor and waits for a card read in progress to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(m) = self.monitor.take() {
            m.stop();
        }
        // Closing the request channel ends the worker after its current read.
        self.reads = None;
        if let Some(w) = self.worker.take() {
            if w.join().is_err() {
                tracing::warn!("the card reader thread panicked");
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.shutdown();
    }
}
