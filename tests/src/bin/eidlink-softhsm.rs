//! `eidlink-softhsm`: creates a SoftHSM2 token for the browser tests and the demo: its keys made
//! on the token, its certificates issued by the virtual card's test PKI (the default seed, so a
//! service trusting `eidlink-vcard --export-pki`'s root accepts them). Prints the
//! `softhsm2.conf` to pass as SOFTHSM2_CONF, and leaves the directory in place.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use eidlink_tests::softhsm::{KeyType, SoftHsm, TokenSpec};
use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};

/// A SoftHSM2 token with an authentication and a signing key and their certificates.
#[derive(Debug, Parser)]
#[command(name = "eidlink-softhsm", version)]
struct Args {
    /// The token's directory (emptied first).
    #[arg(long)]
    dir: PathBuf,
    /// The token label.
    #[arg(long, default_value = "eidlink-softhsm")]
    label: String,
    /// The user PIN.
    #[arg(long, default_value = "1234")]
    pin: String,
    /// The authentication key: p256, p384 or rsa2048.
    #[arg(long, default_value = "p256", value_parser = parse_key)]
    auth: KeyType,
    /// The signing key: p256, p384 or rsa2048 (with CKA_ALWAYS_AUTHENTICATE).
    #[arg(long, default_value = "p384", value_parser = parse_key)]
    sign: KeyType,
}

fn parse_key(s: &str) -> Result<KeyType, String> {
    match s {
        "p256" => Ok(KeyType::P256),
        "p384" => Ok(KeyType::P384),
        "rsa2048" => Ok(KeyType::Rsa2048),
        other => Err(format!("unknown key type {other:?} (p256, p384 or rsa2048)")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let pki = match Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("eidlink-softhsm: test PKI: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spec = TokenSpec {
        label: args.label,
        pin: args.pin,
        auth: Some(args.auth),
        sign: Some(args.sign),
        sign_always_authenticate: true,
    };
    match SoftHsm::create(&args.dir, &spec, &pki) {
        Ok(hsm) => {
            println!("{}", hsm.keep().display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("eidlink-softhsm: {e}");
            ExitCode::FAILURE
        }
    }
}
