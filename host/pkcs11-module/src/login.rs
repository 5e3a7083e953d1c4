//! A signature with the PIN asked in eidlink's dialog (the token has a protected authentication
//! path: the browser never sees a PIN field): the dialog says which program asks and that a site
//! wants to log the user in, with the holder and the tries left; a wrong PIN asks again with the
//! tries left (never retried on its own), cancel is `CKR_FUNCTION_CANCELED`, a blocked PIN is
//! shown and is `CKR_PIN_LOCKED` without a VERIFY. The signature is checked with the
//! certificate's key before it is handed out. Each use is written to the history.

use cryptoki_sys::{
    CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED, CKR_FUNCTION_CANCELED, CKR_GENERAL_ERROR, CKR_PIN_LOCKED, CK_RV,
};
use eidlink_core::{CardError, Digest, ErrorClass, KeyRole, Padding, PinFailure, PinInput};
use eidlink_pin_protocol::{Ask, AskError, Purpose, Wait};
use eidlink_settings::{history, Config, Dirs};

use crate::cards::{Card, Cards};
use crate::dialog::{Answer, Dialog};

/// How a login ended, for the history (the host's reason names).
fn result_name(rv: CK_RV) -> &'static str {
    match rv {
        CKR_FUNCTION_CANCELED => "USER_CANCELLED",
        CKR_PIN_LOCKED => "PIN_BLOCKED",
        CKR_DEVICE_REMOVED => "CARD_REMOVED",
        _ => "CARD_ERROR",
    }
}

/// Signs `digest` with the authentication key of the card of generation `generation`.
pub(crate) fn sign(
    cards: &mut Cards,
    generation: u64,
    digest: &Digest,
    padding: Padding,
    program: &str,
) -> Result<Vec<u8>, CK_RV> {
    let config = Config::load(Dirs::new().as_ref()).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the settings cannot be read: the defaults apply");
        Config::default()
    });
    let Some(card) = cards.card(generation) else {
        return Err(CKR_DEVICE_REMOVED);
    };
    let holder = card.view.holder.clone();
    let outcome = sign_on(card, digest, padding, program, &config);
    if outcome == Err(CKR_DEVICE_REMOVED) {
        cards.forget(generation);
    }
    let result = match &outcome {
        Ok(_) => "ok",
        Err(rv) => result_name(*rv),
    };
    tracing::info!(program, result, "TLS client-certificate login");
    if let Some(dirs) = Dirs::new() {
        let entry = history::Entry::now(program, history::TLS_LOGIN, Some(holder), result);
        if let Err(e) = history::append(&dirs.data, &entry) {
            tracing::warn!(error = %e, "cannot write the history");
        }
    }
    outcome
}

fn card_rv(e: &CardError) -> CK_RV {
    if e.class() == ErrorClass::CardGone {
        CKR_DEVICE_REMOVED
    } else {
        CKR_DEVICE_ERROR
    }
}

fn sign_on(
    card: &mut Card,
    digest: &Digest,
    padding: Padding,
    program: &str,
    config: &Config,
) -> Result<Vec<u8>, CK_RV> {
    let role = KeyRole::Authentication;
    let info = card.token.pin_info(role).map_err(|e| card_rv(&e))?;
    card.with_pin(info);
    let view = std::sync::Arc::clone(&card.view);
    let ask = |pin_tries: Option<u8>, error: Option<AskError>| Ask {
        purpose: Purpose::TlsLogin,
        origin: String::new(),
        top_origin: None,
        program: Some(program.to_owned()),
        lang: Some(config.effective_language().code().to_owned()),
        holder: Some(view.holder.clone()),
        certificate: Some(view.certificate.clone()),
        hash: None,
        pin: Some(eidlink_pin_protocol::tokens::pin_rules(
            &view.key,
            pin_tries,
            info.max_tries,
        )),
        pinpad: view.key.entry.is_external(),
        token_prompt: view.key.entry == eidlink_core::PinEntry::Token,
        error,
        wait: None,
    };
    let mut dialog = Dialog::spawn(
        &config.pin_program_argv_near(crate::ffi::module_dir().as_deref()),
        config.timeout(),
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "no PIN dialog");
        CKR_GENERAL_ERROR
    })?;
    if info.is_blocked() {
        tell_blocked(&mut dialog, &ask(Some(0), None));
        return Err(CKR_PIN_LOCKED);
    }
    let mut tries_left = info.tries_left;
    let mut error = None;
    loop {
        let this = ask(tries_left, error.take());
        let pin = if view.key.entry.is_external() {
            // The PIN is typed on the reader's pad: the dialog only says so.
            dialog.show(&this);
            None
        } else {
            match dialog.ask(&this) {
                Ok(Answer::Pin(p)) => Some(p),
                Ok(Answer::Cancelled) => return Err(CKR_FUNCTION_CANCELED),
                Err(e) => {
                    tracing::warn!(error = %e, "the PIN dialog failed");
                    return Err(CKR_FUNCTION_CANCELED);
                }
            }
        };
        let input = pin.as_ref().map_or(PinInput::External, PinInput::Typed);
        match card.token.sign_as(role, input, digest, padding) {
            Ok(sig) => {
                // A card that signs with another key than its certificate's is not believed.
                if let Err(e) = eidlink_cert::verify(&view.cert_der, digest, &sig.bytes, &sig.algorithm) {
                    tracing::warn!(error = %e, "the card's signature does not verify with its certificate");
                    return Err(CKR_DEVICE_ERROR);
                }
                if let Some(max) = info.max_tries {
                    card.with_pin(eidlink_core::PinInfo::counted(max, max));
                }
                return Ok(sig.bytes);
            }
            Err(CardError::Pin(PinFailure::Wrong { retries })) if retries != Some(0) => {
                tries_left = retries;
                error = Some(AskError::WrongPin { tries_left: retries });
                if let (Some(t), Some(max)) = (retries, info.max_tries) {
                    card.with_pin(eidlink_core::PinInfo::counted(t, max));
                }
            }
            Err(CardError::Pin(PinFailure::Wrong { .. } | PinFailure::Blocked)) => {
                if let Some(max) = info.max_tries {
                    card.with_pin(eidlink_core::PinInfo::counted(0, max));
                }
                tell_blocked(&mut dialog, &ask(Some(0), None));
                return Err(CKR_PIN_LOCKED);
            }
            Err(CardError::Pin(PinFailure::InvalidFormat)) => {
                let p = &view.key.pin;
                let what = match p.charset {
                    eidlink_core::PinCharset::Digits => "digits",
                    eidlink_core::PinCharset::Any => "characters",
                };
                error = Some(AskError::Message {
                    text: format!("the PIN must be {} to {} {what}", p.min_len, p.max_len),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "the card did not sign");
                return Err(card_rv(&e));
            }
        }
    }
}

fn tell_blocked(dialog: &mut Dialog, ask: &Ask) {
    let blocked = Ask {
        wait: Some(Wait::PinBlocked),
        pin: None,
        ..ask.clone()
    };
    dialog.tell(&blocked);
}
