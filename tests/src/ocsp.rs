//! A real OCSP responder for the revocation tests: `openssl ocsp` on loopback, serving an OpenSSL
//! CA database (`index.txt`, lines from [`crate::pki::index_line`]) for the test PKI's citizen CA,
//! its answers signed by the key the test chooses (the CA, another CA, a delegated responder).
//! Killed, and its scratch directory removed, when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use p384::ecdsa::SigningKey;

use crate::error::{Result, VcardError};
use crate::pki::key_pem;

/// How long `openssl ocsp` may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A loopback port nobody listens on right now (bound, then released).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A certificate as PEM.
pub fn cert_pem(der: &[u8]) -> Result<String> {
    Ok(der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(der::Error::from)?)
}

/// What the responder serves and signs with.
pub struct ResponderSpec<'a> {
    /// The issuing CA whose certificates are asked about (`-CA`).
    pub ca_der: &'a [u8],
    /// The certificate and key that sign the answers (`-rsigner`, `-rkey`).
    pub signer: (&'a [u8], &'a SigningKey),
    /// The CA database: one [`crate::pki::index_line`] per certificate it knows.
    pub index: &'a str,
    /// The loopback port (OpenSSL 3.0's `-port` takes a port only, so it listens on every
    /// interface; clients use 127.0.0.1).
    pub port: u16,
    /// More `openssl ocsp` options (`-nrequest 2`, `-ndays 1`, ...).
    pub extra: &'a [&'a str],
}

/// A running `openssl ocsp`.
pub struct OcspResponder {
    child: Child,
    dir: PathBuf,
}

impl OcspResponder {
    /// Writes the files and starts the responder; returns once it listens.
    pub fn start(spec: &ResponderSpec<'_>) -> Result<OcspResponder> {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eidlink-ocsp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("index.txt"), spec.index)?;
        std::fs::write(dir.join("ca.pem"), cert_pem(spec.ca_der)?)?;
        std::fs::write(dir.join("signer.pem"), cert_pem(spec.signer.0)?)?;
        std::fs::write(dir.join("signer.key"), key_pem(spec.signer.1)?)?;
        let stderr = std::fs::File::create(dir.join("stderr.txt"))?;
        let mut child = Command::new("openssl")
            .current_dir(&dir)
            .args(["ocsp", "-index", "index.txt", "-CA", "ca.pem"])
            .args(["-rsigner", "signer.pem", "-rkey", "signer.key"])
            .args(["-port", &spec.port.to_string()])
            .args(spec.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                VcardError::InvalidOption(format!("cannot start openssl ocsp (is openssl installed?): {e}"))
            })?;
        // OpenSSL 3.0 prints "ACCEPT [::]:<port> PID=..." once it listens.
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
                if line.starts_with("ACCEPT") {
                    let _ = tx.send(());
                }
            }
        });
        let responder = OcspResponder { child, dir };
        if rx.recv_timeout(START_TIMEOUT).is_err() {
            return Err(VcardError::InvalidOption(format!(
                "openssl ocsp did not start: {}",
                responder.stderr()
            )));
        }
        Ok(responder)
    }

    /// What `openssl ocsp` wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    /// A file in its scratch directory (`ca.pem` is the CA; tests may add their own).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Its scratch directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
