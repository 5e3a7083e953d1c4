//! Test harness: the demo service started in-process (or as the binary) on a free port, a browser-like
//! HTTPS client that keeps the session cookie, and a "card" made of the virtual card's test PKI keys
//! (tokens and signatures computed exactly as the card and host compute them).
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use eidlink_core::{HashAlgorithm, Padding};
use eidlink_demo::{Config, Service, TlsSource};
use eidlink_tests::{Country, Holder, LeafKey, LeafKeyType, Pki, PkiSpec};
use eidlink_verifier::{auth_signed_data, TokenAlgorithm};
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "__Host-eidlink-demo";

/// Alice's Belgian 1.8 (P-384) test PKI, as the virtual card carries it.
pub fn alice() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::P384)).expect("pki"))
}

/// Alice's Belgian 1.7 (RSA-2048) test PKI (same CAs).
pub fn alice_rsa() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate(&PkiSpec::default_for(Country::Belgium, LeafKeyType::Rsa2048)).expect("pki"))
}

/// Bob: same seed, so the same (trusted) CAs, but another person.
pub fn bob() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
        spec.holder = Holder::parse("Bob Exemple", "90020199744").expect("holder");
        Pki::generate(&spec).expect("pki")
    })
}

/// Alice again, but under another test PKI's CAs (another seed): not trusted by the service.
pub fn alice_untrusted() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut spec = PkiSpec::default_for(Country::Belgium, LeafKeyType::P384);
        spec.seed = b"another test PKI".to_vec();
        Pki::generate(&spec).expect("pki")
    })
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).expect("base64")
}

/// What a card returns when asked to sign `digest` (hashed with `hash`): ECDSA raw r‖s, or RSA
/// PKCS#1 v1.5 over the DigestInfo the host builds.
pub fn card_sign(key: &LeafKey, hash: HashAlgorithm, digest: &[u8]) -> Vec<u8> {
    key.card_sign(hash, Padding::Pkcs1v15, digest).expect("card signature")
}

/// The token algorithm of the PKI's authentication key.
pub fn token_alg(pki: &Pki) -> TokenAlgorithm {
    match pki.auth_key {
        LeafKey::P384(_) => TokenAlgorithm::Es384,
        LeafKey::Rsa2048(_) => TokenAlgorithm::Rs256,
    }
}

/// The `authenticate` result for `origin` and `nonce`, as web-eid.js / eidlink.js resolve it.
pub fn token(pki: &Pki, origin: &str, nonce: &str) -> Value {
    let alg = token_alg(pki);
    let sig = card_sign(&pki.auth_key, alg.hash(), &auth_signed_data(origin, nonce, alg));
    json!({
        "unverifiedCertificate": b64(&pki.auth_der),
        "algorithm": alg.name(),
        "signature": b64(&sig),
        "format": "web-eid:1.0",
        "appVersion": "https://eidlink.invalid/0.1.0",
    })
}

/// The `getSigningCertificate` result.
pub fn signing_certificate(pki: &Pki) -> Value {
    let algs: Vec<Value> = match pki.sign_key {
        LeafKey::P384(_) => ["SHA-256", "SHA-384", "SHA-512"]
            .iter()
            .map(|h| json!({"cryptoAlgorithm": "ECC", "hashFunction": h, "paddingScheme": "NONE"}))
            .collect(),
        LeafKey::Rsa2048(_) => ["SHA-256", "SHA-384", "SHA-512"]
            .iter()
            .map(|h| json!({"cryptoAlgorithm": "RSA", "hashFunction": h, "paddingScheme": "PKCS1.5"}))
            .collect(),
    };
    json!({ "certificate": b64(&pki.sign_der), "supportedSignatureAlgorithms": algs })
}

/// The `sign` result for a prepared `{hash, hashFunction}`.
pub fn sign_result(pki: &Pki, prepared: &Value) -> Value {
    let name = prepared["hashFunction"].as_str().expect("hashFunction");
    let h = HashAlgorithm::from_name(name).expect("known hash");
    let hash = unb64(prepared["hash"].as_str().expect("hash"));
    let sig = card_sign(&pki.sign_key, h, &hash);
    let (crypto, padding) = match pki.sign_key {
        LeafKey::P384(_) => ("ECC", "NONE"),
        LeafKey::Rsa2048(_) => ("RSA", "PKCS1.5"),
    };
    json!({
        "signature": b64(&sig),
        "signatureAlgorithm": {"cryptoAlgorithm": crypto, "hashFunction": name, "paddingScheme": padding},
    })
}

/// The service under test and how to reach it.
pub struct Demo {
    pub base: String,
    pub origin: String,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its self-signed certificate (PEM).
    pub cert_pem: String,
    client: reqwest::Client,
}

/// Starts the service in-process trusting `trusted` (and `intermediates`), with a self-signed
/// certificate the client trusts.
pub async fn start_with(trusted: &[&[u8]], intermediates: &[&[u8]], origin: Option<&str>) -> Demo {
    start_configured(trusted, intermediates, origin, |s| s).await
}

/// Like [`start_with`], with `adjust` applied to the bound service before it serves.
pub async fn start_configured(
    trusted: &[&[u8]],
    intermediates: &[&[u8]],
    origin: Option<&str>,
    adjust: impl FnOnce(Service) -> Service,
) -> Demo {
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        origin: origin.map(str::to_owned),
        trusted_cas: trusted.iter().map(|c| c.to_vec()).collect(),
        intermediates: intermediates.iter().map(|c| c.to_vec()).collect(),
        tls: TlsSource::SelfSigned,
        page_module: page_module(),
    };
    let service = adjust(Service::bind(config).await.expect("bind"));
    let base = service.url().trim_end_matches('/').to_owned();
    let origin = service.origin().to_owned();
    let addr = service.local_addr().expect("addr");
    let cert_pem = service.certificate_pem().to_owned();
    let client = client_for(&cert_pem, addr);
    tokio::spawn(service.serve());
    Demo {
        base,
        origin,
        addr,
        cert_pem,
        client,
    }
}

/// The service trusting Alice's citizen CA.
pub async fn start() -> Demo {
    start_with(&[&alice().ca_der], &[], None).await
}

/// An HTTPS client trusting only `cert_pem`, resolving localhost to `addr`, not following redirects.
pub fn client_for(cert_pem: &str, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("cert"))
        .tls_built_in_root_certs(false)
        .resolve("localhost", addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A stub page module written once per test process (the real one is the extension's).
pub fn page_module() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("eidlink-demo-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("eidlink.js");
        std::fs::write(&path, "export async function status() { return {}; }\n").expect("write");
        path
    })
    .clone()
}

/// The `name=value` of the cookie a response sets.
pub fn set_cookie(response: &reqwest::Response) -> String {
    let header = response.headers()[SET_COOKIE].to_str().expect("ASCII cookie");
    header.split(';').next().unwrap_or_default().to_owned()
}

/// `POST /api/auth/challenge` with a bare client (the service run as a program): the session
/// cookie and the nonce bound to it.
pub async fn challenge(client: &reqwest::Client, url: &str) -> (String, String) {
    let response = client
        .post(format!("{url}api/auth/challenge"))
        .send()
        .await
        .expect("challenge");
    let cookie = set_cookie(&response);
    let body: Value = response.json().await.expect("challenge JSON");
    let nonce = body["nonce"].as_str().expect("nonce").to_owned();
    (cookie, nonce)
}

/// A browser: the client plus its session cookie.
pub struct Browser<'a> {
    pub demo: &'a Demo,
    pub cookie: Option<String>,
    /// The last `Set-Cookie` seen.
    pub last_set_cookie: Option<String>,
}

/// A response: status, headers, body text.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// `error.code` and `error.reason` of a refusal.
    pub fn error(&self) -> (String, Option<String>) {
        let v = self.json();
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error: {v}"))
            .to_owned();
        (code, v["error"]["reason"].as_str().map(str::to_owned))
    }

    /// Asserts a refusal with this status, code and (if given) reason.
    pub fn assert_refused(&self, status: u16, code: &str, reason: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let (c, r) = self.error();
        assert_eq!(c, code, "{}", self.text);
        if let Some(reason) = reason {
            assert_eq!(r.as_deref(), Some(reason), "{}", self.text);
        }
    }
}

impl Demo {
    /// A bare TLS connection to the service (trusting its certificate), for writing HTTP by hand.
    pub async fn raw_tls(&self) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(self.cert_pem.as_bytes()) {
            roots.add(cert.expect("PEM")).expect("root");
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("TLS handshake")
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            demo: self,
            cookie: None,
            last_set_cookie: None,
        }
    }
}

impl Browser<'_> {
    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(c) => request.header(COOKIE, format!("{COOKIE_NAME}={c}")),
            None => request,
        };
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().expect("ascii").to_owned();
            let value = set
                .split(';')
                .next()
                .and_then(|kv| kv.strip_prefix(&format!("{COOKIE_NAME}=")))
                .expect("our cookie")
                .to_owned();
            self.cookie = (!value.is_empty()).then_some(value);
            self.last_set_cookie = Some(set);
        }
        let text = response.text().await.expect("body");
        Answer { status, headers, text }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.demo.client.get(format!("{}{path}", self.demo.base));
        self.send(req).await
    }

    pub async fn get_with(&mut self, path: &str, header: (&str, &str)) -> Answer {
        let req = self
            .demo
            .client
            .get(format!("{}{path}", self.demo.base))
            .header(header.0, header.1);
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, body: &Value) -> Answer {
        let req = self
            .demo
            .client
            .post(format!("{}{path}", self.demo.base))
            .header("origin", &self.demo.origin)
            .json(body);
        self.send(req).await
    }

    pub async fn post_with(&mut self, path: &str, body: &Value, header: (&str, &str)) -> Answer {
        let req = self
            .demo
            .client
            .post(format!("{}{path}", self.demo.base))
            .header(header.0, header.1)
            .json(body);
        self.send(req).await
    }

    /// `POST /api/auth/challenge` → the nonce.
    pub async fn challenge(&mut self) -> String {
        let a = self.post("/api/auth/challenge", &json!({})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let nonce = a.json()["nonce"].as_str().expect("nonce").to_owned();
        assert_eq!(unb64(&nonce).len(), 32);
        nonce
    }

    /// Challenge, then login with `pki`'s card: the login answer.
    pub async fn login_with(&mut self, pki: &Pki) -> Answer {
        let nonce = self.challenge().await;
        let origin = self.demo.origin.clone();
        self.post("/api/auth/login", &json!({ "token": token(pki, &origin, &nonce) }))
            .await
    }

    /// A successful login.
    pub async fn login(&mut self, pki: &Pki) -> Value {
        let a = self.login_with(pki).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        a.json()
    }

    /// `POST /api/sign/prepare` with `pki`'s signing certificate.
    pub async fn prepare(&mut self, pki: &Pki, lang: &str) -> Answer {
        self.post(&format!("/api/sign/prepare?lang={lang}"), &signing_certificate(pki))
            .await
    }
}
