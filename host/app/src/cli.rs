//! The `eidlink` command-line tool: readers, card info, certificates, signatures, diagnostics.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use clap::{Args, Parser, Subcommand};
use eidlink_core::{
    discover, CardError, CertificateKind, Digest, ErrorClass, Found, HashAlgorithm, KeyRole, NotFound, Pin, PinCharset,
    PinEntry, PinFailure, PinInput, Signature, Token, TransportError,
};
use zeroize::Zeroizing;

use crate::register::{self, Browser, RegisterError, UserDirs};
use eidlink_cert::CertError;

/// eidlink: use your eID card from the command line.
#[derive(Debug, Parser)]
#[command(name = "eidlink", version, about, long_about = None)]
pub struct Cli {
    /// Use the card in this reader (a part of its name is enough); default: the first supported card.
    #[arg(long, global = true)]
    reader: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List card readers and the cards in them.
    Readers,
    /// Show the card: type, applet, serial, holder, certificate validity, PIN tries left.
    Info,
    /// Export a certificate.
    Cert(CertArgs),
    /// Sign a digest (or a file's digest) with the authentication or the signing key.
    Sign(SignArgs),
    /// Print everything support needs to know (no secrets).
    Diagnose,
    /// Check a Web eID authentication token as a website's server does (origin, nonce, trusted CAs).
    VerifyToken(VerifyArgs),
    /// Register the native host with browsers (writes their native-messaging manifests).
    Install(RegisterArgs),
    /// Remove the native host's registrations.
    Uninstall(RegisterArgs),
}

#[derive(Debug, Args)]
struct RegisterArgs {
    /// For this user only (the browsers' per-user directories, or --profile-dir).
    #[arg(long, required_unless_present = "system", conflicts_with = "system")]
    user: bool,
    /// For every user (the browsers' system directories; needs root). Used by the packages.
    #[arg(long)]
    system: bool,
    /// Only these browsers (repeatable); default: all of them.
    #[arg(long, value_enum)]
    browser: Vec<Browser>,
    /// A Chromium-family user-data directory (e.g. a throwaway profile given to --user-data-dir).
    #[arg(long, requires = "user", conflicts_with = "system")]
    profile_dir: Option<PathBuf>,
    /// The host program the manifests point at; default: eidlink-host next to this program.
    #[arg(long)]
    host: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The site's origin the token was made for, e.g. https://example.org.
    #[arg(long)]
    origin: String,
    /// The challenge nonce the site issued (base64, 44 characters).
    #[arg(long)]
    nonce: String,
    /// A trusted CA certificate file (PEM, possibly several certificates, or DER); repeatable.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// An intermediate CA certificate file that is not trusted itself; repeatable.
    #[arg(long)]
    intermediate: Vec<PathBuf>,
    /// Refuse certificates carrying this policy OID; repeatable.
    #[arg(long)]
    disallow_policy: Vec<String>,
    /// Check at this UTC time (e.g. 2026-01-01T00:00:00Z) instead of now.
    #[arg(long, value_parser = parse_at)]
    at: Option<std::time::SystemTime>,
    /// The token JSON file, or - for standard input.
    #[arg(default_value = "-")]
    token: PathBuf,
}

fn parse_at(s: &str) -> Result<std::time::SystemTime, String> {
    eidlink_verifier::parse_utc(s).ok_or_else(|| format!("'{s}' is not a UTC time like 2026-01-01T00:00:00Z"))
}

#[derive(Debug, Args)]
#[group(id = "which", required = true, multiple = false)]
struct WhichCert {
    /// The authentication certificate.
    #[arg(long, group = "which")]
    auth: bool,
    /// The signing (non-repudiation) certificate.
    #[arg(long, group = "which")]
    sign: bool,
    /// The issuing CA certificate (Belgian eID).
    #[arg(long, group = "which")]
    ca: bool,
    /// The root CA certificate (Belgian eID).
    #[arg(long, group = "which")]
    root: bool,
}

#[derive(Debug, Args)]
struct CertArgs {
    #[command(flatten)]
    which: WhichCert,
    /// PEM output (the default).
    #[arg(long, conflicts_with = "der")]
    pem: bool,
    /// DER output.
    #[arg(long)]
    der: bool,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(id = "key", required = true, multiple = false)]
struct WhichKey {
    /// The authentication key.
    #[arg(long, group = "key")]
    auth: bool,
    /// The signing (non-repudiation) key.
    #[arg(long, group = "key")]
    sign: bool,
}

#[derive(Debug, Args)]
#[group(id = "input", required = true, multiple = false)]
struct SignInput {
    /// The digest to sign, in hex.
    #[arg(long, group = "input")]
    digest: Option<String>,
    /// A file whose digest is signed.
    #[arg(long, group = "input")]
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SignArgs {
    #[command(flatten)]
    key: WhichKey,
    /// Hash function: SHA-224, SHA-256, SHA-384, SHA-512, SHA3-224, SHA3-256, SHA3-384, SHA3-512.
    #[arg(long, value_parser = parse_hash)]
    hash: HashAlgorithm,
    #[command(flatten)]
    input: SignInput,
    /// Read the PIN from this file descriptor (one line) instead of asking on the terminal.
    #[arg(long)]
    pin_fd: Option<u32>,
    /// Write the raw signature to this file (stdout gets it in base64 otherwise).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn parse_hash(s: &str) -> Result<HashAlgorithm, String> {
    HashAlgorithm::from_name(&s.to_ascii_uppercase()).ok_or_else(|| {
        let names: Vec<&str> = HashAlgorithm::ALL.iter().map(|h| h.name()).collect();
        format!("unknown hash function '{s}' (one of {})", names.join(", "))
    })
}

/// A failed command: its message says what to do; its exit code tells scripts what kind of failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A card or reader problem.
    #[error("{}", card_message(.0))]
    Card(#[from] CardError),
    /// A certificate or signature check.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// No supported card was found.
    #[error("{0}")]
    NoCard(String),
    /// Bad input from the user.
    #[error("{0}")]
    Input(String),
    /// The PIN does not fit the card's rules; checked before the card is touched.
    #[error("the PIN must be {min} to {max} {} for this card", match charset {
        PinCharset::Digits => "digits",
        PinCharset::Any => "characters",
    })]
    PinFormat {
        /// Fewest characters.
        min: u8,
        /// Most characters.
        max: u8,
        /// Which characters.
        charset: PinCharset,
    },
    /// File I/O.
    #[error("{0}")]
    Io(String),
    /// A browser registration could not be written or removed.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// An authentication token that does not pass the server-side checks.
    #[error("the token does NOT verify: {0}")]
    Verify(#[from] eidlink_verifier::VerifyError),
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        Self::Card(e.into())
    }
}

impl CliError {
    /// Exit codes: 1 other, 3 no service / no reader, 4 no (supported) card, 5 PIN, 6 card refused,
    /// 7 signature does not verify. (2 is clap's usage error.)
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Card(CardError::Transport(
                TransportError::NoService | TransportError::NoReaders | TransportError::ReaderUnavailable,
            )) => 3,
            // A card that is not there, went away or was reset under us: the core's class says so.
            Self::NoCard(_) => 4,
            Self::Card(e) if e.class() == ErrorClass::CardGone => 4,
            Self::Card(CardError::Pin(_)) | Self::PinFormat { .. } => 5,
            Self::Card(_) => 6,
            Self::Cert(CertError::BadSignature | CertError::SignatureLength { .. }) | Self::Verify(_) => 7,
            Self::Cert(_) | Self::Input(_) | Self::Io(_) | Self::Register(_) => 1,
        }
    }
}

fn card_message(e: &CardError) -> String {
    match e {
        CardError::Transport(TransportError::NoService) if cfg!(windows) => {
            // Windows stops the Smart Card service while no reader is plugged in.
            "the smart card service is not running: connect a card reader (Windows starts the Smart Card service then), or start it (sc start SCardSvr)".to_owned()
        }
        CardError::Transport(TransportError::NoService) => {
            "the smart card service is not running: start pcscd (sudo systemctl start pcscd)".to_owned()
        }
        CardError::Transport(TransportError::NoReaders) => {
            "no reader found: connect a card reader (and check that pcscd is running)".to_owned()
        }
        CardError::Pin(PinFailure::Wrong { retries: Some(1) }) => {
            "wrong PIN: 1 try left (the next wrong PIN blocks the card)".to_owned()
        }
        CardError::Pin(PinFailure::Wrong { retries: Some(n) }) => format!("wrong PIN: {n} tries left"),
        CardError::Pin(PinFailure::Wrong { retries: None }) => {
            "wrong PIN (the token does not tell how many tries are left)".to_owned()
        }
        CardError::Pin(PinFailure::Blocked) => {
            "the PIN is blocked: unblock it with your PUK code at your municipality or issuer".to_owned()
        }
        CardError::Pin(PinFailure::InvalidFormat) => "the card refused the PIN's format".to_owned(),
        other => other.to_string(),
    }
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidlink: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one command, writing results to `out` (human notes go to stderr).
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Io(e.to_string());
    match cli.command {
        Command::Readers => readers(out).map_err(CliError::from),
        Command::Info => info(&mut token(cli.reader.as_deref())?, out),
        Command::Cert(args) => {
            let kind = if args.which.auth {
                CertificateKind::Authentication
            } else if args.which.sign {
                CertificateKind::Signing
            } else if args.which.ca {
                CertificateKind::IntermediateCa
            } else {
                CertificateKind::Root
            };
            let mut t = token(cli.reader.as_deref())?;
            if let Some(m) = t.slot().module() {
                eprintln!("{} in '{}', through the PKCS#11 module {m}", t.label(), t.slot().name());
            }
            let der = t.certificate(kind)?;
            let bytes = if args.der { der } else { pem(&der).into_bytes() };
            match args.output {
                Some(path) => std::fs::write(&path, bytes).map_err(io),
                None => out.write_all(&bytes).map_err(io),
            }
        }
        Command::Sign(args) => sign(&mut token(cli.reader.as_deref())?, args, out),
        Command::Diagnose => crate::diagnose::run(out).map_err(io),
        Command::VerifyToken(args) => verify_token(args, out),
        Command::Install(args) => registration(args, true, out),
        Command::Uninstall(args) => registration(args, false, out),
    }
}

/// `verify-token`: the checks of protocol.md §4 with the given trust, printing who authenticated.
/// `install` / `uninstall`: one line per browser saying what was done.
fn registration(args: RegisterArgs, install: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let browsers: Vec<Browser> = if args.browser.is_empty() {
        // Firefox has no per-profile directory: with --profile-dir, "all" means the Chromium family.
        Browser::ALL
            .into_iter()
            .filter(|b| args.profile_dir.is_none() || *b != Browser::Firefox)
            .collect()
    } else {
        args.browser.clone()
    };
    let dirs = if args.user { Some(UserDirs::current()?) } else { None };
    let host = match (&args.host, install) {
        (Some(h), _) => Some(h.clone()),
        (None, true) => Some(
            register::default_host()
                .ok_or_else(|| CliError::Input("cannot locate eidlink-host: give its path with --host".into()))?,
        ),
        (None, false) => None,
    };
    let io = |e: std::io::Error| CliError::Io(e.to_string());
    for b in browsers {
        let dir = match &dirs {
            Some(d) => b.user_dir(d, args.profile_dir.as_deref())?,
            None => b.system_dir().to_owned(),
        };
        match &host {
            Some(host) if install => {
                let path = register::install(b, &dir, host)?;
                writeln!(out, "{}: registered {}", b.name(), path.display()).map_err(io)?;
            }
            _ => {
                let removed = register::uninstall(&dir)?;
                let path = Browser::manifest_path(&dir);
                let what = if removed { "removed" } else { "was not registered:" };
                writeln!(out, "{}: {what} {}", b.name(), path.display()).map_err(io)?;
            }
        }
    }
    Ok(())
}

fn verify_token(args: VerifyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let read = |path: &PathBuf| std::fs::read(path).map_err(|e| CliError::Io(format!("{}: {e}", path.display())));
    let token = if args.token.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Io(format!("standard input: {e}")))?;
        s
    } else {
        String::from_utf8(read(&args.token)?)
            .map_err(|_| CliError::Input(format!("{}: not UTF-8 text", args.token.display())))?
    };
    let mut builder = eidlink_verifier::TokenVerifier::builder(&args.origin);
    for path in &args.trust {
        builder = builder.trusted_cas(&read(path)?);
    }
    for path in &args.intermediate {
        builder = builder.intermediates(&read(path)?);
    }
    for oid in &args.disallow_policy {
        builder = builder.disallow_policy(oid);
    }
    let verifier = builder.build().map_err(|e| CliError::Input(e.to_string()))?;
    // A token file usually ends with a newline; the token is the JSON inside.
    let token = token.trim();
    let verified = match args.at {
        Some(at) => verifier.verify_at(token, &args.nonce, at)?,
        None => verifier.verify(token, &args.nonce)?,
    };
    let s = &verified.subject;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let text = format!(
        "token OK ({}, {}) for {}\nname: {}\ncommon name: {}\nserial number: {}\nnational number: {}\ncountry: {}\n",
        verified.algorithm.name(),
        verified.format,
        verifier.origin(),
        opt(&s.full_name()),
        opt(&s.common_name),
        opt(&s.serial_number),
        opt(&s.national_number),
        opt(&s.country),
    );
    out.write_all(text.as_bytes()).map_err(|e| CliError::Io(e.to_string()))
}

/// Wraps DER in PEM.
pub fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(line));
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

/// The PC/SC readers with what is in them, then the tokens of PKCS#11 modules (with the module).
fn readers(out: &mut dyn Write) -> Result<(), CardError> {
    let pcsc = eidlink_pcsc::context().and_then(|ctx| eidlink_pcsc::readers(&ctx));
    let found = discover(&crate::tokens::providers());
    let mut modules = Vec::new();
    for f in &found.found {
        match f {
            Found::Token(t) => {
                if let Some(m) = t.slot().module() {
                    modules.push(format!("{}: {} (PKCS#11 module {m})", t.slot().name(), t.label()));
                }
            }
            Found::Error { slot, error } if matches!(error, CardError::Module { .. }) => {
                modules.push(format!("{slot}: {error}"));
            }
            _ => {}
        }
    }
    for (_, e) in found
        .failures
        .iter()
        .filter(|(_, e)| matches!(e, CardError::Module { .. }))
    {
        modules.push(e.to_string());
    }
    let list = match pcsc {
        Ok(list) if list.is_empty() && modules.is_empty() => return Err(TransportError::NoReaders.into()),
        Ok(list) => list,
        Err(e) if modules.is_empty() => return Err(e.into()),
        Err(_) => Vec::new(),
    };
    for r in list {
        let line = match &r.atr {
            None => format!("{}: no card", r.name),
            Some(atr) => {
                let card = eidlink_core::detect(atr).map_or("unsupported card", |d| d.name);
                format!("{}: {card}, ATR {atr}", r.name)
            }
        };
        let _ = writeln!(out, "{line}");
    }
    for line in modules {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// The first supported card (in the reader whose name contains `reader`, if given).
pub fn token(reader: Option<&str>) -> Result<Box<dyn Token>, CliError> {
    let mut found = discover(&crate::tokens::providers());
    let which = reader.map_or(String::new(), |r| format!(" in reader '{r}'"));
    if let Some(r) = reader {
        if !found.found.is_empty() {
            found = found.in_slot(r);
            if found.found.is_empty() {
                return Err(CliError::NoCard(format!("no reader named like '{r}'")));
            }
        }
    }
    found.pick(|_| true).map_err(|n| match n {
        NotFound::Service(e) => CliError::Card(e),
        NotFound::NoReader => CardError::from(TransportError::NoReaders).into(),
        NotFound::NoCard | NotFound::NotWanted => {
            CliError::NoCard(format!("no eID card found{which}: insert your card"))
        }
        NotFound::Unsupported { .. } | NotFound::Unreadable { .. } => {
            CliError::NoCard(format!("no supported eID card found{which}: {n}"))
        }
    })
}

fn info(t: &mut Box<dyn Token>, out: &mut dyn Write) -> Result<(), CliError> {
    let mut lines: Vec<(String, String)> = vec![("reader".into(), t.slot().name().to_owned())];
    if let Some(atr) = t.slot().atr() {
        lines.push(("ATR".into(), atr.to_string()));
    }
    lines.push(("card".into(), t.label().to_owned()));
    // One line per PIN: a card whose signing key has a PIN of its own (PIN2) gets two.
    let pins = t.pins();
    let is_module = t.slot().module().is_some();
    // Every read in one card session (one PC/SC transaction).
    let mut t = t.session()?;
    let card = t.card_info()?;
    if let Some(v) = card.version {
        lines.push(("applet".into(), v));
    }
    if let Some(s) = card.serial {
        lines.push(("serial".into(), s));
    }
    // A module's token: which module, its library, the token's maker (diagnose shows the card
    // drivers' extra facts).
    if is_module {
        for (k, v) in card.extra {
            lines.push((k.to_owned(), v));
        }
    }
    for (label, kind) in [
        ("authentication", CertificateKind::Authentication),
        ("signing", CertificateKind::Signing),
    ] {
        match t.certificate(kind) {
            Ok(der) => {
                let s = eidlink_cert::summarize(&der)?;
                if kind == CertificateKind::Authentication {
                    let nn = s.serial_number.as_deref().map_or(String::new(), |n| format!(" ({n})"));
                    lines.push(("holder".into(), format!("{}{nn}", s.holder)));
                }
                lines.push((
                    label.into(),
                    format!("{}, {}, issued by {}", s.subject_cn, s.key, s.issuer_cn),
                ));
                lines.push(("  valid".into(), format!("{} to {}", s.not_before, s.not_after)));
            }
            Err(CardError::Unsupported(why)) => lines.push((label.into(), format!("none ({why})"))),
            Err(e) => return Err(e.into()),
        }
    }
    for (label, role) in pins {
        let p = t.pin_info(role)?;
        lines.push((format!("{label} tries left"), p.describe()));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    for (k, v) in lines {
        let _ = writeln!(out, "{:<width$}{v}", format!("{k}:"));
    }
    Ok(())
}

fn sign(t: &mut Box<dyn Token>, args: SignArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let digest_bytes = match (&args.input.digest, &args.input.file) {
        (Some(hex_digest), _) => {
            hex::decode(hex_digest.trim()).map_err(|e| CliError::Input(format!("--digest is not hex: {e}")))?
        }
        (None, Some(path)) => {
            let data = std::fs::read(path).map_err(|e| CliError::Io(format!("{}: {e}", path.display())))?;
            eidlink_core::hash::hash(args.hash, &data)
        }
        (None, None) => return Err(CliError::Input("give --digest or --file".to_owned())),
    };
    let digest = Digest::new(args.hash, digest_bytes).map_err(|e| CliError::Input(e.to_string()))?;
    let (role, kind, what) = if args.key.auth {
        (
            KeyRole::Authentication,
            CertificateKind::Authentication,
            "authentication",
        )
    } else {
        (KeyRole::Signing, CertificateKind::Signing, "signing")
    };
    let cert = t.certificate(kind)?;
    let summary = eidlink_cert::summarize(&cert)?;
    let pin_info = t.pin_info(role)?;
    if pin_info.is_blocked() {
        // No VERIFY is ever sent to a blocked PIN.
        return Err(CardError::Pin(PinFailure::Blocked).into());
    }
    let through = t
        .slot()
        .module()
        .map_or(String::new(), |m| format!(", PKCS#11 module {m}"));
    eprintln!(
        "Signing with the {what} key of {} ({}{through}); PIN tries left: {}",
        summary.holder,
        t.label(),
        pin_info.describe()
    );
    let key = t.key(role).ok_or(CardError::Unsupported("no key for this role"))?;
    let sig = if key.entry.is_external() {
        match key.entry {
            PinEntry::Token => eprintln!(
                "Enter your {} on the reader or in the window the token's software opens",
                key.pin_label
            ),
            _ => eprintln!("Type your {} on the reader", key.pin_label),
        }
        t.sign(role, PinInput::External, &digest)?
    } else {
        let pin = read_pin(args.pin_fd)?;
        if key.pin.check(&pin).is_err() {
            return Err(CliError::PinFormat {
                min: key.pin.min_len,
                max: key.pin.max_len,
                charset: key.pin.charset,
            });
        }
        t.sign(role, PinInput::Typed(&pin), &digest)?
    };
    check_signature(&cert, &digest, &sig)?;
    eprintln!(
        "Signature verified with the public key of '{}' ({} {})",
        summary.subject_cn,
        summary.key,
        digest.algorithm().name()
    );
    match args.output {
        Some(path) => std::fs::write(&path, &sig.bytes).map_err(|e| CliError::Io(e.to_string())),
        None => writeln!(out, "{}", base64::engine::general_purpose::STANDARD.encode(&sig.bytes))
            .map_err(|e| CliError::Io(e.to_string())),
    }
}

/// What `eidlink sign` checks before it hands a signature out: that it verifies with the public key
/// of the certificate read from the same card, by the scheme the card says it used (raw ECDSA, RSA
/// PKCS#1 v1.5 or RSA-PSS). A card that signed with another key or scheme is caught here rather than
/// by whoever receives the signature.
pub fn check_signature(certificate_der: &[u8], digest: &Digest, signature: &Signature) -> Result<(), CliError> {
    eidlink_cert::verify(certificate_der, digest, &signature.bytes, &signature.algorithm)?;
    Ok(())
}

/// Reads the PIN from a file descriptor (scripts) or the terminal without echo.
fn read_pin(fd: Option<u32>) -> Result<Pin, CliError> {
    let mut raw = Zeroizing::new(String::new());
    match fd {
        Some(fd) => {
            // /dev/fd/N is the descriptor the caller passed, opened without any unsafe code.
            let mut f = std::fs::File::open(format!("/dev/fd/{fd}"))
                .map_err(|e| CliError::Input(format!("cannot read the PIN from fd {fd}: {e}")))?;
            f.read_to_string(&mut raw)
                .map_err(|e| CliError::Input(format!("cannot read the PIN: {e}")))?;
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::Input(
                    "no terminal to ask the PIN on: use --pin-fd N".to_owned(),
                ));
            }
            raw = Zeroizing::new(rpassword::prompt_password("PIN: ").map_err(|e| CliError::Input(e.to_string()))?);
        }
    }
    let line = raw.lines().next().unwrap_or("");
    Ok(Pin::new(Zeroizing::new(line.trim_end_matches('\r').to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_core_error_classes() {
        for gone in [
            TransportError::NoCard,
            TransportError::CardRemoved,
            TransportError::CardReset,
        ] {
            assert_eq!(CliError::Card(gone.into()).exit_code(), 4);
        }
        assert_eq!(CliError::Card(TransportError::NoService.into()).exit_code(), 3);
        assert_eq!(CliError::Card(TransportError::NoReaders.into()).exit_code(), 3);
        assert_eq!(CliError::Card(CardError::Pin(PinFailure::Blocked)).exit_code(), 5);
        assert_eq!(CliError::Card(TransportError::SharingViolation.into()).exit_code(), 6);
    }
}
