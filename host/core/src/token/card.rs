//! [`CardToken`]: a card in a reader, run by one of our drivers over a transport.

use crate::cards::CardDriver;
use crate::error::CardError;
use crate::hash::Digest;
use crate::token::{
    CardInfo, CertificateKind, KeyInfo, KeyRole, Padding, PinInfo, PinInput, Signature, Slot, Token, TokenSession,
};
use crate::transport::{CardChannel, CardTransport, TransportError};

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

impl CardSession<'_> {
    /// Runs a read that sends no PIN, and runs it once more from the start when another application
    /// reset the card under it (a host's session ending with a reset while the tray connects, say):
    /// the read spends nothing and each driver operation selects what it needs, so running it again
    /// is safe, where giving up would show a card error for a card that is fine. Signatures are never
    /// run again: the reset cleared the PIN state they may rely on.
    fn read<R>(
        &mut self,
        op: impl Fn(&dyn CardDriver, &mut dyn CardChannel) -> Result<R, CardError>,
    ) -> Result<R, CardError> {
        match op(self.driver, self.ch.as_mut()) {
            Err(CardError::Transport(TransportError::CardReset)) => {
                self.ch.recover_from_reset()?;
                op(self.driver, self.ch.as_mut())
            }
            other => other,
        }
    }
}

impl TokenSession for CardSession<'_> {
    fn certificate(&mut self, kind: CertificateKind) -> Result<Vec<u8>, CardError> {
        self.read(|driver, ch| driver.certificate(ch, kind))
    }

    fn pin_info(&mut self, role: KeyRole) -> Result<PinInfo, CardError> {
        self.read(|driver, ch| driver.pin_info(ch, role))
    }

    fn card_info(&mut self) -> Result<CardInfo, CardError> {
        self.read(|driver, ch| driver.card_info(ch))
    }

    fn sign(&mut self, role: KeyRole, pin: PinInput<'_>, digest: &Digest) -> Result<Signature, CardError> {
        let key = self.driver.key(role);
        key.check(pin, digest)?;
        match pin {
            PinInput::Typed(pin) => self.driver.sign(self.ch.as_mut(), role, pin, digest),
            PinInput::External => Err(CardError::Unsupported("PIN entry on the reader")),
        }
    }

    fn sign_as(
        &mut self,
        role: KeyRole,
        pin: PinInput<'_>,
        digest: &Digest,
        padding: Padding,
    ) -> Result<Signature, CardError> {
        let key = self.driver.key(role);
        key.check(pin, digest)?;
        if !key
            .schemes
            .iter()
            .any(|s| s.hash == digest.algorithm() && s.padding == padding)
        {
            return Err(CardError::Unsupported("this padding with this key"));
        }
        match pin {
            PinInput::Typed(pin) => self.driver.sign_as(self.ch.as_mut(), role, pin, digest, padding),
            PinInput::External => Err(CardError::Unsupported("PIN entry on the reader")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atr::Atr;
    use crate::cards::belpic;
    use crate::hash::HashAlgorithm;
    use crate::pin::Pin;
    use crate::transcript::ScriptedChannel;

    /// A card that another application resets once, just before our first command reaches it.
    struct ResetOnce {
        script: ScriptedChannel,
        reset_pending: bool,
        recovered: usize,
    }

    struct ResetOnceChannel<'a>(&'a mut ResetOnce);

    impl CardChannel for ResetOnceChannel<'_> {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            if self.0.reset_pending {
                return Err(TransportError::CardReset);
            }
            self.0.script.transmit(apdu)
        }

        fn recover_from_reset(&mut self) -> Result<(), TransportError> {
            self.0.reset_pending = false;
            self.0.recovered += 1;
            Ok(())
        }
    }

    impl CardTransport for ResetOnce {
        fn reader(&self) -> &str {
            "Test Reader 00 00"
        }

        fn atr(&self) -> &Atr {
            static ATR: std::sync::OnceLock<Atr> = std::sync::OnceLock::new();
            ATR.get_or_init(|| {
                Atr(vec![
                    0x3B, 0x98, 0x13, 0x40, 0x0A, 0xA5, 0x03, 0x01, 0x01, 0x01, 0xAD, 0x13, 0x11,
                ])
            })
        }

        fn begin(&mut self) -> Result<Box<dyn CardChannel + '_>, TransportError> {
            Ok(Box::new(ResetOnceChannel(self)))
        }
    }

    fn token(pairs: &[(&str, &str)]) -> CardToken<ResetOnce> {
        let transport = ResetOnce {
            script: ScriptedChannel::from_pairs(pairs),
            reset_pending: true,
            recovered: 0,
        };
        CardToken::new(transport, belpic::make_v17())
    }

    #[test]
    fn a_read_interrupted_by_a_reset_is_read_again_on_the_recovered_channel() {
        // Belgian 1.7: VERIFY without data answers the tries left (cards.md §1.9).
        let mut token = token(&[("00 20 00 01", "63C2")]);
        let info = token
            .session()
            .and_then(|mut s| s.pin_info(KeyRole::Authentication))
            .map_err(|e| e.to_string());
        assert_eq!(info, Ok(PinInfo::counted(2, 3)));
        let transport = token.into_transport();
        assert_eq!(transport.recovered, 1);
        assert_eq!(transport.script.finish(), Ok(()));
    }

    #[test]
    fn a_signature_interrupted_by_a_reset_is_not_run_again() {
        let mut token = token(&[]);
        let digest = Digest::new(HashAlgorithm::Sha256, vec![0x11; 32]).expect("a SHA-256 digest");
        let pin = Pin::from("1234");
        let out = token
            .session()
            .and_then(|mut s| s.sign(KeyRole::Authentication, PinInput::Typed(&pin), &digest));
        assert_eq!(out.err(), Some(CardError::Transport(TransportError::CardReset)));
        let transport = token.into_transport();
        assert_eq!(transport.recovered, 0, "a signature is never resent after a reset");
        assert_eq!(transport.script.sent(), 0);
    }
}
