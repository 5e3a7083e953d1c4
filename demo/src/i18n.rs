//! The two languages of the demo (French first, English), how a request picks one, and every text the
//! server writes. The page script (`assets/app.js`) carries its own texts for the messages it shows.

use axum::http::HeaderMap;
use eidlink_lang::Language;

/// A language of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French (the default).
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The eidlink language this is (the demo speaks two of eidlink's four).
    pub const fn language(self) -> Language {
        match self {
            Lang::Fr => Language::Fr,
            Lang::En => Language::En,
        }
    }

    /// The ISO 639-1 code.
    pub const fn code(self) -> &'static str {
        self.language().code()
    }

    /// Parses `fr` / `en` (case-insensitive, region ignored: `fr-BE`, `en_GB`), read by
    /// eidlink-lang's one tag parser; eidlink's other languages are not the site's.
    pub fn parse(tag: &str) -> Option<Lang> {
        match Language::parse(tag)? {
            Language::Fr => Some(Lang::Fr),
            Language::En => Some(Lang::En),
            Language::Nl | Language::De => None,
        }
    }

    /// The other language (for the switch link).
    pub const fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The request's language: `?lang=fr|en`, else the best of fr/en in Accept-Language, else French.
    pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query_lang.and_then(Lang::parse) {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or_default()
    }

    /// The server's texts in this language.
    pub const fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

/// The highest-weighted fr or en of an Accept-Language header (RFC 9110 §12.5.4); the first listed
/// wins a tie, `q=0` means "not this one".
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(u16, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let mut weight = 1000u16;
        for p in parts {
            if let Some(q) = p.trim().strip_prefix("q=") {
                weight = parse_q(q);
            }
        }
        if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// A q-value as thousandths; anything unparseable counts as 0.
fn parse_q(q: &str) -> u16 {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if !matches!(int, "0" | "1") || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut thousandths: u16 = if int == "1" { 1000 } else { 0 };
    for (i, b) in frac.bytes().enumerate() {
        let scale = [100u16, 10, 1][i];
        thousandths += u16::from(b - b'0') * scale;
    }
    thousandths.min(1000)
}

/// Every text the server writes into pages, signed documents and errors.
#[derive(Debug)]
pub struct Texts {
    /// The site's name.
    pub site_name: &'static str,
    /// "Demonstration" ribbon.
    pub demo_notice: &'static str,
    /// Label of the language switch link (names the other language).
    pub switch_language: &'static str,
    /// Home page title.
    pub home_title: &'static str,
    /// Home page introduction.
    pub home_intro: &'static str,
    /// The login button.
    pub login_button: &'static str,
    /// What the login does (under the button).
    pub login_hint: &'static str,
    /// "Bonjour" before the holder's name.
    pub hello: &'static str,
    /// Label of the national number.
    pub national_number: &'static str,
    /// Link to the contract page.
    pub contract_link: &'static str,
    /// The logout button.
    pub logout_button: &'static str,
    /// Contract page title.
    pub contract_page_title: &'static str,
    /// The sign button.
    pub sign_button: &'static str,
    /// What signing does (under the button).
    pub sign_hint: &'static str,
    /// Label of the download link.
    pub download_label: &'static str,
    /// Honest note on the signed file's format.
    pub format_notice: &'static str,
    /// Back to the home page.
    pub back_home: &'static str,
    /// Footer.
    pub footer: &'static str,
    /// Title of the contract.
    pub contract_title: &'static str,
    /// The contract's clauses.
    pub contract_clauses: &'static [&'static str],
    /// "Holder" in the signed document.
    pub holder_label: &'static str,
    /// "Date" in the signed document.
    pub date_label: &'static str,
    /// Title of the not-found page.
    pub not_found: &'static str,
    /// Between a label and its value: " : " in French typography, ": " in English.
    pub colon: &'static str,
    /// Month names, January first.
    pub months: [&'static str; 12],
    /// "Signé par {holder} le {date} à {time} UTC": the words around the parts.
    pub signed_by: (&'static str, &'static str, &'static str, &'static str),
}

const FR: Texts = Texts {
    site_name: "Service public de démonstration",
    demo_notice: "Site de démonstration d'eidlink — aucune donnée n'est conservée après l'arrêt du service.",
    switch_language: "English",
    home_title: "Bienvenue sur votre espace personnel",
    home_intro: "Connectez-vous avec votre carte d'identité électronique pour consulter et signer votre contrat d'adhésion. Votre lecteur de cartes doit être branché et l'extension eidlink installée.",
    login_button: "Se connecter avec ma carte d'identité",
    login_hint: "Une fenêtre d'eidlink vous demandera le code PIN de votre carte.",
    hello: "Bonjour",
    national_number: "Numéro de registre national",
    contract_link: "Consulter et signer mon contrat d'adhésion",
    logout_button: "Se déconnecter",
    contract_page_title: "Votre contrat d'adhésion",
    sign_button: "Signer mon contrat d'adhésion",
    sign_hint: "Une fenêtre d'eidlink vous montrera l'empreinte du document et vous demandera le code PIN de signature.",
    download_label: "Télécharger le contrat signé (JSON)",
    format_notice: "Le fichier téléchargé est un simple document JSON (texte du contrat, empreinte, signature et certificat). Ce n'est pas un fichier PAdES ou XAdES ; il sert à la démonstration.",
    back_home: "Retour à l'accueil",
    footer: "eidlink — démonstration du protocole Web eID. Les signatures sont vérifiées par le serveur avec eidlink-verifier.",
    contract_title: "Contrat d'adhésion au service public de démonstration",
    contract_clauses: &[
        "Article 1 — Objet. Le présent contrat règle l'adhésion du titulaire au service public de démonstration, qui lui permet de consulter son dossier et d'effectuer des démarches en ligne.",
        "Article 2 — Identification. Le titulaire s'identifie au moyen de sa carte d'identité électronique. Le service vérifie chaque connexion et chaque signature à l'aide des certificats de la carte.",
        "Article 3 — Données personnelles. Le service traite uniquement le nom et le numéro de registre national du titulaire, aux seules fins de la gestion de son dossier. Le titulaire peut demander à tout moment l'accès à ses données et leur rectification.",
        "Article 4 — Durée et résiliation. Le contrat prend effet à la date de la signature pour une durée indéterminée. Le titulaire peut y mettre fin à tout moment, sans frais, depuis son espace personnel.",
        "Article 5 — Signature. En signant avec sa carte d'identité, le titulaire déclare avoir lu le présent contrat et en accepter les conditions.",
    ],
    holder_label: "Titulaire",
    date_label: "Date de signature",
    not_found: "Page introuvable",
    colon: " : ",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    signed_by: ("Signé par ", " le ", " à ", " UTC"),
};

const EN: Texts = Texts {
    site_name: "Demonstration public service",
    demo_notice: "eidlink demonstration site — no data is kept after the service stops.",
    switch_language: "Français",
    home_title: "Welcome to your personal space",
    home_intro: "Log in with your electronic identity card to read and sign your enrollment contract. Your card reader must be plugged in and the eidlink extension installed.",
    login_button: "Log in with my identity card",
    login_hint: "An eidlink window will ask for your card's PIN.",
    hello: "Hello",
    national_number: "National register number",
    contract_link: "Read and sign my enrollment contract",
    logout_button: "Log out",
    contract_page_title: "Your enrollment contract",
    sign_button: "Sign my enrollment contract",
    sign_hint: "An eidlink window will show the document's fingerprint and ask for your signature PIN.",
    download_label: "Download the signed contract (JSON)",
    format_notice: "The downloaded file is a plain JSON document (contract text, hash, signature and certificate). It is not a PAdES or XAdES file; it is meant for demonstration.",
    back_home: "Back to the home page",
    footer: "eidlink — Web eID protocol demonstration. Signatures are verified by the server with eidlink-verifier.",
    contract_title: "Enrollment contract for the demonstration public service",
    contract_clauses: &[
        "Article 1 — Purpose. This contract governs the holder's enrollment in the demonstration public service, which lets the holder consult their file and carry out procedures online.",
        "Article 2 — Identification. The holder identifies with their electronic identity card. The service verifies every login and every signature with the card's certificates.",
        "Article 3 — Personal data. The service processes only the holder's name and national register number, solely to manage their file. The holder may ask at any time to access and correct their data.",
        "Article 4 — Term and termination. The contract takes effect on the date of signature for an indefinite term. The holder may end it at any time, free of charge, from their personal space.",
        "Article 5 — Signature. By signing with their identity card, the holder declares having read this contract and accepting its terms.",
    ],
    holder_label: "Holder",
    date_label: "Date of signature",
    not_found: "Page not found",
    colon: ": ",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    signed_by: ("Signed by ", " on ", " at ", " UTC"),
};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn query_then_accept_language_then_french() {
        assert_eq!(Lang::parse("fr-BE"), Some(Lang::Fr));
        assert_eq!(Lang::parse("EN_gb"), Some(Lang::En));
        assert_eq!(Lang::parse("nl"), None, "eidlink speaks Dutch, the demo site does not");
        for lang in [Lang::Fr, Lang::En] {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
        assert_eq!(Lang::negotiate(Some("en"), &with_accept("fr")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), &with_accept("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::negotiate(None, &with_accept("nl-BE, en;q=0.8, fr;q=0.9")),
            Lang::Fr
        );
        assert_eq!(Lang::negotiate(None, &with_accept("de, en;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(None, &with_accept("en;q=0, de")), Lang::Fr);
        assert_eq!(Lang::negotiate(None, &with_accept("en-US,fr-FR")), Lang::En);
        assert_eq!(Lang::negotiate(None, &HeaderMap::new()), Lang::Fr);
        assert_eq!(parse_q("0.5"), 500);
        assert_eq!(parse_q("1.000"), 1000);
        assert_eq!(parse_q("2"), 0);
        assert_eq!(parse_q("0.1234"), 0);
    }

    #[test]
    fn both_languages_have_the_same_contract_shape() {
        assert_eq!(FR.contract_clauses.len(), EN.contract_clauses.len());
    }
}
