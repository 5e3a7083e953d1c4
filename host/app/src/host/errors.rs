//! The host's error vocabulary: a stable `reason` (eidlink adds it) and the Web eID `code` each reason
//! maps to, in one table (protocol.md §2.5).

use eidlink_core::{CardError, PinFailure, TransportError};
use serde_json::{json, Value};

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A malformed message or argument.
    InvalidArgument,
    /// The origin is not allowed (not https, a path, ...).
    OriginRejected,
    /// The message is larger than the limit.
    MessageTooLarge,
    /// The smart-card service is not running.
    NoPcscService,
    /// No card reader is connected.
    NoReader,
    /// No card in any reader.
    NoCard,
    /// The card is not one eidlink supports.
    UnsupportedCard,
    /// The card was removed and not inserted again in time.
    CardRemoved,
    /// No inserted card has the requested signing certificate.
    WrongCertificate,
    /// The PIN is blocked.
    PinBlocked,
    /// The user did not act in time.
    PinEntryTimeout,
    /// The user cancelled.
    UserCancelled,
    /// The card refused or failed.
    CardError,
    /// A bug or an environment problem.
    Internal,
}

/// Every reason, for tests and documentation.
pub const ALL_REASONS: [Reason; 14] = [
    Reason::InvalidArgument,
    Reason::OriginRejected,
    Reason::MessageTooLarge,
    Reason::NoPcscService,
    Reason::NoReader,
    Reason::NoCard,
    Reason::UnsupportedCard,
    Reason::CardRemoved,
    Reason::WrongCertificate,
    Reason::PinBlocked,
    Reason::PinEntryTimeout,
    Reason::UserCancelled,
    Reason::CardError,
    Reason::Internal,
];

impl Reason {
    /// The `reason` string.
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::OriginRejected => "ORIGIN_REJECTED",
            Self::MessageTooLarge => "MESSAGE_TOO_LARGE",
            Self::NoPcscService => "NO_PCSC_SERVICE",
            Self::NoReader => "NO_READER",
            Self::NoCard => "NO_CARD",
            Self::UnsupportedCard => "UNSUPPORTED_CARD",
            Self::CardRemoved => "CARD_REMOVED",
            Self::WrongCertificate => "WRONG_CERTIFICATE",
            Self::PinBlocked => "PIN_BLOCKED",
            Self::PinEntryTimeout => "PIN_ENTRY_TIMEOUT",
            Self::UserCancelled => "USER_CANCELLED",
            Self::CardError => "CARD_ERROR",
            Self::Internal => "INTERNAL",
        }
    }

    /// The Web eID `code` (the only codes web-eid.js knows): the invalid-argument family →
    /// NATIVE_INVALID_ARGUMENT, cancel and timeout → USER_CANCELLED, the rest → NATIVE_FATAL.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidArgument | Self::OriginRejected | Self::MessageTooLarge => {
                "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"
            }
            Self::UserCancelled | Self::PinEntryTimeout => "ERR_WEBEID_USER_CANCELLED",
            Self::NoPcscService
            | Self::NoReader
            | Self::NoCard
            | Self::UnsupportedCard
            | Self::CardRemoved
            | Self::WrongCertificate
            | Self::PinBlocked
            | Self::CardError
            | Self::Internal => "ERR_WEBEID_NATIVE_FATAL",
        }
    }
}

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
        json!({"error": {"code": self.reason.code(), "message": self.message, "reason": self.reason.name()}})
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_to_code_table() {
        let table = [
            ("INVALID_ARGUMENT", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            ("ORIGIN_REJECTED", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            ("MESSAGE_TOO_LARGE", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            ("NO_PCSC_SERVICE", "ERR_WEBEID_NATIVE_FATAL"),
            ("NO_READER", "ERR_WEBEID_NATIVE_FATAL"),
            ("NO_CARD", "ERR_WEBEID_NATIVE_FATAL"),
            ("UNSUPPORTED_CARD", "ERR_WEBEID_NATIVE_FATAL"),
            ("CARD_REMOVED", "ERR_WEBEID_NATIVE_FATAL"),
            ("WRONG_CERTIFICATE", "ERR_WEBEID_NATIVE_FATAL"),
            ("PIN_BLOCKED", "ERR_WEBEID_NATIVE_FATAL"),
            ("PIN_ENTRY_TIMEOUT", "ERR_WEBEID_USER_CANCELLED"),
            ("USER_CANCELLED", "ERR_WEBEID_USER_CANCELLED"),
            ("CARD_ERROR", "ERR_WEBEID_NATIVE_FATAL"),
            ("INTERNAL", "ERR_WEBEID_NATIVE_FATAL"),
        ];
        assert_eq!(table.len(), ALL_REASONS.len());
        for (r, (name, code)) in ALL_REASONS.iter().zip(table) {
            assert_eq!((r.name(), r.code()), (name, code));
        }
        let e = HostError::new(Reason::PinBlocked, "blocked");
        assert_eq!(
            e.to_json(),
            json!({"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"blocked","reason":"PIN_BLOCKED"}})
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
}
