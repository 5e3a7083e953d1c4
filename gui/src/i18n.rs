//! The dialog's texts in French, Dutch, German and English.
//!
//! The language is chosen by `eidlink-lang`'s one rule: the request's `lang` when it is one of
//! ours, else the tray's setting, else the system locale, else English.
//! Texts are templates: `{name}` is replaced by [`fill`].

pub use eidlink_lang::Language;

use crate::protocol::{Charset, Status, Wait};

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
            pub fn get(self, lang: Language) -> &'static str {
                match self {
                    $( Text::$name => match lang {
                        Language::Fr => $fr,
                        Language::Nl => $nl,
                        Language::De => $de,
                        Language::En => $en,
                    }, )*
                }
            }
        }
    };
}

texts! {
    /// Caption above the site's name.
    RequestFrom { fr: "Demande du site", nl: "Verzoek van de website", de: "Anfrage der Website", en: "Request from the website" }
    /// Caption above the program's name (`tls_login`: a browser asks, for a site it does not name).
    RequestFromProgram { fr: "Demande du programme", nl: "Verzoek van het programma", de: "Anfrage des Programms", en: "Request from the program" }
    /// Under the site: the asking page is a frame inside another site's page.
    EmbeddedIn { fr: "Intégré dans {site}", nl: "Ingebed in {site}", de: "Eingebettet in {site}", en: "Embedded in {site}" }
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
    /// Purpose heading: a TLS client-certificate login through the PKCS#11 module.
    PurposeTlsLogin {
        fr: "Se connecter avec votre carte eID",
        nl: "Aanmelden met uw eID-kaart",
        de: "Mit Ihrer eID-Karte anmelden",
        en: "Log in with your eID card",
    }
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
    /// Explanation: TLS login; `{program}` is the browser that asks.
    ExplainTlsLogin {
        fr: "{program} demande votre carte pour vous connecter à un site.",
        nl: "{program} vraagt uw kaart om u aan te melden bij een website.",
        de: "{program} fragt nach Ihrer Karte, um Sie bei einer Website anzumelden.",
        en: "{program} asks for your card to log you in to a website.",
    }
    /// Under the TLS login explanation: what the card is used for.
    TlsLoginCertificate {
        fr: "Seul le certificat d'authentification de votre carte est utilisé.",
        nl: "Alleen het authenticatiecertificaat van uw kaart wordt gebruikt.",
        de: "Nur das Authentifizierungszertifikat Ihrer Karte wird verwendet.",
        en: "Only your card's authentication certificate is used.",
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
    /// How many characters (a PIN of any characters).
    PinCharsRange { fr: "{min} à {max} caractères", nl: "{min} tot {max} tekens", de: "{min} bis {max} Zeichen", en: "{min} to {max} characters" }
    /// How many characters, when min == max.
    PinCharsExact { fr: "{n} caractères", nl: "{n} tekens", de: "{n} Zeichen", en: "{n} characters" }
    /// The PIN of any characters is full.
    MaxChars { fr: "{max} caractères au maximum", nl: "Maximaal {max} tekens", de: "Höchstens {max} Zeichen", en: "At most {max} characters" }
    /// A control character was typed in a PIN of any characters.
    PrintableOnly { fr: "Caractère non admis", nl: "Teken niet toegestaan", de: "Zeichen nicht erlaubt", en: "Character not allowed" }
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
    /// The token's software asks for the PIN (PKCS#11 protected authentication path).
    TokenPrompt {
        fr: "Saisissez votre {label} sur le lecteur ou dans la fenêtre du logiciel de votre carte.",
        nl: "Voer uw {label} in op de lezer of in het venster van de software van uw kaart.",
        de: "Geben Sie Ihre {label} am Leser oder im Fenster der Software Ihrer Karte ein.",
        en: "Enter your {label} on the reader or in the window of your card's software.",
    }
    /// The token's software asks: how to cancel.
    TokenPromptCancel {
        fr: "Pour annuler, annulez sur le lecteur ou dans cette fenêtre.",
        nl: "Annuleer op de lezer of in dat venster om te annuleren.",
        de: "Zum Abbrechen am Leser oder in jenem Fenster abbrechen.",
        en: "To cancel, cancel on the reader or in that window.",
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
    /// Status: no card reader.
    NoReader {
        fr: "Branchez un lecteur de cartes.",
        nl: "Sluit een kaartlezer aan.",
        de: "Schließen Sie ein Kartenlesegerät an.",
        en: "Connect a card reader.",
    }
    /// Waiting: the card in the reader is not one eidlink can use.
    UnsupportedCard {
        fr: "Cette carte n'est pas prise en charge. Insérez votre carte eID.",
        nl: "Deze kaart wordt niet ondersteund. Steek uw eID-kaart in de lezer.",
        de: "Diese Karte wird nicht unterstützt. Stecken Sie Ihre eID-Karte ein.",
        en: "This card is not supported. Insert your eID card.",
    }
    /// Waiting: the card in the reader is not the one whose certificate the site chose.
    WrongCard {
        fr: "Ce n'est pas la carte choisie pour cette signature. Insérez la bonne carte.",
        nl: "Dit is niet de kaart die voor deze handtekening gekozen is. Steek de juiste kaart in.",
        de: "Das ist nicht die für diese Unterschrift gewählte Karte. Stecken Sie die richtige Karte ein.",
        en: "This is not the card chosen for this signature. Insert the right card.",
    }
    /// Final: the PIN is blocked; the request fails when the dialog is closed.
    PinBlockedFinal {
        fr: "Le code PIN de cette carte est bloqué. Débloquez-le avec votre code PUK, puis réessayez.",
        nl: "De pincode van deze kaart is geblokkeerd. Deblokkeer hem met uw PUK-code en probeer opnieuw.",
        de: "Die PIN dieser Karte ist gesperrt. Entsperren Sie sie mit Ihrer PUK und versuchen Sie es erneut.",
        en: "The PIN of this card is blocked. Unblock it with your PUK code, then try again.",
    }
    /// Waiting: what the user does not have to do.
    WaitCancel {
        fr: "Ou annulez la demande.",
        nl: "Of annuleer het verzoek.",
        de: "Oder brechen Sie die Anfrage ab.",
        en: "Or cancel the request.",
    }
    /// Button: close a final state.
    Close { fr: "Fermer", nl: "Sluiten", de: "Schließen", en: "Close" }
    /// Status: card removed.
    CardRemoved {
        fr: "La carte a été retirée. Réinsérez-la.",
        nl: "De kaart is verwijderd. Steek ze opnieuw in.",
        de: "Die Karte wurde entfernt. Stecken Sie sie wieder ein.",
        en: "The card was removed. Insert it again.",
    }
}

/// What the dialog shows for a `wait` from the host.
pub fn wait_text(wait: Wait) -> Text {
    match wait {
        Wait::NoReader => Text::NoReader,
        Wait::InsertCard => Text::InsertCard,
        Wait::UnsupportedCard => Text::UnsupportedCard,
        Wait::WrongCard => Text::WrongCard,
        Wait::PinBlocked => Text::PinBlockedFinal,
        // From a newer host: it waits for something.
        Wait::Unknown => Text::Working,
    }
}

/// What the dialog shows for a `status` from the host.
pub fn status_text(status: Status) -> Text {
    match status {
        Status::InsertCard => Text::InsertCard,
        Status::NoReader => Text::NoReader,
        Status::CardRemoved => Text::CardRemoved,
        // A status from a newer host: the host is busy with something.
        Status::Working | Status::Unknown => Text::Working,
    }
}

/// `text` in `lang`, its `{name}` placeholders replaced by `args`.
pub fn fill(lang: Language, text: Text, args: &[(&str, &str)]) -> String {
    let mut out = text.get(lang).to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// "3 tries left" with the right plural.
pub fn tries_left(lang: Language, n: u32) -> String {
    if n == 1 {
        Text::TriesLeftOne.get(lang).to_owned()
    } else {
        fill(lang, Text::TriesLeftMany, &[("n", &n.to_string())])
    }
}

/// "Wrong PIN, 2 tries left." with the right plural.
pub fn wrong_pin(lang: Language, tries_left: Option<u32>) -> String {
    match tries_left {
        None => Text::WrongPin.get(lang).to_owned(),
        Some(1) => Text::WrongPinOne.get(lang).to_owned(),
        Some(n) => fill(lang, Text::WrongPinMany, &[("n", &n.to_string())]),
    }
}

/// "4 to 12 digits" (or "6 digits"; "characters" for a PIN of any characters).
pub fn pin_length(lang: Language, min: usize, max: usize, charset: Charset) -> String {
    let (exact, range) = match charset {
        Charset::Digits => (Text::PinLengthExact, Text::PinLengthRange),
        Charset::Any => (Text::PinCharsExact, Text::PinCharsRange),
    };
    if min == max {
        fill(lang, exact, &[("n", &min.to_string())])
    } else {
        fill(lang, range, &[("min", &min.to_string()), ("max", &max.to_string())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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
            let en = placeholders(text.get(Language::En));
            for lang in Language::ALL {
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
    fn every_status_the_host_sends_has_its_own_text_in_every_language() {
        let mut seen = BTreeSet::new();
        for status in Status::SENT {
            let text = status_text(status);
            // Only `working` may be shown as "working…": no_reader once was.
            assert_eq!(
                text == Text::Working,
                status == Status::Working,
                "{status:?} shown as {text:?}"
            );
            assert!(seen.insert(format!("{text:?}")), "{status:?} shares its text");
            for lang in Language::ALL {
                let s = text.get(lang);
                assert!(
                    !s.trim().is_empty() && !s.contains('{'),
                    "{status:?} in {lang:?}: {s:?}"
                );
            }
        }
        assert_eq!(status_text(Status::Unknown), Text::Working);
        assert_eq!(
            status_text(Status::NoReader).get(Language::Nl),
            "Sluit een kaartlezer aan."
        );
    }

    #[test]
    fn every_wait_the_host_sends_has_its_own_text_in_every_language() {
        let mut seen = BTreeSet::new();
        for wait in Wait::SENT {
            let text = wait_text(wait);
            assert_ne!(text, Text::Working, "{wait:?}");
            assert!(seen.insert(format!("{text:?}")), "{wait:?} shares its text");
            for lang in Language::ALL {
                let s = text.get(lang);
                assert!(!s.trim().is_empty() && !s.contains('{'), "{wait:?} in {lang:?}: {s:?}");
            }
        }
        assert_eq!(wait_text(Wait::Unknown), Text::Working);
    }

    #[test]
    fn translations_are_not_english_copies() {
        // Words that happen to be the same in two languages are fine; whole sentences are not.
        for &text in Text::ALL {
            let en = text.get(Language::En);
            for lang in [Language::Fr, Language::Nl, Language::De] {
                if en.len() > 12 {
                    assert_ne!(text.get(lang), en, "{text:?} in {lang:?} is the English text");
                }
            }
        }
    }

    #[test]
    fn plurals_and_filling() {
        assert_eq!(tries_left(Language::En, 1), "1 try left");
        assert_eq!(tries_left(Language::En, 3), "3 tries left");
        assert_eq!(tries_left(Language::Fr, 2), "2 essais restants");
        assert_eq!(tries_left(Language::De, 1), "Noch 1 Versuch");
        assert_eq!(wrong_pin(Language::En, Some(2)), "Wrong PIN, 2 tries left.");
        assert_eq!(wrong_pin(Language::Nl, Some(1)), "Foute pincode, nog 1 poging.");
        assert_eq!(wrong_pin(Language::De, None), "Falsche PIN.");
        assert_eq!(pin_length(Language::En, 4, 12, Charset::Digits), "4 to 12 digits");
        assert_eq!(pin_length(Language::Fr, 6, 6, Charset::Digits), "6 chiffres");
        assert_eq!(pin_length(Language::De, 6, 8, Charset::Any), "6 bis 8 Zeichen");
        assert_eq!(fill(Language::En, Text::EnterPin, &[("label", "PIN2")]), "Your PIN2");
        for lang in Language::ALL {
            for n in [0, 1, 2, 3, 10] {
                assert!(!tries_left(lang, n).contains('{'));
                assert!(!wrong_pin(lang, Some(n)).contains('{'));
            }
        }
    }
}
