#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod server;
pub mod session;
pub mod state;
pub mod tls;

pub use error::{ApiCode, ApiError, DemoError};
pub use i18n::Lang;
pub use server::{default_page_module, router, Config, Service, CSP};
pub use state::{AppState, SignedDocument, VerifiedEvent};
pub use tls::TlsSource;
