//! End to end under Xvfb: the real `eidlink-pin` binary, requests on its stdin, keys typed into
//! its window by xdotool, answers read from its stdout. Needs Xvfb and xdotool (the test fails
//! and names the packages when they are missing).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::{grab_window, require, screenshot_dir, wait_for_window, xdotool, Display, PinProcess};

const AUTH: &str = include_str!("fixtures/authenticate.json");
const ANSWER: Duration = Duration::from_secs(15);
const WINDOW: Duration = Duration::from_secs(30);

/// The re-ask after a wrong PIN, as the host sends it.
fn reask() -> String {
    AUTH.replace(r#""tries_left":3"#, r#""tries_left":2"#)
        .replace(r#""error":null"#, r#""error":{"kind":"wrong_pin","tries_left":2}"#)
}

fn focus(display: &Display, window: &str) {
    xdotool(display, &["windowfocus", "--sync", window]);
    // let the window see the focus change before keys arrive
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn pin_then_wrong_pin_reask_then_end_of_input() {
    require(&["Xvfb", "xdotool"]);
    let display = support::display();
    let mut pin = PinProcess::spawn(&display);
    pin.send(AUTH);
    let window = wait_for_window(&display, "eidlink", WINDOW);
    focus(&display, &window);

    xdotool(&display, &["type", "--delay", "40", "1234"]);
    xdotool(&display, &["key", "Return"]);
    assert_eq!(pin.answer(ANSWER), r#"{"result":"pin","pin":"1234"}"#);

    // Wrong PIN: the host asks again; the field starts empty, letters are refused.
    pin.send(&reask());
    std::thread::sleep(Duration::from_millis(500));
    xdotool(&display, &["type", "--delay", "40", "5a6b78"]);
    std::thread::sleep(Duration::from_millis(300));
    grab_window(&display, &window, &screenshot_dir().join("e2e-reask-typed.png"));
    xdotool(&display, &["key", "Return"]);
    assert_eq!(pin.answer(ANSWER), r#"{"result":"pin","pin":"5678"}"#);
    pin.send(r#"{"type":"status","message":"working"}"#);
    std::thread::sleep(Duration::from_millis(300));
    grab_window(&display, &window, &screenshot_dir().join("e2e-working.png"));

    // The host goes away: end of stdin closes the dialog at once.
    drop(pin.stdin.take());
    let (status, took) = pin.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status:?}");
    assert!(
        took < Duration::from_secs(1),
        "took {took:?} to exit after end of input"
    );
}

#[test]
fn escape_cancels_then_close_exits() {
    require(&["Xvfb", "xdotool"]);
    let display = support::display();
    let mut pin = PinProcess::spawn(&display);
    pin.send(AUTH);
    let window = wait_for_window(&display, "eidlink", WINDOW);
    focus(&display, &window);

    xdotool(&display, &["type", "--delay", "40", "12"]);
    xdotool(&display, &["key", "Escape"]);
    assert_eq!(pin.answer(ANSWER), r#"{"result":"cancelled"}"#);
    pin.assert_silent(Duration::from_millis(300));

    pin.send(r#"{"type":"close"}"#);
    let (status, took) = pin.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(1), "took {took:?} to exit after close");
}

#[test]
fn end_of_input_while_asking_closes_without_an_answer() {
    require(&["Xvfb", "xdotool"]);
    let display = support::display();
    let mut pin = PinProcess::spawn(&display);
    pin.send(AUTH);
    wait_for_window(&display, "eidlink", WINDOW);
    drop(pin.stdin.take());
    let (status, took) = pin.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status:?}");
    assert!(
        took < Duration::from_secs(1),
        "took {took:?} to exit after end of input"
    );
    pin.assert_silent(Duration::from_millis(100));
}

#[test]
fn invalid_first_line_exits_2_without_a_window() {
    let display = support::display();
    let mut pin = PinProcess::spawn(&display);
    pin.send("this is not json");
    let (status, _) = pin.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(2));
}
