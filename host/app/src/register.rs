//! Native-messaging host registration: the JSON manifests that tell each browser where
//! `eidlink-host` is and which extension may start it (protocol.md §2; test-infra.md §2–3 for the
//! directories each browser reads on Linux).
//!
//! Chromium-family browsers read `NativeMessagingHosts/<name>.json` inside their user-data
//! directory (so a throwaway profile given with `--user-data-dir` has its own), and a system-wide
//! directory under /etc. Firefox reads `~/.mozilla/native-messaging-hosts/` per user, and
//! `/usr/lib/mozilla/native-messaging-hosts/` system-wide; it has no per-profile location.
//!
//! macOS has the same two levels under `~/Library/Application Support` and `/Library`. Windows
//! browsers read no directory: the default value of a registry key
//! (`HKCU` or `HKLM\Software\<browser>\NativeMessagingHosts\org.eidlink.host`) names the
//! manifest file, so there a registration is the manifest (kept under `%APPDATA%\eidlink` or
//! `%ProgramData%\eidlink`) plus that key. The .msi writes the same keys (installer/windows).

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod pkcs11;

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

    /// A short name for file and directory names.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Chromium => "chromium",
            Self::Chrome => "chrome",
            Self::Edge => "edge",
            Self::Brave => "brave",
            Self::Firefox => "firefox",
        }
    }

    /// The default user-data directory, relative to the user's config dir (Chromium family).
    #[cfg(all(unix, not(target_os = "macos")))]
    fn user_data_dir(self) -> Option<&'static str> {
        match self {
            Self::Chromium => Some("chromium"),
            Self::Chrome => Some("google-chrome"),
            Self::Edge => Some("microsoft-edge"),
            Self::Brave => Some("BraveSoftware/Brave-Browser"),
            Self::Firefox => None,
        }
    }

    /// The default user-data directory, relative to `~/Library/Application Support`.
    #[cfg(target_os = "macos")]
    fn user_data_dir(self) -> Option<&'static str> {
        match self {
            Self::Chromium => Some("Chromium"),
            Self::Chrome => Some("Google/Chrome"),
            Self::Edge => Some("Microsoft Edge"),
            Self::Brave => Some("BraveSoftware/Brave-Browser"),
            Self::Firefox => None,
        }
    }

    /// The directory the browser reads system-wide host manifests from.
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn system_dir(self) -> PathBuf {
        PathBuf::from(match self {
            Self::Chromium => "/etc/chromium/native-messaging-hosts",
            Self::Chrome => "/etc/opt/chrome/native-messaging-hosts",
            Self::Edge => "/etc/opt/edge/native-messaging-hosts",
            Self::Brave => "/etc/opt/brave.com/brave/native-messaging-hosts",
            Self::Firefox => "/usr/lib/mozilla/native-messaging-hosts",
        })
    }

    /// The directory the browser reads system-wide host manifests from.
    #[cfg(target_os = "macos")]
    pub fn system_dir(self) -> PathBuf {
        PathBuf::from(match self {
            Self::Chromium => "/Library/Application Support/Chromium/NativeMessagingHosts",
            Self::Chrome => "/Library/Google/Chrome/NativeMessagingHosts",
            Self::Edge => "/Library/Microsoft/Edge/NativeMessagingHosts",
            Self::Brave => "/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            Self::Firefox => "/Library/Application Support/Mozilla/NativeMessagingHosts",
        })
    }

    /// Where the system-wide manifest for this browser is kept; `HKLM` names it.
    #[cfg(windows)]
    pub fn system_dir(self) -> PathBuf {
        windows_registry::system_base().join(self.slug())
    }

    /// The registry key (under `HKCU` or `HKLM`) whose default value names the manifest, on
    /// Windows. Chromium builds it from the browser's own registry path (`Google\Chrome`,
    /// `BraveSoftware\Brave-Browser`, ...); Firefox reads `Mozilla`.
    pub fn registry_key(self) -> String {
        let vendor = match self {
            Self::Chromium => "Chromium",
            Self::Chrome => "Google\\Chrome",
            Self::Edge => "Microsoft\\Edge",
            Self::Brave => "BraveSoftware\\Brave-Browser",
            Self::Firefox => "Mozilla",
        };
        format!("Software\\{vendor}\\NativeMessagingHosts\\{HOST_NAME}")
    }

    /// The directory the browser reads this user's host manifests from, or inside `profile`
    /// (a Chromium-family user-data directory).
    #[cfg(unix)]
    pub fn user_dir(self, dirs: &UserDirs, profile: Option<&Path>) -> Result<PathBuf, RegisterError> {
        match (self.user_data_dir(), profile) {
            (Some(_), Some(profile)) => Ok(profile.join("NativeMessagingHosts")),
            (Some(data), None) => Ok(dirs.config.join(data).join("NativeMessagingHosts")),
            (None, Some(_)) => Err(RegisterError::NoFirefoxProfileDir),
            #[cfg(target_os = "macos")]
            (None, None) => Ok(dirs.config.join("Mozilla/NativeMessagingHosts")),
            #[cfg(not(target_os = "macos"))]
            (None, None) => Ok(dirs.home.join(".mozilla/native-messaging-hosts")),
        }
    }

    /// Where this user's manifest for the browser is kept (`%APPDATA%\eidlink\...`); `HKCU`
    /// names it. Windows browsers read no per-profile directory.
    #[cfg(windows)]
    pub fn user_dir(self, dirs: &UserDirs, profile: Option<&Path>) -> Result<PathBuf, RegisterError> {
        match profile {
            Some(_) => Err(RegisterError::NoProfileDirOnWindows),
            None => Ok(dirs
                .config
                .join("eidlink")
                .join("NativeMessagingHosts")
                .join(self.slug())),
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
    /// Windows browsers find hosts through the registry only, never in a profile directory.
    #[error("on Windows, browsers find native hosts through the registry, not in a profile: drop --profile-dir")]
    NoProfileDirOnWindows,
    /// A Windows registry error, with the key.
    #[error("registry key {key}: {source}")]
    Registry {
        /// The key, with its hive.
        key: String,
        /// The error.
        source: io::Error,
    },
    /// A `policies.json` eidlink will not edit (it is not the JSON object Firefox reads).
    #[error("{path}: {why}")]
    Policies {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A tool eidlink runs is not installed.
    #[error("{0} not found (it is in Debian's libnss3-tools)")]
    ToolMissing(&'static str),
    /// A tool eidlink ran failed.
    #[error("{command}: {why}")]
    Tool {
        /// The command line.
        command: String,
        /// Its exit status and what it said.
        why: String,
    },
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
    let path = Browser::manifest_path(dir);
    let mut json = serde_json::to_string_pretty(&browser.manifest(&host)).map_err(|e| RegisterError::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    json.push('\n');
    write_atomic(&path, json.as_bytes())?;
    #[cfg(windows)]
    windows_registry::register(browser, dir, &path)?;
    Ok(path)
}

/// Writes `path` (and the directories on the way), beside and renamed, so that a browser never
/// reads half a file.
fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), RegisterError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(RegisterError::Io {
            path: path.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        });
    };
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, contents).map_err(io_at(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_at(path))
}

/// Removes our manifest from `dir` (on Windows also the registry keys naming it); returns whether
/// there was one.
pub fn uninstall(dir: &Path) -> Result<bool, RegisterError> {
    let path = Browser::manifest_path(dir);
    #[cfg(windows)]
    let unregistered = windows_registry::unregister(dir, &path)?;
    #[cfg(not(windows))]
    let unregistered = false;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(unregistered),
        Err(e) => Err(RegisterError::Io { path, source: e }),
    }
}

/// What a registration looks like on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No manifest (on Windows: no registry key naming one).
    Absent,
    /// A manifest that browsers cannot use, and why.
    Broken(String),
    /// A working manifest pointing at this host program.
    Ok {
        /// The manifest the browser reads.
        manifest: PathBuf,
        /// The host program it starts.
        host: PathBuf,
    },
}

/// The manifest `browser` reads for the registration in `dir`: on Windows the file that the
/// browser's registry key names (`HKLM` for the system registration, wherever the installer put
/// it, `HKCU` for the user's), elsewhere the file in `dir`. `None` when there is no key.
fn registered_manifest(browser: Browser, dir: &Path) -> Result<Option<PathBuf>, String> {
    #[cfg(windows)]
    {
        windows_registry::named_manifest(browser, dir)
    }
    #[cfg(not(windows))]
    {
        let _ = browser;
        Ok(Some(Browser::manifest_path(dir)))
    }
}

/// Checks the registration in `dir` for `browser` the way the browser reads it: finds the
/// manifest (through the registry on Windows), parses it, checks its name, the extension it allows
/// and that its host program exists and is executable.
pub fn check(browser: Browser, dir: &Path) -> Status {
    let path = match registered_manifest(browser, dir) {
        Ok(Some(path)) => path,
        Ok(None) => return Status::Absent,
        Err(why) => return Status::Broken(why),
    };
    let manifest: Manifest = match read_manifest(&path) {
        Ok(Some(m)) => m,
        Ok(None) => return Status::Absent,
        Err(why) => return Status::Broken(why),
    };
    let want = browser.manifest(Path::new(&manifest.path));
    if manifest.name != HOST_NAME || manifest.kind != "stdio" {
        return Status::Broken(format!("names host {:?} of type {:?}", manifest.name, manifest.kind));
    }
    if manifest.allowed_origins != want.allowed_origins || manifest.allowed_extensions != want.allowed_extensions {
        return Status::Broken("does not allow the eidlink extension".to_owned());
    }
    let host = PathBuf::from(&manifest.path);
    let host = if host.is_absolute() {
        host
    } else if cfg!(windows) {
        // Chromium and Firefox on Windows read a relative path from the manifest's folder (the
        // .msi's manifests say "eidlink-host.exe"); elsewhere it must be absolute.
        path.parent().map_or(host.clone(), |d| d.join(&host))
    } else {
        return Status::Broken(format!("host path {} is not absolute", host.display()));
    };
    if !is_executable(&host) {
        return Status::Broken(format!("host {} is missing or not executable", host.display()));
    }
    Status::Ok { manifest: path, host }
}

/// The registry half of a Windows registration: the key whose default value is the manifest's
/// path, in `HKLM` for the system directory (`%ProgramData%\eidlink`, what `--system` writes)
/// and in `HKCU` for any other directory.
#[cfg(windows)]
mod windows_registry {
    use std::io;
    use std::path::{Path, PathBuf};

    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};
    use winreg::RegKey;

    use super::{Browser, RegisterError};

    /// `%ProgramData%\eidlink`: what `--system` writes lives under it, and `HKLM` names it.
    pub(super) fn system_root() -> PathBuf {
        let data = std::env::var_os("ProgramData").map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
        data.join("eidlink")
    }

    /// `%ProgramData%\eidlink\NativeMessagingHosts`.
    pub(super) fn system_base() -> PathBuf {
        system_root().join("NativeMessagingHosts")
    }

    fn hive(dir: &Path) -> (RegKey, &'static str) {
        if dir.starts_with(system_root()) {
            (RegKey::predef(HKEY_LOCAL_MACHINE), "HKLM")
        } else {
            (RegKey::predef(HKEY_CURRENT_USER), "HKCU")
        }
    }

    fn error(hive: &str, key: &str) -> impl FnOnce(io::Error) -> RegisterError {
        let key = format!("{hive}\\{key}");
        move |source| RegisterError::Registry { key, source }
    }

    pub(super) fn register(browser: Browser, dir: &Path, manifest: &Path) -> Result<(), RegisterError> {
        set_default(dir, &browser.registry_key(), manifest)
    }

    /// Sets the default value of `key` (in the hive of `dir`) to `manifest`'s path.
    pub(super) fn set_default(dir: &Path, key: &str, manifest: &Path) -> Result<(), RegisterError> {
        let (root, name) = hive(dir);
        let (k, _) = root.create_subkey(key).map_err(error(name, key))?;
        k.set_value("", &manifest.display().to_string())
            .map_err(error(name, key))
    }

    /// Deletes every browser's key that names `manifest`; returns whether there was one.
    pub(super) fn unregister(dir: &Path, manifest: &Path) -> Result<bool, RegisterError> {
        let mut any = false;
        for b in Browser::ALL {
            any |= delete_if_names(dir, &b.registry_key(), manifest)?;
        }
        Ok(any)
    }

    /// Deletes `key` (in the hive of `dir`) if its default value names `manifest`.
    pub(super) fn delete_if_names(dir: &Path, key: &str, manifest: &Path) -> Result<bool, RegisterError> {
        let (root, name) = hive(dir);
        let Ok(k) = root.open_subkey(key) else {
            return Ok(false);
        };
        let value: String = k.get_value("").unwrap_or_default();
        if Path::new(&value) != manifest {
            return Ok(false);
        }
        drop(k);
        root.delete_subkey_all(key).map_err(error(name, key))?;
        Ok(true)
    }

    /// The manifest the browser's key names, `None` when there is no key.
    pub(super) fn named_manifest(browser: Browser, dir: &Path) -> Result<Option<PathBuf>, String> {
        named(dir, &browser.registry_key())
    }

    /// The manifest `key` (in the hive of `dir`) names, `None` when there is no key.
    pub(super) fn named(dir: &Path, key: &str) -> Result<Option<PathBuf>, String> {
        let (root, name) = hive(dir);
        let k = match root.open_subkey(key) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{name}\\{key}: {e}")),
        };
        let value: String = k
            .get_value("")
            .map_err(|e| format!("{name}\\{key} has no manifest path: {e}"))?;
        Ok(Some(PathBuf::from(value)))
    }
}

/// A browser manifest read for `diagnose`: `None` when there is none (on Windows the registry key
/// names the file, so a missing file there is broken, not absent), else the manifest or what is
/// wrong with it.
pub(crate) fn read_manifest<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !cfg!(windows) => return Ok(None),
        Err(e) => return Err(format!("{}: unreadable: {e}", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: not a valid manifest: {e}", path.display()))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A fresh directory for one test of the registrations (`register::pkcs11`'s too).
    pub(crate) fn temp(name: &str) -> PathBuf {
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
    #[cfg(all(unix, not(target_os = "macos")))]
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

    /// The .msi (installer/windows) ships these manifests and keys: they must be the ones this
    /// module writes, the host given relative to the manifest (browsers accept that on Windows).
    #[test]
    fn windows_installer_matches() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../installer/windows");
        for (b, file) in [
            (Browser::Chrome, "org.eidlink.host.chromium.json"),
            (Browser::Firefox, "org.eidlink.host.firefox.json"),
        ] {
            let mut want = serde_json::to_string_pretty(&b.manifest(Path::new("eidlink-host.exe"))).unwrap();
            want.push('\n');
            let got = std::fs::read_to_string(dir.join(file)).unwrap().replace("\r\n", "\n");
            assert_eq!(got, want, "{file}");
        }
        let wxs = std::fs::read_to_string(dir.join("eidlink.wxs")).unwrap();
        for b in Browser::ALL {
            assert!(
                wxs.contains(&format!("Key=\"{}\"", b.registry_key())),
                "{}",
                b.registry_key()
            );
        }
        assert_eq!(
            Browser::Edge.registry_key(),
            "Software\\Microsoft\\Edge\\NativeMessagingHosts\\org.eidlink.host"
        );
    }

    #[test]
    fn install_check_uninstall() {
        let d = temp("cycle");
        let host = fake_host(&d);
        let dir = d.join("profile/NativeMessagingHosts");
        assert_eq!(check(Browser::Chromium, &dir), Status::Absent);
        let written = install(Browser::Chromium, &dir, &host).unwrap();
        assert_eq!(written, dir.join("org.eidlink.host.json"));
        assert_eq!(
            check(Browser::Chromium, &dir),
            Status::Ok {
                manifest: written.clone(),
                host: std::path::absolute(&host).unwrap()
            }
        );
        // A Chromium manifest does not serve Firefox (on Windows, Firefox's key names none).
        #[cfg(not(windows))]
        assert!(matches!(check(Browser::Firefox, &dir), Status::Broken(_)));
        #[cfg(windows)]
        assert_eq!(check(Browser::Firefox, &dir), Status::Absent);
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
