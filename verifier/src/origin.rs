//! The site origin, serialized as browsers do (`new URL(..).origin`, protocol.md §1), because its
//! exact bytes are hashed into what the card signs (§2.2): `https://example.org` and
//! `https://Example.org:443/` are the same site and must hash the same.

use crate::error::ConfigError;

/// Normalizes a site origin to `scheme://host[:port]`: lower-case scheme and host, the default port
/// (443 for https/wss, 80 for http) dropped, one trailing `/` tolerated. Refuses paths, queries,
/// fragments, user info, non-ASCII hosts (give the punycode form, as browsers serialize it) and http
/// other than on localhost (protocol.md §2.1).
pub fn normalize_origin(origin: &str) -> Result<String, ConfigError> {
    let err = |reason| ConfigError::Origin {
        origin: origin.to_owned(),
        reason,
    };
    if origin.len() > 255 {
        return Err(err("longer than 255 characters"));
    }
    let (scheme, rest) = origin.split_once("://").ok_or_else(|| err("expected scheme://host"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" | "wss" => 443,
        "http" => 80,
        _ => return Err(err("the scheme must be https")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(err("no host"));
    }
    if authority.contains(['/', '?', '#']) {
        return Err(err("an origin has no path, query or fragment"));
    }
    if authority.contains('@') {
        return Err(err("an origin has no user info"));
    }
    if !authority.is_ascii()
        || authority
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(err("the host must be ASCII (punycode) without spaces"));
    }
    // Split host and port; an IPv6 literal is bracketed.
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| err("unclosed IPv6 bracket"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| err("junk after the IPv6 address"))?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(err("no host"));
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(err("invalid host"));
    }
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("invalid port"));
            }
            let n: u16 = p.parse().map_err(|_| err("invalid port"))?;
            (n != default_port).then_some(n)
        }
    };
    if scheme == "http" && !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
        return Err(err("http is only allowed for localhost"));
    }
    Ok(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_a_browser() {
        let ok = |s: &str| normalize_origin(s).unwrap_or_else(|e| panic!("{s}: {e}"));
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
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }
}
