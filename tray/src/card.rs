//! Reading what the tray shows of a card: type, applet, holder, national number, certificate
//! validity, PIN tries left (read without spending a try). Runs off the UI thread; through PC/SC it
//! holds the card for one transaction on a shared connection and leaves it as it was.

use eidlink_core::{CardError, CertificateKind, Found, KeyRole, Token, TokenSession, TransportError};
use eidlink_pcsc::PcscProvider;

use crate::state::{CardOutcome, CardSummary, CertValidity, ReadProblem};

/// Why a card could not be summarized.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The card or the service failed under us (removed, in use, service gone...).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The card answered something else than a readable certificate for either key.
    #[error("no certificate could be read from the card: {0}")]
    NoCertificate(CardError),
}

/// A failure of the card or the service ends the read; anything else (a file this card does not
/// have, an answer the driver does not expect) only leaves that item out of the summary.
fn optional<T>(what: &str, r: Result<T, CardError>) -> Result<Option<T>, ReadError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CardError::Transport(t)) => Err(ReadError::Transport(t)),
        Err(e) => {
            tracing::debug!(what, error = %e, "card item not read");
            Ok(None)
        }
    }
}

/// The validity of a DER certificate, as Unix times.
pub fn validity(der: &[u8]) -> Option<CertValidity> {
    let s = eidlink_cert::summarize(der).ok()?;
    Some(CertValidity {
        not_before: s.not_before_unix,
        not_after: s.not_after_unix,
    })
}

fn summarize(source: &mut dyn TokenSession, card_name: &str, has_signing_pin: bool) -> Result<CardSummary, ReadError> {
    let info = optional("card info", source.card_info())?;
    let auth = source.certificate(CertificateKind::Authentication);
    let sign = source.certificate(CertificateKind::Signing);
    let (auth, sign) = match (auth, sign) {
        (Err(CardError::Transport(t)), _) | (_, Err(CardError::Transport(t))) => return Err(t.into()),
        (Err(e), Err(_)) => return Err(ReadError::NoCertificate(e)),
        (a, s) => (a.ok(), s.ok()),
    };
    // The holder as the certificates name them (the authentication certificate first: every card
    // has it).
    let who = auth
        .iter()
        .chain(sign.iter())
        .find_map(|der| eidlink_cert::summarize(der).ok());
    let auth_pin = optional("authentication PIN", source.pin_info(KeyRole::Authentication))?;
    let sign_pin = if has_signing_pin {
        optional("signing PIN", source.pin_info(KeyRole::Signing))?
    } else {
        None
    };
    Ok(CardSummary {
        card_name: card_name.to_owned(),
        module: None,
        applet: info.and_then(|i| i.version),
        holder: who.as_ref().map(|w| w.holder.clone()),
        national_number: who.and_then(|w| w.serial_number),
        authentication: auth.as_deref().and_then(validity),
        signing: sign.as_deref().and_then(validity),
        auth_pin,
        sign_pin,
    })
}

/// Summarizes a token (a card through our drivers or a PKCS#11 module's token), every item read
/// in one session (one PC/SC transaction, one PKCS#11 session).
pub fn summarize_token(token: &mut dyn Token) -> Result<CardSummary, ReadError> {
    let name = token.label().to_owned();
    let module = token.slot().module().map(str::to_owned);
    // A signing key with a PIN of its own (PIN2) has its own tries to show.
    let has_signing_pin = token.pins().len() > 1;
    let mut session = token.session().map_err(|e| match e {
        CardError::Transport(t) => ReadError::Transport(t),
        other => ReadError::NoCertificate(other),
    })?;
    let mut summary = summarize(session.as_mut(), &name, has_signing_pin)?;
    summary.module = module;
    Ok(summary)
}

/// What the one discovery finds in `reader`: a token (of our driver or a module), else the first
/// other look.
fn through_modules(reader: &str, config: &eidlink_settings::Config) -> Result<Found, CardError> {
    let found = eidlink_core::discover(&eidlink_pkcs11::providers(config))
        .in_slot(reader)
        .found;
    let mut rest = Vec::new();
    for f in found {
        match f {
            Found::Token(t) => return Ok(Found::Token(t)),
            other => rest.push(other),
        }
    }
    rest.into_iter()
        .next()
        .ok_or(CardError::Transport(TransportError::NoCard))
}

fn problem(e: &ReadError) -> ReadProblem {
    match e {
        ReadError::Transport(TransportError::SharingViolation) => ReadProblem::InUse,
        ReadError::Transport(TransportError::Unresponsive) => ReadProblem::Unresponsive,
        other => ReadProblem::Other(other.to_string()),
    }
}

/// Reads the card in `reader` through PC/SC, with a context of its own (the caller's thread is
/// not the monitor's): connects shared, reads in one transaction, disconnects leaving the card (no
/// PIN is presented, so nothing is reset). A card none of our drivers runs, or one in a reader for
/// which `config` prefers a module, is looked for through the one discovery (the PKCS#11 modules).
pub fn read_reader(reader: &str, config: &eidlink_settings::Config) -> CardOutcome {
    // A module's token wins where the module is preferred, or where our drivers know no card.
    let module_token = |reader: &str| match through_modules(reader, config) {
        Ok(Found::Token(t)) => Some(t),
        _ => None,
    };
    let look = match PcscProvider.look_in(reader) {
        Ok(Found::Token(t)) if eidlink_pkcs11::module_preferred(config, reader) => {
            Ok(Found::Token(module_token(reader).unwrap_or(t)))
        }
        Ok(unsupported @ Found::Unsupported { .. }) => Ok(module_token(reader).map_or(unsupported, Found::Token)),
        other => other,
    };
    let result = match look {
        Ok(Found::Token(mut token)) => summarize_token(token.as_mut()).map(Some),
        Ok(Found::Unsupported { .. }) => Ok(None),
        Ok(Found::Empty { .. }) => Err(ReadError::Transport(TransportError::NoCard)),
        Ok(Found::Error { error, .. }) | Err(error) => Err(match error {
            CardError::Transport(t) => ReadError::Transport(t),
            other => ReadError::NoCertificate(other),
        }),
    };
    match result {
        Ok(Some(summary)) => CardOutcome::Read(Box::new(summary)),
        Ok(None) => CardOutcome::Unsupported,
        Err(e) => {
            tracing::info!(reader, error = %e, "card not read");
            CardOutcome::Failed(problem(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_core::{
        Atr, CardInfo, Digest, KeyAlgorithm, KeyInfo, PinEntry, PinInfo, PinInput, PinPolicy, Signature, Slot,
    };
    use eidlink_tests::{Country, LeafKeyType, Pki, PkiSpec};

    /// A token that answers from memory.
    struct FakeToken {
        auth: Result<Vec<u8>, CardError>,
        sign: Result<Vec<u8>, CardError>,
        pin: Result<PinInfo, CardError>,
        slot: Slot,
    }

    impl FakeToken {
        fn new(
            auth: Result<Vec<u8>, CardError>,
            sign: Result<Vec<u8>, CardError>,
            pin: Result<PinInfo, CardError>,
        ) -> Self {
            Self {
                auth,
                sign,
                pin,
                slot: Slot::Reader {
                    reader: "fake".into(),
                    atr: Atr(vec![0x3B]),
                },
            }
        }
    }

    impl Token for FakeToken {
        fn slot(&self) -> &Slot {
            &self.slot
        }
        fn label(&self) -> &str {
            "Belgian eID (applet 1.8)"
        }
        fn key(&self, role: KeyRole) -> Option<KeyInfo> {
            Some(KeyInfo {
                role,
                algorithm: KeyAlgorithm::Rsa { bits: 2048 },
                schemes: Vec::new(),
                pin: PinPolicy::digits(4, 12),
                pin_label: "PIN",
                entry: PinEntry::Dialog,
            })
        }
        fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError> {
            Ok(Box::new(FakeSession(self)))
        }
    }

    struct FakeSession<'a>(&'a mut FakeToken);

    impl TokenSession for FakeSession<'_> {
        fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
            match kind {
                CertificateKind::Authentication => self.0.auth.clone(),
                CertificateKind::Signing => self.0.sign.clone(),
                _ => Err(CardError::Unsupported("ca")),
            }
        }
        fn pin_info(&mut self, _: KeyRole) -> Result<PinInfo, CardError> {
            self.0.pin.clone()
        }
        fn card_info(&mut self) -> Result<CardInfo, CardError> {
            Ok(CardInfo {
                version: Some("applet 1.8".into()),
                ..CardInfo::default()
            })
        }
        fn sign(&mut self, _: KeyRole, _: PinInput<'_>, _: &Digest) -> Result<Signature, CardError> {
            Err(CardError::Unsupported("not in this test"))
        }
    }

    fn pki() -> Pki {
        Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).unwrap()
    }

    #[test]
    fn summarizes_a_token() {
        let pki = pki();
        let mut t = FakeToken::new(
            Ok(pki.auth_der.clone()),
            Ok(pki.sign_der.clone()),
            Ok(PinInfo::counted(2, 3)),
        );
        let s = summarize_token(&mut t).unwrap();
        assert_eq!(s.card_name, "Belgian eID (applet 1.8)");
        assert_eq!(s.applet.as_deref(), Some("applet 1.8"));
        assert_eq!(s.holder.as_deref(), Some(eidlink_tests::pki::DEFAULT_HOLDER));
        assert_eq!(
            s.national_number.as_deref(),
            Some(eidlink_tests::pki::DEFAULT_BE_NATIONAL_NUMBER)
        );
        let auth = s.authentication.clone().unwrap();
        assert!(auth.not_before < auth.not_after);
        assert_eq!(auth, validity(&pki.auth_der).unwrap());
        assert!(s.signing.is_some());
        assert_eq!(s.auth_pin.and_then(|p| p.tries_left), Some(2));
        assert_eq!(s.sign_pin, None);
    }

    #[test]
    fn a_missing_item_is_left_out_but_a_pulled_card_ends_the_read() {
        let pki = pki();
        let mut t = FakeToken::new(
            Ok(pki.auth_der.clone()),
            Err(CardError::Unsupported("no signing key")),
            Err(CardError::Malformed("odd answer")),
        );
        let s = summarize_token(&mut t).unwrap();
        assert!(s.authentication.is_some() && s.signing.is_none() && s.auth_pin.is_none());

        t.pin = Err(CardError::Transport(TransportError::CardRemoved));
        assert!(matches!(
            summarize_token(&mut t),
            Err(ReadError::Transport(TransportError::CardRemoved))
        ));
        t.auth = Err(CardError::Unsupported("x"));
        t.pin = Ok(PinInfo::counted(3, 3));
        assert!(matches!(summarize_token(&mut t), Err(ReadError::NoCertificate(_))));
        assert_eq!(
            problem(&ReadError::Transport(TransportError::SharingViolation)),
            ReadProblem::InUse
        );
    }
}
