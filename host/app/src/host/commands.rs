//! The three commands of protocol.md §2 and their JSON replies.

use std::sync::{Arc, Mutex};

use eidlink_core::{CertificateKind, Digest, KeyRole, Providers};
use eidlink_pin_protocol::{HashInfo, Purpose};
use eidlink_webeid::{auth_digest, AuthToken, Nonce, SignResult, SigningCertificate, TokenAlgorithm};
use serde_json::{json, Value};

use super::config::Config;
use super::errors::{HostError, Reason};
use super::pin_flow::{certificate_info, pin_flow, PinFlow};
use super::prompt::{self, Answer};
use super::request::Request;
use super::session::{card_gone, on_card, Session};
use super::{app_version, Seen};

pub(super) async fn handle(
    request: &Request,
    config: &Config,
    providers: &Providers,
    seen: Arc<Mutex<Seen>>,
) -> Result<Value, HostError> {
    let Some(mut s) = Session::new(request, config, providers, seen, &eidlink_lang::Process) else {
        return Ok(json!({}));
    };
    let result = match request {
        Request::Quit => Ok(json!({})),
        Request::Authenticate { nonce, .. } => authenticate(&mut s, nonce).await,
        Request::GetSigningCertificate { .. } => signing_certificate(&mut s).await,
        Request::Sign {
            digest, certificate, ..
        } => sign(&mut s, digest, certificate).await,
    };
    s.close().await;
    result
}

async fn authenticate(s: &mut Session<'_>, nonce: &Nonce) -> Result<Value, HostError> {
    let origin = s.origin.as_str().to_owned();
    let nonce = nonce.as_str().to_owned();
    let flow = PinFlow {
        role: KeyRole::Authentication,
        purpose: Purpose::Authenticate,
        signing_cert: None,
        hash: None,
    };
    let (cert, sig) = pin_flow(s, &flow, |t| {
        let alg = t
            .key(KeyRole::Authentication)
            .and_then(|k| TokenAlgorithm::for_key(k.algorithm, &k.schemes))
            .ok_or_else(|| {
                HostError::new(
                    Reason::UnsupportedCard,
                    "the card's authentication key has no Web eID algorithm",
                )
            })?;
        Ok(auth_digest(alg, &origin, &nonce))
    })
    .await?;
    let alg = TokenAlgorithm::for_scheme(sig.algorithm)
        .ok_or_else(|| HostError::new(Reason::Internal, "signature scheme without a token algorithm"))?;
    reply(&AuthToken::new(&cert, alg, &sig.bytes, app_version()))
}

async fn signing_certificate(s: &mut Session<'_>) -> Result<Value, HostError> {
    loop {
        let token = s.find_token(Purpose::Consent, None, None).await?;
        let (token, cert) = on_card(token, |t| t.certificate(CertificateKind::Signing)).await?;
        let cert = match cert {
            Ok(c) => c,
            Err(e) if card_gone(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        let summary = eidlink_cert::summarize(&cert)
            .map_err(|e| HostError::new(Reason::CardError, format!("the card's certificate is unreadable: {e}")))?;
        s.note(token.as_ref(), Some(summary.holder.clone()));
        // Revealing the signing certificate reveals who the user is: ask first (protocol.md §2.4).
        let ask = s.ask_for(
            Purpose::Consent,
            &summary.holder,
            certificate_info(&summary),
            None,
            None,
            None,
        );
        return match s.ask(&ask).await? {
            Answer::Confirmed => reply(&SigningCertificate::new(
                &cert,
                &token.key(KeyRole::Signing).map(|k| k.schemes).unwrap_or_default(),
            )),
            _ => Err(HostError::new(
                Reason::UserCancelled,
                "the user did not share the certificate",
            )),
        };
    }
}

async fn sign(s: &mut Session<'_>, digest: &Digest, certificate: &[u8]) -> Result<Value, HostError> {
    let flow = PinFlow {
        role: KeyRole::Signing,
        purpose: Purpose::Sign,
        signing_cert: Some(certificate),
        hash: Some(HashInfo {
            function: digest.algorithm().name().to_owned(),
            fingerprint: prompt::fingerprint(digest.as_bytes()),
        }),
    };
    let (_, sig) = pin_flow(s, &flow, |t| {
        if t.key(KeyRole::Signing)
            .is_some_and(|k| k.signs_with(digest.algorithm()))
        {
            Ok(digest.clone())
        } else {
            Err(HostError::invalid(format!(
                "this card cannot sign a {} digest",
                digest.algorithm().name()
            )))
        }
    })
    .await?;
    reply(&SignResult::new(&sig.bytes, sig.algorithm))
}

/// A success reply as the JSON value the framing writes (keys sorted, as the `json!` replies were).
fn reply(value: &impl serde::Serialize) -> Result<Value, HostError> {
    serde_json::to_value(value).map_err(|e| HostError::new(Reason::Internal, format!("reply: {e}")))
}
