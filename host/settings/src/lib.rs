//! The files eidlink keeps for a user, shared by the native-messaging host (which reads the settings
//! and appends to the history) and the tray app (which edits the settings and shows and prunes the
//! history): one format, one place, so the two programs cannot drift apart.
#![forbid(unsafe_code)]

pub mod config;
pub mod fsutil;
pub mod history;
pub mod logging;

pub use config::{save_ui, Config, Dirs, SettingsError, UiSettings};
