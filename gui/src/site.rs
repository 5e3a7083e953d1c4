//! How eidlink names a site to the user: the one place that splits an origin's host into the part
//! that says who owns the site (the registrable domain, "eTLD+1", from the Public Suffix List) and
//! the rest, and that shortens the rest to fit.
//!
//! A phishing host puts a familiar name on the left (`eservices.belgium.be.login-check.example.com`)
//! and counts on the left being what is read, or all that fits. The site owner is on the right:
//! `example.com`. So the registrable domain is shown first, biggest and whole, and what comes
//! before it is shown smaller and shortened from the left. The dialog and the tray (which links
//! this crate) name sites with this module only.
//!
//! The host is what [`Origin`] gives (`eidlink-webeid`'s one parser): lower case, IDNs in their
//! `xn--` form (shown as is: the Unicode form is where look-alike letters hide), IPv4 dotted, IPv6
//! in brackets. The list is the `psl` crate's, compiled in, private suffixes included: on
//! `github.io` or `blogspot.com` each customer is a site of its own, so `alice.github.io` is named
//! whole and `evil.alice.github.io` is `evil.` + `alice.github.io`.

use std::net::Ipv4Addr;

use eidlink_webeid::Origin;

/// What stands for the left part cut away.
pub const ELLIPSIS: &str = "…";

/// What kind of name a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// A domain name with a registrable domain under a public suffix.
    Domain,
    /// A name with no registrable domain: a public suffix itself (`co.uk`, `github.io`) or a single
    /// label such as `localhost`. Shown whole.
    Suffix,
    /// An IPv4 or IPv6 address, shown as such.
    Address,
}

/// A host split for display: `prefix` + `site` is the whole host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteName {
    /// What comes before the registrable domain, with its trailing dot (`eservices.belgium.be.`);
    /// empty when there is nothing before it.
    pub prefix: String,
    /// The registrable domain (`example.com`), or the whole host for an address or a name with
    /// none. Never shortened.
    pub site: String,
    /// What kind of name this is.
    pub kind: SiteKind,
}

impl SiteName {
    /// The name of `origin`'s host.
    pub fn of(origin: &Origin) -> SiteName {
        SiteName::of_host(origin.host())
    }

    /// The name of a host as [`Origin::host`] gives it.
    pub fn of_host(host: &str) -> SiteName {
        let whole = |kind| SiteName {
            prefix: String::new(),
            site: host.to_owned(),
            kind,
        };
        // An IPv6 host always comes bracketed from the origin parser; an IPv4 one in dotted form.
        // Neither has a suffix: the Public Suffix List's default rule would make `0.1` the
        // "registrable domain" of 127.0.0.1.
        if host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() {
            return whole(SiteKind::Address);
        }
        match psl::domain(host.as_bytes()) {
            // psl returns a tail of its input, so the prefix is what is left of it.
            Some(domain) => {
                let cut = host.len().saturating_sub(domain.as_bytes().len());
                match (host.get(..cut), host.get(cut..)) {
                    (Some(prefix), Some(site)) if !site.is_empty() => SiteName {
                        prefix: prefix.to_owned(),
                        site: site.to_owned(),
                        kind: SiteKind::Domain,
                    },
                    _ => whole(SiteKind::Suffix),
                }
            }
            None => whole(SiteKind::Suffix),
        }
    }

    /// The whole host again.
    pub fn host(&self) -> String {
        format!("{}{}", self.prefix, self.site)
    }
}

/// The longest right-hand part of `prefix` that `fits`, cut at a label: `…login-check.` for
/// `eservices.belgium.be.login-check.`. The whole prefix when it fits; `None` when not even
/// [`ELLIPSIS`] and its last label fit (see [`elide_chars`]).
pub fn elide_labels(prefix: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
    if fits(prefix) {
        return Some(prefix.to_owned());
    }
    // Cut after each dot but the last (the prefix ends with the dot before the site).
    let body = prefix.strip_suffix('.').unwrap_or(prefix);
    body.match_indices('.')
        .map(|(i, _)| format!("{ELLIPSIS}{}", &prefix[i + 1..]))
        .find(|shown| fits(shown))
}

/// The longest right-hand part of `text` that `fits`, cut anywhere: for a single label too long to
/// show whole. Just [`ELLIPSIS`] when nothing else fits.
pub fn elide_chars(text: &str, fits: impl Fn(&str) -> bool) -> String {
    if fits(text) {
        return text.to_owned();
    }
    text.char_indices()
        .skip(1)
        .map(|(i, _)| format!("{ELLIPSIS}{}", &text[i..]))
        .find(|shown| fits(shown))
        .unwrap_or_else(|| ELLIPSIS.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(origin: &str) -> SiteName {
        let origin = Origin::from_normalized(origin).unwrap_or_else(|e| panic!("{origin}: {e}"));
        SiteName::of(&origin)
    }

    fn split(origin: &str) -> (String, String, SiteKind) {
        let n = name(origin);
        (n.prefix, n.site, n.kind)
    }

    fn parts(prefix: &str, site: &str, kind: SiteKind) -> (String, String, SiteKind) {
        (prefix.to_owned(), site.to_owned(), kind)
    }

    #[test]
    fn the_phishing_example_is_named_by_its_owner() {
        assert_eq!(
            split("https://eservices.belgium.be.login-check.example.com"),
            parts("eservices.belgium.be.login-check.", "example.com", SiteKind::Domain)
        );
        assert_eq!(
            split("https://eservices.belgium.be"),
            parts("eservices.", "belgium.be", SiteKind::Domain)
        );
        assert_eq!(split("https://belgium.be"), parts("", "belgium.be", SiteKind::Domain));
    }

    #[test]
    fn multi_label_public_suffixes() {
        assert_eq!(
            split("https://www.hmrc.gov.uk"),
            parts("www.", "hmrc.gov.uk", SiteKind::Domain)
        );
        assert_eq!(
            split("https://login.bank.co.uk"),
            parts("login.", "bank.co.uk", SiteKind::Domain)
        );
        // A host that is itself a public suffix has no owner below it: shown whole.
        assert_eq!(split("https://co.uk"), parts("", "co.uk", SiteKind::Suffix));
    }

    #[test]
    fn private_suffixes_count_as_suffixes() {
        assert_eq!(
            split("https://alice.github.io"),
            parts("", "alice.github.io", SiteKind::Domain)
        );
        assert_eq!(
            split("https://belgium.be.alice.github.io"),
            parts("belgium.be.", "alice.github.io", SiteKind::Domain)
        );
        assert_eq!(split("https://github.io"), parts("", "github.io", SiteKind::Suffix));
    }

    #[test]
    fn idns_stay_in_the_form_the_origin_parser_gives() {
        // The origin parser refuses Unicode hosts: the host sends punycode, shown as such.
        assert!(Origin::from_normalized("https://bücher.example").is_err());
        assert_eq!(
            split("https://shop.xn--bcher-kva.be"),
            parts("shop.", "xn--bcher-kva.be", SiteKind::Domain)
        );
        // An IDN public suffix (公司.cn as xn--55qx5d.cn) is on the list in its xn-- form too.
        assert_eq!(
            split("https://www.xn--85x722f.xn--55qx5d.cn"),
            parts("www.", "xn--85x722f.xn--55qx5d.cn", SiteKind::Domain)
        );
    }

    #[test]
    fn addresses_and_localhost_are_shown_as_such() {
        assert_eq!(
            split("https://127.0.0.1:8443"),
            parts("", "127.0.0.1", SiteKind::Address)
        );
        assert_eq!(
            split("https://192.168.10.20"),
            parts("", "192.168.10.20", SiteKind::Address)
        );
        assert_eq!(split("https://[::1]:8443"), parts("", "[::1]", SiteKind::Address));
        assert_eq!(
            split("https://[2001:db8::1]"),
            parts("", "[2001:db8::1]", SiteKind::Address)
        );
        assert_eq!(split("http://localhost:8080"), parts("", "localhost", SiteKind::Suffix));
        // Not on the list: the default rule makes the last label a suffix, as browsers do.
        assert_eq!(
            split("https://app.dev.localhost"),
            parts("app.", "dev.localhost", SiteKind::Domain)
        );
    }

    #[test]
    fn a_fully_qualified_host_keeps_its_dot() {
        let n = name("https://login.bank.be.");
        assert_eq!((n.prefix.as_str(), n.site.as_str()), ("login.", "bank.be."));
        assert_eq!(n.host(), "login.bank.be.");
    }

    #[test]
    fn prefix_and_site_are_the_whole_host() {
        for origin in [
            "https://eservices.belgium.be.login-check.example.com",
            "https://a.b.c.d.e.f.g.example.co.uk",
            "https://co.uk",
            "https://[::1]",
        ] {
            let n = name(origin);
            assert_eq!(format!("https://{}", n.host()), origin);
        }
    }

    #[test]
    fn elision_keeps_whole_labels_from_the_right() {
        let prefix = "eservices.belgium.be.login-check.";
        let at_most = |n: usize| move |s: &str| s.chars().count() <= n;
        assert_eq!(elide_labels(prefix, at_most(100)).as_deref(), Some(prefix));
        assert_eq!(elide_labels(prefix, at_most(20)).as_deref(), Some("…be.login-check."));
        assert_eq!(elide_labels(prefix, at_most(13)).as_deref(), Some("…login-check."));
        assert_eq!(elide_labels(prefix, at_most(12)), None);
        assert_eq!(elide_labels("www.", at_most(3)), None);
        assert_eq!(elide_chars("login-check.", at_most(6)), "…heck.");
        assert_eq!(elide_chars("login-check.", at_most(0)), "…");
        assert_eq!(elide_chars("ab.", at_most(3)), "ab.");
    }
}
