//! The authentication-token check of protocol.md §4, in its order.

use std::sync::Arc;
use std::time::SystemTime;

use eidlink_core::{Curve, KeyAlgorithm};
use eidlink_webeid::{auth_digest, AuthToken, Nonce, TokenAlgorithm};
use x509_parser::certificate::X509Certificate;

use crate::cert::{self, Subject};
use crate::clock::{unix_seconds, Clock, SystemClock};
use crate::error::{ConfigError, VerifyError};
use crate::origin::normalize_origin;
use crate::sign::decode_b64;

/// §4.1 bounds of the token JSON, in bytes.
pub const TOKEN_MIN_LEN: usize = 100;
/// §4.1 upper bound.
pub const TOKEN_MAX_LEN: usize = 10_000;
/// Longest issuer path searched (intermediates between the certificate and a trusted CA, plus one).
const MAX_PATH_DEPTH: usize = 6;

/// `H(M)` with `M = H(utf8(origin)) || H(utf8(nonce))` and `H` the algorithm's hash (protocol.md
/// §2.2): the digest a card signs for an authentication token. The definition lives in
/// `eidlink_webeid::auth_digest`, shared with the host that builds tokens, so the two cannot
/// disagree; this is its byte form.
pub fn auth_signed_data(origin: &str, nonce: &str, alg: TokenAlgorithm) -> Vec<u8> {
    auth_digest(alg, origin, nonce).as_bytes().to_vec()
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Who authenticated.
    pub subject: Subject,
    /// The authentication certificate (DER).
    pub certificate_der: Vec<u8>,
    /// The token's algorithm.
    pub algorithm: TokenAlgorithm,
    /// The token's `format`, e.g. "web-eid:1.0".
    pub format: String,
    /// The token's `appVersion`, when present (informational, not checked).
    pub app_version: Option<String>,
}

/// A certificate the verifier was configured with, kept as DER (parsed again per check: parsing is
/// cheap and `X509Certificate` borrows its bytes).
#[derive(Debug, Clone)]
struct CaCert {
    der: Vec<u8>,
}

/// Checks Web eID authentication tokens for one site. Cheap to share (`Arc`) between requests.
///
/// ```no_run
/// # fn demo(token_json: &str, ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// use eidlink_verifier::{NonceStore, TokenVerifier};
/// let verifier = TokenVerifier::builder("https://example.org")
///     .trusted_cas(ca_pem)
///     .build()?;
/// let nonces = NonceStore::new();
/// let nonce = nonces.issue(); // send to the page for web-eid authenticate()
/// // ... the page posts back the token ...
/// nonces.consume(&nonce, std::time::SystemTime::now())?;
/// let who = verifier.verify(token_json, &nonce)?;
/// println!("{:?}", who.subject.full_name());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenVerifier {
    origin: String,
    trusted: Vec<CaCert>,
    intermediates: Vec<CaCert>,
    disallowed_policies: Vec<String>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("origin", &self.origin)
            .field("trusted", &self.trusted.len())
            .field("intermediates", &self.intermediates.len())
            .field("disallowed_policies", &self.disallowed_policies)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TokenVerifier`]; errors are reported by [`TokenVerifierBuilder::build`].
pub struct TokenVerifierBuilder {
    origin: String,
    trusted: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    disallowed_policies: Vec<String>,
    clock: Arc<dyn Clock>,
    error: Option<ConfigError>,
}

impl TokenVerifierBuilder {
    fn load(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        cert::load_noting_error(bytes, &mut self.error)
    }

    /// Trusts the CA certificate(s) in `pem_or_der` (PEM with one or more certificates, or one DER
    /// certificate): the citizen CA, its root, or both. Tokens must chain to one of them.
    pub fn trusted_cas(mut self, pem_or_der: &[u8]) -> Self {
        let certs = self.load(pem_or_der);
        self.trusted.extend(certs);
        self
    }

    /// Supplies intermediate CA certificate(s) that are not trusted themselves but may link a token's
    /// certificate to a trusted CA (e.g. the citizen CA when only the root is trusted).
    pub fn intermediates(mut self, pem_or_der: &[u8]) -> Self {
        let certs = self.load(pem_or_der);
        self.intermediates.extend(certs);
        self
    }

    /// Refuses certificates carrying this policy OID (dotted form), §4.4.
    pub fn disallow_policy(mut self, oid: &str) -> Self {
        let valid = !oid.is_empty()
            && oid.split('.').count() >= 2
            && oid
                .split('.')
                .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
        if valid {
            self.disallowed_policies.push(oid.to_owned());
        } else {
            self.error.get_or_insert(ConfigError::Policy(oid.to_owned()));
        }
        self
    }

    /// Uses this clock for "now" (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<TokenVerifier, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let origin = normalize_origin(&self.origin)?;
        if self.trusted.is_empty() {
            return Err(ConfigError::NoTrustedCa);
        }
        Ok(TokenVerifier {
            origin,
            trusted: self.trusted.into_iter().map(|der| CaCert { der }).collect(),
            intermediates: self.intermediates.into_iter().map(|der| CaCert { der }).collect(),
            disallowed_policies: self.disallowed_policies,
            clock: self.clock,
        })
    }
}

impl TokenVerifier {
    /// Starts a configuration for the site at `origin` (`https://host[:port]`, normalized as browsers
    /// do; see [`crate::normalize_origin`]).
    pub fn builder(origin: &str) -> TokenVerifierBuilder {
        TokenVerifierBuilder {
            origin: origin.to_owned(),
            trusted: Vec::new(),
            intermediates: Vec::new(),
            disallowed_policies: Vec::new(),
            clock: Arc::new(SystemClock),
            error: None,
        }
    }

    /// The normalized site origin whose hash the tokens must sign.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Verifies a token against the nonce the server issued for it, at the clock's now. The caller
    /// consumes the nonce from its store first ([`crate::NonceStore::consume`]).
    pub fn verify(&self, token_json: &str, nonce: &str) -> Result<VerifiedToken, VerifyError> {
        self.verify_at(token_json, nonce, self.clock.now())
    }

    /// [`TokenVerifier::verify`] at a given time.
    pub fn verify_at(&self, token_json: &str, nonce: &str, at: SystemTime) -> Result<VerifiedToken, VerifyError> {
        let now = unix_seconds(at);
        // The nonce is the server's own value: a wrong length is a caller bug, caught before any work.
        let nonce = Nonce::new(nonce).map_err(|e| VerifyError::InvalidNonce(e.0))?;
        let nonce = nonce.as_str();

        // §4.1 structure.
        let len = token_json.len();
        if len < TOKEN_MIN_LEN {
            return Err(VerifyError::TokenTooShort(len));
        }
        if len > TOKEN_MAX_LEN {
            return Err(VerifyError::TokenTooLong(len));
        }
        // Unknown fields (action, web-eid:1.1's extras...) are ignored.
        let AuthToken {
            unverified_certificate: cert_b64,
            algorithm,
            signature: signature_b64,
            format,
            app_version,
        } = AuthToken::from_json(token_json)?;

        // §4.2 certificate.
        let der = decode_b64(&cert_b64, "unverifiedCertificate")?;
        let leaf = cert::parse(&der)?;
        // §4.3 purpose.
        cert::check_auth_purpose(&leaf)?;
        // §4.4 policies.
        cert::check_policies(&leaf, &self.disallowed_policies)?;
        // §4.5 validity and chain.
        cert::check_critical_extensions(&leaf)?;
        cert::check_validity(&leaf, now)?;
        self.check_chain(&leaf, now)?;
        // §4.6 revocation: not here (it needs the network); the caller asks `OcspChecker` next.

        // §4.7 signature.
        let alg = TokenAlgorithm::from_name(&algorithm).ok_or(VerifyError::UnknownAlgorithm(algorithm))?;
        let signature = decode_b64(&signature_b64, "signature")?;
        check_auth_signature(&leaf, alg, &self.origin, nonce, &signature)?;

        Ok(VerifiedToken {
            subject: cert::subject(&leaf),
            certificate_der: der.clone(),
            algorithm: alg,
            format,
            app_version,
        })
    }

    /// Checks a signing certificate (the one a page got from `get-signing-certificate`, base64-decoded)
    /// before a site asks for a signature with it, at the clock's now: it parses, its keyUsage has
    /// nonRepudiation or digitalSignature, it carries no disallowed policy and no unknown critical
    /// extension, it is valid now, and it chains to a trusted CA exactly as an authentication
    /// certificate must (§4.5). Returns who it names, so the site can check it is the person logged in.
    pub fn verify_signing_certificate(&self, certificate_der: &[u8]) -> Result<Subject, VerifyError> {
        self.verify_signing_certificate_at(certificate_der, self.clock.now())
    }

    /// [`TokenVerifier::verify_signing_certificate`] at a given time.
    pub fn verify_signing_certificate_at(
        &self,
        certificate_der: &[u8],
        at: SystemTime,
    ) -> Result<Subject, VerifyError> {
        let now = unix_seconds(at);
        let leaf = cert::parse(certificate_der)?;
        cert::check_signing_purpose(&leaf)?;
        cert::check_policies(&leaf, &self.disallowed_policies)?;
        cert::check_critical_extensions(&leaf)?;
        cert::check_validity(&leaf, now)?;
        self.check_chain(&leaf, now)?;
        Ok(cert::subject(&leaf))
    }

    /// §4.5: a path from `leaf` through supplied intermediates to a trusted CA, every link checked.
    fn check_chain(&self, leaf: &X509Certificate<'_>, now: i64) -> Result<(), VerifyError> {
        self.find_issuer(leaf, 0, now, 0)
    }

    /// Depth-first search for an issuer of `child`. `intermediates_below` counts the CA certificates
    /// already between `child` and the end-entity (for pathLenConstraint). The most specific failure
    /// is reported when no path works: an untrusted issuer only if nothing more precise was seen.
    fn find_issuer(
        &self,
        child: &X509Certificate<'_>,
        intermediates_below: u32,
        now: i64,
        depth: usize,
    ) -> Result<(), VerifyError> {
        if depth >= MAX_PATH_DEPTH {
            return Err(VerifyError::UntrustedIssuer);
        }
        let mut failure = VerifyError::UntrustedIssuer;
        let mut note = |e: VerifyError| {
            if failure == VerifyError::UntrustedIssuer {
                failure = e;
            }
        };
        for ca in &self.trusted {
            let Ok(anchor) = cert::parse(&ca.der) else { continue };
            match link(child, &anchor, intermediates_below, now) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => note(e),
            }
        }
        for ca in &self.intermediates {
            let Ok(inter) = cert::parse(&ca.der) else { continue };
            if inter.tbs_certificate.as_ref() == child.tbs_certificate.as_ref() {
                continue;
            }
            let step = link(child, &inter, intermediates_below, now).and_then(|linked| {
                if !linked {
                    return Ok(false);
                }
                cert::check_critical_extensions(&inter)?;
                // A self-issued intermediate (CA re-key) does not count towards path length
                // (RFC 5280 §4.2.1.9).
                let self_issued = inter.subject().as_raw() == inter.issuer().as_raw();
                let below = intermediates_below + u32::from(!self_issued);
                self.find_issuer(&inter, below, now, depth + 1).map(|()| true)
            });
            match step {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => note(e),
            }
        }
        Err(failure)
    }
}

/// One link of the path: whether `issuer` issued `child`. `Ok(false)` when it is another CA (other
/// name, or same name but another key); `Err` when it is the issuer but the link is invalid (expired
/// CA, not a CA, path too long, altered certificate).
fn link(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>, below: u32, now: i64) -> Result<bool, VerifyError> {
    if !cert::names_match(child, issuer) {
        return Ok(false);
    }
    if !cert::signed_by(child, issuer)? {
        // Same name and key identifier but a failing signature: the child was altered. Otherwise a
        // different CA that happens to share the name (a re-keyed CA, another test PKI).
        return if cert::key_ids_match(child, issuer) {
            Err(VerifyError::ChainSignature(cert::display_name(child)))
        } else {
            Ok(false)
        };
    }
    cert::check_validity(issuer, now).map_err(|_| VerifyError::IssuerNotValid(cert::display_name(issuer)))?;
    cert::check_is_ca(issuer, below)?;
    Ok(true)
}

/// §4.7 for an already parsed certificate.
fn check_auth_signature(
    cert: &X509Certificate<'_>,
    alg: TokenAlgorithm,
    origin: &str,
    nonce: &str,
    signature: &[u8],
) -> Result<(), VerifyError> {
    let key = cert::public_key(cert)?;
    // The curve must be the algorithm's (ES256 ↔ P-256, ES384 ↔ P-384, ES512 ↔ P-521), as JWS
    // (RFC 7518 §3.4) defines them: the raw signature's length depends on it.
    let curve = match alg {
        TokenAlgorithm::Es256 => Some(Curve::P256),
        TokenAlgorithm::Es384 => Some(Curve::P384),
        TokenAlgorithm::Es512 => Some(Curve::P521),
        _ => None,
    };
    if curve.is_some_and(|c| key.algorithm() != KeyAlgorithm::Ec(c)) {
        return Err(VerifyError::AlgorithmKeyMismatch {
            algorithm: alg.name().to_owned(),
            key: key.to_string(),
        });
    }
    key.verify(&alg.scheme(), &auth_digest(alg, origin, nonce), signature)
        .map_err(|e| VerifyError::from_check(e, || alg.name().to_owned()))
}

/// §4.7 alone: whether `signature` (raw bytes) is a valid `alg` signature of the certificate's key
/// over `H(origin) || H(nonce)`. No other check is made: for tests and tools that look at the
/// signature of a token whose certificate is checked elsewhere. `origin` is used as given (not
/// normalized).
pub fn verify_auth_signature(
    certificate_der: &[u8],
    alg: TokenAlgorithm,
    origin: &str,
    nonce: &str,
    signature: &[u8],
) -> Result<(), VerifyError> {
    let c = cert::parse(certificate_der)?;
    check_auth_signature(&c, alg, origin, nonce, signature)
}
