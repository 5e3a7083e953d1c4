//! The PIN flow every signature goes through: find the card, show the dialog with the certificate
//! and the tries left, verify the PIN (typed in the dialog, or on the reader or token) and sign.

use eidlink_core::{CardError, CertificateKind, Digest, KeyRole, PinCharset, PinFailure, PinInput, Token};
use eidlink_pin_protocol::{AskError, HashInfo, Purpose, Status, Wait};

/// What the dialog shows of the key and the certificate: the one translation, shared with the
/// PKCS#11 module.
pub(super) use eidlink_pin_protocol::tokens::{certificate_info, pin_rules};

use super::errors::{HostError, Reason};
use super::prompt::Answer;
use super::session::{card_gone, on_card, Session};

/// What a PIN flow signs, and how to show it.
pub(super) struct PinFlow<'a> {
    pub(super) role: KeyRole,
    pub(super) purpose: Purpose,
    pub(super) signing_cert: Option<&'a [u8]>,
    pub(super) hash: Option<HashInfo>,
}

/// Finds the card, shows the dialog with the certificate and the tries left, verifies the PIN and
/// signs; a wrong PIN asks again with the tries left (never retried on its own), a blocked PIN fails
/// without a VERIFY, a removed card is waited for and the flow restarts (the PIN is asked again).
pub(super) async fn pin_flow(
    s: &mut Session<'_>,
    flow: &PinFlow<'_>,
    digest_for: impl Fn(&dyn Token) -> Result<Digest, HostError>,
) -> Result<(Vec<u8>, eidlink_core::Signature), HostError> {
    let kind = match flow.role {
        KeyRole::Authentication => CertificateKind::Authentication,
        KeyRole::Signing => CertificateKind::Signing,
    };
    'card: loop {
        let token = s.find_token(flow.purpose, flow.hash.clone(), flow.signing_cert).await?;
        let digest = digest_for(token.as_ref())?;
        let role = flow.role;
        // The certificate and the PIN state in one card session.
        let (mut token, read) = on_card(token, move |t| {
            let mut session = t.session()?;
            Ok::<_, CardError>((session.certificate(kind)?, session.pin_info(role)?))
        })
        .await?;
        let (cert, info) = match read {
            Ok(read) => read,
            Err(e) if card_gone(&e) => {
                s.status(Status::CardRemoved).await;
                continue 'card;
            }
            Err(e) => return Err(e.into()),
        };
        let summary = eidlink_cert::summarize(&cert)
            .map_err(|e| HostError::new(Reason::CardError, format!("the card's certificate is unreadable: {e}")))?;
        s.note(token.as_ref(), Some(summary.holder.clone()));
        if info.is_blocked() {
            // Shown before the site is told (no VERIFY is sent).
            tell_blocked(s, flow, &summary).await;
            return Err(HostError::new(
                Reason::PinBlocked,
                "the PIN is blocked: unblock it with your PUK code",
            ));
        }
        let key = token
            .key(flow.role)
            .ok_or_else(|| HostError::new(Reason::UnsupportedCard, "the card has no key for this operation"))?;
        let policy = key.pin;
        let mut tries_left = info.tries_left;
        let mut error = None;
        loop {
            let mut ask = s.ask_for(
                flow.purpose,
                &summary.holder,
                certificate_info(&summary),
                flow.hash.clone(),
                Some(pin_rules(&key, tries_left, info.max_tries)),
                error.take(),
            );
            // Typed in our dialog, the PIN comes back to be sent; typed on the reader's pad or asked
            // by the token, the dialog only says where to type it, and the token is asked at once.
            let pin = if key.entry.is_external() {
                ask.pinpad = true;
                ask.token_prompt = key.entry == eidlink_core::PinEntry::Token;
                s.show(&ask).await?;
                None
            } else {
                match s.ask(&ask).await? {
                    Answer::Pin(p) => {
                        s.status(Status::Working).await;
                        Some(p)
                    }
                    Answer::Confirmed | Answer::Cancelled => {
                        return Err(HostError::new(Reason::UserCancelled, "the user cancelled"));
                    }
                }
            };
            let d = digest.clone();
            let (t, r) = on_card(token, move |t| {
                let input = pin.as_ref().map_or(PinInput::External, PinInput::Typed);
                t.sign(role, input, &d)
            })
            .await?;
            token = t;
            match r {
                Ok(sig) => return Ok((cert, sig)),
                Err(CardError::Pin(PinFailure::Wrong { retries })) if retries != Some(0) => {
                    tries_left = retries;
                    error = Some(AskError::WrongPin { tries_left: retries });
                }
                Err(CardError::Pin(PinFailure::Wrong { .. } | PinFailure::Blocked)) => {
                    tell_blocked(s, flow, &summary).await;
                    return Err(HostError::new(
                        Reason::PinBlocked,
                        "the PIN is now blocked: unblock it with your PUK code",
                    ));
                }
                Err(CardError::Pin(PinFailure::InvalidFormat)) => {
                    let what = match policy.charset {
                        PinCharset::Digits => "digits",
                        PinCharset::Any => "characters",
                    };
                    error = Some(AskError::Message {
                        text: format!("the PIN must be {} to {} {what}", policy.min_len, policy.max_len),
                    });
                }
                Err(e) if card_gone(&e) => {
                    s.status(Status::CardRemoved).await;
                    continue 'card;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Shows the blocked PIN, with the card's holder and certificate, until the user closes it.
async fn tell_blocked(s: &mut Session<'_>, flow: &PinFlow<'_>, summary: &eidlink_cert::CertSummary) {
    let card = Some((summary.holder.as_str(), certificate_info(summary)));
    let ask = s.ask_waiting(flow.purpose, Wait::PinBlocked, flow.hash.clone(), card);
    s.tell(&ask).await;
}
