//! `eidlink-tls-client`: one HTTPS GET with TLS client-certificate authentication, the client's key
//! on a PKCS#11 token (eidlink's module, OpenSC's, SoftHSM), for the TLS tests and the benchmark.
//!
//! `eidlink-tls-client --module M --url https://127.0.0.1:P/ --ca server-ca.pem --tls 1.3` finds the
//! certificate and private key with the same CKA_ID (the key labelled `--key-label`, default
//! "Authentication", else the only key with a certificate), offers the certificate, and signs the
//! CertificateVerify with C_Sign: CKM_ECDSA over the hash the scheme names (the module's raw
//! `r ‖ s` made DER for TLS, RFC 8446 §4.2.3), CKM_RSA_PKCS over the DigestInfo (RFC 8017 §9.2),
//! CKM_RSA_PKCS_PSS over the hash with MGF1 of the same hash and a salt of its length (RFC 8446
//! §4.2.3). The body goes to stdout; one line per handshake to stderr:
//! `handshake <n>: <ms> ms <protocol> <scheme>`. `--repeat N` makes N connections with the one
//! module session (the benchmark). A module that logs in itself (eidlink's, which runs its PIN
//! dialog at C_Sign) needs nothing more; others get C_Login with the PIN in the environment
//! variable `--pin-env` names (never on the command line, never printed).
//!
//! Exit codes: 0 success, 2 usage, 3 no token in any slot, 4 no usable certificate and key, 5 the
//! module failed to sign (its CKR_ code is printed), 6 the TLS handshake or the request failed,
//! 1 other.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::Error as P11Error;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::Decode;
use eidlink_core::HashAlgorithm;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use sha2::Digest;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Tls {
    #[value(name = "1.2")]
    V12,
    #[value(name = "1.3")]
    V13,
}

#[derive(Debug, Parser)]
#[command(name = "eidlink-tls-client", version)]
struct Args {
    /// The PKCS#11 module (a .so file).
    #[arg(long)]
    module: PathBuf,
    /// The URL to GET (https only).
    #[arg(long)]
    url: String,
    /// The CA of the server's certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// The TLS version to speak (only that one).
    #[arg(long, value_enum)]
    tls: Tls,
    /// The label of the private key to use.
    #[arg(long, default_value = "Authentication")]
    key_label: String,
    /// Log in (C_Login, user) with the PIN in this environment variable first: for modules that
    /// do not ask for the PIN themselves.
    #[arg(long, value_name = "VAR")]
    pin_env: Option<String>,
    /// Make this many connections, one after the other, with the one module session.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Network time limit per connection, in seconds (C_Sign, and so the PIN dialog, has none).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

#[derive(Debug, thiserror::Error)]
enum ClientError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}: {1}")]
    Module(&'static str, String),
    #[error("no token in any slot of {0} (is the card inserted?)")]
    NoToken(String),
    #[error("{0}")]
    NoKey(String),
    #[error("the module could not sign: {0}")]
    Sign(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Other(String),
}

impl ClientError {
    fn exit_code(&self) -> u8 {
        match self {
            ClientError::Usage(_) => 2,
            ClientError::NoToken(_) => 3,
            ClientError::NoKey(_) => 4,
            ClientError::Sign(_) => 5,
            ClientError::Tls(_) => 6,
            ClientError::Module(..) | ClientError::Other(_) => 1,
        }
    }
}

/// A PKCS#11 failure as `C_Function: CKR_NAME` (cryptoki's own text is the spec's long prose).
fn p11(e: &P11Error) -> String {
    match e {
        P11Error::Pkcs11(rv, function) => format!("C_{function:?}: {}", ckr_name(&format!("{rv:?}"))),
        other => other.to_string(),
    }
}

/// `FunctionCanceled` → `CKR_FUNCTION_CANCELED` (PKCS#11 v2.40 §11.1 names).
fn ckr_name(debug: &str) -> String {
    let mut out = String::from("CKR");
    for c in debug.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// How the failure that no certificate was offered begins.
const NO_SCHEME: &str = "the key signs none of the signature schemes the server accepts";

fn module_err(what: &'static str) -> impl Fn(P11Error) -> ClientError {
    move |e| ClientError::Module(what, p11(&e))
}

/// The token's key: one session, shared by every handshake (C_Sign calls are serialised).
struct Token {
    session: Mutex<Session>,
    key: ObjectHandle,
    kind: KeyKind,
    pss: bool,
    version: Tls,
    /// The last C_Sign failure, or why no certificate was offered, for the error message (rustls
    /// only says the signer failed, or the server that a certificate is missing).
    failure: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("pss", &self.pss)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Rsa,
}

impl KeyKind {
    /// The schemes this key signs, in our order of preference. TLS 1.3 allows ECDSA with the
    /// curve's own hash and RSA-PSS only (RFC 8446 §4.2.3); in TLS 1.2 PKCS#1 v1.5 comes first, as
    /// every card can do it.
    fn schemes(self, version: Tls, pss: bool) -> Vec<SignatureScheme> {
        use SignatureScheme as S;
        match self {
            KeyKind::P256 => vec![S::ECDSA_NISTP256_SHA256],
            KeyKind::P384 => vec![S::ECDSA_NISTP384_SHA384],
            KeyKind::Rsa => {
                let pss_schemes = [S::RSA_PSS_SHA256, S::RSA_PSS_SHA384, S::RSA_PSS_SHA512];
                let pkcs1 = [S::RSA_PKCS1_SHA256, S::RSA_PKCS1_SHA384, S::RSA_PKCS1_SHA512];
                match (version, pss) {
                    (Tls::V13, true) => pss_schemes.to_vec(),
                    (Tls::V13, false) => Vec::new(),
                    (Tls::V12, true) => pkcs1.into_iter().chain(pss_schemes).collect(),
                    (Tls::V12, false) => pkcs1.to_vec(),
                }
            }
        }
    }
}

/// The token's key as rustls sees it.
#[derive(Debug)]
struct TokenKey(Arc<Token>);

impl SigningKey for TokenKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self
            .0
            .kind
            .schemes(self.0.version, self.0.pss)
            .into_iter()
            .find(|s| offered.contains(s))?;
        Some(Box::new(SchemeSigner {
            token: self.0.clone(),
            scheme,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.0.kind {
            KeyKind::P256 | KeyKind::P384 => SignatureAlgorithm::ECDSA,
            KeyKind::Rsa => SignatureAlgorithm::RSA,
        }
    }
}

/// One CertificateVerify signature with the scheme rustls chose.
#[derive(Debug)]
struct SchemeSigner {
    token: Arc<Token>,
    scheme: SignatureScheme,
}

/// The hash a scheme names.
fn hash_of(scheme: SignatureScheme) -> Option<HashAlgorithm> {
    use SignatureScheme as S;
    Some(match scheme {
        S::ECDSA_NISTP256_SHA256 | S::RSA_PKCS1_SHA256 | S::RSA_PSS_SHA256 => HashAlgorithm::Sha256,
        S::ECDSA_NISTP384_SHA384 | S::RSA_PKCS1_SHA384 | S::RSA_PSS_SHA384 => HashAlgorithm::Sha384,
        S::RSA_PKCS1_SHA512 | S::RSA_PSS_SHA512 => HashAlgorithm::Sha512,
        _ => return None,
    })
}

fn digest(hash: HashAlgorithm, message: &[u8]) -> Vec<u8> {
    match hash {
        HashAlgorithm::Sha384 => sha2::Sha384::digest(message).to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::digest(message).to_vec(),
        _ => sha2::Sha256::digest(message).to_vec(),
    }
}

impl SchemeSigner {
    /// The mechanism and its input for `message` (PKCS#11 v2.40 curr. mech. §2.3.6 ECDSA, §2.1.6
    /// PKCS #1 v1.5, §2.1.14 PSS).
    fn mechanism(&self, message: &[u8]) -> Result<(Mechanism<'static>, Vec<u8>), String> {
        use SignatureScheme as S;
        let hash = hash_of(self.scheme).ok_or_else(|| format!("no hash for {:?}", self.scheme))?;
        let h = digest(hash, message);
        Ok(match self.scheme {
            S::ECDSA_NISTP256_SHA256 | S::ECDSA_NISTP384_SHA384 => (Mechanism::Ecdsa, h),
            S::RSA_PKCS1_SHA256 | S::RSA_PKCS1_SHA384 | S::RSA_PKCS1_SHA512 => {
                let mut info = hash.digest_info_prefix().to_vec();
                info.extend_from_slice(&h);
                (Mechanism::RsaPkcs, info)
            }
            _ => {
                let (hash_alg, mgf) = match hash {
                    HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
                    HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
                    _ => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
                };
                let s_len = cryptoki::types::Ulong::try_from(h.len()).map_err(|e| e.to_string())?;
                (Mechanism::RsaPkcsPss(PkcsPssParams { hash_alg, mgf, s_len }), h)
            }
        })
    }

    /// ECDSA for TLS is DER (RFC 8446 §4.2.3, RFC 3279 Ecdsa-Sig-Value); PKCS#11 gives `r ‖ s`.
    fn to_tls(&self, raw: Vec<u8>) -> Result<Vec<u8>, String> {
        match self.scheme {
            SignatureScheme::ECDSA_NISTP256_SHA256 => p256::ecdsa::Signature::from_slice(&raw)
                .map(|s| s.to_der().as_bytes().to_vec())
                .map_err(|_| format!("the module's ECDSA P-256 signature is not r || s ({} bytes)", raw.len())),
            SignatureScheme::ECDSA_NISTP384_SHA384 => p384::ecdsa::Signature::from_slice(&raw)
                .map(|s| s.to_der().as_bytes().to_vec())
                .map_err(|_| format!("the module's ECDSA P-384 signature is not r || s ({} bytes)", raw.len())),
            _ => Ok(raw),
        }
    }
}

impl Signer for SchemeSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let fail = |why: String| {
            *self.token.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(why.clone());
            rustls::Error::General(why)
        };
        let (mechanism, data) = self.mechanism(message).map_err(fail)?;
        let raw = {
            let session = self.token.session.lock().unwrap_or_else(PoisonError::into_inner);
            session
                .sign(&mechanism, self.token.key, &data)
                .map_err(|e| fail(p11(&e)))?
        };
        self.to_tls(raw).map_err(fail)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// Offers the token's certificate whenever the server asks and the key can sign a scheme it takes.
#[derive(Debug)]
struct Resolver {
    key: Arc<CertifiedKey>,
    token: Arc<Token>,
    chosen: Mutex<Option<SignatureScheme>>,
}

impl ResolvesClientCert for Resolver {
    fn resolve(&self, _root_hints: &[&[u8]], sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let scheme = self
            .token
            .kind
            .schemes(self.token.version, self.token.pss)
            .into_iter()
            .find(|s| sigschemes.contains(s));
        *self.chosen.lock().unwrap_or_else(PoisonError::into_inner) = scheme;
        if scheme.is_none() {
            // No certificate is sent; the server will refuse, and this is why.
            *self.token.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!(
                "{NO_SCHEME} (it accepts {sigschemes:?}; this key signs {:?} in this TLS version{})",
                self.token.kind.schemes(self.token.version, self.token.pss),
                if self.token.kind == KeyKind::Rsa && !self.token.pss {
                    ": the module offers no CKM_RSA_PKCS_PSS"
                } else {
                    ""
                }
            ));
        }
        scheme.map(|_| self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

const OID_EC: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_RSA: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_P256: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The key type, from the certificate's SubjectPublicKeyInfo (RFC 5480 §2.1.1, RFC 3279 §2.3.1).
fn key_kind(cert_der: &[u8]) -> Result<KeyKind, ClientError> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| ClientError::NoKey(format!("the token's certificate does not parse: {e}")))?;
    let alg = &cert.tbs_certificate().subject_public_key_info().algorithm;
    if alg.oid == OID_RSA {
        return Ok(KeyKind::Rsa);
    }
    let curve = alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok());
    match (alg.oid, curve) {
        (OID_EC, Some(OID_P256)) => Ok(KeyKind::P256),
        (OID_EC, Some(OID_P384)) => Ok(KeyKind::P384),
        _ => Err(ClientError::NoKey(format!(
            "the token's key ({}, {curve:?}) is neither RSA, P-256 nor P-384",
            alg.oid
        ))),
    }
}

fn bytes_attr(attrs: &[Attribute], want: AttributeType) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match (a, want) {
        (Attribute::Label(v), AttributeType::Label) | (Attribute::Id(v), AttributeType::Id) => Some(v.clone()),
        (Attribute::Value(v), AttributeType::Value) => Some(v.clone()),
        _ => None,
    })
}

/// Opens the first slot with a token and finds the key and its certificate.
fn open_token(args: &Args, failure: Arc<Mutex<Option<String>>>) -> Result<(Arc<Token>, Vec<u8>), ClientError> {
    let ctx = Pkcs11::new(&args.module).map_err(|e| {
        ClientError::Module(
            "cannot load the module",
            format!("{}: {}", args.module.display(), p11(&e)),
        )
    })?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(module_err("C_Initialize"))?;
    let slot = *ctx
        .get_slots_with_token()
        .map_err(module_err("C_GetSlotList"))?
        .first()
        .ok_or_else(|| ClientError::NoToken(args.module.display().to_string()))?;
    let pss = ctx
        .get_mechanism_list(slot)
        .map_err(module_err("C_GetMechanismList"))?
        .contains(&MechanismType::RSA_PKCS_PSS);
    let session = ctx.open_ro_session(slot).map_err(module_err("C_OpenSession"))?;
    if let Some(var) = &args.pin_env {
        let pin = Zeroizing::new(
            std::env::var(var).map_err(|_| ClientError::Usage(format!("--pin-env {var}: the variable is not set")))?,
        );
        match session.login(UserType::User, Some(&AuthPin::from(pin.as_str().to_owned()))) {
            Ok(()) => {}
            Err(P11Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(ClientError::Sign(p11(&e))),
        }
    }
    let keys = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .map_err(module_err("C_FindObjects"))?;
    let mut candidates = Vec::new();
    for key in keys {
        let attrs = session
            .get_attributes(key, &[AttributeType::Label, AttributeType::Id])
            .map_err(module_err("C_GetAttributeValue"))?;
        let label = bytes_attr(&attrs, AttributeType::Label).unwrap_or_default();
        let Some(id) = bytes_attr(&attrs, AttributeType::Id) else {
            continue;
        };
        let certs = session
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(id)])
            .map_err(module_err("C_FindObjects"))?;
        let Some(cert) = certs.first() else { continue };
        let value = session
            .get_attributes(*cert, &[AttributeType::Value])
            .map_err(module_err("C_GetAttributeValue"))?;
        if let Some(der) = bytes_attr(&value, AttributeType::Value) {
            candidates.push((key, String::from_utf8_lossy(&label).into_owned(), der));
        }
    }
    let labels: Vec<String> = candidates.iter().map(|(_, l, _)| format!("{l:?}")).collect();
    let chosen = match candidates.iter().position(|(_, l, _)| *l == args.key_label) {
        Some(i) => Some(candidates.swap_remove(i)),
        None if candidates.len() == 1 => candidates.pop(),
        None => None,
    };
    let (key, _, cert_der) = chosen.ok_or_else(|| {
        ClientError::NoKey(format!(
            "no private key labelled {:?} with a certificate of the same CKA_ID on the token (keys with \
             certificates: [{}])",
            args.key_label,
            labels.join(", ")
        ))
    })?;
    let kind = key_kind(&cert_der)?;
    let token = Token {
        session: Mutex::new(session),
        key,
        kind,
        pss,
        version: args.tls,
        failure,
    };
    // The context must outlive the session: it is finalized when the process ends.
    std::mem::forget(ctx);
    Ok((Arc::new(token), cert_der))
}

fn tls_config(args: &Args, resolver: Arc<Resolver>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca)
        .map_err(|e| ClientError::Usage(format!("--ca {}: {e}", args.ca.display())))?
    {
        let cert = cert.map_err(|e| ClientError::Usage(format!("--ca {}: {e}", args.ca.display())))?;
        roots
            .add(cert)
            .map_err(|e| ClientError::Usage(format!("--ca {}: {e}", args.ca.display())))?;
    }
    let version = match args.tls {
        Tls::V12 => &rustls::version::TLS12,
        Tls::V13 => &rustls::version::TLS13,
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[version])
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_cert_resolver(resolver);
    Ok(Arc::new(config))
}

/// Host, port and path of an https URL.
fn target(url: &str) -> Result<(String, u16, String), ClientError> {
    let url = url::Url::parse(url).map_err(|e| ClientError::Usage(format!("--url {url:?}: {e}")))?;
    if url.scheme() != "https" {
        return Err(ClientError::Usage(format!("--url {url}: only https URLs")));
    }
    let host = url
        .host_str()
        .ok_or_else(|| ClientError::Usage(format!("--url {url}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path = format!("{path}?{q}");
    }
    Ok((host, port, path))
}

/// One connection: handshake (timed), GET, the response body.
fn fetch(
    config: &Arc<rustls::ClientConfig>,
    (host, port, path): &(String, u16, String),
    timeout: Duration,
    failure: &Mutex<Option<String>>,
) -> Result<(Duration, String, Option<rustls::ProtocolVersion>), ClientError> {
    let name = ServerName::try_from(host.clone()).map_err(|e| ClientError::Usage(format!("{host}: {e}")))?;
    let addr = (host.as_str(), *port)
        .to_socket_addrs()
        .map_err(|e| ClientError::Tls(format!("{host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| ClientError::Tls(format!("{host}:{port}: no address")))?;
    let sign_failed = |e: std::io::Error| match failure.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some(why) if why.starts_with(NO_SCHEME) => ClientError::NoKey(format!("{why}; then: {e}")),
        Some(why) => ClientError::Sign(why),
        None => ClientError::Tls(e.to_string()),
    };
    let started = Instant::now();
    let mut sock =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| ClientError::Tls(format!("connect {addr}: {e}")))?;
    sock.set_read_timeout(Some(timeout))
        .map_err(|e| ClientError::Other(e.to_string()))?;
    sock.set_write_timeout(Some(timeout))
        .map_err(|e| ClientError::Other(e.to_string()))?;
    let _ = sock.set_nodelay(true);
    let mut conn = rustls::ClientConnection::new(config.clone(), name).map_err(|e| ClientError::Tls(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(sign_failed)?;
    }
    let elapsed = started.elapsed();
    let version = conn.protocol_version();
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(sign_failed)?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        // Some servers close without close_notify once the answer is complete.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(sign_failed(std::io::Error::other(format!("after the handshake: {e}")))),
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response.as_str(), ""));
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(ClientError::Tls(format!("the server answered {status:?}")));
    }
    Ok((elapsed, body.to_owned(), version))
}

fn run(args: &Args) -> Result<(), ClientError> {
    let target = target(&args.url)?;
    let failure = Arc::new(Mutex::new(None));
    let (token, cert_der) = open_token(args, failure.clone())?;
    let certified = Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(cert_der)],
        Arc::new(TokenKey(token.clone())),
    ));
    let resolver = Arc::new(Resolver {
        key: certified,
        token,
        chosen: Mutex::new(None),
    });
    let config = tls_config(args, resolver.clone())?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut last = String::new();
    for n in 1..=args.repeat {
        let (elapsed, body, version) = fetch(&config, &target, timeout, &failure)?;
        let scheme = *resolver.chosen.lock().unwrap_or_else(PoisonError::into_inner);
        eprintln!(
            "handshake {n}: {:.3} ms {} {}",
            elapsed.as_secs_f64() * 1000.0,
            version.map_or("?".to_owned(), |v| format!("{v:?}")),
            scheme.map_or("no-certificate".to_owned(), |s| format!("{s:?}")),
        );
        last = body;
    }
    print!("{last}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidlink-tls-client: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ckr_names_follow_the_spec() {
        assert_eq!(ckr_name("FunctionCanceled"), "CKR_FUNCTION_CANCELED");
        assert_eq!(ckr_name("PinLocked"), "CKR_PIN_LOCKED");
    }

    #[test]
    fn tls13_rsa_is_pss_only() {
        assert!(KeyKind::Rsa.schemes(Tls::V13, false).is_empty());
        assert_eq!(KeyKind::Rsa.schemes(Tls::V13, true)[0], SignatureScheme::RSA_PSS_SHA256);
        assert_eq!(
            KeyKind::Rsa.schemes(Tls::V12, true)[0],
            SignatureScheme::RSA_PKCS1_SHA256
        );
    }

    #[test]
    fn only_https_urls() {
        assert!(matches!(target("http://127.0.0.1:1/"), Err(ClientError::Usage(_))));
        assert_eq!(
            target("https://127.0.0.1:8443/x?y").ok(),
            Some(("127.0.0.1".to_owned(), 8443, "/x?y".to_owned()))
        );
    }
}
