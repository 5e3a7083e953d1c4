//! [`CardToken`]: a card in a reader, run by one of our drivers over a transport.

use crate::cards::CardDriver;
use crate::error::CardError;
use crate::hash::Digest;
use crate::token::{
    CardInfo, CertificateKind, KeyInfo, KeyRole, PinInfo, PinInput, Signature, Slot, Token, TokenSession,
};
use crate::transport::{CardChannel, CardTransport};

/// A card in a reader driven by a [`CardDriver`]: validates arguments and opens one exclusive
/// transaction per session, in which the driver speaks.
pub struct CardToken<T: CardTransport> {
    transport: T,
    driver: Box<dyn CardDriver>,
    slot: Slot,
}

impl<T: CardTransport> CardToken<T> {
    /// Binds a driver to a connected card.
    pub fn new(transport: T, driver: Box<dyn CardDriver>) -> Self {
        let slot = Slot::Reader {
            reader: transport.reader().to_owned(),
            atr: transport.atr().clone(),
        };
        Self {
            transport,
            driver,
            slot,
        }
    }

    /// The transport (for diagnostics).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Gives the transport back (to disconnect it the way the caller wants).
    pub fn into_transport(self) -> T {
        self.transport
    }
}

impl<T: CardTransport> Token for CardToken<T> {
    fn slot(&self) -> &Slot {
        &self.slot
    }

    fn label(&self) -> &str {
        self.driver.name()
    }

    fn key(&self, role: KeyRole) -> Option<KeyInfo> {
        Some(self.driver.key(role))
    }

    fn session(&mut self) -> Result<Box<dyn TokenSession + '_>, CardError> {
        let ch = self.transport.begin()?;
        Ok(Box::new(CardSession {
            ch,
            driver: self.driver.as_ref(),
        }))
    }
}

/// One exclusive transaction on the card; ends when dropped.
struct CardSession<'a> {
    ch: Box<dyn CardChannel + 'a>,
    driver: &'a dyn CardDriver,
}

impl TokenSession for CardSession<'_> {
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        self.driver.certificate(self.ch.as_mut(), kind)
    }

    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError> {
        self.driver.pin_info(self.ch.as_mut(), role)
    }

    fn card_info(&mut self) -> Result<CardInfo, CardError> {
        self.driver.card_info(self.ch.as_mut())
    }

    fn sign(&mut self, role: KeyRole, pin: PinInput<'_>, digest: &Digest) -> Result<Signature, CardError> {
        let key = self.driver.key(role);
        key.check(pin, digest)?;
        match pin {
            PinInput::Typed(pin) => self.driver.sign(self.ch.as_mut(), role, pin, digest),
            PinInput::External => Err(CardError::Unsupported("PIN entry on the reader")),
        }
    }
}
