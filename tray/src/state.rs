//! What the tray shows, as plain data: the service, the readers, the card in each, and the one
//! overall status with the one thing to do. [`AppState::apply`] is a pure reducer: events in
//! (from the monitor and the card reader), state and [`Effect`]s (card reads to start) out, so the
//! window only draws and every rule here is unit-tested without a card or a display.
//!
//! Time is a parameter (`now`, seconds since the Unix epoch) wherever validity matters, so tests
//! can put the clock anywhere.

use std::fmt;

use eidlink_core::{Atr, PinInfo};
use eidlink_pcsc::monitor::MonitorEvent;

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// Certificates expiring within this many days get a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 90;

const DAY: i64 = 86_400;

/// The smart-card service as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Service {
    /// Not heard of yet (the monitor is starting).
    #[default]
    Unknown,
    /// Running.
    Up,
    /// Not running.
    Down,
}

/// Which certificate or PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Authentication (log in).
    Authentication,
    /// Signing.
    Signing,
}

/// A certificate's validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertValidity {
    /// Start of validity.
    pub not_before: UnixTime,
    /// End of validity.
    pub not_after: UnixTime,
}

/// Where a certificate stands at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Before its start date (a wrong clock, usually).
    NotYetValid,
    /// Valid for more than [`EXPIRY_WARNING_DAYS`].
    Valid,
    /// Valid, but ends within [`EXPIRY_WARNING_DAYS`]; `days` left, rounded down.
    ExpiresSoon {
        /// Whole days left.
        days: i64,
    },
    /// Ended.
    Expired,
}

impl CertValidity {
    /// The status at `now`.
    pub fn status(&self, now: UnixTime) -> CertStatus {
        if now < self.not_before {
            CertStatus::NotYetValid
        } else if now > self.not_after {
            CertStatus::Expired
        } else if self.not_after - now <= EXPIRY_WARNING_DAYS * DAY {
            CertStatus::ExpiresSoon {
                days: (self.not_after - now) / DAY,
            }
        } else {
            CertStatus::Valid
        }
    }
}

/// What the tray shows of a card it could read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSummary {
    /// The card type ("Belgian eID (applet 1.8)"), or a PKCS#11 token's label.
    pub card_name: String,
    /// The PKCS#11 module the token is reached through, if not one of our drivers.
    pub module: Option<String>,
    /// The applet or card version, as the card reports it.
    pub applet: Option<String>,
    /// The holder's name, from the certificates.
    pub holder: Option<String>,
    /// The national number (Belgium) or personal code, from the certificates' serialNumber.
    pub national_number: Option<String>,
    /// The authentication certificate's validity, when it could be read.
    pub authentication: Option<CertValidity>,
    /// The signing certificate's validity, when it could be read.
    pub signing: Option<CertValidity>,
    /// The authentication PIN (the only PIN of cards with one).
    pub auth_pin: Option<PinInfo>,
    /// The signing PIN, on cards that have a second one.
    pub sign_pin: Option<PinInfo>,
}

/// Something the user should know, without anything being wrong yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// A certificate ends within [`EXPIRY_WARNING_DAYS`].
    ExpiresSoon {
        /// Which.
        role: Role,
        /// Whole days left.
        days: i64,
    },
    /// A PIN has had wrong tries: one more mistake counts.
    PinTriesLeft {
        /// Which.
        role: Role,
        /// Tries left.
        left: u8,
    },
}

/// The one thing the user should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The smart-card service is not running.
    StartService,
    /// No reader is connected.
    ConnectReader,
    /// No card in any reader.
    InsertCard,
    /// The card does not answer: take it out and put it back (chip first, facing up).
    ReinsertCard,
    /// No driver knows this card.
    UnsupportedCard,
    /// Another application holds the card exclusively.
    CloseOtherApplication,
    /// A PIN is blocked.
    PinBlocked(Role),
    /// A certificate has expired: the card must be renewed.
    CertificateExpired(Role),
    /// A certificate is not valid yet: usually the computer's clock is wrong.
    CheckClock,
    /// The card could not be read for another reason (the text says why).
    ReadFailed(String),
}

impl fmt::Display for Action {
    // English; the window translates by variant.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StartService if cfg!(windows) => {
                f.write_str("Connect your card reader: Windows then starts the smart-card service")
            }
            Self::StartService => f.write_str("Start the smart-card service (pcscd)"),
            Self::ConnectReader => f.write_str("Connect a card reader"),
            Self::InsertCard => f.write_str("Insert your card"),
            Self::ReinsertCard => f.write_str("Your card does not respond: take it out and insert it again"),
            Self::UnsupportedCard => f.write_str("This card is not supported"),
            Self::CloseOtherApplication => f.write_str("Another application is using the card: close it"),
            Self::PinBlocked(Role::Authentication) => {
                f.write_str("Your PIN is blocked: unblock it with your PUK code, or at your municipality")
            }
            Self::PinBlocked(Role::Signing) => {
                f.write_str("Your signing PIN is blocked: unblock it with your PUK code, or at your municipality")
            }
            Self::CertificateExpired(_) => f.write_str("Your card's certificates have expired: renew your card"),
            Self::CheckClock => f.write_str("Your card is not valid yet: check the computer's date and time"),
            Self::ReadFailed(why) => write!(f, "The card could not be read: {why}"),
        }
    }
}

impl CardSummary {
    fn certs(&self) -> impl Iterator<Item = (Role, &CertValidity)> {
        [
            (Role::Authentication, &self.authentication),
            (Role::Signing, &self.signing),
        ]
        .into_iter()
        .filter_map(|(r, c)| c.as_ref().map(|c| (r, c)))
    }

    fn pins(&self) -> impl Iterator<Item = (Role, &PinInfo)> {
        [(Role::Authentication, &self.auth_pin), (Role::Signing, &self.sign_pin)]
            .into_iter()
            .filter_map(|(r, p)| p.as_ref().map(|p| (r, p)))
    }

    /// What prevents using the card at `now`, most important first: a blocked PIN (fix it first:
    /// a renewed card needs it too), an expired certificate, a certificate not yet valid.
    pub fn problem(&self, now: UnixTime) -> Option<Action> {
        if let Some((role, _)) = self.pins().find(|(_, p)| p.is_blocked()) {
            return Some(Action::PinBlocked(role));
        }
        let statuses: Vec<(Role, CertStatus)> = self.certs().map(|(r, c)| (r, c.status(now))).collect();
        if let Some((role, _)) = statuses.iter().find(|(_, s)| *s == CertStatus::Expired) {
            return Some(Action::CertificateExpired(*role));
        }
        if statuses.iter().any(|(_, s)| *s == CertStatus::NotYetValid) {
            return Some(Action::CheckClock);
        }
        None
    }

    /// Warnings at `now`.
    pub fn warnings(&self, now: UnixTime) -> Vec<Warning> {
        let mut out: Vec<Warning> = self
            .certs()
            .filter_map(|(role, c)| match c.status(now) {
                CertStatus::ExpiresSoon { days } => Some(Warning::ExpiresSoon { role, days }),
                _ => None,
            })
            .collect();
        out.extend(self.pins().filter_map(|(role, p)| match p.tries_left {
            Some(left) if left > 0 && p.max_tries.is_none_or(|max| left < max) => {
                Some(Warning::PinTriesLeft { role, left })
            }
            _ => None,
        }));
        out
    }
}

/// Why a card could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProblem {
    /// Another application holds it exclusively.
    InUse,
    /// It does not answer.
    Unresponsive,
    /// Anything else, as text (the card left, the service went away: events follow).
    Other(String),
}

/// What reading a card gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOutcome {
    /// Read.
    Read(Box<CardSummary>),
    /// No driver for its ATR.
    Unsupported,
    /// Could not be read.
    Failed(ReadProblem),
}

/// The card slot of a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardSlot {
    /// No card.
    Empty,
    /// A card that does not answer.
    Mute,
    /// A card being read.
    Reading {
        /// Its ATR.
        atr: Atr,
    },
    /// A card read.
    Read {
        /// Its ATR.
        atr: Atr,
        /// What was read.
        summary: Box<CardSummary>,
    },
    /// A card no driver knows.
    Unsupported {
        /// Its ATR (support wants it).
        atr: Atr,
    },
    /// A card that could not be read.
    Failed {
        /// Its ATR.
        atr: Atr,
        /// Why.
        problem: ReadProblem,
    },
}

/// A reader and its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderState {
    /// Reader name.
    pub name: String,
    /// The card in it.
    pub card: CardSlot,
    /// Identifies the current insertion, so a read that finishes after its card left (or after
    /// another card came) is ignored.
    insertion: u64,
}

/// Where one reader stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderStatus {
    /// No card.
    Empty,
    /// Reading the card.
    Reading,
    /// The card is ready to use (warnings may apply).
    Ready,
    /// Something to do.
    Problem(Action),
}

impl ReaderState {
    /// The reader's status at `now`.
    pub fn status(&self, now: UnixTime) -> ReaderStatus {
        match &self.card {
            CardSlot::Empty => ReaderStatus::Empty,
            CardSlot::Reading { .. } => ReaderStatus::Reading,
            CardSlot::Mute => ReaderStatus::Problem(Action::ReinsertCard),
            CardSlot::Unsupported { .. } => ReaderStatus::Problem(Action::UnsupportedCard),
            CardSlot::Failed { problem, .. } => ReaderStatus::Problem(match problem {
                ReadProblem::InUse => Action::CloseOtherApplication,
                ReadProblem::Unresponsive => Action::ReinsertCard,
                ReadProblem::Other(why) => Action::ReadFailed(why.clone()),
            }),
            CardSlot::Read { summary, .. } => match summary.problem(now) {
                Some(a) => ReaderStatus::Problem(a),
                None => ReaderStatus::Ready,
            },
        }
    }

    /// The card read in this reader, if any.
    pub fn summary(&self) -> Option<&CardSummary> {
        match &self.card {
            CardSlot::Read { summary, .. } => Some(summary),
            _ => None,
        }
    }
}

/// The tray's overall status: what its icon and the window's headline say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overall {
    /// Not known yet (starting).
    Starting,
    /// The smart-card service is not running.
    NoService,
    /// No reader.
    NoReader,
    /// Readers, but no card.
    NoCard,
    /// A card is being read.
    Reading,
    /// A card is ready to use.
    Ready,
    /// Something is wrong; the one thing to do.
    Problem(Action),
}

impl Overall {
    /// The one thing to do, for the states that need the user.
    pub fn action(&self) -> Option<Action> {
        match self {
            Self::NoService => Some(Action::StartService),
            Self::NoReader => Some(Action::ConnectReader),
            Self::NoCard => Some(Action::InsertCard),
            Self::Problem(a) => Some(a.clone()),
            Self::Starting | Self::Reading | Self::Ready => None,
        }
    }
}

/// Inputs of the reducer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// From the reader monitor.
    Monitor(MonitorEvent),
    /// A card read finished.
    CardRead {
        /// The reader.
        reader: String,
        /// The insertion the read was for (from [`Effect::ReadCard`]).
        insertion: u64,
        /// What it gave.
        outcome: CardOutcome,
    },
    /// The user asked to read a reader's card again (PIN tries may have changed elsewhere).
    Refresh {
        /// The reader.
        reader: String,
    },
}

/// What the reducer asks its runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read the card in `reader` (off the UI thread) and answer with [`Event::CardRead`].
    ReadCard {
        /// The reader.
        reader: String,
        /// To hand back in [`Event::CardRead`].
        insertion: u64,
    },
}

/// Everything the tray knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppState {
    /// The service.
    pub service: Service,
    /// The readers, in the order they appeared.
    pub readers: Vec<ReaderState>,
    next_insertion: u64,
}

impl AppState {
    /// A state before any event.
    pub fn new() -> Self {
        Self::default()
    }

    fn reader_mut(&mut self, name: &str) -> Option<&mut ReaderState> {
        self.readers.iter_mut().find(|r| r.name == name)
    }

    /// A reader by name.
    pub fn reader(&self, name: &str) -> Option<&ReaderState> {
        self.readers.iter().find(|r| r.name == name)
    }

    fn ensure_reader(&mut self, name: &str) -> &mut ReaderState {
        if let Some(i) = self.readers.iter().position(|r| r.name == name) {
            return &mut self.readers[i];
        }
        self.readers.push(ReaderState {
            name: name.to_owned(),
            card: CardSlot::Empty,
            insertion: 0,
        });
        let last = self.readers.len() - 1;
        &mut self.readers[last]
    }

    /// Starts reading the card in `reader` as a new insertion.
    fn start_read(&mut self, reader: &str, atr: Atr) -> Effect {
        self.next_insertion += 1;
        let insertion = self.next_insertion;
        let r = self.ensure_reader(reader);
        r.card = CardSlot::Reading { atr };
        r.insertion = insertion;
        Effect::ReadCard {
            reader: reader.to_owned(),
            insertion,
        }
    }

    /// Applies one event; returns what to do next.
    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Monitor(m) => self.apply_monitor(m),
            Event::CardRead {
                reader,
                insertion,
                outcome,
            } => {
                let Some(r) = self.reader_mut(&reader) else {
                    return Vec::new();
                };
                // Only the read of the card still in the reader counts.
                let CardSlot::Reading { atr } = &r.card else {
                    return Vec::new();
                };
                if r.insertion != insertion {
                    return Vec::new();
                }
                let atr = atr.clone();
                r.card = match outcome {
                    CardOutcome::Read(summary) => CardSlot::Read { atr, summary },
                    CardOutcome::Unsupported => CardSlot::Unsupported { atr },
                    CardOutcome::Failed(problem) => CardSlot::Failed { atr, problem },
                };
                Vec::new()
            }
            Event::Refresh { reader } => {
                let atr = match self.reader(&reader).map(|r| &r.card) {
                    Some(CardSlot::Read { atr, .. } | CardSlot::Failed { atr, .. } | CardSlot::Unsupported { atr }) => {
                        atr.clone()
                    }
                    // Nothing to read, or a read already running.
                    _ => return Vec::new(),
                };
                vec![self.start_read(&reader, atr)]
            }
        }
    }

    fn apply_monitor(&mut self, event: MonitorEvent) -> Vec<Effect> {
        match event {
            MonitorEvent::ServiceUp => {
                self.service = Service::Up;
                Vec::new()
            }
            MonitorEvent::ServiceDown => {
                self.service = Service::Down;
                // The readers went with the service; the monitor announces them again when it is back.
                self.readers.clear();
                Vec::new()
            }
            MonitorEvent::ReaderAdded { reader } => {
                self.ensure_reader(&reader);
                Vec::new()
            }
            MonitorEvent::ReaderRemoved { reader } => {
                self.readers.retain(|r| r.name != reader);
                Vec::new()
            }
            MonitorEvent::CardInserted { reader, atr } => vec![self.start_read(&reader, atr)],
            MonitorEvent::CardMute { reader } => {
                self.ensure_reader(&reader).card = CardSlot::Mute;
                Vec::new()
            }
            MonitorEvent::CardRemoved { reader } => {
                if let Some(r) = self.reader_mut(&reader) {
                    r.card = CardSlot::Empty;
                }
                Vec::new()
            }
        }
    }

    /// The overall status at `now`: ready if any card is; else reading if a card is being read;
    /// else the first reader's problem; else what is missing.
    pub fn overall(&self, now: UnixTime) -> Overall {
        match self.service {
            Service::Unknown => return Overall::Starting,
            Service::Down => return Overall::NoService,
            Service::Up => {}
        }
        if self.readers.is_empty() {
            return Overall::NoReader;
        }
        let statuses: Vec<ReaderStatus> = self.readers.iter().map(|r| r.status(now)).collect();
        if statuses.contains(&ReaderStatus::Ready) {
            return Overall::Ready;
        }
        if statuses.contains(&ReaderStatus::Reading) {
            return Overall::Reading;
        }
        statuses
            .into_iter()
            .find_map(|s| match s {
                ReaderStatus::Problem(a) => Some(Overall::Problem(a)),
                _ => None,
            })
            .unwrap_or(Overall::NoCard)
    }

    /// The warnings of the ready cards at `now`, with their reader.
    pub fn warnings(&self, now: UnixTime) -> Vec<(&str, Warning)> {
        self.readers
            .iter()
            .filter(|r| r.status(now) == ReaderStatus::Ready)
            .filter_map(|r| r.summary().map(|s| (r, s)))
            .flat_map(|(r, s)| s.warnings(now).into_iter().map(move |w| (r.name.as_str(), w)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "Reader One";
    const R2: &str = "Reader Two";
    /// 2026-01-01T00:00:00Z.
    const NOW: UnixTime = 1_767_225_600;

    fn m(e: MonitorEvent) -> Event {
        Event::Monitor(e)
    }

    fn inserted(reader: &str) -> Event {
        m(MonitorEvent::CardInserted {
            reader: reader.into(),
            atr: Atr(vec![0x3B, 0x98]),
        })
    }

    fn pin(left: u8) -> Option<PinInfo> {
        Some(PinInfo::counted(left, 3))
    }

    fn summary(not_after: UnixTime) -> CardSummary {
        CardSummary {
            card_name: "Belgian eID (applet 1.8)".into(),
            module: None,
            applet: Some("applet 1.8".into()),
            holder: Some("Alice Test".into()),
            national_number: Some("71715100070".into()),
            authentication: Some(CertValidity {
                not_before: NOW - 365 * DAY,
                not_after,
            }),
            signing: Some(CertValidity {
                not_before: NOW - 365 * DAY,
                not_after,
            }),
            auth_pin: pin(3),
            sign_pin: None,
        }
    }

    /// A state with the service up, one reader, and the card in it read as `outcome`.
    fn with_card(outcome: CardOutcome) -> AppState {
        let mut s = AppState::new();
        s.apply(m(MonitorEvent::ServiceUp));
        s.apply(m(MonitorEvent::ReaderAdded { reader: R1.into() }));
        let effects = s.apply(inserted(R1));
        let [Effect::ReadCard { insertion, .. }] = effects.as_slice() else {
            panic!("one read expected: {effects:?}")
        };
        s.apply(Event::CardRead {
            reader: R1.into(),
            insertion: *insertion,
            outcome,
        });
        s
    }

    #[test]
    fn from_starting_to_ready() {
        let mut s = AppState::new();
        assert_eq!(s.overall(NOW), Overall::Starting);
        s.apply(m(MonitorEvent::ServiceDown));
        assert_eq!(s.overall(NOW), Overall::NoService);
        assert_eq!(s.overall(NOW).action(), Some(Action::StartService));
        s.apply(m(MonitorEvent::ServiceUp));
        assert_eq!(s.overall(NOW), Overall::NoReader);
        s.apply(m(MonitorEvent::ReaderAdded { reader: R1.into() }));
        assert_eq!(s.overall(NOW), Overall::NoCard);
        assert_eq!(s.overall(NOW).action(), Some(Action::InsertCard));
        let effects = s.apply(inserted(R1));
        assert_eq!(
            effects,
            vec![Effect::ReadCard {
                reader: R1.into(),
                insertion: 1
            }]
        );
        assert_eq!(s.overall(NOW), Overall::Reading);
        s.apply(Event::CardRead {
            reader: R1.into(),
            insertion: 1,
            outcome: CardOutcome::Read(Box::new(summary(NOW + 1000 * DAY))),
        });
        assert_eq!(s.overall(NOW), Overall::Ready);
        assert_eq!(s.overall(NOW).action(), None);
        assert!(s.warnings(NOW).is_empty());
        assert_eq!(
            s.reader(R1)
                .and_then(|r| r.summary())
                .and_then(|c| c.holder.clone())
                .as_deref(),
            Some("Alice Test")
        );

        s.apply(m(MonitorEvent::CardRemoved { reader: R1.into() }));
        assert_eq!(s.overall(NOW), Overall::NoCard);
        s.apply(m(MonitorEvent::ReaderRemoved { reader: R1.into() }));
        assert_eq!(s.overall(NOW), Overall::NoReader);
    }

    #[test]
    fn service_down_forgets_the_readers() {
        let mut s = with_card(CardOutcome::Read(Box::new(summary(NOW + 1000 * DAY))));
        s.apply(m(MonitorEvent::ServiceDown));
        assert!(s.readers.is_empty());
        assert_eq!(s.overall(NOW), Overall::NoService);
        s.apply(m(MonitorEvent::ServiceUp));
        assert_eq!(s.overall(NOW), Overall::NoReader);
    }

    #[test]
    fn a_late_read_of_a_card_that_left_is_ignored() {
        let mut s = AppState::new();
        s.apply(m(MonitorEvent::ServiceUp));
        let first = s.apply(inserted(R1));
        s.apply(m(MonitorEvent::CardRemoved { reader: R1.into() }));
        let second = s.apply(inserted(R1));
        assert_ne!(first, second);
        // The first card's read ends now: it is not the card in the reader.
        s.apply(Event::CardRead {
            reader: R1.into(),
            insertion: 1,
            outcome: CardOutcome::Unsupported,
        });
        assert_eq!(s.overall(NOW), Overall::Reading);
        // After removal, a read result changes nothing either.
        s.apply(m(MonitorEvent::CardRemoved { reader: R1.into() }));
        s.apply(Event::CardRead {
            reader: R1.into(),
            insertion: 2,
            outcome: CardOutcome::Unsupported,
        });
        assert_eq!(s.reader(R1).map(|r| &r.card), Some(&CardSlot::Empty));
    }

    #[test]
    fn expiry_warning_starts_90_days_before() {
        let not_after = NOW + 90 * DAY;
        let s = with_card(CardOutcome::Read(Box::new(summary(not_after))));
        // 91 days before: nothing.
        assert!(s.warnings(NOW - DAY).is_empty());
        // 90 days before: warned, still ready.
        assert_eq!(s.overall(NOW), Overall::Ready);
        let w = s.warnings(NOW);
        assert_eq!(
            w,
            vec![
                (
                    R1,
                    Warning::ExpiresSoon {
                        role: Role::Authentication,
                        days: 90
                    }
                ),
                (
                    R1,
                    Warning::ExpiresSoon {
                        role: Role::Signing,
                        days: 90
                    }
                )
            ]
        );
        // Last second of validity: 0 days, still ready.
        assert_eq!(s.overall(not_after), Overall::Ready);
        // Past it: expired, the one thing to do is renewing the card.
        assert_eq!(
            s.overall(not_after + 1),
            Overall::Problem(Action::CertificateExpired(Role::Authentication))
        );
        assert!(s.warnings(not_after + 1).is_empty());
    }

    #[test]
    fn certificate_not_yet_valid_means_check_the_clock() {
        let s = with_card(CardOutcome::Read(Box::new(summary(NOW + 1000 * DAY))));
        assert_eq!(s.overall(NOW - 366 * DAY), Overall::Problem(Action::CheckClock));
    }

    #[test]
    fn pin_blocked_and_tries_left() {
        let blocked = CardSummary {
            auth_pin: pin(0),
            ..summary(NOW + 1000 * DAY)
        };
        let s = with_card(CardOutcome::Read(Box::new(blocked)));
        let overall = s.overall(NOW);
        assert_eq!(overall, Overall::Problem(Action::PinBlocked(Role::Authentication)));
        assert!(overall
            .action()
            .is_some_and(|a| a.to_string().starts_with("Your PIN is blocked")));

        // A blocked PIN comes before an expired certificate: a new card needs the PIN too.
        let both = CardSummary {
            sign_pin: pin(0),
            ..summary(NOW - DAY)
        };
        let s = with_card(CardOutcome::Read(Box::new(both)));
        assert_eq!(s.overall(NOW), Overall::Problem(Action::PinBlocked(Role::Signing)));

        let one_wrong = CardSummary {
            auth_pin: pin(2),
            ..summary(NOW + 1000 * DAY)
        };
        let s = with_card(CardOutcome::Read(Box::new(one_wrong)));
        assert_eq!(s.overall(NOW), Overall::Ready);
        assert_eq!(
            s.warnings(NOW),
            vec![(
                R1,
                Warning::PinTriesLeft {
                    role: Role::Authentication,
                    left: 2
                }
            )]
        );
    }

    #[test]
    fn unsupported_mute_and_unreadable_cards() {
        let s = with_card(CardOutcome::Unsupported);
        assert_eq!(s.overall(NOW), Overall::Problem(Action::UnsupportedCard));
        assert_eq!(
            s.overall(NOW).action().map(|a| a.to_string()).as_deref(),
            Some("This card is not supported")
        );
        let s = with_card(CardOutcome::Failed(ReadProblem::InUse));
        assert_eq!(s.overall(NOW), Overall::Problem(Action::CloseOtherApplication));

        let mut s = AppState::new();
        s.apply(m(MonitorEvent::ServiceUp));
        s.apply(m(MonitorEvent::ReaderAdded { reader: R1.into() }));
        s.apply(m(MonitorEvent::CardMute { reader: R1.into() }));
        assert_eq!(s.overall(NOW), Overall::Problem(Action::ReinsertCard));
    }

    #[test]
    fn a_ready_card_wins_over_another_readers_problem() {
        let mut s = with_card(CardOutcome::Unsupported);
        s.apply(m(MonitorEvent::ReaderAdded { reader: R2.into() }));
        let effects = s.apply(inserted(R2));
        assert_eq!(s.overall(NOW), Overall::Reading);
        let [Effect::ReadCard { insertion, .. }] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        s.apply(Event::CardRead {
            reader: R2.into(),
            insertion: *insertion,
            outcome: CardOutcome::Read(Box::new(summary(NOW + 1000 * DAY))),
        });
        assert_eq!(s.overall(NOW), Overall::Ready);
        assert_eq!(
            s.readers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            vec![R1, R2]
        );
    }

    #[test]
    fn refresh_reads_again() {
        let mut s = with_card(CardOutcome::Failed(ReadProblem::Unresponsive));
        let effects = s.apply(Event::Refresh { reader: R1.into() });
        assert_eq!(
            effects,
            vec![Effect::ReadCard {
                reader: R1.into(),
                insertion: 2
            }]
        );
        assert_eq!(s.overall(NOW), Overall::Reading);
        // While reading, or with no card, there is nothing to refresh.
        assert!(s.apply(Event::Refresh { reader: R1.into() }).is_empty());
        assert!(s.apply(Event::Refresh { reader: R2.into() }).is_empty());
    }
}
