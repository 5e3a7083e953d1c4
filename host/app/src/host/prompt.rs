//! The PIN program as a child process (docs/pin-dialog-protocol.md, types in
//! `eidlink-pin-protocol`): JSON lines on its stdin and stdout. Dropping a `PinProgram` kills the
//! child, so the dialog never outlives the request.

use std::process::Stdio;

use eidlink_core::Pin;
use eidlink_pin_protocol::{Ask, Request, Response, Status};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use zeroize::Zeroizing;

use super::errors::{HostError, Reason};

/// The dialog's answer.
#[derive(Debug)]
pub enum Answer {
    /// The PIN.
    Pin(Pin),
    /// Consent given.
    Confirmed,
    /// The user cancelled.
    Cancelled,
}

/// A running PIN program.
pub struct PinProgram {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PinProgram {
    /// Starts the program.
    pub fn spawn(argv: &[String]) -> Result<Self, HostError> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| HostError::new(Reason::Internal, "empty pin-program"))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                HostError::new(
                    Reason::Internal,
                    format!("cannot start the PIN dialog '{program}': {e}"),
                )
            })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| HostError::new(Reason::Internal, "PIN dialog without stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| HostError::new(Reason::Internal, "PIN dialog without stdout"))?;
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Asks and waits for the answer.
    pub async fn ask(&mut self, ask: &Ask) -> Result<Answer, HostError> {
        self.send(&Request::Ask(Box::new(ask.clone()))).await?;
        // The line holds the PIN: read it into a buffer that is zeroized when dropped.
        let mut line = Zeroizing::new(String::new());
        let n = self
            .stdout
            .read_line(&mut line)
            .await
            .map_err(|e| lost(&e.to_string()))?;
        if n == 0 {
            return Err(lost("it closed without answering"));
        }
        match Response::from_line(line.as_bytes()).map_err(|e| lost(&e.to_string()))? {
            Response::Pin(pin) => Ok(Answer::Pin(Pin::new(pin))),
            Response::Confirmed => Ok(Answer::Confirmed),
            Response::Cancelled => Ok(Answer::Cancelled),
        }
    }

    /// Shows an `ask` that gets no answer: the PIN is typed on the reader's pad or asked by the
    /// token (`pinpad: true`, docs/pin-dialog-protocol.md), and the dialog stays until `close`.
    pub async fn show(&mut self, ask: &Ask) -> Result<(), HostError> {
        self.send(&Request::Ask(Box::new(ask.clone()))).await
    }

    /// Shows a status line in the open dialog.
    pub async fn status(&mut self, message: Status) -> Result<(), HostError> {
        self.send(&Request::Status { message }).await
    }

    /// Closes the dialog: asks it to go, gives it a moment to exit on its own, then kills it (on drop).
    pub async fn close(mut self) {
        let _ = self.send(&Request::Close).await;
        let Self { mut child, stdin, .. } = self;
        drop(stdin);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), child.wait()).await;
    }

    async fn send(&mut self, request: &Request) -> Result<(), HostError> {
        let line = request
            .to_line()
            .map_err(|e| HostError::new(Reason::Internal, e.to_string()))?;
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| lost(&e.to_string()))?;
        self.stdin.flush().await.map_err(|e| lost(&e.to_string()))
    }
}

fn lost(why: &str) -> HostError {
    HostError::new(Reason::Internal, format!("the PIN dialog failed: {why}"))
}

/// The first bytes of a hash as grouped hex, for the user to compare.
pub fn fingerprint(hash: &[u8]) -> String {
    hash.iter()
        .take(12)
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|c| c.concat())
        .collect::<Vec<_>>()
        .join(" ")
}
