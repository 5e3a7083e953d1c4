//! The tray app's texts in French, Dutch, German and English.
//!
//! Every text is one row of four translations, so a missing one is a compile error rather than an
//! English word in a French window. Templates carry `{name}` slots, filled by [`fill`].

use eidlink_lang::Language;

use crate::state::{Action, Overall, Role, Warning};

/// A fixed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the English column says what each one is
pub enum Text {
    AppName,
    // Pages and menu.
    PageStatus,
    PageHistory,
    PageSettings,
    MenuOpen,
    MenuQuit,
    // Headlines.
    Starting,
    NoService,
    NoReader,
    NoCard,
    Reading,
    Ready,
    Problem,
    // Actions.
    DoStartService,
    DoConnectReader,
    DoInsertCard,
    DoReinsertCard,
    DoUnsupportedCard,
    DoCloseOtherApplication,
    DoAuthPinBlocked,
    DoSignPinBlocked,
    DoCertificateExpired,
    DoCheckClock,
    DoReadFailed,
    // Reader and card details.
    CardEmpty,
    CardReading,
    CardMute,
    CardUnsupported,
    CardFailed,
    CardReady,
    CardProblem,
    Holder,
    NationalNumber,
    CardType,
    Pkcs11Module,
    AuthCertificate,
    SignCertificate,
    ValidUntil,
    ExpiresInDays,
    ExpiredOn,
    NotValidBefore,
    NotRead,
    AuthPin,
    SignPin,
    TriesLeft,
    LastTry,
    PinCountLow,
    PinTriesNotTold,
    PinBlocked,
    WarnExpiresSoon,
    WarnTriesLeft,
    Refresh,
    Atr,
    NoTray,
    // History.
    HistoryEmpty,
    AllSites,
    ForgetSite,
    ForgetAll,
    ForgetConfirm,
    Yes,
    No,
    Forgotten,
    ColTime,
    ColSite,
    ColAction,
    ColHolder,
    ColResult,
    ActAuthenticate,
    ActTlsLogin,
    ActSigningCertificate,
    ActSign,
    ResultOk,
    HistoryUnreadable,
    // Settings.
    Language,
    SystemLanguage,
    Logging,
    LoggingHelp,
    OpenLogFolder,
    Developer,
    AllowHttpLocalhost,
    AllowHttpLocalhostHelp,
    StartAtLogin,
    Saved,
    SaveFailed,
    SettingsFile,
}

impl Text {
    /// The text in `lang`.
    pub fn get(self, lang: Language) -> &'static str {
        let [fr, nl, de, en] = self.row();
        match lang {
            Language::Fr => fr,
            Language::Nl => nl,
            Language::De => de,
            Language::En => en,
        }
    }

    fn row(self) -> [&'static str; 4] {
        use Text::*;
        match self {
            AppName => ["eidlink", "eidlink", "eidlink", "eidlink"],
            PageStatus => ["État", "Status", "Status", "Status"],
            PageHistory => ["Historique", "Geschiedenis", "Verlauf", "History"],
            PageSettings => ["Réglages", "Instellingen", "Einstellungen", "Settings"],
            MenuOpen => ["Ouvrir eidlink", "eidlink openen", "eidlink öffnen", "Open eidlink"],
            MenuQuit => ["Quitter", "Afsluiten", "Beenden", "Quit"],
            Starting => ["Démarrage…", "Opstarten…", "Wird gestartet…", "Starting…"],
            NoService => [
                "Le service des cartes à puce ne fonctionne pas",
                "De chipkaartdienst draait niet",
                "Der Chipkartendienst läuft nicht",
                "The smart-card service is not running",
            ],
            NoReader => [
                "Aucun lecteur de cartes",
                "Geen kaartlezer",
                "Kein Kartenleser",
                "No card reader",
            ],
            NoCard => ["Aucune carte", "Geen kaart", "Keine Karte", "No card"],
            Reading => [
                "Lecture de la carte…",
                "De kaart wordt gelezen…",
                "Die Karte wird gelesen…",
                "Reading the card…",
            ],
            Ready => [
                "Prêt : votre carte peut être utilisée",
                "Klaar: uw kaart kan gebruikt worden",
                "Bereit: Ihre Karte kann verwendet werden",
                "Ready: your card can be used",
            ],
            Problem => [
                "Votre carte ne peut pas être utilisée",
                "Uw kaart kan niet gebruikt worden",
                "Ihre Karte kann nicht verwendet werden",
                "Your card cannot be used",
            ],
            // Windows stops its Smart Card service when no reader is plugged in and starts it
            // when one is: there, no service mostly means no reader.
            DoStartService if cfg!(windows) => [
                "Branchez votre lecteur de cartes : Windows démarre alors le service des cartes à puce.",
                "Sluit uw kaartlezer aan: Windows start dan de chipkaartdienst.",
                "Schließen Sie Ihren Kartenleser an: Windows startet dann den Chipkartendienst.",
                "Connect your card reader: Windows then starts the smart-card service.",
            ],
            DoStartService => [
                "Démarrez le service des cartes à puce (pcscd).",
                "Start de chipkaartdienst (pcscd).",
                "Starten Sie den Chipkartendienst (pcscd).",
                "Start the smart-card service (pcscd).",
            ],
            DoConnectReader => [
                "Branchez un lecteur de cartes.",
                "Sluit een kaartlezer aan.",
                "Schließen Sie einen Kartenleser an.",
                "Connect a card reader.",
            ],
            DoInsertCard => [
                "Insérez votre carte d'identité.",
                "Steek uw identiteitskaart in de lezer.",
                "Stecken Sie Ihren Personalausweis ein.",
                "Insert your identity card.",
            ],
            DoReinsertCard => [
                "Votre carte ne répond pas : retirez-la et insérez-la à nouveau, puce vers le haut.",
                "Uw kaart antwoordt niet: neem ze uit en steek ze opnieuw in, met de chip naar boven.",
                "Ihre Karte antwortet nicht: ziehen Sie sie heraus und stecken Sie sie erneut ein, Chip nach oben.",
                "Your card does not respond: take it out and insert it again, chip facing up.",
            ],
            DoUnsupportedCard => [
                "Cette carte n'est pas prise en charge : utilisez votre carte d'identité électronique.",
                "Deze kaart wordt niet ondersteund: gebruik uw elektronische identiteitskaart.",
                "Diese Karte wird nicht unterstützt: verwenden Sie Ihren elektronischen Ausweis.",
                "This card is not supported: use your electronic identity card.",
            ],
            DoCloseOtherApplication => [
                "Une autre application utilise la carte : fermez-la.",
                "Een andere toepassing gebruikt de kaart: sluit ze.",
                "Eine andere Anwendung verwendet die Karte: schließen Sie sie.",
                "Another application is using the card: close it.",
            ],
            DoAuthPinBlocked => [
                "Votre code PIN est bloqué : débloquez-le avec votre code PUK, ou à votre commune.",
                "Uw pincode is geblokkeerd: deblokkeer hem met uw PUK-code, of bij uw gemeente.",
                "Ihre PIN ist gesperrt: entsperren Sie sie mit Ihrer PUK oder bei Ihrer Gemeinde.",
                "Your PIN is blocked: unblock it with your PUK code, or at your municipality.",
            ],
            DoSignPinBlocked => [
                "Votre code PIN de signature est bloqué : débloquez-le avec votre code PUK, ou à votre commune.",
                "Uw handtekeningpincode is geblokkeerd: deblokkeer hem met uw PUK-code, of bij uw gemeente.",
                "Ihre Signatur-PIN ist gesperrt: entsperren Sie sie mit Ihrer PUK oder bei Ihrer Gemeinde.",
                "Your signing PIN is blocked: unblock it with your PUK code, or at your municipality.",
            ],
            DoCertificateExpired => [
                "Les certificats de votre carte ont expiré : faites renouveler votre carte à votre commune.",
                "De certificaten van uw kaart zijn vervallen: vernieuw uw kaart bij uw gemeente.",
                "Die Zertifikate Ihrer Karte sind abgelaufen: erneuern Sie Ihre Karte bei Ihrer Gemeinde.",
                "Your card's certificates have expired: renew your card at your municipality.",
            ],
            DoCheckClock => [
                "Votre carte n'est pas encore valide : vérifiez la date et l'heure de l'ordinateur.",
                "Uw kaart is nog niet geldig: controleer de datum en tijd van de computer.",
                "Ihre Karte ist noch nicht gültig: prüfen Sie Datum und Uhrzeit des Computers.",
                "Your card is not valid yet: check the computer's date and time.",
            ],
            DoReadFailed => [
                "La carte n'a pas pu être lue : {why}",
                "De kaart kon niet gelezen worden: {why}",
                "Die Karte konnte nicht gelesen werden: {why}",
                "The card could not be read: {why}",
            ],
            CardEmpty => ["Vide", "Leeg", "Leer", "Empty"],
            CardReading => ["Lecture…", "Lezen…", "Lesen…", "Reading…"],
            CardMute => [
                "Carte muette",
                "Kaart antwoordt niet",
                "Karte antwortet nicht",
                "Card does not respond",
            ],
            CardUnsupported => [
                "Carte non prise en charge",
                "Niet-ondersteunde kaart",
                "Nicht unterstützte Karte",
                "Unsupported card",
            ],
            CardFailed => ["Carte illisible", "Kaart onleesbaar", "Karte unlesbar", "Card unreadable"],
            CardReady => ["Prête", "Klaar", "Bereit", "Ready"],
            CardProblem => ["À régler", "Actie nodig", "Handlung nötig", "Needs action"],
            Holder => ["Titulaire", "Houder", "Inhaber", "Holder"],
            NationalNumber => [
                "Numéro national",
                "Rijksregisternummer",
                "Nationalregisternummer",
                "National number",
            ],
            CardType => ["Carte", "Kaart", "Karte", "Card"],
            Pkcs11Module => ["Module PKCS#11", "PKCS#11-module", "PKCS#11-Modul", "PKCS#11 module"],
            AuthCertificate => [
                "Certificat d'authentification",
                "Authenticatiecertificaat",
                "Authentifizierungszertifikat",
                "Authentication certificate",
            ],
            SignCertificate => [
                "Certificat de signature",
                "Handtekeningcertificaat",
                "Signaturzertifikat",
                "Signing certificate",
            ],
            ValidUntil => [
                "valide jusqu'au {date}",
                "geldig tot {date}",
                "gültig bis {date}",
                "valid until {date}",
            ],
            ExpiresInDays => [
                "expire le {date} (dans {days} jours)",
                "vervalt op {date} (over {days} dagen)",
                "läuft am {date} ab (in {days} Tagen)",
                "expires on {date} (in {days} days)",
            ],
            ExpiredOn => [
                "expiré le {date}",
                "vervallen op {date}",
                "abgelaufen am {date}",
                "expired on {date}",
            ],
            NotValidBefore => [
                "pas valide avant le {date}",
                "niet geldig vóór {date}",
                "nicht gültig vor {date}",
                "not valid before {date}",
            ],
            NotRead => ["non lu", "niet gelezen", "nicht gelesen", "not read"],
            AuthPin => ["Code PIN", "Pincode", "PIN", "PIN"],
            SignPin => [
                "Code PIN de signature",
                "Handtekeningpincode",
                "Signatur-PIN",
                "Signing PIN",
            ],
            TriesLeft => [
                "{left} essais restants sur {max}",
                "nog {left} van {max} pogingen",
                "noch {left} von {max} Versuchen",
                "{left} of {max} tries left",
            ],
            LastTry => [
                "dernier essai",
                "laatste poging",
                "letzter Versuch",
                "last try",
            ],
            PinCountLow => [
                "un code erroné a été saisi (le jeton ne dit pas combien d'essais restent)",
                "er is een foute code ingevoerd (het token zegt niet hoeveel pogingen er over zijn)",
                "eine falsche PIN wurde eingegeben (das Token sagt nicht, wie viele Versuche bleiben)",
                "a wrong PIN was entered (the token does not tell how many tries are left)",
            ],
            PinTriesNotTold => [
                "le jeton ne dit pas combien d'essais restent",
                "het token zegt niet hoeveel pogingen er over zijn",
                "das Token sagt nicht, wie viele Versuche bleiben",
                "the token does not tell how many tries are left",
            ],
            PinBlocked => ["bloqué", "geblokkeerd", "gesperrt", "blocked"],
            WarnExpiresSoon => [
                "{what} expire dans {days} jours : pensez à renouveler votre carte.",
                "{what} vervalt over {days} dagen: denk eraan uw kaart te vernieuwen.",
                "{what} läuft in {days} Tagen ab: denken Sie an die Erneuerung Ihrer Karte.",
                "{what} expires in {days} days: plan to renew your card.",
            ],
            WarnTriesLeft => [
                "{what} : plus que {left} essais. Une erreur de plus compte.",
                "{what}: nog {left} pogingen. Elke fout telt.",
                "{what}: nur noch {left} Versuche. Jeder Fehler zählt.",
                "{what}: {left} tries left. Every mistake counts.",
            ],
            Refresh => ["Relire la carte", "Kaart opnieuw lezen", "Karte neu lesen", "Read the card again"],
            Atr => ["ATR", "ATR", "ATR", "ATR"],
            NoTray => [
                "Pas de zone de notification : eidlink fonctionne dans cette fenêtre.",
                "Geen systeemvak: eidlink werkt in dit venster.",
                "Kein Infobereich: eidlink läuft in diesem Fenster.",
                "No system tray: eidlink runs in this window.",
            ],
            HistoryEmpty => [
                "Aucune demande pour l'instant.",
                "Nog geen aanvragen.",
                "Noch keine Anfragen.",
                "No requests yet.",
            ],
            AllSites => ["Tous les sites", "Alle sites", "Alle Websites", "All sites"],
            ForgetSite => [
                "Oublier ce site",
                "Deze site vergeten",
                "Diese Website vergessen",
                "Forget this site",
            ],
            ForgetAll => ["Tout oublier", "Alles vergeten", "Alles vergessen", "Forget everything"],
            ForgetConfirm => [
                "Effacer {n} entrées de l'historique ?",
                "{n} items uit de geschiedenis wissen?",
                "{n} Einträge aus dem Verlauf löschen?",
                "Erase {n} history entries?",
            ],
            Yes => ["Effacer", "Wissen", "Löschen", "Erase"],
            No => ["Annuler", "Annuleren", "Abbrechen", "Cancel"],
            Forgotten => [
                "{n} entrées effacées.",
                "{n} items gewist.",
                "{n} Einträge gelöscht.",
                "{n} entries erased.",
            ],
            ColTime => ["Date", "Datum", "Zeit", "Time"],
            ColSite => ["Site", "Site", "Website", "Site"],
            ColAction => ["Demande", "Aanvraag", "Anfrage", "Request"],
            ColHolder => ["Titulaire", "Houder", "Inhaber", "Holder"],
            ColResult => ["Résultat", "Resultaat", "Ergebnis", "Result"],
            ActAuthenticate => ["Connexion", "Aanmelding", "Anmeldung", "Log in"],
            ActTlsLogin => [
                "Connexion par certificat",
                "Aanmelding met certificaat",
                "Anmeldung mit Zertifikat",
                "Log in with a certificate",
            ],
            ActSigningCertificate => [
                "Certificat de signature",
                "Handtekeningcertificaat",
                "Signaturzertifikat",
                "Signing certificate",
            ],
            ActSign => ["Signature", "Handtekening", "Signatur", "Signature"],
            ResultOk => ["Réussi", "Gelukt", "Erfolgreich", "Done"],
            HistoryUnreadable => [
                "L'historique n'a pas pu être lu : {why}",
                "De geschiedenis kon niet gelezen worden: {why}",
                "Der Verlauf konnte nicht gelesen werden: {why}",
                "The history could not be read: {why}",
            ],
            Language => ["Langue", "Taal", "Sprache", "Language"],
            SystemLanguage => [
                "Langue du système",
                "Systeemtaal",
                "Systemsprache",
                "System language",
            ],
            Logging => [
                "Journal de diagnostic",
                "Diagnoselogboek",
                "Diagnoseprotokoll",
                "Diagnostic log",
            ],
            LoggingHelp => [
                "Note chaque demande (site, action, résultat ; jamais le code PIN) dans un fichier local, pour le support.",
                "Noteert elke aanvraag (site, actie, resultaat; nooit de pincode) in een lokaal bestand, voor ondersteuning.",
                "Schreibt jede Anfrage (Website, Aktion, Ergebnis; nie die PIN) in eine lokale Datei, für den Support.",
                "Writes each request (site, action, result; never the PIN) to a local file, for support.",
            ],
            OpenLogFolder => [
                "Ouvrir le dossier du journal",
                "Logboekmap openen",
                "Protokollordner öffnen",
                "Open the log folder",
            ],
            Developer => ["Développeurs", "Ontwikkelaars", "Entwickler", "Developers"],
            AllowHttpLocalhost => [
                "Autoriser http://localhost",
                "http://localhost toestaan",
                "http://localhost erlauben",
                "Allow http://localhost",
            ],
            AllowHttpLocalhostHelp => [
                "Pour tester un site sur cet ordinateur sans HTTPS. Laissez désactivé sinon.",
                "Om een site op deze computer zonder HTTPS te testen. Laat anders uitgeschakeld.",
                "Zum Testen einer Website auf diesem Computer ohne HTTPS. Sonst ausgeschaltet lassen.",
                "To test a site on this computer without HTTPS. Leave it off otherwise.",
            ],
            StartAtLogin => [
                "Démarrer à l'ouverture de session",
                "Starten bij aanmelden",
                "Bei der Anmeldung starten",
                "Start at login",
            ],
            Saved => ["Enregistré.", "Opgeslagen.", "Gespeichert.", "Saved."],
            SaveFailed => [
                "Non enregistré : {why}",
                "Niet opgeslagen: {why}",
                "Nicht gespeichert: {why}",
                "Not saved: {why}",
            ],
            SettingsFile => [
                "Fichier des réglages : {path}",
                "Instellingenbestand: {path}",
                "Einstellungsdatei: {path}",
                "Settings file: {path}",
            ],
        }
    }
}

/// Replaces each `{name}` of `template` by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The headline of an overall state.
pub fn headline(overall: &Overall) -> Text {
    match overall {
        Overall::Starting => Text::Starting,
        Overall::NoService => Text::NoService,
        Overall::NoReader => Text::NoReader,
        Overall::NoCard => Text::NoCard,
        Overall::Reading => Text::Reading,
        Overall::Ready => Text::Ready,
        Overall::Problem(_) => Text::Problem,
    }
}

/// The one thing to do, as a sentence in `lang`.
pub fn action(action: &Action, lang: Language) -> String {
    let text = match action {
        Action::StartService => Text::DoStartService,
        Action::ConnectReader => Text::DoConnectReader,
        Action::InsertCard => Text::DoInsertCard,
        Action::ReinsertCard => Text::DoReinsertCard,
        Action::UnsupportedCard => Text::DoUnsupportedCard,
        Action::CloseOtherApplication => Text::DoCloseOtherApplication,
        Action::PinBlocked(Role::Authentication) => Text::DoAuthPinBlocked,
        Action::PinBlocked(Role::Signing) => Text::DoSignPinBlocked,
        Action::CertificateExpired(_) => Text::DoCertificateExpired,
        Action::CheckClock => Text::DoCheckClock,
        Action::ReadFailed(why) => return fill(Text::DoReadFailed.get(lang), &[("why", why)]),
    };
    text.get(lang).to_owned()
}

/// A warning as a sentence in `lang`.
pub fn warning(warning: &Warning, lang: Language) -> String {
    match warning {
        Warning::ExpiresSoon { role, days } => {
            let what = match role {
                Role::Authentication => Text::AuthCertificate,
                Role::Signing => Text::SignCertificate,
            };
            fill(
                Text::WarnExpiresSoon.get(lang),
                &[("what", what.get(lang)), ("days", &days.to_string())],
            )
        }
        Warning::PinTriesLeft { role, left } => {
            let what = match role {
                Role::Authentication => Text::AuthPin,
                Role::Signing => Text::SignPin,
            };
            fill(
                Text::WarnTriesLeft.get(lang),
                &[("what", what.get(lang)), ("left", &left.to_string())],
            )
        }
    }
}

/// The history's action names.
pub fn history_action(action: &str, lang: Language) -> String {
    match action {
        "authenticate" => Text::ActAuthenticate.get(lang).to_owned(),
        eidlink_settings::history::TLS_LOGIN => Text::ActTlsLogin.get(lang).to_owned(),
        "get-signing-certificate" => Text::ActSigningCertificate.get(lang).to_owned(),
        "sign" => Text::ActSign.get(lang).to_owned(),
        other => other.to_owned(),
    }
}

/// The history's results: `ok` translated, error reasons as the host wrote them (support wants
/// the exact code).
pub fn history_result(result: &str, lang: Language) -> String {
    if result == "ok" {
        Text::ResultOk.get(lang).to_owned()
    } else {
        result.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_their_slots_in_every_language() {
        for text in [
            Text::ValidUntil,
            Text::ExpiresInDays,
            Text::TriesLeft,
            Text::WarnExpiresSoon,
            Text::WarnTriesLeft,
            Text::ForgetConfirm,
            Text::DoReadFailed,
        ] {
            let slots = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                    .collect();
                v.sort();
                v
            };
            let en = slots(text.get(Language::En));
            assert!(!en.is_empty(), "{text:?} has no slot");
            for lang in Language::ALL {
                assert_eq!(slots(text.get(lang)), en, "{text:?} in {lang:?}");
            }
        }
    }

    #[test]
    fn actions_are_translated() {
        let a = Action::PinBlocked(Role::Signing);
        assert!(action(&a, Language::Fr).contains("bloqué"));
        assert!(action(&a, Language::Nl).contains("geblokkeerd"));
        assert!(action(&Action::ReadFailed("x1".into()), Language::De).ends_with("x1"));
        assert_eq!(history_result("ok", Language::Nl), "Gelukt");
        assert_eq!(history_result("PIN_BLOCKED", Language::Nl), "PIN_BLOCKED");
        assert_eq!(
            history_action(eidlink_settings::history::TLS_LOGIN, Language::Fr),
            "Connexion par certificat"
        );
        assert_eq!(history_action("future-action", Language::De), "future-action");
    }
}
