//! The answer lines of a PIN program hold the PIN, so they are read into memory that is wiped: a
//! `BufReader` would keep each PIN in its buffer after the line is consumed, and a growing `String`
//! leaves copies behind when it reallocates. [`LineBuffer`] is that memory, without I/O, so that the
//! host's asynchronous reader and the PKCS#11 module's blocking one share it: the one buffer is
//! allocated once at its full size, every consumed byte is overwritten at once, and the buffer is
//! zeroized when dropped.

use zeroize::{Zeroize, Zeroizing};

/// The longest answer line a PIN program sends (`{"result":"pin","pin":"..."}` with a PIN of at
/// most a few dozen characters, even \u-escaped, is far below).
pub const MAX_ANSWER_LINE: usize = 4096;

/// Why no line came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// More than [`MAX_ANSWER_LINE`] bytes without a newline (everything read is wiped).
    #[error("an answer line is too long")]
    TooLong,
}

/// Bytes read from a PIN program, split into lines, in wiped memory.
pub struct LineBuffer {
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
}

impl Default for LineBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl LineBuffer {
    /// An empty buffer of [`MAX_ANSWER_LINE`] bytes.
    pub fn new() -> Self {
        Self {
            buf: Zeroizing::new(vec![0; MAX_ANSWER_LINE]),
            filled: 0,
        }
    }

    /// The next whole line with its `\n` (in zeroizing memory), if one has been read; what follows
    /// it moves to the front and what it leaves behind is wiped.
    pub fn next_line(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, LineError> {
        if let Some(end) = self.buf[..self.filled].iter().position(|&b| b == b'\n') {
            let len = end + 1;
            let line = Zeroizing::new(self.buf[..len].to_vec());
            self.buf.copy_within(len..self.filled, 0);
            self.filled -= len;
            let filled = self.filled;
            self.buf[filled..].zeroize();
            return Ok(Some(line));
        }
        if self.filled == self.buf.len() {
            self.buf.zeroize();
            self.filled = 0;
            return Err(LineError::TooLong);
        }
        Ok(None)
    }

    /// Where the next read goes (never empty while [`next_line`](Self::next_line) returns
    /// `Ok(None)`); report what was read with [`filled`](Self::filled).
    pub fn space(&mut self) -> &mut [u8] {
        let filled = self.filled;
        &mut self.buf[filled..]
    }

    /// `n` bytes were read into [`space`](Self::space).
    pub fn filled(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.buf.len());
    }

    /// Whether bytes of an unfinished line are held.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// The whole buffer, for tests that check nothing is left behind.
    #[doc(hidden)]
    pub fn raw(&self) -> &[u8] {
        &self.buf
    }
}

/// Reads lines from a blocking reader into a [`LineBuffer`].
pub fn read_line_blocking<R: std::io::Read>(
    buffer: &mut LineBuffer,
    reader: &mut R,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    loop {
        match buffer.next_line() {
            Ok(Some(line)) => return Ok(Some(line)),
            Ok(None) => {}
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
        let n = match reader.read(buffer.space()) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(None);
        }
        buffer.filled(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_pin_line_leaves_no_copy_behind() {
        let mut input: &[u8] = b"{\"result\":\"pin\",\"pin\":\"918273\"}\n{\"result\":\"cancelled\"}\n";
        let mut buffer = LineBuffer::new();
        let line = read_line_blocking(&mut buffer, &mut input).unwrap().unwrap();
        assert!(line.windows(6).any(|w| w == b"918273"));
        drop(line);
        assert!(
            !buffer.raw().windows(6).any(|w| w == b"918273"),
            "the PIN stays in the buffer"
        );
        let next = read_line_blocking(&mut buffer, &mut input).unwrap().unwrap();
        assert_eq!(&next[..], b"{\"result\":\"cancelled\"}\n");
        assert!(buffer.raw().iter().all(|&b| b == 0), "all consumed bytes are wiped");
        assert!(read_line_blocking(&mut buffer, &mut input).unwrap().is_none());
    }

    #[test]
    fn an_overlong_line_is_refused_and_wiped() {
        let long = vec![b'7'; MAX_ANSWER_LINE + 10];
        let mut input: &[u8] = &long;
        let mut buffer = LineBuffer::new();
        let err = read_line_blocking(&mut buffer, &mut input).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(buffer.raw().iter().all(|&b| b == 0));
    }
}
