//! The HTML pages. No inline script or style (the CSP allows only the site's own files): the
//! behaviour is in `/app.js`, which reads the page from the DOM hooks documented in the crate README.

use std::fmt::Write as _;

use crate::i18n::{Lang, Texts};
use crate::session::{SignedSummary, User};

/// Escapes text for HTML element content and double-quoted attribute values (the only places the
/// pages put text; single quotes are therefore left as they are).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `hidden` when `hide`.
fn hidden(hide: bool) -> &'static str {
    if hide {
        " hidden"
    } else {
        ""
    }
}

/// The common frame of every page: head, header with the language switch, `main`, footer.
fn layout(lang: Lang, page: &str, path: &str, title: &str, main: &str) -> String {
    let t = lang.texts();
    let other = lang.other();
    format!(
        r#"<!DOCTYPE html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {site}</title>
<link rel="stylesheet" href="/style.css">
<script type="module" src="/app.js"></script>
</head>
<body data-page="{page}">
<header class="site-header">
<a class="brand" href="/?lang={code}">{site}</a>
<a id="lang-switch" href="{path}?lang={other_code}" hreflang="{other_code}" lang="{other_code}">{switch}</a>
</header>
<p class="demo-notice">{notice}</p>
<main>
{main}
</main>
<footer>{footer}</footer>
</body>
</html>
"#,
        code = lang.code(),
        title = escape(title),
        site = escape(t.site_name),
        page = page,
        path = path,
        other_code = other.code(),
        switch = escape(t.switch_language),
        notice = escape(t.demo_notice),
        main = main,
        footer = escape(t.footer),
    )
}

/// The status line the script fills in: `data-state` idle|working|ok|error, `data-code`,
/// `data-reason`.
const STATUS: &str = r#"<div id="status" class="status" role="status" aria-live="polite" data-state="idle" data-code="" data-reason=""></div>"#;

/// The home page: the login button, or the greeting when logged in.
pub fn home(lang: Lang, user: Option<&User>) -> String {
    let t = lang.texts();
    let (holder, nn) = user.map_or((String::new(), String::new()), |u| {
        (escape(&u.holder), escape(&u.national_number))
    });
    let main = format!(
        r#"<h1>{title}</h1>
<section id="login-section"{login_hidden}>
<p>{intro}</p>
<button id="login" type="button" class="primary">{login}</button>
<p class="hint">{login_hint}</p>
</section>
<section id="welcome"{welcome_hidden}>
<h2>{hello} <span id="holder">{holder}</span></h2>
<p>{nn_label}{colon}<span id="national-number">{nn}</span></p>
<p><a id="contract-link" class="button primary" href="/contract?lang={code}">{contract}</a></p>
<p><button id="logout" type="button">{logout}</button></p>
</section>
{STATUS}"#,
        title = escape(t.home_title),
        login_hidden = hidden(user.is_some()),
        welcome_hidden = hidden(user.is_none()),
        intro = escape(t.home_intro),
        login = escape(t.login_button),
        login_hint = escape(t.login_hint),
        hello = escape(t.hello),
        nn_label = escape(t.national_number),
        colon = escape(t.colon),
        contract = escape(t.contract_link),
        logout = escape(t.logout_button),
        code = lang.code(),
    );
    layout(lang, "home", "/", t.home_title, &main)
}

/// The contract text as shown (the signed document repeats it, see [`contract_document`]).
fn contract_html(t: &Texts, user: &User) -> String {
    let mut s = format!(
        r#"<article id="contract" class="contract"><h2>{}</h2>"#,
        escape(t.contract_title)
    );
    for clause in t.contract_clauses {
        let _ = write!(s, "<p>{}</p>", escape(clause));
    }
    let _ = write!(
        s,
        r#"<p class="party">{}{}<strong id="contract-holder">{}</strong> — {}{}<span>{}</span></p></article>"#,
        escape(t.holder_label),
        escape(t.colon),
        escape(&user.holder),
        escape(t.national_number),
        escape(t.colon),
        escape(&user.national_number)
    );
    s
}

/// The contract page (logged in only).
pub fn contract(lang: Lang, user: &User, last: Option<&SignedSummary>) -> String {
    let t = lang.texts();
    let (signed_by, href) = last.map_or((String::new(), String::from("#")), |s| {
        (
            escape(&s.signed_by_text),
            format!("/api/sign/download/{}", escape(&s.id)),
        )
    });
    let main = format!(
        r#"<h1>{title}</h1>
{contract}
<section id="sign-section">
<button id="sign" type="button" class="primary">{sign}</button>
<p class="hint">{sign_hint}</p>
</section>
<section id="signed"{signed_hidden}>
<p id="signed-by" class="ok">{signed_by}</p>
<p><a id="download" class="button" href="{href}" download>{download}</a></p>
<p class="hint">{format_notice}</p>
</section>
{STATUS}
<p><a id="home-link" href="/?lang={code}">{back}</a></p>"#,
        title = escape(t.contract_page_title),
        contract = contract_html(t, user),
        sign = escape(t.sign_button),
        sign_hint = escape(t.sign_hint),
        signed_hidden = hidden(last.is_none()),
        download = escape(t.download_label),
        format_notice = escape(t.format_notice),
        code = lang.code(),
        back = escape(t.back_home),
    );
    layout(lang, "contract", "/contract", t.contract_page_title, &main)
}

/// A 404 page.
pub fn not_found(lang: Lang) -> String {
    let t = lang.texts();
    let main = format!(
        r#"<h1>{}</h1><p><a href="/?lang={}">{}</a></p>"#,
        escape(t.not_found),
        lang.code(),
        escape(t.back_home)
    );
    layout(lang, "not-found", "/", t.not_found, &main)
}

/// The exact text that is hashed and signed: the contract in `lang`, the holder and the time of
/// preparation. Plain UTF-8 text with `\n` line ends.
pub fn contract_document(lang: Lang, user: &User, prepared_at: &str) -> String {
    let t = lang.texts();
    let mut s = String::new();
    s.push_str(t.contract_title);
    s.push_str("\n\n");
    for clause in t.contract_clauses {
        s.push_str(clause);
        s.push_str("\n\n");
    }
    let _ = writeln!(
        s,
        "{}{}{} ({}{}{})",
        t.holder_label, t.colon, user.holder, t.national_number, t.colon, user.national_number
    );
    let _ = writeln!(s, "{}{}{}", t.date_label, t.colon, prepared_at);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use eidlink_verifier::TokenAlgorithm;

    fn user() -> User {
        User {
            holder: "ALICE <SPECIMEN>".into(),
            national_number: "85010112486".into(),
            serial_number: "85010112486".into(),
            country: Some("BE".into()),
            algorithm: TokenAlgorithm::Es384,
        }
    }

    #[test]
    fn pages_escape_and_carry_the_hooks() {
        let home = home(Lang::Fr, Some(&user()));
        assert!(home.contains(r#"<span id="holder">ALICE &lt;SPECIMEN&gt;</span>"#));
        assert!(home.contains(r#"<section id="login-section" hidden>"#));
        assert!(home.contains(r#"id="status""#));
        assert!(!home.contains("<script>"), "no inline script");
        let anon = home_for_nobody();
        assert!(anon.contains(r#"<button id="login""#));
        assert!(anon.contains("Se connecter avec ma carte d'identité"));
        let c = contract(Lang::En, &user(), None);
        assert!(c.contains(r#"<button id="sign""#));
        assert!(c.contains(r#"<section id="signed" hidden>"#));
        assert!(c.contains("Sign my enrollment contract"));
    }

    fn home_for_nobody() -> String {
        home(Lang::Fr, None)
    }

    #[test]
    fn the_document_names_the_holder_and_time() {
        let d = contract_document(Lang::Fr, &user(), "2026-01-01T00:00:00Z");
        assert!(d.starts_with("Contrat d'adhésion"));
        assert!(d.contains("Titulaire : ALICE <SPECIMEN> (Numéro de registre national : 85010112486)\n"));
        assert!(d.ends_with("Date de signature : 2026-01-01T00:00:00Z\n"));
    }
}
