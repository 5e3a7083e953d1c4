//! The PIN program as a child process (docs/pin-dialog-protocol.md): JSON lines on its stdin and
//! stdout. Dropping a `PinProgram` kills the child, so the dialog never outlives the request.

use std::process::Stdio;

use eidlink_core::Pin;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use zeroize::Zeroizing;

use super::errors::{HostError, Reason};

/// What the dialog asks.
#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    /// `authenticate`, `sign` or `consent`.
    pub purpose: &'static str,
    /// The origin.
    pub origin: String,
    /// Language code.
    pub lang: String,
    /// Certificate holder.
    pub holder: String,
    /// The certificate shown.
    pub certificate: CertView,
    /// The document hash (sign only).
    pub hash: Option<HashView>,
    /// The PIN rules (not for consent).
    pub pin: Option<PinView>,
    /// PIN typed on the reader.
    pub pinpad: bool,
    /// What went wrong with the previous answer.
    pub error: Option<serde_json::Value>,
}

/// Certificate facts shown to the user.
#[derive(Debug, Clone, Serialize)]
pub struct CertView {
    /// Subject CN.
    pub subject: String,
    /// Issuer CN.
    pub issuer: String,
    /// Start of validity.
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
}

/// The document hash shown for a signature.
#[derive(Debug, Clone, Serialize)]
pub struct HashView {
    /// "SHA-256"...
    pub function: String,
    /// Grouped hex of the first bytes.
    pub fingerprint: String,
}

/// PIN rules and state.
#[derive(Debug, Clone, Serialize)]
pub struct PinView {
    /// "PIN", "PIN1", "PIN2".
    pub label: &'static str,
    /// Fewest digits.
    pub min: u8,
    /// Most digits.
    pub max: u8,
    /// Tries left, if known.
    pub tries_left: Option<u8>,
    /// Tries of a fresh PIN.
    pub max_tries: u8,
}

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

#[derive(Deserialize)]
struct RawAnswer<'a> {
    result: &'a str,
    #[serde(borrow)]
    pin: Option<&'a str>,
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
        let mut msg = serde_json::to_value(ask).map_err(|e| HostError::new(Reason::Internal, e.to_string()))?;
        if let Some(obj) = msg.as_object_mut() {
            obj.insert("type".into(), "ask".into());
        }
        self.send(&msg).await?;
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
        let raw: RawAnswer<'_> = serde_json::from_str(line.trim_end()).map_err(|_| lost("malformed answer"))?;
        match (raw.result, raw.pin) {
            ("pin", Some(pin)) => Ok(Answer::Pin(Pin::new(Zeroizing::new(pin.to_owned())))),
            ("confirmed", _) => Ok(Answer::Confirmed),
            ("cancelled", _) => Ok(Answer::Cancelled),
            _ => Err(lost("unexpected answer")),
        }
    }

    /// Shows a status line (`insert_card`, `card_removed`, `working`).
    pub async fn status(&mut self, message: &str) -> Result<(), HostError> {
        self.send(&serde_json::json!({"type": "status", "message": message}))
            .await
    }

    /// Closes the dialog: asks it to go, gives it a moment to exit on its own, then kills it (on drop).
    pub async fn close(mut self) {
        let _ = self.send(&serde_json::json!({"type": "close"})).await;
        let Self { mut child, stdin, .. } = self;
        drop(stdin);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), child.wait()).await;
    }

    async fn send(&mut self, msg: &serde_json::Value) -> Result<(), HostError> {
        let mut line = serde_json::to_vec(msg).map_err(|e| HostError::new(Reason::Internal, e.to_string()))?;
        line.push(b'\n');
        self.stdin.write_all(&line).await.map_err(|e| lost(&e.to_string()))?;
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
