//! The local history of requests, in the format and with the locking the tray app shares
//! (`eidlink-settings`).

pub use eidlink_settings::history::{append, read, Entry};
