//! `eidlink install` / `uninstall` / `diagnose` for the PKCS#11 module (register/pkcs11.rs), with
//! the real NSS tools (`modutil`, `certutil`, Debian's libnss3-tools), the real `p11-kit` and
//! SoftHSM2's module standing in for eidlink's: modutil loads the library it registers. Every
//! path is a throwaway one: HOME and XDG_* for the user's files and NSS database,
//! EIDLINK_FIREFOX_POLICIES_DIR for Firefox's policies; nothing under /etc or the real HOME.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_eidlink");
const MODULE: &str = eidlink_tests::softhsm::MODULE;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A throwaway user: HOME, XDG_CONFIG_HOME and XDG_DATA_HOME inside it, a private SoftHSM
/// configuration (no token: modutil only loads the module), no pcscd for diagnose.
struct User {
    home: PathBuf,
    env: Vec<(String, String)>,
}

impl User {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let home = std::env::temp_dir().join(format!(
            "eidlink-p11reg-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join("softhsm/tokens")).unwrap();
        let conf = home.join("softhsm/softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                home.join("softhsm/tokens").display()
            ),
        )
        .unwrap();
        let s = |p: &Path| p.display().to_string();
        let env = vec![
            ("HOME".to_owned(), s(&home)),
            ("XDG_CONFIG_HOME".to_owned(), s(&home.join(".config"))),
            // Set, but without pki/nssdb in it: the database is ~/.pki/nssdb.
            ("XDG_DATA_HOME".to_owned(), s(&home.join(".local/share"))),
            ("SOFTHSM2_CONF".to_owned(), s(&conf)),
            ("PCSCLITE_CSOCK_NAME".to_owned(), "/nonexistent/pcscd.comm".to_owned()),
            (
                "EIDLINK_FIREFOX_POLICIES_DIR".to_owned(),
                s(&home.join("etc/firefox/policies")),
            ),
        ];
        Self { home, env }
    }

    fn nssdb(&self) -> PathBuf {
        self.home.join(".pki/nssdb")
    }

    fn policies(&self) -> PathBuf {
        self.home.join("etc/firefox/policies/policies.json")
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null());
        c
    }

    fn eidlink(&self, args: &[&str]) -> Output {
        self.command(BIN, args).output().expect("run eidlink")
    }

    /// eidlink, which must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.eidlink(args);
        assert!(
            out.status.success(),
            "eidlink {args:?}: {}\n{}",
            text(&out.stderr),
            text(&out.stdout)
        );
        text(&out.stdout)
    }

    /// A tool the test uses, which must succeed; its standard output.
    fn tool(&self, program: &str, args: &[&str]) -> String {
        let out = self
            .command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("run {program} (install libnss3-tools / p11-kit / openssl): {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            text(&out.stderr),
            text(&out.stdout)
        );
        text(&out.stdout)
    }

    fn modutil_list(&self) -> String {
        let db = format!("sql:{}", self.nssdb().display());
        self.tool("modutil", &["-list", "-dbdir", &db])
    }

    fn diagnose(&self) -> String {
        let out = self.eidlink(&["diagnose"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// The line of `report` that starts with `prefix` (after the indentation).
fn line<'a>(report: &'a str, prefix: &str) -> &'a str {
    report
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{report}"))
}

/// Whether `modutil -list` shows our module with `lib` (the module number, then its name, then
/// its library on the next line).
fn lists_eidlink_with(list: &str, lib: &str) -> bool {
    let lines: Vec<&str> = list.lines().map(str::trim).collect();
    lines.windows(2).any(|w| {
        w[0].split_once(". ")
            .is_some_and(|(n, name)| n.parse::<u32>().is_ok() && name == "eidlink")
            && w[1] == format!("library name: {lib}")
    })
}

/// `install --user` writes Firefox's PKCS#11 manifest, the p11-kit file and the module in the
/// user's NSS database (created for it); `diagnose` reports each; `uninstall --user` removes each
/// and leaves the rest of the NSS database (a certificate, another module) as it was.
#[test]
fn user_install_registers_the_module_and_uninstall_removes_only_ours() {
    let user = User::new("user");
    // An NSS database the user already has, with a certificate and another module in it.
    let db = user.nssdb();
    std::fs::create_dir_all(&db).unwrap();
    let sql = format!("sql:{}", db.display());
    user.tool("certutil", &["-N", "--empty-password", "-d", &sql]);
    let ca = user.home.join("ca.pem");
    let key = user.home.join("ca.key");
    user.tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=Someone Else's CA",
            "-days",
            "30",
            "-keyout",
            &key.display().to_string(),
            "-out",
            &ca.display().to_string(),
        ],
    );
    user.tool(
        "certutil",
        &[
            "-A",
            "-d",
            &sql,
            "-n",
            "someone-else",
            "-t",
            "C,,",
            "-i",
            &ca.display().to_string(),
        ],
    );
    // (NSS loads a library once: the other module is a copy of SoftHSM's at another path.)
    let other_lib = user.home.join("other/libother.so");
    std::fs::create_dir_all(other_lib.parent().unwrap()).unwrap();
    std::fs::copy(MODULE, &other_lib).unwrap();
    let other_s = other_lib.display().to_string();
    user.tool(
        "modutil",
        &["-force", "-dbdir", &sql, "-add", "other", "-libfile", &other_s],
    );

    let out = user.ok(&["install", "--user", "--pkcs11-module", MODULE]);
    let manifest_path = user.home.join(".mozilla/pkcs11-modules/eidlink_pkcs11.json");
    let p11kit_path = user.home.join(".config/pkcs11/modules/eidlink.module");
    assert!(
        out.contains(&format!(
            "Firefox PKCS#11 module: registered {}",
            manifest_path.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "NSS database (Chromium, Chrome): eidlink added: {}",
            db.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("p11-kit: registered {}", p11kit_path.display())),
        "{out}"
    );
    // No system-wide policy from --user.
    assert!(!out.contains("SecurityDevices"), "{out}");
    assert!(!user.policies().exists());

    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(
        manifest,
        json!({
            "name": "eidlink_pkcs11",
            "description": "eidlink",
            "path": MODULE,
            "type": "pkcs11",
            "allowed_extensions": ["eidlink@eidlink.org"],
        })
    );
    let p11kit = std::fs::read_to_string(&p11kit_path).unwrap();
    assert!(p11kit.lines().any(|l| l == format!("module: {MODULE}")), "{p11kit}");
    assert!(p11kit.lines().any(|l| l == "critical: no"), "{p11kit}");
    // p11-kit itself reads the user's module file and loads the module. It reads no user
    // configuration for root, so as root (CI) it runs as nobody, who can read the test's home.
    let root = user.tool("id", &["-u"]).trim() == "0";
    let modules = if root {
        use std::os::unix::fs::PermissionsExt;
        let tokens = user.home.join("softhsm/tokens");
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o777)).unwrap();
        let args = [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "p11-kit",
            "list-modules",
        ];
        user.tool("setpriv", &args)
    } else {
        user.tool("p11-kit", &["list-modules"])
    };
    assert!(
        modules.lines().any(|l| l == format!("eidlink: {MODULE}")),
        "p11-kit does not list eidlink: {modules}"
    );

    let list = user.modutil_list();
    assert!(lists_eidlink_with(&list, MODULE), "{list}");
    assert!(list.contains(". other"), "{list}");

    // diagnose: each registration, naming SoftHSM's module, not this eidlink's (next to it).
    let diag = user.diagnose();
    for (what, at) in [
        ("Firefox PKCS#11 manifest (user)", manifest_path.clone()),
        ("NSS database (Chromium, Chrome) (user)", db.clone()),
        ("p11-kit (user)", p11kit_path.clone()),
    ] {
        let l = line(&diag, what);
        assert!(
            l.starts_with(&format!(
                "{what}: points elsewhere: {} -> {MODULE} (this eidlink's module is ",
                at.display()
            )),
            "{l}"
        );
    }
    assert!(
        line(&diag, "Firefox policy SecurityDevices (system)").ends_with("not registered"),
        "{diag}"
    );

    // Again: nothing changes, nothing fails (modutil refuses a second -add of the same name).
    let again = user.ok(&["install", "--user", "--pkcs11-module", MODULE]);
    assert!(again.contains("eidlink already there"), "{again}");

    let out = user.ok(&["uninstall", "--user"]);
    assert!(
        out.contains(&format!("Firefox PKCS#11 module: removed {}", manifest_path.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("NSS database (Chromium, Chrome): removed {}", db.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("p11-kit: removed {}", p11kit_path.display())),
        "{out}"
    );
    assert!(!manifest_path.exists());
    assert!(!p11kit_path.exists());
    let list = user.modutil_list();
    assert!(!list.contains(". eidlink"), "{list}");
    assert!(list.contains(". other"), "{list}");
    let certs = user.tool("certutil", &["-L", "-d", &sql]);
    assert!(certs.contains("someone-else"), "{certs}");
    let diag = user.diagnose();
    for what in [
        "Firefox PKCS#11 manifest (user)",
        "NSS database (Chromium, Chrome) (user)",
        "p11-kit (user)",
    ] {
        assert_eq!(line(&diag, what), format!("{what}: not registered"), "{diag}");
    }
    let out = user.ok(&["uninstall", "--user"]);
    assert!(
        out.contains(&format!(
            "NSS database (Chromium, Chrome): was not registered: {}",
            db.display()
        )),
        "{out}"
    );
}

/// A user without an NSS database gets one (as Chromium would create it), holding our module; a
/// database whose `eidlink` names another library is pointed at this one; XDG_DATA_HOME's
/// database is used when it exists.
#[test]
fn the_nss_database_is_created_or_corrected() {
    let user = User::new("nss");
    let out = user.ok(&["install", "--user", "--browser", "chromium", "--pkcs11-module", MODULE]);
    let db = user.nssdb();
    assert!(
        out.contains(&format!(
            "NSS database (Chromium, Chrome): created, eidlink added: {}",
            db.display()
        )),
        "{out}"
    );
    // --browser chromium: neither Firefox's manifest nor p11-kit.
    assert!(!out.contains("Firefox PKCS#11") && !out.contains("p11-kit"), "{out}");
    assert!(db.join("cert9.db").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o700);
    }
    assert!(lists_eidlink_with(&user.modutil_list(), MODULE));

    // Another library under our name (an older eidlink somewhere else): replaced.
    let sql = format!("sql:{}", db.display());
    user.tool("modutil", &["-force", "-dbdir", &sql, "-delete", "eidlink"]);
    let copy = user.home.join("old/libeidlink_pkcs11.so");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(MODULE, &copy).unwrap();
    let copy_s = copy.display().to_string();
    user.tool(
        "modutil",
        &["-force", "-dbdir", &sql, "-add", "eidlink", "-libfile", &copy_s],
    );
    let out = user.ok(&["install", "--user", "--only", "nssdb", "--pkcs11-module", MODULE]);
    assert!(out.contains(&format!("eidlink replaced (it named {copy_s})")), "{out}");
    let list = user.modutil_list();
    assert!(lists_eidlink_with(&list, MODULE), "{list}");
    assert!(!list.contains(&copy_s), "{list}");

    // $XDG_DATA_HOME/pki/nssdb, once it exists, is the database.
    let xdg_db = user.home.join(".local/share/pki/nssdb");
    std::fs::create_dir_all(&xdg_db).unwrap();
    let out = user.ok(&["install", "--user", "--only", "nssdb", "--pkcs11-module", MODULE]);
    assert!(
        out.contains(&format!("created, eidlink added: {}", xdg_db.display())),
        "{out}"
    );
    // --nssdb names any other one.
    let other = user.home.join("thunderbird-profile");
    let other_s = other.display().to_string();
    let out = user.ok(&[
        "install",
        "--user",
        "--only",
        "nssdb",
        "--nssdb",
        &other_s,
        "--pkcs11-module",
        MODULE,
    ]);
    assert!(out.contains(&other_s), "{out}");
    assert!(other.join("cert9.db").is_file());
}

/// Without modutil and certutil (PATH without them) the NSS registration is reported, and the
/// rest is registered; a module that is not there is said so and nothing of it is registered.
#[test]
fn missing_tools_and_a_missing_module_are_reported_not_fatal() {
    let user = User::new("missing");
    let mut c = user.command(BIN, &["install", "--user", "--pkcs11-module", MODULE]);
    let out = c.env("PATH", "/nonexistent").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "NSS database (Chromium, Chrome): NOT registered: certutil not found (it is in Debian's libnss3-tools)"
        ),
        "{stdout}"
    );
    assert!(user.home.join(".mozilla/pkcs11-modules/eidlink_pkcs11.json").is_file());
    assert!(user.home.join(".config/pkcs11/modules/eidlink.module").is_file());
    let mut c = user.command(BIN, &["diagnose"]);
    let diag = text(&c.env("PATH", "/nonexistent").output().unwrap().stdout);
    // The database does not exist (certutil could not create it): nothing to ask modutil.
    assert!(
        line(&diag, "NSS database (Chromium, Chrome) (user)").ends_with("not registered"),
        "{diag}"
    );
    // A database, but no modutil to read it: diagnose says it cannot tell.
    user.tool(
        "certutil",
        &[
            "-N",
            "--empty-password",
            "-d",
            &format!("sql:{}", user.nssdb().display()),
        ],
    );
    let mut c = user.command(BIN, &["diagnose"]);
    let diag = text(&c.env("PATH", "/nonexistent").output().unwrap().stdout);
    assert_eq!(
        line(&diag, "NSS database (Chromium, Chrome) (user)"),
        "NSS database (Chromium, Chrome) (user): cannot tell: modutil not found (it is in Debian's libnss3-tools)",
        "{diag}"
    );

    let user = User::new("missing-module");
    let out = user.ok(&[
        "install",
        "--user",
        "--pkcs11-module",
        "/nonexistent/libeidlink_pkcs11.so",
    ]);
    assert!(
        out.contains("PKCS#11 module: NOT registered with Firefox, NSS or p11-kit, the module is missing"),
        "{out}"
    );
    assert!(out.contains("/nonexistent/libeidlink_pkcs11.so"), "{out}");
    // The native host's manifests are registered all the same.
    assert!(user
        .home
        .join(".mozilla/native-messaging-hosts/org.eidlink.host.json")
        .is_file());
    assert!(!user.home.join(".mozilla/pkcs11-modules").exists());
    assert!(!user.nssdb().exists());
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"))).unwrap()
}

/// `--system` adds `SecurityDevices` to Firefox's policies.json: a file it creates goes again on
/// uninstall; in an existing one every other policy stays, and only our entry is removed.
#[test]
fn system_policy_is_merged_and_removed() {
    let user = User::new("policy");
    let file = user.policies();
    let system = ["--system", "--only", "firefox-policy", "--pkcs11-module", MODULE];

    // No policies.json: created, and removed with our entry.
    let out = user.ok(&[&["install"][..], &system].concat());
    assert!(
        out.contains(&format!(
            "Firefox policy SecurityDevices: created with eidlink in {}",
            file.display()
        )),
        "{out}"
    );
    assert_eq!(
        read_json(&file),
        json!({"policies": {"SecurityDevices": {"Add": {"eidlink": MODULE}}}})
    );
    let diag = user.diagnose();
    assert!(
        line(&diag, "Firefox policy SecurityDevices (system)").starts_with(&format!(
            "Firefox policy SecurityDevices (system): points elsewhere: {} -> {MODULE}",
            file.display()
        )),
        "{diag}"
    );
    let out = user.ok(&["uninstall", "--system", "--only", "firefox-policy"]);
    assert!(
        out.contains(&format!("Firefox policy SecurityDevices: removed {}", file.display())),
        "{out}"
    );
    let dir = file.parent().unwrap();
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0, "left in {dir:?}");

    // An administrator's policies.json: kept whole, our entry added beside theirs.
    let theirs = json!({"policies": {
        "DisableTelemetry": true,
        "Certificates": {"Install": ["/etc/ssl/ca.pem"]},
        "SecurityDevices": {"Add": {"Vendor": "/usr/lib/vendor.so"}, "Delete": ["old"]},
    }});
    std::fs::write(&file, serde_json::to_string_pretty(&theirs).unwrap()).unwrap();
    let out = user.ok(&[&["install"][..], &system].concat());
    assert!(out.contains(&format!("added eidlink in {}", file.display())), "{out}");
    let mut want = theirs.clone();
    want["policies"]["SecurityDevices"]["Add"]["eidlink"] = json!(MODULE);
    assert_eq!(read_json(&file), want);
    let out = user.ok(&[&["install"][..], &system].concat());
    assert!(out.contains("already has eidlink"), "{out}");
    let out = user.ok(&["uninstall", "--system", "--only", "firefox-policy"]);
    assert!(
        out.contains(&format!("removed eidlink from {}", file.display())),
        "{out}"
    );
    assert_eq!(read_json(&file), theirs);
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1, "only policies.json");
    let out = user.ok(&["uninstall", "--system", "--only", "firefox-policy"]);
    assert!(out.contains("was not registered"), "{out}");
    assert_eq!(read_json(&file), theirs);

    // A file eidlink created that an administrator then added to: only our entry goes.
    std::fs::remove_file(&file).unwrap();
    user.ok(&[&["install"][..], &system].concat());
    let mut doc = read_json(&file);
    doc["policies"]["DisableTelemetry"] = json!(true);
    std::fs::write(&file, doc.to_string()).unwrap();
    user.ok(&["uninstall", "--system", "--only", "firefox-policy"]);
    assert_eq!(read_json(&file), json!({"policies": {"DisableTelemetry": true}}));

    // A policies.json that is not JSON is neither rewritten nor lost; the command fails.
    std::fs::write(&file, "{\"policies\": {").unwrap();
    let out = user.eidlink(&[&["install"][..], &system].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("Firefox policy SecurityDevices: FAILED"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("not valid JSON"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"policies\": {");
    assert!(line(&user.diagnose(), "Firefox policy SecurityDevices (system)").contains("BROKEN"));
}

/// `--only` names registrations of the scope only.
#[test]
fn only_fits_the_scope() {
    let user = User::new("only");
    for args in [
        &["install", "--user", "--only", "firefox-policy"][..],
        &["install", "--system", "--only", "nssdb"][..],
    ] {
        let out = user.eidlink(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains("--only"), "{}", text(&out.stderr));
    }
    // --nssdb is per user.
    assert_eq!(
        user.eidlink(&["install", "--system", "--nssdb", "/tmp/x"])
            .status
            .code(),
        Some(2)
    );
    // A throwaway Chromium profile gets the native host only: the module is not per profile.
    let profile = user.home.join("profile").display().to_string();
    let out = user.ok(&[
        "install",
        "--user",
        "--browser",
        "chromium",
        "--profile-dir",
        &profile,
        "--pkcs11-module",
        MODULE,
    ]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(!user.nssdb().exists());
}
