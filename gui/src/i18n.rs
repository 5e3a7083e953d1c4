//! The dialog's texts in French, Dutch, German and English.
//!
//! The language is the request's `lang` when it is one of ours, else the system locale
//! (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`, in the order gettext reads them), else English.
//! Texts are templates: `{name}` is replaced by [`fill`].

/// A language the dialog speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Français.
    Fr,
    /// Nederlands.
    Nl,
    /// Deutsch.
    De,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the texts are written below.
    pub const ALL: [Lang; 4] = [Lang::Fr, Lang::Nl, Lang::De, Lang::En];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::Nl => "nl",
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Reads a language tag or a POSIX locale name: `fr`, `nl-BE`, `de_DE.UTF-8`, `en_GB@euro`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_', '.', '@']).next().unwrap_or_default().trim();
        match primary.to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "nl" => Some(Lang::Nl),
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The system language from the environment, if it is one of ours.
    pub fn from_system() -> Option<Lang> {
        system_lang_from(|name| std::env::var(name).ok())
    }

    /// The request's language if we speak it, else `system`, else English.
    pub fn resolve(requested: Option<&str>, system: Option<Lang>) -> Lang {
        requested.and_then(Lang::from_tag).or(system).unwrap_or(Lang::En)
    }
}

/// The system language as gettext would pick it: `LANGUAGE` (a `:`-separated list, ignored when
/// the locale is `C`/`POSIX`), then the first set of `LC_ALL`, `LC_MESSAGES`, `LANG`.
pub fn system_lang_from(env: impl Fn(&str) -> Option<String>) -> Option<Lang> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let locale = get("LC_ALL").or_else(|| get("LC_MESSAGES")).or_else(|| get("LANG"));
    let is_c = |l: &str| {
        let base = l.split(['.', '@']).next().unwrap_or_default();
        base == "C" || base == "POSIX"
    };
    if !locale.as_deref().is_some_and(is_c) {
        if let Some(list) = get("LANGUAGE") {
            if let Some(lang) = list.split(':').find_map(Lang::from_tag) {
                return Some(lang);
            }
        }
    }
    locale.as_deref().and_then(Lang::from_tag)
}

macro_rules! texts {
    ($( $(#[$doc:meta])* $name:ident { fr: $fr:literal, nl: $nl:literal, de: $de:literal, en: $en:literal $(,)? } )*) => {
        /// A text of the dialog.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Text {
            $( $(#[$doc])* $name, )*
        }

        impl Text {
            /// Every text.
            pub const ALL: &'static [Text] = &[$(Text::$name),*];

            /// The template in `lang`.
            pub fn get(self, lang: Lang) -> &'static str {
                match self {
                    $( Text::$name => match lang {
                        Lang::Fr => $fr,
                        Lang::Nl => $nl,
                        Lang::De => $de,
                        Lang::En => $en,
                    }, )*
                }
            }
        }
    };
}

texts! {
    /// Caption above the host name.
    RequestFrom { fr: "Demande du site", nl: "Verzoek van de website", de: "Anfrage der Website", en: "Request from the website" }
    /// Under the host name: the anti-phishing check.
    CheckHost {
        fr: "Continuez uniquement si c'est bien le site que vous utilisez.",
        nl: "Ga alleen verder als dit de website is die u gebruikt.",
        de: "Fahren Sie nur fort, wenn dies die Website ist, die Sie gerade verwenden.",
        en: "Continue only if this is the website you are using.",
    }
    /// The origin is plain http (developer setting).
    NotSecure {
        fr: "Connexion non sécurisée ({origin})",
        nl: "Geen beveiligde verbinding ({origin})",
        de: "Keine sichere Verbindung ({origin})",
        en: "Not a secure connection ({origin})",
    }
    /// Purpose heading: authenticate.
    PurposeAuthenticate { fr: "Se connecter", nl: "Aanmelden", de: "Anmelden", en: "Log in" }
    /// Purpose heading: sign.
    PurposeSign { fr: "Signer un document", nl: "Een document ondertekenen", de: "Ein Dokument unterschreiben", en: "Sign a document" }
    /// Purpose heading: consent.
    PurposeConsent {
        fr: "Partager votre identité (certificat de signature)",
        nl: "Uw identiteit delen (handtekeningcertificaat)",
        de: "Ihre Identität teilen (Signaturzertifikat)",
        en: "Share your identity (signing certificate)",
    }
    /// Explanation: authenticate.
    ExplainAuthenticate {
        fr: "Le site vous identifiera avec votre carte eID.",
        nl: "De website zal u identificeren met uw eID-kaart.",
        de: "Die Website wird Sie mit Ihrer eID-Karte identifizieren.",
        en: "The website will identify you with your eID card.",
    }
    /// Explanation: sign.
    ExplainSign {
        fr: "Votre carte eID va signer le document dont l'empreinte figure ci-dessous.",
        nl: "Uw eID-kaart zal het document ondertekenen waarvan de vingerafdruk hieronder staat.",
        de: "Ihre eID-Karte wird das Dokument mit dem unten stehenden Fingerabdruck unterschreiben.",
        en: "Your eID card will sign the document with the fingerprint below.",
    }
    /// Explanation: consent.
    ExplainConsent {
        fr: "Le site recevra votre certificat de signature, qui contient votre nom et votre numéro d'identification national.",
        nl: "De website ontvangt uw handtekeningcertificaat, met uw naam en uw nationaal identificatienummer.",
        de: "Die Website erhält Ihr Signaturzertifikat mit Ihrem Namen und Ihrer nationalen Identifikationsnummer.",
        en: "The website will receive your signing certificate, which contains your name and national identification number.",
    }
    /// Label: holder.
    Holder { fr: "Titulaire", nl: "Kaarthouder", de: "Karteninhaber", en: "Card holder" }
    /// Label: certificate subject.
    Certificate { fr: "Certificat", nl: "Certificaat", de: "Zertifikat", en: "Certificate" }
    /// Label: issuer.
    IssuedBy { fr: "Émis par", nl: "Uitgegeven door", de: "Ausgestellt von", en: "Issued by" }
    /// Label: validity.
    Valid { fr: "Validité", nl: "Geldig", de: "Gültig", en: "Valid" }
    /// Validity range.
    ValidRange { fr: "du {from} au {to}", nl: "van {from} tot {to}", de: "vom {from} bis {to}", en: "{from} to {to}" }
    /// Caption of the fingerprint, with the hash function.
    Fingerprint {
        fr: "Empreinte du document ({function})",
        nl: "Vingerafdruk van het document ({function})",
        de: "Fingerabdruck des Dokuments ({function})",
        en: "Document fingerprint ({function})",
    }
    /// The PIN field's label.
    EnterPin { fr: "Votre {label}", nl: "Uw {label}", de: "Ihre {label}", en: "Your {label}" }
    /// How many digits.
    PinLengthRange { fr: "{min} à {max} chiffres", nl: "{min} tot {max} cijfers", de: "{min} bis {max} Ziffern", en: "{min} to {max} digits" }
    /// How many digits, when min == max.
    PinLengthExact { fr: "{n} chiffres", nl: "{n} cijfers", de: "{n} Ziffern", en: "{n} digits" }
    /// A non-digit was typed.
    DigitsOnly { fr: "Uniquement des chiffres", nl: "Alleen cijfers", de: "Nur Ziffern", en: "Digits only" }
    /// The PIN is full.
    MaxDigits { fr: "{max} chiffres au maximum", nl: "Maximaal {max} cijfers", de: "Höchstens {max} Ziffern", en: "At most {max} digits" }
    /// Tries left: one.
    TriesLeftOne { fr: "1 essai restant", nl: "Nog 1 poging", de: "Noch 1 Versuch", en: "1 try left" }
    /// Tries left: several.
    TriesLeftMany { fr: "{n} essais restants", nl: "Nog {n} pogingen", de: "Noch {n} Versuche", en: "{n} tries left" }
    /// The last try.
    LastTryWarning {
        fr: "Dernier essai : un PIN erroné bloquera votre carte.",
        nl: "Laatste poging: een foute pincode blokkeert uw kaart.",
        de: "Letzter Versuch: Eine falsche PIN sperrt Ihre Karte.",
        en: "Last try: a wrong PIN will block your card.",
    }
    /// No tries left.
    PinBlocked { fr: "Votre PIN est bloqué.", nl: "Uw pincode is geblokkeerd.", de: "Ihre PIN ist gesperrt.", en: "Your PIN is blocked." }
    /// Previous attempt: wrong PIN, tries unknown.
    WrongPin { fr: "PIN erroné.", nl: "Foute pincode.", de: "Falsche PIN.", en: "Wrong PIN." }
    /// Previous attempt: wrong PIN, one try left.
    WrongPinOne { fr: "PIN erroné, 1 essai restant.", nl: "Foute pincode, nog 1 poging.", de: "Falsche PIN, noch 1 Versuch.", en: "Wrong PIN, 1 try left." }
    /// Previous attempt: wrong PIN, several tries left.
    WrongPinMany {
        fr: "PIN erroné, {n} essais restants.",
        nl: "Foute pincode, nog {n} pogingen.",
        de: "Falsche PIN, noch {n} Versuche.",
        en: "Wrong PIN, {n} tries left.",
    }
    /// PIN pad: where to type.
    PinpadPrompt {
        fr: "Tapez votre {label} sur le clavier du lecteur.",
        nl: "Typ uw {label} op het toetsenbord van de lezer.",
        de: "Geben Sie Ihre {label} am Tastenfeld des Lesers ein.",
        en: "Type your {label} on the reader's keypad.",
    }
    /// PIN pad: how to cancel.
    PinpadCancel {
        fr: "Pour annuler, utilisez la touche d'annulation du lecteur.",
        nl: "Gebruik de annuleertoets van de lezer om te annuleren.",
        de: "Zum Abbrechen die Abbruchtaste am Leser drücken.",
        en: "To cancel, use the cancel key on the reader.",
    }
    /// Button: cancel.
    Cancel { fr: "Annuler", nl: "Annuleren", de: "Abbrechen", en: "Cancel" }
    /// Button: submit the PIN to log in.
    SubmitAuthenticate { fr: "Se connecter", nl: "Aanmelden", de: "Anmelden", en: "Log in" }
    /// Button: submit the PIN to sign.
    SubmitSign { fr: "Signer", nl: "Ondertekenen", de: "Unterschreiben", en: "Sign" }
    /// Button: give consent.
    SubmitConsent { fr: "Partager", nl: "Delen", de: "Teilen", en: "Share" }
    /// After answering.
    Working { fr: "Traitement en cours…", nl: "Bezig…", de: "Bitte warten…", en: "Working…" }
    /// Status: insert card.
    InsertCard {
        fr: "Insérez votre carte eID dans le lecteur.",
        nl: "Steek uw eID-kaart in de lezer.",
        de: "Stecken Sie Ihre eID-Karte in den Leser.",
        en: "Insert your eID card in the reader.",
    }
    /// Status: card removed.
    CardRemoved {
        fr: "La carte a été retirée. Réinsérez-la.",
        nl: "De kaart is verwijderd. Steek ze opnieuw in.",
        de: "Die Karte wurde entfernt. Stecken Sie sie wieder ein.",
        en: "The card was removed. Insert it again.",
    }
}

/// `text` in `lang`, its `{name}` placeholders replaced by `args`.
pub fn fill(lang: Lang, text: Text, args: &[(&str, &str)]) -> String {
    let mut out = text.get(lang).to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// "3 tries left" with the right plural.
pub fn tries_left(lang: Lang, n: u32) -> String {
    if n == 1 {
        Text::TriesLeftOne.get(lang).to_owned()
    } else {
        fill(lang, Text::TriesLeftMany, &[("n", &n.to_string())])
    }
}

/// "Wrong PIN, 2 tries left." with the right plural.
pub fn wrong_pin(lang: Lang, tries_left: Option<u32>) -> String {
    match tries_left {
        None => Text::WrongPin.get(lang).to_owned(),
        Some(1) => Text::WrongPinOne.get(lang).to_owned(),
        Some(n) => fill(lang, Text::WrongPinMany, &[("n", &n.to_string())]),
    }
}

/// "4 to 12 digits" (or "6 digits").
pub fn pin_length(lang: Lang, min: usize, max: usize) -> String {
    if min == max {
        fill(lang, Text::PinLengthExact, &[("n", &min.to_string())])
    } else {
        fill(
            lang,
            Text::PinLengthRange,
            &[("min", &min.to_string()), ("max", &max.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    fn placeholders(s: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = s;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let end = after.find('}').expect("unclosed placeholder");
            out.insert(after[..end].to_owned());
            rest = &after[end + 1..];
        }
        out
    }

    #[test]
    fn every_text_exists_in_every_language_with_the_same_placeholders() {
        for &text in Text::ALL {
            let en = placeholders(text.get(Lang::En));
            for lang in Lang::ALL {
                let s = text.get(lang);
                assert!(!s.trim().is_empty(), "{text:?} empty in {lang:?}");
                assert_eq!(s, s.trim(), "{text:?} in {lang:?} has stray spaces");
                assert_eq!(
                    placeholders(s),
                    en,
                    "{text:?} in {lang:?}: placeholders differ from English"
                );
            }
        }
    }

    #[test]
    fn translations_are_not_english_copies() {
        // Words that happen to be the same in two languages are fine; whole sentences are not.
        for &text in Text::ALL {
            let en = text.get(Lang::En);
            for lang in [Lang::Fr, Lang::Nl, Lang::De] {
                if en.len() > 12 {
                    assert_ne!(text.get(lang), en, "{text:?} in {lang:?} is the English text");
                }
            }
        }
    }

    #[test]
    fn tags_and_locales() {
        assert_eq!(Lang::from_tag("fr"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("NL-be"), Some(Lang::Nl));
        assert_eq!(Lang::from_tag("de_DE.UTF-8"), Some(Lang::De));
        assert_eq!(Lang::from_tag("en_GB@euro"), Some(Lang::En));
        assert_eq!(Lang::from_tag("es"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_tag("C.UTF-8"), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.code()), Some(lang));
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn system_locale_precedence() {
        assert_eq!(system_lang_from(env(&[])), None);
        assert_eq!(system_lang_from(env(&[("LANG", "nl_BE.UTF-8")])), Some(Lang::Nl));
        assert_eq!(
            system_lang_from(env(&[("LANG", "nl_BE.UTF-8"), ("LC_MESSAGES", "de_DE")])),
            Some(Lang::De)
        );
        assert_eq!(
            system_lang_from(env(&[
                ("LANG", "nl_BE"),
                ("LC_MESSAGES", "de_DE"),
                ("LC_ALL", "fr_BE.UTF-8")
            ])),
            Some(Lang::Fr)
        );
        // empty values are unset
        assert_eq!(
            system_lang_from(env(&[("LANG", "de_AT"), ("LC_ALL", "")])),
            Some(Lang::De)
        );
        // LANGUAGE wins, first language we speak
        assert_eq!(
            system_lang_from(env(&[("LANG", "en_US"), ("LANGUAGE", "es:nl:fr")])),
            Some(Lang::Nl)
        );
        // ... except under the C locale
        assert_eq!(system_lang_from(env(&[("LANG", "C.UTF-8"), ("LANGUAGE", "fr")])), None);
        assert_eq!(system_lang_from(env(&[("LANG", "es_ES.UTF-8")])), None);
        assert_eq!(system_lang_from(env(&[("LANG", "POSIX")])), None);
    }

    #[test]
    fn resolution_falls_back_to_system_then_english() {
        assert_eq!(Lang::resolve(Some("de"), Some(Lang::Fr)), Lang::De);
        assert_eq!(Lang::resolve(Some("xx"), Some(Lang::Fr)), Lang::Fr);
        assert_eq!(Lang::resolve(None, Some(Lang::Nl)), Lang::Nl);
        assert_eq!(Lang::resolve(Some("xx"), None), Lang::En);
        assert_eq!(Lang::resolve(None, None), Lang::En);
    }

    #[test]
    fn plurals_and_filling() {
        assert_eq!(tries_left(Lang::En, 1), "1 try left");
        assert_eq!(tries_left(Lang::En, 3), "3 tries left");
        assert_eq!(tries_left(Lang::Fr, 2), "2 essais restants");
        assert_eq!(tries_left(Lang::De, 1), "Noch 1 Versuch");
        assert_eq!(wrong_pin(Lang::En, Some(2)), "Wrong PIN, 2 tries left.");
        assert_eq!(wrong_pin(Lang::Nl, Some(1)), "Foute pincode, nog 1 poging.");
        assert_eq!(wrong_pin(Lang::De, None), "Falsche PIN.");
        assert_eq!(pin_length(Lang::En, 4, 12), "4 to 12 digits");
        assert_eq!(pin_length(Lang::Fr, 6, 6), "6 chiffres");
        assert_eq!(fill(Lang::En, Text::EnterPin, &[("label", "PIN2")]), "Your PIN2");
        for lang in Lang::ALL {
            for n in [0, 1, 2, 3, 10] {
                assert!(!tries_left(lang, n).contains('{'));
                assert!(!wrong_pin(lang, Some(n)).contains('{'));
            }
        }
    }
}
