//! Parsing the browser's command (protocol.md §2.1): exact key sets, typed arguments. Parse, don't
//! validate: once a `Request` exists, its origin is an https origin, its nonce has the right length,
//! its digest the right size.

use eidlink_core::{Digest, HashAlgorithm};
use eidlink_webeid::{HttpLocalhost, Nonce, Origin, OriginError};
use serde_json::{Map, Value};

use super::errors::{HostError, Reason};

/// The origin argument: the browser's serialization exactly (the extension sends
/// `new URL(sender.url).origin`); anything else is ORIGIN_REJECTED.
pub fn origin(s: &str, allow_http_localhost: bool) -> Result<Origin, HostError> {
    Origin::parse(s, HttpLocalhost::from(allow_http_localhost)).map_err(|e| match e {
        // The origin itself is not echoed: it may be kilobytes long.
        OriginError::TooLong => HostError::new(Reason::OriginRejected, format!("origin {e}")),
        e => HostError::new(Reason::OriginRejected, format!("origin '{s}' rejected: {e}")),
    })
}

/// The optional `topOrigin` argument: the origin of the tab's top-level page when the page that
/// asks is a frame in it (the extension sends it only to a host whose handshake lists the
/// [`TOP_ORIGIN`] capability). It is shown in the PIN dialog ("embedded in"), never signed, so
/// http on localhost is taken whatever the developer setting (a developer's page embedding an https
/// site is a secure context). Anything the one origin parser refuses is ORIGIN_REJECTED, like a
/// bad `origin`: the extension sends the browser's serialization, so a value it refuses means a
/// top-level page with no web origin to name (an extension page), and dropping it would show a
/// framed site as if it were the page the user sees.
pub fn top_origin(args: &Map<String, Value>) -> Result<Option<Origin>, HostError> {
    let Some(value) = args.get("topOrigin") else {
        return Ok(None);
    };
    let s = value
        .as_str()
        .ok_or_else(|| HostError::invalid("'topOrigin' is not a string"))?;
    Origin::parse(s, HttpLocalhost::Allowed).map(Some).map_err(|e| match e {
        OriginError::TooLong => HostError::new(Reason::OriginRejected, format!("topOrigin {e}")),
        e => HostError::new(Reason::OriginRejected, format!("topOrigin '{s}' rejected: {e}")),
    })
}

/// The capability the host's first message lists when it takes [`top_origin`] (the extension sends
/// `topOrigin` to no other host, so an older host never sees a key it would refuse).
pub const TOP_ORIGIN: &str = "topOrigin";

/// The optional arguments every command with an origin takes.
const OPTIONAL: &[&str] = &["lang", "topOrigin"];

/// A browser command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `quit`: reply `{}` and exit.
    Quit,
    /// `authenticate`.
    Authenticate {
        /// The site.
        origin: Origin,
        /// The tab's top-level page, when the site is a frame in it.
        top_origin: Option<Origin>,
        /// The server's challenge nonce (44..=128 characters).
        nonce: Nonce,
        /// UI language.
        lang: Option<String>,
    },
    /// `get-signing-certificate`.
    GetSigningCertificate {
        /// The site.
        origin: Origin,
        /// The tab's top-level page, when the site is a frame in it.
        top_origin: Option<Origin>,
        /// UI language.
        lang: Option<String>,
    },
    /// `sign`.
    Sign {
        /// The site.
        origin: Origin,
        /// The tab's top-level page, when the site is a frame in it.
        top_origin: Option<Origin>,
        /// The document digest.
        digest: Digest,
        /// The signing certificate (DER) the site expects.
        certificate: Vec<u8>,
        /// UI language.
        lang: Option<String>,
    },
}

impl Request {
    /// The command name, for logs and history.
    pub fn command(&self) -> &'static str {
        match self {
            Self::Quit => "quit",
            Self::Authenticate { .. } => "authenticate",
            Self::GetSigningCertificate { .. } => "get-signing-certificate",
            Self::Sign { .. } => "sign",
        }
    }

    /// The origin, when the command has one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Self::Quit => None,
            Self::Authenticate { origin, .. }
            | Self::GetSigningCertificate { origin, .. }
            | Self::Sign { origin, .. } => Some(origin),
        }
    }

    /// The tab's top-level page, when the extension said the site is a frame in it.
    pub fn top_origin(&self) -> Option<&Origin> {
        match self {
            Self::Quit => None,
            Self::Authenticate { top_origin, .. }
            | Self::GetSigningCertificate { top_origin, .. }
            | Self::Sign { top_origin, .. } => top_origin.as_ref(),
        }
    }

    /// The UI language.
    pub fn lang(&self) -> Option<&str> {
        match self {
            Self::Quit => None,
            Self::Authenticate { lang, .. } | Self::GetSigningCertificate { lang, .. } | Self::Sign { lang, .. } => {
                lang.as_deref()
            }
        }
    }
}

/// Parses one message.
pub fn parse(bytes: &[u8], allow_http_localhost: bool) -> Result<Request, HostError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| HostError::invalid(format!("the message is not JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(HostError::invalid("the message is not a JSON object"));
    };
    exact_keys(&top, &["command", "arguments"], &[], "message")?;
    let command = top
        .get("command")
        .and_then(Value::as_str)
        .ok_or(HostError::invalid("'command' is not a string"))?;
    let Some(Value::Object(args)) = top.get("arguments") else {
        return Err(HostError::invalid("'arguments' is not an object"));
    };
    match command {
        "quit" => {
            exact_keys(args, &[], &[], "quit")?;
            Ok(Request::Quit)
        }
        "authenticate" => {
            exact_keys(args, &["challengeNonce", "origin"], OPTIONAL, command)?;
            let nonce = Nonce::new(string(args, "challengeNonce")?)
                .map_err(|e| HostError::invalid(format!("challengeNonce must be 44 to 128 characters, got {}", e.0)))?;
            Ok(Request::Authenticate {
                origin: origin(&string(args, "origin")?, allow_http_localhost)?,
                top_origin: top_origin(args)?,
                nonce,
                lang: lang(args)?,
            })
        }
        "get-signing-certificate" => {
            exact_keys(args, &["origin"], OPTIONAL, command)?;
            Ok(Request::GetSigningCertificate {
                origin: origin(&string(args, "origin")?, allow_http_localhost)?,
                top_origin: top_origin(args)?,
                lang: lang(args)?,
            })
        }
        "sign" => {
            exact_keys(
                args,
                &["certificate", "hash", "hashFunction", "origin"],
                OPTIONAL,
                command,
            )?;
            let name = string(args, "hashFunction")?;
            let alg = HashAlgorithm::from_name(&name).ok_or_else(|| {
                let names: Vec<&str> = HashAlgorithm::ALL.iter().map(|h| h.name()).collect();
                HostError::invalid(format!("unknown hashFunction '{name}' (one of {})", names.join(", ")))
            })?;
            let hash = base64(args, "hash")?;
            let digest = Digest::new(alg, hash).map_err(|e| HostError::invalid(e.to_string()))?;
            let certificate = base64(args, "certificate")?;
            if certificate.is_empty() {
                return Err(HostError::invalid("certificate is empty"));
            }
            Ok(Request::Sign {
                origin: origin(&string(args, "origin")?, allow_http_localhost)?,
                top_origin: top_origin(args)?,
                digest,
                certificate,
                lang: lang(args)?,
            })
        }
        other => Err(HostError::invalid(format!("unknown command '{other}'"))),
    }
}

fn exact_keys(obj: &Map<String, Value>, required: &[&str], optional: &[&str], what: &str) -> Result<(), HostError> {
    if let Some(extra) = obj
        .keys()
        .find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
    {
        return Err(HostError::invalid(format!("unexpected key '{extra}' in {what}")));
    }
    if let Some(missing) = required.iter().find(|k| !obj.contains_key(**k)) {
        return Err(HostError::invalid(format!("missing '{missing}' in {what}")));
    }
    Ok(())
}

fn string(args: &Map<String, Value>, key: &str) -> Result<String, HostError> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| HostError::invalid(format!("'{key}' is not a string")))
}

fn base64(args: &Map<String, Value>, key: &str) -> Result<Vec<u8>, HostError> {
    eidlink_webeid::base64_decode(&string(args, key)?)
        .map_err(|e| HostError::invalid(format!("'{key}' is not standard base64: {e}")))
}

fn lang(args: &Map<String, Value>) -> Result<Option<String>, HostError> {
    match args.get("lang") {
        None => Ok(None),
        Some(Value::String(s)) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(Some(s.to_ascii_lowercase()))
        }
        Some(_) => Err(HostError::invalid("'lang' must be a two-letter ISO 639-1 code")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    const NONCE: &str = "12345678901234567890123456789012345678901234";

    fn p(v: Value) -> Result<Request, HostError> {
        parse(v.to_string().as_bytes(), false)
    }

    fn reason(v: Value) -> Reason {
        p(v).map(|_| Reason::Internal).unwrap_or_else(|e| e.reason)
    }

    // The rules are eidlink-webeid's (origin.rs tests them, with these cases); here, that each
    // rejection is ORIGIN_REJECTED.
    #[test]
    fn origins() {
        assert_eq!(
            origin("https://ex.be", false).map(|o| o.host().to_owned()),
            Ok("ex.be".to_owned())
        );
        assert!(origin("https://ex.be:8443", false).is_ok());
        assert!(origin("wss://ex.be", false).is_ok());
        for bad in [
            "http://ex.be",
            "https://ex.be/",
            "https://ex.be/login",
            "https://ex.be?x=1",
            "https://ex.be#f",
            "https://user@ex.be",
            "https://EX.be",
            "https://ex.be:443",
            "ftp://ex.be",
            "ex.be",
            "http://localhost:8080",
        ] {
            assert_eq!(
                origin(bad, false).map_err(|e| e.reason),
                Err(Reason::OriginRejected),
                "{bad}"
            );
        }
        assert!(origin("http://localhost:8080", true).is_ok());
        assert!(origin("http://127.0.0.1:8080", true).is_ok());
        assert!(origin("http://ex.be", true).is_err());
        assert!(origin(&format!("https://{}.be", "a".repeat(260)), false).is_err());
    }

    #[test]
    fn commands_and_exact_keys() {
        assert_eq!(p(json!({"command":"quit","arguments":{}})), Ok(Request::Quit));
        let auth = p(
            json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":"https://ex.be","lang":"FR"}}),
        );
        assert!(matches!(auth, Ok(Request::Authenticate { ref lang, .. }) if lang.as_deref() == Some("fr")));
        let r = |v| reason(v);
        assert_eq!(r(json!({"command":"nope","arguments":{}})), Reason::InvalidArgument);
        assert_eq!(r(json!({"command":"quit"})), Reason::InvalidArgument);
        assert_eq!(
            r(json!({"command":"quit","arguments":{},"x":1})),
            Reason::InvalidArgument
        );
        assert_eq!(r(json!([1, 2])), Reason::InvalidArgument);
        assert_eq!(
            r(
                json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":"https://ex.be","extra":1}})
            ),
            Reason::InvalidArgument
        );
        assert_eq!(
            r(json!({"command":"authenticate","arguments":{"origin":"https://ex.be"}})),
            Reason::InvalidArgument
        );
        assert_eq!(
            r(json!({"command":"authenticate","arguments":{"challengeNonce":"short","origin":"https://ex.be"}})),
            Reason::InvalidArgument
        );
        assert_eq!(
            r(
                json!({"command":"authenticate","arguments":{"challengeNonce":"x".repeat(129),"origin":"https://ex.be"}})
            ),
            Reason::InvalidArgument
        );
        assert_eq!(
            r(json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":"http://ex.be"}})),
            Reason::OriginRejected
        );
        assert_eq!(
            r(json!({"command":"get-signing-certificate","arguments":{"origin":"https://ex.be","lang":"french"}})),
            Reason::InvalidArgument
        );
        assert!(parse(b"not json", false).is_err());
    }

    #[test]
    fn the_top_origin_is_optional_and_parsed_by_the_one_parser() {
        let auth = |extra: Value| {
            let mut args = json!({"challengeNonce": NONCE, "origin": "https://sign.provider.example"});
            if let (Value::Object(args), Value::Object(extra)) = (&mut args, extra) {
                args.extend(extra);
            }
            p(json!({"command": "authenticate", "arguments": args}))
        };
        let top = |r: &Result<Request, HostError>| r.as_ref().ok().and_then(|r| r.top_origin()).map(|o| o.to_string());
        assert_eq!(top(&auth(json!({}))), None, "an older extension sends none");
        assert_eq!(
            top(&auth(json!({"topOrigin": "https://portal.example.be"}))),
            Some("https://portal.example.be".to_owned())
        );
        // Only shown, never signed: a developer's http page on localhost is named, setting off.
        assert_eq!(
            top(&auth(json!({"topOrigin": "http://localhost:3000"}))),
            Some("http://localhost:3000".to_owned())
        );
        for bad in [
            json!("https://portal.example.be/page"),
            json!("https://PORTAL.example.be"),
            json!("chrome-extension://abcdefghijklmnop"),
            json!("null"),
            json!("http://portal.example.be"),
        ] {
            let r = auth(json!({ "topOrigin": bad }));
            assert_eq!(r.map_err(|e| e.reason), Err(Reason::OriginRejected), "{bad}");
        }
        assert_eq!(
            reason(
                json!({"command":"authenticate","arguments":{"challengeNonce":NONCE,"origin":"https://ex.be","topOrigin":7}})
            ),
            Reason::InvalidArgument
        );
        let cert = p(
            json!({"command":"get-signing-certificate","arguments":{"origin":"https://ex.be","topOrigin":"https://top.example"}}),
        );
        assert_eq!(top(&cert), Some("https://top.example".to_owned()));
    }

    #[test]
    fn sign_arguments() {
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
        let sign = |hf: &str, hash: String| json!({"command":"sign","arguments":{"origin":"https://ex.be","hashFunction":hf,"hash":hash,"certificate":b64(10)}});
        assert!(matches!(p(sign("SHA-256", b64(32))), Ok(Request::Sign { .. })));
        assert!(matches!(p(sign("SHA3-512", b64(64))), Ok(Request::Sign { .. })));
        assert_eq!(reason(sign("SHA-256", b64(48))), Reason::InvalidArgument);
        assert_eq!(reason(sign("SHA-1", b64(20))), Reason::InvalidArgument);
        assert_eq!(reason(sign("SHA-256", "not base64!".into())), Reason::InvalidArgument);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xFBu8; 32]);
        assert_eq!(reason(sign("SHA-256", url_safe)), Reason::InvalidArgument);
    }
}
