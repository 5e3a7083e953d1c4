//! `eidlink-host`, the native-messaging host browsers start for each Web eID request.

use std::process::ExitCode;

const HELP: &str = "\
Usage: eidlink-host [ORIGIN | MANIFEST EXTENSION-ID]

The eidlink native-messaging host (Web eID protocol). Browsers start it for each request of the
eidlink extension, through the native-messaging manifest `org.eidlink.host.json` that
`eidlink install` (or the eidlink package) writes; it is not meant to be run by hand.

Chromium-family browsers pass the calling extension's origin, Firefox the manifest path and the
add-on id. The host writes {\"version\"}, reads one command (authenticate, get-signing-certificate,
sign) on stdin, runs it with the eID card through PC/SC, asks for the PIN with the PIN program
(eidlink-pin) and writes one reply, each message framed by a 32-bit native-endian length.

Files:
  ~/.config/eidlink/config.toml              settings (pin-program, logging, timeout-seconds, ...)
  ~/.local/share/eidlink/history.jsonl       one line per request (time, origin, action, result)
  ~/.local/share/eidlink/eidlink-host.log    the log, when `logging = true`

Options:
  -h, --help     print this help
  -V, --version  print the version
";

fn main() -> ExitCode {
    // A PKCS#11 module that crashes while loading is found in a child process, not here.
    eidlink_pkcs11::isolate_module_loads();
    // Browsers never pass these (they pass an origin or a manifest path), so answering them here
    // cannot take a browser's request; it gives people and help2man a real --help.
    match std::env::args().nth(1).as_deref() {
        Some("-h" | "--help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("eidlink-host {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => eidlink_app::host::main(),
    }
}
