//! `eidlink-tray`: the tray icon and window that show the card readers, the card, its
//! certificates and PIN tries, the sites' requests, and the settings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use eidlink_tray::app::{self, Options};
use eidlink_tray::settings::{self, Config, Dirs};
use eidlink_tray::view::Page;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PageArg {
    Status,
    History,
    Settings,
}

/// eidlink's status window and tray icon: readers, card, certificates, PIN tries left, the
/// history of what each site asked for, and the settings shared with the browser host.
#[derive(Debug, Parser)]
#[command(name = "eidlink-tray", version, about, long_about = None)]
struct Cli {
    /// Start with the window hidden, only the tray icon showing (how it starts at login). Without
    /// a system tray the window shows anyway.
    #[arg(long)]
    hidden: bool,
    /// Do not put an icon in the system tray: the window is the app, and closing it quits.
    #[arg(long)]
    no_tray: bool,
    /// The page the window opens on.
    #[arg(long, value_enum, default_value = "status")]
    page: PageArg,
    /// Write the state the window shows as JSON to FILE at every change (for tests, benchmarks
    /// and support).
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// Save a PNG of the window in DIR each time the state changes (for review).
    #[arg(long, value_name = "DIR")]
    screenshot_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    // A PKCS#11 module that crashes while loading is found in a child process, not here.
    eidlink_pkcs11::isolate_module_loads();
    let cli = Cli::parse();
    let dirs = Dirs::new();
    if let Ok(config) = Config::load(dirs.as_ref()) {
        settings::logging::init(&config, dirs.as_ref(), "eidlink-tray.log");
    }
    let options = Options {
        no_tray: cli.no_tray,
        hidden: cli.hidden,
        page: match cli.page {
            PageArg::Status => Page::Status,
            PageArg::History => Page::History,
            PageArg::Settings => Page::Settings,
        },
        state_file: cli.state_file,
        screenshot_dir: cli.screenshot_dir,
    };
    match app::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidlink-tray: {e}");
            ExitCode::FAILURE
        }
    }
}
