//! The user's configuration file, `config.toml` in the user's config directory
//! (`~/.config/eidlink/` on Linux, `%APPDATA%\eidlink\eidlink\config\` on Windows):
//!
//! ```toml
//! pin-program = ["/usr/bin/eidlink-pin"]   # the PIN dialog program and its arguments
//! logging = true                           # log to <data dir>/eidlink-host.log (off by default)
//! log-level = "debug"                      # default "info"
//! allow-http-localhost = true              # developers: accept http://localhost origins
//! timeout-seconds = 120                    # how long the host waits for the user and the card
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::errors::{HostError, Reason};

/// The settings, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The PIN program and its arguments; default: `eidlink-pin` next to the host, else on PATH.
    pub pin_program: Option<Vec<String>>,
    /// Opt-in logging to a file in the data directory (also on with `EIDLINK_LOG=<level>`).
    pub logging: bool,
    /// Log level when logging.
    pub log_level: Option<String>,
    /// Developer setting: accept `http://localhost` and `http://127.0.0.1` origins.
    pub allow_http_localhost: bool,
    /// How long the host waits for the user (PIN, consent) and for a card, in seconds.
    pub timeout_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pin_program: None,
            logging: false,
            log_level: None,
            allow_http_localhost: false,
            timeout_seconds: 120,
        }
    }
}

/// Where eidlink keeps its files.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// The config directory.
    pub config: PathBuf,
    /// The data directory (log, history).
    pub data: PathBuf,
}

impl Dirs {
    /// The platform's directories for eidlink (XDG on Linux).
    pub fn new() -> Option<Self> {
        let p = directories::ProjectDirs::from("org", "eidlink", "eidlink")?;
        Some(Self {
            config: p.config_dir().to_path_buf(),
            data: p.data_dir().to_path_buf(),
        })
    }
}

impl Config {
    /// Reads the config file; a missing file means the defaults, a malformed one is an error that
    /// names the file.
    pub fn load(dirs: Option<&Dirs>) -> Result<Self, HostError> {
        let Some(dirs) = dirs else { return Ok(Self::default()) };
        let path = dirs.config.join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                HostError::new(
                    Reason::Internal,
                    format!("the configuration file {} is invalid: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(HostError::new(
                Reason::Internal,
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }

    /// The user-interaction timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }

    /// The PIN program's argv.
    pub fn pin_program_argv(&self) -> Vec<String> {
        if let Some(argv) = self.pin_program.as_ref().filter(|a| !a.is_empty()) {
            return argv.clone();
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("eidlink-pin")));
        match beside.filter(|p| p.exists()) {
            Some(p) => vec![p.display().to_string()],
            None => vec!["eidlink-pin".to_owned()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let c: Config = toml::from_str("pin-program = [\"/bin/x\", \"-a\"]\nlogging = true\ntimeout-seconds = 5\n")
            .unwrap_or_default();
        assert_eq!(c.pin_program_argv(), vec!["/bin/x".to_owned(), "-a".to_owned()]);
        assert!(c.logging);
        assert_eq!(c.timeout(), Duration::from_secs(5));
        assert!(toml::from_str::<Config>("pin_programme = 1").is_err());
        assert_eq!(Config::default().timeout(), Duration::from_secs(120));
    }
}
