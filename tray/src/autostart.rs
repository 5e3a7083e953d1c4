//! Starting the tray at login. On Linux (and other freedesktop systems) that is an XDG autostart
//! entry, `~/.config/autostart/eidlink-tray.desktop`: present means on, absent means off. Windows
//! and macOS get their own mechanism when the tray is built there.

use std::path::{Path, PathBuf};

/// The entry's file name.
pub const FILE: &str = "eidlink-tray.desktop";

/// The user's autostart entry for the tray, and the system-wide entries a package may install
/// (`$XDG_CONFIG_DIRS/autostart`, `/etc/xdg/autostart` by default), which the user's entry of the
/// same name overrides.
#[derive(Debug, Clone)]
pub struct Autostart {
    path: PathBuf,
    system: Vec<PathBuf>,
}

fn hidden(text: &str) -> bool {
    text.lines()
        .map(|l| l.replace(' ', ""))
        .any(|l| l == "Hidden=true" || l == "X-GNOME-Autostart-enabled=false")
}

impl Autostart {
    /// The entry in the user's autostart directory (`$XDG_CONFIG_HOME/autostart`), over the
    /// system's.
    pub fn for_user() -> Option<Self> {
        let base = directories::BaseDirs::new()?;
        let dirs = std::env::var("XDG_CONFIG_DIRS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "/etc/xdg".to_owned());
        let system = dirs
            .split(':')
            .filter(|d| Path::new(d).is_absolute())
            .map(|d| Path::new(d).join("autostart").join(FILE))
            .collect();
        Some(Self::with_dirs(base.config_dir(), system))
    }

    /// The entry under a given config directory, with no system entries (tests, other homes).
    pub fn in_config_dir(config_dir: &Path) -> Self {
        Self::with_dirs(config_dir, Vec::new())
    }

    /// The entry under `config_dir`, over the given system entries (most important first).
    pub fn with_dirs(config_dir: &Path, system: Vec<PathBuf>) -> Self {
        Self {
            path: config_dir.join("autostart").join(FILE),
            system,
        }
    }

    /// The user's entry's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The system entry in force, if a package installed one.
    fn system_entry(&self) -> Option<String> {
        self.system.iter().find_map(|p| std::fs::read_to_string(p).ok())
    }

    /// Whether the tray starts at login: the user's entry if there is one, else the system's; an
    /// entry counts unless hidden or disabled (desktop settings may set `Hidden=true` or
    /// `X-GNOME-Autostart-enabled=false` instead of deleting it).
    pub fn is_enabled(&self) -> bool {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => !hidden(&text),
            Err(_) => self.system_entry().is_some_and(|t| !hidden(&t)),
        }
    }

    /// Makes the tray start at login: the system entry does if the package installed one (the
    /// user's override is removed), else a user entry starting `exe` with the window hidden.
    pub fn enable(&self, exe: &Path) -> std::io::Result<()> {
        if self.system_entry().is_some_and(|t| !hidden(&t)) {
            return remove(&self.path);
        }
        let entry = format!(
            "[Desktop Entry]\n\
             Type=Application\n\
             Name=eidlink\n\
             Comment=eID card status and history\n\
             Exec={} --hidden\n\
             Icon=eidlink\n\
             Terminal=false\n\
             NoDisplay=true\n\
             X-GNOME-Autostart-enabled=true\n",
            exec_arg(&exe.to_string_lossy())
        );
        eidlink_settings::fsutil::write_atomic(&self.path, entry.as_bytes())
    }

    /// Stops the tray from starting at login: removes the user's entry, or, over a system entry,
    /// writes a hidden user entry (deleting a package's file is not the user's business).
    pub fn disable(&self) -> std::io::Result<()> {
        if self.system_entry().is_some() {
            let entry = "[Desktop Entry]\nType=Application\nName=eidlink\nExec=eidlink-tray --hidden\nHidden=true\n";
            return eidlink_settings::fsutil::write_atomic(&self.path, entry.as_bytes());
        }
        remove(&self.path)
    }
}

fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// One argument of a desktop entry's `Exec` key: quoted when it has reserved characters, with the
/// escapes the Desktop Entry Specification asks for (inside quotes `"`, `` ` ``, `$` and `\` are
/// backslash-escaped, then the value itself escapes `\`; `%` is doubled everywhere).
fn exec_arg(arg: &str) -> String {
    const RESERVED: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`',
    ];
    let arg = arg.replace('%', "%%");
    if !arg.contains(RESERVED) {
        return arg;
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' => {
                out.push_str("\\\\");
                out.push(c);
            }
            '\\' => out.push_str("\\\\\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_disable_and_hidden_entries() {
        let dir = std::env::temp_dir().join(format!("eidlink-autostart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = Autostart::in_config_dir(&dir);
        assert!(!a.is_enabled());
        a.enable(Path::new("/usr/bin/eidlink-tray")).unwrap();
        assert!(a.is_enabled());
        let text = std::fs::read_to_string(a.path()).unwrap();
        assert!(text.starts_with("[Desktop Entry]\n"), "{text}");
        assert!(text.contains("\nExec=/usr/bin/eidlink-tray --hidden\n"), "{text}");
        assert_eq!(a.path(), dir.join("autostart/eidlink-tray.desktop"));

        std::fs::write(a.path(), text.replace("X-GNOME-Autostart-enabled=true", "Hidden=true")).unwrap();
        assert!(!a.is_enabled());
        a.enable(Path::new("/usr/bin/eidlink-tray")).unwrap();
        assert!(a.is_enabled());

        a.disable().unwrap();
        assert!(!a.is_enabled() && !a.path().exists());
        a.disable().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_system_entry_is_overridden_not_deleted() {
        let dir = std::env::temp_dir().join(format!("eidlink-autostart-sys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let system = dir.join("etc/xdg/autostart").join(FILE);
        std::fs::create_dir_all(system.parent().unwrap()).unwrap();
        std::fs::write(
            &system,
            "[Desktop Entry]\nType=Application\nExec=eidlink-tray --hidden\n",
        )
        .unwrap();
        let a = Autostart::with_dirs(&dir.join("home"), vec![system.clone()]);
        assert!(a.is_enabled(), "the package's entry starts it");
        a.disable().unwrap();
        assert!(!a.is_enabled());
        assert!(system.exists(), "the package's file stays");
        assert!(std::fs::read_to_string(a.path()).unwrap().contains("Hidden=true"));
        a.enable(Path::new("/usr/bin/eidlink-tray")).unwrap();
        assert!(a.is_enabled());
        assert!(!a.path().exists(), "the override is gone, the system entry applies");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn exec_quoting() {
        assert_eq!(exec_arg("/usr/bin/eidlink-tray"), "/usr/bin/eidlink-tray");
        assert_eq!(exec_arg("/home/a b/tray"), "\"/home/a b/tray\"");
        assert_eq!(exec_arg("/x/100%"), "/x/100%%");
        assert_eq!(exec_arg("/a $b"), "\"/a \\\\$b\"");
    }
}
