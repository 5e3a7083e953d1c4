//! SoftHSM2 tokens for the PKCS#11 tests: each [`SoftHsm`] is a private token directory with its own
//! `softhsm2.conf` (pass [`SoftHsm::env`] to the program under test), holding one token whose keys
//! are generated on the token by OpenSC's `pkcs11-tool` and whose certificates the test PKI's
//! citizen CA issues for them (the holder's authentication and signing certificate of the PKI,
//! re-issued for the token's public key), so the verifier checks them against the same root.

use std::path::{Path, PathBuf};
use std::process::Command;

use der::Decode;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use crate::error::{Result, VcardError};
use crate::pki::{CertFields, Pki};

/// SoftHSM's PKCS#11 module, where Debian's softhsm2 package puts it.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The key type of one of the token's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
    /// RSA-2048.
    Rsa2048,
}

impl KeyType {
    fn pkcs11_tool(self) -> &'static str {
        match self {
            Self::P256 => "EC:prime256v1",
            Self::P384 => "EC:secp384r1",
            Self::Rsa2048 => "rsa:2048",
        }
    }
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The token label.
    pub label: String,
    /// The user PIN.
    pub pin: String,
    /// The authentication key (certificate without nonRepudiation), id `01`.
    pub auth: Option<KeyType>,
    /// The signing key (certificate with nonRepudiation), id `02`.
    pub sign: Option<KeyType>,
    /// Whether the signing key has CKA_ALWAYS_AUTHENTICATE (a login right before each signature).
    pub sign_always_authenticate: bool,
}

/// A private SoftHSM token directory.
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
    conf: PathBuf,
    keep: bool,
    /// The holder's authentication certificate on the token (DER), if it has that key.
    pub auth_der: Option<Vec<u8>>,
    /// The holder's signing certificate on the token (DER), if it has that key.
    pub sign_der: Option<Vec<u8>>,
}

/// OpenSC's PKCS#11 module, where Debian's opensc-pkcs11 package puts it (`None`: not installed).
pub fn opensc_module() -> Option<&'static str> {
    [
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
        "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
        "/usr/lib/opensc-pkcs11.so",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
}

/// Whether SoftHSM2 and OpenSC's tools are installed.
pub fn available() -> bool {
    Path::new(MODULE).exists() && which("softhsm2-util") && which("pkcs11-tool")
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

impl SoftHsm {
    /// Creates `dir` (emptied first) with a SoftHSM configuration and the token `spec`, whose
    /// certificates `pki`'s citizen CA issues.
    pub fn create(dir: &Path, spec: &TokenSpec, pki: &Pki) -> Result<SoftHsm> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("tokens"))?;
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                dir.join("tokens").display()
            ),
        )?;
        let mut hsm = SoftHsm {
            dir: dir.to_path_buf(),
            conf,
            keep: false,
            auth_der: None,
            sign_der: None,
        };
        hsm.run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                &spec.label,
                "--pin",
                &spec.pin,
                "--so-pin",
                "12345678",
            ],
        )?;
        if let Some(kind) = spec.auth {
            hsm.auth_der =
                Some(hsm.key_with_certificate(spec, "01", "Authentication", kind, false, &pki.auth_der, pki)?);
        }
        if let Some(kind) = spec.sign {
            hsm.sign_der = Some(hsm.key_with_certificate(
                spec,
                "02",
                "Signature",
                kind,
                spec.sign_always_authenticate,
                &pki.sign_der,
                pki,
            )?);
        }
        Ok(hsm)
    }

    /// The environment the module needs: `SOFTHSM2_CONF`.
    pub fn env(&self) -> [(&'static str, String); 1] {
        [("SOFTHSM2_CONF", self.conf.display().to_string())]
    }

    /// The configuration file.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// Leaves the token directory in place when dropped; returns the configuration file.
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.conf.clone()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<Vec<u8>> {
        let out = Command::new(tool)
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .map_err(|e| VcardError::InvalidOption(format!("cannot run {tool} (install softhsm2 and opensc): {e}")))?;
        if !out.status.success() {
            return Err(VcardError::InvalidOption(format!(
                "{tool} {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(out.stdout)
    }

    fn tool(&self, spec: &TokenSpec, args: &[&str]) -> Result<Vec<u8>> {
        let mut all = vec![
            "--module",
            MODULE,
            "--token-label",
            &spec.label,
            "--login",
            "--pin",
            &spec.pin,
        ];
        all.extend_from_slice(args);
        self.run("pkcs11-tool", &all)
    }

    /// Generates a key pair on the token, has the PKI's CA certify it (the fields of `template`
    /// with the token's public key) and stores the certificate with the key's id.
    #[allow(clippy::too_many_arguments)]
    fn key_with_certificate(
        &self,
        spec: &TokenSpec,
        id: &str,
        label: &str,
        kind: KeyType,
        always_authenticate: bool,
        template: &[u8],
        pki: &Pki,
    ) -> Result<Vec<u8>> {
        let mut gen = vec![
            "--keypairgen",
            "--key-type",
            kind.pkcs11_tool(),
            "--id",
            id,
            "--label",
            label,
        ];
        if always_authenticate {
            gen.push("--always-auth");
        }
        self.tool(spec, &gen)?;
        let spki = self.public_key(spec, id, kind)?;
        let mut fields = CertFields::from_certificate(&Certificate::from_der(template)?);
        fields.subject_public_key_info = spki;
        let der = fields.sign(&pki.ca_key)?;
        let file = self.dir.join(format!("{id}.crt.der"));
        std::fs::write(&file, &der)?;
        let file_s = file.display().to_string();
        self.tool(
            spec,
            &[
                "--write-object",
                &file_s,
                "--type",
                "cert",
                "--id",
                id,
                "--label",
                label,
            ],
        )?;
        Ok(der)
    }
}

impl SoftHsm {
    /// The token's public key as a SubjectPublicKeyInfo. RSA through `pkcs11-tool --read-object`;
    /// EC from the `EC_POINT` that `--list-objects` prints, since OpenSC 0.23 cannot export a P-384
    /// public key ("cannot create EVP_PKEY").
    fn public_key(&self, spec: &TokenSpec, id: &str, kind: KeyType) -> Result<SubjectPublicKeyInfoOwned> {
        use p384::pkcs8::EncodePublicKey;
        if kind == KeyType::Rsa2048 {
            let file = self.dir.join(format!("{id}.pub.der"));
            let file_s = file.display().to_string();
            self.tool(spec, &["--read-object", "--type", "pubkey", "--id", id, "-o", &file_s])?;
            return Ok(SubjectPublicKeyInfoOwned::from_der(&std::fs::read(&file)?)?);
        }
        let listing = self.tool(spec, &["--list-objects", "--type", "pubkey", "--id", id])?;
        let listing = String::from_utf8_lossy(&listing);
        // One block per object (pkcs11-tool 0.23 lists them all whatever --id says): the one
        // whose `ID:` is ours.
        let field = |block: &str, name: &str| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        let point_hex = listing
            .split("Public Key Object")
            .find(|block| field(block, "ID:").is_some_and(|i| i.eq_ignore_ascii_case(id)))
            .and_then(|block| field(block, "EC_POINT:"))
            .ok_or_else(|| VcardError::InvalidOption(format!("no EC_POINT for key {id}: {listing}")))?;
        let wrapped = hex::decode(point_hex).map_err(|e| VcardError::InvalidOption(format!("EC_POINT: {e}")))?;
        // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (PKCS#11 v2.40 §2.3.3).
        let point = der::asn1::OctetString::from_der(&wrapped)?;
        let doc = match kind {
            KeyType::P256 => p256::PublicKey::from_sec1_bytes(point.as_bytes())
                .map_err(|e| VcardError::InvalidOption(format!("P-256 point: {e}")))?
                .to_public_key_der()?,
            _ => p384::PublicKey::from_sec1_bytes(point.as_bytes())
                .map_err(|e| VcardError::InvalidOption(format!("P-384 point: {e}")))?
                .to_public_key_der()?,
        };
        Ok(SubjectPublicKeyInfoOwned::from_der(doc.as_bytes())?)
    }
}

impl Drop for SoftHsm {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
