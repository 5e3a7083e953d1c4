//! `eidlink diagnose`: what support needs to know, and nothing secret (no PIN, no signature, no
//! certificate beyond subject, issuer and validity).

use std::io::{self, Write};
use std::path::Path;

use eidlink_core::{CertificateKind, KeyRole};
use eidlink_pcsc::Found;

use crate::certinfo;

/// PKCS#11 modules eidlink may use, per platform (cards.md §1.16, §4).
const PKCS11_MODULES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libbeidpkcs11.so.0",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/opensc-pkcs11.so",
];

/// Where browsers look for the native-messaging host manifest on Linux (test-infra.md §2–3).
const HOST_MANIFESTS: &[(&str, &str)] = &[
    (
        "Chromium (system)",
        "/etc/chromium/native-messaging-hosts/org.eidlink.host.json",
    ),
    (
        "Google Chrome (system)",
        "/etc/opt/chrome/native-messaging-hosts/org.eidlink.host.json",
    ),
    (
        "Microsoft Edge (system)",
        "/etc/opt/edge/native-messaging-hosts/org.eidlink.host.json",
    ),
    (
        "Firefox (system)",
        "/usr/lib/mozilla/native-messaging-hosts/org.eidlink.host.json",
    ),
];

/// Writes the report.
pub fn run(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "eidlink {} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )?;
    let ctx = match eidlink_pcsc::context() {
        Ok(ctx) => {
            writeln!(out, "PC/SC service: running")?;
            Some(ctx)
        }
        Err(e) => {
            writeln!(out, "PC/SC service: NOT available ({e})")?;
            None
        }
    };
    if let Some(ctx) = ctx {
        match eidlink_pcsc::readers(&ctx) {
            Ok(list) if list.is_empty() => writeln!(out, "readers: none connected")?,
            Ok(list) => {
                for r in &list {
                    let state = match &r.atr {
                        Some(atr) => format!(
                            "card present, ATR {atr}, driver: {}{}",
                            eidlink_core::detect(atr).map_or("none (unsupported card)", |d| d.name),
                            if r.exclusive {
                                ", held exclusively by another application"
                            } else {
                                ""
                            }
                        ),
                        None => "no card".to_owned(),
                    };
                    writeln!(out, "reader '{}': {state}", r.name)?;
                }
                cards(&ctx, out)?;
            }
            Err(e) => writeln!(out, "readers: error: {e}")?,
        }
    }
    writeln!(out, "PKCS#11 modules:")?;
    for m in PKCS11_MODULES {
        writeln!(
            out,
            "  {m}: {}",
            if Path::new(m).exists() { "present" } else { "absent" }
        )?;
    }
    writeln!(out, "native-messaging host registrations:")?;
    let mut manifests: Vec<(String, String)> = HOST_MANIFESTS
        .iter()
        .map(|(b, p)| ((*b).to_owned(), (*p).to_owned()))
        .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let home = Path::new(&home);
        for (b, rel) in [
            (
                "Chromium (user)",
                ".config/chromium/NativeMessagingHosts/org.eidlink.host.json",
            ),
            (
                "Google Chrome (user)",
                ".config/google-chrome/NativeMessagingHosts/org.eidlink.host.json",
            ),
            (
                "Firefox (user)",
                ".mozilla/native-messaging-hosts/org.eidlink.host.json",
            ),
        ] {
            manifests.push((b.to_owned(), home.join(rel).display().to_string()));
        }
    }
    for (browser, path) in manifests {
        writeln!(
            out,
            "  {browser}: {}",
            if Path::new(&path).exists() {
                path
            } else {
                "not registered".to_owned()
            }
        )?;
    }
    Ok(())
}

fn cards(ctx: &pcsc::Context, out: &mut dyn Write) -> io::Result<()> {
    let found = match eidlink_pcsc::discover(ctx) {
        Ok(f) => f,
        Err(e) => return writeln!(out, "cards: error: {e}"),
    };
    for f in found {
        match f {
            Found::Token(mut t) => {
                writeln!(out, "card in '{}': {}", t.reader(), t.card_name())?;
                match t.card_info() {
                    Ok(info) => {
                        for (k, v) in [("version", info.version), ("serial", info.serial)] {
                            if let Some(v) = v {
                                writeln!(out, "  {k}: {v}")?;
                            }
                        }
                        for (k, v) in info.extra {
                            writeln!(out, "  {k}: {v}")?;
                        }
                    }
                    Err(e) => writeln!(out, "  card data: error: {e}")?,
                }
                for (label, kind) in [
                    ("authentication certificate", CertificateKind::Authentication),
                    ("signing certificate", CertificateKind::Signing),
                ] {
                    match t.certificate(kind).map(|der| certinfo::summarize(&der)) {
                        Ok(Ok(s)) => writeln!(
                            out,
                            "  {label}: {}, {}, issuer {}, valid {} to {}",
                            s.subject_cn, s.key, s.issuer_cn, s.not_before, s.not_after
                        )?,
                        Ok(Err(e)) => writeln!(out, "  {label}: {e}")?,
                        Err(e) => writeln!(out, "  {label}: error: {e}")?,
                    }
                }
                match t.pin_info(KeyRole::Authentication) {
                    Ok(p) => writeln!(
                        out,
                        "  PIN tries left: {} of {}",
                        p.tries_left.map_or("unknown".to_owned(), |n| n.to_string()),
                        p.max_tries
                    )?,
                    Err(e) => writeln!(out, "  PIN state: error: {e}")?,
                }
            }
            Found::Unsupported { reader, atr } => writeln!(out, "card in '{reader}': not supported (ATR {atr})")?,
            Found::Error { reader, error } => writeln!(out, "card in '{reader}': error: {error}")?,
        }
    }
    Ok(())
}
