//! Screenshots for review: the real window under Xvfb (`eidlink-pin --screenshot`), every fixture
//! in every language, saved as `target/screenshots/<fixture>-<lang>.png`. Each image is checked
//! for what can be checked without eyes: the window's width, and margins that are plain
//! background on the right and at the bottom (nothing cut off, the window fits its content).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

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
