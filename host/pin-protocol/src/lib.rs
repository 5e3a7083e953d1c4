//! The protocol between the native-messaging host and the PIN program
//! (docs/pin-dialog-protocol.md): one JSON object per `\n`-terminated line; the host writes
//! [`Request`]s on the program's stdin, the program answers each `ask` with one [`Response`] line
//! on its stdout. Written by `eidlink-host`, read by `eidlink-pin` and the tests' scripted program.
//!
//! Parsing is lenient about unknown fields and absent optional ones (a newer or older peer), so
//! every field added since the first version has a default: `pin.charset` (digits), `token_prompt`
//! (false), `top_origin` (none), `program` (none).
//! No I/O here: lines in, lines out.

pub mod lines;
#[cfg(feature = "tokens")]
pub mod tokens;

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Largest `pin.max` accepted: real cards allow 4 to 12 digits, PKCS#11 tokens a few more.
pub const MAX_PIN_LEN: u8 = 64;

/// Why a line could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not a JSON line of this protocol. Never carries the line itself (it may hold a PIN).
    #[error("bad {what}: {message}")]
    Malformed {
        /// "request" or "answer".
        what: &'static str,
        /// What the JSON parser says.
        message: String,
    },
    /// Well-formed, but not something the dialog can show.
    #[error("{0}")]
    Invalid(String),
}

/// One line from the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Ask for consent or a PIN; answered by exactly one [`Response`] line.
    Ask(Box<Ask>),
    /// Something to show in the open dialog.
    Status {
        /// What happens on the host side.
        message: Status,
    },
    /// Close the window and exit 0 (end of stdin means the same).
    Close,
}

impl Request {
    /// The line to send, `\n` included.
    pub fn to_line(&self) -> Result<String, ProtocolError> {
        let mut line = serde_json::to_string(self).map_err(|e| ProtocolError::Malformed {
            what: "request",
            message: e.to_string(),
        })?;
        line.push('\n');
        Ok(line)
    }

    /// Reads one line (with or without its `\n`). Only the JSON shape is checked here; see
    /// [`Ask::check`] for what the dialog relies on.
    pub fn from_line(line: &str) -> Result<Request, ProtocolError> {
        serde_json::from_str(line.trim_end_matches(['\n', '\r'])).map_err(|e| ProtocolError::Malformed {
            what: "request",
            message: e.to_string(),
        })
    }
}

/// What the dialog asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Log in: PIN of the authentication key.
    Authenticate,
    /// Sign a document: PIN of the signing key; the request carries the hash.
    Sign,
    /// The site asks for the signing certificate: yes or no, no PIN.
    Consent,
    /// A site asks the browser for a TLS client certificate, and the browser's TLS stack signs
    /// the handshake through eidlink's PKCS#11 module: PIN of the authentication key. PKCS#11 does
    /// not tell the module which site it is, so `origin` is empty and `program` names the browser
    /// that asks.
    TlsLogin,
}

/// An `ask` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    /// What is asked.
    pub purpose: Purpose,
    /// `scheme://host[:port]` of the page that asks (the dialog parses it to show the host).
    pub origin: String,
    /// The origin of the tab's top-level page, when the page that asks is a frame inside it and
    /// the extension told the host (the dialog says "embedded in" that site when it differs from
    /// `origin`). Absent from hosts and extensions that predate it, and never written when unknown,
    /// so a dialog that predates it reads the line as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_origin: Option<String>,
    /// The program that asks (`tls_login`: the browser that loaded eidlink's PKCS#11 module, by
    /// the name its users know, such as `Firefox`). Never written when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// `fr`, `nl`, `de` or `en`; absent or anything else: the dialog picks by the locale rule.
    #[serde(default)]
    pub lang: Option<String>,
    /// Card holder's name.
    #[serde(default)]
    pub holder: Option<String>,
    /// The certificate of the key that will be used (or shared, for `consent`).
    #[serde(default)]
    pub certificate: Option<CertificateInfo>,
    /// The hash to sign (`sign` only).
    #[serde(default)]
    pub hash: Option<HashInfo>,
    /// PIN rules (null for `consent`).
    #[serde(default)]
    pub pin: Option<PinRules>,
    /// The PIN is typed on the reader's keypad.
    #[serde(default)]
    pub pinpad: bool,
    /// With `pinpad`: the token asks for the PIN itself (a PKCS#11 module with a protected
    /// authentication path), on the reader or in a window of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub token_prompt: bool,
    /// What went wrong with the previous attempt.
    #[serde(default)]
    pub error: Option<AskError>,
    /// The request cannot go on without the user (no reader, no card, a card that will not do):
    /// the dialog shows the site, what it wants and this, with no PIN field and a Cancel (or,
    /// for a final state, Close) button answering `cancelled`. Nothing else answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
}

/// Why the dialog is open with nothing to type yet (`ask.wait`): what the user is to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// No card reader is connected: connect one.
    NoReader,
    /// No card is in the reader(s): insert it.
    InsertCard,
    /// The card in the reader is not one eidlink can use: insert an eID card.
    UnsupportedCard,
    /// The card in the reader does not hold the certificate the site chose: insert that card.
    WrongCard,
    /// The card's PIN is blocked (final: the request fails once the user closes the dialog).
    PinBlocked,
    /// A state from a newer host that this version does not know (shown as "insert your card"
    /// would mislead; shown as waiting). Never sent.
    #[serde(other)]
    Unknown,
}

impl Wait {
    /// Every state a host sends (all but [`Wait::Unknown`]).
    pub const SENT: [Wait; 5] = [
        Wait::NoReader,
        Wait::InsertCard,
        Wait::UnsupportedCard,
        Wait::WrongCard,
        Wait::PinBlocked,
    ];

    /// Nothing will change it: the dialog offers Close rather than Cancel.
    pub fn is_final(self) -> bool {
        self == Wait::PinBlocked
    }
}

impl Ask {
    /// Checks what the dialog relies on besides the origin: the program that asks for `tls_login`,
    /// PIN rules when a PIN is typed, a hash to show when signing.
    pub fn check(&self) -> Result<(), ProtocolError> {
        // Before the wait: a `tls_login` dialog names the program that asks in every state, as the
        // others name the site.
        if self.purpose == Purpose::TlsLogin && self.program.as_deref().is_none_or(|p| p.trim().is_empty()) {
            return Err(ProtocolError::Invalid("a tls_login request needs `program`".to_owned()));
        }
        if self.wait.is_some() {
            // Nothing is typed or signed yet: neither PIN rules nor a hash are needed.
            return Ok(());
        }
        match self.purpose {
            Purpose::Authenticate | Purpose::Sign | Purpose::TlsLogin => {
                if let Some(pin) = &self.pin {
                    if pin.min == 0 || pin.min > pin.max || pin.max > MAX_PIN_LEN {
                        return Err(ProtocolError::Invalid(format!(
                            "pin.min/pin.max must satisfy 1 <= min <= max <= {MAX_PIN_LEN} (got {}..{})",
                            pin.min, pin.max
                        )));
                    }
                } else if !self.pinpad {
                    return Err(ProtocolError::Invalid(
                        "an authenticate, sign or tls_login request needs `pin` rules".to_owned(),
                    ));
                }
                if self.purpose == Purpose::Sign && self.hash.is_none() {
                    return Err(ProtocolError::Invalid("a sign request needs `hash`".to_owned()));
                }
            }
            Purpose::Consent => {}
        }
        Ok(())
    }
}

/// A summary of a certificate, as the host formats it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// Subject common name (or a readable subject).
    #[serde(default)]
    pub subject: String,
    /// Issuer common name.
    #[serde(default)]
    pub issuer: String,
    /// First day of validity (`YYYY-MM-DD`).
    #[serde(default)]
    pub not_before: String,
    /// Last day of validity (`YYYY-MM-DD`).
    #[serde(default)]
    pub not_after: String,
}

/// The hash a `sign` request will sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashInfo {
    /// e.g. `SHA-256`.
    pub function: String,
    /// First bytes of the hash in hex, grouped.
    pub fingerprint: String,
}

/// What characters a PIN may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// ASCII digits only (eID cards). The default: hosts before `charset` existed meant this.
    #[default]
    Digits,
    /// Any characters (PKCS#11 tokens, PIV cards with alphanumeric PINs).
    Any,
}

/// What the card accepts as a PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRules {
    /// `PIN`, `PIN1` or `PIN2`.
    #[serde(default = "default_pin_label")]
    pub label: String,
    /// Shortest PIN.
    pub min: u8,
    /// Longest PIN.
    pub max: u8,
    /// Tries left before the PIN blocks, if known.
    #[serde(default)]
    pub tries_left: Option<u8>,
    /// Tries a fresh PIN has, if known.
    #[serde(default)]
    pub max_tries: Option<u8>,
    /// What characters the PIN may have.
    #[serde(default)]
    pub charset: Charset,
}

fn default_pin_label() -> String {
    "PIN".to_owned()
}

/// The error of the previous attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AskError {
    /// The card refused the PIN.
    WrongPin {
        /// Tries left, if known.
        #[serde(default)]
        tries_left: Option<u8>,
    },
    /// Any other error, already worded by the host.
    Message {
        /// The text to show.
        text: String,
    },
}

/// A `status` message: what the host is doing while the dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The host waits for a card.
    InsertCard,
    /// The host waits for a card reader to be connected.
    NoReader,
    /// The card was removed.
    CardRemoved,
    /// The host is busy with the card.
    Working,
    /// A status from a newer host that this version does not know (shown as working). Never sent.
    #[serde(other)]
    Unknown,
}

impl Status {
    /// Every status a host sends (all but [`Status::Unknown`]).
    pub const SENT: [Status; 4] = [
        Status::InsertCard,
        Status::NoReader,
        Status::CardRemoved,
        Status::Working,
    ];

    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Status::InsertCard => "insert_card",
            Status::NoReader => "no_reader",
            Status::CardRemoved => "card_removed",
            Status::Working => "working",
            Status::Unknown => "unknown",
        }
    }
}

/// The answer to an `ask`. `Debug` never shows the PIN.
pub enum Response {
    /// The PIN the user typed, in a buffer wiped when dropped.
    Pin(Zeroizing<String>),
    /// Consent given.
    Confirmed,
    /// Escape, Cancel or the window closed.
    Cancelled,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Pin(_) => f.write_str("Pin(REDACTED)"),
            Response::Confirmed => f.write_str("Confirmed"),
            Response::Cancelled => f.write_str("Cancelled"),
        }
    }
}

#[derive(Serialize)]
struct ResultLine<'a> {
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawResult<'a> {
    #[serde(borrow)]
    result: Cow<'a, str>,
    #[serde(borrow, default)]
    pin: Option<Cow<'a, str>>,
}

impl Response {
    /// The answer line, newline included, in a buffer that is wiped when dropped. The buffer is
    /// allocated once, large enough, so serializing never leaves a copy of the PIN behind.
    pub fn to_line(&self) -> Zeroizing<Vec<u8>> {
        let (result, pin) = match self {
            Response::Pin(pin) => ("pin", Some(pin.as_str())),
            Response::Confirmed => ("confirmed", None),
            Response::Cancelled => ("cancelled", None),
        };
        // JSON escapes a character in at most 6 bytes.
        let capacity = 64 + pin.map_or(0, |p| p.len() * 6);
        let mut line = Zeroizing::new(Vec::with_capacity(capacity));
        // Writing into a Vec cannot fail, and two &str fields always serialize.
        if serde_json::to_writer(&mut *line, &ResultLine { result, pin }).is_err() {
            line.clear();
            line.extend_from_slice(br#"{"result":"cancelled"}"#);
        }
        line.push(b'\n');
        line
    }

    /// Reads an answer line (with or without its `\n`). The PIN goes straight into a zeroizing
    /// buffer; an error never quotes the line.
    pub fn from_line(line: &[u8]) -> Result<Response, ProtocolError> {
        let malformed = |message: &str| ProtocolError::Malformed {
            what: "answer",
            message: message.to_owned(),
        };
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // serde_json's message could quote part of the line, so it is not passed on.
        let raw: RawResult<'_> = serde_json::from_slice(line).map_err(|_| malformed("not a JSON answer"))?;
        match (raw.result.as_ref(), raw.pin) {
            // An escaped PIN is unescaped into an owned String, which moves into the buffer.
            ("pin", Some(pin)) => Ok(Response::Pin(Zeroizing::new(pin.into_owned()))),
            ("pin", None) => Err(malformed("a pin answer without the pin")),
            ("confirmed", _) => Ok(Response::Confirmed),
            ("cancelled", _) => Ok(Response::Cancelled),
            _ => Err(malformed("unknown result")),
        }
    }
}

/// The `ask` example of docs/pin-dialog-protocol.md, on several lines (join them to get one protocol
/// line): the fixture the protocol's users test against, kept in one place.
pub const DOC_EXAMPLE_ASK: &str = r#"{"type":"ask","purpose":"sign","origin":"https://service.example.be","lang":"fr",
    "holder":"Alice Specimen","certificate":{"subject":"Alice Specimen (Signature)","issuer":"Citizen CA",
    "not_before":"2024-01-01","not_after":"2034-01-01"},"hash":{"function":"SHA-256","fingerprint":"3A7F 19C2"},
    "pin":{"label":"PIN","min":4,"max":12,"tries_left":3,"max_tries":3},"pinpad":false,"error":null}"#;

#[cfg(test)]
mod tests {
    use super::*;

    const ASK: &str = DOC_EXAMPLE_ASK;

    fn ask() -> Ask {
        match Request::from_line(&ASK.replace('\n', "")).unwrap() {
            Request::Ask(a) => *a,
            other => panic!("not an ask: {other:?}"),
        }
    }

    #[test]
    fn reads_the_documented_ask_with_the_defaults_of_newer_fields() {
        let a = ask();
        assert_eq!(a.purpose, Purpose::Sign);
        assert_eq!(a.lang.as_deref(), Some("fr"));
        let pin = a.pin.as_ref().unwrap();
        assert_eq!(
            (pin.min, pin.max, pin.tries_left, pin.max_tries),
            (4, 12, Some(3), Some(3))
        );
        // a host that predates `charset` means digits
        assert_eq!(pin.charset, Charset::Digits);
        a.check().unwrap();
    }

    #[test]
    fn requests_round_trip_through_lines() {
        let mut a = ask();
        a.pin.as_mut().unwrap().charset = Charset::Any;
        a.pinpad = true;
        a.error = Some(AskError::WrongPin { tries_left: Some(2) });
        for request in [
            Request::Ask(Box::new(a)),
            Request::Status {
                message: Status::NoReader,
            },
            Request::Close,
        ] {
            let line = request.to_line().unwrap();
            assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'), "{line}");
            assert_eq!(Request::from_line(&line).unwrap(), request);
        }
        let line = Request::Ask(Box::new(ask())).to_line().unwrap();
        assert!(line.starts_with(r#"{"type":"ask","purpose":"sign","#), "{line}");
        assert!(line.contains(r#""charset":"digits""#), "{line}");
        assert_eq!(
            Request::Status {
                message: Status::CardRemoved
            }
            .to_line()
            .unwrap(),
            "{\"type\":\"status\",\"message\":\"card_removed\"}\n"
        );
        assert_eq!(Request::Close.to_line().unwrap(), "{\"type\":\"close\"}\n");
    }

    #[test]
    fn a_wait_ask_needs_no_pin_rules_and_unknown_states_are_read() {
        let mut a = ask();
        a.pin = None;
        a.hash = None;
        assert!(a.check().is_err(), "a sign ask without PIN rules or hash");
        for wait in Wait::SENT {
            a.wait = Some(wait);
            a.check().unwrap();
            let line = Request::Ask(Box::new(a.clone())).to_line().unwrap();
            assert_eq!(Request::from_line(&line).unwrap(), Request::Ask(Box::new(a.clone())));
        }
        a.wait = Some(Wait::InsertCard);
        let line = Request::Ask(Box::new(a)).to_line().unwrap();
        assert!(line.contains(r#""wait":"insert_card""#), "{line}");
        let newer = line.replace("insert_card", "scan_your_fingerprint");
        let Request::Ask(back) = Request::from_line(&newer).unwrap() else {
            panic!("not an ask")
        };
        assert_eq!(back.wait, Some(Wait::Unknown));
        // Without it (older hosts), no wait.
        assert_eq!(ask().wait, None);
        assert!(!Request::Ask(Box::new(ask())).to_line().unwrap().contains("wait"));
    }

    #[test]
    fn the_top_origin_is_optional_both_ways() {
        // A host that predates it: none.
        assert_eq!(ask().top_origin, None);
        // None is not written, so an older dialog reads exactly the line it knows.
        let line = Request::Ask(Box::new(ask())).to_line().unwrap();
        assert!(!line.contains("top_origin"), "{line}");
        let mut a = ask();
        a.top_origin = Some("https://portal.example.com".into());
        let request = Request::Ask(Box::new(a));
        let line = request.to_line().unwrap();
        assert!(line.contains(r#""top_origin":"https://portal.example.com""#), "{line}");
        assert_eq!(Request::from_line(&line).unwrap(), request);
    }

    /// What a PKCS#11 login asks: no site (PKCS#11 does not say which), the browser by name.
    const TLS_LOGIN: &str = r#"{"type":"ask","purpose":"tls_login","origin":"","program":"Firefox","pin":{"min":4,"max":12,"tries_left":3}}"#;

    fn ask_line(line: &str) -> Ask {
        match Request::from_line(line).unwrap() {
            Request::Ask(a) => *a,
            other => panic!("not an ask: {other:?}"),
        }
    }

    #[test]
    fn a_tls_login_names_the_program_that_asks() {
        let a = ask_line(TLS_LOGIN);
        assert_eq!(a.purpose, Purpose::TlsLogin);
        assert_eq!(a.program.as_deref(), Some("Firefox"));
        assert_eq!(a.origin, "");
        a.check().unwrap();
        for program in [None, Some(""), Some("  ")] {
            let mut a = ask_line(TLS_LOGIN);
            a.program = program.map(str::to_owned);
            let e = a.check().unwrap_err();
            assert!(e.to_string().contains("program"), "{program:?}: {e}");
            // A wait names the program too (it is shown in every state).
            a.pin = None;
            a.wait = Some(Wait::InsertCard);
            assert!(a.check().is_err(), "wait without program {program:?}");
        }
        // The same PIN rules as authenticate.
        let mut a = ask_line(TLS_LOGIN);
        a.pin = None;
        assert!(a.check().is_err(), "no PIN rules without a pinpad");
        a.pinpad = true;
        a.check().unwrap();
        // `program` is only required where it is shown instead of a site.
        let mut a = ask_line(&TLS_LOGIN.replace("tls_login", "authenticate"));
        a.program = None;
        a.check().unwrap();
    }

    #[test]
    fn the_program_is_optional_both_ways() {
        let request = Request::Ask(Box::new(ask_line(TLS_LOGIN)));
        let line = request.to_line().unwrap();
        assert!(line.contains(r#""purpose":"tls_login""#), "{line}");
        assert!(line.contains(r#""program":"Firefox""#), "{line}");
        assert!(line.contains(r#""origin":"""#), "{line}");
        assert_eq!(Request::from_line(&line).unwrap(), request);
        // Without it (every purpose but tls_login), the line an older dialog knows.
        assert_eq!(ask().program, None);
        let line = Request::Ask(Box::new(ask())).to_line().unwrap();
        assert!(!line.contains("program"), "{line}");
    }

    #[test]
    fn unknown_statuses_and_fields_are_tolerated() {
        assert_eq!(
            Request::from_line(r#"{"type":"status","message":"reticulating"}"#).unwrap(),
            Request::Status {
                message: Status::Unknown
            }
        );
        assert_eq!(
            Request::from_line(r#"{"type":"close","extra":1}"#).unwrap(),
            Request::Close
        );
        for status in Status::SENT {
            let line = format!(r#"{{"type":"status","message":"{}"}}"#, status.name());
            assert_eq!(Request::from_line(&line).unwrap(), Request::Status { message: status });
        }
    }

    #[test]
    fn every_status_sent_is_in_the_doc() {
        let doc = include_str!("../../../docs/pin-dialog-protocol.md");
        let line = doc
            .lines()
            .find(|l| l.starts_with(r#"{"type":"status""#))
            .expect("the doc's status line");
        let mut documented: Vec<&str> = line
            .split('"')
            .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        documented.retain(|w| !["", "type", "status", "message"].contains(w));
        let mut sent: Vec<&str> = Status::SENT.iter().map(|s| s.name()).collect();
        documented.sort_unstable();
        sent.sort_unstable();
        assert_eq!(documented, sent);
    }

    #[test]
    fn check_refuses_what_the_dialog_cannot_show() {
        for line in [
            // no PIN rules without a pinpad
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be"}"#,
            // sign without hash
            r#"{"type":"ask","purpose":"sign","origin":"https://a.be","pin":{"min":4,"max":12}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":0,"max":12}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":8,"max":4}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":4,"max":65}}"#,
        ] {
            let Request::Ask(a) = Request::from_line(line).unwrap() else {
                panic!("{line}")
            };
            assert!(a.check().is_err(), "accepted {line}");
        }
        for line in [
            "",
            "not json",
            r#"{"type":"nope"}"#,
            r#"{"purpose":"sign"}"#,
            r#"{"type":"ask","purpose":"login","origin":"https://a.be"}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":4,"max":300}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":4,"max":12,"charset":"emoji"}}"#,
        ] {
            assert!(Request::from_line(line).is_err(), "read {line}");
        }
        let Request::Ask(a) =
            Request::from_line(r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pinpad":true}"#)
                .unwrap()
        else {
            panic!()
        };
        a.check().unwrap();
    }

    #[test]
    fn response_lines() {
        let pin = Response::Pin(Zeroizing::new("1234".to_owned()));
        assert_eq!(&pin.to_line()[..], b"{\"result\":\"pin\",\"pin\":\"1234\"}\n");
        assert_eq!(&Response::Confirmed.to_line()[..], b"{\"result\":\"confirmed\"}\n");
        assert_eq!(&Response::Cancelled.to_line()[..], b"{\"result\":\"cancelled\"}\n");
        for r in [pin, Response::Confirmed, Response::Cancelled] {
            let back = Response::from_line(&r.to_line()).unwrap();
            assert_eq!(format!("{back:?}"), format!("{r:?}"));
        }
        let Response::Pin(p) = Response::from_line(br#"{"result":"pin","pin":"12\u00334"}"#).unwrap() else {
            panic!()
        };
        assert_eq!(p.as_str(), "1234");
        let Response::Pin(p) = Response::from_line("{\"result\":\"pin\",\"pin\":\"pässwörd\"}\r\n".as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(p.as_str(), "pässwörd");
        for bad in [
            &b""[..],
            b"{}",
            br#"{"result":"pin"}"#,
            br#"{"result":"maybe"}"#,
            b"\xff",
        ] {
            assert!(Response::from_line(bad).is_err());
        }
    }

    #[test]
    fn errors_and_debug_never_show_the_pin() {
        let pin = Response::Pin(Zeroizing::new("987654".to_owned()));
        let shown = format!("{pin:?} {pin:#?}");
        assert!(!shown.contains("987654"), "{shown}");
        assert!(shown.contains("REDACTED"));
        let e = Response::from_line(br#"{"result":"pin","pin":987654}"#).unwrap_err();
        assert!(!e.to_string().contains("987654"), "{e}");
        assert!(!format!("{e:?}").contains("987654"), "{e:?}");
    }
}
