//! `eidlink-pin`: the PIN dialog the eidlink host starts as a child process.

use std::process::ExitCode;

fn main() -> ExitCode {
    eidlink_pin_dialog::pin::main(std::env::args_os().skip(1))
}
