//! The HTTPS certificate: PEM files given on the command line, or a self-signed certificate for
//! localhost / 127.0.0.1 / ::1 generated at start (rcgen, ECDSA P-256), valid from yesterday for 30
//! days. rustls with the *ring* provider serves it (TLS 1.2 and 1.3, HTTP/1.1 by ALPN).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::DemoError;

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files: the certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1).
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// Generate a self-signed certificate for localhost at start.
    SelfSigned,
}

/// The certificate in use: the rustls configuration, and the leaf's PEM (what a client must trust).
pub struct ServerIdentity {
    /// rustls server configuration.
    pub config: Arc<rustls::ServerConfig>,
    /// PEM of the certificate chain.
    pub certificate_pem: String,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, DemoError> {
    std::fs::read(path).map_err(|source| DemoError::File {
        path: path.to_owned(),
        source,
    })
}

/// Loads or generates the server's certificate and builds the rustls configuration.
pub fn server_identity(source: &TlsSource) -> Result<ServerIdentity, DemoError> {
    let (chain, key, certificate_pem) = match source {
        TlsSource::Files { cert, key } => {
            let cert_pem = read(cert)?;
            let chain = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DemoError::Tls(format!("{}: {e}", cert.display())))?;
            if chain.is_empty() {
                return Err(DemoError::Tls(format!("{}: no CERTIFICATE in the PEM", cert.display())));
            }
            let key_pem = read(key)?;
            let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| DemoError::Tls(format!("{}: {e}", key.display())))?;
            let pem = String::from_utf8_lossy(&cert_pem).into_owned();
            (chain, key_der, pem)
        }
        TlsSource::SelfSigned => self_signed()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerIdentity {
        config: Arc::new(config),
        certificate_pem,
    })
}

/// A fresh self-signed certificate for the loopback names.
fn self_signed() -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), DemoError> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let mut params = rcgen::CertificateParams::new(names)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "eidlink demo service (localhost)");
    dn.push(rcgen::DnType::OrganizationName, "eidlink demo");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key_pair = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key_pair)?;
    let key =
        PrivateKeyDer::try_from(key_pair.serialize_der()).map_err(|e| DemoError::Tls(format!("generated key: {e}")))?;
    Ok((vec![cert.der().clone()], key, cert.pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_identity_builds() {
        let id = server_identity(&TlsSource::SelfSigned);
        assert!(id.is_ok_and(|id| id.certificate_pem.starts_with("-----BEGIN CERTIFICATE-----")));
    }

    #[test]
    fn missing_files_are_reported() {
        let r = server_identity(&TlsSource::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        });
        assert!(matches!(r, Err(DemoError::File { .. })));
    }
}
