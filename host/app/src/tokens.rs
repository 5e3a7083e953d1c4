//! The token backends the host, every CLI command and diagnose look through: the one list of
//! `eidlink_pkcs11::providers` (which the tray uses too), for the user's configuration.

use eidlink_core::Providers;
use eidlink_settings::{Config, Dirs};

pub use eidlink_pkcs11::{module_providers as pkcs11_providers, providers as providers_for};

/// The backends of the user's configuration (the defaults if it cannot be read: the host and the
/// CLI report a broken file themselves).
pub fn providers() -> Providers {
    providers_for(&Config::load(Dirs::new().as_ref()).unwrap_or_default())
}
