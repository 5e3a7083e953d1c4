//! The user's configuration file, `config.toml` in the user's config directory
//! (`~/.config/eidlink/` on Linux, `%APPDATA%\eidlink\eidlink\config\` on Windows):
//!
//! ```toml
//! pin-program = ["/usr/bin/eidlink-pin"]   # the PIN dialog program and its arguments
//! logging = true                           # log to <data dir>/eidlink-host.log (off by default)
//! log-level = "debug"                      # default "info"
//! allow-http-localhost = true              # developers: accept http://localhost origins
//! timeout-seconds = 120                    # how long the host waits for the user and the card
//! language = "nl"                          # fr, nl, de or en; default: the system's language
//! pkcs11-modules = ["/opt/vendor/lib/libvendorpkcs11.so"]   # vendor PKCS#11 modules, always asked
//! well-known-pkcs11-modules = false         # do not look for the known vendor modules (default true)
//!
//! [prefer-module]                           # readers whose card a module runs instead of our driver
//! "Gemalto PC Twin Reader" = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
//! ```
//!
//! The host only reads it; the tray app edits the keys its settings page shows ([`UiSettings`])
//! and leaves every other key, and the user's comments, as they were.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eidlink_lang::Language;
use serde::Deserialize;

/// Why the configuration could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but is not valid.
    #[error("the configuration file {path} is invalid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, as the TOML parser says it.
        message: String,
    },
    /// The file could not be read or written.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// "read" or "write".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// No home directory, so no place for the file.
    #[error("no home directory: eidlink cannot store settings")]
    NoHome,
}

/// The settings, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
// Unknown keys are not refused: a newer tray may write a setting this host does not know, and
// refusing the file would make every request fail. They are listed in `ignored_keys` instead.
#[serde(default, rename_all = "kebab-case")]
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
    /// The user interface language (`fr`, `nl`, `de`, `en`). Kept as text so that a value this
    /// version does not know falls back to the system language instead of breaking the host.
    pub language: Option<String>,
    /// PKCS#11 modules to look through besides our own drivers, in this order.
    pub pkcs11_modules: Vec<String>,
    /// Whether the well-known vendor modules found on this system are asked about cards that none
    /// of our drivers runs.
    pub well_known_pkcs11_modules: bool,
    /// Reader name (or part of it) → module: that module's token wins over our driver's in it.
    pub prefer_module: std::collections::BTreeMap<String, String>,
    /// Keys of the file this version does not know (warned about and otherwise ignored).
    #[serde(skip)]
    pub ignored_keys: Vec<String>,
}

/// The longest user-interaction timeout: a day. Larger values (up to `u64::MAX`) would overflow
/// the deadline arithmetic of every request.
pub const MAX_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;

impl Default for Config {
    fn default() -> Self {
        Self {
            pin_program: None,
            logging: false,
            log_level: None,
            allow_http_localhost: false,
            timeout_seconds: 120,
            language: None,
            pkcs11_modules: Vec::new(),
            well_known_pkcs11_modules: true,
            prefer_module: Default::default(),
            ignored_keys: Vec::new(),
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

    /// The configuration file.
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }
}

impl Config {
    /// Reads the config file; a missing file means the defaults, a malformed one is an error that
    /// names the file.
    pub fn load(dirs: Option<&Dirs>) -> Result<Self, SettingsError> {
        match dirs {
            Some(dirs) => Self::load_file(&dirs.config_file()),
            None => Ok(Self::default()),
        }
    }

    /// Reads a config file (missing: the defaults).
    pub fn load_file(path: &Path) -> Result<Self, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|message| SettingsError::Invalid {
                path: path.to_path_buf(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(SettingsError::Io {
                what: "read",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses the text of a config file; keys this version does not know are kept in
    /// `ignored_keys` (and logged), not refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ignored = Vec::new();
        let de = toml::Deserializer::new(text);
        let mut config: Config = serde_ignored::deserialize(de, |path| ignored.push(path.to_string()))
            .map_err(|e: toml::de::Error| e.to_string())?;
        for key in &ignored {
            tracing::warn!(
                key,
                "unknown setting in config.toml ignored (written by a newer eidlink?)"
            );
        }
        config.ignored_keys = ignored;
        Ok(config)
    }

    /// The user-interaction timeout, between 1 s and [`MAX_TIMEOUT_SECONDS`].
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.clamp(1, MAX_TIMEOUT_SECONDS))
    }

    /// The PIN program's argv.
    pub fn pin_program_argv(&self) -> Vec<String> {
        self.pin_program_argv_near(None)
    }

    /// The PIN program's argv for a program that is not in eidlink's directory itself (the PKCS#11
    /// module, loaded by a browser): the configured one, else `eidlink-pin` in `dir` (the module's
    /// directory), else beside this process's program, else on the `PATH`.
    pub fn pin_program_argv_near(&self, dir: Option<&std::path::Path>) -> Vec<String> {
        if let Some(argv) = self.pin_program.as_ref().filter(|a| !a.is_empty()) {
            return argv.clone();
        }
        let name = if cfg!(windows) {
            "eidlink-pin.exe"
        } else {
            "eidlink-pin"
        };
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf));
        let found = dir
            .map(std::path::Path::to_path_buf)
            .into_iter()
            .chain(exe_dir)
            .map(|d| d.join(name))
            .find(|p| p.exists());
        match found {
            Some(p) => vec![p.display().to_string()],
            None => vec!["eidlink-pin".to_owned()],
        }
    }

    /// The configured language, if it is one eidlink speaks.
    pub fn configured_language(&self) -> Option<Language> {
        self.language.as_deref().and_then(Language::parse)
    }

    /// The language to show where no site asks for one (the tray app): eidlink-lang's rule, from
    /// the configured language on: else the system's, else English.
    pub fn effective_language(&self) -> Language {
        eidlink_lang::resolve_here(None, self.language.as_deref())
    }

    /// The settings the tray app shows.
    pub fn ui(&self) -> UiSettings {
        UiSettings {
            language: self.configured_language(),
            logging: self.logging,
            allow_http_localhost: self.allow_http_localhost,
        }
    }
}

/// The settings the tray app edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UiSettings {
    /// The chosen language; `None`: follow the system.
    pub language: Option<Language>,
    /// Logging on or off.
    pub logging: bool,
    /// Accept `http://localhost` origins.
    pub allow_http_localhost: bool,
}

/// Writes `ui` into the config file, keeping every other key and the user's comments; atomic, so
/// a host starting at that moment reads the old or the new file, never half of one.
pub fn save_ui(path: &Path, ui: &UiSettings) -> Result<(), SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(SettingsError::Io {
                what: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    // A file we cannot parse is left alone: overwriting it would lose what the user wrote.
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| SettingsError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    match ui.language {
        Some(l) => doc["language"] = toml_edit::value(l.code()),
        None => {
            doc.remove("language");
        }
    }
    doc["logging"] = toml_edit::value(ui.logging);
    doc["allow-http-localhost"] = toml_edit::value(ui.allow_http_localhost);
    crate::fsutil::write_atomic(path, doc.to_string().as_bytes()).map_err(|source| SettingsError::Io {
        what: "write",
        path: path.to_path_buf(),
        source,
    })?;
    tracing::debug!(path = %path.display(), "settings saved");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings() {
        let c: Config = toml::from_str("pin-program = [\"/bin/x\", \"-a\"]\nlogging = true\ntimeout-seconds = 5\n")
            .unwrap_or_default();
        assert_eq!(c.pin_program_argv(), vec!["/bin/x".to_owned(), "-a".to_owned()]);
        assert!(c.logging);
        assert_eq!(c.timeout(), Duration::from_secs(5));
        assert_eq!(Config::default().timeout(), Duration::from_secs(120));
    }

    #[test]
    fn unknown_keys_are_listed_and_the_rest_still_applies() {
        let c = Config::parse("pin_programme = 1\nlogging = true\n[future-table]\nx = 2\n");
        let c = c.unwrap_or_default();
        assert!(c.logging, "the known key still applies");
        assert_eq!(
            c.ignored_keys,
            vec!["pin_programme".to_owned(), "future-table".to_owned()]
        );
        // A known key with a value of the wrong type is still an error.
        assert!(Config::parse("logging = 3").is_err());
    }

    #[test]
    fn huge_timeouts_are_clamped() {
        let c = Config::parse("timeout-seconds = 9223372036854775807").unwrap_or_default();
        assert_eq!(c.timeout(), Duration::from_secs(MAX_TIMEOUT_SECONDS));
        // The deadline every request computes must not overflow.
        assert!(std::time::Instant::now().checked_add(c.timeout()).is_some());
        let zero = Config::parse("timeout-seconds = 0").unwrap_or_default();
        assert_eq!(zero.timeout(), Duration::from_secs(1));
    }

    #[test]
    fn languages_from_codes_and_locales() {
        // (How tags and locale names are read is tested in eidlink-lang, with these cases.)
        let c: Config = toml::from_str("language = \"nl_BE.UTF-8\"").unwrap_or_default();
        assert_eq!(c.configured_language(), Some(Language::Nl));
        let c: Config = toml::from_str("language = \"DE\"").unwrap_or_default();
        assert_eq!(c.configured_language(), Some(Language::De));
        assert_eq!(
            c.effective_language(),
            Language::De,
            "the setting comes before the system"
        );
        // An unknown language in the file is not an error: the system language is used instead.
        let c: Config = toml::from_str("language = \"es\"").unwrap_or_default();
        assert_eq!(c.language.as_deref(), Some("es"));
        assert_eq!(c.configured_language(), None);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eidlink-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn save_keeps_other_keys_and_comments() {
        let dir = temp_dir("save");
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "# my PIN program\npin-program = [\"/opt/pin\"]\ntimeout-seconds = 30\nlogging = true\nlanguage = \"de\"\n",
        )
        .unwrap();
        let ui = UiSettings {
            language: Some(Language::Nl),
            logging: false,
            allow_http_localhost: true,
        };
        save_ui(&path, &ui).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# my PIN program"), "{text}");
        let c = Config::load_file(&path).unwrap();
        assert_eq!(c.pin_program, Some(vec!["/opt/pin".to_owned()]));
        assert_eq!(c.timeout_seconds, 30);
        assert_eq!(c.ui(), ui);

        // Back to the system language: the key goes away.
        save_ui(&path, &UiSettings { language: None, ..ui }).unwrap();
        assert_eq!(Config::load_file(&path).unwrap().language, None);
        // Only config.toml is left: no temporary file.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn save_creates_the_file_and_refuses_to_clobber_a_broken_one() {
        let dir = temp_dir("create");
        let path = dir.join("sub/config.toml");
        let ui = UiSettings {
            language: Some(Language::Fr),
            logging: true,
            allow_http_localhost: false,
        };
        save_ui(&path, &ui).unwrap();
        assert_eq!(Config::load_file(&path).unwrap().ui(), ui);

        std::fs::write(&path, "logging = [unclosed").unwrap();
        assert!(matches!(save_ui(&path, &ui), Err(SettingsError::Invalid { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "logging = [unclosed");
        assert!(matches!(Config::load_file(&path), Err(SettingsError::Invalid { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
