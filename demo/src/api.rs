//! The JSON API the page script calls, and the pages and files it serves.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /api/auth/challenge` | — | `{nonce}`, and the session cookie if there was none |
//! | `POST /api/auth/login` | `{token}` (the object `authenticate` returned) | `{holder, nationalNumber, algorithm}`, new session cookie |
//! | `POST /api/auth/logout` | — | `{}`, cookie cleared |
//! | `POST /api/sign/prepare` | `{certificate, supportedSignatureAlgorithms}` | `{hash, hashFunction}` |
//! | `POST /api/sign/finish` | `{signature, signatureAlgorithm}` | `{id, holder, nationalNumber, signedAt, signedByText, hashFunction, signatureAlgorithm, download}` |
//! | `GET /api/sign/download/{id}` | — | the signed document (JSON, attachment) |
//! | `GET /api/last` | — | `{login, signature}`: this session's verified login and last verified signature (or null); 401 without a login |
//!
//! Challenges asked without a login are rate-limited per client address (429 and `Retry-After`).
//! Refusals are `{"error": {"code", "reason", "message"}}` with the codes of [`crate::error::ApiCode`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use eidlink_core::{CryptoAlgorithm, HashAlgorithm};
use eidlink_verifier::{check_non_repudiation, verify_sign_result, OcspError, Subject, VerifyError};
use eidlink_webeid::{SignResult, SignatureAlgorithm, SigningCertificate};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::error::{ApiCode, ApiError};
use crate::i18n::Lang;
use crate::pages;
use crate::session::{
    clear_cookie, cookie_session_id, random_id, set_cookie, PendingSignature, Session, SignedSummary, User, PENDING_TTL,
};
use crate::state::{rfc3339, signed_by_text, AppState, SignedDocument, VerifiedEvent};

/// The page script.
const APP_JS: &str = include_str!("../assets/app.js");
/// The style sheet.
const STYLE_CSS: &str = include_str!("../assets/style.css");

/// Shared state as the handlers take it.
pub type Shared = State<Arc<AppState>>;

/// `?lang=`.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    /// fr or en.
    pub lang: Option<String>,
}

fn lang_of(q: &LangQuery, headers: &HeaderMap) -> Lang {
    Lang::negotiate(q.lang.as_deref(), headers)
}

fn internal(what: &str) -> ApiError {
    ApiError::new(ApiCode::Internal, what)
}

/// With `--ocsp`: the certificate's revocation status, asked once its path verified (a blocking
/// HTTP exchange, off the async workers). A revoked card is refused with the reason and date, so a
/// stolen card reported to its CA can neither log in nor sign.
async fn check_revocation(st: &AppState, der: &[u8], code: ApiCode) -> Result<(), ApiError> {
    let Some(ocsp) = st.ocsp() else { return Ok(()) };
    let der = der.to_vec();
    let verdict = tokio::task::spawn_blocking(move || ocsp.require_good(&der))
        .await
        .map_err(|_| internal("OCSP check"))?;
    verdict.map(|_| ()).map_err(|e| {
        tracing::warn!(error = %e, "certificate refused by its revocation status");
        let (reason, message) = match &e {
            OcspError::Revoked { time, reason } => (
                "CERTIFICATE_REVOKED",
                format!(
                    "this card's certificate was revoked{} on {}: the card can no longer be used",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                    rfc3339(OffsetDateTime::from(*time)),
                ),
            ),
            OcspError::Unknown => (
                "CERTIFICATE_STATUS_UNKNOWN",
                "the certificate's issuer does not know this certificate (OCSP status unknown)".to_owned(),
            ),
            OcspError::Unreachable(_) => (
                "OCSP_UNREACHABLE",
                "the certificate's revocation status cannot be checked now (OCSP responder unreachable)".to_owned(),
            ),
            other => (
                "OCSP_FAILED",
                format!("the certificate's revocation status could not be checked: {other}"),
            ),
        };
        ApiError {
            code,
            reason: Some(reason),
            message,
        }
    })
}

fn bad_json(e: &JsonRejection) -> ApiError {
    ApiError::new(ApiCode::BadRequest, e.body_text())
}

/// The logged-in person of the request's session.
fn current_user(st: &AppState, headers: &HeaderMap) -> Result<(String, User), ApiError> {
    let not_logged_in = || ApiError::new(ApiCode::NotLoggedIn, "no session, or nobody is logged in");
    let sid = cookie_session_id(headers).ok_or_else(not_logged_in)?;
    let user = st
        .sessions
        .with(&sid, |s| s.user.clone())
        .flatten()
        .ok_or_else(not_logged_in)?;
    Ok((sid, user))
}

/// Masks all but the last two digits, for logs: personal data stays out of them.
fn masked(national_number: &str) -> String {
    let n = national_number.chars().count();
    national_number
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 2 < n { '•' } else { c })
        .collect()
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The client address the accept loop put in the request; one shared address for requests that
/// come without it (the router served some other way), which are then limited together.
fn client_ip(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(ConnectInfo(addr))| {
        addr.ip()
    })
}

/// `POST /api/auth/challenge`: a fresh nonce, remembered in the (possibly new) session. Unless the
/// session is a login, the client address's rate limit applies: anybody can ask for challenges, and
/// each one is a nonce and, without a cookie, a new anonymous session.
pub async fn challenge(
    State(st): Shared,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let logged_in = cookie_session_id(&headers)
        .and_then(|sid| st.sessions.with(&sid, |s| s.user.is_some()))
        .unwrap_or(false);
    if !logged_in {
        let ip = client_ip(peer);
        if let Err(wait) = st.challenges.check(ip, Instant::now()) {
            tracing::debug!(client = %ip, "challenge refused: rate limit");
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = ApiError::new(
                ApiCode::TooManyRequests,
                format!("too many challenges from this address without a login; try again in {seconds} s"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return Ok(response);
        }
    }
    let nonce = st.nonces.issue();
    let existing = cookie_session_id(&headers)
        .filter(|sid| st.sessions.with(sid, |s| s.challenge = Some(nonce.clone())).is_some());
    let cookie = match existing {
        Some(_) => None,
        None => {
            let session = Session {
                challenge: Some(nonce.clone()),
                ..Session::new()
            };
            let sid = st.sessions.create(session).map_err(|_| internal("no randomness"))?;
            Some(set_cookie(&sid).ok_or_else(|| internal("cookie"))?)
        }
    };
    Ok(with_cookie(Json(json!({ "nonce": nonce })).into_response(), cookie))
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// The token object `authenticate` resolved with (or its JSON text).
    pub token: serde_json::Value,
}

fn user_of(subject: &Subject, algorithm: eidlink_verifier::TokenAlgorithm) -> Result<User, ApiError> {
    let no_id = || ApiError {
        code: ApiCode::TokenRejected,
        reason: Some("NO_SERIAL_NUMBER"),
        message: "the certificate has no subject serialNumber (national number)".into(),
    };
    let serial_number = subject.serial_number.clone().ok_or_else(no_id)?;
    let national_number = subject.national_number.clone().ok_or_else(no_id)?;
    let holder = subject
        .full_name()
        .unwrap_or_else(|| serial_number.clone())
        .to_uppercase();
    Ok(User {
        holder,
        national_number,
        serial_number,
        country: subject.country.clone(),
        algorithm,
    })
}

/// `POST /api/auth/login`: verifies the token against the session's challenge; on success the
/// session is replaced by a new one (new id) holding the person.
pub async fn login(
    State(st): Shared,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| bad_json(&e))?;
    let no_challenge = || ApiError {
        code: ApiCode::NonceRejected,
        reason: Some("NO_CHALLENGE"),
        message: "no challenge was issued in this session, or it was already used".into(),
    };
    let sid = cookie_session_id(&headers).ok_or_else(no_challenge)?;
    // The challenge is taken out before anything else: one try per nonce, success or not.
    let nonce = st
        .sessions
        .with(&sid, |s| s.challenge.take())
        .flatten()
        .ok_or_else(no_challenge)?;
    st.nonces.consume(&nonce, SystemTime::now()).map_err(ApiError::nonce)?;
    let token_json = match req.token {
        serde_json::Value::String(s) => s,
        v @ serde_json::Value::Object(_) => v.to_string(),
        _ => return Err(ApiError::new(ApiCode::BadRequest, "token must be an object")),
    };
    let verified = st.verifier.verify(&token_json, &nonce).map_err(|e| {
        tracing::warn!(error = %e, "authentication token refused");
        ApiError::verify(ApiCode::TokenRejected, &e)
    })?;
    check_revocation(&st, &verified.certificate_der, ApiCode::TokenRejected).await?;
    let user = user_of(&verified.subject, verified.algorithm)?;
    tracing::info!(
        holder = %user.holder,
        national_number = %masked(&user.national_number),
        algorithm = verified.algorithm.name(),
        "login verified"
    );
    let event = VerifiedEvent {
        kind: "login",
        holder: user.holder.clone(),
        national_number: user.national_number.clone(),
        algorithm: verified.algorithm.name().to_owned(),
        hash_function: None,
        document_id: None,
        time: rfc3339(OffsetDateTime::now_utc()),
    };
    // A new id at login (no session fixation); the anonymous session is dropped.
    st.sessions.remove(&sid);
    let body = json!({
        "holder": user.holder,
        "nationalNumber": user.national_number,
        "algorithm": verified.algorithm.name(),
    });
    let session = Session {
        user: Some(user),
        verified_login: Some(event),
        ..Session::new()
    };
    let new_sid = st.sessions.create(session).map_err(|_| internal("no randomness"))?;
    let cookie = set_cookie(&new_sid).ok_or_else(|| internal("cookie"))?;
    Ok(with_cookie(Json(body).into_response(), Some(cookie)))
}

/// `POST /api/auth/logout`.
pub async fn logout(State(st): Shared, headers: HeaderMap) -> Response {
    if let Some(sid) = cookie_session_id(&headers) {
        st.sessions.remove(&sid);
    }
    with_cookie(Json(json!({})).into_response(), Some(clear_cookie()))
}

/// Body of `POST /api/sign/prepare`: what `getSigningCertificate` resolved with, the host's reply.
pub type PrepareRequest = SigningCertificate;

/// SHA-384 when an ECDSA scheme offers it, else SHA-256 when a known scheme offers it, else nothing
/// we use. Entries the wire crate does not know are skipped.
pub fn choose_hash(offered: &[SignatureAlgorithm]) -> Option<HashAlgorithm> {
    let schemes: Vec<_> = offered.iter().filter_map(|a| a.scheme().ok()).collect();
    let ecc384 = schemes
        .iter()
        .any(|s| s.crypto == CryptoAlgorithm::Ecc && s.hash == HashAlgorithm::Sha384);
    if ecc384 {
        return Some(HashAlgorithm::Sha384);
    }
    schemes
        .iter()
        .any(|s| s.hash == HashAlgorithm::Sha256)
        .then_some(HashAlgorithm::Sha256)
}

/// `POST /api/sign/prepare`: checks the signing certificate is the logged-in person's and chains to
/// a trusted CA, builds the contract document and returns its hash for `sign`.
pub async fn prepare(
    State(st): Shared,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Result<Json<PrepareRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let (sid, user) = current_user(&st, &headers)?;
    let Json(req) = body.map_err(|e| bad_json(&e))?;
    let lang = lang_of(&q, &headers);
    let der = base64::engine::general_purpose::STANDARD
        .decode(&req.certificate)
        .map_err(|e| ApiError {
            code: ApiCode::BadRequest,
            reason: Some("BASE64"),
            message: format!("certificate: {e}"),
        })?;
    let subject = st.verifier.verify_signing_certificate(&der).map_err(|e| {
        tracing::warn!(error = %e, "signing certificate refused");
        ApiError::verify(ApiCode::CertificateRejected, &e)
    })?;
    check_revocation(&st, &der, ApiCode::CertificateRejected).await?;
    // verify_signing_certificate takes digitalSignature alone, which the authentication certificate
    // has too; committing the holder to a contract takes the signing certificate's nonRepudiation.
    check_non_repudiation(&der).map_err(|e| match e {
        VerifyError::KeyUsage => {
            tracing::warn!("signing certificate without nonRepudiation (an authentication certificate?)");
            ApiError {
                code: ApiCode::CertificateRejected,
                reason: Some("NOT_A_SIGNING_CERTIFICATE"),
                message: "the certificate's keyUsage has no nonRepudiation: it is not a signing certificate \
                          (an authentication certificate cannot sign the contract)"
                    .into(),
            }
        }
        e => ApiError::verify(ApiCode::CertificateRejected, &e),
    })?;
    let same_person =
        subject.serial_number.as_deref() == Some(user.serial_number.as_str()) && subject.country == user.country;
    if !same_person {
        tracing::warn!("signing certificate of another person than the one logged in");
        return Err(ApiError::new(
            ApiCode::CertificateNotHolder,
            "the signing certificate names another person than the one logged in",
        ));
    }
    let hash_function = choose_hash(&req.supported_signature_algorithms).ok_or_else(|| {
        ApiError::new(
            ApiCode::UnsupportedAlgorithm,
            "no offered signature algorithm uses SHA-384 (ECC) or SHA-256",
        )
    })?;
    let prepared_at = rfc3339(OffsetDateTime::now_utc());
    let document = pages::contract_document(lang, &user, &prepared_at);
    let hash = eidlink_core::hash::hash(hash_function, document.as_bytes());
    let hash_b64 = base64::engine::general_purpose::STANDARD.encode(&hash);
    let pending = PendingSignature {
        certificate_b64: req.certificate,
        hash_function,
        hash_b64: hash_b64.clone(),
        document,
        prepared_at,
        lang,
        created: std::time::Instant::now(),
    };
    st.sessions
        .with(&sid, |s| s.pending = Some(pending))
        .ok_or_else(|| ApiError::new(ApiCode::NotLoggedIn, "the session ended"))?;
    Ok(Json(json!({ "hash": hash_b64, "hashFunction": hash_function.name() })).into_response())
}

/// `POST /api/sign/finish`: verifies the signature over the prepared hash with the checked
/// certificate, keeps the signed document and returns where to download it.
pub async fn finish(
    State(st): Shared,
    headers: HeaderMap,
    body: Result<Json<SignResult>, JsonRejection>,
) -> Result<Response, ApiError> {
    let (sid, user) = current_user(&st, &headers)?;
    let Json(result) = body.map_err(|e| bad_json(&e))?;
    let no_pending = |reason| ApiError {
        code: ApiCode::NoPendingSignature,
        reason: Some(reason),
        message: "no signature is being prepared in this session (call /api/sign/prepare first)".into(),
    };
    // One try per prepared hash: taken out whatever the outcome.
    let pending = st
        .sessions
        .with(&sid, |s| s.pending.take())
        .flatten()
        .ok_or_else(|| no_pending("NOT_PREPARED"))?;
    if pending.created.elapsed() > PENDING_TTL {
        return Err(no_pending("EXPIRED"));
    }
    let result_json = serde_json::to_string(&result).map_err(|_| internal("serialize"))?;
    verify_sign_result(
        &pending.certificate_b64,
        pending.hash_function.name(),
        &pending.hash_b64,
        &result_json,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "signature refused");
        ApiError::verify(ApiCode::SignatureRejected, &e)
    })?;

    let now = OffsetDateTime::now_utc();
    let id = random_id().map_err(|_| internal("no randomness"))?;
    let alg = &result.signature_algorithm;
    let algorithm = format!("{}/{}/{}", alg.crypto_algorithm, alg.hash_function, alg.padding_scheme);
    let signed_by = signed_by_text(pending.lang, &user.holder, now);
    let doc = SignedDocument {
        id: id.clone(),
        holder: user.holder.clone(),
        national_number: user.national_number.clone(),
        serial_number: user.serial_number.clone(),
        document: pending.document,
        lang: pending.lang.code(),
        hash_function: pending.hash_function.name().to_owned(),
        hash: pending.hash_b64,
        signature: result.signature.clone(),
        signature_algorithm: result.signature_algorithm.clone(),
        signing_certificate: pending.certificate_b64,
        prepared_at: pending.prepared_at,
        signed_at: rfc3339(now),
        signed_by_text: signed_by.clone(),
    };
    tracing::info!(
        holder = %user.holder,
        national_number = %masked(&user.national_number),
        algorithm = %algorithm,
        "contract signature verified"
    );
    let event = VerifiedEvent {
        kind: "signature",
        holder: user.holder.clone(),
        national_number: user.national_number.clone(),
        algorithm: algorithm.clone(),
        hash_function: Some(doc.hash_function.clone()),
        document_id: Some(id.clone()),
        time: doc.signed_at.clone(),
    };
    let body = json!({
        "id": id,
        "holder": doc.holder,
        "nationalNumber": doc.national_number,
        "signedAt": doc.signed_at,
        "signedByText": signed_by,
        "hashFunction": doc.hash_function,
        "signatureAlgorithm": doc.signature_algorithm,
        "download": format!("/api/sign/download/{id}"),
    });
    st.store_document(doc);
    st.sessions.with(&sid, |s| {
        s.last_signed = Some(SignedSummary {
            id,
            signed_by_text: signed_by,
        });
        s.verified_signature = Some(event);
    });
    Ok(Json(body).into_response())
}

/// `GET /api/sign/download/{id}`: the signed document, for its signer only.
pub async fn download(State(st): Shared, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (_, user) = current_user(&st, &headers)?;
    let doc = st
        .document_for(&id, &user.serial_number)
        .ok_or_else(|| ApiError::new(ApiCode::NotFound, "no such signed document for this person"))?;
    let body = json!({
        "format": "eidlink-demo-signed-contract/1",
        "notice": "Not a PAdES, XAdES or ASiC container: a plain record of a Web eID signature for demonstration. \
                   `hash` is the hash of the UTF-8 bytes of `document` with `hashFunction`; `signature` was \
                   made over it with the key of `signingCertificate` (ECDSA: raw r||s).",
        "document": doc.document,
        "documentEncoding": "UTF-8",
        "lang": doc.lang,
        "signer": { "name": doc.holder, "nationalNumber": doc.national_number },
        "hashFunction": doc.hash_function,
        "hash": doc.hash,
        "signature": doc.signature,
        "signatureAlgorithm": doc.signature_algorithm,
        "signingCertificate": doc.signing_certificate,
        "preparedAt": doc.prepared_at,
        "signedAt": doc.signed_at,
        "verifiedWith": "eidlink-verifier",
    });
    let text = serde_json::to_string_pretty(&body).map_err(|_| internal("serialize"))?;
    let disposition = format!(
        "attachment; filename=\"contrat-adhesion-{}.json\"",
        id.chars().take(8).collect::<String>()
    );
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], text).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /api/last`: what the server verified for this session, to its own person only: the login,
/// and the last signature (or null). Without a logged-in session, 401: who else logged in or signed
/// is nobody else's business.
pub async fn last(State(st): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    let not_logged_in = || ApiError::new(ApiCode::NotLoggedIn, "no session, or nobody is logged in");
    let sid = cookie_session_id(&headers).ok_or_else(not_logged_in)?;
    let (login, signature) = st
        .sessions
        .with(&sid, |s| {
            s.user
                .is_some()
                .then(|| (s.verified_login.clone(), s.verified_signature.clone()))
        })
        .flatten()
        .ok_or_else(not_logged_in)?;
    Ok(Json(json!({ "login": login, "signature": signature })).into_response())
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /favicon.ico`: none (204, so browsers do not log a 404).
pub async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `GET /`.
pub async fn home(State(st): Shared, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang_of(&q, &headers);
    let user = cookie_session_id(&headers).and_then(|sid| st.sessions.with(&sid, |s| s.user.clone()).flatten());
    Html(pages::home(lang, user.as_ref())).into_response()
}

/// `GET /contract`: the contract page, or back to the home page when nobody is logged in.
pub async fn contract(State(st): Shared, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang_of(&q, &headers);
    let found = cookie_session_id(&headers)
        .and_then(|sid| {
            st.sessions
                .with(&sid, |s| s.user.clone().map(|u| (u, s.last_signed.clone())))
        })
        .flatten();
    match found {
        Some((user, last)) => Html(pages::contract(lang, &user, last.as_ref())).into_response(),
        None => Redirect::to(&format!("/?lang={}", lang.code())).into_response(),
    }
}

/// Anything else.
pub async fn not_found(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang_of(&q, &headers);
    (StatusCode::NOT_FOUND, Html(pages::not_found(lang))).into_response()
}

/// `GET /app.js`.
pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS).into_response()
}

/// `GET /style.css`.
pub async fn style_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE_CSS).into_response()
}

/// `GET /eidlink.js`: the page module, read from disk at each request (it may be rebuilt while the
/// service runs).
pub async fn eidlink_js(State(st): Shared) -> Response {
    match tokio::fs::read(&st.page_module).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], bytes).into_response(),
        Err(e) => {
            tracing::warn!(path = %st.page_module.display(), error = %e, "page module not readable");
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                "// eidlink.js is not installed on this server\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alg(c: &str, h: &str, p: &str) -> SignatureAlgorithm {
        SignatureAlgorithm {
            crypto_algorithm: c.into(),
            hash_function: h.into(),
            padding_scheme: p.into(),
        }
    }

    #[test]
    fn hash_choice() {
        let ecc = [alg("ECC", "SHA-256", "NONE"), alg("ECC", "SHA-384", "NONE")];
        assert_eq!(choose_hash(&ecc), Some(HashAlgorithm::Sha384));
        assert_eq!(choose_hash(&ecc[..1]), Some(HashAlgorithm::Sha256));
        let rsa = [alg("RSA", "SHA-384", "PKCS1.5"), alg("RSA", "SHA-256", "PKCS1.5")];
        assert_eq!(choose_hash(&rsa), Some(HashAlgorithm::Sha256));
        assert_eq!(choose_hash(&[alg("ECC", "SHA3-256", "NONE")]), None);
        assert_eq!(choose_hash(&[]), None);
        // Only schemes the wire knows count: ECC with PSS is none, an unknown entry is skipped.
        assert_eq!(
            choose_hash(&[alg("ECC", "SHA-384", "PSS"), alg("RSA", "SHA-256", "PKCS1.5")]),
            Some(HashAlgorithm::Sha256)
        );
        assert_eq!(choose_hash(&[alg("EdDSA", "SHA-256", "NONE")]), None);
    }

    #[test]
    fn national_numbers_are_masked_in_logs() {
        assert_eq!(masked("85010112486"), "•••••••••86");
        assert_eq!(masked("1"), "1");
    }
}
