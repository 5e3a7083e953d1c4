//! The token backends the host, every CLI command and diagnose look through: one list, so that
//! they all find the same cards.

use std::sync::Arc;

use eidlink_core::{Providers, TokenProvider};
use eidlink_pcsc::PcscProvider;

/// PC/SC readers with our drivers (PKCS#11 modules join here).
pub fn providers() -> Providers {
    let pcsc: Box<dyn TokenProvider> = Box::new(PcscProvider);
    Arc::from(vec![pcsc])
}
