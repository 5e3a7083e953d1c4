//! `eidlink-vcard`: run a virtual eID card in pcscd's vpcd reader.
//!
//! See tests/README.md for the options and the control-socket protocol.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

use clap::Parser;
use eidlink_tests::control;
use eidlink_tests::log::hex_spaced;
use eidlink_tests::pki::DEFAULT_SEED;
use eidlink_tests::{CardOptions, HandleConfig, Profile, VcardError, VirtualCard, VirtualCardHandle};

/// Virtual eID card for pcscd + vsmartcard-vpcd.
#[derive(Debug, Parser)]
#[command(name = "eidlink-vcard", version)]
struct Args {
    /// Card profile: belpic18 (Belgian eID 1.8, P-384), belpic17 (1.7, RSA-2048), esteid (IDEMIA).
    #[arg(long, default_value = "belpic18", value_parser = parse_profile)]
    profile: Profile,
    /// vpcd port: 35963 = "Virtual PCD 00 00", 35964 = "Virtual PCD 00 01" [default: $EIDLINK_VPCD_PORT,
    /// else 35963].
    #[arg(long, default_value_t = eidlink_tests::vpcd::port(), hide_default_value = true)]
    port: u16,
    /// PIN (Belgian) or PIN1 (EstEID).
    #[arg(long, default_value = "1234")]
    pin: String,
    /// EstEID PIN2 (signature PIN).
    #[arg(long, default_value = "12345")]
    sign_pin: String,
    /// EstEID PUK.
    #[arg(long, default_value = "12345678")]
    puk: String,
    /// Maximum tries of every PIN.
    #[arg(long, default_value_t = 3)]
    tries: u8,
    /// Tries left at start for the PIN / PIN1 (default: --tries).
    #[arg(long)]
    tries_left: Option<u8>,
    /// Tries left at start for the EstEID PIN2 (default: --tries).
    #[arg(long)]
    sign_tries_left: Option<u8>,
    /// Seed of the test PKI (keys, serials).
    #[arg(long, default_value = DEFAULT_SEED)]
    seed: String,
    /// Holder name, "Given Surname" or "Surname, Given".
    #[arg(long, default_value = eidlink_tests::pki::DEFAULT_HOLDER)]
    holder: String,
    /// National number (BE) / personal code (EE); default depends on the profile.
    #[arg(long)]
    national_number: Option<String>,
    /// Append every APDU (PIN data masked) and card event to FILE.
    #[arg(long, value_name = "FILE")]
    apdu_log: Option<PathBuf>,
    /// Serve the control line protocol on this Unix socket.
    #[arg(long, value_name = "SOCKET")]
    control: Option<PathBuf>,
    /// Write root/ca/auth/sign/rrn .pem and .der into DIR and exit.
    #[arg(long, value_name = "DIR")]
    export_pki: Option<PathBuf>,
    /// Start with the card removed (insert it with the control command `insert`).
    #[arg(long)]
    removed: bool,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse().map_err(|e: VcardError| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("eidlink-vcard: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), VcardError> {
    let options = CardOptions {
        pin: args.pin,
        sign_pin: args.sign_pin,
        puk: args.puk,
        max_tries: args.tries,
        tries_left: args.tries_left,
        sign_tries_left: args.sign_tries_left,
        seed: args.seed.into_bytes(),
        holder: args.holder,
        national_number: args.national_number,
    };
    let card = VirtualCard::new(args.profile, &options)?;
    if let Some(dir) = args.export_pki {
        for path in card.pki().export(&dir)? {
            println!("{}", path.display());
        }
        return Ok(());
    }
    eprintln!(
        "eidlink-vcard: {} card, ATR {}, vpcd port {}{}",
        args.profile,
        hex_spaced(&card.atr()),
        args.port,
        if args.removed { " (removed)" } else { "" }
    );
    let handle = Arc::new(VirtualCardHandle::start_with(
        card,
        HandleConfig {
            port: args.port,
            inserted: !args.removed,
            apdu_log: args.apdu_log,
            ..HandleConfig::default()
        },
    )?);
    let Some(socket) = args.control else {
        // Run until killed; closing the process closes the vpcd connection,
        // which vpcd sees as the card being removed.
        loop {
            std::thread::park();
        }
    };
    // A stale socket file from an earlier run would make bind fail.
    if socket.exists() {
        std::fs::remove_file(&socket)?;
    }
    let listener = UnixListener::bind(&socket)?;
    let (quit_tx, quit_rx) = mpsc::channel::<()>();
    {
        let handle = handle.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let handle = handle.clone();
                let quit_tx = quit_tx.clone();
                std::thread::spawn(move || serve_client(&handle, client, &quit_tx));
            }
        });
    }
    // Wait for `quit` (or for every sender to be gone).
    let _ = quit_rx.recv();
    let _ = std::fs::remove_file(&socket);
    // Other clones live in the listener threads: remove the card explicitly.
    handle.remove();
    Ok(())
}

/// Answers one control client, line by line.
fn serve_client(handle: &VirtualCardHandle, client: UnixStream, quit: &Sender<()>) {
    let Ok(mut writer) = client.try_clone() else {
        return;
    };
    for line in BufReader::new(client).lines() {
        let Ok(line) = line else {
            return;
        };
        let reply = control::execute(handle, &line);
        for out in &reply.lines {
            if writeln!(writer, "{out}").is_err() {
                return;
            }
        }
        if reply.quit {
            let _ = writer.flush();
            let _ = quit.send(());
            return;
        }
    }
}
