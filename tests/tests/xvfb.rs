//! The test X server: two at once on different displays, a window found by its title, screenshots
//! that are PNGs of the right size and colours, and the server gone (lock file and socket removed)
//! after drop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use eidlink_tests::xvfb::{screenshot_dir, Display, DISPLAY_ENV};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, CreateWindowAux, PropMode, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

/// Reads a PNG: (width, height, RGB bytes).
fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().color_type, png::ColorType::Rgb);
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    buf.truncate(frame.buffer_size());
    (frame.width, frame.height, buf)
}

#[test]
fn two_displays_a_window_screenshots_and_cleanup() {
    if std::env::var_os(DISPLAY_ENV).is_some() {
        return; // a shared real display: nothing of ours to start or stop
    }
    let a = Display::start().unwrap();
    let b = Display::start_sized(640, 480).unwrap();
    assert_ne!(a.name(), b.name());

    // A pure red 200x100 window titled "eidlink-xvfb-test" at (50, 60) on display b.
    let (conn, screen_num) = x11rb::connect(Some(b.name())).unwrap();
    let screen = &conn.setup().roots[screen_num];
    let win = conn.generate_id().unwrap();
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == screen.root_visual)
        .unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        50,
        60,
        200,
        100,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(visual.red_mask),
    )
    .unwrap();
    conn.change_property8(
        PropMode::REPLACE,
        win,
        AtomEnum::WM_NAME,
        AtomEnum::STRING,
        b"eidlink-xvfb-test",
    )
    .unwrap();
    conn.map_window(win).unwrap();
    conn.flush().unwrap();

    let id = b.wait_window("eidlink-xvfb-test", Duration::from_secs(10)).unwrap();
    assert_eq!(id.parse::<u32>().unwrap(), win);
    let missing = a
        .wait_window("eidlink-xvfb-test", Duration::from_millis(300))
        .unwrap_err();
    assert!(missing.to_string().contains("eidlink-xvfb-test"), "{missing}");

    let dir = screenshot_dir().unwrap();
    let screen_png = dir.join(format!("xvfb-selftest-screen-{}.png", std::process::id()));
    let window_png = dir.join(format!("xvfb-selftest-window-{}.png", std::process::id()));
    b.screenshot(&screen_png).unwrap();
    b.screenshot_window(&id, &window_png).unwrap();
    let (w, h, pixels) = read_png(&screen_png);
    assert_eq!((w, h), (640, 480));
    let at = |x: usize, y: usize| &pixels[(y * 640 + x) * 3..(y * 640 + x) * 3 + 3];
    assert_eq!(at(60, 70), [255, 0, 0], "inside the window");
    assert_eq!(at(10, 10), [0, 0, 0], "Xvfb's black root outside it");
    let (w, h, pixels) = read_png(&window_png);
    assert_eq!((w, h), (200, 100));
    assert!(pixels.chunks_exact(3).all(|p| p == [255, 0, 0]));
    let _ = std::fs::remove_file(&screen_png);
    let _ = std::fs::remove_file(&window_png);
    drop(conn);

    let number = b.name().trim_start_matches(':').to_owned();
    drop(b);
    assert!(!Path::new(&format!("/tmp/.X{number}-lock")).exists());
    assert!(!Path::new(&format!("/tmp/.X11-unix/X{number}")).exists());
    let status = Command::new("xdotool")
        .arg("getmouselocation")
        .env("DISPLAY", format!(":{number}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the display still answers after drop");
}
