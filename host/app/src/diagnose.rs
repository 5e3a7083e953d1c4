//! `eidlink diagnose`: what support needs to know, and nothing secret (no PIN, no signature, no
//! certificate beyond subject, issuer and validity).

use std::io::{self, Write};

use eidlink_core::{discover, CertificateKind, Found};

use crate::register::pkcs11::{self as module_reg, ModuleStatus};
use crate::register::{self, Browser, Status, UserDirs};

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
            }
            Err(e) => writeln!(out, "readers: error: {e}")?,
        }
    }
    let config = eidlink_settings::Config::load(eidlink_settings::Dirs::new().as_ref());
    if let Err(e) = &config {
        writeln!(out, "configuration: {e} (using the defaults)")?;
    }
    let config = config.unwrap_or_default();
    cards(out, &config)?;
    modules(out, &config)?;
    registrations(out)?;
    module_registrations(out)?;
    Ok(())
}

/// Each PKCS#11 module eidlink would use: where it comes from, whether it loads (and why not),
/// what it says of itself, and every slot with its token and keys. The well-known modules of this
/// system that are not installed are listed too, so support sees where eidlink looked.
fn modules(out: &mut dyn Write, config: &eidlink_settings::Config) -> io::Result<()> {
    writeln!(out, "PKCS#11 modules:")?;
    for p in crate::tokens::pkcs11_providers(config) {
        let origin = match p.origin() {
            eidlink_pkcs11::Origin::Configured => "configured".to_owned(),
            eidlink_pkcs11::Origin::WellKnown { name } => format!("{name}, asked about cards no driver runs"),
        };
        let preferred = if p.preferred_readers().is_empty() {
            String::new()
        } else {
            format!(", preferred in readers matching {:?}", p.preferred_readers())
        };
        writeln!(out, "  {} ({origin}{preferred}):", p.path().display())?;
        match p.report() {
            Err(e) => writeln!(out, "    does not work: {e}")?,
            Ok((info, slots)) => {
                writeln!(
                    out,
                    "    loads: {} {} by {} (PKCS#11 {})",
                    info.description, info.version, info.manufacturer, info.cryptoki_version
                )?;
                if slots.is_empty() {
                    writeln!(out, "    slots: none")?;
                }
                for s in slots {
                    let token = match &s.token {
                        None => "no token".to_owned(),
                        Some(label) => format!("token '{label}'"),
                    };
                    writeln!(out, "    slot {} '{}': {token}", s.id, s.description)?;
                    match s.keys {
                        Ok(keys) => {
                            for (role, holder) in keys {
                                writeln!(out, "      {role:?} key: {holder}")?;
                            }
                        }
                        Err(e) if s.token.is_some() => writeln!(out, "      not usable: {e}")?,
                        Err(_) => {}
                    }
                }
            }
        }
    }
    if config.well_known_pkcs11_modules {
        for known in eidlink_pkcs11::known_modules() {
            if known.installed().is_none() {
                let looked: Vec<String> = known.candidates().iter().map(|p| p.display().to_string()).collect();
                writeln!(out, "  {}: not installed (looked at {})", known.name, looked.join(", "))?;
            }
        }
    } else {
        writeln!(
            out,
            "  well-known modules: not looked for (well-known-pkcs11-modules = false)"
        )?;
    }
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

/// Each registration of eidlink's PKCS#11 module: present, absent, broken or naming another
/// module than this eidlink's.
fn module_registrations(out: &mut dyn Write) -> io::Result<()> {
    let expected = module_reg::default_module();
    let shown = match &expected {
        Some(m) if m.is_file() => m.display().to_string(),
        Some(m) => format!("{} (missing)", m.display()),
        None => "unknown".to_owned(),
    };
    writeln!(out, "PKCS#11 module registrations (this eidlink's module: {shown}):")?;
    let user = UserDirs::current().ok();
    let expected = expected.as_deref();
    let line = |out: &mut dyn Write, what: &str, scope: &str, status: ModuleStatus| {
        writeln!(out, "  {what} ({scope}): {}", status.describe(expected))
    };
    line(
        out,
        "Firefox PKCS#11 manifest",
        "system",
        module_reg::check_firefox_manifest(&module_reg::firefox_system_dir()),
    )?;
    if let Some(u) = &user {
        line(
            out,
            "Firefox PKCS#11 manifest",
            "user",
            module_reg::check_firefox_manifest(&module_reg::firefox_user_dir(u)),
        )?;
    }
    if cfg!(all(unix, not(target_os = "macos"))) {
        line(
            out,
            "Firefox policy SecurityDevices",
            "system",
            module_reg::check_security_device(&module_reg::policies_dir()),
        )?;
        if let Some(u) = &user {
            let db = module_reg::default_nssdb(u);
            line(
                out,
                "NSS database (Chromium, Chrome)",
                "user",
                module_reg::nss_check(&db),
            )?;
        }
        line(
            out,
            "p11-kit",
            "system",
            module_reg::check_p11kit(&module_reg::p11kit_system_dir()),
        )?;
        if let Some(u) = &user {
            line(
                out,
                "p11-kit",
                "user",
                module_reg::check_p11kit(&module_reg::p11kit_user_dir(u)),
            )?;
        }
    }
    Ok(())
}

/// Every token every provider finds, with what support asks about it.
fn cards(out: &mut dyn Write, config: &eidlink_settings::Config) -> io::Result<()> {
    let found = discover(&crate::tokens::providers_for(config));
    for (provider, e) in &found.failures {
        writeln!(out, "cards ({provider}): error: {e}")?;
    }
    for f in found.found {
        match f {
            Found::Token(mut t) => {
                match t.slot().module() {
                    None => writeln!(out, "card in '{}': {}", t.slot().name(), t.label())?,
                    Some(m) => writeln!(
                        out,
                        "token in '{}': {} (PKCS#11 module {m})",
                        t.slot().name(),
                        t.label()
                    )?,
                }
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
                        Ok(p) => writeln!(out, "  {label} tries left: {}", p.describe())?,
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
