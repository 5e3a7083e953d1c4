//! The registrations of eidlink's own PKCS#11 module (`eidlink-pkcs11-module`, the library
//! browsers load to log in to sites that ask for a TLS client certificate), one per consumer
//! (field-notes-2.md §B, "How the existing middlewares register their modules"):
//!
//! - Firefox's PKCS#11 native manifest `eidlink_pkcs11.json` (the same lookup as native-messaging
//!   manifests, in `pkcs11-modules` / `PKCS11Modules`; on Windows the registry key
//!   `Software\Mozilla\PKCS11Modules\eidlink_pkcs11` names it). It lets the extension's `pkcs11`
//!   API load the module once the user grants that permission; it loads nothing by itself.
//! - Firefox's enterprise policy `SecurityDevices` in `policies.json` (system-wide, Linux), which
//!   loads the module into every profile.
//! - Chromium and Chrome on Linux: the user's NSS shared database, through `modutil`.
//! - p11-kit: a module file `eidlink.module` (p11-kit-proxy, GnuTLS and others find it there).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{io_at, write_atomic, RegisterError, UserDirs, FIREFOX_EXTENSION_ID};

/// The Firefox PKCS#11 native manifest's name (the extension asks for this name).
pub const FIREFOX_MODULE_NAME: &str = "eidlink_pkcs11";
/// The module's name in NSS: `modutil -add`, and the `SecurityDevices` key.
pub const NSS_MODULE_NAME: &str = "eidlink";
/// The p11-kit module file's name.
pub const P11KIT_FILE: &str = "eidlink.module";
/// Aims the Firefox policies directory elsewhere (tests; default `/etc/firefox/policies`).
pub const POLICIES_DIR_ENV: &str = "EIDLINK_FIREFOX_POLICIES_DIR";
/// Beside a `policies.json` that eidlink created: the file is removed with our entry only then.
const CREATED_MARKER: &str = ".eidlink-created";
/// How long `modutil` or `certutil` may take (they load the module, which may ask its readers).
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// The module's file name on this system.
pub fn library_file_name() -> &'static str {
    if cfg!(windows) {
        "eidlink_pkcs11.dll"
    } else if cfg!(target_os = "macos") {
        "libeidlink_pkcs11.dylib"
    } else {
        "libeidlink_pkcs11.so"
    }
}

/// Where the Debian package installs the module (Debian's multiarch directory for PKCS#11
/// modules, where OpenSC's and p11-kit's are).
#[cfg(all(unix, not(target_os = "macos")))]
pub fn packaged_module() -> Option<PathBuf> {
    let triplet = match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        _ => return None,
    };
    Some(PathBuf::from(format!("/usr/lib/{triplet}/pkcs11")).join(library_file_name()))
}

/// Where a package installs the module: nowhere known on this system.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn packaged_module() -> Option<PathBuf> {
    None
}

/// This eidlink's module: the packaged one when this program is `/usr/bin/eidlink`, otherwise the
/// one next to this program (`target/debug/libeidlink_pkcs11.so` beside `target/debug/eidlink`,
/// `eidlink_pkcs11.dll` beside `eidlink.exe` in the .msi).
pub fn default_module() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    if exe == Path::new("/usr/bin/eidlink") {
        if let Some(p) = packaged_module() {
            return Some(p);
        }
    }
    Some(exe.parent()?.join(library_file_name()))
}

/// What one of the module's registrations looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleStatus {
    /// Not registered there.
    Absent,
    /// Registered in a way its reader cannot use, and why.
    Broken(String),
    /// Not known: the tool that reads the registration is missing or failed, and why.
    Unknown(String),
    /// Registered, naming this module file (which exists).
    Registered {
        /// The file (or NSS database directory) holding the registration.
        at: PathBuf,
        /// The module it names.
        module: PathBuf,
    },
}

impl ModuleStatus {
    /// For people (diagnose): whether the registration is there and names `expected`, this
    /// eidlink's module.
    pub fn describe(&self, expected: Option<&Path>) -> String {
        match self {
            Self::Absent => "not registered".to_owned(),
            Self::Broken(why) => format!("BROKEN: {why}"),
            Self::Unknown(why) => format!("cannot tell: {why}"),
            Self::Registered { at, module } => match expected {
                Some(e) if e != module => format!(
                    "points elsewhere: {} -> {} (this eidlink's module is {})",
                    at.display(),
                    module.display(),
                    e.display()
                ),
                _ => format!("ok: {} -> {}", at.display(), module.display()),
            },
        }
    }
}

/// A registration that names `module`, once the module exists.
fn registered(at: PathBuf, module: PathBuf) -> ModuleStatus {
    if module.is_file() {
        ModuleStatus::Registered { at, module }
    } else {
        ModuleStatus::Broken(format!(
            "{} names {}, which does not exist",
            at.display(),
            module.display()
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Firefox: the PKCS#11 native manifest.

/// A Firefox PKCS#11 native manifest (MDN "Native manifests", type `pkcs11`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleManifest {
    /// `eidlink_pkcs11`, the name the extension passes to `browser.pkcs11.installModule`.
    pub name: String,
    /// Firefox names the module by this in its security devices when the extension installs it
    /// (ext-pkcs11.js passes it to `addModule`), so it is the NSS name the other registrations use.
    pub description: String,
    /// The module; on Windows it may be relative to the manifest (the .msi's is).
    pub path: String,
    /// Always `pkcs11`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The add-ons allowed to load it.
    pub allowed_extensions: Vec<String>,
}

/// The manifest for `module`.
pub fn firefox_manifest(module: &Path) -> ModuleManifest {
    ModuleManifest {
        name: FIREFOX_MODULE_NAME.to_owned(),
        description: NSS_MODULE_NAME.to_owned(),
        path: module.display().to_string(),
        kind: "pkcs11".to_owned(),
        allowed_extensions: vec![FIREFOX_EXTENSION_ID.to_owned()],
    }
}

/// The manifest file in `dir`.
pub fn firefox_manifest_path(dir: &Path) -> PathBuf {
    dir.join(format!("{FIREFOX_MODULE_NAME}.json"))
}

/// The registry key (under `HKCU` or `HKLM`) whose default value names the manifest, on Windows.
pub fn firefox_registry_key() -> String {
    format!("Software\\Mozilla\\PKCS11Modules\\{FIREFOX_MODULE_NAME}")
}

/// The directory Firefox reads this user's PKCS#11 manifests from (on Windows: where ours is
/// kept, `HKCU` names it).
pub fn firefox_user_dir(dirs: &UserDirs) -> PathBuf {
    if cfg!(windows) {
        dirs.config.join("eidlink").join("PKCS11Modules")
    } else if cfg!(target_os = "macos") {
        dirs.config.join("Mozilla/PKCS11Modules")
    } else {
        dirs.home.join(".mozilla/pkcs11-modules")
    }
}

/// The directory Firefox reads system-wide PKCS#11 manifests from (on Windows: where ours is
/// kept, `HKLM` names it).
pub fn firefox_system_dir() -> PathBuf {
    #[cfg(windows)]
    {
        super::windows_registry::system_root().join("PKCS11Modules")
    }
    #[cfg(target_os = "macos")]
    {
        PathBuf::from("/Library/Application Support/Mozilla/PKCS11Modules")
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        PathBuf::from("/usr/lib/mozilla/pkcs11-modules")
    }
}

/// Writes the manifest for `module` in `dir` (on Windows also the registry key); returns it.
pub fn install_firefox_manifest(dir: &Path, module: &Path) -> Result<PathBuf, RegisterError> {
    let path = firefox_manifest_path(dir);
    let mut json = serde_json::to_string_pretty(&firefox_manifest(module)).map_err(|e| RegisterError::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    json.push('\n');
    write_atomic(&path, json.as_bytes())?;
    #[cfg(windows)]
    super::windows_registry::set_default(dir, &firefox_registry_key(), &path)?;
    Ok(path)
}

/// Removes our manifest from `dir` (on Windows also the key naming it); whether there was one.
pub fn uninstall_firefox_manifest(dir: &Path) -> Result<bool, RegisterError> {
    let path = firefox_manifest_path(dir);
    #[cfg(windows)]
    let unregistered = super::windows_registry::delete_if_names(dir, &firefox_registry_key(), &path)?;
    #[cfg(not(windows))]
    let unregistered = false;
    remove_file(&path).map(|removed| removed || unregistered)
}

/// The manifest Firefox would read for the registration in `dir`, parsed and checked.
pub fn check_firefox_manifest(dir: &Path) -> ModuleStatus {
    #[cfg(windows)]
    let path = match super::windows_registry::named(dir, &firefox_registry_key()) {
        Ok(Some(p)) => p,
        Ok(None) => return ModuleStatus::Absent,
        Err(why) => return ModuleStatus::Broken(why),
    };
    #[cfg(not(windows))]
    let path = firefox_manifest_path(dir);
    let m: ModuleManifest = match super::read_manifest(&path) {
        Ok(Some(m)) => m,
        Ok(None) => return ModuleStatus::Absent,
        Err(why) => return ModuleStatus::Broken(why),
    };
    if m.name != FIREFOX_MODULE_NAME || m.kind != "pkcs11" {
        return ModuleStatus::Broken(format!("{}: names {:?} of type {:?}", path.display(), m.name, m.kind));
    }
    if m.description.is_empty() {
        // ext-pkcs11.js refuses to install a module whose manifest has no description.
        return ModuleStatus::Broken(format!("{}: no description", path.display()));
    }
    if !m.allowed_extensions.iter().any(|e| e == FIREFOX_EXTENSION_ID) {
        return ModuleStatus::Broken(format!("{}: does not allow the eidlink extension", path.display()));
    }
    let module = PathBuf::from(&m.path);
    // Firefox resolves a relative module path from the manifest's folder (ext-pkcs11.js).
    let module = if module.is_absolute() {
        module
    } else {
        path.parent().map_or(module.clone(), |d| d.join(&module))
    };
    registered(path, module)
}

// ---------------------------------------------------------------------------------------------
// Firefox: the SecurityDevices policy.

/// The directory of the `policies.json` Firefox reads system-wide: `/etc/firefox/policies`.
/// Firefox (and Debian's Firefox ESR, whose application name is also "Firefox") reads
/// `SysConfD/policies/policies.json` before its installation's `distribution/` one, SysConfD
/// being `/etc/` + the lower-cased application name (EnterprisePoliciesParent.sys.mjs,
/// `_getLocalConfigurationFile`); `/etc/firefox-esr/policies` is read by no Firefox.
pub fn policies_dir() -> PathBuf {
    std::env::var_os(POLICIES_DIR_ENV).map_or_else(|| PathBuf::from("/etc/firefox/policies"), PathBuf::from)
}

/// The policies file in `dir`.
pub fn policies_path(dir: &Path) -> PathBuf {
    dir.join("policies.json")
}

/// What adding the policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChange {
    /// There was no policies.json: eidlink created it.
    Created,
    /// Our entry was added to an existing policies.json.
    Added,
    /// Our entry named another module: it now names this one.
    Updated,
    /// Our entry was there already, naming this module.
    Unchanged,
}

fn policy_error(path: &Path, why: impl Into<String>) -> RegisterError {
    RegisterError::Policies {
        path: path.to_owned(),
        why: why.into(),
    }
}

/// Reads `policies.json` (`None` when there is none); anything but a JSON object with an object
/// `policies` is refused, so that an administrator's file is never overwritten with less.
fn read_policies(path: &Path) -> Result<Option<Map<String, Value>>, RegisterError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegisterError::Io {
                path: path.to_owned(),
                source: e,
            })
        }
    };
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| policy_error(path, format!("not valid JSON ({e}); fix it, Firefox ignores it too")))?;
    let Value::Object(doc) = doc else {
        return Err(policy_error(path, "not a JSON object"));
    };
    match doc.get("policies") {
        None | Some(Value::Object(_)) => Ok(Some(doc)),
        Some(_) => Err(policy_error(path, "\"policies\" is not an object")),
    }
}

/// The `SecurityDevices` object in `doc`, which uses either the current form
/// (`{"Add": {NAME: PATH}, "Delete": [...]}`) or the deprecated flat one (`{NAME: PATH}`):
/// Firefox reads the flat form only when there is neither `Add` nor `Delete`, so an entry is
/// written in the form the file already uses (an administrator's flat entries keep working),
/// the current one for a new object.
fn devices_entry<'a>(
    path: &Path,
    devices: &'a mut Map<String, Value>,
) -> Result<&'a mut Map<String, Value>, RegisterError> {
    let flat = !devices.is_empty() && !devices.contains_key("Add") && !devices.contains_key("Delete");
    if flat {
        return Ok(devices);
    }
    match devices.entry("Add").or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(add) => Ok(add),
        _ => Err(policy_error(path, "SecurityDevices.Add is not an object")),
    }
}

fn write_policies(path: &Path, doc: &Map<String, Value>) -> Result<(), RegisterError> {
    let mut json = serde_json::to_string_pretty(doc).map_err(|e| policy_error(path, e.to_string()))?;
    json.push('\n');
    write_atomic(path, json.as_bytes())
}

/// Adds `"eidlink": module` to `SecurityDevices` in `dir/policies.json`, keeping every other
/// policy; creates the file (and notes that it did) when there is none.
pub fn add_security_device(dir: &Path, module: &Path) -> Result<PolicyChange, RegisterError> {
    let path = policies_path(dir);
    let existing = read_policies(&path)?;
    let created = existing.is_none();
    let mut doc = existing.unwrap_or_default();
    let policies = match doc.entry("policies").or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(p) => p,
        _ => return Err(policy_error(&path, "\"policies\" is not an object")),
    };
    let devices = match policies
        .entry("SecurityDevices")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(d) => d,
        _ => return Err(policy_error(&path, "SecurityDevices is not an object")),
    };
    let entries = devices_entry(&path, devices)?;
    let want = Value::String(module.display().to_string());
    let change = match entries.insert(NSS_MODULE_NAME.to_owned(), want.clone()) {
        _ if created => PolicyChange::Created,
        None => PolicyChange::Added,
        Some(old) if old == want => return Ok(PolicyChange::Unchanged),
        Some(_) => PolicyChange::Updated,
    };
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    if created {
        let marker = dir.join(CREATED_MARKER);
        std::fs::write(&marker, "policies.json was created by `eidlink install --system`\n").map_err(io_at(&marker))?;
    }
    write_policies(&path, &doc)?;
    Ok(change)
}

/// What removing the policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRemoval {
    /// No policies.json, or no entry of ours in it.
    NotThere,
    /// Our entry was removed; the file stays (it holds other policies, or is not ours).
    Removed,
    /// Our entry was removed and, eidlink having created the file and nothing else being left in
    /// it, so was the file.
    RemovedFile,
}

/// Removes our entry (only it) from `SecurityDevices` in `dir/policies.json`; empty objects it
/// leaves behind go too, and the file when eidlink created it and nothing else is left.
pub fn remove_security_device(dir: &Path) -> Result<PolicyRemoval, RegisterError> {
    let path = policies_path(dir);
    let marker = dir.join(CREATED_MARKER);
    let Some(mut doc) = read_policies(&path)? else {
        remove_file(&marker)?;
        return Ok(PolicyRemoval::NotThere);
    };
    let mut removed = false;
    if let Some(Value::Object(policies)) = doc.get_mut("policies") {
        if let Some(Value::Object(devices)) = policies.get_mut("SecurityDevices") {
            let current = devices.contains_key("Add") || devices.contains_key("Delete");
            if current {
                if let Some(Value::Object(add)) = devices.get_mut("Add") {
                    removed = add.remove(NSS_MODULE_NAME).is_some();
                    if removed && add.is_empty() {
                        devices.remove("Add");
                    }
                }
            } else {
                removed = devices.remove(NSS_MODULE_NAME).is_some();
            }
            if removed && devices.is_empty() {
                policies.remove("SecurityDevices");
            }
        }
    }
    if !removed {
        return Ok(PolicyRemoval::NotThere);
    }
    let empty = doc.len() == 1 && matches!(doc.get("policies"), Some(Value::Object(p)) if p.is_empty());
    if empty && marker.exists() {
        remove_file(&path)?;
        remove_file(&marker)?;
        return Ok(PolicyRemoval::RemovedFile);
    }
    write_policies(&path, &doc)?;
    // Someone else's policies are in the file now: it is theirs from here on.
    remove_file(&marker)?;
    Ok(PolicyRemoval::Removed)
}

/// Our `SecurityDevices` entry in `dir/policies.json`.
pub fn check_security_device(dir: &Path) -> ModuleStatus {
    let path = policies_path(dir);
    let doc = match read_policies(&path) {
        Ok(Some(doc)) => doc,
        Ok(None) => return ModuleStatus::Absent,
        Err(e) => return ModuleStatus::Broken(e.to_string()),
    };
    let devices = doc.get("policies").and_then(|p| p.get("SecurityDevices"));
    let entry = match devices {
        Some(d) if d.get("Add").is_some() || d.get("Delete").is_some() => {
            d.get("Add").and_then(|a| a.get(NSS_MODULE_NAME))
        }
        Some(d) => d.get(NSS_MODULE_NAME),
        None => None,
    };
    match entry {
        None => ModuleStatus::Absent,
        Some(Value::String(m)) => registered(path, PathBuf::from(m)),
        Some(other) => ModuleStatus::Broken(format!("{}: {NSS_MODULE_NAME} is {other}, not a path", path.display())),
    }
}

// ---------------------------------------------------------------------------------------------
// Chromium and Chrome on Linux: the user's NSS shared database.

/// The NSS database Chromium and Chrome read on Linux: `$XDG_DATA_HOME/pki/nssdb` when
/// XDG_DATA_HOME is set and that directory exists, else `~/.pki/nssdb` (field-notes-2.md §B).
pub fn default_nssdb(dirs: &UserDirs) -> PathBuf {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        let db = PathBuf::from(data).join("pki/nssdb");
        if db.is_dir() {
            return db;
        }
    }
    dirs.home.join(".pki/nssdb")
}

/// What adding the module to an NSS database did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NssChange {
    /// The module was added (`created`: the database too).
    Added {
        /// Whether the database had to be created first.
        created: bool,
    },
    /// Our module name was registered with another library: it now names this module.
    Replaced(PathBuf),
    /// It was there already, naming this module.
    Unchanged,
}

/// Runs an NSS tool with no standard input (with `-force` nothing is asked; nothing else may be),
/// within [`TOOL_TIMEOUT`]; returns its standard output, or why it failed.
fn run_tool(tool: &'static str, args: &[&str]) -> Result<String, RegisterError> {
    let command = format!("{tool} {}", args.join(" "));
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RegisterError::ToolMissing(tool),
            _ => RegisterError::Tool {
                command: command.clone(),
                why: e.to_string(),
            },
        })?;
    // Both pipes are drained while the tool runs, so that a chatty tool never blocks on them.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + TOOL_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RegisterError::Tool {
                    command,
                    why: format!("did not finish within {} s", TOOL_TIMEOUT.as_secs()),
                });
            }
            Err(e) => {
                return Err(RegisterError::Tool {
                    command,
                    why: e.to_string(),
                })
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if status.success() {
        tracing::debug!(%command, "done");
        Ok(out)
    } else {
        let said = format!("{}{}", err.trim(), out.trim());
        Err(RegisterError::Tool {
            command,
            why: format!("{status}: {}", said.trim()),
        })
    }
}

fn sql(db: &Path) -> String {
    format!("sql:{}", db.display())
}

/// The library our module name is registered with in the NSS database `db`, from
/// `modutil -rawlist` (which lists the modules' specs without loading them): one line per
/// module, `key="value"` pairs such as `library="/usr/lib/x.so" name="eidlink"`.
fn nss_registered(db: &Path) -> Result<Option<PathBuf>, RegisterError> {
    let list = run_tool("modutil", &["-rawlist", "-dbdir", &sql(db)])?;
    for line in list.lines() {
        let pairs = parse_spec(line);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        };
        if get("name").is_some_and(|n| n == NSS_MODULE_NAME) {
            return Ok(Some(PathBuf::from(get("library").map_or("", |l| l.as_str()))));
        }
    }
    Ok(None)
}

/// The `key=value` / `key="value"` pairs of one NSS module spec line (a backslash escapes the
/// next character inside quotes).
fn parse_spec(line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() || chars.next() != Some('=') {
            return pairs;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        pairs.push((key, value));
    }
}

/// Adds the module to the NSS database `db` as `eidlink`, creating the database (empty password,
/// as Chromium does) when it has no `cert9.db`: eid-mw's recipe, field-notes-2.md §B.
pub fn nss_add(db: &Path, module: &Path) -> Result<NssChange, RegisterError> {
    let created = !db.join("cert9.db").is_file();
    if created {
        create_private_dir(db)?;
        // certutil(1): -N creates the databases, --empty-password without asking for one.
        run_tool("certutil", &["-N", "--empty-password", "-d", &sql(db)])?;
    }
    let module_s = module.display().to_string();
    let replaced = match nss_registered(db)? {
        Some(lib) if lib == module => return Ok(NssChange::Unchanged),
        Some(lib) => {
            // modutil refuses to add a name that is there: the old entry goes first.
            run_tool("modutil", &["-force", "-dbdir", &sql(db), "-delete", NSS_MODULE_NAME])?;
            Some(lib)
        }
        None => None,
    };
    // modutil(1): -add NAME -libfile PATH; -force: no "is the browser running?" question.
    run_tool(
        "modutil",
        &[
            "-force",
            "-dbdir",
            &sql(db),
            "-add",
            NSS_MODULE_NAME,
            "-libfile",
            &module_s,
        ],
    )?;
    Ok(replaced.map_or(NssChange::Added { created }, NssChange::Replaced))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), RegisterError> {
    use std::os::unix::fs::DirBuilderExt;
    // The database holds the user's keys: only the user reads it (as Chromium creates it).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_at(dir))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), RegisterError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir))
}

/// Removes our module (only it) from the NSS database `db`; whether it was there. A database
/// that does not exist is not created.
pub fn nss_delete(db: &Path) -> Result<bool, RegisterError> {
    if !db.join("cert9.db").is_file() {
        return Ok(false);
    }
    if nss_registered(db)?.is_none() {
        return Ok(false);
    }
    // modutil(1): -delete NAME.
    run_tool("modutil", &["-force", "-dbdir", &sql(db), "-delete", NSS_MODULE_NAME])?;
    Ok(true)
}

/// Our module in the NSS database `db`.
pub fn nss_check(db: &Path) -> ModuleStatus {
    if !db.join("cert9.db").is_file() {
        return ModuleStatus::Absent;
    }
    match nss_registered(db) {
        Ok(None) => ModuleStatus::Absent,
        Ok(Some(lib)) => registered(db.to_owned(), lib),
        Err(e) => ModuleStatus::Unknown(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// p11-kit.

/// This user's p11-kit module directory (`~/.config/pkcs11/modules`, p11-kit's user config).
pub fn p11kit_user_dir(dirs: &UserDirs) -> PathBuf {
    dirs.config.join("pkcs11/modules")
}

/// The system's p11-kit module directory, where packages put their module files.
pub fn p11kit_system_dir() -> PathBuf {
    PathBuf::from("/usr/share/p11-kit/modules")
}

/// The module file in `dir`.
pub fn p11kit_path(dir: &Path) -> PathBuf {
    dir.join(P11KIT_FILE)
}

/// The module file's text (pkcs11.conf(5)): `module:` the library; `critical: no`, so that a
/// failing eidlink module does not make p11-kit fail the other modules' users.
pub fn p11kit_module_file(module: &Path) -> String {
    format!(
        "# eidlink: eID cards through eidlink's PKCS#11 module\nmodule: {}\ncritical: no\n",
        module.display()
    )
}

/// Writes the module file in `dir`; returns it.
pub fn install_p11kit(dir: &Path, module: &Path) -> Result<PathBuf, RegisterError> {
    let path = p11kit_path(dir);
    write_atomic(&path, p11kit_module_file(module).as_bytes())?;
    Ok(path)
}

/// Removes the module file from `dir`; whether there was one.
pub fn uninstall_p11kit(dir: &Path) -> Result<bool, RegisterError> {
    remove_file(&p11kit_path(dir))
}

/// The module file in `dir`.
pub fn check_p11kit(dir: &Path) -> ModuleStatus {
    let path = p11kit_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return ModuleStatus::Absent,
        Err(e) => return ModuleStatus::Broken(format!("{}: unreadable: {e}", path.display())),
    };
    let module = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "module")
        .map(|(_, v)| PathBuf::from(v.trim()));
    match module {
        Some(m) if m.is_absolute() => registered(path, m),
        // p11-kit would look for a relative name in its own module directory.
        Some(m) => ModuleStatus::Broken(format!("{}: module {} is not absolute", path.display(), m.display())),
        None => ModuleStatus::Broken(format!("{}: no module line", path.display())),
    }
}

// ---------------------------------------------------------------------------------------------

/// Removes `path`; whether it was there.
fn remove_file(path: &Path) -> Result<bool, RegisterError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(RegisterError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    use crate::register::tests::temp;

    /// The Debian package ships the Firefox manifest and the p11-kit file (installer/linux): they
    /// must be what `eidlink install --system` would write for the packaged module.
    #[test]
    #[cfg(all(unix, not(target_os = "macos"), target_arch = "x86_64"))]
    fn debian_package_files_match() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../installer/linux");
        let module = packaged_module().unwrap();
        assert_eq!(
            module,
            Path::new("/usr/lib/x86_64-linux-gnu/pkcs11/libeidlink_pkcs11.so")
        );
        let mut want = serde_json::to_string_pretty(&firefox_manifest(&module)).unwrap();
        want.push('\n');
        assert_eq!(std::fs::read_to_string(dir.join("eidlink_pkcs11.json")).unwrap(), want);
        assert_eq!(
            std::fs::read_to_string(dir.join(P11KIT_FILE)).unwrap(),
            p11kit_module_file(&module)
        );
    }

    /// The .msi ships the module's Firefox manifest (the module relative to it) and the key
    /// naming it: what `eidlink install --system` would write on Windows.
    #[test]
    fn windows_installer_matches() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../installer/windows");
        let mut want = serde_json::to_string_pretty(&firefox_manifest(Path::new("eidlink_pkcs11.dll"))).unwrap();
        want.push('\n');
        let got = std::fs::read_to_string(dir.join("eidlink_pkcs11.json"))
            .unwrap()
            .replace("\r\n", "\n");
        assert_eq!(got, want);
        let wxs = std::fs::read_to_string(dir.join("eidlink.wxs")).unwrap();
        assert!(
            wxs.contains(&format!("Key=\"{}\"", firefox_registry_key())),
            "{}",
            firefox_registry_key()
        );
        assert_eq!(
            firefox_registry_key(),
            "Software\\Mozilla\\PKCS11Modules\\eidlink_pkcs11"
        );
    }

    #[test]
    fn spec_lines_parse() {
        let pairs = parse_spec(r#"library="/usr/lib/a b.so" name="eid\"link" NSS="Flags=x" bare=1"#);
        assert_eq!(
            pairs,
            vec![
                ("library".to_owned(), "/usr/lib/a b.so".to_owned()),
                ("name".to_owned(), "eid\"link".to_owned()),
                ("NSS".to_owned(), "Flags=x".to_owned()),
                ("bare".to_owned(), "1".to_owned()),
            ]
        );
        assert!(parse_spec("").is_empty());
        assert!(parse_spec("garbage without equals").is_empty());
    }

    #[test]
    fn the_manifest_is_firefoxs_pkcs11_type() {
        let v = serde_json::to_value(firefox_manifest(Path::new("/usr/lib/x/libeidlink_pkcs11.so"))).unwrap();
        assert_eq!(v["name"], "eidlink_pkcs11");
        assert_eq!(v["type"], "pkcs11");
        assert_eq!(v["description"], "eidlink");
        assert_eq!(v["allowed_extensions"][0], "eidlink@eidlink.org");
        assert_eq!(v["path"], "/usr/lib/x/libeidlink_pkcs11.so");
    }

    #[test]
    fn flat_security_devices_stay_flat() {
        let d = temp("flat");
        let module = d.join("libeidlink_pkcs11.so");
        std::fs::write(&module, "").unwrap();
        std::fs::write(
            policies_path(&d),
            r#"{"policies":{"SecurityDevices":{"Other":"/usr/lib/other.so"}}}"#,
        )
        .unwrap();
        assert_eq!(add_security_device(&d, &module).unwrap(), PolicyChange::Added);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(policies_path(&d)).unwrap()).unwrap();
        assert_eq!(
            doc["policies"]["SecurityDevices"]["eidlink"],
            module.display().to_string()
        );
        assert!(doc["policies"]["SecurityDevices"].get("Add").is_none());
        assert!(matches!(check_security_device(&d), ModuleStatus::Registered { .. }));
        assert_eq!(remove_security_device(&d).unwrap(), PolicyRemoval::Removed);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(policies_path(&d)).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"policies":{"SecurityDevices":{"Other":"/usr/lib/other.so"}}})
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_broken_policies_file_is_refused_and_kept() {
        let d = temp("broken");
        for text in ["{not json", "[1]", r#"{"policies":[]}"#] {
            std::fs::write(policies_path(&d), text).unwrap();
            assert!(matches!(
                add_security_device(&d, Path::new("/x.so")),
                Err(RegisterError::Policies { .. })
            ));
            assert!(matches!(
                remove_security_device(&d),
                Err(RegisterError::Policies { .. })
            ));
            assert!(matches!(check_security_device(&d), ModuleStatus::Broken(_)));
            assert_eq!(std::fs::read_to_string(policies_path(&d)).unwrap(), text);
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn p11kit_file_names_the_module() {
        let d = temp("p11kit");
        let module = d.join("m.so");
        assert_eq!(check_p11kit(&d), ModuleStatus::Absent);
        install_p11kit(&d, &module).unwrap();
        assert!(matches!(check_p11kit(&d), ModuleStatus::Broken(w) if w.contains("does not exist")));
        std::fs::write(&module, "").unwrap();
        assert_eq!(
            check_p11kit(&d),
            ModuleStatus::Registered {
                at: p11kit_path(&d),
                module: module.clone()
            }
        );
        let text = std::fs::read_to_string(p11kit_path(&d)).unwrap();
        assert!(text.contains("\ncritical: no\n"), "{text}");
        assert!(uninstall_p11kit(&d).unwrap());
        assert!(!uninstall_p11kit(&d).unwrap());
        let _ = std::fs::remove_dir_all(&d);
    }
}
