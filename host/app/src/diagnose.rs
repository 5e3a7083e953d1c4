//! `eidlink diagnose`: what support needs to know, and nothing secret (no PIN, no signature, no
//! certificate beyond subject, issuer and validity).

use std::io::{self, Write};
use std::path::Path;

use eidlink_core::{discover, CertificateKind, Found};

use crate::register::{self, Browser, Status, UserDirs};

/// PKCS#11 modules eidlink may use, per platform (cards.md §1.16, §4).
const PKCS11_MODULES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libbeidpkcs11.so.0",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/opensc-pkcs11.so",
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
                cards(out)?;
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
    registrations(out)?;
    Ok(())
}

/// Each browser's system and per-user registration, and whether its host program works.
fn registrations(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "native-messaging host registrations ({}):", register::HOST_NAME)?;
    let user = UserDirs::current().ok();
    for b in Browser::ALL {
        let mut places = vec![("system", b.system_dir())];
        if let Some(dir) = user.as_ref().and_then(|u| b.user_dir(u, None).ok()) {
            places.push(("user", dir));
        }
        for (scope, dir) in places {
            let state = match register::check(b, &dir) {
                Status::Absent => "not registered".to_owned(),
                Status::Broken(why) => format!("BROKEN: {why}"),
                Status::Ok { manifest, host } => format!("ok: {} -> {}", manifest.display(), host.display()),
            };
            writeln!(out, "  {} ({scope}): {state}", b.name())?;
        }
    }
    Ok(())
}

/// Every token every provider finds, with what support asks about it.
fn cards(out: &mut dyn Write) -> io::Result<()> {
    let found = discover(&crate::tokens::providers());
    for (provider, e) in &found.failures {
        writeln!(out, "cards ({provider}): error: {e}")?;
    }
    for f in found.found {
        match f {
            Found::Token(mut t) => {
                writeln!(out, "card in '{}': {}", t.slot().name(), t.label())?;
                let pins = t.pins();
                // Every read in one card session.
                let mut t = match t.session() {
                    Ok(s) => s,
                    Err(e) => {
                        writeln!(out, "  card data: error: {e}")?;
                        continue;
                    }
                };
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
                    match t.certificate(kind).map(|der| eidlink_cert::summarize(&der)) {
                        Ok(Ok(s)) => writeln!(
                            out,
                            "  {label}: {}, {}, issuer {}, valid {} to {}",
                            s.subject_cn, s.key, s.issuer_cn, s.not_before, s.not_after
                        )?,
                        Ok(Err(e)) => writeln!(out, "  {label}: {e}")?,
                        Err(e) => writeln!(out, "  {label}: error: {e}")?,
                    }
                }
                for (label, role) in pins {
                    match t.pin_info(role) {
                        Ok(p) => writeln!(
                            out,
                            "  {label} tries left: {} of {}",
                            p.tries_left.map_or("unknown".to_owned(), |n| n.to_string()),
                            p.max_tries
                        )?,
                        Err(e) => writeln!(out, "  {label} state: error: {e}")?,
                    }
                }
            }
            Found::Empty { .. } => {}
            Found::Unsupported { slot } => match slot.atr() {
                Some(atr) => writeln!(out, "card in '{}': not supported (ATR {atr})", slot.name())?,
                None => writeln!(out, "token in '{}': not supported", slot.name())?,
            },
            Found::Error { slot, error } => writeln!(out, "card in '{slot}': error: {error}")?,
        }
    }
    Ok(())
}
