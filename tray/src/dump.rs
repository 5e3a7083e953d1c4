//! The app's state as JSON, written to a file at each change (`--state-file`): what the window
//! shows, in a form tests, benchmarks and support can read without a screen.

use std::path::Path;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::state::{Action, CardSlot, Overall, ReaderStatus, Role, UnixTime};
use crate::view::{Screen, TrayMode};

/// A stable code for an overall state.
pub fn overall_code(o: &Overall) -> &'static str {
    match o {
        Overall::Starting => "starting",
        Overall::NoService => "no-service",
        Overall::NoReader => "no-reader",
        Overall::NoCard => "no-card",
        Overall::Reading => "reading",
        Overall::Ready => "ready",
        Overall::Problem(_) => "problem",
    }
}

/// A stable code for an action.
pub fn action_code(a: &Action) -> &'static str {
    match a {
        Action::StartService => "start-service",
        Action::ConnectReader => "connect-reader",
        Action::InsertCard => "insert-card",
        Action::ReinsertCard => "reinsert-card",
        Action::UnsupportedCard => "unsupported-card",
        Action::CloseOtherApplication => "close-other-application",
        Action::PinBlocked(Role::Authentication) => "pin-blocked",
        Action::PinBlocked(Role::Signing) => "signing-pin-blocked",
        Action::CertificateExpired(_) => "certificate-expired",
        Action::CheckClock => "check-clock",
        Action::ReadFailed(_) => "read-failed",
    }
}

fn card_code(slot: &CardSlot) -> &'static str {
    match slot {
        CardSlot::Empty => "empty",
        CardSlot::Mute => "mute",
        CardSlot::Reading { .. } => "reading",
        CardSlot::Read { .. } => "read",
        CardSlot::Unsupported { .. } => "unsupported",
        CardSlot::Failed { .. } => "failed",
    }
}

/// The state shown at `now`.
pub fn state_json(screen: &Screen, now: UnixTime, window_visible: bool) -> Value {
    let overall = screen.state.overall(now);
    let readers: Vec<Value> = screen
        .state
        .readers
        .iter()
        .map(|r| {
            let status = match r.status(now) {
                ReaderStatus::Empty => json!("empty"),
                ReaderStatus::Reading => json!("reading"),
                ReaderStatus::Ready => json!("ready"),
                ReaderStatus::Problem(a) => json!(action_code(&a)),
            };
            let summary = r.summary().map(|s| {
                json!({
                    "card": s.card_name,
                    "applet": s.applet,
                    "holder": s.holder,
                    "national_number": s.national_number,
                    "auth_not_after": s.authentication.as_ref().map(|v| v.not_after),
                    "sign_not_after": s.signing.as_ref().map(|v| v.not_after),
                    "auth_pin_tries": s.auth_pin.as_ref().and_then(|p| p.tries_left),
                    "sign_pin_tries": s.sign_pin.as_ref().and_then(|p| p.tries_left),
                })
            });
            json!({ "name": r.name, "card": card_code(&r.card), "status": status, "summary": summary })
        })
        .collect();
    json!({
        "overall": overall_code(&overall),
        "action": overall.action().as_ref().map(action_code),
        "warnings": screen.state.warnings(now).iter().map(|(_, w)| format!("{w:?}")).collect::<Vec<_>>(),
        "language": screen.lang.code(),
        "tray": match screen.tray { TrayMode::Icon => "icon", TrayMode::WindowOnly => "window-only" },
        "window_visible": window_visible,
        "page": format!("{:?}", screen.page).to_lowercase(),
        "readers": readers,
    })
}

/// Writes the state with its sequence number and the time of the change (ms since the epoch),
/// atomically (a reader never sees half a file).
pub fn write(path: &Path, seq: u64, state: &Value) -> std::io::Result<()> {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut doc = state.clone();
    if let Some(o) = doc.as_object_mut() {
        o.insert("seq".into(), json!(seq));
        o.insert("changed_at_ms".into(), json!(ms));
    }
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    eidlink_settings::fsutil::write_atomic(path, &bytes)
}
