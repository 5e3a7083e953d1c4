//! The dialog's side of the JSON-lines protocol with the native-messaging host
//! (docs/pin-dialog-protocol.md): the types are `eidlink-pin-protocol`'s, shared with the host;
//! here are what only the dialog does: bounded line reading from stdin, the checks of what it
//! shows (an `ask` whose origin has no plain host, a `tls_login` that does not name its program,
//! or a `sign` without a hash, is refused), and writing the answer.

use std::fmt;
use std::io::{self, BufRead, Write};

pub use eidlink_webeid::Origin;

pub use eidlink_pin_protocol::{
    Ask, AskError, CertificateInfo, Charset, HashInfo, PinRules, ProtocolError, Purpose, Request, Response, Status,
    Wait, MAX_PIN_LEN,
};

/// Longest request line accepted (a certificate summary and a fingerprint fit in far less).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Why a line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl From<ProtocolError> for ParseError {
    fn from(e: ProtocolError) -> Self {
        ParseError(e.to_string())
    }
}

/// Parses and checks one request line (without its newline).
pub fn parse_request(line: &str) -> Result<Request, ParseError> {
    let request = Request::from_line(line)?;
    if let Request::Ask(ask) = &request {
        check(ask)?;
    }
    Ok(request)
}

/// Longest program name shown for a `tls_login` (`ask.program`), in characters: a browser's name
/// fits in far less, and the name comes from another process.
pub const MAX_PROGRAM_CHARS: usize = 40;

/// Who asks, as the dialog names it at the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asker {
    /// A page, through the extension: its origin, and the top-level page it is embedded in when
    /// that is another origin ([`embedded_in`]).
    Site {
        /// The origin of the page that asks.
        origin: Origin,
        /// The top-level page's origin, when another.
        embedded_in: Option<Origin>,
    },
    /// A program that loaded eidlink's PKCS#11 module (`tls_login`), which cannot say for which
    /// site: its name as plain text, cleaned and cut ([`program_of`]).
    Program(String),
}

/// Checks what the dialog relies on: a plain origin (none for `tls_login`, which names its
/// program instead), PIN rules when a PIN is typed, a hash to show when signing. Returns who asks.
pub fn check(ask: &Ask) -> Result<Asker, ParseError> {
    ask.check()?;
    match origin_of(ask)? {
        Some(origin) => Ok(Asker::Site {
            embedded_in: embedded_in(ask, &origin),
            origin,
        }),
        None => program_of(ask).map(Asker::Program),
    }
}

/// The one place the dialog reads the request's origin: the Web eID wire crate's one parser, in
/// the normalized form the host checked and sends. User info, paths and characters that do not
/// belong in a host are refused, so what the dialog shows big is exactly the host the browser
/// reported. `None` for a `tls_login`, whose origin is empty: PKCS#11 does not tell which site
/// asks, and one there would be shown as nothing the user could trust, so it is refused; every
/// other purpose needs one.
pub fn origin_of(ask: &Ask) -> Result<Option<Origin>, ParseError> {
    match (ask.purpose, ask.origin.as_str()) {
        (Purpose::TlsLogin, "") => Ok(None),
        (Purpose::TlsLogin, origin) => Err(ParseError(format!(
            "origin {origin:?}: a tls_login request has an empty origin (PKCS#11 does not tell which site asks)"
        ))),
        (_, origin) => Origin::from_normalized(origin)
            .map(Some)
            .map_err(|e| ParseError(format!("origin {origin:?}: {e}"))),
    }
}

/// The name of the program a `tls_login` comes from, as shown: another process wrote it, so it is
/// plain text only (controls and invisible formatting characters dropped, as for every text from
/// the host: [`crate::model::display_text`]) and at most [`MAX_PROGRAM_CHARS`] characters. A name
/// with nothing left to show is refused.
pub fn program_of(ask: &Ask) -> Result<String, ParseError> {
    let name = crate::model::display_text_max(ask.program.as_deref().unwrap_or_default(), MAX_PROGRAM_CHARS);
    if name.is_empty() {
        return Err(ParseError(
            "a tls_login request needs `program`, a name with something to show".to_owned(),
        ));
    }
    Ok(name)
}

/// The top-level page the asking frame is in, when the request names one that is not the frame's
/// own origin. It is only shown, never acted on, so a value that is not an origin (the host sends
/// only origins it parsed) is dropped with a line on stderr rather than refusing the request.
pub fn embedded_in(ask: &Ask, origin: &Origin) -> Option<Origin> {
    let top = ask.top_origin.as_deref()?;
    match Origin::from_normalized(top) {
        Ok(top) => (top != *origin).then_some(top),
        Err(e) => {
            eprintln!("eidlink-pin: ignoring top_origin {top:?}: {e}");
            None
        }
    }
}

/// Writes the answer line with a single `write_all` (so std's line-buffered stdout passes it
/// straight through instead of keeping a copy in its buffer) and flushes.
pub fn write_response(response: &Response, out: &mut impl Write) -> io::Result<()> {
    let line = response.to_line();
    out.write_all(&line)?;
    out.flush()
}

/// One line read by [`read_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its `\n` (and `\r`).
    Text(String),
    /// A line longer than the limit (skipped up to its newline) or not UTF-8.
    Invalid(String),
    /// End of input.
    Eof,
}

/// Reads one line of at most `max` bytes. A longer line is consumed up to its newline and
/// reported as [`Line::Invalid`], so a runaway writer cannot make the dialog allocate without end.
pub fn read_line(input: &mut impl BufRead, max: usize) -> io::Result<Line> {
    let mut bytes = Vec::new();
    let mut too_long = false;
    let mut saw_any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if !saw_any {
                return Ok(Line::Eof);
            }
            break;
        }
        saw_any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if bytes.len() + chunk.len() > max {
                too_long = true;
                bytes.clear();
            } else {
                bytes.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if too_long {
        return Ok(Line::Invalid(format!("line longer than {max} bytes")));
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Line::Text(text)),
        Err(_) => Ok(Line::Invalid("line is not UTF-8".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    const ASK: &str = eidlink_pin_protocol::DOC_EXAMPLE_ASK;

    #[test]
    fn parses_the_documented_ask() {
        let Request::Ask(ask) = parse_request(&ASK.replace('\n', "")).unwrap() else {
            panic!("not an ask")
        };
        assert_eq!(ask.purpose, Purpose::Sign);
        assert_eq!(ask.lang.as_deref(), Some("fr"));
        assert_eq!(ask.hash.as_ref().unwrap().function, "SHA-256");
        let pin = ask.pin.as_ref().unwrap();
        assert_eq!(
            (pin.min, pin.max, pin.tries_left, pin.max_tries),
            (4, 12, Some(3), Some(3))
        );
        assert_eq!(ask.certificate.as_ref().unwrap().not_after, "2034-01-01");
        assert!(!ask.pinpad);
        assert_eq!(ask.error, None);
    }

    #[test]
    fn parses_errors_status_and_close() {
        let r = parse_request(
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":4,"max":12,"tries_left":2},"error":{"kind":"wrong_pin","tries_left":2}}"#,
        )
        .unwrap();
        let Request::Ask(ask) = r else { panic!() };
        assert_eq!(ask.error, Some(AskError::WrongPin { tries_left: Some(2) }));
        assert_eq!(ask.pin.unwrap().label, "PIN");
        let r = parse_request(
            r#"{"type":"ask","purpose":"consent","origin":"https://a.be","pin":null,"hash":null,"error":{"kind":"message","text":"Card busy"}}"#,
        )
        .unwrap();
        let Request::Ask(ask) = r else { panic!() };
        assert_eq!(
            ask.error,
            Some(AskError::Message {
                text: "Card busy".into()
            })
        );
        assert_eq!(
            parse_request(r#"{"type":"status","message":"insert_card"}"#).unwrap(),
            Request::Status {
                message: Status::InsertCard
            }
        );
        assert_eq!(
            parse_request(r#"{"type":"status","message":"reticulating"}"#).unwrap(),
            Request::Status {
                message: Status::Unknown
            }
        );
        assert_eq!(parse_request(r#"{"type":"close"}"#).unwrap(), Request::Close);
        assert_eq!(parse_request(r#"{"type":"close","extra":1}"#).unwrap(), Request::Close);
    }

    #[test]
    fn refuses_malformed_requests() {
        for line in [
            "",
            "not json",
            r#"{"type":"nope"}"#,
            r#"{"purpose":"sign"}"#,
            r#"{"type":"ask","purpose":"login","origin":"https://a.be"}"#,
            // no PIN rules without a pinpad
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be"}"#,
            // sign without hash
            r#"{"type":"ask","purpose":"sign","origin":"https://a.be","pin":{"min":4,"max":12}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":0,"max":12}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":8,"max":4}}"#,
            r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pin":{"min":4,"max":65}}"#,
            r#"{"type":"ask","purpose":"consent","origin":"https://bank.be@evil.example"}"#,
        ] {
            assert!(parse_request(line).is_err(), "accepted {line}");
        }
        // pinpad without rules is fine
        parse_request(r#"{"type":"ask","purpose":"authenticate","origin":"https://a.be","pinpad":true}"#).unwrap();
    }

    /// A PKCS#11 login: no origin, the browser by name.
    const TLS_LOGIN: &str = r#"{"type":"ask","purpose":"tls_login","origin":"","program":"Firefox","pin":{"min":4,"max":12,"tries_left":3}}"#;

    fn parse_ask(line: &str) -> Result<Ask, ParseError> {
        match parse_request(line)? {
            Request::Ask(a) => Ok(*a),
            other => panic!("not an ask: {other:?}"),
        }
    }

    #[test]
    fn a_tls_login_has_an_empty_origin_and_names_its_program() {
        let a = parse_ask(TLS_LOGIN).unwrap();
        assert_eq!(origin_of(&a).unwrap(), None);
        assert_eq!(check(&a).unwrap(), Asker::Program("Firefox".to_owned()));
        // Only tls_login goes without an origin.
        for purpose in ["authenticate", "sign", "consent"] {
            let line = TLS_LOGIN
                .replace("tls_login", purpose)
                .replace(r#""pin""#, r#""hash":{"function":"SHA-256","fingerprint":"00"},"pin""#);
            let e = parse_ask(&line).unwrap_err();
            assert!(e.0.contains("origin"), "{purpose}: {e}");
            // ... and the same line with an origin is fine: it was the origin that was refused.
            parse_ask(&line.replace(r#""origin":"""#, r#""origin":"https://a.be""#)).unwrap();
        }
        // A tls_login with an origin would name a site nobody checked: refused.
        let e = parse_ask(&TLS_LOGIN.replace(r#""origin":"""#, r#""origin":"https://a.be""#)).unwrap_err();
        assert!(e.0.contains("empty origin"), "{e}");
        // Without its program, or with one that has nothing to show.
        for bad in [
            TLS_LOGIN.replace(r#""program":"Firefox","#, ""),
            TLS_LOGIN.replace("Firefox", ""),
            TLS_LOGIN.replace("Firefox", r"\u202e\u200b\n"),
        ] {
            let e = parse_ask(&bad).unwrap_err();
            assert!(e.0.contains("program"), "{bad}: {e}");
        }
        // The same PIN rules as authenticate.
        assert!(parse_ask(&TLS_LOGIN.replace(r#""min":4"#, r#""min":0"#)).is_err());
        assert!(parse_ask(&TLS_LOGIN.replace(r#","pin":{"min":4,"max":12,"tries_left":3}"#, "")).is_err());
    }

    #[test]
    fn the_program_is_shown_as_plain_text_cut_to_a_sane_length() {
        let with = |program: &str| {
            let mut a = parse_ask(TLS_LOGIN).unwrap();
            a.program = Some(program.to_owned());
            program_of(&a).unwrap()
        };
        assert_eq!(with("Chromium"), "Chromium");
        // Markup is not interpreted anywhere: it stays the characters it is.
        assert_eq!(with("<b>Firefox</b>"), "<b>Firefox</b>");
        assert_eq!(with("Fire\u{202E}xof\u{202C}\tESR"), "Firexof ESR");
        let long = with(&"Firefox ".repeat(20));
        assert_eq!(long.chars().count(), MAX_PROGRAM_CHARS);
        assert!(long.starts_with("Firefox Firefox") && long.ends_with('…'), "{long}");
        assert_eq!(with(&"x".repeat(MAX_PROGRAM_CHARS)), "x".repeat(MAX_PROGRAM_CHARS));
    }

    #[test]
    fn origins() {
        let o = origin_of(&ask("https://service.example.be")).unwrap().unwrap();
        assert_eq!((o.scheme(), o.host(), o.port()), ("https", "service.example.be", None));
        assert!(o.is_secure());
        let o = origin_of(&ask("http://localhost:8080")).unwrap().unwrap();
        assert_eq!((o.host(), o.port(), o.is_secure()), ("localhost", Some(8080), false));
        assert_eq!(o.as_str(), "http://localhost:8080");
        let o = origin_of(&ask("https://[::1]:8443")).unwrap().unwrap();
        assert_eq!((o.host(), o.port()), ("[::1]", Some(8443)));
        assert_eq!(
            origin_of(&ask("https://xn--bcher-kva.example"))
                .unwrap()
                .unwrap()
                .host(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "service.example.be",
            "https://",
            "https://Service.Example.BE",
            "https://bank.be@evil.example",
            "https://evil.example/bank.be",
            "https://a.be:99999",
            "https://a.be:x",
            "https://bánk.be",
            "https://a b.be",
            "https://a.be?x",
            "https://[::1",
            "https://[zz]",
            "://a.be",
        ] {
            assert!(origin_of(&ask(bad)).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn embedded_in_another_origin_only() {
        let with_top = |top: &str| {
            let mut a = ask("https://sign.provider.example");
            a.top_origin = Some(top.to_owned());
            a
        };
        let origin = Origin::from_normalized("https://sign.provider.example").unwrap();
        assert_eq!(
            embedded_in(&with_top("https://portal.example.be"), &origin).map(|o| o.to_string()),
            Some("https://portal.example.be".to_owned())
        );
        // The top-level page itself, or a frame of the same origin: nothing to say.
        assert_eq!(embedded_in(&with_top("https://sign.provider.example"), &origin), None);
        assert_eq!(embedded_in(&ask("https://sign.provider.example"), &origin), None);
        // Not an origin: dropped, the request is still shown.
        let bad = with_top("https://portal.example.be/path");
        assert_eq!(embedded_in(&bad, &origin), None);
        assert!(parse_request(&Request::Ask(Box::new(bad)).to_line().unwrap()).is_ok());
    }

    fn ask(origin: &str) -> Ask {
        match Request::from_line(&format!(r#"{{"type":"ask","purpose":"consent","origin":{origin:?}}}"#)).unwrap() {
            Request::Ask(a) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn response_lines() {
        let pin = Response::Pin(Zeroizing::new("1234".to_owned()));
        assert_eq!(&pin.to_line()[..], b"{\"result\":\"pin\",\"pin\":\"1234\"}\n");
        assert_eq!(&Response::Confirmed.to_line()[..], b"{\"result\":\"confirmed\"}\n");
        assert_eq!(&Response::Cancelled.to_line()[..], b"{\"result\":\"cancelled\"}\n");
        let mut out = Vec::new();
        write_response(&Response::Cancelled, &mut out).unwrap();
        assert_eq!(out, b"{\"result\":\"cancelled\"}\n");
    }

    #[test]
    fn debug_never_shows_the_pin() {
        let pin = Response::Pin(Zeroizing::new("987654".to_owned()));
        let shown = format!("{pin:?} {pin:#?}");
        assert!(!shown.contains("987654"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn bounded_lines() {
        let mut input = io::Cursor::new(b"one\r\ntwo\n0123456789abcdef\nlast".to_vec());
        assert_eq!(read_line(&mut input, 10).unwrap(), Line::Text("one".into()));
        assert_eq!(read_line(&mut input, 10).unwrap(), Line::Text("two".into()));
        assert!(matches!(read_line(&mut input, 10).unwrap(), Line::Invalid(_)));
        assert_eq!(read_line(&mut input, 10).unwrap(), Line::Text("last".into()));
        assert_eq!(read_line(&mut input, 10).unwrap(), Line::Eof);
        let mut input = io::Cursor::new(b"\xff\xfe\n".to_vec());
        assert!(matches!(read_line(&mut input, 10).unwrap(), Line::Invalid(_)));
        // a long line split across small reads
        let mut input = io::BufReader::with_capacity(3, io::Cursor::new(b"abcdefgh\nok\n".to_vec()));
        assert_eq!(read_line(&mut input, 20).unwrap(), Line::Text("abcdefgh".into()));
        assert_eq!(read_line(&mut input, 20).unwrap(), Line::Text("ok".into()));
        let mut input = io::BufReader::with_capacity(3, io::Cursor::new(b"abcdefgh\nok\n".to_vec()));
        assert!(matches!(read_line(&mut input, 5).unwrap(), Line::Invalid(_)));
        assert_eq!(read_line(&mut input, 5).unwrap(), Line::Text("ok".into()));
    }
}
