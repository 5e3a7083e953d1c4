//! The server's challenge nonce (protocol.md §2.1, §4): 44 to 128 characters. 44 is the base64 of 32
//! random bytes, what Web eID's servers issue; the bounds are Web eID's, so a nonce one side takes
//! the other takes too.

use std::fmt;

/// Fewest characters of a nonce.
pub const NONCE_MIN_LEN: usize = 44;
/// Most characters of a nonce.
pub const NONCE_MAX_LEN: usize = 128;

/// A nonce whose length is not within [`NONCE_MIN_LEN`]..=[`NONCE_MAX_LEN`] characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the challenge nonce must be 44 to 128 characters, got {0}")]
pub struct InvalidNonce(pub usize);

/// A challenge nonce within Web eID's bounds. Lengths count characters (Unicode scalar values), as
/// protocol.md does; a nonce is hashed as its UTF-8 bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nonce(String);

impl Nonce {
    /// Checks the length.
    pub fn new(nonce: impl Into<String>) -> Result<Self, InvalidNonce> {
        let nonce = nonce.into();
        let len = nonce.chars().count();
        if (NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&len) {
            Ok(Self(nonce))
        } else {
            Err(InvalidNonce(len))
        }
    }

    /// The nonce.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({:?})", self.0)
    }
}

impl AsRef<str> for Nonce {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nonce {
    type Error = InvalidNonce;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Nonce {
    type Error = InvalidNonce;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(Nonce::new("x".repeat(43)), Err(InvalidNonce(43)));
        assert_eq!(Nonce::new("x".repeat(44)).map(|n| n.as_str().len()), Ok(44));
        assert_eq!(Nonce::new("x".repeat(128)).map(|n| n.as_str().len()), Ok(128));
        assert_eq!(Nonce::new("x".repeat(129)), Err(InvalidNonce(129)));
        assert_eq!(Nonce::new(""), Err(InvalidNonce(0)));
        // Characters, not bytes: 44 two-byte characters are a nonce, 129 of them are not.
        assert!(Nonce::new("é".repeat(44)).is_ok());
        assert_eq!(Nonce::new("é".repeat(129)), Err(InvalidNonce(129)));
        assert!(Nonce::try_from("A".repeat(44).as_str()).is_ok());
        assert_eq!(
            InvalidNonce(3).to_string(),
            "the challenge nonce must be 44 to 128 characters, got 3"
        );
    }
}
