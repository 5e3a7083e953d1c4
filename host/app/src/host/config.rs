//! The user's configuration file. Its format lives in `eidlink-settings`, shared with the tray app
//! that edits it; the host only reads it and turns a bad file into its own error.

pub use eidlink_settings::{Config, Dirs};

use super::errors::{HostError, Reason};

/// Reads the config file; a missing file means the defaults, a malformed one is an error that names
/// the file.
pub fn load(dirs: Option<&Dirs>) -> Result<Config, HostError> {
    Config::load(dirs).map_err(|e| HostError::new(Reason::Internal, e.to_string()))
}
