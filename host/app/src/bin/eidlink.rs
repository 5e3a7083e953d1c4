//! The `eidlink` command-line tool.

fn main() -> std::process::ExitCode {
    // A PKCS#11 module that crashes while loading is found in a child process, not here.
    eidlink_pkcs11::isolate_module_loads();
    eidlink_app::cli::main()
}
