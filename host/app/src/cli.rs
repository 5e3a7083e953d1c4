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

use crate::register::pkcs11::{self as module_reg, NssChange, PolicyChange, PolicyRemoval};
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
    /// Register the native host and the PKCS#11 module with browsers (native-messaging manifests;
    /// Firefox's PKCS#11 manifest and, with --system, its SecurityDevices policy; the user's NSS
    /// database for Chromium and Chrome; p11-kit).
    Install(RegisterArgs),
    /// Remove the native host's and the PKCS#11 module's registrations.
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
    /// Only these registrations (repeatable); default: every one that applies to the scope and
    /// browsers (with --profile-dir, the native-messaging manifests only).
    #[arg(long, value_enum)]
    only: Vec<Part>,
    /// The PKCS#11 module to register; default: the one next to this program (the packaged one
    /// for /usr/bin/eidlink).
    #[arg(long)]
    pkcs11_module: Option<PathBuf>,
    /// The NSS database for Chromium and Chrome; default: $XDG_DATA_HOME/pki/nssdb when it
    /// exists, else ~/.pki/nssdb.
    #[arg(long, requires = "user", conflicts_with = "system")]
    nssdb: Option<PathBuf>,
}

/// One kind of registration `install` and `uninstall` handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// The native host's manifests (each browser's).
    NativeMessaging,
    /// Firefox's PKCS#11 native manifest (the extension's pkcs11 API loads the module with it).
    FirefoxPkcs11,
    /// Firefox's SecurityDevices policy in policies.json (--system, Linux).
    FirefoxPolicy,
    /// The module in the user's NSS database, which Chromium and Chrome read (--user, Linux).
    Nssdb,
    /// The p11-kit module file (Linux).
    P11Kit,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Self::NativeMessaging => "native-messaging",
            Self::FirefoxPkcs11 => "firefox-pkcs11",
            Self::FirefoxPolicy => "firefox-policy",
            Self::Nssdb => "nssdb",
            Self::P11Kit => "p11-kit",
        }
    }
}

/// Linux (and the BSDs): where the policy, NSS database and p11-kit registrations exist.
const NSS_SYSTEM: bool = cfg!(all(unix, not(target_os = "macos")));

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

/// `install` / `uninstall`: one line per registration saying what was done, the path last.
fn registration(args: RegisterArgs, install: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let parts = parts(&args)?;
    let io = |e: std::io::Error| CliError::Io(e.to_string());
    let dirs = if args.user { Some(UserDirs::current()?) } else { None };
    if parts.contains(&Part::NativeMessaging) {
        native_messaging(&args, dirs.as_ref(), install, out)?;
    }
    let module_parts: Vec<Part> = parts.into_iter().filter(|p| *p != Part::NativeMessaging).collect();
    if module_parts.is_empty() {
        return Ok(());
    }
    let module = if install {
        let module = args.pkcs11_module.clone().or_else(module_reg::default_module);
        match module.map(|m| std::path::absolute(&m).unwrap_or(m)) {
            Some(m) if m.is_file() => Some(m),
            other => {
                let what = other.map_or("eidlink's PKCS#11 module".to_owned(), |m| m.display().to_string());
                writeln!(
                    out,
                    "PKCS#11 module: NOT registered with Firefox, NSS or p11-kit, the module is missing \
                     (build eidlink-pkcs11-module, or give --pkcs11-module PATH): {what}"
                )
                .map_err(io)?;
                return Ok(());
            }
        }
    } else {
        None
    };
    // Each registration is tried even when another failed; any failure fails the command at the end.
    let mut failed = None;
    for part in module_parts {
        let (what, result) = module_part(part, dirs.as_ref(), &args, module.as_deref());
        let line = match result {
            Ok(line) => line,
            Err(e @ RegisterError::ToolMissing(_)) => format!("NOT registered: {e}"),
            Err(e) => {
                let line = format!("FAILED: {e}");
                failed = Some(e);
                line
            }
        };
        writeln!(out, "{what}: {line}").map_err(io)?;
    }
    failed.map_or(Ok(()), |e| Err(e.into()))
}

/// The registrations asked for (`--only`), or every one that applies.
fn parts(args: &RegisterArgs) -> Result<Vec<Part>, CliError> {
    if !args.only.is_empty() {
        for p in &args.only {
            let fits = match p {
                Part::NativeMessaging | Part::FirefoxPkcs11 => true,
                Part::FirefoxPolicy => args.system && NSS_SYSTEM,
                Part::Nssdb => args.user && NSS_SYSTEM,
                Part::P11Kit => NSS_SYSTEM,
            };
            if !fits {
                return Err(CliError::Input(format!(
                    "--only {}: not a registration of this scope or system (firefox-policy is --system, nssdb \
                     is --user, both and p11-kit are Linux only)",
                    p.name()
                )));
            }
        }
        return Ok(args.only.clone());
    }
    let mut parts = vec![Part::NativeMessaging];
    if args.profile_dir.is_some() {
        // A throwaway Chromium profile: the module's registrations are not per profile (an NSS
        // database given with --nssdb is the exception).
        if args.nssdb.is_some() {
            parts.push(Part::Nssdb);
        }
        return Ok(parts);
    }
    let firefox = args.browser.is_empty() || args.browser.contains(&Browser::Firefox);
    let chromium = args.browser.is_empty() || args.browser.iter().any(|b| *b != Browser::Firefox);
    if firefox {
        parts.push(Part::FirefoxPkcs11);
        if args.system && NSS_SYSTEM {
            parts.push(Part::FirefoxPolicy);
        }
    }
    if chromium && args.user && NSS_SYSTEM {
        parts.push(Part::Nssdb);
    }
    if args.browser.is_empty() && NSS_SYSTEM {
        parts.push(Part::P11Kit);
    }
    Ok(parts)
}

/// One module registration: what it is, and the rest of its line (the path last) or its error.
fn module_part(
    part: Part,
    dirs: Option<&UserDirs>,
    args: &RegisterArgs,
    module: Option<&std::path::Path>,
) -> (&'static str, Result<String, RegisterError>) {
    let verb = |done: bool| if done { "removed" } else { "was not registered:" };
    match part {
        // (The native-messaging part never comes here: `registration` handles it with the browsers.)
        Part::FirefoxPkcs11 | Part::NativeMessaging => {
            let dir = dirs.map_or_else(module_reg::firefox_system_dir, module_reg::firefox_user_dir);
            let result = match module {
                Some(m) => module_reg::install_firefox_manifest(&dir, m).map(|p| format!("registered {}", p.display())),
                None => module_reg::uninstall_firefox_manifest(&dir)
                    .map(|done| format!("{} {}", verb(done), module_reg::firefox_manifest_path(&dir).display())),
            };
            ("Firefox PKCS#11 module", result)
        }
        Part::FirefoxPolicy => {
            let dir = module_reg::policies_dir();
            let file = module_reg::policies_path(&dir);
            let result = match module {
                Some(m) => module_reg::add_security_device(&dir, m).map(|c| {
                    let how = match c {
                        PolicyChange::Created => "created with",
                        PolicyChange::Added => "added",
                        PolicyChange::Updated => "updated",
                        PolicyChange::Unchanged => "already has",
                    };
                    format!("{how} {} in {}", module_reg::NSS_MODULE_NAME, file.display())
                }),
                None => module_reg::remove_security_device(&dir).map(|r| match r {
                    PolicyRemoval::NotThere => format!("was not registered: {}", file.display()),
                    PolicyRemoval::Removed => {
                        format!("removed {} from {}", module_reg::NSS_MODULE_NAME, file.display())
                    }
                    PolicyRemoval::RemovedFile => format!("removed {}", file.display()),
                }),
            };
            ("Firefox policy SecurityDevices", result)
        }
        Part::Nssdb => {
            let db = match (&args.nssdb, dirs) {
                (Some(db), _) => db.clone(),
                (None, Some(d)) => module_reg::default_nssdb(d),
                (None, None) => return ("NSS database", Err(RegisterError::NoHome)),
            };
            let result = match module {
                Some(m) => module_reg::nss_add(&db, m).map(|c| match c {
                    NssChange::Added { created: true } => {
                        format!("created, {} added: {}", module_reg::NSS_MODULE_NAME, db.display())
                    }
                    NssChange::Added { created: false } => {
                        format!("{} added: {}", module_reg::NSS_MODULE_NAME, db.display())
                    }
                    NssChange::Replaced(old) => format!(
                        "{} replaced (it named {}): {}",
                        module_reg::NSS_MODULE_NAME,
                        old.display(),
                        db.display()
                    ),
                    NssChange::Unchanged => format!("{} already there: {}", module_reg::NSS_MODULE_NAME, db.display()),
                }),
                None => module_reg::nss_delete(&db).map(|done| format!("{} {}", verb(done), db.display())),
            };
            ("NSS database (Chromium, Chrome)", result)
        }
        Part::P11Kit => {
            let dir = dirs.map_or_else(module_reg::p11kit_system_dir, module_reg::p11kit_user_dir);
            let result = match module {
                Some(m) => module_reg::install_p11kit(&dir, m).map(|p| format!("registered {}", p.display())),
                None => module_reg::uninstall_p11kit(&dir)
                    .map(|done| format!("{} {}", verb(done), module_reg::p11kit_path(&dir).display())),
            };
            ("p11-kit", result)
        }
    }
}

/// The native host's manifests: one line per browser.
fn native_messaging(
    args: &RegisterArgs,
    dirs: Option<&UserDirs>,
    install: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let browsers: Vec<Browser> = if args.browser.is_empty() {
        // Firefox has no per-profile directory: with --profile-dir, "all" means the Chromium family.
        Browser::ALL
            .into_iter()
            .filter(|b| args.profile_dir.is_none() || *b != Browser::Firefox)
            .collect()
    } else {
        args.browser.clone()
    };
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
        let dir = match dirs {
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

/// `verify-token`: the checks of protocol.md §4 with the given trust, printing who authenticated.
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
