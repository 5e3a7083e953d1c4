//! The `eidlink` command-line tool.

fn main() -> std::process::ExitCode {
    eidlink_app::cli::main()
}
