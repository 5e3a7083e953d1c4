//! The transport seam: the only two traits a reader backend implements.
//!
//! A backend finds and connects to cards and moves raw bytes. Everything ISO 7816 (GET RESPONSE,
//! `6Cxx`, chaining) lives above it, in [`crate::apdu::exchange`], so that a scripted channel, the
//! PC/SC stack and any future backend behave the same for the card logic.

use thiserror::Error;

use crate::atr::Atr;
use crate::error::ErrorClass;

/// An open, exclusive session with one card (a PC/SC transaction). Dropping it ends the session.
pub trait CardChannel {
    /// Sends one command APDU and returns the raw response, data followed by SW1 SW2.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// After [`TransportError::CardReset`]: makes the channel usable again on the same card, which
    /// has lost its selection and security state (PC/SC: reconnect without a further reset). A channel
    /// that cannot recover says so with the reset itself.
    fn recover_from_reset(&mut self) -> Result<(), TransportError> {
        Err(TransportError::CardReset)
    }
}

/// A card in a reader, able to open exclusive sessions.
pub trait CardTransport: Send {
    /// The reader's name, as the platform reports it.
    fn reader(&self) -> &str;
    /// The card's answer to reset.
    fn atr(&self) -> &Atr;
    /// Opens an exclusive session; other applications wait until the returned channel is dropped.
    fn begin(&mut self) -> Result<Box<dyn CardChannel + '_>, TransportError>;
}

/// Why bytes could not be exchanged with a card.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The smart-card service (pcscd, the Windows smart-card service) is not running.
    #[error("the smart card service is not running (pcscd; on Windows, the Smart Card service)")]
    NoService,
    /// No card reader is connected.
    #[error("no card reader found: connect a reader (and check that the smart card service is running)")]
    NoReaders,
    /// The named reader is gone (unplugged).
    #[error("the card reader was disconnected")]
    ReaderUnavailable,
    /// A reader is there, but no card is in it.
    #[error("no card in the reader: insert your eID card")]
    NoCard,
    /// The card was removed while it was in use.
    #[error("the card was removed")]
    CardRemoved,
    /// The card was reset by another application; its security state is lost.
    #[error("the card was reset by another application")]
    CardReset,
    /// Another application holds the card exclusively.
    #[error("the card is in use by another application")]
    SharingViolation,
    /// The operation was cancelled.
    #[error("the operation was cancelled")]
    Cancelled,
    /// The operation timed out.
    #[error("the card operation timed out")]
    Timeout,
    /// The card does not answer or its protocol is not supported by the reader.
    #[error("the card does not respond (try reinserting it)")]
    Unresponsive,
    /// Any other error of the platform layer, with its text.
    #[error("smart card system error: {0}")]
    Other(String),
}

impl TransportError {
    /// How the caller should react.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::NoCard | Self::CardRemoved | Self::CardReset => ErrorClass::CardGone,
            Self::NoReaders | Self::ReaderUnavailable => ErrorClass::UserAction,
            Self::SharingViolation | Self::Timeout | Self::Unresponsive => ErrorClass::Retriable,
            Self::NoService | Self::Cancelled | Self::Other(_) => ErrorClass::Fatal,
        }
    }
}
