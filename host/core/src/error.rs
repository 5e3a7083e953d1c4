//! Errors of the card layer, each with a class that tells the host how to react.

use thiserror::Error;

use crate::apdu::ApduError;
use crate::status::StatusWord;
use crate::transport::TransportError;

/// What the host should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The card went away or was reset under us: wait for the card and start the operation again
    /// from the beginning (the PIN is asked again).
    CardGone,
    /// Trying again may work without the user doing anything (card reset, busy).
    Retriable,
    /// The user must act: insert a card, connect a reader, type another PIN.
    UserAction,
    /// The request fails; retrying will not help.
    Fatal,
}

/// Why a PIN verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PinFailure {
    /// Wrong PIN; `retries` tries are left, when the token tells (a PKCS#11 token tells only
    /// "final try"; "locked" is [`PinFailure::Blocked`]).
    #[error("wrong PIN{}", match retries { Some(1) => ", 1 try left".to_owned(), Some(n) => format!(", {n} tries left"), None => String::new() })]
    Wrong {
        /// Tries left after this failure, if known.
        retries: Option<u8>,
    },
    /// The PIN is blocked; it must be unblocked with the PUK at the issuer.
    #[error("the PIN is blocked")]
    Blocked,
    /// The PIN does not fit the card's rules (length, characters).
    #[error("the PIN does not have a valid format for this card")]
    InvalidFormat,
    /// The PIN-pad reader timed out waiting for the PIN.
    #[error("PIN entry on the reader timed out")]
    PinpadTimeout,
    /// The user cancelled on the PIN-pad reader.
    #[error("PIN entry was cancelled on the reader")]
    PinpadCancelled,
}

/// Errors of a card operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CardError {
    /// The transport failed (no card, card removed, service down...).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A command could not be encoded.
    #[error(transparent)]
    Apdu(#[from] ApduError),
    /// The card answered a status word the driver does not accept for this command.
    #[error("{during} failed: card answered {sw}")]
    Status {
        /// The status word.
        sw: StatusWord,
        /// The command, as its spec names it.
        during: &'static str,
    },
    /// PIN verification failed.
    #[error(transparent)]
    Pin(#[from] PinFailure),
    /// The signature key needs a PIN verification right before the signature and it was not given
    /// (the card answered `69 82` to the signature).
    #[error("the card refused to sign: the PIN must be verified right before this signature")]
    PinRequired,
    /// The card's answer does not have the expected structure.
    #[error("malformed answer from the card: {0}")]
    Malformed(&'static str),
    /// The card (or this driver) does not support what was asked.
    #[error("not supported by this card: {0}")]
    Unsupported(&'static str),
    /// The caller passed an invalid argument (wrong digest length, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A PKCS#11 module failed, did not answer or answered nonsense: which module, and what it did
    /// (`C_Sign returned CKR_DEVICE_ERROR`, `did not answer C_GetSlotList within 10 s`).
    #[error("the PKCS#11 module {module} {what}")]
    Module {
        /// The module's file.
        module: String,
        /// What went wrong, starting with a verb.
        what: String,
    },
}

impl CardError {
    /// How the host should react to this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Transport(t) => t.class(),
            Self::Pin(PinFailure::Wrong { .. } | PinFailure::InvalidFormat) => ErrorClass::UserAction,
            Self::Pin(PinFailure::PinpadTimeout | PinFailure::PinpadCancelled) => ErrorClass::UserAction,
            Self::Pin(PinFailure::Blocked) => ErrorClass::Fatal,
            Self::PinRequired => ErrorClass::Retriable,
            Self::Apdu(_)
            | Self::Status { .. }
            | Self::Malformed(_)
            | Self::Unsupported(_)
            | Self::InvalidArgument(_)
            | Self::Module { .. } => ErrorClass::Fatal,
        }
    }

    /// Turns a non-`9000` status word of `during` into an error.
    pub fn status(sw: StatusWord, during: &'static str) -> Self {
        Self::Status { sw, during }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for gone in [
            TransportError::CardRemoved,
            TransportError::NoCard,
            TransportError::CardReset,
        ] {
            assert_eq!(CardError::from(gone).class(), ErrorClass::CardGone);
        }
        assert_eq!(
            CardError::from(TransportError::NoReaders).class(),
            ErrorClass::UserAction
        );
        assert_eq!(CardError::from(TransportError::NoService).class(), ErrorClass::Fatal);
        assert_eq!(
            CardError::from(TransportError::SharingViolation).class(),
            ErrorClass::Retriable
        );
        assert_eq!(
            CardError::from(PinFailure::Wrong { retries: Some(2) }).class(),
            ErrorClass::UserAction
        );
        assert_eq!(CardError::from(PinFailure::Blocked).class(), ErrorClass::Fatal);
        assert_eq!(
            CardError::status(StatusWord(0x6A82), "SELECT FILE").to_string(),
            "SELECT FILE failed: card answered 6A 82 (file or application not found)"
        );
    }
}
