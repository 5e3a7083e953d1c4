//! The PIN dialog's state machine, with no egui in it: the view draws a [`Model`] and feeds it
//! [`Event`]s and typed text; the model answers with [`Effect`]s for the program to carry out.
//!
//! ```text
//!            ask                 Submit / Cancel / window closed (answer written)
//!  (start) ──────► Asking ───────────────────────────────────────────────► Working
//!                    ▲  │ status: shown as a notice                          │  │
//!                    │  └── ask: replaces the request, clears the PIN        │  │ status: shown
//!                    └────────────────────────── ask (e.g. wrong PIN) ───────┘  │
//!   close / end of input, from any state ──────────────────────────────────► Exit
//! ```
//! Closing the window while asking answers `cancelled` and exits; while working it just exits;
//! in PIN-pad mode it is refused (the user cancels on the reader, and the host sends `close`).

use std::fmt;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::i18n::Language;
use crate::protocol::{Ask, Asker, Charset, Purpose, Request, Response, Status, Wait};

/// How long the consent button stays disabled after the question appears, so an Enter or click
/// meant for the page cannot give consent (browsers delay their permission prompts the same way).
pub const CONSENT_ARM_DELAY: Duration = Duration::from_millis(500);

/// Longest untrusted text shown (holder, certificate fields, error messages), in characters.
pub const MAX_SHOWN_CHARS: usize = 200;

/// What happens to the dialog.
#[derive(Debug)]
pub enum Event {
    /// A request from the host.
    Request(Request),
    /// stdin reached its end (the host exited or closed the pipe).
    InputClosed,
    /// Enter or the OK button.
    Submit,
    /// Escape or the Cancel button.
    Cancel,
    /// The user closes the window.
    CloseRequested,
}

/// What the program must do.
#[derive(Debug)]
pub enum Effect {
    /// Write this answer line on stdout.
    Answer(Response),
    /// Close the window and exit 0.
    Exit,
    /// Refuse the window close the user asked for.
    KeepOpen,
}

/// Why the last typed character was refused (shown next to the field until the next keystroke).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputHint {
    /// A character that is not an ASCII digit, in a digits-only PIN.
    DigitsOnly,
    /// A control character, in a PIN of any characters.
    NotPrintable,
    /// The PIN already has `max` characters.
    MaxDigits,
}

/// The PIN being typed: digits only, or any printable characters for tokens that allow them
/// (`charset: any`), at most `max` characters, kept in a buffer allocated once (so it never moves)
/// and wiped when dropped. `Debug` shows only the length.
pub struct PinEntry {
    text: Zeroizing<String>,
    max: usize,
    charset: Charset,
}

impl fmt::Debug for PinEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinEntry {{ len: {}, max: {} }}", self.len(), self.max)
    }
}

impl PinEntry {
    /// An empty PIN of at most `max` characters of `charset`.
    pub fn new(max: usize, charset: Charset) -> PinEntry {
        PinEntry {
            text: Zeroizing::new(String::with_capacity(Self::capacity(max, charset))),
            max,
            charset,
        }
    }

    /// Bytes for `max` characters: one each for digits, up to four in UTF-8.
    fn capacity(max: usize, charset: Charset) -> usize {
        match charset {
            Charset::Digits => max,
            Charset::Any => max * 4,
        }
    }

    fn fresh(&self) -> Zeroizing<String> {
        Zeroizing::new(String::with_capacity(Self::capacity(self.max, self.charset)))
    }

    /// Number of characters typed.
    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Nothing typed yet.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends the characters of `text` the charset allows while there is room; returns why
    /// something was refused.
    pub fn type_text(&mut self, text: &str) -> Option<InputHint> {
        let mut hint = None;
        for c in text.chars() {
            let refused = match self.charset {
                Charset::Digits => (!c.is_ascii_digit()).then_some(InputHint::DigitsOnly),
                Charset::Any => c.is_control().then_some(InputHint::NotPrintable),
            };
            if let Some(why) = refused {
                hint = Some(why);
            } else if self.len() >= self.max {
                hint = Some(InputHint::MaxDigits);
            } else {
                self.text.push(c);
            }
        }
        hint
    }

    /// Removes the last character. The old buffer is wiped (a plain `pop` would leave the
    /// character in the spare capacity).
    pub fn backspace(&mut self) {
        if let Some((keep, _)) = self.text.char_indices().next_back() {
            let mut shorter = self.fresh();
            shorter.push_str(&self.text[..keep]);
            self.text = shorter; // the previous Zeroizing is wiped on drop
        }
    }

    /// Removes everything typed.
    pub fn clear(&mut self) {
        self.text = self.fresh();
    }

    /// Hands the PIN over (the buffer moves, nothing is copied) and leaves this entry empty.
    fn take(&mut self) -> Zeroizing<String> {
        let fresh = self.fresh();
        std::mem::replace(&mut self.text, fresh)
    }
}

/// The request being answered, with what the view needs already worked out.
#[derive(Debug)]
pub struct Asking {
    /// The request as received.
    pub request: Ask,
    /// Who asks: the site (its origin parsed, and the page it is embedded in when the host says
    /// and it is another origin), or the program for `tls_login`.
    pub asker: Asker,
    /// The PIN typed so far (unused for `consent` and PIN pads).
    pub pin: PinEntry,
    /// Why the last keystroke was refused.
    pub hint: Option<InputHint>,
    /// A `status` received while this question is open.
    pub notice: Option<Status>,
    shown_at: Instant,
    focus_pending: bool,
}

impl Asking {
    /// The dialog shows a PIN field.
    pub fn has_pin_field(&self) -> bool {
        self.request.purpose != Purpose::Consent && !self.request.pinpad && self.request.wait.is_none()
    }

    /// The dialog shows Cancel/OK buttons (everything but the PIN-pad wait; a `wait` shows Cancel
    /// or Close alone).
    pub fn has_buttons(&self) -> bool {
        self.request.purpose == Purpose::Consent || !self.request.pinpad || self.request.wait.is_some()
    }

    /// The host waits for the user to connect a reader or insert a card, or tells a final state:
    /// nothing to submit, only Cancel (Close).
    pub fn waiting(&self) -> Option<Wait> {
        self.request.wait
    }

    /// The characters the PIN may hold.
    pub fn pin_charset(&self) -> Charset {
        self.request.pin.as_ref().map_or(Charset::Digits, |p| p.charset)
    }

    /// `(min, max)` characters.
    pub fn pin_bounds(&self) -> (usize, usize) {
        self.request
            .pin
            .as_ref()
            .map_or((0, 0), |p| (usize::from(p.min), usize::from(p.max)))
    }

    /// Tries left, from the PIN rules or else from the wrong-PIN error.
    pub fn tries_left(&self) -> Option<u32> {
        let from_error = match &self.request.error {
            Some(crate::protocol::AskError::WrongPin { tries_left }) => *tries_left,
            _ => None,
        };
        self.request
            .pin
            .as_ref()
            .and_then(|p| p.tries_left)
            .or(from_error)
            .map(u32::from)
    }

    /// The next wrong PIN blocks the card.
    pub fn is_last_try(&self) -> bool {
        self.request.purpose != Purpose::Consent && self.tries_left() == Some(1)
    }

    /// The PIN is already blocked (nothing can be submitted).
    pub fn is_blocked(&self) -> bool {
        self.request.purpose != Purpose::Consent && self.tries_left() == Some(0)
    }

    /// Whether OK/Enter would answer now.
    pub fn can_submit(&self, now: Instant) -> bool {
        if self.request.wait.is_some() {
            return false;
        }
        match self.request.purpose {
            Purpose::Consent => now.saturating_duration_since(self.shown_at) >= CONSENT_ARM_DELAY,
            Purpose::Authenticate | Purpose::Sign | Purpose::TlsLogin => {
                self.has_pin_field() && !self.is_blocked() && self.pin.len() >= self.pin_bounds().0
            }
        }
    }

    /// Time left before consent can be given (for scheduling a repaint).
    pub fn arming_left(&self, now: Instant) -> Option<Duration> {
        if self.request.purpose != Purpose::Consent {
            return None;
        }
        CONSENT_ARM_DELAY
            .checked_sub(now.saturating_duration_since(self.shown_at))
            .filter(|d| !d.is_zero())
    }

    /// True once per new request: the view should focus the PIN field.
    pub fn take_focus_request(&mut self) -> bool {
        std::mem::take(&mut self.focus_pending)
    }
}

/// Where the dialog is.
#[derive(Debug)]
pub enum Phase {
    /// Showing a question.
    Asking(Box<Asking>),
    /// Answered; waiting for the host. Keeps the request answered, to go on showing it.
    Working {
        /// The request answered (it holds no PIN).
        request: Box<Ask>,
        /// Who asked.
        asker: Asker,
        /// What was answered.
        purpose: Purpose,
        /// The latest `status` from the host.
        status: Option<Status>,
    },
    /// Closing.
    Exiting,
}

/// The whole dialog state.
#[derive(Debug)]
pub struct Model {
    phase: Phase,
    lang: Language,
    fallback: Option<Language>,
}

impl Model {
    /// A dialog showing its first request. `fallback` is the language when the request's `lang`
    /// is absent or not one of ours: what the locale rule gives without a site language
    /// ([`fallback_language`]); `None` means English.
    pub fn new(first: Ask, fallback: Option<Language>, now: Instant) -> Result<Model, crate::protocol::ParseError> {
        let mut model = Model {
            phase: Phase::Exiting,
            lang: Language::En,
            fallback,
        };
        model.ask(first, now)?;
        Ok(model)
    }

    /// The current phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The question being shown, if any.
    pub fn asking(&self) -> Option<&Asking> {
        match &self.phase {
            Phase::Asking(a) => Some(a),
            _ => None,
        }
    }

    /// The question being shown, mutably (for the view's focus bookkeeping).
    pub fn asking_mut(&mut self) -> Option<&mut Asking> {
        match &mut self.phase {
            Phase::Asking(a) => Some(a),
            _ => None,
        }
    }

    /// The language of the texts.
    pub fn lang(&self) -> Language {
        self.lang
    }

    /// The dialog is closing.
    pub fn is_exiting(&self) -> bool {
        matches!(self.phase, Phase::Exiting)
    }

    /// Typed text for the PIN field: digits are kept (up to `max`), the rest refused.
    pub fn type_text(&mut self, text: &str) {
        if let Phase::Asking(a) = &mut self.phase {
            if a.has_pin_field() {
                a.hint = a.pin.type_text(text);
            }
        }
    }

    /// Backspace in the PIN field.
    pub fn backspace(&mut self) {
        if let Phase::Asking(a) = &mut self.phase {
            if a.has_pin_field() {
                a.pin.backspace();
                a.hint = None;
            }
        }
    }

    fn ask(&mut self, request: Ask, now: Instant) -> Result<(), crate::protocol::ParseError> {
        let asker = crate::protocol::check(&request)?;
        self.lang = request
            .lang
            .as_deref()
            .and_then(Language::parse)
            .or(self.fallback)
            .unwrap_or(Language::En);
        let max = request.pin.as_ref().map_or(0, |p| usize::from(p.max));
        let charset = request.pin.as_ref().map_or(Charset::Digits, |p| p.charset);
        self.phase = Phase::Asking(Box::new(Asking {
            request,
            asker,
            pin: PinEntry::new(max, charset),
            hint: None,
            notice: None,
            shown_at: now,
            focus_pending: true,
        }));
        Ok(())
    }

    /// Answers the open question and moves to `Working`.
    fn answer(&mut self, response: Response) -> Vec<Effect> {
        let phase = std::mem::replace(&mut self.phase, Phase::Exiting);
        if let Phase::Asking(a) = phase {
            let Asking { request, asker, .. } = *a;
            self.phase = Phase::Working {
                purpose: request.purpose,
                request: Box::new(request),
                asker,
                status: None,
            };
        }
        vec![Effect::Answer(response)]
    }

    /// Applies an event; returns what the program must do, in order.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Effect> {
        if self.is_exiting() {
            return Vec::new();
        }
        match event {
            Event::Request(Request::Ask(request)) => {
                // Already checked by the reader; a request the dialog cannot show leaves the
                // dialog as it is.
                let _ignored = self.ask(*request, now);
                Vec::new()
            }
            Event::Request(Request::Status { message }) => {
                match &mut self.phase {
                    Phase::Asking(a) => a.notice = Some(message),
                    Phase::Working { status, .. } => *status = Some(message),
                    Phase::Exiting => {}
                }
                Vec::new()
            }
            Event::Request(Request::Close) | Event::InputClosed => {
                self.phase = Phase::Exiting;
                vec![Effect::Exit]
            }
            Event::Submit => {
                let Phase::Asking(a) = &mut self.phase else {
                    return Vec::new();
                };
                if !a.can_submit(now) {
                    return Vec::new();
                }
                let response = match a.request.purpose {
                    Purpose::Consent => Response::Confirmed,
                    Purpose::Authenticate | Purpose::Sign | Purpose::TlsLogin => Response::Pin(a.pin.take()),
                };
                self.answer(response)
            }
            Event::Cancel => match &self.phase {
                Phase::Asking(a) if a.has_buttons() => self.answer(Response::Cancelled),
                _ => Vec::new(),
            },
            Event::CloseRequested => match &self.phase {
                Phase::Asking(a) if !a.has_buttons() => vec![Effect::KeepOpen],
                Phase::Asking(_) => {
                    let mut effects = self.answer(Response::Cancelled);
                    self.phase = Phase::Exiting;
                    effects.push(Effect::Exit);
                    effects
                }
                _ => {
                    self.phase = Phase::Exiting;
                    vec![Effect::Exit]
                }
            },
        }
    }
}

/// The dialog's language when a request names none we speak: the same rule as the host's
/// (`eidlink-lang`) without its first step: the tray's setting, else the system locale, else
/// English. `setting` is config.toml's `language`.
pub fn fallback_language(setting: Option<&str>, env: &impl eidlink_lang::Environment) -> Language {
    eidlink_lang::resolve(None, setting, env)
}

/// Makes untrusted text safe to show on one line: drops control characters and the invisible
/// formatting characters that can reorder or hide text (bidi overrides, zero-width characters),
/// and shortens it to [`MAX_SHOWN_CHARS`].
pub fn display_text(s: &str) -> String {
    display_text_max(s, MAX_SHOWN_CHARS)
}

/// [`display_text`], shortened to `max` characters (an ellipsis last when cut).
pub fn display_text_max(s: &str, max: usize) -> String {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let clean: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|&c| !invisible(c))
        .collect();
    let clean = clean.trim();
    if clean.chars().count() > max {
        let mut short: String = clean.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    } else {
        clean.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, AskError};

    fn req(json: &str) -> Request {
        parse_request(json).unwrap()
    }

    fn ask_of(json: &str) -> Ask {
        match req(json) {
            Request::Ask(a) => *a,
            other => panic!("not an ask: {other:?}"),
        }
    }

    const AUTH: &str = r#"{"type":"ask","purpose":"authenticate","origin":"https://service.example.be","lang":"en","holder":"Alice Specimen","pin":{"label":"PIN","min":4,"max":6,"tries_left":3,"max_tries":3},"pinpad":false,"error":null}"#;
    const REASK: &str = r#"{"type":"ask","purpose":"authenticate","origin":"https://service.example.be","lang":"en","pin":{"label":"PIN","min":4,"max":6,"tries_left":2,"max_tries":3},"error":{"kind":"wrong_pin","tries_left":2}}"#;
    const CONSENT: &str = r#"{"type":"ask","purpose":"consent","origin":"https://service.example.be","lang":"nl","pin":null,"hash":null}"#;
    const PINPAD: &str = r#"{"type":"ask","purpose":"sign","origin":"https://service.example.be","hash":{"function":"SHA-256","fingerprint":"AB CD"},"pin":{"label":"PIN2","min":5,"max":12,"tries_left":3},"pinpad":true}"#;

    fn pin_of(effects: &[Effect]) -> String {
        match effects {
            [Effect::Answer(Response::Pin(p))] => p.as_str().to_owned(),
            other => panic!("expected one PIN answer, got {other:?}"),
        }
    }

    fn line_of(effect: &Effect) -> String {
        match effect {
            Effect::Answer(r) => String::from_utf8(r.to_line().to_vec()).unwrap(),
            other => panic!("not an answer: {other:?}"),
        }
    }

    #[test]
    fn ask_pin_wrong_pin_reask_then_close() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        let a = m.asking().unwrap();
        assert!(a.has_pin_field() && a.has_buttons());
        assert!(!a.can_submit(t0), "empty PIN");
        m.type_text("123");
        assert!(!m.asking().unwrap().can_submit(t0), "shorter than min");
        assert!(
            m.handle(Event::Submit, t0).is_empty(),
            "Enter with a short PIN does nothing"
        );
        m.type_text("4");
        assert!(m.asking().unwrap().can_submit(t0));
        let effects = m.handle(Event::Submit, t0);
        assert_eq!(pin_of(&effects), "1234");
        assert_eq!(line_of(&effects[0]), "{\"result\":\"pin\",\"pin\":\"1234\"}\n");
        assert!(matches!(
            m.phase(),
            Phase::Working {
                status: None,
                purpose: Purpose::Authenticate,
                ..
            }
        ));
        // Submit/Cancel/typing while working do nothing
        assert!(m.handle(Event::Submit, t0).is_empty());
        assert!(m.handle(Event::Cancel, t0).is_empty());
        m.type_text("9");
        // status while working
        assert!(m
            .handle(Event::Request(req(r#"{"type":"status","message":"working"}"#)), t0)
            .is_empty());
        assert!(matches!(
            m.phase(),
            Phase::Working {
                status: Some(Status::Working),
                ..
            }
        ));
        // wrong PIN: re-ask with an empty field and the error
        assert!(m.handle(Event::Request(req(REASK)), t0).is_empty());
        let a = m.asking_mut().unwrap();
        assert!(a.pin.is_empty(), "a new question starts with an empty field");
        assert_eq!(a.request.error, Some(AskError::WrongPin { tries_left: Some(2) }));
        assert_eq!(a.tries_left(), Some(2));
        assert!(!a.is_last_try());
        assert!(a.take_focus_request(), "the field is focused again");
        assert!(!a.take_focus_request());
        m.type_text("5678");
        assert_eq!(pin_of(&m.handle(Event::Submit, t0)), "5678");
        let effects = m.handle(Event::Request(Request::Close), t0);
        assert!(matches!(effects[..], [Effect::Exit]));
        assert!(m.is_exiting());
        // nothing happens after exit
        assert!(m.handle(Event::Submit, t0).is_empty());
        assert!(m.handle(Event::InputClosed, t0).is_empty());
    }

    #[test]
    fn end_of_input_exits_from_every_phase() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.type_text("1234");
        assert!(
            matches!(m.handle(Event::InputClosed, t0)[..], [Effect::Exit]),
            "asking: no answer, exit"
        );
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.handle(Event::Cancel, t0);
        assert!(
            matches!(m.handle(Event::InputClosed, t0)[..], [Effect::Exit]),
            "working: exit"
        );
    }

    #[test]
    fn cancel_answers_cancelled_and_waits() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.type_text("12");
        let effects = m.handle(Event::Cancel, t0);
        assert_eq!(effects.len(), 1);
        assert_eq!(line_of(&effects[0]), "{\"result\":\"cancelled\"}\n");
        assert!(matches!(m.phase(), Phase::Working { .. }));
    }

    #[test]
    fn closing_the_window() {
        let t0 = Instant::now();
        // while asking: cancelled, then exit
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        let effects = m.handle(Event::CloseRequested, t0);
        assert_eq!(effects.len(), 2);
        assert_eq!(line_of(&effects[0]), "{\"result\":\"cancelled\"}\n");
        assert!(matches!(effects[1], Effect::Exit));
        assert!(m.is_exiting());
        // while working: exit without an answer
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.handle(Event::Cancel, t0);
        assert!(matches!(m.handle(Event::CloseRequested, t0)[..], [Effect::Exit]));
        // PIN pad: refused, nothing answered
        let mut m = Model::new(ask_of(PINPAD), None, t0).unwrap();
        assert!(matches!(m.handle(Event::CloseRequested, t0)[..], [Effect::KeepOpen]));
        assert!(m.asking().is_some());
    }

    #[test]
    fn consent_is_armed_after_a_delay() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(CONSENT), Some(Language::Fr), t0).unwrap();
        assert_eq!(m.lang(), Language::Nl);
        let a = m.asking().unwrap();
        assert!(!a.has_pin_field() && a.has_buttons());
        assert!(!a.can_submit(t0));
        assert_eq!(a.arming_left(t0), Some(CONSENT_ARM_DELAY));
        assert!(
            m.handle(Event::Submit, t0).is_empty(),
            "too early: an Enter meant for the page"
        );
        m.type_text("1234"); // no field: ignored
        let later = t0 + CONSENT_ARM_DELAY;
        assert_eq!(m.asking().unwrap().arming_left(later), None);
        let effects = m.handle(Event::Submit, later);
        assert_eq!(line_of(&effects[0]), "{\"result\":\"confirmed\"}\n");
        assert!(matches!(
            m.phase(),
            Phase::Working {
                purpose: Purpose::Consent,
                ..
            }
        ));
    }

    #[test]
    fn consent_cancel() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(CONSENT), None, t0).unwrap();
        let effects = m.handle(Event::Cancel, t0);
        assert_eq!(line_of(&effects[0]), "{\"result\":\"cancelled\"}\n");
    }

    #[test]
    fn pinpad_answers_nothing_until_close() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(PINPAD), None, t0).unwrap();
        let a = m.asking().unwrap();
        assert!(!a.has_pin_field() && !a.has_buttons());
        m.type_text("12345");
        assert!(m.asking().unwrap().pin.is_empty());
        assert!(m.handle(Event::Submit, t0).is_empty());
        assert!(m.handle(Event::Cancel, t0).is_empty());
        assert!(m
            .handle(Event::Request(req(r#"{"type":"status","message":"card_removed"}"#)), t0)
            .is_empty());
        assert_eq!(m.asking().unwrap().notice, Some(Status::CardRemoved));
        assert!(matches!(
            m.handle(Event::Request(Request::Close), t0)[..],
            [Effect::Exit]
        ));
    }

    #[test]
    fn a_wait_has_no_pin_field_only_cancel_and_the_pin_ask_replaces_it() {
        const WAIT: &str = r#"{"type":"ask","purpose":"sign","origin":"https://service.example.be","hash":{"function":"SHA-256","fingerprint":"AB CD"},"wait":"insert_card"}"#;
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(WAIT), None, t0).unwrap();
        let a = m.asking().unwrap();
        assert_eq!(a.waiting(), Some(Wait::InsertCard));
        assert!(!a.has_pin_field() && a.has_buttons() && !a.can_submit(t0));
        m.type_text("1234");
        assert!(m.asking().unwrap().pin.is_empty(), "nothing is typed while waiting");
        assert!(m.handle(Event::Submit, t0).is_empty());
        // The card came: the host sends the PIN ask, which replaces the wait.
        m.handle(Event::Request(Request::Ask(Box::new(ask_of(AUTH)))), t0);
        assert!(m.asking().unwrap().has_pin_field());
        // Cancelling a wait answers `cancelled`.
        let mut m = Model::new(ask_of(WAIT), None, t0).unwrap();
        let effects = m.handle(Event::Cancel, t0);
        assert_eq!(line_of(&effects[0]), "{\"result\":\"cancelled\"}\n");
    }

    #[test]
    fn digit_filtering_and_max_length() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap(); // max 6
        m.type_text("1a2");
        let a = m.asking().unwrap();
        assert_eq!(a.pin.len(), 2);
        assert_eq!(a.hint, Some(InputHint::DigitsOnly));
        m.type_text("3");
        assert_eq!(
            m.asking().unwrap().hint,
            None,
            "the hint goes away on the next good key"
        );
        for refused in [" ", "-", "+", "٣", "３", "²", "e", "\u{1F600}"] {
            m.type_text(refused);
            assert_eq!(m.asking().unwrap().hint, Some(InputHint::DigitsOnly), "{refused:?}");
        }
        m.type_text("456");
        assert_eq!(m.asking().unwrap().pin.len(), 6);
        m.type_text("7");
        let a = m.asking().unwrap();
        assert_eq!(a.pin.len(), 6);
        assert_eq!(a.hint, Some(InputHint::MaxDigits));
        m.backspace();
        assert_eq!(m.asking().unwrap().hint, None);
        m.backspace();
        m.type_text("9");
        assert_eq!(pin_of(&m.handle(Event::Submit, t0)), "12349");
    }

    #[test]
    fn pin_entry_edges() {
        let mut p = PinEntry::new(4, Charset::Digits);
        p.backspace();
        assert!(p.is_empty());
        assert_eq!(p.type_text("123456"), Some(InputHint::MaxDigits));
        assert_eq!(p.len(), 4);
        assert_eq!(format!("{p:?}"), "PinEntry { len: 4, max: 4 }");
        p.clear();
        assert!(p.is_empty());
        assert_eq!(p.type_text(""), None);
    }

    #[test]
    fn an_ask_with_charset_any_takes_letters() {
        let t0 = Instant::now();
        let any = AUTH.replace(r#""max_tries":3}"#, r#""max_tries":3,"charset":"any"}"#);
        let mut m = Model::new(ask_of(&any), None, t0).unwrap();
        m.type_text("pa5s");
        assert_eq!(m.asking().unwrap().hint, None);
        assert_eq!(pin_of(&m.handle(Event::Submit, t0)), "pa5s");
        // The same letters in a digits-only PIN are refused.
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.type_text("pa5s");
        assert_eq!(m.asking().unwrap().hint, Some(InputHint::DigitsOnly));
        assert_eq!(m.asking().unwrap().pin.len(), 1);
    }

    #[test]
    fn a_pin_of_any_characters_counts_characters_and_refuses_controls() {
        let mut p = PinEntry::new(6, Charset::Any);
        assert_eq!(p.type_text("aB#é"), None);
        assert_eq!(p.len(), 4);
        assert_eq!(p.type_text("\n\t"), Some(InputHint::NotPrintable));
        assert_eq!(p.len(), 4);
        // é is two bytes: backspace takes the whole character.
        p.backspace();
        assert_eq!(p.type_text("€9xy"), Some(InputHint::MaxDigits));
        assert_eq!(&*p.take(), "aB#€9x");
        assert!(p.is_empty());
    }

    #[test]
    fn debug_output_never_contains_the_pin() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.type_text("918273");
        let shown = format!("{m:?} {m:#?}");
        assert!(!shown.contains("918273"), "{shown}");
        let effects = m.handle(Event::Submit, t0);
        let shown = format!("{effects:?}");
        assert!(!shown.contains("918273"), "{shown}");
    }

    #[test]
    fn tries_left_and_warnings() {
        let t0 = Instant::now();
        let with = |pin_tries: &str, error: &str| {
            let json = format!(
                r#"{{"type":"ask","purpose":"sign","origin":"https://a.be","hash":{{"function":"SHA-256","fingerprint":"00"}},"pin":{{"min":4,"max":12,"tries_left":{pin_tries}}},"error":{error}}}"#
            );
            Model::new(ask_of(&json), None, t0).unwrap()
        };
        let m = with("3", "null");
        let a = m.asking().unwrap();
        assert_eq!(
            (a.tries_left(), a.is_last_try(), a.is_blocked()),
            (Some(3), false, false)
        );
        let m = with("1", "null");
        assert!(m.asking().unwrap().is_last_try());
        let m = with("null", "null");
        let a = m.asking().unwrap();
        assert_eq!((a.tries_left(), a.is_last_try()), (None, false));
        // the wrong-PIN error supplies the count when the rules do not
        let m = with("null", r#"{"kind":"wrong_pin","tries_left":1}"#);
        assert!(m.asking().unwrap().is_last_try());
        let mut m = with("0", "null");
        assert!(m.asking().unwrap().is_blocked());
        m.type_text("1234");
        assert!(m.handle(Event::Submit, t0).is_empty(), "a blocked PIN is not submitted");
        // consent never warns
        let m = Model::new(ask_of(CONSENT), None, t0).unwrap();
        assert!(!m.asking().unwrap().is_last_try());
    }

    #[test]
    fn status_while_asking_is_a_notice() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), None, t0).unwrap();
        m.type_text("12");
        m.handle(Event::Request(req(r#"{"type":"status","message":"insert_card"}"#)), t0);
        let a = m.asking().unwrap();
        assert_eq!(a.notice, Some(Status::InsertCard));
        assert_eq!(a.pin.len(), 2, "the PIN typed so far stays");
    }

    #[test]
    fn language_follows_each_request() {
        let t0 = Instant::now();
        let mut m = Model::new(ask_of(AUTH), Some(Language::De), t0).unwrap();
        assert_eq!(m.lang(), Language::En);
        m.handle(
            Event::Request(req(&AUTH.replace(r#""lang":"en""#, r#""lang":"xx""#))),
            t0,
        );
        assert_eq!(m.lang(), Language::De, "unknown lang: system locale");
        let mut m = Model::new(ask_of(&AUTH.replace(r#""lang":"en","#, "")), None, t0).unwrap();
        assert_eq!(m.lang(), Language::En, "no lang, no system locale: English");
        m.handle(Event::Request(req(CONSENT)), t0);
        assert_eq!(m.lang(), Language::Nl);
    }

    #[test]
    fn without_a_known_lang_the_dialog_applies_the_hosts_rule() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        // the tray's setting, else the system locale, else English
        assert_eq!(
            fallback_language(Some("de"), &env(&[("LANG", "nl_BE.UTF-8")])),
            Language::De
        );
        assert_eq!(
            fallback_language(Some("xx"), &env(&[("LANG", "nl_BE.UTF-8")])),
            Language::Nl
        );
        assert_eq!(fallback_language(None, &env(&[("LANGUAGE", "fr:nl")])), Language::Fr);
        assert_eq!(fallback_language(None, &env(&[("LANG", "C")])), Language::En);
        let t0 = Instant::now();
        let tray = fallback_language(Some("nl"), &env(&[("LANG", "de_DE")]));
        let no_lang = AUTH.replace(r#""lang":"en","#, "");
        let m = Model::new(ask_of(&no_lang), Some(tray), t0).unwrap();
        assert_eq!(m.lang(), Language::Nl);
        // An unknown site language falls back to the tray's; a known one still comes first.
        for (site, want) in [("es-ES", Language::Nl), ("fr-BE", Language::Fr)] {
            let ask = AUTH.replace(r#""lang":"en""#, &format!(r#""lang":"{site}""#));
            let m = Model::new(ask_of(&ask), Some(tray), t0).unwrap();
            assert_eq!(m.lang(), want, "site lang {site}");
        }
    }

    #[test]
    fn display_text_strips_tricks() {
        assert_eq!(display_text("Alice\u{202E}nepS\u{202C} Specimen"), "AlicenepS Specimen");
        assert_eq!(display_text(" line1\nline2\t\u{7}x "), "line1 line2 x");
        assert_eq!(display_text("a\u{200B}b\u{FEFF}c\u{2066}d"), "abcd");
        let long = "x".repeat(500);
        let shown = display_text(&long);
        assert_eq!(shown.chars().count(), MAX_SHOWN_CHARS);
        assert!(shown.ends_with('…'));
        assert_eq!(display_text("Émile Müller-Lüdenscheidt"), "Émile Müller-Lüdenscheidt");
    }
}
