//! `eidlink-host`, the browser's native-messaging host (protocol.md §2): one process per request.
//! It writes `{"version"}`, reads one command, runs it, replies once and exits. Card I/O runs on
//! blocking worker threads; the I/O task keeps watching stdin, so the browser closing it (page gone,
//! timeout) cancels the request at once: the PIN dialog is killed and no further APDU is sent.

pub mod config;
pub mod errors;
pub mod framing;
pub mod history;
pub mod prompt;
pub mod request;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eidlink_core::{
    discover, CardError, CertificateKind, Digest, ErrorClass, KeyInfo, KeyRole, NotFound, PinCharset, PinFailure,
    PinInput, ProviderWatch, Providers, Token,
};
use eidlink_webeid::{auth_digest, AuthToken, Nonce, Origin, SignResult, SigningCertificate, TokenAlgorithm};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Notify;

use config::{Config, Dirs};
use eidlink_pin_protocol::{Ask, AskError, CertificateInfo, Charset, HashInfo, PinRules, Purpose, Status};
use errors::{HostError, Reason};
use framing::FrameError;
use prompt::{Answer, PinProgram};
use request::Request;

/// The protocol version the host reports: Web eID's extension and page library require a native
/// app major version ≥ their own (2), protocol.md §1.
pub const PROTOCOL_VERSION: &str = "2.0.0";

/// `{"version": ...}`: semver with eidlink's own version as build metadata.
pub fn version() -> String {
    format!("{PROTOCOL_VERSION}+eidlink-{}", env!("CARGO_PKG_VERSION"))
}

/// The token's `appVersion`.
pub fn app_version() -> String {
    format!("eidlink/{} (Web eID {PROTOCOL_VERSION})", env!("CARGO_PKG_VERSION"))
}

/// How long the host waits between looks for a card when the reader monitor cannot run.
const CARD_POLL: Duration = Duration::from_millis(300);

/// Longest wait for a reader event before looking again anyway. pcsc-lite 1.9 tells a reader
/// plugged in only while a `SCardGetStatusChange` call is under way (it compares reader counts
/// within one call), so a reader arriving between two calls of the monitor goes unreported; this
/// bounds what such a lost event costs without polling the card.
const EVENT_SAFETY_NET: Duration = Duration::from_secs(5);

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
    let providers = crate::tokens::providers();
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
    if framing::write_frame(&mut stdout, &json!({"version": version()}))
        .await
        .is_err()
    {
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
    let work = handle(&request, &config, &providers, seen.clone());
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
struct Seen {
    card: Option<String>,
    holder: Option<String>,
}

/// The state of one request: its settings, the dialog once opened, and what it learnt.
struct Session<'a> {
    config: &'a Config,
    origin: &'a Origin,
    /// Where tokens are looked for.
    providers: &'a Providers,
    /// The language the dialog is told to speak.
    lang: eidlink_lang::Language,
    dialog: Option<PinProgram>,
    seen: Arc<Mutex<Seen>>,
    deadline: Instant,
    /// Started on the first look that finds no suitable card; `None` also when it cannot start.
    watch: Option<Watch>,
}

/// The watches of one request on every provider that can tell: any change of service, reader or
/// card wakes the card search.
struct Watch {
    watches: Vec<Box<dyn ProviderWatch>>,
    changed: Arc<Notify>,
}

impl Watch {
    /// `None` when no provider can tell: the search polls.
    fn start(providers: &Providers) -> Option<Self> {
        let changed = Arc::new(Notify::new());
        // Every change wakes the search, removals too: the error given at the deadline must be the
        // one for what is in the readers then (a wrong card pulled out is NO_CARD, no longer
        // WRONG_CERTIFICATE). `notify_one` keeps a wake-up that comes while the search is looking.
        let watches: Vec<_> = providers
            .iter()
            .filter_map(|p| {
                let sink = changed.clone();
                p.watch(Box::new(move || {
                    tracing::debug!("a token changed: looking again");
                    sink.notify_one();
                }))
            })
            .collect();
        if watches.is_empty() {
            tracing::warn!("no provider reports changes: polling for the card");
            return None;
        }
        Some(Self { watches, changed })
    }

    fn stop(self) {
        for w in self.watches {
            w.stop();
        }
    }
}

impl<'a> Session<'a> {
    /// The session of a request that has an origin (all but `quit`).
    fn new(
        request: &'a Request,
        config: &'a Config,
        providers: &'a Providers,
        seen: Arc<Mutex<Seen>>,
        env: &impl eidlink_lang::Environment,
    ) -> Option<Self> {
        // The dialog is told the language the user gets: the site's, else the one chosen in the
        // tray (config.toml), else the system's, else English.
        let lang = eidlink_lang::resolve(request.lang(), config.language.as_deref(), env);
        Some(Session {
            config,
            origin: request.origin()?,
            providers,
            lang,
            dialog: None,
            seen,
            deadline: Instant::now() + config.timeout(),
            watch: None,
        })
    }

    /// The `ask` the dialog is sent: this request's origin and language, and what it shows.
    fn ask_for(
        &self,
        purpose: Purpose,
        holder: &str,
        certificate: CertificateInfo,
        hash: Option<HashInfo>,
        pin: Option<PinRules>,
        error: Option<AskError>,
    ) -> Ask {
        Ask {
            purpose,
            origin: self.origin.as_str().to_owned(),
            lang: Some(self.lang.code().to_owned()),
            holder: Some(holder.to_owned()),
            certificate: Some(certificate),
            hash,
            pin,
            pinpad: false,
            error,
        }
    }

    async fn ask(&mut self, ask: &Ask) -> Result<Answer, HostError> {
        if self.dialog.is_none() {
            self.dialog = Some(PinProgram::spawn(&self.config.pin_program_argv())?);
        }
        match self.dialog.as_mut() {
            Some(d) => d.ask(ask).await,
            None => Err(HostError::new(Reason::Internal, "no PIN dialog")),
        }
    }

    /// Shows an ask that is not answered (PIN entered on the reader or by the token).
    async fn show(&mut self, ask: &Ask) -> Result<(), HostError> {
        if self.dialog.is_none() {
            self.dialog = Some(PinProgram::spawn(&self.config.pin_program_argv())?);
        }
        match self.dialog.as_mut() {
            Some(d) => d.show(ask).await,
            None => Err(HostError::new(Reason::Internal, "no PIN dialog")),
        }
    }

    async fn status(&mut self, message: Status) {
        if let Some(d) = self.dialog.as_mut() {
            let _ = d.status(message).await;
        }
    }

    async fn close(&mut self) {
        if let Some(d) = self.dialog.take() {
            d.close().await;
        }
        if let Some(w) = self.watch.take() {
            // Stopping cancels a blocked SCardGetStatusChange, which takes a round trip to pcscd:
            // not on the task that answers the browser. Nothing waits for it.
            drop(tokio::task::spawn_blocking(move || w.stop()));
        }
    }

    fn note(&self, token: &dyn Token, holder: Option<String>) {
        if let Ok(mut s) = self.seen.lock() {
            s.card = Some(token.label().to_owned());
            if holder.is_some() {
                s.holder = holder;
            }
        }
    }

    /// Finds a supported card (with this signing certificate, when given), waiting for the user to
    /// connect a reader or insert the card until the deadline: after a look that finds none, the
    /// next look waits for the reader monitor to report a change, so a card is picked up as soon as
    /// pcscd sees it, and nothing is asked of the readers meanwhile.
    async fn find_token(&mut self, signing_cert: Option<&[u8]>) -> Result<Box<dyn Token>, HostError> {
        let mut told = false;
        loop {
            let want = signing_cert.map(<[u8]>::to_vec);
            let providers = self.providers.clone();
            let pending = match blocking(move || look_for_cards(&providers, want.as_deref())).await? {
                Ok(t) => return Ok(t),
                Err(pending) => HostError::from(pending),
            };
            if Instant::now() >= self.deadline {
                return Err(pending);
            }
            if !told {
                let status = if pending.reason == Reason::NoReader {
                    Status::NoReader
                } else {
                    Status::InsertCard
                };
                self.status(status).await;
                told = true;
            }
            if self.watch.is_none() {
                // Started after the first look that finds nothing, so requests that find their card
                // at once do without it. A change between that look and the start is not lost: the
                // monitor reports what it finds when it starts, which wakes the next look.
                self.watch = Watch::start(self.providers);
            }
            let (wait, poll) = match &self.watch {
                Some(w) => (w.changed.clone(), EVENT_SAFETY_NET),
                None => (Arc::new(Notify::new()), CARD_POLL),
            };
            let until = self.deadline.min(Instant::now() + poll);
            if tokio::time::timeout_at(until.into(), wait.notified()).await.is_err() && until >= self.deadline {
                return Err(pending);
            }
        }
    }
}

/// One look through every provider: the first supported token (with this signing certificate,
/// when given), or the verdict to give if none comes.
fn look_for_cards(providers: &Providers, signing_cert: Option<&[u8]>) -> Result<Box<dyn Token>, NotFound> {
    discover(providers).pick(|t| match signing_cert {
        None => true,
        Some(want) => t.certificate(CertificateKind::Signing).is_ok_and(|c| c == want),
    })
}

/// Runs card work on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HostError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HostError::new(Reason::Internal, format!("card worker: {e}")))
}

/// Runs `f` on the token on a blocking thread and gives the token back.
async fn on_card<T: Send + 'static>(
    mut token: Box<dyn Token>,
    f: impl FnOnce(&mut dyn Token) -> T + Send + 'static,
) -> Result<(Box<dyn Token>, T), HostError> {
    blocking(move || {
        let r = f(token.as_mut());
        (token, r)
    })
    .await
}

/// The card went away or was reset under us: the flow waits for it and starts again.
fn card_gone(e: &CardError) -> bool {
    e.class() == ErrorClass::CardGone
}

async fn handle(
    request: &Request,
    config: &Config,
    providers: &Providers,
    seen: Arc<Mutex<Seen>>,
) -> Result<Value, HostError> {
    let Some(mut s) = Session::new(request, config, providers, seen, &eidlink_lang::Process) else {
        return Ok(json!({}));
    };
    let result = match request {
        Request::Quit => Ok(json!({})),
        Request::Authenticate { nonce, .. } => authenticate(&mut s, nonce).await,
        Request::GetSigningCertificate { .. } => signing_certificate(&mut s).await,
        Request::Sign {
            digest, certificate, ..
        } => sign(&mut s, digest, certificate).await,
    };
    s.close().await;
    result
}

/// What a PIN flow signs, and how to show it.
struct PinFlow<'a> {
    role: KeyRole,
    purpose: Purpose,
    signing_cert: Option<&'a [u8]>,
    hash: Option<HashInfo>,
}

/// Finds the card, shows the dialog with the certificate and the tries left, verifies the PIN and
/// signs; a wrong PIN asks again with the tries left (never retried on its own), a blocked PIN fails
/// without a VERIFY, a removed card is waited for and the flow restarts (the PIN is asked again).
async fn pin_flow(
    s: &mut Session<'_>,
    flow: &PinFlow<'_>,
    digest_for: impl Fn(&dyn Token) -> Result<Digest, HostError>,
) -> Result<(Vec<u8>, eidlink_core::Signature), HostError> {
    let kind = match flow.role {
        KeyRole::Authentication => CertificateKind::Authentication,
        KeyRole::Signing => CertificateKind::Signing,
    };
    'card: loop {
        let token = s.find_token(flow.signing_cert).await?;
        let (token, cert) = on_card(token, move |t| t.certificate(kind)).await?;
        let cert = match cert {
            Ok(c) => c,
            Err(e) if card_gone(&e) => {
                s.status(Status::CardRemoved).await;
                continue 'card;
            }
            Err(e) => return Err(e.into()),
        };
        let summary = eidlink_cert::summarize(&cert)
            .map_err(|e| HostError::new(Reason::CardError, format!("the card's certificate is unreadable: {e}")))?;
        s.note(token.as_ref(), Some(summary.holder.clone()));
        let digest = digest_for(token.as_ref())?;
        let role = flow.role;
        let (mut token, info) = on_card(token, move |t| t.pin_info(role)).await?;
        let info = match info {
            Ok(i) => i,
            Err(e) if card_gone(&e) => {
                s.status(Status::CardRemoved).await;
                continue 'card;
            }
            Err(e) => return Err(e.into()),
        };
        if info.is_blocked() {
            return Err(HostError::new(
                Reason::PinBlocked,
                "the PIN is blocked: unblock it with your PUK code",
            ));
        }
        let key = token
            .key(flow.role)
            .ok_or_else(|| HostError::new(Reason::UnsupportedCard, "the card has no key for this operation"))?;
        let policy = key.pin;
        let mut tries_left = info.tries_left;
        let mut error = None;
        loop {
            let mut ask = s.ask_for(
                flow.purpose,
                &summary.holder,
                certificate_info(&summary),
                flow.hash.clone(),
                Some(pin_rules(&key, tries_left, info.max_tries)),
                error.take(),
            );
            // Typed in our dialog, the PIN comes back to be sent; typed on the reader's pad or asked
            // by the token, the dialog only says where to type it, and the token is asked at once.
            let pin = if key.entry.is_external() {
                ask.pinpad = true;
                s.show(&ask).await?;
                None
            } else {
                match s.ask(&ask).await? {
                    Answer::Pin(p) => {
                        s.status(Status::Working).await;
                        Some(p)
                    }
                    Answer::Confirmed | Answer::Cancelled => {
                        return Err(HostError::new(Reason::UserCancelled, "the user cancelled"));
                    }
                }
            };
            let d = digest.clone();
            let (t, r) = on_card(token, move |t| {
                let input = pin.as_ref().map_or(PinInput::External, PinInput::Typed);
                t.sign(role, input, &d)
            })
            .await?;
            token = t;
            match r {
                Ok(sig) => return Ok((cert, sig)),
                Err(CardError::Pin(PinFailure::Wrong { retries })) if retries > 0 => {
                    tries_left = Some(retries);
                    error = Some(AskError::WrongPin {
                        tries_left: Some(retries),
                    });
                }
                Err(CardError::Pin(PinFailure::Wrong { .. } | PinFailure::Blocked)) => {
                    return Err(HostError::new(
                        Reason::PinBlocked,
                        "the PIN is now blocked: unblock it with your PUK code",
                    ));
                }
                Err(CardError::Pin(PinFailure::InvalidFormat)) => {
                    let what = match policy.charset {
                        PinCharset::Digits => "digits",
                        PinCharset::Any => "characters",
                    };
                    error = Some(AskError::Message {
                        text: format!("the PIN must be {} to {} {what}", policy.min_len, policy.max_len),
                    });
                }
                Err(e) if card_gone(&e) => {
                    s.status(Status::CardRemoved).await;
                    continue 'card;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The PIN field the dialog shows for `key`.
fn pin_rules(key: &KeyInfo, tries_left: Option<u8>, max_tries: u8) -> PinRules {
    PinRules {
        label: key.pin_label.to_owned(),
        min: key.pin.min_len,
        max: key.pin.max_len,
        tries_left,
        max_tries: Some(max_tries),
        charset: match key.pin.charset {
            PinCharset::Digits => Charset::Digits,
            PinCharset::Any => Charset::Any,
        },
    }
}

/// What the dialog shows of a certificate.
fn certificate_info(summary: &eidlink_cert::CertSummary) -> CertificateInfo {
    CertificateInfo {
        subject: summary.subject_cn.clone(),
        issuer: summary.issuer_cn.clone(),
        not_before: summary.valid_from.clone(),
        not_after: summary.valid_to.clone(),
    }
}

async fn authenticate(s: &mut Session<'_>, nonce: &Nonce) -> Result<Value, HostError> {
    let origin = s.origin.as_str().to_owned();
    let nonce = nonce.as_str().to_owned();
    let flow = PinFlow {
        role: KeyRole::Authentication,
        purpose: Purpose::Authenticate,
        signing_cert: None,
        hash: None,
    };
    let (cert, sig) = pin_flow(s, &flow, |t| {
        let alg = t
            .key(KeyRole::Authentication)
            .and_then(|k| TokenAlgorithm::for_key(k.algorithm, &k.schemes))
            .ok_or_else(|| {
                HostError::new(
                    Reason::UnsupportedCard,
                    "the card's authentication key has no Web eID algorithm",
                )
            })?;
        Ok(auth_digest(alg, &origin, &nonce))
    })
    .await?;
    let alg = TokenAlgorithm::for_scheme(sig.algorithm)
        .ok_or_else(|| HostError::new(Reason::Internal, "signature scheme without a token algorithm"))?;
    reply(&AuthToken::new(&cert, alg, &sig.bytes, app_version()))
}

async fn signing_certificate(s: &mut Session<'_>) -> Result<Value, HostError> {
    loop {
        let token = s.find_token(None).await?;
        let (token, cert) = on_card(token, |t| t.certificate(CertificateKind::Signing)).await?;
        let cert = match cert {
            Ok(c) => c,
            Err(e) if card_gone(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        let summary = eidlink_cert::summarize(&cert)
            .map_err(|e| HostError::new(Reason::CardError, format!("the card's certificate is unreadable: {e}")))?;
        s.note(token.as_ref(), Some(summary.holder.clone()));
        // Revealing the signing certificate reveals who the user is: ask first (protocol.md §2.4).
        let ask = s.ask_for(
            Purpose::Consent,
            &summary.holder,
            certificate_info(&summary),
            None,
            None,
            None,
        );
        return match s.ask(&ask).await? {
            Answer::Confirmed => reply(&SigningCertificate::new(
                &cert,
                &token.key(KeyRole::Signing).map(|k| k.schemes).unwrap_or_default(),
            )),
            _ => Err(HostError::new(
                Reason::UserCancelled,
                "the user did not share the certificate",
            )),
        };
    }
}

async fn sign(s: &mut Session<'_>, digest: &Digest, certificate: &[u8]) -> Result<Value, HostError> {
    let flow = PinFlow {
        role: KeyRole::Signing,
        purpose: Purpose::Sign,
        signing_cert: Some(certificate),
        hash: Some(HashInfo {
            function: digest.algorithm().name().to_owned(),
            fingerprint: prompt::fingerprint(digest.as_bytes()),
        }),
    };
    let (_, sig) = pin_flow(s, &flow, |t| {
        if t.key(KeyRole::Signing)
            .is_some_and(|k| k.signs_with(digest.algorithm()))
        {
            Ok(digest.clone())
        } else {
            Err(HostError::invalid(format!(
                "this card cannot sign a {} digest",
                digest.algorithm().name()
            )))
        }
    })
    .await?;
    reply(&SignResult::new(&sig.bytes, sig.algorithm))
}

/// A success reply as the JSON value the framing writes (keys sorted, as the `json!` replies were).
fn reply(value: &impl serde::Serialize) -> Result<Value, HostError> {
    serde_json::to_value(value).map_err(|e| HostError::new(Reason::Internal, format!("reply: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "12345678901234567890123456789012345678901234";

    fn no_providers() -> Providers {
        Arc::from(Vec::new())
    }

    fn request(lang: Option<&str>) -> Request {
        let mut arguments = json!({"origin": "https://service.example.be", "challengeNonce": NONCE});
        if let Some(lang) = lang {
            arguments["lang"] = json!(lang);
        }
        let frame = json!({"command": "authenticate", "arguments": arguments});
        request::parse(frame.to_string().as_bytes(), false).unwrap()
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    /// The `lang` of the dialog's `ask` for a request, a config.toml and an environment.
    fn dialog_lang(
        site: Option<&str>,
        config_toml: &str,
        system: &'static [(&'static str, &'static str)],
    ) -> Option<String> {
        let request = request(site);
        let config: Config = toml::from_str(config_toml).unwrap();
        let providers = no_providers();
        let session = Session::new(&request, &config, &providers, Arc::default(), &env(system)).unwrap();
        session
            .ask_for(Purpose::Consent, "Alice", CertificateInfo::default(), None, None, None)
            .lang
    }

    #[test]
    fn the_trays_language_reaches_the_dialog_when_the_site_gives_none() {
        assert_eq!(
            dialog_lang(None, "language = \"nl\"", &[("LANG", "de_DE.UTF-8")]).as_deref(),
            Some("nl")
        );
        assert_eq!(dialog_lang(Some("xx"), "language = \"fr\"", &[]).as_deref(), Some("fr"));
    }

    #[test]
    fn the_dialog_language_is_the_sites_else_the_systems_else_english() {
        assert_eq!(
            dialog_lang(Some("de"), "language = \"nl\"", &[("LANG", "fr_BE")]).as_deref(),
            Some("de")
        );
        assert_eq!(dialog_lang(None, "", &[("LANG", "fr_BE.UTF-8")]).as_deref(), Some("fr"));
        assert_eq!(
            dialog_lang(None, "language = \"es\"", &[("LANGUAGE", "nl")]).as_deref(),
            Some("nl")
        );
        assert_eq!(dialog_lang(None, "", &[]).as_deref(), Some("en"));
    }

    #[test]
    fn the_ask_carries_the_origin_and_what_is_shown() {
        let request = request(Some("fr"));
        let config = Config::default();
        let providers = no_providers();
        let session = Session::new(&request, &config, &providers, Arc::default(), &env(&[])).unwrap();
        let ask = session.ask_for(
            Purpose::Sign,
            "Alice",
            CertificateInfo::default(),
            Some(HashInfo {
                function: "SHA-256".into(),
                fingerprint: "AB CD".into(),
            }),
            None,
            Some(AskError::WrongPin { tries_left: Some(2) }),
        );
        let line = eidlink_pin_protocol::Request::Ask(Box::new(ask)).to_line().unwrap();
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["type"], "ask");
        assert_eq!(back["origin"], "https://service.example.be");
        assert_eq!(back["lang"], "fr");
        assert_eq!(back["holder"], "Alice");
        assert_eq!(back["hash"]["fingerprint"], "AB CD");
        assert_eq!(back["error"], json!({"kind": "wrong_pin", "tries_left": 2}));
        assert_eq!(back["pinpad"], false);
    }
}
