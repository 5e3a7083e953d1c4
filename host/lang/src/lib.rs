//! The languages of eidlink's user interface (PIN dialog, tray app, host) and the one rule that
//! picks the language to show:
//!
//! 1. the site's `lang` (the Web eID request's), when it is one we speak;
//! 2. else the tray's setting (`language` in config.toml);
//! 3. else the system locale: `LANGUAGE` (a `:`-separated list, the first one we speak), then the
//!    first of `LC_ALL`, `LC_MESSAGES`, `LANG` that names a locale (empty, `C` and `POSIX` name
//!    none); on Windows then the user's default locale;
//! 4. else English.
//!
//! The environment is a parameter ([`Environment`]) so each step is tested without touching the
//! process's environment; [`Process`] is the real one.

use std::fmt;
use std::str::FromStr;

/// A language eidlink speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Français.
    Fr,
    /// Nederlands.
    Nl,
    /// Deutsch.
    De,
    /// English.
    En,
}

impl Language {
    /// Every language, in the order menus list them and translation tables are written.
    pub const ALL: [Language; 4] = [Self::Fr, Self::Nl, Self::De, Self::En];

    /// The ISO 639-1 code, as sent on the wire and stored in config.toml.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::Nl => "nl",
            Self::De => "de",
            Self::En => "en",
        }
    }

    /// The language's name in itself, for a language menu.
    pub const fn native_name(self) -> &'static str {
        match self {
            Self::Fr => "Français",
            Self::Nl => "Nederlands",
            Self::De => "Deutsch",
            Self::En => "English",
        }
    }

    /// Reads a BCP-47-ish tag or a POSIX locale name, case-insensitive: `fr`, `nl-BE`,
    /// `de_DE.UTF-8`, `en_GB@euro`. Only the primary language counts; `C`, `POSIX`, the empty
    /// string and languages we do not speak give `None`.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_', '.', '@']).next().unwrap_or_default();
        Self::ALL.into_iter().find(|l| primary.eq_ignore_ascii_case(l.code()))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A tag that names no language eidlink speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a language eidlink speaks: {0:?}")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownLanguage(s.to_owned()))
    }
}

/// Where the system locale is read from.
pub trait Environment {
    /// An environment variable, `None` when unset or not Unicode.
    fn var(&self, name: &str) -> Option<String>;

    /// The operating system's own user locale (Windows' user default locale name), when it has
    /// one besides the environment.
    fn user_locale(&self) -> Option<String> {
        None
    }
}

/// A lookup closure is an environment without an OS locale (what the tests use).
impl<F: Fn(&str) -> Option<String>> Environment for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The running process's environment, and on Windows the user's default locale.
#[derive(Debug, Clone, Copy, Default)]
pub struct Process;

impl Environment for Process {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    #[cfg(windows)]
    fn user_locale(&self) -> Option<String> {
        // GetUserDefaultLocaleName, e.g. "nl-BE".
        sys_locale::get_locale()
    }
}

/// The variables that name the messages locale, in POSIX order of precedence.
const LOCALE_VARS: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];

/// True when a locale value names a locale: not empty, not `C` or `POSIX` (with or without a
/// codeset, `C.UTF-8`), which mean "no language" rather than English.
fn names_a_locale(value: &str) -> bool {
    let base = value.trim().split(['.', '@']).next().unwrap_or_default();
    !base.is_empty() && base != "C" && base != "POSIX"
}

/// The system's language (step 3), if it is one we speak.
pub fn system_language(env: &impl Environment) -> Option<Language> {
    if let Some(list) = env.var("LANGUAGE") {
        // gettext's priority list: the first entry we speak wins, the others are skipped.
        if let Some(lang) = list.split(':').filter(|l| names_a_locale(l)).find_map(Language::parse) {
            return Some(lang);
        }
    }
    // The first variable that names a locale is the user's locale, even when we do not speak it
    // (then English, as for any untranslated program): a later variable is overridden by it.
    if let Some(locale) = LOCALE_VARS
        .iter()
        .filter_map(|v| env.var(v))
        .find(|v| names_a_locale(v))
    {
        return Language::parse(&locale);
    }
    env.user_locale().as_deref().and_then(Language::parse)
}

/// The language to show: the site's, else the tray's setting, else the system's, else English.
/// `site` and `setting` are raw tags; one we do not speak counts as absent.
pub fn resolve(site: Option<&str>, setting: Option<&str>, env: &impl Environment) -> Language {
    site.and_then(Language::parse)
        .or_else(|| setting.and_then(Language::parse))
        .or_else(|| system_language(env))
        .unwrap_or(Language::En)
}

/// [`resolve`] with the process's environment.
pub fn resolve_here(site: Option<&str>, setting: Option<&str>) -> Language {
    resolve(site, setting, &Process)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    /// An environment with an OS user locale, as on Windows.
    struct WithUserLocale<F>(F, Option<&'static str>);

    impl<F: Fn(&str) -> Option<String>> Environment for WithUserLocale<F> {
        fn var(&self, name: &str) -> Option<String> {
            (self.0)(name)
        }
        fn user_locale(&self) -> Option<String> {
            self.1.map(str::to_owned)
        }
    }

    #[test]
    fn tags_and_locales() {
        assert_eq!(Language::parse("fr"), Some(Language::Fr));
        assert_eq!(Language::parse("NL-be"), Some(Language::Nl));
        assert_eq!(Language::parse("nl-BE"), Some(Language::Nl));
        assert_eq!(Language::parse("nl_BE.UTF-8"), Some(Language::Nl));
        assert_eq!(Language::parse("fr_BE.UTF-8"), Some(Language::Fr));
        assert_eq!(Language::parse("fr-BE"), Some(Language::Fr));
        assert_eq!(Language::parse("DE"), Some(Language::De));
        assert_eq!(Language::parse("de_DE.UTF-8"), Some(Language::De));
        assert_eq!(Language::parse("en_GB"), Some(Language::En));
        assert_eq!(Language::parse("en_GB@euro"), Some(Language::En));
        assert_eq!(Language::parse(" en "), Some(Language::En));
        assert_eq!(Language::parse("es"), None);
        assert_eq!(Language::parse("es_ES"), None);
        assert_eq!(Language::parse(""), None);
        assert_eq!(Language::parse("C"), None);
        assert_eq!(Language::parse("C.UTF-8"), None);
        assert_eq!(Language::parse("english"), None);
        for lang in Language::ALL {
            assert_eq!(Language::parse(lang.code()), Some(lang));
            assert_eq!(lang.code().parse::<Language>(), Ok(lang));
            assert_eq!(lang.to_string(), lang.code());
        }
        assert_eq!("xx".parse::<Language>(), Err(UnknownLanguage("xx".into())));
    }

    #[test]
    fn step_1_the_site_wins() {
        let system = env(&[("LANG", "nl_BE.UTF-8")]);
        assert_eq!(resolve(Some("de"), Some("fr"), &system), Language::De);
        assert_eq!(resolve(Some("de-CH"), None, &env(&[])), Language::De);
    }

    #[test]
    fn step_2_the_tray_setting_when_the_site_gives_none_or_one_we_do_not_speak() {
        let system = env(&[("LANG", "nl_BE.UTF-8")]);
        assert_eq!(resolve(None, Some("fr"), &system), Language::Fr);
        assert_eq!(resolve(Some("xx"), Some("fr"), &system), Language::Fr);
        assert_eq!(resolve(Some(""), Some("de"), &system), Language::De);
    }

    #[test]
    fn step_3_the_system_locale() {
        let system = env(&[("LANG", "nl_BE.UTF-8")]);
        assert_eq!(resolve(None, None, &system), Language::Nl);
        // an unknown setting is not an error: the system language is used instead
        assert_eq!(resolve(Some("xx"), Some("es"), &system), Language::Nl);
    }

    #[test]
    fn step_4_english() {
        assert_eq!(resolve(None, None, &env(&[])), Language::En);
        assert_eq!(
            resolve(Some("xx"), Some("es"), &env(&[("LANG", "es_ES")])),
            Language::En
        );
        assert_eq!(resolve(None, None, &env(&[("LANG", "C")])), Language::En);
    }

    #[test]
    fn system_locale_precedence() {
        assert_eq!(system_language(&env(&[])), None);
        assert_eq!(system_language(&env(&[("LANG", "nl_BE.UTF-8")])), Some(Language::Nl));
        assert_eq!(
            system_language(&env(&[("LANG", "nl_BE.UTF-8"), ("LC_MESSAGES", "de_DE")])),
            Some(Language::De)
        );
        assert_eq!(
            system_language(&env(&[
                ("LANG", "nl_BE"),
                ("LC_MESSAGES", "de_DE"),
                ("LC_ALL", "fr_BE.UTF-8")
            ])),
            Some(Language::Fr)
        );
        // empty values are unset
        assert_eq!(
            system_language(&env(&[("LANG", "de_AT"), ("LC_ALL", "")])),
            Some(Language::De)
        );
        // LANGUAGE wins, first language we speak
        assert_eq!(
            system_language(&env(&[("LANG", "en_US"), ("LANGUAGE", "es:nl:fr")])),
            Some(Language::Nl)
        );
        // LANGUAGE with nothing we speak: the locale variables decide
        assert_eq!(
            system_language(&env(&[("LANG", "de_DE"), ("LANGUAGE", "es:it")])),
            Some(Language::De)
        );
        // C and POSIX name no language: skipped, for LANGUAGE too (the gui's old rule, like
        // gettext, ignored LANGUAGE under a C locale; the one rule skips C instead)
        assert_eq!(
            system_language(&env(&[("LANG", "C.UTF-8"), ("LANGUAGE", "fr")])),
            Some(Language::Fr)
        );
        assert_eq!(
            system_language(&env(&[("LC_ALL", "C"), ("LANG", "nl_BE.UTF-8")])),
            Some(Language::Nl)
        );
        assert_eq!(
            system_language(&env(&[
                ("LC_ALL", "POSIX"),
                ("LC_MESSAGES", "C.UTF-8"),
                ("LANG", "de_DE")
            ])),
            Some(Language::De)
        );
        assert_eq!(
            system_language(&env(&[("LANGUAGE", "C:POSIX"), ("LANG", "fr_FR")])),
            Some(Language::Fr)
        );
        // the first locale set is the user's, even one we do not speak
        assert_eq!(system_language(&env(&[("LANG", "es_ES.UTF-8")])), None);
        assert_eq!(
            system_language(&env(&[("LC_ALL", "es_ES.UTF-8"), ("LANG", "fr_FR")])),
            None
        );
        assert_eq!(system_language(&env(&[("LANG", "POSIX")])), None);
    }

    #[test]
    fn windows_user_locale_after_the_environment() {
        assert_eq!(
            system_language(&WithUserLocale(env(&[]), Some("nl-BE"))),
            Some(Language::Nl)
        );
        assert_eq!(
            resolve(None, None, &WithUserLocale(env(&[]), Some("de-DE"))),
            Language::De
        );
        // a locale variable set (e.g. by a POSIX shell on Windows) comes first
        assert_eq!(
            system_language(&WithUserLocale(env(&[("LANG", "fr_BE")]), Some("nl-BE"))),
            Some(Language::Fr)
        );
        assert_eq!(system_language(&WithUserLocale(env(&[]), Some("es-ES"))), None);
        assert_eq!(system_language(&WithUserLocale(env(&[]), None)), None);
    }
}
