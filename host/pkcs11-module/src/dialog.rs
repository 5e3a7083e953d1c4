//! eidlink's PIN dialog, run from inside the browser's process: the `pin-program` of the user's
//! settings (the same as the native-messaging host's, so tests use the scripted PIN program),
//! spoken to over docs/pin-dialog-protocol.md with blocking pipes. The answer lines are read into
//! the protocol crate's wiped buffer; the program is killed when the dialog is dropped or when the
//! user has not answered within the settings' timeout, so a handshake never waits forever.

use std::io::Write;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eidlink_core::Pin;
use eidlink_pin_protocol::lines::{read_line_blocking, LineBuffer};
use eidlink_pin_protocol::{Ask, Request, Response};

/// Why the dialog gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialogError {
    /// The program could not be started.
    #[error("cannot start the PIN dialog {program:?}: {error}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        error: std::io::Error,
    },
    /// The program closed, timed out or answered nonsense.
    #[error("the PIN dialog failed: {0}")]
    Lost(String),
}

/// The user's answer.
pub(crate) enum Answer {
    /// The PIN typed.
    Pin(Pin),
    /// Cancel, Escape, the window closed, or no answer in time.
    Cancelled,
}

/// A running PIN program.
pub(crate) struct Dialog {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    stdout: ChildStdout,
    buffer: LineBuffer,
    /// Dropping it tells the watchdog the dialog is over.
    _watchdog: mpsc::Sender<()>,
}

impl Dialog {
    /// Starts `argv`, to be killed after `timeout` unless dropped before.
    pub(crate) fn spawn(argv: &[String], timeout: Duration) -> Result<Self, DialogError> {
        let (program, args) = argv.split_first().ok_or_else(|| DialogError::Spawn {
            program: String::new(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty pin-program"),
        })?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // The browser's stderr: the dialog's complaints go where the browser's go.
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| DialogError::Spawn {
                program: program.clone(),
                error,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DialogError::Lost("no pipes to the PIN dialog".to_owned()));
        };
        let child = Arc::new(Mutex::new(child));
        let (tx, rx) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        std::thread::Builder::new()
            .name("eidlink-pin-watchdog".to_owned())
            .spawn(move || {
                if rx.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout) {
                    tracing::info!("the PIN dialog was not answered in time: closed");
                    if let Ok(mut c) = watched.lock() {
                        let _ = c.kill();
                    }
                }
            })
            .map_err(|e| DialogError::Lost(e.to_string()))?;
        Ok(Self {
            child,
            stdin,
            stdout,
            buffer: LineBuffer::new(),
            _watchdog: tx,
        })
    }

    /// Asks and waits for the answer.
    pub(crate) fn ask(&mut self, ask: &Ask) -> Result<Answer, DialogError> {
        self.send(&Request::Ask(Box::new(ask.clone())))?;
        self.answer()
    }

    /// Shows an ask that is not answered (the PIN is typed on the reader's pad); the dialog stays
    /// until it is dropped.
    pub(crate) fn show(&mut self, ask: &Ask) {
        let _ = self.send(&Request::Ask(Box::new(ask.clone())));
    }

    /// Shows a final state (a blocked PIN) until the user closes it.
    pub(crate) fn tell(&mut self, ask: &Ask) {
        if self.send(&Request::Ask(Box::new(ask.clone()))).is_ok() {
            let _ = self.answer();
        }
    }

    fn answer(&mut self) -> Result<Answer, DialogError> {
        let line =
            read_line_blocking(&mut self.buffer, &mut self.stdout).map_err(|e| DialogError::Lost(e.to_string()))?;
        // End of output: the window was closed, or the watchdog killed it.
        let Some(line) = line else {
            return Ok(Answer::Cancelled);
        };
        match Response::from_line(&line).map_err(|e| DialogError::Lost(e.to_string()))? {
            Response::Pin(pin) => Ok(Answer::Pin(Pin::new(pin))),
            Response::Cancelled => Ok(Answer::Cancelled),
            Response::Confirmed => Err(DialogError::Lost("a confirmation where a PIN was asked".to_owned())),
        }
    }

    fn send(&mut self, request: &Request) -> Result<(), DialogError> {
        let line = request.to_line().map_err(|e| DialogError::Lost(e.to_string()))?;
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| DialogError::Lost(e.to_string()))
    }
}

impl Drop for Dialog {
    fn drop(&mut self) {
        // Ask it to close; whoever waits for the signature does not wait for the window to go: a
        // thread gives it a moment, then makes sure it is gone (here, if no thread can be had).
        let _ = self.send(&Request::Close);
        let child = Arc::clone(&self.child);
        let spawned = std::thread::Builder::new()
            .name("eidlink-pin-close".to_owned())
            .spawn(move || reap(&child));
        if spawned.is_err() {
            reap(&self.child);
        }
    }
}

/// Waits up to half a second for the program to exit (polled finely), then kills it.
fn reap(child: &Mutex<Child>) {
    let Ok(mut c) = child.lock() else { return };
    let mut waited = Duration::ZERO;
    let mut step = Duration::from_millis(1);
    while waited < Duration::from_millis(500) {
        if matches!(c.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(step);
        waited += step;
        step = (step * 2).min(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
}
