//! The one thread that talks to the cards. Every caller thread (NSS calls from many) hands it a
//! job and waits for the answer; a job that panics is caught there and answers nothing, which
//! the caller sees as `CKR_GENERAL_ERROR`, and the thread goes on.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::thread::JoinHandle;

use cryptoki_sys::{CKR_GENERAL_ERROR, CK_RV};

use crate::cards::Cards;

type Job = Box<dyn FnOnce(&mut Cards) + Send>;

/// The card thread.
pub(crate) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("eidlink-pkcs11-cards".to_owned())
            .spawn(move || {
                let mut cards = Cards::new();
                for job in rx {
                    if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut cards))).is_err() {
                        tracing::error!("a card job panicked");
                    }
                }
            })?;
        Ok(Self {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `f` on the card thread; its result comes on the returned channel (nothing comes if
    /// it panicked).
    pub(crate) fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Cards) -> R + Send + 'static,
    ) -> Result<mpsc::Receiver<R>, CK_RV> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |cards| {
            let _ = tx.send(f(cards));
        });
        self.jobs
            .as_ref()
            .ok_or(CKR_GENERAL_ERROR)?
            .send(job)
            .map_err(|_| CKR_GENERAL_ERROR)?;
        Ok(rx)
    }

    /// Ends the thread once its queue is done; waits for it when `wait` (a job still waiting for
    /// the user must not hold `C_Finalize`: the thread then ends by itself).
    pub(crate) fn stop(mut self, wait: bool) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            if wait {
                let _ = t.join();
            }
        }
    }
}
