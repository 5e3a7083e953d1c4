//! The dialog's egui view driven by egui_kittest (no display needed): typing, Enter, Escape,
//! refused characters, buttons, and the accessibility tree (every input widget has a name).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use eframe::egui::{self, accesskit::Role, Key};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

use eidlink_pin_dialog::i18n::{Language, Text};
use eidlink_pin_dialog::model::{Effect, Event, Model, Phase};
use eidlink_pin_dialog::protocol::{parse_request, Request};
use eidlink_pin_dialog::view;

const AUTH: &str = include_str!("fixtures/authenticate.json");
const SIGN: &str = include_str!("fixtures/sign.json");
const CONSENT: &str = include_str!("fixtures/consent.json");
const LAST_TRY: &str = include_str!("fixtures/last-try.json");
const PINPAD: &str = include_str!("fixtures/pinpad.json");
const TOKEN_PROMPT: &str = include_str!("fixtures/token-prompt.json");
const TLS_LOGIN: &str = include_str!("fixtures/tls-login.json");

struct State {
    model: Model,
    /// Answer lines written so far.
    lines: Vec<String>,
    exited: bool,
    /// Pretend the clock is this far ahead (consent arming).
    clock_offset: Duration,
}

fn state(json: &str) -> State {
    let Request::Ask(ask) = parse_request(json.trim()).unwrap() else {
        panic!("fixture is not an ask")
    };
    State {
        model: Model::new(*ask, None, Instant::now()).unwrap(),
        lines: Vec::new(),
        exited: false,
        clock_offset: Duration::ZERO,
    }
}

fn harness(json: &str) -> Harness<'static, State> {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(view::WIDTH + 16.0, 640.0))
        .build_ui_state(
            |ui, s: &mut State| {
                let out = view::show(ui, &mut s.model, Instant::now() + s.clock_offset);
                for effect in out.effects {
                    match effect {
                        Effect::Answer(r) => s.lines.push(String::from_utf8(r.to_line().to_vec()).unwrap()),
                        Effect::Exit => s.exited = true,
                        Effect::KeepOpen => {}
                    }
                }
            },
            state(json),
        );
    harness.run();
    harness
}

fn pin_len(h: &Harness<'_, State>) -> usize {
    h.state().model.asking().map_or(0, |a| a.pin.len())
}

#[test]
fn the_pin_field_is_focused_labelled_and_masked() {
    let h = harness(AUTH);
    let field = h.get_by_role_and_label(Role::PasswordInput, "Your PIN");
    assert!(field.is_focused(), "the PIN field has the focus at start");
    // The registrable domain in a label of its own, the rest before it.
    h.get_by_label("example.be");
    h.get_by_label("service.");
    h.get_by_label("The website will identify you with your eID card.");
}

#[test]
fn typing_digits_then_enter_answers_the_pin() {
    let mut h = harness(AUTH);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("1234");
    h.run();
    assert_eq!(pin_len(&h), 4);
    let value = h
        .get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .value()
        .unwrap_or_default();
    assert!(!value.contains("1234"), "the accessibility tree shows the PIN: {value}");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"pin\",\"pin\":\"1234\"}\n"]);
    assert!(matches!(h.state().model.phase(), Phase::Working { .. }));
    h.get_by_label_contains("Working");
}

#[test]
fn letters_are_refused_and_max_length_holds() {
    let mut h = harness(AUTH); // max 12
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("12ab");
    h.run();
    assert_eq!(pin_len(&h), 2);
    h.get_by_label("Digits only");
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("34567890123456");
    h.run();
    assert_eq!(pin_len(&h), 12);
    h.get_by_label("At most 12 digits");
    h.key_press(Key::Backspace);
    h.run();
    assert_eq!(pin_len(&h), 11);
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"pin\",\"pin\":\"12345678901\"}\n"]);
}

#[test]
fn enter_with_a_short_pin_does_nothing() {
    let mut h = harness(AUTH);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("123");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    assert!(h.state().lines.is_empty());
    assert!(h.state().model.asking().is_some());
}

#[test]
fn escape_cancels() {
    let mut h = harness(SIGN);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN").type_text("12");
    h.run();
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);
}

#[test]
fn buttons_cancel_and_submit() {
    let mut h = harness(SIGN);
    h.get_by_label("Cancel").click();
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);

    let mut h = harness(SIGN);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("9876");
    h.run();
    h.get_by_label("Sign").click();
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"pin\",\"pin\":\"9876\"}\n"]);
}

#[test]
fn sign_shows_the_hash() {
    let h = harness(SIGN);
    h.get_by_label("documents.service.");
    h.get_by_label("example.be");
    h.get_by_label("Sign a document");
    h.get_by_label("Document fingerprint (SHA-256)");
    h.get_by_label("3A7F 19C2 8B0E 44D1 9F6A 02C7 E35B 7D18");
    h.get_by_label("Alice Specimen");
    h.get_by_label("2024-01-01 to 2034-01-01");
}

#[test]
fn last_try_warns() {
    let h = harness(LAST_TRY);
    h.get_by_label_contains("Wrong PIN, 1 try left.");
    h.get_by_label_contains("Last try: a wrong PIN will block your card.");
}

#[test]
fn consent_needs_no_pin_and_waits_before_arming() {
    let mut h = harness(CONSENT);
    assert!(h.query_by_role(Role::PasswordInput).is_none());
    h.get_by_label("Share your identity (signing certificate)");
    h.key_press(Key::Enter);
    h.run();
    assert!(h.state().lines.is_empty(), "Enter right away is ignored");
    h.state_mut().clock_offset = Duration::from_secs(1);
    h.run();
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"confirmed\"}\n"]);
}

#[test]
fn pinpad_has_no_field_and_no_buttons() {
    let mut h = harness(PINPAD);
    assert!(h.query_by_role(Role::PasswordInput).is_none());
    assert!(h.query_by_label("Cancel").is_none());
    h.get_by_label_contains("Type your PIN2 on the reader's keypad.");
    h.get_by_label_contains("Not a secure connection (http://localhost:8443)");
    h.key_press(Key::Escape);
    h.key_press(Key::Enter);
    h.run_steps(2);
    assert!(h.state().lines.is_empty());
}

/// A PKCS#11 token that asks for the PIN itself (protected authentication path): no field, the
/// site, and where to enter the PIN.
#[test]
fn token_prompt_says_where_the_token_asks() {
    let mut h = harness(TOKEN_PROMPT);
    assert!(h.query_by_role(Role::PasswordInput).is_none());
    h.get_by_label_contains("Enter your PIN on the reader or in the window of your card's software.");
    h.get_by_label_contains("To cancel, cancel on the reader or in that window.");
    h.get_by_label("eservices.");
    h.get_by_label("example.be");
    assert!(h.query_by_label_contains("keypad").is_none());
    h.key_press(Key::Enter);
    h.run_steps(2);
    assert!(
        h.state().lines.is_empty(),
        "the dialog answers nothing: the token has the PIN"
    );
}

/// The issue's phishing host: what is read big is the owner, `example.com`, not the familiar name
/// put before it, which is smaller and, where it does not fit beside the site, cut from the left
/// at a dot.
#[test]
fn a_phishing_host_is_named_by_its_registrable_domain() {
    let json = AUTH.replace("service.example.be", "eservices.belgium.be.login-check.example.com");
    let h = harness(&json);
    assert!(
        h.query_by_label("eservices.belgium.be.login-check.example.com")
            .is_none(),
        "the whole host in one label"
    );
    let site = h.get_by_label("example.com").rect();
    let rest = h.get_by_label_contains("login-check.");
    // A label's text is its accessibility value.
    let shown = rest.accesskit_node().value().unwrap_or_default();
    assert!(
        "eservices.belgium.be.login-check.".ends_with(shown.trim_start_matches('…')),
        "{shown:?}"
    );
    assert!(
        shown.starts_with('…') || shown == "eservices.belgium.be.login-check.",
        "{shown:?}"
    );
    assert!(!shown.contains("example.com"), "{shown:?}");
    let rest = rest.rect();
    assert!(
        rest.height() < site.height() - 4.0,
        "the rest {rest:?} is as big as the site {site:?}"
    );
    assert!(
        rest.max.x <= site.min.x + 0.5 || rest.max.y <= site.min.y + 0.5,
        "{rest:?} {site:?}"
    );
}

/// IP addresses and localhost have no registrable domain: shown whole, as they are.
#[test]
fn addresses_and_localhost_are_shown_whole() {
    for (origin, shown) in [
        ("https://192.168.10.20:8443", "192.168.10.20"),
        ("https://[2001:db8::1]", "[2001:db8::1]"),
        ("http://localhost:8080", "localhost"),
    ] {
        let h = harness(&AUTH.replace("https://service.example.be", origin));
        h.get_by_label(shown);
        assert!(h.query_by_label_contains("…").is_none(), "{origin}: something was cut");
    }
}

/// A frame in another site's page: "Embedded in <that site>" in the request's language, under the
/// site; nothing when the top-level page is the site itself.
#[test]
fn a_frame_says_which_site_embeds_it() {
    let framed = |top: &str, lang: &str| {
        AUTH.replace(
            r#""origin":"https://service.example.be","#,
            &format!(r#""origin":"https://service.example.be","top_origin":"{top}","#),
        )
        .replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#))
    };
    for (lang, want) in [
        ("fr", "Intégré dans www.mybank.be"),
        ("nl", "Ingebed in www.mybank.be"),
        ("de", "Eingebettet in www.mybank.be"),
        ("en", "Embedded in www.mybank.be"),
    ] {
        let h = harness(&framed("https://www.mybank.be", lang));
        let line = h.get_by_label(want).rect();
        assert!(
            line.min.y >= h.get_by_label("example.be").rect().max.y,
            "{want} is above the site"
        );
    }
    let h = harness(&framed("https://service.example.be", "en"));
    assert!(
        h.query_by_label_contains("Embedded in").is_none(),
        "its own top-level page"
    );
    let h = harness(AUTH);
    assert!(
        h.query_by_label_contains("Embedded in").is_none(),
        "no top-level page given"
    );
}

/// The host waits for a card (or tells a blocked PIN): the dialog is open in the site's name with
/// what to do, no PIN field, and one button that answers `cancelled`.
#[test]
fn a_wait_names_the_site_says_what_to_do_and_only_cancels() {
    let wait = |state: &str, lang: &str| {
        SIGN.replace(r#""type":"ask","#, &format!(r#""type":"ask","wait":"{state}","#))
            .replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#))
    };
    for (state, lang, text, button) in [
        ("insert_card", "en", "Insert your eID card in the reader.", "Cancel"),
        (
            "insert_card",
            "fr",
            "Insérez votre carte eID dans le lecteur.",
            "Annuler",
        ),
        ("no_reader", "nl", "Sluit een kaartlezer aan.", "Annuleren"),
        (
            "wrong_card",
            "de",
            "Das ist nicht die für diese Unterschrift gewählte Karte.",
            "Abbrechen",
        ),
        ("pin_blocked", "en", "The PIN of this card is blocked.", "Close"),
    ] {
        let mut h = harness(&wait(state, lang));
        assert!(h.query_by_role(Role::PasswordInput).is_none(), "{state}: no PIN field");
        h.get_by_label_contains(text);
        h.get_by_label("example.be");
        assert!(h.query_by_label("Sign").is_none(), "{state}: nothing to submit");
        h.key_press(Key::Enter);
        h.run_steps(2);
        assert_eq!(
            h.state().lines,
            ["{\"result\":\"cancelled\"}\n"],
            "{state}: Enter cancels"
        );
        let mut h = harness(&wait(state, lang));
        h.get_by_label(button).click();
        h.run_steps(2);
        assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"], "{state}: {button}");
    }
}

/// A browser's TLS client-certificate login through the PKCS#11 module: no site (PKCS#11 does not
/// say which), the program that asks, the card's holder and certificate, and the PIN field.
#[test]
fn a_tls_login_names_the_program_and_asks_the_pin() {
    let mut h = harness(TLS_LOGIN);
    h.get_by_label("Request from the program");
    h.get_by_label("Firefox");
    h.get_by_label("Log in with your eID card");
    h.get_by_label("Firefox asks for your card to log you in to a website.");
    h.get_by_label("Only your card's authentication certificate is used.");
    h.get_by_label("Alice Specimen (Authentication)");
    assert!(h.query_by_label("Request from the website").is_none());
    assert!(
        h.query_by_label_contains("the website you are using").is_none(),
        "no site to check"
    );
    let field = h.get_by_role_and_label(Role::PasswordInput, "Your PIN");
    assert!(field.is_focused(), "the PIN field has the focus at start");
    h.get_by_label("3 tries left");
    field.type_text("12a34");
    h.run();
    h.get_by_label("Digits only");
    h.get_all_by_label("Log in").next().expect("the submit button");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"pin\",\"pin\":\"1234\"}\n"]);
    // While the browser's TLS handshake goes on: the same question, without field and buttons.
    h.get_by_label("Firefox");
    h.get_by_label_contains("Working");
    assert!(h.query_by_role(Role::PasswordInput).is_none());
}

/// The card refused the PIN: the module asks again with the tries left, then the last try warns,
/// as for authenticate.
#[test]
fn a_tls_login_retry_shows_the_tries_left() {
    let mut h = harness(TLS_LOGIN);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("1111");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    let reask = |tries: u8| {
        let json = TLS_LOGIN
            .replace(r#""tries_left":3"#, &format!(r#""tries_left":{tries}"#))
            .replace(
                r#""error":null"#,
                &format!(r#""error":{{"kind":"wrong_pin","tries_left":{tries}}}"#),
            );
        parse_request(json.trim()).unwrap()
    };
    h.state_mut().model.handle(Event::Request(reask(2)), Instant::now());
    h.run();
    h.get_by_label_contains("Wrong PIN, 2 tries left.");
    h.get_by_label("2 tries left");
    h.get_by_label("Firefox");
    assert!(h.query_by_label_contains("Last try").is_none());
    let field = h.get_by_role_and_label(Role::PasswordInput, "Your PIN");
    assert!(field.is_focused(), "the field is focused again");
    field.type_text("2222");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    h.state_mut().model.handle(Event::Request(reask(1)), Instant::now());
    h.run();
    h.get_by_label_contains("Wrong PIN, 1 try left.");
    h.get_by_label_contains("Last try: a wrong PIN will block your card.");
    assert_eq!(
        h.state().lines,
        [
            "{\"result\":\"pin\",\"pin\":\"1111\"}\n",
            "{\"result\":\"pin\",\"pin\":\"2222\"}\n"
        ]
    );
}

#[test]
fn a_tls_login_cancels() {
    let mut h = harness(TLS_LOGIN);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN").type_text("12");
    h.run();
    h.get_by_label("Cancel").click();
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);
    let mut h = harness(TLS_LOGIN);
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);
}

/// The program's name comes from another process: shown as the plain characters it is (no markup,
/// no direction tricks), and cut.
#[test]
fn a_tls_login_shows_the_program_as_plain_text_cut() {
    let with = |program: &str| {
        let quoted = serde_json::to_string(program).unwrap();
        TLS_LOGIN.replace(r#""program":"Firefox""#, &format!(r#""program":{quoted}"#))
    };
    let h = harness(&with("<b>Chromium</b> [x](https://e.example)"));
    h.get_by_label("<b>Chromium</b> [x](https://e.example)");
    h.get_by_label("<b>Chromium</b> [x](https://e.example) asks for your card to log you in to a website.");
    let h = harness(&with("Fire\u{202E}xof\u{202C} ESR"));
    h.get_by_label("Firexof ESR");
    let long = "Firefox Developer Edition Nightly Extended Support Release";
    let h = harness(&with(long));
    let shown = "Firefox Developer Edition Nightly Exten…";
    assert_eq!(shown.chars().count(), 40);
    h.get_by_label(shown);
    h.get_by_label(&format!("{shown} asks for your card to log you in to a website."));
    assert!(h.query_by_label_contains("Support Release").is_none());
}

/// Waits, the PIN pad and the token's own prompt work as for authenticate, under the program's name.
#[test]
fn a_tls_login_waits_and_pinpads_like_authenticate() {
    let mut h = harness(&TLS_LOGIN.replace(r#""type":"ask","#, r#""type":"ask","wait":"insert_card","#));
    assert!(h.query_by_role(Role::PasswordInput).is_none());
    h.get_by_label("Firefox");
    h.get_by_label_contains("Insert your eID card in the reader.");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);

    let mut h = harness(&TLS_LOGIN.replace(r#""pinpad":false"#, r#""pinpad":true"#));
    assert!(h.query_by_role(Role::PasswordInput).is_none());
    assert!(h.query_by_label("Cancel").is_none());
    h.get_by_label("Firefox");
    h.get_by_label_contains("Type your PIN on the reader's keypad.");
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(h.state().lines.is_empty(), "the reader has the PIN");

    let h = harness(&TLS_LOGIN.replace(r#""pinpad":false"#, r#""pinpad":true,"token_prompt":true"#));
    h.get_by_label_contains("Enter your PIN on the reader or in the window of your card's software.");
}

#[test]
fn a_tls_login_in_every_language() {
    for (lang, title, explain, cancel) in [
        (
            "fr",
            "Se connecter avec votre carte eID",
            "Firefox demande votre carte pour vous connecter à un site.",
            "Annuler",
        ),
        (
            "nl",
            "Aanmelden met uw eID-kaart",
            "Firefox vraagt uw kaart om u aan te melden bij een website.",
            "Annuleren",
        ),
        (
            "de",
            "Mit Ihrer eID-Karte anmelden",
            "Firefox fragt nach Ihrer Karte, um Sie bei einer Website anzumelden.",
            "Abbrechen",
        ),
        (
            "en",
            "Log in with your eID card",
            "Firefox asks for your card to log you in to a website.",
            "Cancel",
        ),
    ] {
        let h = harness(&TLS_LOGIN.replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#)));
        h.get_by_label(title);
        h.get_by_label(explain);
        h.get_by_label(cancel);
        h.get_by_label(Text::TlsLoginCertificate.get(Language::parse(lang).unwrap()));
    }
}

#[test]
fn languages() {
    for (lang, heading, cancel) in [
        ("fr", "Se connecter", "Annuler"),
        ("nl", "Aanmelden", "Annuleren"),
        ("de", "Anmelden", "Abbrechen"),
        ("en", "Log in", "Cancel"),
    ] {
        let h = harness(&AUTH.replace(r#""lang":"en""#, &format!(r#""lang":"{lang}""#)));
        h.get_all_by_label(heading).next().expect(heading);
        h.get_by_label(cancel);
    }
}

#[test]
fn every_text_in_every_language_has_glyphs_in_the_bundled_fonts() {
    // egui_kittest fails on a character the fonts cannot draw (it caught "⚠" and "●").
    let mut h = Harness::new_ui(|ui| {
        for lang in Language::ALL {
            for &text in Text::ALL {
                ui.label(text.get(lang));
            }
        }
    });
    h.run();
}

#[test]
fn every_fixture_in_every_language_draws() {
    for json in [
        AUTH,
        SIGN,
        CONSENT,
        LAST_TRY,
        PINPAD,
        TOKEN_PROMPT,
        TLS_LOGIN,
        include_str!("fixtures/site-phishing.json"),
        include_str!("fixtures/site-long.json"),
        include_str!("fixtures/site-ip.json"),
        include_str!("fixtures/site-localhost.json"),
        include_str!("fixtures/site-embedded.json"),
    ] {
        for lang in Language::ALL {
            let json = json.replace(r#""lang":"en""#, &format!(r#""lang":"{}""#, lang.code()));
            let mut h = harness(&json);
            h.run_steps(2);
        }
    }
}

#[test]
fn keyboard_only_tab_to_cancel_or_ok() {
    // Tab order: PIN field → Cancel → OK; Enter activates the focused button.
    let mut h = harness(AUTH);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("1234");
    h.run();
    h.key_press(Key::Tab);
    h.run();
    assert!(h.get_by_label("Cancel").is_focused());
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"cancelled\"}\n"]);

    let mut h = harness(AUTH);
    h.get_by_role_and_label(Role::PasswordInput, "Your PIN")
        .type_text("1234");
    h.run();
    h.key_press(Key::Tab);
    h.run();
    h.key_press(Key::Tab);
    h.run();
    assert!(h.get_all_by_label("Log in").any(|n| n.is_focused()), "OK has the focus");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().lines, ["{\"result\":\"pin\",\"pin\":\"1234\"}\n"]);
}
