//! The host's errors: a stable `reason` and a message for people. The reasons, the Web eID `code` each
//! maps to and the reply's JSON are the wire crate's (protocol.md §2.5); which card error is which
//! reason is the host's.

use eidlink_core::{CardError, NotFound, PinFailure, TransportError};
use eidlink_webeid::ErrorReply;
pub use eidlink_webeid::Reason;
use serde_json::Value;

/// A failed request: reason and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", reason.name())]
pub struct HostError {
    /// The reason.
    pub reason: Reason,
    /// What happened and what to do.
    pub message: String,
}

impl HostError {
    /// A new error.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    /// An invalid-argument error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Reason::InvalidArgument, message)
    }

    /// The reply `{"error":{"code","message","reason"}}`.
    pub fn to_json(&self) -> Value {
        // Strings and names only: serializing them cannot fail, so the default (null) is never sent.
        serde_json::to_value(ErrorReply::new(self.reason, self.message.clone())).unwrap_or_default()
    }
}

impl From<CardError> for HostError {
    fn from(e: CardError) -> Self {
        let reason = match &e {
            CardError::Transport(t) => match t {
                TransportError::NoService => Reason::NoPcscService,
                TransportError::NoReaders | TransportError::ReaderUnavailable => Reason::NoReader,
                TransportError::NoCard => Reason::NoCard,
                TransportError::CardRemoved => Reason::CardRemoved,
                TransportError::Cancelled => Reason::UserCancelled,
                _ => Reason::CardError,
            },
            CardError::Pin(PinFailure::Blocked) => Reason::PinBlocked,
            CardError::Pin(PinFailure::PinpadCancelled) => Reason::UserCancelled,
            CardError::Pin(PinFailure::PinpadTimeout) => Reason::PinEntryTimeout,
            CardError::InvalidArgument(_) => Reason::InvalidArgument,
            CardError::Unsupported(_) => Reason::UnsupportedCard,
            _ => Reason::CardError,
        };
        Self::new(reason, e.to_string())
    }
}

impl From<NotFound> for HostError {
    /// The verdict of a card search the user is told (core's `Discovery::pick` ranks them).
    fn from(n: NotFound) -> Self {
        let reason =
            match &n {
                NotFound::Service(e) => return e.clone().into(),
                NotFound::NoReader => Reason::NoReader,
                NotFound::NoCard => Reason::NoCard,
                NotFound::Unreadable { error, .. } => return HostError::from(error.clone()),
                NotFound::Unsupported { atr } => {
                    // The ATR tells which card (maker, model, sometimes more) the user has: for
                    // the log and `eidlink diagnose`, not for the site.
                    tracing::info!(atr, "unsupported card");
                    return Self::new(
                        Reason::UnsupportedCard,
                        "the card in the reader is not supported: insert your eID card",
                    );
                }
                NotFound::NotWanted => return Self::new(
                    Reason::WrongCertificate,
                    "the inserted card does not hold the requested signing certificate: insert the card it belongs to",
                ),
            };
        Self::new(reason, n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The reason → code table itself is tested in eidlink-webeid (error.rs), where it lives.
    #[test]
    fn reason_to_code_table() {
        let e = HostError::new(Reason::PinBlocked, "blocked");
        assert_eq!(
            e.to_json(),
            json!({"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"blocked","reason":"PIN_BLOCKED"}})
        );
        // The bytes the framing writes: the keys in the order the extension's tests saw before.
        assert_eq!(
            serde_json::to_string(&e.to_json()).ok().as_deref(),
            Some(r#"{"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"blocked","reason":"PIN_BLOCKED"}}"#)
        );
        assert_eq!(
            HostError::from(CardError::from(PinFailure::Blocked)).reason,
            Reason::PinBlocked
        );
        assert_eq!(
            HostError::from(CardError::from(TransportError::NoService)).reason,
            Reason::NoPcscService
        );
    }

    #[test]
    fn the_site_is_not_told_the_atr_of_an_unsupported_card() {
        let atr = "3B7F96000080318065B0850300EF120FFE829000";
        let e = HostError::from(NotFound::Unsupported { atr: atr.to_owned() });
        assert_eq!(e.reason, Reason::UnsupportedCard);
        assert!(!e.to_json().to_string().contains(atr), "{}", e.to_json());
    }
}
