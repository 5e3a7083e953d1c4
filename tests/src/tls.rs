//! A real HTTPS server that demands a client certificate, for the end-to-end tests of TLS
//! client-certificate login: `openssl s_server -Verify 1 -verify_return_error -www` on loopback,
//! trusting the virtual card's CA chain, with a server certificate for IP 127.0.0.1 issued by a
//! test server CA made for it (clients trust [`TlsServer::server_ca`]). Its `-www` page tells what
//! it saw: the protocol, the client certificate's subject and the client's signature algorithm
//! ([`EchoPage`]). TLS 1.2 or 1.3 only, one server per version; session caching and tickets are off,
//! so every connection is a full handshake with a fresh client signature. Killed, and its scratch
//! directory removed, when dropped. (The same server in JavaScript for the browser tests:
//! tests/browser/lib.mjs `TlsServer`.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::{Result, VcardError};
use crate::ocsp::{cert_pem, free_port};
use crate::pki::{key_pem, LeafKey, Pki};

/// How long `openssl s_server` may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The TLS version a server speaks (only that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246): the client signs the handshake hash with PKCS#1 v1.5, PSS or ECDSA.
    Tls12,
    /// TLS 1.3 (RFC 8446 §4.4.3): ECDSA or RSA-PSS only.
    Tls13,
}

impl TlsVersion {
    /// `1.2` or `1.3`, as eidlink-tls-client's `--tls` takes it.
    pub fn arg(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }

    /// The `openssl s_server` option that limits it to this version.
    fn openssl_flag(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "-tls1_2",
            TlsVersion::Tls13 => "-tls1_3",
        }
    }

    /// How OpenSSL names the protocol on its `-www` page (`Protocol  : TLSv1.3`).
    pub fn openssl_name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

/// PKCS#8 PEM of one of the holder's keys (for `openssl s_client -key`, or a PKCS#12 a browser
/// imports): the software twin of the key on the virtual card, to check the server without a card.
pub fn leaf_key_pem(key: &LeafKey) -> Result<String> {
    match key {
        LeafKey::P384(k) => key_pem(k),
        LeafKey::Rsa2048(k) => {
            use rsa::pkcs8::EncodePrivateKey;
            let der = k
                .as_ref()
                .to_pkcs8_der()
                .map_err(|e| VcardError::InvalidOption(format!("PKCS#8: {e}")))?;
            Ok(
                der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, der.as_bytes())
                    .map_err(der::Error::from)?,
            )
        }
    }
}

/// The chain a server trusts for the card's client certificates: the citizen CA and the root, PEM.
pub fn client_ca_chain_pem(pki: &Pki) -> Result<String> {
    Ok(format!("{}{}", cert_pem(&pki.ca_der)?, cert_pem(&pki.root_der)?))
}

/// Runs `openssl` with `args` in `dir`; an error carries its stderr.
fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| VcardError::InvalidOption(format!("cannot run openssl (is it installed?): {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(VcardError::InvalidOption(format!(
            "openssl {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Writes a test server CA (`server-ca.pem`) and a certificate for IP 127.0.0.1 issued by it
/// (`server.pem`, `server.key`) into `dir`: P-256 keys, valid for two days, serverAuth (RFC 5280
/// §4.2.1.12), the address as an iPAddress subjectAltName (§4.2.1.6), which browsers require. Each
/// CA has its own name and serial (`unique`, hex): NSS refuses two certificates with the same
/// issuer and serial number.
pub fn write_server_pki(dir: &Path, unique: &str) -> Result<()> {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let subject = format!("/O=eidlink test/CN=eidlink TEST TLS server CA {unique}");
    let serial = format!("0x{unique}");
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "2",
        "-subj",
        &subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        "server-ca.key",
        "-out",
        "server-ca.pem",
    ]);
    openssl(dir, &ca)?;
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr)?;
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "server-ca.pem",
            "-CAkey",
            "server-ca.key",
            "-set_serial",
            &serial,
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    )
}

/// A running `openssl s_server` demanding a client certificate.
pub struct TlsServer {
    child: Child,
    dir: PathBuf,
    port: u16,
    version: TlsVersion,
    stdout: Arc<Mutex<String>>,
}

impl TlsServer {
    /// Starts a server for `version` that accepts client certificates chaining to the PEM
    /// certificates `client_ca_pem` (the virtual card's citizen CA and root); returns once it
    /// listens.
    pub fn start(client_ca_pem: &str, version: TlsVersion) -> Result<TlsServer> {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eidlink-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let started = Self::start_in(dir.clone(), client_ca_pem, version);
        if started.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        started
    }

    fn start_in(dir: PathBuf, client_ca_pem: &str, version: TlsVersion) -> Result<TlsServer> {
        let unique = format!(
            "{:08x}{:08x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        );
        write_server_pki(&dir, &unique)?;
        std::fs::write(dir.join("client-ca.pem"), client_ca_pem)?;
        let port = free_port()?;
        let stderr = std::fs::File::create(dir.join("stderr.txt"))?;
        let accept = format!("127.0.0.1:{port}");
        let mut child = Command::new("openssl")
            .current_dir(&dir)
            .args(["s_server", "-accept", &accept, version.openssl_flag()])
            .args(["-cert", "server.pem", "-key", "server.key", "-CAfile", "client-ca.pem"])
            // -Verify: a client certificate is required; -verify_return_error: one that does not
            // chain to the CA fails the handshake (without it s_server only logs the error).
            .args(["-Verify", "2", "-verify_return_error", "-www"])
            // Every connection a full handshake: no session cache (TLS 1.2), no tickets (1.3).
            .args(["-no_cache", "-num_tickets", "0", "-no_ticket"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| VcardError::InvalidOption(format!("cannot start openssl s_server: {e}")))?;
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            let seen = stdout.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(std::result::Result::ok) {
                    // OpenSSL 3.0 prints ACCEPT once it listens.
                    if line.starts_with("ACCEPT") {
                        let _ = tx.send(());
                    }
                    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                    seen.push_str(&line);
                    seen.push('\n');
                }
            });
        }
        let server = TlsServer {
            child,
            dir,
            port,
            version,
            stdout,
        };
        if rx.recv_timeout(START_TIMEOUT).is_err() {
            return Err(VcardError::InvalidOption(format!(
                "openssl s_server did not start: {}",
                server.stderr()
            )));
        }
        Ok(server)
    }

    /// `https://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS version it speaks.
    pub fn version(&self) -> TlsVersion {
        self.version
    }

    /// The CA of its server certificate (PEM file), for the clients to trust.
    pub fn server_ca(&self) -> PathBuf {
        self.dir.join("server-ca.pem")
    }

    /// Its scratch directory (tests may put their own files there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What it printed on stdout so far (`ACCEPT` once it listened).
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// What it wrote on stderr so far: `depth=0 <subject>` for each certificate it verified, and why
    /// a handshake failed (`peer did not return a certificate`, `certificate verify failed`, ...).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What `openssl s_server -www` reports of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoPage {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: String,
    /// The client certificate's subject as OpenSSL prints it (`C=BE, CN=... (Authentication), ...`).
    pub client_subject: String,
    /// The algorithm of the client's CertificateVerify: `ECDSA`, `RSA` (PKCS#1 v1.5) or `RSA-PSS`.
    pub peer_signature_type: Option<String>,
    /// The hash of the client's CertificateVerify: `SHA256`, `SHA384`, ...
    pub peer_signing_digest: Option<String>,
}

impl EchoPage {
    /// Reads the page (the body, or the whole response); `None` when it shows no client
    /// certificate or no protocol.
    pub fn parse(page: &str) -> Option<EchoPage> {
        let field = |name: &str| {
            page.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
        };
        let protocol = field("Protocol")?;
        let (_, client) = page.split_once("Client certificate")?;
        let client_subject = client
            .lines()
            .find_map(|l| l.trim().strip_prefix("Subject:"))
            .map(|v| v.trim().to_owned())?;
        Some(EchoPage {
            protocol,
            client_subject,
            peer_signature_type: field("Peer signature type"),
            peer_signing_digest: field("Peer signing digest"),
        })
    }
}

/// The page `eidlink-tls-client` printed, read; a failed handshake or a page that is not the
/// server's fails the test with the client's and the server's words (test support: a failed step
/// is a failed test).
#[track_caller]
#[allow(clippy::panic)]
pub fn echoed(out: &std::process::Output, server: &TlsServer) -> EchoPage {
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        panic!(
            "eidlink-tls-client failed ({:?}): {}\nserver: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            server.stderr()
        );
    }
    EchoPage::parse(&stdout).unwrap_or_else(|| panic!("no echo page: {stdout}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_echo_page_tells_protocol_subject_and_signature() {
        let page = "Peer signing digest: SHA384\nPeer signature type: ECDSA\n---\nSSL-Session:\n    Protocol  : \
                    TLSv1.3\n---\nClient certificate\nCertificate:\n    Data:\n        Issuer: C=BE, CN=CA\n        \
                    Subject: C=BE, CN=Alice Specimen (Authentication), serialNumber=85010112486\n";
        let echo = EchoPage::parse(page).unwrap();
        assert_eq!(echo.protocol, "TLSv1.3");
        assert_eq!(
            echo.client_subject,
            "C=BE, CN=Alice Specimen (Authentication), serialNumber=85010112486"
        );
        assert_eq!(echo.peer_signature_type.as_deref(), Some("ECDSA"));
        assert_eq!(echo.peer_signing_digest.as_deref(), Some("SHA384"));
        // No client certificate on the page: nothing to echo.
        assert_eq!(EchoPage::parse("Protocol  : TLSv1.2\n"), None);
    }
}
