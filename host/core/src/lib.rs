#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod apdu;
pub mod atr;
pub mod cards;
pub mod error;
pub mod hash;
pub mod iso7816;
pub mod pin;
pub mod status;
pub mod tlv;
pub mod token;
pub mod transcript;
pub mod transport;

pub use apdu::{exchange, Command, Response};
pub use atr::{Atr, AtrPattern};
pub use cards::{detect, CardDriver, DriverEntry, DRIVERS};
pub use error::{CardError, ErrorClass, PinFailure};
pub use hash::{Digest, HashAlgorithm};
pub use pin::{Pin, PinCharset, PinPolicy};
pub use status::StatusWord;
pub use token::{
    discover, CardInfo, CardToken, CertificateKind, CryptoAlgorithm, Curve, Discovery, Found, KeyAlgorithm, KeyInfo,
    KeyRole, NotFound, Padding, PinEntry, PinInfo, PinInput, ProviderWatch, Providers, Signature, SignatureAlgorithm,
    Slot, Token, TokenProvider, TokenSession,
};
pub use transport::{CardChannel, CardTransport, TransportError};
