//! The site origin, `scheme://host[:port]` serialized as browsers do (`new URL(..).origin`,
//! protocol.md §1). Its exact bytes are hashed into what the card signs (§2.2), so the host that
//! builds a token, the verifier that checks it and the PIN dialog that shows it must agree on one
//! form: this module is the only parser.
//!
//! Two ways in, with the same rules: [`Origin::parse`] takes a string that must already be in that
//! form (what the extension sends, what the host hands the dialog); [`Origin::normalize`] also
//! accepts the spellings a person writes in a configuration (`HTTPS://Example.org:443/`) and gives
//! the browser's form.

use std::fmt;
use std::str::FromStr;

/// Longest origin accepted, in bytes (Web eID's limit, protocol.md §2.1).
pub const MAX_ORIGIN_LEN: usize = 255;

/// Whether `http://localhost` and `http://127.0.0.1` are accepted besides https and wss. Browsers
/// treat those hosts as secure contexts, so a developer can run a site there; everything else over
/// http is refused, as an attacker on the network could forge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpLocalhost {
    /// Only https and wss (the default).
    #[default]
    Refused,
    /// http too on localhost and 127.0.0.1 (a developer setting).
    Allowed,
}

impl From<bool> for HttpLocalhost {
    fn from(allowed: bool) -> Self {
        if allowed {
            Self::Allowed
        } else {
            Self::Refused
        }
    }
}

/// Why a string is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// More than [`MAX_ORIGIN_LEN`] bytes.
    #[error("longer than 255 characters")]
    TooLong,
    /// Not `scheme://authority`.
    #[error("expected scheme://host[:port]")]
    NotAnOrigin,
    /// A scheme other than https and wss (or http when allowed).
    #[error("only https origins are allowed")]
    Scheme,
    /// http on localhost while the developer setting is off.
    #[error("http is allowed on localhost only when the developer setting allow-http-localhost is on")]
    HttpLocalhostOff,
    /// User info (`https://bank.example@evil.example`): the host shown would not be the site.
    #[error("an origin has no user info")]
    UserInfo,
    /// A path, query or fragment.
    #[error("an origin has no path, query or fragment")]
    Path,
    /// A non-ASCII host: browsers send the punycode form, which is what gets signed.
    #[error("the host must be ASCII: give its punycode form{}", punycode.as_ref().map(|p| format!(" ({p})")).unwrap_or_default())]
    NotAscii {
        /// The punycode form of the origin, when the input has one.
        punycode: Option<String>,
    },
    /// Spaces, control characters, `%` or `\` in the authority.
    #[error("the host has characters an origin cannot have")]
    Characters,
    /// No host, or one the URL standard refuses.
    #[error("invalid host{}", if .0.is_empty() { String::new() } else { format!(": {}", .0) })]
    Host(String),
    /// An empty or out of range port.
    #[error("invalid port")]
    Port,
    /// [`Origin::parse`] on a string that is not in the browser's form.
    #[error("not in normalized form (expected '{0}')")]
    NotNormalized(String),
}

/// A web origin in the browser's serialization: lower-case scheme and host (IDN in its `xn--`
/// form), the default port dropped, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    serialized: String,
    scheme_len: usize,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// Parses an origin already in the browser's form (as the extension sends it): https or wss,
    /// http only on localhost / 127.0.0.1 with [`HttpLocalhost::Allowed`], at most 255 bytes, no
    /// user info, path, query, fragment or trailing slash, lower-case host, no default port.
    pub fn parse(s: &str, http: HttpLocalhost) -> Result<Self, OriginError> {
        let origin = Self::normalize(s, http)?;
        if origin.serialized != s {
            return Err(OriginError::NotNormalized(origin.serialized));
        }
        Ok(origin)
    }

    /// Parses an origin the host has already checked, as the PIN dialog gets it: the browser's form,
    /// http on localhost accepted (the host applied its own setting before).
    pub fn from_normalized(s: &str) -> Result<Self, OriginError> {
        Self::parse(s, HttpLocalhost::Allowed)
    }

    /// Normalizes an origin as a person may write it (in a configuration): the scheme and host in
    /// any case, the default port (443 for https and wss, 80 for http) spelled out, one trailing
    /// `/`. Otherwise the rules of [`Origin::parse`].
    pub fn normalize(s: &str, http: HttpLocalhost) -> Result<Self, OriginError> {
        if s.len() > MAX_ORIGIN_LEN {
            return Err(OriginError::TooLong);
        }
        let (scheme, rest) = s.split_once("://").ok_or(OriginError::NotAnOrigin)?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "https" | "wss" | "http") {
            return Err(OriginError::Scheme);
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(OriginError::Host(String::new()));
        }
        // Checked before the URL parser sees the string: it would read these as a path, drop tabs
        // and newlines silently, or decode `%41`, and the origin signed would not be the one given.
        if authority.contains(['/', '?', '#']) {
            return Err(OriginError::Path);
        }
        if authority.contains('@') {
            return Err(OriginError::UserInfo);
        }
        if !authority.is_ascii() {
            let punycode = url::Url::parse(&format!("{scheme}://{authority}"))
                .ok()
                .map(|u| u.origin().ascii_serialization())
                .filter(|p| p.is_ascii() && p != "null");
            return Err(OriginError::NotAscii { punycode });
        }
        if authority
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control() || c == '%' || c == '\\')
        {
            return Err(OriginError::Characters);
        }
        // The URL parser takes `host:` as "no port"; a browser never writes it.
        if authority.ends_with(':') {
            return Err(OriginError::Port);
        }
        let url = url::Url::parse(&format!("{scheme}://{authority}")).map_err(|e| match e {
            url::ParseError::InvalidPort => OriginError::Port,
            e => OriginError::Host(e.to_string()),
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(OriginError::Host(String::new()))?;
        if scheme == "http" {
            if !matches!(host, "localhost" | "127.0.0.1") {
                return Err(OriginError::Scheme);
            }
            if http == HttpLocalhost::Refused {
                return Err(OriginError::HttpLocalhostOff);
            }
        }
        let host = host.to_owned();
        let port = url.port();
        let serialized = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        Ok(Self {
            serialized,
            scheme_len: scheme.len(),
            host,
            port,
        })
    }

    /// `scheme://host[:port]`, the bytes that are hashed.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// `https`, `wss` or `http`.
    pub fn scheme(&self) -> &str {
        &self.serialized[..self.scheme_len]
    }

    /// The host: a name (lower case, IDN as `xn--`), an IPv4 address or a bracketed IPv6 address.
    /// What the PIN dialog shows big.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether the channel to the site is encrypted (https or wss): false only for a developer's
    /// http on localhost.
    pub fn is_secure(&self) -> bool {
        self.scheme() != "http"
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

impl AsRef<str> for Origin {
    fn as_ref(&self) -> &str {
        &self.serialized
    }
}

/// [`Origin::from_normalized`].
impl FromStr for Origin {
    type Err = OriginError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_normalized(s)
    }
}

impl serde::Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.serialized)
    }
}

/// Reads an origin in the browser's form ([`Origin::from_normalized`]): what one program of eidlink
/// sends another, already checked against the user's settings.
impl<'de> serde::Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::from_normalized(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFF: HttpLocalhost = HttpLocalhost::Refused;
    const ON: HttpLocalhost = HttpLocalhost::Allowed;

    // From host/app/src/host/request.rs: the extension's origin must already be normalized.
    #[test]
    fn origins() {
        assert_eq!(
            Origin::parse("https://ex.be", OFF).map(|o| o.host().to_owned()),
            Ok("ex.be".to_owned())
        );
        assert!(Origin::parse("https://ex.be:8443", OFF).is_ok());
        assert!(Origin::parse("wss://ex.be", OFF).is_ok());
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
            assert!(Origin::parse(bad, OFF).is_err(), "{bad}");
        }
        assert!(Origin::parse("http://localhost:8080", ON).is_ok());
        assert!(Origin::parse("http://127.0.0.1:8080", ON).is_ok());
        assert!(Origin::parse("http://ex.be", ON).is_err());
        assert!(Origin::parse(&format!("https://{}.be", "a".repeat(260)), OFF).is_err());
    }

    // From verifier/src/origin.rs: a configured origin is normalized as a browser would.
    #[test]
    fn normalizes_like_a_browser() {
        let ok = |s: &str| {
            Origin::normalize(s, ON)
                .map(|o| o.as_str().to_owned())
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        assert_eq!(ok("https://example.org"), "https://example.org");
        assert_eq!(ok("HTTPS://Example.ORG:443/"), "https://example.org");
        assert_eq!(ok("https://example.org:8443"), "https://example.org:8443");
        assert_eq!(ok("http://localhost:8080"), "http://localhost:8080");
        assert_eq!(ok("https://[::1]:443"), "https://[::1]");
        assert_eq!(ok("https://xn--bcher-kva.example"), "https://xn--bcher-kva.example");
        for bad in [
            "example.org",
            "ftp://example.org",
            "https://example.org/path",
            "https://example.org?q",
            "https://example.org#f",
            "https://user@example.org",
            "https://example.org:",
            "https://example.org:99999",
            "https://",
            "http://example.org",
            "https://bücher.example",
            "https://a b",
        ] {
            assert!(Origin::normalize(bad, ON).is_err(), "{bad}");
        }
    }

    // The cases of gui/src/protocol.rs's own parser (the PIN dialog), through the entry a display
    // uses: the dialog gets origins the host normalized.
    #[test]
    fn what_the_pin_dialog_needs() {
        let o = Origin::normalize("https://Service.Example.BE", OFF).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.scheme(), o.host(), o.port()), ("https", "service.example.be", None));
        assert!(o.is_secure());
        assert_eq!(o.as_str(), "https://service.example.be");
        let o = Origin::from_normalized("http://localhost:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.host(), o.port(), o.is_secure()), ("localhost", Some(8080), false));
        assert_eq!(o.as_str(), "http://localhost:8080");
        let o = Origin::from_normalized("https://[::1]:8443").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.host(), o.port()), ("[::1]", Some(8443)));
        assert_eq!(
            Origin::normalize("https://xn--bcher-kva.example/", OFF).map(|o| o.host().to_owned()),
            Ok("xn--bcher-kva.example".to_owned())
        );
        for bad in [
            "service.example.be",
            "https://",
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
            assert!(Origin::normalize(bad, ON).is_err(), "accepted {bad}");
            assert!(Origin::from_normalized(bad).is_err(), "accepted {bad}");
        }
        assert_eq!(
            "https://ex.be".parse::<Origin>().map(|o| o.to_string()),
            Ok("https://ex.be".into())
        );
    }

    #[test]
    fn each_rule_has_its_error() {
        let cases: [(&str, HttpLocalhost, OriginError); 16] = [
            (&"x".repeat(256), ON, OriginError::TooLong),
            ("ex.be", ON, OriginError::NotAnOrigin),
            ("ftp://ex.be", ON, OriginError::Scheme),
            ("http://ex.be", ON, OriginError::Scheme),
            ("http://[::1]", ON, OriginError::Scheme),
            ("http://localhost", OFF, OriginError::HttpLocalhostOff),
            ("https://u:p@ex.be", ON, OriginError::UserInfo),
            ("https://ex.be/a", ON, OriginError::Path),
            ("https://ex.be//", ON, OriginError::Path),
            (
                "https://bücher.example",
                ON,
                OriginError::NotAscii {
                    punycode: Some("https://xn--bcher-kva.example".into()),
                },
            ),
            ("https://ex\t.be", ON, OriginError::Characters),
            ("https://ex%41.be", ON, OriginError::Characters),
            ("https://ex.be\\", ON, OriginError::Characters),
            ("https://ex.be:", ON, OriginError::Port),
            ("https://ex.be:65536", ON, OriginError::Port),
            (
                "https://EX.be:443",
                ON,
                OriginError::NotNormalized("https://ex.be".into()),
            ),
        ];
        for (input, http, want) in cases {
            assert_eq!(Origin::parse(input, http), Err(want), "{input}");
        }
        assert_eq!(Origin::parse("https://", ON), Err(OriginError::Host(String::new())));
        assert!(matches!(Origin::parse("https://[zz]", ON), Err(OriginError::Host(_))));
        // Up to 255 bytes is fine.
        let long = format!("https://{}.be", "a".repeat(255 - 11));
        assert_eq!(long.len(), 255);
        assert_eq!(Origin::parse(&long, OFF).map(|o| o.as_str().len()), Ok(255));
        // IPv4 in other spellings is what the URL standard makes of it, and not the given form.
        assert_eq!(
            Origin::normalize("https://0x7f.1", OFF).map(|o| o.host().to_owned()),
            Ok("127.0.0.1".to_owned())
        );
        assert!(Origin::parse("https://0x7f.1", OFF).is_err());
    }

    #[test]
    fn serde_is_the_string() {
        let o = Origin::parse("https://ex.be:8443", OFF).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            serde_json::to_string(&o).ok().as_deref(),
            Some("\"https://ex.be:8443\"")
        );
        assert_eq!(serde_json::from_str::<Origin>("\"https://ex.be:8443\"").ok(), Some(o));
        assert!(serde_json::from_str::<Origin>("\"https://EX.be\"").is_err());
        assert!(serde_json::from_str::<Origin>("\"http://localhost:3000\"").is_ok());
        assert_eq!(HttpLocalhost::from(true), ON);
        assert_eq!(HttpLocalhost::from(false), OFF);
    }
}
