//! `eidlink-host`, the browser's native-messaging host (protocol.md §2): one process per request.
//! It writes `{"version", "capabilities"}`, reads one command, runs it, replies once and exits.
//! Card I/O runs on blocking worker threads; the I/O task keeps watching stdin, so the browser
//! closing it (page gone, timeout) cancels the request at once: the PIN dialog is killed and no
//! further APDU is sent.

mod commands;
pub mod config;
pub mod errors;
pub mod framing;
pub mod history;
mod pin_flow;
pub mod prompt;
pub mod request;
mod session;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eidlink_core::Providers;
use eidlink_webeid::Origin;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt};

use config::{Config, Dirs};
use errors::{HostError, Reason};
use framing::FrameError;
use request::Request;

/// The protocol version the host reports: Web eID's extension and page library require a native
/// app major version ≥ their own (2), protocol.md §1.
pub const PROTOCOL_VERSION: &str = "2.0.0";

/// `{"version": ...}`: semver with eidlink's own version as build metadata.
pub fn version() -> String {
    format!("{PROTOCOL_VERSION}+eidlink-{}", env!("CARGO_PKG_VERSION"))
}

/// The first message: `{"version", "capabilities"}`. `capabilities` lists the optional arguments
/// beyond Web eID's that this host takes ([`request::TOP_ORIGIN`]): the extension sends one only to
/// a host that lists it, because a host refuses keys it does not know, so an extension newer than
/// its host keeps working. Web eID's own extension reads `version` only.
pub fn hello() -> serde_json::Value {
    json!({"version": version(), "capabilities": [request::TOP_ORIGIN]})
}

/// The token's `appVersion`.
pub fn app_version() -> String {
    format!("eidlink/{} (Web eID {PROTOCOL_VERSION})", env!("CARGO_PKG_VERSION"))
}

/// Runs the host on the process's stdin and stdout.
pub fn main() -> ExitCode {
    let dirs = Dirs::new();
    let config = config::load(dirs.as_ref());
    let _logging = config
        .as_ref()
        .is_ok_and(|c| eidlink_settings::logging::init(c, dirs.as_ref(), "eidlink-host.log"));
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eidlink-host: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let providers = crate::tokens::providers_for(config.as_ref().unwrap_or(&Config::default()));
    let code = runtime.block_on(run(tokio::io::stdin(), tokio::io::stdout(), config, dirs, providers));
    // A card operation still running on a worker thread is not waited for: the browser is gone or
    // has its answer, and the operation ends on its own.
    runtime.shutdown_timeout(Duration::from_millis(50));
    code
}

/// The host's one request, over any byte streams (tests drive it in-process too).
pub async fn run<R, W>(
    mut stdin: R,
    mut stdout: W,
    config: Result<Config, HostError>,
    dirs: Option<Dirs>,
    providers: Providers,
) -> ExitCode
where
    R: AsyncRead + Unpin + Send + 'static,
    W: tokio::io::AsyncWrite + Unpin,
{
    if framing::write_frame(&mut stdout, &hello()).await.is_err() {
        return ExitCode::FAILURE;
    }
    let frame = match framing::read_frame(&mut stdin).await {
        Ok(f) => f,
        Err(FrameError::Eof) => return ExitCode::SUCCESS,
        Err(e) => {
            let reason = if matches!(e, FrameError::TooLong(_)) {
                Reason::MessageTooLarge
            } else {
                Reason::InvalidArgument
            };
            let err = HostError::new(reason, e.to_string());
            tracing::warn!(error = %err, "bad frame");
            let _ = framing::write_frame(&mut stdout, &err.to_json()).await;
            return ExitCode::FAILURE;
        }
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            let _ = framing::write_frame(&mut stdout, &e.to_json()).await;
            return ExitCode::FAILURE;
        }
    };
    let request = match request::parse(&frame, config.allow_http_localhost) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "rejected request");
            let _ = framing::write_frame(&mut stdout, &e.to_json()).await;
            return ExitCode::FAILURE;
        }
    };
    if request == Request::Quit {
        return if framing::write_frame(&mut stdout, &json!({})).await.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    let started = Instant::now();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let work = commands::handle(&request, &config, &providers, seen.clone());
    let outcome = tokio::select! {
        r = work => Some(r),
        () = wait_eof(stdin) => None,
        () = tokio::time::sleep(config.timeout() + Duration::from_secs(1)) => {
            Some(Err(HostError::new(Reason::PinEntryTimeout, "no answer from the user in time")))
        }
    };
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let origin = request.origin().map(Origin::as_str).unwrap_or_default().to_owned();
    let result = match &outcome {
        None => "CANCELLED_BY_BROWSER",
        Some(Ok(_)) => "ok",
        Some(Err(e)) => e.reason.name(),
    };
    tracing::info!(
        origin = %origin,
        command = request.command(),
        card = seen.card.as_deref().unwrap_or("none"),
        result,
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    if let Some(dirs) = &dirs {
        let entry = history::Entry::now(&origin, request.command(), seen.holder, result);
        if let Err(e) = history::append(&dirs.data, &entry) {
            tracing::warn!(error = %e, "cannot write the history");
        }
    }
    match outcome {
        // The browser closed stdin: nobody reads a reply.
        None => ExitCode::SUCCESS,
        Some(Ok(reply)) => match framing::write_frame(&mut stdout, &reply).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Some(Err(e)) => {
            let _ = framing::write_frame(&mut stdout, &e.to_json()).await;
            ExitCode::FAILURE
        }
    }
}

/// Resolves when stdin reaches its end (the browser disconnected). Bytes after the command are
/// ignored: one command per process.
async fn wait_eof<R: AsyncRead + Unpin>(mut stdin: R) {
    let mut buf = [0u8; 512];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// What the request learnt along the way, for the log line and the history.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    pub(crate) card: Option<String>,
    pub(crate) holder: Option<String>,
}
