//! Which program asks for the card: the process that loaded the module (the browser), by the name
//! its users know, so the PIN dialog can say "Firefox asks ...". PKCS#11 tells the module nothing
//! of the site; the program is the one thing it can name truthfully.

use std::path::Path;

/// The longest program name shown (it comes from another process: a file name can be anything).
const MAX_NAME: usize = 40;

/// The name of the program this module runs in.
pub(crate) fn asking_program() -> String {
    let exe = helper_parent().or_else(|| std::env::current_exe().ok());
    exe.as_deref().map_or_else(|| "A program".to_owned(), display_name)
}

/// Chromium runs NSS in helper processes too (`--type=utility` ...): the browser is their parent.
#[cfg(target_os = "linux")]
fn helper_parent() -> Option<std::path::PathBuf> {
    let cmdline = std::fs::read("/proc/self/cmdline").ok()?;
    let is_helper = cmdline.split(|&b| b == 0).any(|arg| arg.starts_with(b"--type="));
    if !is_helper {
        return None;
    }
    std::fs::read_link(format!("/proc/{}/exe", std::os::unix::process::parent_id())).ok()
}

#[cfg(not(target_os = "linux"))]
fn helper_parent() -> Option<std::path::PathBuf> {
    None
}

/// "Firefox" for `/usr/lib/firefox-esr/firefox-esr`, "Chromium" for `/usr/lib/chromium/chromium`;
/// other programs by their file name.
pub(crate) fn display_name(exe: &Path) -> String {
    // Either separator, whatever the platform this runs on (a path from Windows' process list has
    // backslashes).
    let path = exe.to_string_lossy();
    let file = path.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = file
        .strip_suffix(".exe")
        .or_else(|| file.strip_suffix(".EXE"))
        .unwrap_or(file)
        .to_owned();
    let known = match stem.to_ascii_lowercase().as_str() {
        "firefox" | "firefox-esr" | "firefox-bin" => Some("Firefox"),
        "thunderbird" | "thunderbird-bin" => Some("Thunderbird"),
        "chromium" | "chromium-browser" => Some("Chromium"),
        "chrome" | "google-chrome" | "google-chrome-stable" => Some("Google Chrome"),
        "msedge" | "microsoft-edge" => Some("Microsoft Edge"),
        "brave" | "brave-browser" => Some("Brave"),
        "opera" => Some("Opera"),
        "vivaldi" | "vivaldi-bin" => Some("Vivaldi"),
        _ => None,
    };
    let name = known.map_or(stem, str::to_owned);
    let name: String = name.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect();
    if name.is_empty() {
        "A program".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_as_their_users_know_them() {
        assert_eq!(display_name(Path::new("/usr/lib/firefox-esr/firefox-esr")), "Firefox");
        assert_eq!(display_name(Path::new("/usr/lib/chromium/chromium")), "Chromium");
        assert_eq!(
            display_name(Path::new("C:\\Program Files\\Mozilla Firefox\\firefox.exe")),
            "Firefox"
        );
        assert_eq!(display_name(Path::new("/usr/bin/pkcs11-tool")), "pkcs11-tool");
        let long = format!("/tmp/{}\u{7}x", "a".repeat(60));
        assert_eq!(display_name(Path::new(&long)).len(), MAX_NAME);
        assert_eq!(display_name(Path::new("/")), "A program");
    }
}
