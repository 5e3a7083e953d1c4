//! Revocation checking with OCSP (RFC 6960), protocol.md §4 step 6: what Web eID's Java validator
//! does by default after the certificate path is valid.
//!
//! One request per check, never cached: a fresh 32-byte nonce (§4.4.1) that the response must echo, so
//! a recorded "good" answer cannot be replayed once the card is revoked. The request goes by HTTP POST
//! (Appendix A.1) to the certificate's authorityInfoAccess id-ad-ocsp URL, or to a configured one.
//! The response must be signed by the certificate's issuer or by a responder the issuer delegated to
//! (a certificate it issued with extendedKeyUsage id-kp-OCSPSigning, §4.2.2.2), name the same CertID,
//! and be current by thisUpdate/nextUpdate within a stated clock skew.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use der::asn1::{Any, BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Choice, Decode, Encode, Enumerated, Sequence};
use eidlink_core::{Digest, HashAlgorithm};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::{Extension, Extensions};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName as ParsedGeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::x509::AlgorithmIdentifier;

use crate::cert;
use crate::clock::{unix_seconds, Clock, SystemClock};
use crate::error::ConfigError;

/// id-ad-ocsp (RFC 5280 §4.2.2.1): the access method of an OCSP responder in authorityInfoAccess.
const OID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// id-pkix-ocsp-basic (RFC 6960 §4.2.1), the only response type defined.
const OID_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce (RFC 6960 §4.4.1).
const OID_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-sha256 (RFC 5754 §2.2), the CertID hash this client uses.
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Default allowed difference between the responder's clock and ours (Web eID's default, 15 min).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// Default age a response's thisUpdate may have (beyond the skew): 2 minutes, Web eID's default
/// maximum thisUpdate age. A responder answering a request with a nonce live sets thisUpdate to now;
/// one serving pre-produced responses needs a larger age.
pub const DEFAULT_MAX_THIS_UPDATE_AGE: Duration = Duration::from_secs(2 * 60);
/// Default connect, write and read timeout of the HTTP exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Nonce length, 32 bytes as RFC 8954 §2.1 recommends.
const NONCE_LEN: usize = 32;
/// Largest HTTP response read: an OCSP response with a responder certificate is a few KiB.
const MAX_RESPONSE: usize = 256 * 1024;

/// What an unanswered OCSP request means for [`OcspChecker::require_good`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnreachablePolicy {
    /// Refuse the certificate (fail closed), as Web eID's validator does: an attacker who can block
    /// the responder must not make a revoked card usable.
    #[default]
    Refuse,
    /// Accept the certificate with a warning in the log (fail open): availability over revocation.
    Allow,
}

/// Why a certificate was revoked (CRLReason, RFC 5280 §5.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationReason {
    /// unspecified (0).
    Unspecified,
    /// keyCompromise (1): e.g. a stolen card.
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3).
    AffiliationChanged,
    /// superseded (4): e.g. a replaced card.
    Superseded,
    /// cessationOfOperation (5).
    CessationOfOperation,
    /// certificateHold (6): suspended.
    CertificateHold,
    /// removeFromCRL (8).
    RemoveFromCrl,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
    /// aACompromise (10).
    AaCompromise,
}

impl From<CrlReason> for RevocationReason {
    fn from(r: CrlReason) -> Self {
        match r {
            CrlReason::Unspecified => Self::Unspecified,
            CrlReason::KeyCompromise => Self::KeyCompromise,
            CrlReason::CaCompromise => Self::CaCompromise,
            CrlReason::AffiliationChanged => Self::AffiliationChanged,
            CrlReason::Superseded => Self::Superseded,
            CrlReason::CessationOfOperation => Self::CessationOfOperation,
            CrlReason::CertificateHold => Self::CertificateHold,
            CrlReason::RemoveFromCRL => Self::RemoveFromCrl,
            CrlReason::PrivilegeWithdrawn => Self::PrivilegeWithdrawn,
            CrlReason::AaCompromise => Self::AaCompromise,
        }
    }
}

impl std::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // RFC 5280's names, as `openssl ocsp` and CA tools print them.
        f.write_str(match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        })
    }
}

/// The answer about one certificate. Every variant but `Unreachable` comes from a response that
/// passed every check (signature, CertID, nonce, times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspStatus {
    /// Not revoked (RFC 6960 §2.2 "good").
    Good,
    /// Revoked at `time`, with the reason when the responder gave one.
    Revoked {
        /// revocationTime.
        time: SystemTime,
        /// revocationReason, if present.
        reason: Option<RevocationReason>,
    },
    /// The responder does not know the certificate (not one its CA issued, or not in its database).
    Unknown,
    /// No answer: connection refused or timed out, or an HTTP failure. `reason` is for the log.
    Unreachable {
        /// What failed.
        reason: String,
    },
}

/// Why an OCSP check gave no usable answer, or (from [`OcspChecker::require_good`]) refused the
/// certificate. The `Display` text is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// The certificate (or a certificate of the response) does not parse.
    #[error("the certificate does not parse: {0}")]
    Certificate(String),
    /// None of the configured issuers issued the certificate.
    #[error("the certificate's issuer is not among the OCSP checker's issuers")]
    UnknownIssuer,
    /// The certificate names no OCSP responder (authorityInfoAccess id-ad-ocsp) and none is configured.
    #[error("the certificate names no OCSP responder and none is configured")]
    NoResponder,
    /// The responder URL is not `http://host[:port][/path]`.
    #[error("unsupported OCSP responder URL {0:?} (only http:// is supported)")]
    ResponderUrl(String),
    /// The system gave no random bytes for the nonce.
    #[error("no random bytes for the OCSP nonce: {0}")]
    NoRandomness(String),
    /// `require_good` under [`UnreachablePolicy::Refuse`]: the responder did not answer.
    #[error("the OCSP responder is unreachable: {0}")]
    Unreachable(String),
    /// The responder answered with an error status (RFC 6960 §4.2.1) instead of a response.
    #[error("the OCSP responder answered {0}")]
    ResponderStatus(&'static str),
    /// The response is not a DER OCSPResponse/BasicOCSPResponse.
    #[error("malformed OCSP response: {0}")]
    Malformed(String),
    /// A response type other than id-pkix-ocsp-basic.
    #[error("unsupported OCSP response type {0}")]
    UnsupportedResponseType(String),
    /// The response's signature algorithm is not one this verifier implements.
    #[error("unsupported OCSP response signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// The signature verifies with neither the issuer's key nor any certificate in the response.
    #[error("the OCSP response's signature does not verify with the issuer's or a responder's key")]
    BadSignature,
    /// The response is signed by a certificate that is not the issuer nor a responder the issuer
    /// delegated to (issued by it, id-kp-OCSPSigning, valid now).
    #[error("the OCSP response is signed by {0}, who is not authorized to answer for this issuer")]
    UnauthorizedResponder(String),
    /// The response says nothing about the certificate asked for (no matching CertID).
    #[error("the OCSP response is not about the certificate asked for")]
    CertIdMismatch,
    /// The response does not echo the request's nonce.
    #[error("the OCSP response has no nonce")]
    NonceMissing,
    /// The response carries another nonce: a replayed or misdirected response.
    #[error("the OCSP response's nonce differs from the request's")]
    NonceMismatch,
    /// thisUpdate is later than now plus the skew.
    #[error("the OCSP response's thisUpdate is in the future")]
    ThisUpdateInFuture,
    /// nextUpdate is earlier than now minus the skew: newer information should be available.
    #[error("the OCSP response is stale (nextUpdate has passed)")]
    NextUpdatePassed,
    /// thisUpdate is older than the allowed age plus the skew.
    #[error("the OCSP response is too old (thisUpdate)")]
    ThisUpdateTooOld,
    /// `require_good`: the certificate is revoked.
    #[error("the certificate was revoked ({})", reason.map_or_else(|| "no reason given".to_owned(), |r| r.to_string()))]
    Revoked {
        /// revocationTime.
        time: SystemTime,
        /// revocationReason, if present.
        reason: Option<RevocationReason>,
    },
    /// `require_good`: the responder does not know the certificate.
    #[error("the OCSP responder does not know the certificate")]
    Unknown,
}

fn malformed(e: impl std::fmt::Display) -> OcspError {
    OcspError::Malformed(e.to_string())
}

// ---- ASN.1 of RFC 6960 §4.1 and §4.2 (module with EXPLICIT tags) ----

/// CertID.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CertId {
    hash_algorithm: AlgorithmIdentifierOwned,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: Int,
}

impl CertId {
    /// The same certificate: hash algorithm (ignoring absent vs NULL parameters, both seen for
    /// SHA-2), both hashes and the serial.
    fn same_as(&self, other: &CertId) -> bool {
        self.hash_algorithm.oid == other.hash_algorithm.oid
            && self.issuer_name_hash == other.issuer_name_hash
            && self.issuer_key_hash == other.issuer_key_hash
            && self.serial_number == other.serial_number
    }
}

/// OCSPRequest without optionalSignature (unsigned, as responders accept).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct OcspRequest {
    tbs_request: TbsRequest,
}

/// TBSRequest: version v1 (the DEFAULT, so omitted), no requestorName.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TbsRequest {
    request_list: Vec<Request>,
    #[asn1(context_specific = "2", optional = "true")]
    request_extensions: Option<Extensions>,
}

/// Request without singleRequestExtensions.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Request {
    req_cert: CertId,
}

/// OCSPResponseStatus.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
enum ResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

impl ResponseStatus {
    fn name(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
            Self::TryLater => "tryLater",
            Self::SigRequired => "sigRequired",
            Self::Unauthorized => "unauthorized",
        }
    }
}

/// OCSPResponse.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct OcspResponse {
    response_status: ResponseStatus,
    #[asn1(context_specific = "0", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

/// ResponseBytes.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

/// BasicOCSPResponse. The signed part and the algorithm are kept as they came: the signature is over
/// tbsResponseData's exact DER, and x509-parser reads the algorithm's parameters (RSASSA-PSS).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct BasicOcspResponse {
    tbs_response_data: Any,
    signature_algorithm: Any,
    signature: BitString,
    #[asn1(context_specific = "0", optional = "true")]
    certs: Option<Vec<Any>>,
}

/// ResponseData. responderID is not compared: the signer is found by trying the issuer and the
/// included certificates, and its authorization is what matters (§4.2.2.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct ResponseData {
    #[asn1(context_specific = "0", default = "Default::default")]
    version: u8,
    responder_id: Any,
    produced_at: GeneralizedTime,
    responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", optional = "true")]
    response_extensions: Option<Extensions>,
}

/// SingleResponse.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SingleResponse {
    cert_id: CertId,
    cert_status: CertStatus,
    this_update: GeneralizedTime,
    #[asn1(context_specific = "0", optional = "true")]
    next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", optional = "true")]
    single_extensions: Option<Extensions>,
}

/// CertStatus (IMPLICIT tags, unlike the rest of the module).
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
enum CertStatus {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// RevokedInfo.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RevokedInfo {
    revocation_time: GeneralizedTime,
    #[asn1(context_specific = "0", optional = "true")]
    revocation_reason: Option<CrlReason>,
}

// ---- the checker ----

/// Checks certificates' revocation status with OCSP, after [`crate::TokenVerifier`] has verified
/// the token or signing certificate. Cheap to share (`Arc`) between requests; each check is one
/// blocking HTTP exchange, so call it from a blocking context (e.g. `spawn_blocking`).
///
/// ```no_run
/// # fn demo(verified_cert_der: &[u8], ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// use eidlink_verifier::{OcspChecker, OcspError};
/// let ocsp = OcspChecker::builder().issuers(ca_pem).build()?;
/// match ocsp.require_good(verified_cert_der) {
///     Ok(_) => println!("not revoked"),
///     Err(OcspError::Revoked { reason, .. }) => println!("revoked card: {reason:?}"),
///     Err(e) => println!("refused: {e}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OcspChecker {
    issuers: Vec<Vec<u8>>,
    responder_url: Option<ResponderUrl>,
    responder_certs: Vec<Vec<u8>>,
    unreachable: UnreachablePolicy,
    skew: Duration,
    max_this_update_age: Duration,
    timeout: Duration,
    require_nonce: bool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OcspChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspChecker")
            .field("issuers", &self.issuers.len())
            .field("responder_url", &self.responder_url)
            .field("responder_certs", &self.responder_certs.len())
            .field("unreachable", &self.unreachable)
            .field("skew", &self.skew)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures an [`OcspChecker`]; errors are reported by [`OcspCheckerBuilder::build`].
pub struct OcspCheckerBuilder {
    issuers: Vec<Vec<u8>>,
    responder_url: Option<String>,
    responder_certs: Vec<Vec<u8>>,
    unreachable: UnreachablePolicy,
    skew: Duration,
    max_this_update_age: Duration,
    timeout: Duration,
    require_nonce: bool,
    clock: Arc<dyn Clock>,
    error: Option<ConfigError>,
}

impl OcspCheckerBuilder {
    fn load(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        cert::load_noting_error(bytes, &mut self.error)
    }

    /// The CA certificate(s) that issue the certificates to check (PEM with one or more, or one DER):
    /// a CA signs its own responses, or delegates to a responder whose certificate it issued.
    pub fn issuers(mut self, pem_or_der: &[u8]) -> Self {
        let certs = self.load(pem_or_der);
        self.issuers.extend(certs);
        self
    }

    /// Asks this responder (`http://host[:port][/path]`) instead of the certificates'
    /// authorityInfoAccess URL.
    pub fn responder_url(mut self, url: &str) -> Self {
        self.responder_url = Some(url.to_owned());
        self
    }

    /// Trusts the responder certificate(s) in `pem_or_der` to sign responses for any issuer (a
    /// designated responder configured by the site, RFC 6960 §4.2.2.2 first case).
    pub fn responder_certificate(mut self, pem_or_der: &[u8]) -> Self {
        let certs = self.load(pem_or_der);
        self.responder_certs.extend(certs);
        self
    }

    /// What an unreachable responder means for [`OcspChecker::require_good`] (default: refuse).
    pub fn unreachable(mut self, policy: UnreachablePolicy) -> Self {
        self.unreachable = policy;
        self
    }

    /// Allowed difference between the responder's clock and ours (default [`DEFAULT_CLOCK_SKEW`]).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Age a response's thisUpdate may have, beyond the skew (default
    /// [`DEFAULT_MAX_THIS_UPDATE_AGE`]), whether or not it has a nextUpdate.
    pub fn max_this_update_age(mut self, age: Duration) -> Self {
        self.max_this_update_age = age;
        self
    }

    /// Connect, write and read timeout (default [`DEFAULT_TIMEOUT`]); a responder that does not
    /// answer within it is unreachable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether a response without the request's nonce is refused (default: yes). Some responders
    /// serve pre-produced responses and ignore nonces; accepting them makes replay within the
    /// response's validity possible.
    pub fn require_nonce(mut self, require: bool) -> Self {
        self.require_nonce = require;
        self
    }

    /// Uses this clock for "now" (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<OcspChecker, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.issuers.is_empty() {
            return Err(ConfigError::NoTrustedCa);
        }
        let responder_url = match &self.responder_url {
            Some(u) => Some(ResponderUrl::parse(u).ok_or_else(|| ConfigError::ResponderUrl(u.clone()))?),
            None => None,
        };
        Ok(OcspChecker {
            issuers: self.issuers,
            responder_url,
            responder_certs: self.responder_certs,
            unreachable: self.unreachable,
            skew: self.skew,
            max_this_update_age: self.max_this_update_age,
            timeout: self.timeout,
            require_nonce: self.require_nonce,
            clock: self.clock,
        })
    }
}

impl OcspChecker {
    /// Starts a configuration.
    pub fn builder() -> OcspCheckerBuilder {
        OcspCheckerBuilder {
            issuers: Vec::new(),
            responder_url: None,
            responder_certs: Vec::new(),
            unreachable: UnreachablePolicy::default(),
            skew: DEFAULT_CLOCK_SKEW,
            max_this_update_age: DEFAULT_MAX_THIS_UPDATE_AGE,
            timeout: DEFAULT_TIMEOUT,
            require_nonce: true,
            clock: Arc::new(SystemClock),
            error: None,
        }
    }

    /// Asks the responder about `certificate_der` (issued by one of the configured issuers) at the
    /// clock's now. `Ok` is an answer that passed every check, or [`OcspStatus::Unreachable`]; `Err`
    /// a response that cannot be trusted or a certificate that cannot be asked about.
    pub fn check(&self, certificate_der: &[u8]) -> Result<OcspStatus, OcspError> {
        let leaf = parse(certificate_der)?;
        for der in &self.issuers {
            let Ok(issuer) = cert::parse(der) else { continue };
            if cert::names_match(&leaf, &issuer) && cert::signed_by(&leaf, &issuer).unwrap_or(false) {
                return self.check_parsed(&leaf, &issuer);
            }
        }
        Err(OcspError::UnknownIssuer)
    }

    /// [`OcspChecker::check`] with the issuer given (its DER) rather than looked up.
    pub fn check_with_issuer(&self, certificate_der: &[u8], issuer_der: &[u8]) -> Result<OcspStatus, OcspError> {
        self.check_parsed(&parse(certificate_der)?, &parse(issuer_der)?)
    }

    /// [`OcspChecker::check`] with the verdict applied: `Ok` for a good certificate (or an unreachable
    /// responder under [`UnreachablePolicy::Allow`], returned as such); `Err(Revoked)`,
    /// `Err(Unknown)`, `Err(Unreachable)` or the check's own error otherwise.
    pub fn require_good(&self, certificate_der: &[u8]) -> Result<OcspStatus, OcspError> {
        self.verdict(self.check(certificate_der)?)
    }

    /// The policy applied to a status, as [`OcspChecker::require_good`] does.
    pub fn verdict(&self, status: OcspStatus) -> Result<OcspStatus, OcspError> {
        match status {
            OcspStatus::Good => Ok(OcspStatus::Good),
            OcspStatus::Revoked { time, reason } => Err(OcspError::Revoked { time, reason }),
            OcspStatus::Unknown => Err(OcspError::Unknown),
            OcspStatus::Unreachable { reason } => match self.unreachable {
                UnreachablePolicy::Refuse => Err(OcspError::Unreachable(reason)),
                UnreachablePolicy::Allow => {
                    tracing::warn!(%reason, "OCSP responder unreachable; certificate accepted by policy");
                    Ok(OcspStatus::Unreachable { reason })
                }
            },
        }
    }

    fn check_parsed(&self, leaf: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Result<OcspStatus, OcspError> {
        let url = match &self.responder_url {
            Some(u) => u.clone(),
            None => {
                let aia = ocsp_url_of(leaf).ok_or(OcspError::NoResponder)?;
                ResponderUrl::parse(&aia).ok_or(OcspError::ResponderUrl(aia))?
            }
        };
        let cert_id = cert_id(leaf, issuer)?;
        let mut nonce = [0u8; NONCE_LEN];
        // A local fault, not the responder's: never excused by the unreachable policy.
        getrandom::fill(&mut nonce).map_err(|e| OcspError::NoRandomness(e.to_string()))?;
        let nonce_ext = nonce_extension(&nonce)?;
        let request = OcspRequest {
            tbs_request: TbsRequest {
                request_list: vec![Request {
                    req_cert: cert_id.clone(),
                }],
                request_extensions: Some(vec![nonce_ext.clone()]),
            },
        }
        .to_der()
        .map_err(malformed)?;
        tracing::debug!(responder = %url, serial = %hex_of(leaf.raw_serial()), "OCSP request");
        let body = match url.post(&request, self.timeout) {
            Ok(b) => b,
            Err(reason) => {
                tracing::info!(responder = %url, %reason, "OCSP responder unreachable");
                return Ok(OcspStatus::Unreachable { reason });
            }
        };
        let status = self.evaluate(&body, &cert_id, &nonce_ext, issuer, self.clock.now())?;
        tracing::debug!(responder = %url, ?status, "OCSP answer");
        Ok(status)
    }

    /// Every check of a response body (RFC 6960 §3.2) and the status it gives.
    fn evaluate(
        &self,
        body: &[u8],
        cert_id: &CertId,
        nonce_ext: &Extension,
        issuer: &X509Certificate<'_>,
        now: SystemTime,
    ) -> Result<OcspStatus, OcspError> {
        let response = OcspResponse::from_der(body).map_err(malformed)?;
        if response.response_status != ResponseStatus::Successful {
            return Err(OcspError::ResponderStatus(response.response_status.name()));
        }
        let bytes = response
            .response_bytes
            .ok_or_else(|| malformed("a successful response without responseBytes"))?;
        if bytes.response_type != OID_OCSP_BASIC {
            return Err(OcspError::UnsupportedResponseType(bytes.response_type.to_string()));
        }
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)?;
        let tbs = basic.tbs_response_data.to_der().map_err(malformed)?;
        let data = ResponseData::from_der(&tbs).map_err(malformed)?;
        let alg_der = basic.signature_algorithm.to_der().map_err(malformed)?;
        let (_, alg) = AlgorithmIdentifier::from_der(&alg_der).map_err(malformed)?;
        let signature = basic
            .signature
            .as_bytes()
            .ok_or_else(|| malformed("the signature is not a whole number of bytes"))?;
        let certs = basic.certs.unwrap_or_default();
        self.check_signer(issuer, &alg, &tbs, signature, &certs, unix_seconds(now))?;

        let echoed = data
            .response_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == OID_OCSP_NONCE);
        match echoed {
            Some(e) if e.extn_value != nonce_ext.extn_value => return Err(OcspError::NonceMismatch),
            None if self.require_nonce => return Err(OcspError::NonceMissing),
            _ => {}
        }

        let single = data
            .responses
            .iter()
            .find(|r| r.cert_id.same_as(cert_id))
            .ok_or(OcspError::CertIdMismatch)?;
        self.check_times(single, now)?;
        Ok(match &single.cert_status {
            CertStatus::Good(_) => OcspStatus::Good,
            CertStatus::Revoked(info) => OcspStatus::Revoked {
                time: to_system_time(&info.revocation_time),
                reason: info.revocation_reason.map(RevocationReason::from),
            },
            CertStatus::Unknown(_) => OcspStatus::Unknown,
        })
    }

    /// §4.2.2.2: the response is signed by the issuer, by a configured designated responder, or by
    /// an included certificate the issuer issued for OCSP signing.
    fn check_signer(
        &self,
        issuer: &X509Certificate<'_>,
        alg: &AlgorithmIdentifier<'_>,
        tbs: &[u8],
        signature: &[u8],
        certs: &[Any],
        now: i64,
    ) -> Result<(), OcspError> {
        let verifies = |signer: &X509Certificate<'_>| -> Result<bool, OcspError> {
            cert::verify_signed(signer, alg, tbs, signature).map_err(|e| match e {
                crate::VerifyError::UnsupportedSignatureAlgorithm(oid) => OcspError::UnsupportedSignatureAlgorithm(oid),
                other => OcspError::Certificate(other.to_string()),
            })
        };
        if verifies(issuer)? {
            return Ok(());
        }
        for der in &self.responder_certs {
            if verifies(&parse(der)?)? {
                return Ok(());
            }
        }
        let mut unauthorized = None;
        for any in certs {
            let der = any.to_der().map_err(malformed)?;
            let responder = parse(&der)?;
            if !verifies(&responder)? {
                continue;
            }
            if delegated_by(&responder, issuer, now) {
                return Ok(());
            }
            unauthorized.get_or_insert_with(|| cert::display_name(&responder));
        }
        Err(unauthorized.map_or(OcspError::BadSignature, OcspError::UnauthorizedResponder))
    }

    /// §3.2 items 4 and 5, with the skew, as Web eID checks them: thisUpdate neither in the future
    /// nor older than the allowed age, nextUpdate (if any) not past.
    fn check_times(&self, single: &SingleResponse, now: SystemTime) -> Result<(), OcspError> {
        let now = unix_seconds(now);
        let skew = secs(self.skew);
        let this_update = unix_seconds(to_system_time(&single.this_update));
        if this_update > now.saturating_add(skew) {
            return Err(OcspError::ThisUpdateInFuture);
        }
        if this_update
            .saturating_add(secs(self.max_this_update_age))
            .saturating_add(skew)
            < now
        {
            return Err(OcspError::ThisUpdateTooOld);
        }
        match &single.next_update {
            Some(next) if unix_seconds(to_system_time(next)).saturating_add(skew) < now => {
                Err(OcspError::NextUpdatePassed)
            }
            _ => Ok(()),
        }
    }
}

/// A delegated responder (§4.2.2.2 third case): issued by `issuer` (name and signature), with
/// extendedKeyUsage id-kp-OCSPSigning, valid now, keyUsage (if present) digitalSignature, and no
/// critical extension this verifier does not know (RFC 5280 §4.2).
fn delegated_by(responder: &X509Certificate<'_>, issuer: &X509Certificate<'_>, now: i64) -> bool {
    let issued = cert::names_match(responder, issuer) && cert::signed_by(responder, issuer).unwrap_or(false);
    let ocsp_signing = matches!(responder.extended_key_usage(), Ok(Some(eku)) if eku.value.ocsp_signing);
    let usage = match responder.key_usage() {
        Ok(None) => true,
        Ok(Some(ku)) => ku.value.digital_signature(),
        Err(_) => false,
    };
    issued
        && ocsp_signing
        && usage
        && cert::check_validity(responder, now).is_ok()
        && cert::check_critical_extensions(responder).is_ok()
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, OcspError> {
    cert::parse(der).map_err(|e| OcspError::Certificate(e.to_string()))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn to_system_time(t: &GeneralizedTime) -> SystemTime {
    UNIX_EPOCH + t.to_unix_duration()
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The first http(s) id-ad-ocsp URL of the certificate's authorityInfoAccess.
fn ocsp_url_of(cert: &X509Certificate<'_>) -> Option<String> {
    cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find_map(|d| {
            match (&d.access_location, d.access_method.to_id_string() == OID_AD_OCSP) {
                (ParsedGeneralName::URI(u), true) => Some((*u).to_owned()),
                _ => None,
            }
        }),
        _ => None,
    })
}

/// CertID with SHA-256 (§4.1.1): the hash of the issuer's name DER and of its public key's BIT
/// STRING contents, and the certificate's serial.
fn cert_id(leaf: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Result<CertId, OcspError> {
    let hash = |data: &[u8]| OctetString::new(Digest::of(HashAlgorithm::Sha256, data).as_bytes()).map_err(malformed);
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: OID_SHA256,
            parameters: None,
        },
        issuer_name_hash: hash(issuer.subject().as_raw())?,
        issuer_key_hash: hash(&issuer.public_key().subject_public_key.data)?,
        serial_number: Int::new(leaf.raw_serial()).map_err(|e| OcspError::Certificate(e.to_string()))?,
    })
}

/// The nonce extension: extnValue holds the DER of an OCTET STRING with the nonce (RFC 8954 §2.1,
/// how OpenSSL and most responders encode it); the response must carry the same bytes.
fn nonce_extension(nonce: &[u8]) -> Result<Extension, OcspError> {
    let inner = OctetString::new(nonce).and_then(|o| o.to_der()).map_err(malformed)?;
    Ok(Extension {
        extn_id: OID_OCSP_NONCE,
        critical: false,
        extn_value: OctetString::new(inner).map_err(malformed)?,
    })
}

// ---- HTTP (RFC 6960 Appendix A.1) ----

/// `http://host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResponderUrl {
    host: String,
    port: u16,
    path: String,
}

impl std::fmt::Display for ResponderUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

impl ResponderUrl {
    /// Plain http only: OCSP responses are signed, so TLS adds nothing but a dependency, and https
    /// responders would need a trust store of their own (Web eID uses http AIA URLs too).
    fn parse(url: &str) -> Option<ResponderUrl> {
        let scheme = url.get(..7)?;
        if !scheme.eq_ignore_ascii_case("http://") {
            return None;
        }
        let rest = &url[7..];
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if authority.is_empty() || authority.contains('@') || path.bytes().any(|b| b.is_ascii_whitespace()) {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after {
                "" => 80,
                p => p.strip_prefix(':')?.parse().ok()?,
            };
            (format!("[{h}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().ok()?),
                None => (authority.to_owned(), 80),
            }
        };
        if host.is_empty() || host.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return None;
        }
        Some(ResponderUrl { host, port, path })
    }

    /// POSTs the request and returns the body of a 200 answer; `Err` describes any failure to get
    /// one (the responder is then unreachable).
    fn post(&self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addrs = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?;
        let mut last = format!("{} resolves to no address", self.host);
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        let mut stream = stream.ok_or(last)?;
        let io = |e: std::io::Error| format!("{self}: {e}");
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        let default_port = self.port == 80;
        let host_header = if default_port {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/ocsp-request\r\n\
             Accept: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            request.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(request).map_err(io)?;
        stream.flush().map_err(io)?;
        // The whole answer within the timeout (a responder trickling bytes is no better than a
        // silent one), and no waiting for the close once the body is complete (a server may keep
        // the connection open despite `Connection: close`).
        let deadline = Instant::now() + timeout;
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(format!("{self}: no complete answer within {timeout:?}"));
            }
            stream.set_read_timeout(Some(remaining)).map_err(io)?;
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // What a read timeout gives, depending on the platform.
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return Err(format!("{self}: no complete answer within {timeout:?}"));
                }
                Err(e) => return Err(io(e)),
            };
            raw.extend_from_slice(&buf[..n]);
            if raw.len() > MAX_RESPONSE {
                return Err(format!("{self}: the answer exceeds {MAX_RESPONSE} bytes"));
            }
            if let Some(body) = parse_http_response(&raw, n == 0).map_err(|e| format!("{self}: {e}"))? {
                return Ok(body);
            }
        }
    }
}

/// The body of a `200` HTTP/1.x answer (Content-Length, chunked, or up to the close) once `raw` holds
/// all of it; `Ok(None)` while more is to come. `eof`: the connection is closed, nothing more comes.
fn parse_http_response(raw: &[u8], eof: bool) -> Result<Option<Vec<u8>>, String> {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if eof {
            Err("no complete HTTP header".into())
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "the HTTP header is not text")?;
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1 answer: {status_line:?}"));
    }
    if code != "200" {
        return Err(format!("HTTP {}", status_line.get(version.len() + 1..).unwrap_or(code)));
    }
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    let done = if chunked {
        dechunk(body)?
    } else {
        match length {
            Some(n) if body.len() < n => None,
            Some(n) => Some(body[..n].to_vec()),
            None => eof.then(|| body.to_vec()),
        }
    };
    match done {
        None if eof => Err(format!("the body ends early, after {} bytes", body.len())),
        other => Ok(other),
    }
}

/// A chunked body (RFC 9112 §7.1), trailers ignored; `Ok(None)` while incomplete.
fn dechunk(mut body: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_line = std::str::from_utf8(&body[..eol]).map_err(|_| "bad chunk size")?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| "bad chunk size")?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if body.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responder_urls() {
        let u = |s: &str| ResponderUrl::parse(s).map(|u| (u.host, u.port, u.path));
        assert_eq!(
            u("http://ocsp.example.org"),
            Some(("ocsp.example.org".into(), 80, "/".into()))
        );
        assert_eq!(
            u("HTTP://127.0.0.1:8888/ocsp"),
            Some(("127.0.0.1".into(), 8888, "/ocsp".into()))
        );
        assert_eq!(u("http://[::1]:9/"), Some(("[::1]".into(), 9, "/".into())));
        for bad in [
            "https://ocsp.example.org",
            "http://",
            "http://a@b/",
            "http://h:x/",
            "ldap://h/",
        ] {
            assert_eq!(u(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_bodies() {
        let done = |raw: &[u8]| parse_http_response(raw, false);
        let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(done(ok), Ok(Some(b"abc".to_vec())));
        // Complete without waiting for the close.
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(done(chunked), Ok(Some(b"abc".to_vec())));
        assert_eq!(done(&chunked[..chunked.len() - 6]), Ok(None));
        // Without a length, the close ends the body.
        let closed = b"HTTP/1.1 200 OK\r\n\r\nxyz";
        assert_eq!(done(closed), Ok(None));
        assert_eq!(parse_http_response(closed, true), Ok(Some(b"xyz".to_vec())));
        let err = done(b"HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(err, Err("HTTP 503 Service Unavailable".into()));
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc";
        assert_eq!(done(short), Ok(None));
        assert!(parse_http_response(short, true).is_err());
        assert_eq!(done(b"HTTP/1.1 200"), Ok(None));
        assert!(parse_http_response(b"HTTP/1.1 200", true).is_err());
    }

    #[test]
    fn nonce_extension_is_an_octet_string_in_the_extn_value() {
        let ext = nonce_extension(&[7u8; 32]).expect("encodes");
        let value = ext.extn_value.as_bytes();
        assert_eq!(&value[..2], &[0x04, 32]);
        assert_eq!(&value[2..], &[7u8; 32]);
    }
}
