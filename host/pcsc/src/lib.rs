#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod monitor;

use std::ffi::{CStr, CString};

use eidlink_core::{
    detect, Atr, CardChannel, CardError, CardToken, CardTransport, Found, ProviderWatch, Slot, TokenProvider,
    TransportError,
};
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

/// Largest response pcsc-lite can return (extended APDU data + SW).
const RECV_MAX: usize = pcsc::MAX_BUFFER_SIZE_EXTENDED;

/// A reader as seen without connecting to its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Reader name.
    pub name: String,
    /// Whether a card is in it.
    pub card_present: bool,
    /// Whether another application holds the card exclusively.
    pub exclusive: bool,
    /// The card's ATR when present.
    pub atr: Option<Atr>,
    /// How many card events (insertions, removals) the service has counted in this reader: a
    /// changed count means another card, even one with the same ATR (pcsc-lite's event counter,
    /// the high 16 bits of `dwEventState`).
    pub event_count: u32,
}

/// Maps a PC/SC error to the typed transport error (the one place this happens).
pub fn map_error(e: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match e {
        E::NoService | E::ServiceStopped | E::NoAccess => TransportError::NoService,
        E::NoReadersAvailable => TransportError::NoReaders,
        E::UnknownReader | E::ReaderUnavailable => TransportError::ReaderUnavailable,
        E::NoSmartcard => TransportError::NoCard,
        E::RemovedCard => TransportError::CardRemoved,
        // NOT_TRANSACTED / COMM_DATA_LOST: the handle lost its card under it (pulled, or reset by
        // someone else, before pcscd noticed); eid-mw recovers from both by starting over.
        E::ResetCard | E::NotTransacted | E::CommDataLost => TransportError::CardReset,
        E::SharingViolation => TransportError::SharingViolation,
        E::Cancelled | E::CancelledByUser | E::SystemCancelled => TransportError::Cancelled,
        E::Timeout | E::WaitedTooLong => TransportError::Timeout,
        E::UnresponsiveCard | E::UnpoweredCard | E::ProtoMismatch | E::UnsupportedCard | E::CommError => {
            TransportError::Unresponsive
        }
        other => TransportError::Other(other.to_string()),
    }
}

/// Opens a PC/SC context.
pub fn context() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(establish_error)
}

/// A context that cannot be established means no usable smart-card service. pcsc-lite (pcscd
/// down) and Windows (the Smart Card service stopped) answer SCARD_E_NO_SERVICE, but Wine's
/// winscard, a stub, answers SCARD_F_INTERNAL_ERROR: the user is told the same either way.
fn establish_error(e: pcsc::Error) -> TransportError {
    match e {
        pcsc::Error::InternalError => TransportError::NoService,
        other => map_error(other),
    }
}

/// Lists readers and what is in them.
pub fn readers(ctx: &Context) -> Result<Vec<ReaderInfo>, TransportError> {
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(map_error(e)),
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: Vec<ReaderState> = names
        .iter()
        .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
        .collect();
    ctx.get_status_change(std::time::Duration::ZERO, &mut states)
        .map_err(map_error)?;
    Ok(states
        .iter()
        .map(|s| {
            let ev = s.event_state();
            let card_present = ev.contains(State::PRESENT) && !ev.contains(State::MUTE);
            ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                card_present,
                exclusive: ev.contains(State::EXCLUSIVE),
                atr: card_present.then(|| Atr(s.atr().to_vec())),
                event_count: s.event_count(),
            }
        })
        .collect())
}

/// A connection to the card in one reader.
pub struct PcscTransport {
    card: Option<pcsc::Card>,
    reader: String,
    atr: Atr,
    state: ConnState,
}

/// What the channels of one connection observed, for choosing how to disconnect.
#[derive(Debug, Default)]
struct ConnState {
    /// A PIN reached the card on this connection.
    pin_presented: bool,
    /// The card went away during an exchange.
    removed: bool,
}

impl PcscTransport {
    /// Connects (shared, T=0 or T=1) to the card in `reader`.
    pub fn connect(ctx: &Context, reader: &str) -> Result<Self, TransportError> {
        let cname = CString::new(reader).map_err(|_| TransportError::ReaderUnavailable)?;
        let mut card = ctx
            .connect(&cname, ShareMode::Shared, Protocols::ANY)
            .map_err(map_error)?;
        // A reset by another application between our connect and our first call (a session of
        // another program ending with a reset, say) invalidates the new handle at once: reconnect
        // once, leaving the card as it is, and read the status of the card as the reset left it.
        let status = match card.status2_owned() {
            Err(pcsc::Error::ResetCard) => {
                card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard)
                    .map_err(map_error)?;
                card.status2_owned()
            }
            other => other,
        }
        .map_err(map_error)?;
        Ok(Self {
            atr: Atr(status.atr().to_vec()),
            card: Some(card),
            reader: reader.to_owned(),
            state: ConnState::default(),
        })
    }

    /// Disconnects: resets the card if a PIN was presented on this connection (so its verified state
    /// does not outlive us), else leaves it as it is. A card that went away is not reset: there is
    /// nothing to reset, and a reset request on an empty slot confuses some reader drivers (vpcd).
    pub fn close(mut self) -> Result<(), TransportError> {
        self.disconnect()
    }

    fn disconnect(&mut self) -> Result<(), TransportError> {
        let disposition = if self.state.pin_presented && !self.state.removed {
            Disposition::ResetCard
        } else {
            Disposition::LeaveCard
        };
        match self.card.take() {
            Some(card) => card.disconnect(disposition).map_err(|(_, e)| map_error(e)),
            None => Ok(()),
        }
    }
}

impl Drop for PcscTransport {
    fn drop(&mut self) {
        if let Err(e) = self.disconnect() {
            tracing::debug!(reader = %self.reader, error = %e, "disconnect failed");
        }
    }
}

impl CardTransport for PcscTransport {
    fn reader(&self) -> &str {
        &self.reader
    }

    fn atr(&self) -> &Atr {
        &self.atr
    }

    fn begin(&mut self) -> Result<Box<dyn CardChannel + '_>, TransportError> {
        let card = self.card.as_mut().ok_or(TransportError::ReaderUnavailable)?;
        // A reset by another application invalidates our handle: reconnect once and go on (the
        // drivers select what they need at the start of every operation).
        let card = match card.transaction2() {
            Ok(tx) => {
                return Ok(Box::new(PcscChannel {
                    tx,
                    state: &mut self.state,
                }))
            }
            Err((card, pcsc::Error::ResetCard)) => {
                card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard)
                    .map_err(map_error)?;
                card
            }
            Err((_, e)) => return Err(map_error(e)),
        };
        let tx = card.transaction().map_err(map_error)?;
        Ok(Box::new(PcscChannel {
            tx,
            state: &mut self.state,
        }))
    }
}

/// An open transaction; dropping it ends the transaction and leaves the card as it is.
struct PcscChannel<'a> {
    tx: pcsc::Transaction<'a>,
    state: &'a mut ConnState,
}

impl CardChannel for PcscChannel<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER with data: a PIN reaches the card.
        if apdu.len() > 5 && matches!(apdu.get(1), Some(0x20 | 0x24 | 0x2C)) {
            self.state.pin_presented = true;
        }
        let mut buf = vec![0u8; RECV_MAX];
        let n = match self.tx.transmit(apdu, &mut buf) {
            Ok(r) => r.len(),
            Err(e) => {
                let e = map_error(e);
                self.state.removed |= matches!(e, TransportError::CardRemoved | TransportError::NoCard);
                return Err(e);
            }
        };
        if n == 0 {
            // A reader returns at least SW1 SW2; nothing at all means the card went away during the
            // exchange (Debian's vpcd reports a pulled card this way instead of SCARD_W_REMOVED_CARD).
            self.state.removed = true;
            return Err(TransportError::CardRemoved);
        }
        buf.truncate(n);
        tracing::trace!(target: "eidlink::apdu", "> {}", eidlink_core::transcript::redacted_hex(apdu));
        tracing::trace!(target: "eidlink::apdu", "< {}", eidlink_core::transcript::hex_spaced(&buf));
        Ok(buf)
    }

    fn recover_from_reset(&mut self) -> Result<(), TransportError> {
        // SCardReconnect with SCARD_LEAVE_CARD: a new handle on the card as the reset left it, within
        // our transaction (pcsc-lite SCardReconnect; the same call as `begin` makes at connect).
        self.tx
            .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard)
            .map_err(map_error)
    }
}

/// The PC/SC backend of the token layer: every reader, a driver chosen by ATR for each card.
#[derive(Debug, Clone, Copy, Default)]
pub struct PcscProvider;

impl PcscProvider {
    /// Looks at the card of one reader only (what a reader event is about), with a context of its
    /// own: the same verdict as [`TokenProvider::scan`] gives for that reader.
    pub fn look_in(&self, reader: &str) -> Result<Found, CardError> {
        Ok(look_in(&context()?, reader))
    }
}

/// Connects (shared) to the card in `reader` and binds the driver its ATR names.
fn look_in(ctx: &Context, reader: &str) -> Found {
    match PcscTransport::connect(ctx, reader) {
        Ok(t) => match detect(t.atr()) {
            Some(entry) => Found::Token(Box::new(CardToken::new(t, (entry.make)()))),
            None => Found::Unsupported {
                slot: Slot::Reader {
                    reader: reader.to_owned(),
                    atr: t.atr().clone(),
                },
            },
        },
        Err(TransportError::NoCard) => Found::Empty {
            slot: reader.to_owned(),
        },
        Err(error) => Found::Error {
            slot: reader.to_owned(),
            error: error.into(),
        },
    }
}

impl TokenProvider for PcscProvider {
    fn name(&self) -> &str {
        "PC/SC"
    }

    fn scan(&self) -> Result<Vec<Found>, CardError> {
        let ctx = context()?;
        Ok(readers(&ctx)?
            .into_iter()
            .map(|r| {
                if r.card_present {
                    look_in(&ctx, &r.name)
                } else {
                    Found::Empty { slot: r.name }
                }
            })
            .collect())
    }

    fn watch(&self, on_change: Box<dyn Fn() + Send + Sync>) -> Option<Box<dyn ProviderWatch>> {
        // Every event counts, removals too: a caller waiting for a card must know what is in the
        // readers when it gives up (a wrong card pulled out is no longer "wrong card").
        match monitor::Monitor::start(monitor::MonitorOptions::default(), move |event| {
            tracing::debug!(?event, "reader change");
            on_change();
            true
        }) {
            Ok(m) => Some(Box::new(m)),
            Err(e) => {
                tracing::warn!(error = %e, "no reader monitor: callers poll");
                None
            }
        }
    }
}

impl ProviderWatch for monitor::Monitor {
    fn stop(self: Box<Self>) {
        monitor::Monitor::stop(*self);
    }
}

/// Name of a reader as a C string, for callers that watch readers with `get_status_change`.
pub fn reader_cstring(name: &str) -> Option<CString> {
    CString::new(name).ok()
}

/// Reader name from a C string.
pub fn reader_name(name: &CStr) -> String {
    name.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_that_cannot_be_established_is_no_service() {
        assert_eq!(establish_error(pcsc::Error::InternalError), TransportError::NoService);
        assert_eq!(establish_error(pcsc::Error::NoService), TransportError::NoService);
        assert!(matches!(
            establish_error(pcsc::Error::NoMemory),
            TransportError::Other(_)
        ));
        // Only at establish time: later, an internal error is not a missing service.
        assert!(matches!(
            map_error(pcsc::Error::InternalError),
            TransportError::Other(_)
        ));
    }

    #[test]
    fn errors_map_to_typed_errors() {
        assert_eq!(map_error(pcsc::Error::NoService), TransportError::NoService);
        assert_eq!(map_error(pcsc::Error::ServiceStopped), TransportError::NoService);
        assert_eq!(map_error(pcsc::Error::NoReadersAvailable), TransportError::NoReaders);
        assert_eq!(map_error(pcsc::Error::NoSmartcard), TransportError::NoCard);
        assert_eq!(map_error(pcsc::Error::RemovedCard), TransportError::CardRemoved);
        assert_eq!(map_error(pcsc::Error::ResetCard), TransportError::CardReset);
        assert_eq!(
            map_error(pcsc::Error::SharingViolation),
            TransportError::SharingViolation
        );
        assert_eq!(map_error(pcsc::Error::Timeout), TransportError::Timeout);
        assert_eq!(map_error(pcsc::Error::Cancelled), TransportError::Cancelled);
        assert_eq!(
            map_error(pcsc::Error::ReaderUnavailable),
            TransportError::ReaderUnavailable
        );
        assert!(matches!(
            map_error(pcsc::Error::InvalidHandle),
            TransportError::Other(_)
        ));
    }
}
