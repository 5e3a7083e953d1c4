//! One request's session: its settings, the PIN dialog once opened, and the card search that
//! waits for the user to connect a reader or insert the card, woken by the providers' watches.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eidlink_core::{discover, CardError, CertificateKind, ErrorClass, NotFound, ProviderWatch, Providers, Token};
use eidlink_pin_protocol::{Ask, AskError, CertificateInfo, HashInfo, PinRules, Purpose, Status, Wait};
use eidlink_webeid::Origin;
use tokio::sync::Notify;

use super::config::Config;
use super::errors::{HostError, Reason};
use super::prompt::{Answer, PinProgram};
use super::request::Request;
use super::Seen;

/// How long the host waits between looks for a card when the reader monitor cannot run.
const CARD_POLL: Duration = Duration::from_millis(300);

/// Longest wait for a reader event before looking again anyway. pcsc-lite 1.9 tells a reader
/// plugged in only while a `SCardGetStatusChange` call is under way (it compares reader counts
/// within one call), so a reader arriving between two calls of the monitor goes unreported; this
/// bounds what such a lost event costs without polling the card.
const EVENT_SAFETY_NET: Duration = Duration::from_secs(5);

/// The state of one request: its settings, the dialog once opened, and what it learnt.
pub(super) struct Session<'a> {
    config: &'a Config,
    pub(super) origin: &'a Origin,
    /// The tab's top-level page, when the site is a frame in it: the dialog says so.
    top_origin: Option<&'a Origin>,
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
    pub(super) fn new(
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
            top_origin: request.top_origin(),
            providers,
            lang,
            dialog: None,
            seen,
            deadline: Instant::now() + config.timeout(),
            watch: None,
        })
    }

    /// The `ask` the dialog is sent: this request's origin and language, and what it shows.
    pub(super) fn ask_for(
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
            top_origin: self.top_origin.map(|o| o.as_str().to_owned()),
            program: None,
            lang: Some(self.lang.code().to_owned()),
            holder: Some(holder.to_owned()),
            certificate: Some(certificate),
            hash,
            pin,
            pinpad: false,
            token_prompt: false,
            error,
            wait: None,
        }
    }

    /// The `ask` that opens (or turns) the dialog into "the request waits for you": the site, what
    /// it wants, and what to do (`wait`), with no PIN field. `holder` and `certificate` when a card
    /// was read (a blocked PIN).
    pub(super) fn ask_waiting(
        &self,
        purpose: Purpose,
        wait: Wait,
        hash: Option<HashInfo>,
        card: Option<(&str, CertificateInfo)>,
    ) -> Ask {
        let (holder, certificate) = card.map_or((None, None), |(h, c)| (Some(h.to_owned()), Some(c)));
        Ask {
            holder,
            certificate,
            wait: Some(wait),
            ..self.ask_for(purpose, "", CertificateInfo::default(), hash, None, None)
        }
    }

    /// Shows a final state (a blocked PIN) and waits for the user to close the dialog (or the
    /// deadline) before the request fails: the site learns nothing the user has not seen.
    pub(super) async fn tell(&mut self, ask: &Ask) {
        if self.show(ask).await.is_err() {
            return;
        }
        if let Some(d) = self.dialog.as_mut() {
            // Whatever the answer (`cancelled` from Close, or anything an older dialog sends).
            let _ = tokio::time::timeout_at(self.deadline.into(), d.answer()).await;
        }
    }

    pub(super) async fn ask(&mut self, ask: &Ask) -> Result<Answer, HostError> {
        if self.dialog.is_none() {
            self.dialog = Some(PinProgram::spawn(&self.config.pin_program_argv())?);
        }
        match self.dialog.as_mut() {
            Some(d) => d.ask(ask).await,
            None => Err(HostError::new(Reason::Internal, "no PIN dialog")),
        }
    }

    /// Shows an ask that is not answered (PIN entered on the reader or by the token).
    pub(super) async fn show(&mut self, ask: &Ask) -> Result<(), HostError> {
        if self.dialog.is_none() {
            self.dialog = Some(PinProgram::spawn(&self.config.pin_program_argv())?);
        }
        match self.dialog.as_mut() {
            Some(d) => d.show(ask).await,
            None => Err(HostError::new(Reason::Internal, "no PIN dialog")),
        }
    }

    pub(super) async fn status(&mut self, message: Status) {
        if let Some(d) = self.dialog.as_mut() {
            let _ = d.status(message).await;
        }
    }

    pub(super) async fn close(&mut self) {
        if let Some(d) = self.dialog.take() {
            d.close().await;
        }
        if let Some(w) = self.watch.take() {
            // Stopping cancels a blocked SCardGetStatusChange, which takes a round trip to pcscd:
            // not on the task that answers the browser. Nothing waits for it.
            drop(tokio::task::spawn_blocking(move || w.stop()));
        }
    }

    pub(super) fn note(&self, token: &dyn Token, holder: Option<String>) {
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
    ///
    /// The first look that finds nothing opens the dialog ([`Session::ask_waiting`]) with the
    /// site's name and what to do, and it follows what the readers hold (no reader, no card, a card
    /// that will not do); the user's Cancel ends the request at once. So a site never learns
    /// silently, at the deadline, that there is no reader or which card is in it.
    pub(super) async fn find_token(
        &mut self,
        purpose: Purpose,
        hash: Option<HashInfo>,
        signing_cert: Option<&[u8]>,
    ) -> Result<Box<dyn Token>, HostError> {
        let mut shown: Option<Wait> = None;
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
            let wait = wait_for(pending.reason);
            if shown != Some(wait) {
                let ask = self.ask_waiting(purpose, wait, hash.clone(), None);
                self.show(&ask).await?;
                shown = Some(wait);
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
            let Some(dialog) = self.dialog.as_mut() else {
                return Err(HostError::new(Reason::Internal, "no PIN dialog"));
            };
            tokio::select! {
                changed = tokio::time::timeout_at(until.into(), wait.notified()) => {
                    if changed.is_err() && until >= self.deadline {
                        return Err(pending);
                    }
                }
                answer = dialog.answer() => match answer? {
                    Answer::Cancelled => {
                        return Err(HostError::new(Reason::UserCancelled, "the user cancelled"));
                    }
                    // Not an answer to this question (a PIN program that predates `wait`): dropped
                    // (a PIN is wiped), and the search goes on.
                    Answer::Pin(_) | Answer::Confirmed => {
                        tracing::warn!("the PIN program answered a wait: ignored");
                    }
                },
            }
        }
    }
}

/// What the dialog tells the user to do about a search's verdict.
fn wait_for(reason: Reason) -> Wait {
    match reason {
        Reason::NoReader | Reason::NoPcscService => Wait::NoReader,
        Reason::UnsupportedCard | Reason::CardError => Wait::UnsupportedCard,
        Reason::WrongCertificate => Wait::WrongCard,
        _ => Wait::InsertCard,
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
pub(super) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HostError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HostError::new(Reason::Internal, format!("card worker: {e}")))
}

/// Runs `f` on the token on a blocking thread and gives the token back.
pub(super) async fn on_card<T: Send + 'static>(
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
pub(super) fn card_gone(e: &CardError) -> bool {
    e.class() == ErrorClass::CardGone
}

#[cfg(test)]
mod tests {
    use super::super::request;
    use super::*;
    use serde_json::{json, Value};

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
        assert!(back.get("top_origin").is_none(), "no top-level page given: {back}");
    }

    #[test]
    fn the_ask_carries_the_top_level_page_the_extension_gave() {
        let frame = json!({"command": "get-signing-certificate", "arguments": {
            "origin": "https://sign.provider.example", "topOrigin": "https://portal.example.be"}});
        let request = request::parse(frame.to_string().as_bytes(), false).unwrap();
        let config = Config::default();
        let providers = no_providers();
        let session = Session::new(&request, &config, &providers, Arc::default(), &env(&[])).unwrap();
        let ask = session.ask_for(Purpose::Consent, "Alice", CertificateInfo::default(), None, None, None);
        assert_eq!(ask.origin, "https://sign.provider.example");
        assert_eq!(ask.top_origin.as_deref(), Some("https://portal.example.be"));
    }
}
