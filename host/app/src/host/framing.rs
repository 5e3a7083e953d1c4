//! Native-messaging framing (protocol.md §2): a 4-byte native-endian length, then that many bytes of
//! UTF-8 JSON. Browser → host frames are 5..=8192 bytes; the length is checked before anything is
//! allocated, so a hostile length costs nothing.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Shortest frame the host accepts (`{"a":1}` is already longer; 5 is Web eID's bound).
pub const MIN_FRAME: u32 = 5;
/// Longest browser → host frame (Web eID's limit; the extension checks it too).
pub const MAX_FRAME: u32 = 8192;

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Stdin closed before a frame started: the browser is gone.
    #[error("end of input")]
    Eof,
    /// The length is below the minimum.
    #[error("message of {0} bytes is too short")]
    TooShort(u32),
    /// The length is above the maximum.
    #[error("message of {0} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLong(u32),
    /// Stdin closed inside a frame.
    #[error("message truncated: the input ended inside it")]
    Truncated,
    /// Reading failed.
    #[error("cannot read the message: {0}")]
    Io(String),
}

/// Reads one frame.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        match r.read(&mut header[got..]).await {
            Ok(0) if got == 0 => return Err(FrameError::Eof),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) => return Err(FrameError::Io(e.to_string())),
        }
    }
    let len = u32::from_ne_bytes(header);
    if len < MIN_FRAME {
        return Err(FrameError::TooShort(len));
    }
    if len > MAX_FRAME {
        return Err(FrameError::TooLong(len));
    }
    let mut body = vec![0u8; len as usize];
    match r.read_exact(&mut body).await {
        Ok(_) => Ok(body),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(FrameError::Truncated),
        Err(e) => Err(FrameError::Io(e.to_string())),
    }
}

/// Encodes one frame.
pub fn encode(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 4);
    out.extend_from_slice(&(json.len() as u32).to_ne_bytes());
    out.extend_from_slice(json);
    out
}

/// Writes one compact JSON frame and flushes it.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, value: &serde_json::Value) -> std::io::Result<()> {
    let json = serde_json::to_vec(value)?;
    w.write_all(&encode(&json)).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: Vec<u8>) -> Result<Vec<u8>, FrameError> {
        read_frame(&mut &bytes[..]).await
    }

    #[tokio::test]
    async fn frames_round_trip_and_bounds_hold() {
        let body = br#"{"command":"quit","arguments":{}}"#.to_vec();
        assert_eq!(read(encode(&body)).await, Ok(body));
        assert_eq!(read(Vec::new()).await, Err(FrameError::Eof));
        assert_eq!(read(vec![1, 0]).await, Err(FrameError::Truncated));
        assert_eq!(read(encode(b"{}")).await, Err(FrameError::TooShort(2)));
        let mut huge = u32::MAX.to_ne_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert_eq!(read(huge).await, Err(FrameError::TooLong(u32::MAX)));
        let mut cut = encode(b"{\"a\":123456}");
        cut.truncate(8);
        assert_eq!(read(cut).await, Err(FrameError::Truncated));
        assert_eq!(read(encode(&[b'x'; 8192])).await.map(|b| b.len()), Ok(8192));
        assert_eq!(read(encode(&[b'x'; 8193])).await, Err(FrameError::TooLong(8193)));
    }
}
