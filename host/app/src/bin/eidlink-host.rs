//! `eidlink-host`, the native-messaging host browsers start for each Web eID request.

fn main() -> std::process::ExitCode {
    eidlink_app::host::main()
}
