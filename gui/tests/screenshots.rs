//! Screenshots for review: the real window under Xvfb (`eidlink-pin --screenshot`), every fixture
//! in every language, saved as `target/screenshots/<fixture>-<lang>.png`. Each image is checked
//! for what can be checked without eyes: the window's width, and margins that are plain
//! background on the right and at the bottom (nothing cut off, the window fits its content).
//!
//! The site-name screenshots (`site-*.png`: a phishing host, a long one, an IP address, localhost,
//! a frame embedded in another site) are also checked against egui's own layout of the same
//! request, run here by egui_kittest: which strings were laid out (the registrable domain whole,
//! the rest shortened from the left at a dot, the "embedded in" line in the request's language),
//! their sizes and places, and that the real window drew ink where the registrable domain is.
//! The TLS login screenshots (`tls-login-*.png`: a browser asks through the PKCS#11 module, with
//! no site) are checked the same way for the program's name, where a site's name would be.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use eidlink_pin_dialog::i18n::{self, Language, Text};
use eidlink_pin_dialog::model::Model;
use eidlink_pin_dialog::protocol::{self, parse_request, Origin, Request};
use eidlink_pin_dialog::site::{SiteName, ELLIPSIS};
use eidlink_pin_dialog::view;
use support::{pin_command, require, screenshot_dir, Display};

const LANGS: [&str; 4] = ["fr", "nl", "de", "en"];

fn shoot(display: &Display, request: &str, path: &Path) {
    let mut child = pin_command()
        .arg("--screenshot")
        .arg(path)
        .env("DISPLAY", display.name())
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start eidlink-pin");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(request.trim().as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no screenshot after 60 s for {}", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "eidlink-pin --screenshot {} failed: {status:?}",
        path.display()
    );
    assert!(
        out.stdout.is_empty(),
        "screenshot mode answered: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    check_layout(path);
}

fn check_layout(path: &Path) {
    let img = image::open(path).unwrap().to_rgba8();
    let (w, h) = img.dimensions();
    assert_eq!(w, 460, "{}: width", path.display());
    assert!((250..=800).contains(&h), "{}: height {h}", path.display());
    let background = *img.get_pixel(w - 1, h - 1);
    // The content has a 20 px margin: the last 12 rows and columns must be plain background.
    for y in h - 12..h {
        for x in 0..w {
            assert_eq!(
                *img.get_pixel(x, y),
                background,
                "{}: something drawn at ({x},{y}): cut off at the bottom?",
                path.display()
            );
        }
    }
    for x in w - 12..w {
        for y in 0..h {
            assert_eq!(
                *img.get_pixel(x, y),
                background,
                "{}: something drawn at ({x},{y}): cut off on the right?",
                path.display()
            );
        }
    }
    let distinct: std::collections::HashSet<_> = img.pixels().take(200_000).collect();
    assert!(distinct.len() > 20, "{}: the image is nearly blank", path.display());
}

fn shoot_all_languages(fixture: &str, json: &str) {
    require(&["Xvfb"]);
    let display = support::display();
    let dir = screenshot_dir();
    assert!(json.contains(r#""lang":"en""#), "the fixture must say \"lang\":\"en\"");
    for lang in LANGS {
        let request = json.replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#));
        shoot(&display, &request, &dir.join(format!("{fixture}-{lang}.png")));
    }
}

#[test]
fn authenticate() {
    shoot_all_languages("authenticate", include_str!("fixtures/authenticate.json"));
}

#[test]
fn sign() {
    shoot_all_languages("sign", include_str!("fixtures/sign.json"));
}

#[test]
fn consent() {
    shoot_all_languages("consent", include_str!("fixtures/consent.json"));
}

#[test]
fn last_try() {
    shoot_all_languages("last-try", include_str!("fixtures/last-try.json"));
}

#[test]
fn pinpad() {
    shoot_all_languages("pinpad", include_str!("fixtures/pinpad.json"));
}

#[test]
fn token_prompt() {
    shoot_all_languages("token-prompt", include_str!("fixtures/token-prompt.json"));
}

/// A browser's TLS client-certificate login through the PKCS#11 module: the program that asks
/// where a site's name would be, and the PIN field.
#[test]
fn tls_login() {
    let json = include_str!("fixtures/tls-login.json");
    require(&["Xvfb"]);
    let display = support::display();
    let dir = screenshot_dir();
    assert!(json.contains(r#""lang":"en""#), "the fixture must say \"lang\":\"en\"");
    for lang in LANGS {
        let request = json.replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#));
        let rect = program_layout(&request, Language::parse(lang).unwrap());
        let path = dir.join(format!("tls-login-{lang}.png"));
        shoot(&display, &request, &path);
        check_ink(&path, rect);
    }
}

/// egui_kittest draws the dialog 8 points in from its corner (its panel margin); the window at 0.
const KITTEST_OFFSET: f32 = 8.0;

/// Right edge of the content: the window less its 20-point margin.
const CONTENT_RIGHT: f32 = view::WIDTH - 20.0;

/// egui_kittest's layout of the dialog for `ask`, as wide as the real window.
fn layout(ask: protocol::Ask) -> Harness<'static, Model> {
    let model = Model::new(ask, None, Instant::now()).unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(view::WIDTH + 2.0 * KITTEST_OFFSET, 900.0))
        .build_ui_state(
            |ui, m: &mut Model| {
                view::show(ui, m, Instant::now());
            },
            model,
        );
    h.run();
    h
}

/// Where egui laid out the program's name of a TLS login, in window points: under its caption,
/// whole (the fixture's name is short), within the margin, named again in the explanation; no
/// site anywhere.
fn program_layout(request: &str, lang: Language) -> egui::Rect {
    let Request::Ask(ask) = parse_request(request.trim()).unwrap() else {
        panic!("not an ask")
    };
    assert_eq!(protocol::origin_of(&ask).unwrap(), None, "a TLS login has no site");
    let name = protocol::program_of(&ask).unwrap();
    let h = layout(*ask);
    let caption = h.get_by_label(Text::RequestFromProgram.get(lang)).rect();
    assert!(
        h.query_by_label(Text::RequestFrom.get(lang)).is_none(),
        "a site caption"
    );
    let program = h.get_by_label(&name).rect();
    assert!(
        program.min.y >= caption.max.y,
        "the name {program:?} is above its caption {caption:?}"
    );
    assert!(
        program.max.x <= CONTENT_RIGHT + KITTEST_OFFSET + 0.5,
        "{name}: the name runs past the margin: {program:?}"
    );
    let explain = i18n::fill(lang, Text::ExplainTlsLogin, &[("program", &name)]);
    assert!(h.get_by_label(&explain).rect().min.y > program.max.y, "{explain:?}");
    program.translate(-egui::vec2(KITTEST_OFFSET, KITTEST_OFFSET))
}

/// Where egui laid out the site's name for `request`, in window points: checked against what the
/// name must be, returned for the look at the real window's pixels.
fn site_layout(request: &str, lang: Language) -> egui::Rect {
    let Request::Ask(ask) = parse_request(request.trim()).unwrap() else {
        panic!("not an ask")
    };
    let origin = protocol::origin_of(&ask).unwrap().expect("a site");
    let top = protocol::embedded_in(&ask, &origin);
    let name = SiteName::of(&origin);
    let h = layout(*ask);
    h.get_by_label(Text::RequestFrom.get(lang));

    // The registrable domain (or the address, or the name with none), whole, in one label.
    let site = h.get_by_label(&name.site).rect();
    assert!(
        site.max.x <= CONTENT_RIGHT + KITTEST_OFFSET + 0.5,
        "{}: the site runs past the margin: {site:?}",
        name.site
    );
    assert!(
        h.query_by_label(&name.host()).is_none() || name.prefix.is_empty(),
        "the whole host is one label: the registrable domain does not stand out"
    );
    if !name.prefix.is_empty() {
        // The rest: whole, or its right-hand part from a dot on, after an ellipsis.
        let prefix_text = name.prefix.clone();
        // A label's text is its accessibility value.
        let prefix = h.get_by(move |n| {
            n.role() == egui::accesskit::Role::Label
                && n.value().is_some_and(|l| {
                    l == prefix_text
                        || l.strip_prefix(ELLIPSIS).is_some_and(|tail| {
                            prefix_text.ends_with(tail) && prefix_text[..prefix_text.len() - tail.len()].ends_with('.')
                        })
                })
        });
        let shown = prefix.accesskit_node().value().unwrap_or_default();
        let p = prefix.rect();
        assert!(
            p.height() < site.height() - 4.0,
            "the rest ({shown:?}, {p:?}) is not smaller than the site ({site:?})"
        );
        assert!(
            p.max.x <= CONTENT_RIGHT + KITTEST_OFFSET + 0.5,
            "{shown:?} runs past the margin: {p:?}"
        );
        let beside = (p.max.y - site.max.y).abs() < 4.0 && p.max.x <= site.min.x + 0.5;
        let above = p.max.y <= site.min.y + 0.5;
        assert!(
            beside || above,
            "{shown:?} {p:?} is neither before nor above the site {site:?}"
        );
    }
    // "Embedded in <top site>" in the request's language, only for a frame in another site.
    let embedded = Text::EmbeddedIn.get(lang);
    let lead = embedded.split("{site}").next().unwrap_or_default().to_owned();
    match top {
        Some(top) => {
            let want = i18n::fill(lang, Text::EmbeddedIn, &[("site", &SiteName::of(&top).host())]);
            let line = h.get_by_label(&want).rect();
            assert!(line.min.y >= site.max.y, "{want:?} is above the site");
        }
        None => assert!(
            h.query_by_label_contains(&lead).is_none(),
            "an embedded line without a top-level page"
        ),
    }
    site.translate(-egui::vec2(KITTEST_OFFSET, KITTEST_OFFSET))
}

/// The real window drew the site name where egui laid it out: text-coloured pixels in that box.
fn check_ink(path: &Path, rect: egui::Rect) {
    let img = image::open(path).unwrap().to_rgba8();
    let (x0, y0) = (rect.min.x.floor() as u32, rect.min.y.floor() as u32);
    let (x1, y1) = (
        (rect.max.x.ceil() as u32).min(img.width()),
        (rect.max.y.ceil() as u32).min(img.height()),
    );
    assert!(
        x1 > x0 && y1 > y0,
        "{}: the site is outside the window: {rect:?}",
        path.display()
    );
    let mut counts = std::collections::HashMap::new();
    for y in y0..y1 {
        for x in x0..x1 {
            *counts.entry(*img.get_pixel(x, y)).or_insert(0u32) += 1;
        }
    }
    let total: u32 = counts.values().sum();
    let background = counts.values().copied().max().unwrap_or(0);
    let ink = total - background;
    assert!(
        ink * 20 >= total,
        "{}: almost nothing drawn where the site is ({ink} of {total} pixels in {rect:?})",
        path.display()
    );
}

fn shoot_site_names(fixture: &str, json: &str) {
    require(&["Xvfb"]);
    let display = support::display();
    let dir = screenshot_dir();
    for lang in LANGS {
        let request = json.replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#));
        let rect = site_layout(&request, Language::parse(lang).unwrap());
        let path = dir.join(format!("{fixture}-{lang}.png"));
        shoot(&display, &request, &path);
        check_ink(&path, rect);
    }
}

/// `eservices.belgium.be.login-check.example.com`: `example.com` big and whole, the rest smaller.
#[test]
fn site_phishing() {
    shoot_site_names("site-phishing", include_str!("fixtures/site-phishing.json"));
}

/// A long host under `co.uk`: the registrable domain wraps whole, the rest is cut from the left.
#[test]
fn site_long() {
    shoot_site_names("site-long", include_str!("fixtures/site-long.json"));
}

/// An IPv4 address with a port: shown as such, whole.
#[test]
fn site_ip() {
    shoot_site_names("site-ip", include_str!("fixtures/site-ip.json"));
}

/// A developer's http://localhost: whole, with the not-secure warning.
#[test]
fn site_localhost() {
    shoot_site_names("site-localhost", include_str!("fixtures/site-localhost.json"));
}

/// A signing service in a frame of a bank's page: "embedded in www.mybank.be".
#[test]
fn site_embedded() {
    shoot_site_names("site-embedded", include_str!("fixtures/site-embedded.json"));
}

/// The fixtures say what their names say.
#[test]
fn site_fixtures_are_the_names_they_test() {
    let name = |json: &str| {
        let Request::Ask(ask) = parse_request(json.trim()).unwrap() else {
            panic!()
        };
        let origin: Origin = protocol::origin_of(&ask).unwrap().expect("a site");
        (
            SiteName::of(&origin),
            protocol::embedded_in(&ask, &origin).map(|o| o.to_string()),
        )
    };
    let (n, _) = name(include_str!("fixtures/site-phishing.json"));
    assert_eq!(
        (n.prefix.as_str(), n.site.as_str()),
        ("eservices.belgium.be.login-check.", "example.com")
    );
    let (n, _) = name(include_str!("fixtures/site-long.json"));
    assert!(n.site.ends_with(".co.uk") && n.prefix.len() > 50, "{n:?}");
    let (n, _) = name(include_str!("fixtures/site-ip.json"));
    assert_eq!((n.prefix.as_str(), n.site.as_str()), ("", "192.168.10.20"));
    let (n, _) = name(include_str!("fixtures/site-localhost.json"));
    assert_eq!((n.prefix.as_str(), n.site.as_str()), ("", "localhost"));
    let (_, top) = name(include_str!("fixtures/site-embedded.json"));
    assert_eq!(top.as_deref(), Some("https://www.mybank.be"));
}
