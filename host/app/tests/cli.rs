//! The `eidlink` binary against the virtual card in the real pcscd: what a citizen or a support
//! script sees, exit codes included; and OpenSC's own Belgian driver as a peer.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use common::{insert, is_pin_verify, text, wait_reader};
use eidlink_core::{Digest, HashAlgorithm};
use eidlink_tests::Profile;

const BIN: &str = env!("CARGO_BIN_EXE_eidlink");

fn eidlink(args: &[&str], stdin: &str) -> Output {
    eidlink_env(args, stdin, &[])
}

fn eidlink_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    common::run_eidlink(args, stdin, env)
}

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "eidlink-cli-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

#[test]
fn readers_and_info_describe_the_card() {
    let card = insert(Profile::Belpic18);
    let out = eidlink(&["readers"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "Virtual PCD 00 00: Belgian eID (applet 1.8, EC P-384), ATR 3B 7F 96 00 00 80 31 80 65 B0 85 04 01 20 12 0F FF 82 90 00"
        ),
        "{stdout}"
    );
    let out = eidlink(&["info"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let info = text(&out.stdout);
    for want in [
        "card:           Belgian eID (applet 1.8, EC P-384)",
        "applet:         applet 1.8",
        "holder:         Alice Specimen (85010112486)",
        "issued by eidlink TEST EC Citizen CA",
        "PIN tries left: 3 of 3",
    ] {
        assert!(info.contains(want), "missing {want:?} in\n{info}");
    }
    drop(card);

    let _card = insert(Profile::EstEid);
    let info = text(&eidlink(&["info"], "").stdout);
    assert!(
        info.contains("PIN1 tries left: 3 of 3") && info.contains("PIN2 tries left: 3 of 3"),
        "{info}"
    );
}

#[test]
fn exported_certificates_are_the_card_pki() {
    let card = insert(Profile::Belpic17);
    let pki = card.handle.pki();
    let der = temp_path("auth.der");
    let out = eidlink(&["cert", "--auth", "--der", "-o", der.to_str().expect("path")], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&der).expect("written"), pki.auth_der);
    let _ = std::fs::remove_file(der);
    let out = eidlink(&["cert", "--sign"], "");
    let pem = text(&out.stdout);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
    assert_eq!(decoded, pki.sign_der);
    for which in ["--ca", "--root"] {
        let out = eidlink(&["cert", which, "--der"], "");
        let want = if which == "--ca" { &pki.ca_der } else { &pki.root_der };
        assert_eq!(&out.stdout, want, "{which}");
    }
}

#[test]
fn sign_reads_the_pin_from_a_descriptor_and_the_signature_verifies() {
    for (profile, hash) in [
        (Profile::Belpic18, HashAlgorithm::Sha384),
        (Profile::Belpic17, HashAlgorithm::Sha256),
    ] {
        let card = insert(profile);
        let pki = card.handle.pki();
        let digest = Digest::of(hash, b"contract");
        let hex_digest = hex::encode(digest.as_bytes());
        for (flag, key) in [("--auth", &pki.auth_key), ("--sign", &pki.sign_key)] {
            let out = eidlink(
                &[
                    "sign",
                    flag,
                    "--hash",
                    hash.name(),
                    "--digest",
                    &hex_digest,
                    "--pin-fd",
                    "0",
                ],
                "1234\n",
            );
            assert!(out.status.success(), "{profile:?} {flag}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("Signature verified with the public key of"),
                "{}",
                text(&out.stderr)
            );
            let sig = base64::engine::general_purpose::STANDARD
                .decode(text(&out.stdout).trim())
                .expect("base64");
            let input = if profile == Profile::Belpic18 {
                digest.as_bytes().to_vec()
            } else {
                digest.digest_info()
            };
            assert!(key.verify(&input, &sig), "{profile:?} {flag}");
        }
        // A file is hashed with the chosen function.
        let file = temp_path("doc.txt");
        std::fs::write(&file, b"contract").expect("write");
        let out = eidlink(
            &[
                "sign",
                "--sign",
                "--hash",
                hash.name(),
                "--file",
                file.to_str().expect("p"),
                "--pin-fd",
                "0",
            ],
            "1234",
        );
        let _ = std::fs::remove_file(file);
        let sig = base64::engine::general_purpose::STANDARD
            .decode(text(&out.stdout).trim())
            .expect("base64");
        let input = if profile == Profile::Belpic18 {
            digest.as_bytes().to_vec()
        } else {
            digest.digest_info()
        };
        assert!(pki.sign_key.verify(&input, &sig), "{profile:?} --file");
    }
}

#[test]
fn wrong_pins_block_the_card_and_then_no_pin_is_ever_sent() {
    let card = insert(Profile::Belpic18);
    let args = [
        "sign",
        "--auth",
        "--hash",
        "SHA-256",
        "--digest",
        &"ab".repeat(32),
        "--pin-fd",
        "0",
    ];
    let expected = [
        "wrong PIN: 2 tries left",
        "wrong PIN: 1 try left (the next wrong PIN blocks the card)",
        "the PIN is blocked",
    ];
    for msg in expected {
        let out = eidlink(&args, "9999\n");
        assert_eq!(out.status.code(), Some(5));
        assert!(text(&out.stderr).contains(msg), "{}", text(&out.stderr));
    }
    card.handle.clear_log();
    let out = eidlink(&args, "1234\n");
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("the PIN is blocked: unblock it with your PUK"),
        "{}",
        text(&out.stderr)
    );
    let log = card.handle.apdu_log();
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|l| !is_pin_verify(&l.command)),
        "a VERIFY reached a blocked card"
    );
    assert_eq!(card.handle.pin_tries_left(), 0);
}

#[test]
fn malformed_pins_and_digests_cost_no_try() {
    let card = insert(Profile::Belpic18);
    let out = eidlink(
        &[
            "sign", "--auth", "--hash", "SHA-256", "--digest", "abcd", "--pin-fd", "0",
        ],
        "1234",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a SHA-256 digest has 32 bytes, got 2"),
        "{}",
        text(&out.stderr)
    );
    let out = eidlink(
        &[
            "sign",
            "--auth",
            "--hash",
            "SHA-256",
            "--digest",
            &"ab".repeat(32),
            "--pin-fd",
            "0",
        ],
        "12a4",
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("4 to 12 digits"), "{}", text(&out.stderr));
    let out = eidlink(&["sign", "--auth", "--hash", "MD5", "--digest", "00"], "");
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    assert_eq!(card.handle.pin_tries_left(), 3);
    assert!(card.handle.apdu_log().iter().all(|l| !is_pin_verify(&l.command)));
}

#[test]
fn missing_card_and_missing_service_say_what_to_do() {
    let card = insert(Profile::Belpic18);
    card.handle.remove();
    wait_reader(|atr| atr.is_none(), "the card to be removed");
    let out = eidlink(&["info"], "");
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("no eID card found: insert your card"),
        "{}",
        text(&out.stderr)
    );
    let out = eidlink_env(&["readers"], "", &[("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("the smart card service is not running"),
        "{}",
        text(&out.stderr)
    );
    let out = eidlink_env(&["diagnose"], "", &[("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("PC/SC service: NOT available"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn diagnose_tells_support_what_they_need() {
    let _card = insert(Profile::Belpic18);
    let out = eidlink(&["diagnose"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for want in [
        "PC/SC service: running",
        "reader 'Virtual PCD 00 00': card present, ATR 3B 7F 96",
        "driver: Belgian eID (applet 1.8, EC P-384)",
        "authentication certificate: Alice Specimen (Authentication), EC P-384",
        "PIN tries left: 3 of 3",
        "PKCS#11 modules:",
        "native-messaging host registrations (org.eidlink.host):",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
}

/// OpenSC's own Belgian driver reads the authentication certificate from our virtual card and gets
/// the same bytes as `eidlink cert --auth`: through its PKCS#15 layer (`pkcs15-tool`) on both applets,
/// and through its PKCS#11 module (`pkcs11-tool`) on 1.8. (On 1.7 the CDF marks certificates
/// private, content v4.01 §6.5, so OpenSC's PKCS#11 module shows them only after a login.)
#[test]
fn opensc_reads_the_same_authentication_certificate() {
    let module = eidlink_tests::softhsm::opensc_module().expect("OpenSC's PKCS#11 module (install opensc-pkcs11)");
    for profile in [Profile::Belpic18, Profile::Belpic17] {
        let card = insert(profile);
        let ours = eidlink(&["cert", "--auth", "--der"], "");
        assert!(ours.status.success(), "{}", text(&ours.stderr));
        assert_eq!(ours.stdout, card.handle.pki().auth_der);

        let out = Command::new("pkcs15-tool")
            .args(["--reader", common::READER, "--read-certificate", "02"])
            .output()
            .expect("run pkcs15-tool (install opensc)");
        assert!(out.status.success(), "{profile:?}: {}", text(&out.stderr));
        let b64: String = text(&out.stdout).lines().filter(|l| !l.starts_with("-----")).collect();
        let theirs = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .expect("PEM from pkcs15-tool");
        assert_eq!(theirs, ours.stdout, "{profile:?}: pkcs15-tool and eidlink disagree");

        if profile == Profile::Belpic18 {
            let file = temp_path("opensc.der");
            let out = Command::new("pkcs11-tool")
                .args([
                    "--module",
                    module,
                    "--read-object",
                    "--type",
                    "cert",
                    "--id",
                    "02",
                    "-o",
                ])
                .arg(&file)
                .output()
                .expect("run pkcs11-tool (install opensc)");
            assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
            let theirs = std::fs::read(&file).expect("pkcs11-tool output");
            let _ = std::fs::remove_file(file);
            assert_eq!(theirs, ours.stdout, "pkcs11-tool and eidlink disagree");
        }
    }
}

/// `install --user` writes every browser's manifest where that browser reads it, pointing at the
/// real host; `diagnose` sees them working; `uninstall --user` leaves the directories as before.
#[test]
fn install_diagnose_uninstall_for_a_user() {
    let home = temp_path("home");
    std::fs::create_dir_all(&home).unwrap();
    let home_s = home.display().to_string();
    let config = home.join(".config").display().to_string();
    // No pcscd for diagnose here: this test must not touch the virtual card other tests use.
    let env = [
        ("HOME", home_s.as_str()),
        ("XDG_CONFIG_HOME", config.as_str()),
        ("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm"),
    ];
    let host = PathBuf::from(BIN).with_file_name("eidlink-host");

    let out = eidlink_env(&["install", "--user"], "", &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expect = [
        (".config/chromium/NativeMessagingHosts", "allowed_origins"),
        (".config/google-chrome/NativeMessagingHosts", "allowed_origins"),
        (".config/microsoft-edge/NativeMessagingHosts", "allowed_origins"),
        (
            ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            "allowed_origins",
        ),
        (".mozilla/native-messaging-hosts", "allowed_extensions"),
    ];
    for (dir, key) in expect {
        let path = home.join(dir).join("org.eidlink.host.json");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))).unwrap();
        assert_eq!(manifest["name"], "org.eidlink.host");
        assert_eq!(manifest["type"], "stdio");
        assert_eq!(PathBuf::from(manifest["path"].as_str().unwrap()), host, "{dir}");
        assert!(manifest[key].is_array(), "{dir}: {manifest}");
    }
    let diag = text(&eidlink_env(&["diagnose"], "", &env).stdout);
    // The host's five (the PKCS#11 module's registrations are tests/pkcs11_registration.rs's).
    let host_ok = diag
        .lines()
        .filter(|l| l.contains("(user): ok:") && l.ends_with(&format!("-> {}", host.display())))
        .count();
    assert_eq!(host_ok, 5, "{diag}");

    let out = eidlink_env(&["uninstall", "--user", "--browser", "firefox"], "", &env);
    assert!(out.status.success());
    assert!(!home
        .join(".mozilla/native-messaging-hosts/org.eidlink.host.json")
        .exists());
    let diag = text(&eidlink_env(&["diagnose"], "", &env).stdout);
    assert!(diag.contains("Firefox (user): not registered"), "{diag}");
    let out = eidlink_env(&["uninstall", "--user"], "", &env);
    assert!(out.status.success());
    // Only the cache diagnose filled is left (the PKCS#11 modules it checked, src/probe.rs of
    // eidlink-pkcs11): not part of the installation.
    let probes = home.join(".cache/eidlink/pkcs11-probes");
    // And the user's NSS database, which install created for Chromium when eidlink's PKCS#11
    // module was built next to it: uninstall takes only our module out of it.
    let nssdb = home.join(".pki/nssdb");
    let left: Vec<_> = walk(&home)
        .into_iter()
        .filter(|p| p.is_file() && *p != probes && !p.starts_with(&nssdb))
        .collect();
    assert!(left.is_empty(), "files left: {left:?}");

    // A throwaway Chromium profile; Firefox has none and says so.
    let profile = home.join("profile");
    let p = profile.display().to_string();
    let out = eidlink_env(
        &["install", "--user", "--browser", "chromium", "--profile-dir", &p],
        "",
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(profile.join("NativeMessagingHosts/org.eidlink.host.json").is_file());
    let out = eidlink_env(
        &["install", "--user", "--browser", "firefox", "--profile-dir", &p],
        "",
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("per user"), "{}", text(&out.stderr));
    // A host that is not there is refused, and nothing is written.
    let out = eidlink_env(
        &[
            "install",
            "--user",
            "--browser",
            "edge",
            "--host",
            "/nonexistent/eidlink-host",
        ],
        "",
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--host"), "{}", text(&out.stderr));
    assert!(!home
        .join(".config/microsoft-edge/NativeMessagingHosts/org.eidlink.host.json")
        .exists());
    // Neither --user nor --system: a usage error.
    assert_eq!(eidlink_env(&["install"], "", &env).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&home);
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            all.extend(walk(&p));
        }
        all.push(p);
    }
    all
}
