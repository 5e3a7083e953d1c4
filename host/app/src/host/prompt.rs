//! The PIN program as a child process (docs/pin-dialog-protocol.md, types in
//! `eidlink-pin-protocol`): JSON lines on its stdin and stdout. Dropping a `PinProgram` kills the
//! child, so the dialog never outlives the request.

use std::process::Stdio;

use eidlink_core::Pin;
use eidlink_pin_protocol::lines::LineBuffer;
use eidlink_pin_protocol::{Ask, Request, Response, Status};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
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
    stdout: LineReader<ChildStdout>,
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
            stdout: LineReader::new(stdout),
        })
    }

    /// Asks and waits for the answer.
    pub async fn ask(&mut self, ask: &Ask) -> Result<Answer, HostError> {
        self.send(&Request::Ask(Box::new(ask.clone()))).await?;
        self.answer().await
    }

    /// Waits for the dialog's next answer line. Cancel-safe: a line read in part stays in the
    /// reader for the next call (the host waits for it alongside the card search).
    pub async fn answer(&mut self) -> Result<Answer, HostError> {
        // The line holds the PIN: it only ever lives in wiped memory (see `LineReader`).
        let line = self
            .stdout
            .read_line()
            .await
            .map_err(|e| lost(&e.to_string()))?
            .ok_or_else(|| lost("it closed without answering"))?;
        match Response::from_line(&line).map_err(|e| lost(&e.to_string()))? {
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

/// Reads the dialog's answer lines into the protocol crate's wiped buffer (see
/// [`LineBuffer`]: no copy of a PIN is left behind in this reader).
struct LineReader<R> {
    inner: R,
    buf: LineBuffer,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            buf: LineBuffer::new(),
        }
    }

    /// The next line with its `\n` (in zeroizing memory), or `None` at the end of input (a
    /// partial last line is dropped: an answer is only whole with its newline). Cancel-safe: bytes
    /// read stay in the buffer.
    async fn read_line(&mut self) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
        loop {
            if let Some(line) = self
                .buf
                .next_line()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
            {
                return Ok(Some(line));
            }
            let n = self.inner.read(self.buf.space()).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.filled(n);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_pin_line_leaves_no_copy_in_the_reader() {
        let input: &[u8] = b"{\"result\":\"pin\",\"pin\":\"918273\"}\n{\"result\":\"cancelled\"}\n";
        let mut reader = LineReader::new(input);
        let line = reader.read_line().await.unwrap().unwrap();
        assert!(matches!(Response::from_line(&line), Ok(Response::Pin(p)) if p.as_str() == "918273"));
        drop(line);
        // The reader already holds the next line, and nothing of the PIN.
        let held = reader.buf.raw();
        assert!(
            !held.windows(6).any(|w| w == b"918273"),
            "the PIN stays in the reader's buffer"
        );
        let next = reader.read_line().await.unwrap().unwrap();
        assert_eq!(&next[..], b"{\"result\":\"cancelled\"}\n");
        assert!(reader.buf.raw().iter().all(|&b| b == 0), "all consumed bytes are wiped");
        assert!(reader.read_line().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn lines_split_across_reads_and_overlong_lines() {
        let (mut w, r) = tokio::io::duplex(8);
        let mut reader = LineReader::new(r);
        let writer = tokio::spawn(async move {
            w.write_all(b"{\"result\":\"confirmed\"}\n").await.unwrap();
            w.write_all(&vec![b'x'; eidlink_pin_protocol::lines::MAX_ANSWER_LINE + 1])
                .await
                .unwrap();
        });
        assert_eq!(
            &reader.read_line().await.unwrap().unwrap()[..],
            b"{\"result\":\"confirmed\"}\n"
        );
        let err = reader.read_line().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        writer.abort();
    }
}
