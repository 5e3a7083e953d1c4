//! `libeidlink_pkcs11`: eidlink's own PKCS#11 module, for sites that log citizens in with a TLS
//! client certificate (Belgium's CSAM, PIV/CAC logins) rather than Web eID. Browsers reach a card
//! for a TLS handshake only through a PKCS#11 module (Firefox everywhere, Chromium on Linux through
//! NSS); this one runs on the same token layer and card drivers as `eidlink-host`, so one driver
//! serves both kinds of site.
//!
//! - A slot per PC/SC reader; a card our drivers run is a token with its authentication
//!   certificate and private key (paired by `CKA_ID`). The signing (non-repudiation) key is not
//!   offered: a handshake must never make a qualified signature.
//! - `CKM_ECDSA` (raw `r || s`), `CKM_RSA_PKCS` and `CKM_RSA_PKCS_PSS` where the card can.
//! - The token has a protected authentication path: the PIN is asked at each signature by
//!   eidlink's own dialog (the `pin-program` setting), never by the browser.
//! - Insertion and removal follow the card: the readers are asked again at most every 2 s, and
//!   `C_WaitForSlotEvent` reports each change; all card I/O runs on one worker thread.
//! - Every function it does not offer answers `CKR_FUNCTION_NOT_SUPPORTED`; nothing panics
//!   across the C boundary.

mod cards;
mod dialog;
mod ffi;
mod login;
mod mechanism;
mod module;
mod objects;
mod program;
mod worker;
