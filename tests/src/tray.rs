//! How tests and benchmarks start the real `eidlink-tray`: in a scratch home (HOME and every XDG
//! directory inside it, so no user configuration, journal or autostart entry is read or touched),
//! on a private X display, in English, and with no session bus unless the test brings its own (so
//! nothing of the user's desktop, accessibility included, is reached).

use std::path::Path;
use std::process::Command;

use crate::xvfb::Display;

/// The command that starts `tray` (the binary's path, `CARGO_BIN_EXE_eidlink-tray`) with `home`
/// as its home and `bus` (a D-Bus address) as its session bus. The caller adds arguments and
/// standard streams.
pub fn command(tray: &str, display: &Display, home: &Path, bus: Option<&str>) -> Command {
    let mut c = Command::new(tray);
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CONFIG_DIRS", home.join("etc-xdg"))
        .env("DISPLAY", display.name())
        .env("LANG", "en_US.UTF-8")
        .env_remove("LANGUAGE")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("WAYLAND_DISPLAY")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            bus.unwrap_or("unix:path=/nonexistent/eidlink-test-bus"),
        );
    c
}
