//! Native-messaging host registration: the JSON manifests that tell each browser where
//! `eidlink-host` is and which extension may start it (protocol.md §2; test-infra.md §2–3 for the
//! directories each browser reads on Linux).
//!
//! Chromium-family browsers read `NativeMessagingHosts/<name>.json` inside their user-data
//! directory (so a throwaway profile given with `--user-data-dir` has its own), and a system-wide
//! directory under /etc. Firefox reads `~/.mozilla/native-messaging-hosts/` per user, and
//! `/usr/lib/mozilla/native-messaging-hosts/` system-wide; it has no per-profile location.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The host name the extension passes to `connectNative`.
pub const HOST_NAME: &str = "org.eidlink.host";
/// The Chromium extension id, fixed by the manifest's `key` (extension/README.md).
pub const CHROMIUM_EXTENSION_ID: &str = "ccnigmgcdcaomdokminffignfkmonapb";
/// The Firefox add-on id (`browser_specific_settings.gecko.id`).
pub const FIREFOX_EXTENSION_ID: &str = "eidlink@eidlink.org";

/// A browser eidlink registers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Browser {
    /// Chromium (Debian's and others).
    Chromium,
    /// Google Chrome.
    Chrome,
    /// Microsoft Edge.
    Edge,
    /// Brave.
    Brave,
    /// Mozilla Firefox (and Firefox ESR).
    Firefox,
}

impl Browser {
    /// All browsers, in the order reports list them.
    pub const ALL: [Browser; 5] = [Self::Chromium, Self::Chrome, Self::Edge, Self::Brave, Self::Firefox];

    /// The browser's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Chrome => "Google Chrome",
            Self::Edge => "Microsoft Edge",
            Self::Brave => "Brave",
            Self::Firefox => "Firefox",
        }
    }

    fn is_chromium_family(self) -> bool {
        self != Self::Firefox
    }

    /// The default user-data directory, relative to the user's config dir (Chromium family).
    fn user_data_dir(self) -> Option<&'static str> {
        match self {
            Self::Chromium => Some("chromium"),
            Self::Chrome => Some("google-chrome"),
            Self::Edge => Some("microsoft-edge"),
            Self::Brave => Some("BraveSoftware/Brave-Browser"),
            Self::Firefox => None,
        }
    }

    /// The directory the browser reads system-wide host manifests from (Linux).
    pub fn system_dir(self) -> &'static Path {
        Path::new(match self {
            Self::Chromium => "/etc/chromium/native-messaging-hosts",
            Self::Chrome => "/etc/opt/chrome/native-messaging-hosts",
            Self::Edge => "/etc/opt/edge/native-messaging-hosts",
            Self::Brave => "/etc/opt/brave.com/brave/native-messaging-hosts",
            Self::Firefox => "/usr/lib/mozilla/native-messaging-hosts",
        })
    }

    /// The directory the browser reads this user's host manifests from, or inside `profile`
    /// (a Chromium-family user-data directory).
    pub fn user_dir(self, dirs: &UserDirs, profile: Option<&Path>) -> Result<PathBuf, RegisterError> {
        match (self.user_data_dir(), profile) {
            (Some(_), Some(profile)) => Ok(profile.join("NativeMessagingHosts")),
            (Some(data), None) => Ok(dirs.config.join(data).join("NativeMessagingHosts")),
            (None, Some(_)) => Err(RegisterError::NoFirefoxProfileDir),
            (None, None) => Ok(dirs.home.join(".mozilla/native-messaging-hosts")),
        }
    }

    /// The manifest file for this browser in `dir`.
    pub fn manifest_path(dir: &Path) -> PathBuf {
        dir.join(format!("{HOST_NAME}.json"))
    }

    /// The manifest this browser needs to start `host`.
    pub fn manifest(self, host: &Path) -> Manifest {
        let (allowed_origins, allowed_extensions) = if self.is_chromium_family() {
            (Some(vec![format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")]), None)
        } else {
            (None, Some(vec![FIREFOX_EXTENSION_ID.to_owned()]))
        };
        Manifest {
            name: HOST_NAME.to_owned(),
            description: "eidlink: use your eID card on websites (Web eID compatible)".to_owned(),
            path: host.display().to_string(),
            kind: "stdio".to_owned(),
            allowed_origins,
            allowed_extensions,
        }
    }
}

/// A native-messaging host manifest, as browsers read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The host name (`org.eidlink.host`).
    pub name: String,
    /// Shown by browsers in some error messages.
    pub description: String,
    /// Absolute path of the host program.
    pub path: String,
    /// Always `stdio`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Chromium family: the extension origins allowed to start the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Firefox: the add-on ids allowed to start the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_extensions: Option<Vec<String>>,
}

/// The user's directories the registrations live under.
#[derive(Debug, Clone)]
pub struct UserDirs {
    /// `$HOME`.
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, by default `~/.config` (Chromium honours it too).
    pub config: PathBuf,
}

impl UserDirs {
    /// This user's directories.
    pub fn current() -> Result<Self, RegisterError> {
        let base = directories::BaseDirs::new().ok_or(RegisterError::NoHome)?;
        Ok(Self {
            home: base.home_dir().to_owned(),
            config: base.config_dir().to_owned(),
        })
    }
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// No home directory for this user.
    #[error("cannot find your home directory (is HOME set?)")]
    NoHome,
    /// The host program is not where the manifest would point.
    #[error("the native host {0} does not exist or is not executable: build it, or give its path with --host")]
    BadHost(PathBuf),
    /// Firefox has no per-profile manifest directory.
    #[error(
        "Firefox reads native-messaging manifests per user (~/.mozilla/native-messaging-hosts), not per profile: \
         drop --profile-dir for Firefox (or run with another HOME)"
    )]
    NoFirefoxProfileDir,
    /// A file system error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> RegisterError + '_ {
    move |source| RegisterError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Whether `path` is an executable file.
pub fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The installed host: `eidlink-host` next to the running program.
pub fn default_host() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = if cfg!(windows) {
        "eidlink-host.exe"
    } else {
        "eidlink-host"
    };
    Some(exe.parent()?.join(name))
}

/// Writes the manifest for `browser` in `dir`, pointing at `host`; returns the file written.
pub fn install(browser: Browser, dir: &Path, host: &Path) -> Result<PathBuf, RegisterError> {
    let host = std::path::absolute(host).map_err(io_at(host))?;
    if !is_executable(&host) {
        return Err(RegisterError::BadHost(host));
    }
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let path = Browser::manifest_path(dir);
    let mut json = serde_json::to_string_pretty(&browser.manifest(&host)).map_err(|e| RegisterError::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    json.push('\n');
    // Written beside and renamed, so a browser never reads half a manifest.
    let tmp = dir.join(format!(".{HOST_NAME}.json.tmp"));
    std::fs::write(&tmp, json).map_err(io_at(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_at(&path))?;
    Ok(path)
}

/// Removes our manifest from `dir`; returns whether there was one.
pub fn uninstall(dir: &Path) -> Result<bool, RegisterError> {
    let path = Browser::manifest_path(dir);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(RegisterError::Io { path, source: e }),
    }
}

/// What a registration looks like on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No manifest.
    Absent,
    /// A manifest that browsers cannot use, and why.
    Broken(String),
    /// A working manifest pointing at this host program.
    Ok(PathBuf),
}

/// Checks the manifest in `dir` for `browser`: parses it, checks its name, the extension it allows
/// and that its host program exists and is executable.
pub fn check(browser: Browser, dir: &Path) -> Status {
    let path = Browser::manifest_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Status::Absent,
        Err(e) => return Status::Broken(format!("unreadable: {e}")),
    };
    let manifest: Manifest = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => return Status::Broken(format!("not a valid manifest: {e}")),
    };
    let want = browser.manifest(Path::new(&manifest.path));
    if manifest.name != HOST_NAME || manifest.kind != "stdio" {
        return Status::Broken(format!("names host {:?} of type {:?}", manifest.name, manifest.kind));
    }
    if manifest.allowed_origins != want.allowed_origins || manifest.allowed_extensions != want.allowed_extensions {
        return Status::Broken("does not allow the eidlink extension".to_owned());
    }
    let host = PathBuf::from(&manifest.path);
    if !host.is_absolute() {
        return Status::Broken(format!("host path {} is not absolute", host.display()));
    }
    if !is_executable(&host) {
        return Status::Broken(format!("host {} is missing or not executable", host.display()));
    }
    Status::Ok(host)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("eidlink-register-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn fake_host(dir: &Path) -> PathBuf {
        let host = dir.join("eidlink-host");
        std::fs::write(&host, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        host
    }

    #[test]
    fn user_dirs_per_browser() {
        let dirs = UserDirs {
            home: "/home/a".into(),
            config: "/home/a/.config".into(),
        };
        let dir = |b: Browser| b.user_dir(&dirs, None).unwrap();
        assert_eq!(
            dir(Browser::Chromium),
            Path::new("/home/a/.config/chromium/NativeMessagingHosts")
        );
        assert_eq!(
            dir(Browser::Chrome),
            Path::new("/home/a/.config/google-chrome/NativeMessagingHosts")
        );
        assert_eq!(
            dir(Browser::Brave),
            Path::new("/home/a/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts")
        );
        assert_eq!(
            dir(Browser::Firefox),
            Path::new("/home/a/.mozilla/native-messaging-hosts")
        );
        let profile = Path::new("/tmp/p");
        assert_eq!(
            Browser::Edge.user_dir(&dirs, Some(profile)).unwrap(),
            profile.join("NativeMessagingHosts")
        );
        assert!(matches!(
            Browser::Firefox.user_dir(&dirs, Some(profile)),
            Err(RegisterError::NoFirefoxProfileDir)
        ));
    }

    #[test]
    fn manifests_allow_our_extension_only() {
        let host = Path::new("/usr/bin/eidlink-host");
        let chromium = serde_json::to_value(Browser::Chromium.manifest(host)).unwrap();
        assert_eq!(
            chromium["allowed_origins"][0],
            "chrome-extension://ccnigmgcdcaomdokminffignfkmonapb/"
        );
        assert!(chromium.get("allowed_extensions").is_none());
        assert_eq!(chromium["type"], "stdio");
        assert_eq!(chromium["name"], "org.eidlink.host");
        let firefox = serde_json::to_value(Browser::Firefox.manifest(host)).unwrap();
        assert_eq!(firefox["allowed_extensions"][0], "eidlink@eidlink.org");
        assert!(firefox.get("allowed_origins").is_none());
    }

    #[test]
    fn install_check_uninstall() {
        let d = temp("cycle");
        let host = fake_host(&d);
        let dir = d.join("profile/NativeMessagingHosts");
        assert_eq!(check(Browser::Chromium, &dir), Status::Absent);
        let written = install(Browser::Chromium, &dir, &host).unwrap();
        assert_eq!(written, dir.join("org.eidlink.host.json"));
        assert_eq!(check(Browser::Chromium, &dir), Status::Ok(host.clone()));
        // A Chromium manifest does not serve Firefox.
        assert!(matches!(check(Browser::Firefox, &dir), Status::Broken(_)));
        std::fs::remove_file(&host).unwrap();
        assert!(matches!(check(Browser::Chromium, &dir), Status::Broken(m) if m.contains("missing")));
        assert!(uninstall(&dir).unwrap());
        assert!(!uninstall(&dir).unwrap());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no temporary file left");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn refuses_a_missing_host_and_reports_garbage() {
        let d = temp("bad");
        assert!(matches!(
            install(Browser::Firefox, &d, &d.join("nope")),
            Err(RegisterError::BadHost(_))
        ));
        std::fs::write(Browser::manifest_path(&d), "{not json").unwrap();
        assert!(matches!(check(Browser::Firefox, &d), Status::Broken(m) if m.contains("not a valid")));
        let _ = std::fs::remove_dir_all(&d);
    }
}
