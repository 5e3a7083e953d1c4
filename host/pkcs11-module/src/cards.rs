//! The cards, on the one worker thread that does all card I/O: one slot per PC/SC reader (its id
//! kept as long as the module is loaded), each with the token our drivers make of its card. A
//! refresh asks the PC/SC service what is in the readers (no card I/O) and reads a card only when
//! it is new: inserted, or another one (pcsc-lite's event counter moved, even with the same ATR).
//! What callers see is a [`Snapshot`] they read without waiting for the worker.

use std::sync::Arc;
use std::time::Instant;

use cryptoki_sys::CK_SLOT_ID;
use eidlink_core::{CertificateKind, KeyInfo, KeyRole, PinInfo, Token};
use eidlink_pcsc::{PcscProvider, ReaderInfo};
use eidlink_pin_protocol::CertificateInfo;

use crate::objects::{authentication_objects, Object};

/// What is known of a card's token, as callers see it (immutable: a change makes a new one).
#[derive(Debug)]
pub(crate) struct TokenView {
    /// Unique to this card's stay in the reader: handles and sessions of a removed card die with it.
    pub(crate) generation: u64,
    /// `CK_TOKEN_INFO.label`: the holder's name.
    pub(crate) label: String,
    /// `CK_TOKEN_INFO.model`: the card family.
    pub(crate) model: String,
    /// `CK_TOKEN_INFO.serialNumber`: the chip's serial, hex.
    pub(crate) serial: String,
    /// The holder, for the dialog and the history.
    pub(crate) holder: String,
    /// The certificate as the dialog shows it.
    pub(crate) certificate: CertificateInfo,
    /// The authentication certificate (DER).
    pub(crate) cert_der: Vec<u8>,
    /// Certificate, then private key.
    pub(crate) objects: Vec<Object>,
    /// The authentication key.
    pub(crate) key: KeyInfo,
    /// The PIN's state when last read.
    pub(crate) pin: PinInfo,
}

/// One reader.
#[derive(Debug, Clone)]
pub(crate) struct SlotView {
    /// The slot id.
    pub(crate) id: CK_SLOT_ID,
    /// The reader's name.
    pub(crate) reader: String,
    /// The token, when a card our drivers run is in it.
    pub(crate) token: Option<Arc<TokenView>>,
}

/// Every reader, as of `taken`.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The readers, in the service's order.
    pub(crate) slots: Vec<SlotView>,
    /// When the service was last asked.
    pub(crate) taken: Option<Instant>,
}

impl Snapshot {
    /// The slot `id`.
    pub(crate) fn slot(&self, id: CK_SLOT_ID) -> Option<&SlotView> {
        self.slots.iter().find(|s| s.id == id)
    }

    /// The token of generation `generation`, with its slot id.
    pub(crate) fn token(&self, generation: u64) -> Option<(CK_SLOT_ID, &Arc<TokenView>)> {
        self.slots.iter().find_map(|s| {
            s.token
                .as_ref()
                .filter(|t| t.generation == generation)
                .map(|t| (s.id, t))
        })
    }
}

struct Reader {
    slot: CK_SLOT_ID,
    name: String,
    /// The card events and ATR the card was last looked at with (`None`: look again).
    seen: Option<(u32, Vec<u8>)>,
    card: Option<Card>,
}

/// A card our drivers run.
pub(crate) struct Card {
    pub(crate) token: Box<dyn Token>,
    pub(crate) view: Arc<TokenView>,
}

/// The worker's state.
pub(crate) struct Cards {
    readers: Vec<Reader>,
    next_slot: CK_SLOT_ID,
    next_generation: u64,
}

impl Cards {
    pub(crate) fn new() -> Self {
        Self {
            readers: Vec::new(),
            // Slot 0 is left out: some callers take it for "no slot".
            next_slot: 1,
            next_generation: 1,
        }
    }

    /// Asks the PC/SC service what is in the readers and reads the cards that are new. The
    /// service being down or absent is "no readers" to a browser.
    pub(crate) fn refresh(&mut self) -> Snapshot {
        let infos = match eidlink_pcsc::context().and_then(|ctx| eidlink_pcsc::readers(&ctx)) {
            Ok(infos) => infos,
            Err(e) => {
                tracing::debug!(error = %e, "no PC/SC readers");
                Vec::new()
            }
        };
        self.readers.retain(|r| infos.iter().any(|i| i.name == r.name));
        for info in &infos {
            let at = match self.readers.iter().position(|r| r.name == info.name) {
                Some(at) => at,
                None => {
                    self.readers.push(Reader {
                        slot: self.next_slot,
                        name: info.name.clone(),
                        seen: None,
                        card: None,
                    });
                    self.next_slot += 1;
                    self.readers.len() - 1
                }
            };
            let generation = self.next_generation;
            if update(&mut self.readers[at], info, generation) {
                self.next_generation += 1;
            }
        }
        self.snapshot()
    }

    /// The current state, without asking anything.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            slots: self
                .readers
                .iter()
                .map(|r| SlotView {
                    id: r.slot,
                    reader: r.name.clone(),
                    token: r.card.as_ref().map(|c| Arc::clone(&c.view)),
                })
                .collect(),
            taken: Some(Instant::now()),
        }
    }

    /// The card of generation `generation`, if it is still in its reader.
    pub(crate) fn card(&mut self, generation: u64) -> Option<&mut Card> {
        self.readers
            .iter_mut()
            .filter_map(|r| r.card.as_mut())
            .find(|c| c.view.generation == generation)
    }

    /// Forgets a card that went away under an operation; the next refresh looks again.
    pub(crate) fn forget(&mut self, generation: u64) {
        for r in &mut self.readers {
            if r.card.as_ref().is_some_and(|c| c.view.generation == generation) {
                r.card = None;
                r.seen = None;
            }
        }
    }
}

/// Brings a reader up to date; true when a new card was read (its generation is taken).
fn update(reader: &mut Reader, info: &ReaderInfo, generation: u64) -> bool {
    let atr = info.atr.as_ref().map(|a| a.0.clone()).unwrap_or_default();
    if !info.card_present {
        reader.card = None;
        reader.seen = None;
        return false;
    }
    if reader.seen.as_ref() == Some(&(info.event_count, atr.clone())) {
        return false;
    }
    reader.card = None;
    reader.seen = Some((info.event_count, atr));
    match PcscProvider.look_in(&info.name) {
        Ok(eidlink_core::Found::Token(token)) => match read_card(token, generation) {
            Ok(card) => {
                tracing::info!(reader = %info.name, card = %card.view.model, "card ready");
                reader.card = Some(card);
                true
            }
            Err(e @ ReadError::Mismatch { .. }) => {
                // pcscd can report a swapped card with the previous one's ATR for a moment, and
                // the driver chosen by that ATR then reads the new card's certificate: looked at
                // again at the next rescan rather than offered with the wrong key type.
                tracing::info!(reader = %info.name, error = %e, "looked at again");
                reader.seen = None;
                false
            }
            Err(e) => {
                // Looked at again when it changes (or after a failed operation), not every 2 s.
                tracing::warn!(reader = %info.name, error = %e, "the card cannot be read");
                false
            }
        },
        Ok(other) => {
            tracing::debug!(reader = %info.name, found = ?other, "no token in this reader");
            false
        }
        Err(e) => {
            tracing::debug!(reader = %info.name, error = %e, "cannot look at the card");
            reader.seen = None;
            false
        }
    }
}

/// Why a card is not offered.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Card(#[from] eidlink_core::CardError),
    #[error(transparent)]
    Cert(#[from] eidlink_cert::CertError),
    #[error("the card has no authentication key")]
    NoKey,
    #[error("the certificate's key is {certificate}, the driver's {driver:?}")]
    Mismatch {
        certificate: String,
        driver: eidlink_core::KeyAlgorithm,
    },
}

/// Reads what the module shows of a card: the authentication certificate, the PIN's state and the
/// serial, in one card session.
fn read_card(mut token: Box<dyn Token>, generation: u64) -> Result<Card, ReadError> {
    let key = token.key(KeyRole::Authentication).ok_or(ReadError::NoKey)?;
    let (cert_der, pin, info) = {
        let mut session = token.session()?;
        let cert = session.certificate(CertificateKind::Authentication)?;
        let pin = session.pin_info(KeyRole::Authentication)?;
        let info = session.card_info()?;
        (cert, pin, info)
    };
    let public = eidlink_cert::public_key(&cert_der)?;
    if public.algorithm() != key.algorithm {
        return Err(ReadError::Mismatch {
            certificate: public.to_string(),
            driver: key.algorithm,
        });
    }
    let summary = eidlink_cert::summarize(&cert_der)?;
    let fields = eidlink_cert::fields(&cert_der)?;
    let objects = authentication_objects(&cert_der, &fields, &format!("Authentication ({})", summary.holder));
    let view = TokenView {
        generation,
        label: summary.holder.clone(),
        model: model(token.label()),
        serial: info.serial.unwrap_or_default(),
        holder: summary.holder.clone(),
        certificate: eidlink_pin_protocol::tokens::certificate_info(&summary),
        cert_der,
        objects,
        key,
        pin,
    };
    Ok(Card {
        token,
        view: Arc::new(view),
    })
}

/// `CK_TOKEN_INFO.model` has 16 bytes: the card family cut at a word ("Belgian eID (applet 1.8)"
/// is "Belgian eID"), whole if it fits.
fn model(label: &str) -> String {
    const MODEL_LEN: usize = 16;
    if label.len() <= MODEL_LEN {
        return label.to_owned();
    }
    let mut out = String::new();
    for word in label.split(' ') {
        if out.len() + usize::from(!out.is_empty()) + word.len() > MODEL_LEN {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    // One long word: the field cuts it.
    if out.is_empty() {
        label.to_owned()
    } else {
        out
    }
}

impl Card {
    /// The same view with a newly read PIN state.
    pub(crate) fn with_pin(&mut self, pin: PinInfo) {
        if self.view.pin != pin {
            let v = &self.view;
            self.view = Arc::new(TokenView {
                generation: v.generation,
                label: v.label.clone(),
                model: v.model.clone(),
                serial: v.serial.clone(),
                holder: v.holder.clone(),
                certificate: v.certificate.clone(),
                cert_der: v.cert_der.clone(),
                objects: v.objects.clone(),
                key: v.key.clone(),
                pin,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use eidlink_core::{
        CardError, CardInfo, Curve, Digest, KeyAlgorithm, PinEntry, PinInput, PinPolicy, Signature, SignatureAlgorithm,
        Slot, TokenSession,
    };

    /// A token whose driver says P-384 while its certificate holds `cert` (what a driver chosen by
    /// a stale ATR reads).
    struct Stale {
        cert: Vec<u8>,
        slot: Slot,
    }

    impl Token for Stale {
        fn slot(&self) -> &Slot {
            &self.slot
        }
        fn label(&self) -> &str {
            "Belgian eID (applet 1.8)"
        }
        fn key(&self, role: KeyRole) -> Option<KeyInfo> {
            Some(KeyInfo {
                role,
                algorithm: KeyAlgorithm::Ec(Curve::P384),
                schemes: SignatureAlgorithm::ecdsa(&[eidlink_core::HashAlgorithm::Sha384]),
                pin: PinPolicy::digits(4, 12),
                pin_label: "PIN",
                entry: PinEntry::Dialog,
            })
        }
        fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError> {
            Ok(Box::new(StaleSession(self.cert.clone())))
        }
    }

    struct StaleSession(Vec<u8>);

    impl TokenSession for StaleSession {
        fn certificate(&mut self, _: CertificateKind) -> Result<Vec<u8>, CardError> {
            Ok(self.0.clone())
        }
        fn pin_info(&mut self, _: KeyRole) -> Result<PinInfo, CardError> {
            Ok(PinInfo::counted(3, 3))
        }
        fn card_info(&mut self) -> Result<CardInfo, CardError> {
            Ok(CardInfo::default())
        }
        fn sign(&mut self, _: KeyRole, _: PinInput<'_>, _: &Digest) -> Result<Signature, CardError> {
            Err(CardError::Unsupported("test"))
        }
    }

    #[test]
    fn a_certificate_that_does_not_fit_the_driver_is_not_offered() {
        use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};
        let slot = Slot::Reader {
            reader: "R".into(),
            atr: eidlink_core::Atr(vec![0x3B]),
        };
        let rsa = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::Rsa2048)).unwrap();
        let stale = Box::new(Stale {
            cert: rsa.auth_der.clone(),
            slot: slot.clone(),
        });
        assert!(matches!(read_card(stale, 1), Err(ReadError::Mismatch { .. })));
        let ec = Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap();
        let fits = Box::new(Stale {
            cert: ec.auth_der,
            slot,
        });
        let card = read_card(fits, 1).map_err(|e| e.to_string()).unwrap();
        assert_eq!(card.view.objects.len(), 2);
        assert_eq!(card.view.model, "Belgian eID");
    }

    #[test]
    fn the_model_is_cut_at_a_word() {
        assert_eq!(model("Belgian eID (applet 1.8)"), "Belgian eID");
        assert_eq!(model("EstEID (IDEMIA)"), "EstEID (IDEMIA)");
        assert_eq!(
            model("Supercalifragilisticexpialidocious"),
            "Supercalifragilisticexpialidocious"
        );
    }
}
