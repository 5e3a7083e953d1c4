//! The site origin a verifier is configured with, normalized as browsers serialize it
//! (`new URL(..).origin`, protocol.md §1), because its exact bytes are hashed into what the card
//! signs (§2.2): `https://example.org` and `https://Example.org:443/` are the same site and must
//! hash the same. The rules are `eidlink_webeid::Origin`'s, shared with the host.

use eidlink_webeid::{HttpLocalhost, Origin};

use crate::error::ConfigError;

/// Normalizes a site origin to `scheme://host[:port]`: lower-case scheme and host, the default port
/// (443 for https/wss, 80 for http) dropped, one trailing `/` tolerated. Refuses paths, queries,
/// fragments, user info, non-ASCII hosts (give the punycode form, as browsers serialize it) and http
/// other than on localhost and 127.0.0.1 (a developer's own site, protocol.md §2.1).
pub fn normalize_origin(origin: &str) -> Result<String, ConfigError> {
    Origin::normalize(origin, HttpLocalhost::Allowed)
        .map(|o| o.as_str().to_owned())
        .map_err(|reason| ConfigError::Origin {
            origin: origin.to_owned(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The cases of this module's own parser live with the rules, in eidlink-webeid's origin tests;
    // here, that the verifier takes the same rules and names the origin it refused.
    #[test]
    fn normalizes_like_a_browser() {
        assert_eq!(
            normalize_origin("HTTPS://Example.ORG:443/"),
            Ok("https://example.org".to_owned())
        );
        assert_eq!(
            normalize_origin("http://localhost:8080"),
            Ok("http://localhost:8080".to_owned())
        );
        assert_eq!(
            normalize_origin("https://example.org/path"),
            Err(ConfigError::Origin {
                origin: "https://example.org/path".into(),
                reason: eidlink_webeid::OriginError::Path
            })
        );
        assert!(normalize_origin("https://bücher.example").is_err());
        assert!(normalize_origin("http://example.org").is_err());
    }
}
