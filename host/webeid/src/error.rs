//! The error vocabulary of the wire (protocol.md §1, §2.5): the Web eID `code`s the page library
//! knows, eidlink's stable `reason`s, the one table from reason to code, and the error reply
//! `{"error":{"code","message","reason"}}`.

use serde::{Deserialize, Serialize};

/// The error codes web-eid.js knows (protocol.md §1): the only values a `code` may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `ERR_WEBEID_ACTION_TIMEOUT`.
    ActionTimeout,
    /// `ERR_WEBEID_USER_TIMEOUT`.
    UserTimeout,
    /// `ERR_WEBEID_VERSION_MISMATCH`.
    VersionMismatch,
    /// `ERR_WEBEID_VERSION_INVALID`.
    VersionInvalid,
    /// `ERR_WEBEID_EXTENSION_UNAVAILABLE`.
    ExtensionUnavailable,
    /// `ERR_WEBEID_NATIVE_UNAVAILABLE`.
    NativeUnavailable,
    /// `ERR_WEBEID_UNKNOWN_ERROR`.
    UnknownError,
    /// `ERR_WEBEID_CONTEXT_INSECURE`.
    ContextInsecure,
    /// `ERR_WEBEID_USER_CANCELLED`.
    UserCancelled,
    /// `ERR_WEBEID_NATIVE_INVALID_ARGUMENT`.
    NativeInvalidArgument,
    /// `ERR_WEBEID_NATIVE_FATAL`.
    NativeFatal,
    /// `ERR_WEBEID_ACTION_PENDING`.
    ActionPending,
    /// `ERR_WEBEID_MISSING_PARAMETER`.
    MissingParameter,
}

impl ErrorCode {
    /// Every code, in the order of protocol.md §1.
    pub const ALL: [Self; 13] = [
        Self::ActionTimeout,
        Self::UserTimeout,
        Self::VersionMismatch,
        Self::VersionInvalid,
        Self::ExtensionUnavailable,
        Self::NativeUnavailable,
        Self::UnknownError,
        Self::ContextInsecure,
        Self::UserCancelled,
        Self::NativeInvalidArgument,
        Self::NativeFatal,
        Self::ActionPending,
        Self::MissingParameter,
    ];

    /// The code as it travels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ActionTimeout => "ERR_WEBEID_ACTION_TIMEOUT",
            Self::UserTimeout => "ERR_WEBEID_USER_TIMEOUT",
            Self::VersionMismatch => "ERR_WEBEID_VERSION_MISMATCH",
            Self::VersionInvalid => "ERR_WEBEID_VERSION_INVALID",
            Self::ExtensionUnavailable => "ERR_WEBEID_EXTENSION_UNAVAILABLE",
            Self::NativeUnavailable => "ERR_WEBEID_NATIVE_UNAVAILABLE",
            Self::UnknownError => "ERR_WEBEID_UNKNOWN_ERROR",
            Self::ContextInsecure => "ERR_WEBEID_CONTEXT_INSECURE",
            Self::UserCancelled => "ERR_WEBEID_USER_CANCELLED",
            Self::NativeInvalidArgument => "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
            Self::NativeFatal => "ERR_WEBEID_NATIVE_FATAL",
            Self::ActionPending => "ERR_WEBEID_ACTION_PENDING",
            Self::MissingParameter => "ERR_WEBEID_MISSING_PARAMETER",
        }
    }

    /// Parses a code.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// Why a request failed: eidlink's stable `reason` (protocol.md §2.5, **eidlink adds**).
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

impl Reason {
    /// Every reason, for tests and documentation.
    pub const ALL: [Self; 14] = [
        Self::InvalidArgument,
        Self::OriginRejected,
        Self::MessageTooLarge,
        Self::NoPcscService,
        Self::NoReader,
        Self::NoCard,
        Self::UnsupportedCard,
        Self::CardRemoved,
        Self::WrongCertificate,
        Self::PinBlocked,
        Self::PinEntryTimeout,
        Self::UserCancelled,
        Self::CardError,
        Self::Internal,
    ];

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

    /// Parses a `reason` string.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The Web eID `code` (web-eid.js knows no other): the invalid-argument family →
    /// NATIVE_INVALID_ARGUMENT, cancel and timeout → USER_CANCELLED, the rest → NATIVE_FATAL.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::InvalidArgument | Self::OriginRejected | Self::MessageTooLarge => ErrorCode::NativeInvalidArgument,
            Self::UserCancelled | Self::PinEntryTimeout => ErrorCode::UserCancelled,
            Self::NoPcscService
            | Self::NoReader
            | Self::NoCard
            | Self::UnsupportedCard
            | Self::CardRemoved
            | Self::WrongCertificate
            | Self::PinBlocked
            | Self::CardError
            | Self::Internal => ErrorCode::NativeFatal,
        }
    }
}

/// Serde through the names, so that the JSON holds exactly what [`ErrorCode::as_str`] and
/// [`Reason::name`] say.
macro_rules! serde_by_name {
    ($ty:ty, $to:ident, $from:ident, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.$to())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                Self::$from(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown {} {name:?}", $what)))
            }
        }
    };
}

serde_by_name!(ErrorCode, as_str, from_name, "error code");
serde_by_name!(Reason, name, from_name, "reason");

/// What a failure carries: `{"code","message","reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The Web eID code, from the reason.
    pub code: ErrorCode,
    /// What happened and what to do, for people.
    pub message: String,
    /// eidlink's reason.
    pub reason: Reason,
}

/// The host's failure reply `{"error":{"code","message","reason"}}` (protocol.md §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The error.
    pub error: ErrorBody,
}

impl ErrorReply {
    /// The reply for `reason`, its code from [`Reason::code`].
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: reason.code(),
                message: message.into(),
                reason,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // From host/app/src/host/errors.rs.
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
        assert_eq!(table.len(), Reason::ALL.len());
        for (r, (name, code)) in Reason::ALL.iter().zip(table) {
            assert_eq!((r.name(), r.code().as_str()), (name, code));
            assert_eq!(Reason::from_name(name), Some(*r));
            assert_eq!(ErrorCode::from_name(code), Some(r.code()));
        }
        assert_eq!(Reason::from_name("no_card"), None);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(c.as_str()), Some(c));
        }
    }

    #[test]
    fn error_reply_json() {
        let e = ErrorReply::new(Reason::PinBlocked, "blocked");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"blocked","reason":"PIN_BLOCKED"}})
        );
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"blocked","reason":"PIN_BLOCKED"}}"#
        );
        let back: ErrorReply = serde_json::from_str(
            r#"{"error":{"code":"ERR_WEBEID_USER_CANCELLED","message":"m","reason":"PIN_ENTRY_TIMEOUT"}}"#,
        )
        .unwrap();
        assert_eq!(back, ErrorReply::new(Reason::PinEntryTimeout, "m"));
        assert!(
            serde_json::from_str::<ErrorReply>(r#"{"error":{"code":"X","message":"m","reason":"INTERNAL"}}"#).is_err()
        );
        assert!(serde_json::from_str::<ErrorReply>(
            r#"{"error":{"code":"ERR_WEBEID_NATIVE_FATAL","message":"m","reason":"NOPE"}}"#
        )
        .is_err());
    }

    /// The extension (extension/src/protocol.js) lists the codes the page library knows and passes
    /// codes outside it on as NATIVE_FATAL: its list must be ours, and the reasons the extension
    /// writes itself must be ones the host has.
    #[test]
    fn the_extension_knows_the_same_codes_and_reasons() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../extension/src");
        let protocol = std::fs::read_to_string(format!("{dir}/protocol.js")).unwrap();
        let start = protocol.find("export const ERROR_NAMES").unwrap();
        let block = &protocol[start..start + protocol[start..].find("});").unwrap()];
        let mut js: Vec<&str> = block
            .lines()
            .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
            .filter(|k| k.starts_with("ERR_WEBEID_"))
            .collect();
        js.sort_unstable();
        let mut ours: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        ours.sort_unstable();
        assert_eq!(js, ours);

        let mut seen = 0;
        for file in ["protocol.js", "actions.js", "background.js", "content.js", "native.js"] {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            for piece in text.split("reason: \"").skip(1) {
                let name = &piece[..piece.find('"').unwrap()];
                assert!(Reason::from_name(name).is_some(), "{file}: unknown reason {name}");
                seen += 1;
            }
        }
        assert!(seen >= 2, "the extension's own reasons were not found");
    }
}
