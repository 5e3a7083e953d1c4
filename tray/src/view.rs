//! Draws the tray app's window from a [`Screen`] and turns clicks into [`UiAction`]s.
//!
//! Everything shown comes from the screen value, so the same function runs in the real window and
//! in egui_kittest; what a click means (read a card, rewrite the journal, save the settings) is the
//! caller's business.

use eframe::egui::{self, Color32, CornerRadius, Frame, Margin, RichText, Stroke, Ui};
use eidlink_lang::Language;
use eidlink_settings::config::UiSettings;
use eidlink_settings::history::{self, Entry, Forget};

use crate::i18n::{self, fill, Text};
use crate::state::{AppState, CardSlot, CertStatus, CertValidity, Overall, ReaderState, ReaderStatus, UnixTime};

/// Default window size in points.
pub const SIZE: [f32; 2] = [560.0, 600.0];

/// The window's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    /// Readers and cards.
    #[default]
    Status,
    /// The host's journal.
    History,
    /// Settings.
    Settings,
}

/// Whether the tray icon is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayMode {
    /// The icon is in the tray; closing the window hides it.
    Icon,
    /// No tray (no status-notifier host, no session bus, or `--no-tray`); the window is the app.
    WindowOnly,
}

/// The settings page's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsScreen {
    /// What the config file says.
    pub ui: UiSettings,
    /// Whether the tray starts at login.
    pub autostart: bool,
    /// The config file (shown so support can find it).
    pub config_file: String,
    /// The outcome of the last save: `Ok` or the error text.
    pub saved: Option<Result<(), String>>,
}

/// What the window shows.
#[derive(Debug, Clone)]
pub struct Screen {
    /// Readers and cards.
    pub state: AppState,
    /// The window's language.
    pub lang: Language,
    /// The page shown.
    pub page: Page,
    /// The tray icon's presence.
    pub tray: TrayMode,
    /// The journal, newest first, or why it could not be read.
    pub history: Result<Vec<Entry>, String>,
    /// The history's site filter (`None`: every site).
    pub site_filter: Option<String>,
    /// A "forget" waiting for confirmation.
    pub confirm_forget: Option<Forget>,
    /// The outcome of the last "forget" (entries removed, or the error).
    pub forgotten: Option<Result<usize, String>>,
    /// The settings page.
    pub settings: SettingsScreen,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiAction {
    /// Read the card in this reader again.
    Refresh(String),
    /// Remove history entries (confirmed).
    Forget(Forget),
    /// Write these settings.
    SaveSettings(UiSettings),
    /// Turn start-at-login on or off.
    SetAutostart(bool),
    /// Open the log folder in the file manager.
    OpenLogFolder,
}

const MARGIN: i8 = 16;

/// Colours of the states (icon and headline share them).
pub fn overall_color(overall: &Overall) -> Color32 {
    match overall {
        Overall::Ready => Color32::from_rgb(0x2e, 0x7d, 0x32),
        Overall::Reading | Overall::Starting => Color32::from_rgb(0x15, 0x65, 0xc0),
        Overall::NoCard | Overall::NoReader => Color32::from_rgb(0x75, 0x75, 0x75),
        Overall::NoService | Overall::Problem(_) => Color32::from_rgb(0xc6, 0x28, 0x28),
    }
}

/// Draws the window; returns what the user asked for.
pub fn show(ui: &mut Ui, screen: &mut Screen, now: UnixTime) -> Vec<UiAction> {
    let mut actions = Vec::new();
    let lang = screen.lang;
    Frame::central_panel(ui.style())
        .inner_margin(Margin::same(MARGIN))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for (page, text) in [
                    (Page::Status, Text::PageStatus),
                    (Page::History, Text::PageHistory),
                    (Page::Settings, Text::PageSettings),
                ] {
                    let label = RichText::new(text.get(lang)).size(15.0);
                    if ui.selectable_label(screen.page == page, label).clicked() {
                        screen.page = page;
                    }
                }
            });
            ui.separator();
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| match screen.page {
                    Page::Status => status_page(ui, screen, now, &mut actions),
                    Page::History => history_page(ui, screen, &mut actions),
                    Page::Settings => settings_page(ui, screen, &mut actions),
                });
        });
    actions
}

fn status_page(ui: &mut Ui, screen: &Screen, now: UnixTime, actions: &mut Vec<UiAction>) {
    let lang = screen.lang;
    let overall = screen.state.overall(now);
    let color = overall_color(&overall);
    Frame::new()
        .fill(color.gamma_multiply(0.12))
        .stroke(Stroke::new(1.0, color))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(12, 10))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                RichText::new(i18n::headline(&overall).get(lang))
                    .size(20.0)
                    .strong()
                    .color(color),
            );
            if let Some(action) = overall.action() {
                ui.label(RichText::new(i18n::action(&action, lang)).size(15.0));
            }
        });
    for (_, warning) in screen.state.warnings(now) {
        ui.add_space(4.0);
        ui.label(RichText::new(i18n::warning(&warning, lang)).color(ui.visuals().warn_fg_color));
    }
    for reader in &screen.state.readers {
        ui.add_space(8.0);
        reader_card(ui, lang, reader, now, actions);
    }
    if screen.tray == TrayMode::WindowOnly {
        ui.add_space(12.0);
        ui.label(RichText::new(Text::NoTray.get(lang)).size(12.0).weak());
    }
}

fn reader_card(ui: &mut Ui, lang: Language, reader: &ReaderState, now: UnixTime, actions: &mut Vec<UiAction>) {
    Frame::group(ui.style()).inner_margin(Margin::same(10)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let status = reader.status(now);
        let (text, color) = match (&reader.card, &status) {
            (CardSlot::Empty, _) => (Text::CardEmpty, ui.visuals().weak_text_color()),
            (CardSlot::Reading { .. }, _) => (Text::CardReading, ui.visuals().text_color()),
            (CardSlot::Mute, _) => (Text::CardMute, ui.visuals().error_fg_color),
            (CardSlot::Unsupported { .. }, _) => (Text::CardUnsupported, ui.visuals().error_fg_color),
            (CardSlot::Failed { .. }, _) => (Text::CardFailed, ui.visuals().error_fg_color),
            (CardSlot::Read { .. }, ReaderStatus::Ready) => (Text::CardReady, overall_color(&Overall::Ready)),
            (CardSlot::Read { .. }, _) => (Text::CardProblem, ui.visuals().error_fg_color),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(&reader.name).strong());
            ui.label(RichText::new(text.get(lang)).color(color));
        });
        if let ReaderStatus::Problem(action) = &status {
            ui.label(i18n::action(action, lang));
        }
        match &reader.card {
            CardSlot::Read { summary, .. } => {
                egui::Grid::new(("card", &reader.name))
                    .num_columns(2)
                    .spacing([16.0, 4.0])
                    .show(ui, |ui| {
                        let card = match &summary.applet {
                            Some(applet) if !summary.card_name.contains(applet.as_str()) => {
                                format!("{} — {applet}", summary.card_name)
                            }
                            _ => summary.card_name.clone(),
                        };
                        row(ui, Text::CardType.get(lang), &card);
                        if let Some(module) = &summary.module {
                            row(ui, Text::Pkcs11Module.get(lang), module);
                        }
                        if let Some(holder) = &summary.holder {
                            row(ui, Text::Holder.get(lang), holder);
                        }
                        if let Some(nn) = &summary.national_number {
                            row(ui, Text::NationalNumber.get(lang), nn);
                        }
                        row(
                            ui,
                            Text::AuthCertificate.get(lang),
                            &validity_text(summary.authentication.as_ref(), lang, now),
                        );
                        if summary.signing.is_some() || summary.sign_pin.is_some() {
                            row(
                                ui,
                                Text::SignCertificate.get(lang),
                                &validity_text(summary.signing.as_ref(), lang, now),
                            );
                        }
                        if let Some(pin) = &summary.auth_pin {
                            row(ui, Text::AuthPin.get(lang), &tries_text(pin, lang));
                        }
                        if let Some(pin) = &summary.sign_pin {
                            row(ui, Text::SignPin.get(lang), &tries_text(pin, lang));
                        }
                    });
            }
            CardSlot::Unsupported { atr } | CardSlot::Failed { atr, .. } => {
                ui.label(
                    RichText::new(format!("{} {atr}", Text::Atr.get(lang)))
                        .size(12.0)
                        .weak(),
                );
            }
            _ => {}
        }
        if matches!(
            reader.card,
            CardSlot::Read { .. } | CardSlot::Failed { .. } | CardSlot::Unsupported { .. }
        ) && ui.button(Text::Refresh.get(lang)).clicked()
        {
            actions.push(UiAction::Refresh(reader.name.clone()));
        }
    });
}

fn row(ui: &mut Ui, name: &str, value: &str) {
    ui.label(RichText::new(name).weak());
    ui.label(value);
    ui.end_row();
}

/// A date as `YYYY-MM-DD` (UTC: certificate validity is given in UTC).
pub fn date(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// A journal time in the local time zone, to the minute.
pub fn local_time(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.to_string())
}

fn validity_text(v: Option<&CertValidity>, lang: Language, now: UnixTime) -> String {
    let Some(v) = v else {
        return Text::NotRead.get(lang).to_owned();
    };
    match v.status(now) {
        CertStatus::Valid => fill(Text::ValidUntil.get(lang), &[("date", &date(v.not_after))]),
        CertStatus::ExpiresSoon { days } => fill(
            Text::ExpiresInDays.get(lang),
            &[("date", &date(v.not_after)), ("days", &days.to_string())],
        ),
        CertStatus::Expired => fill(Text::ExpiredOn.get(lang), &[("date", &date(v.not_after))]),
        CertStatus::NotYetValid => fill(Text::NotValidBefore.get(lang), &[("date", &date(v.not_before))]),
    }
}

/// What is known of the tries, and no more: a PKCS#11 token tells only "last try", "blocked" and
/// "a wrong PIN was entered".
fn tries_text(pin: &eidlink_core::PinInfo, lang: Language) -> String {
    match (pin.tries_left, pin.max_tries) {
        (Some(0), _) => Text::PinBlocked.get(lang).to_owned(),
        (Some(left), Some(max)) => fill(
            Text::TriesLeft.get(lang),
            &[("left", &left.to_string()), ("max", &max.to_string())],
        ),
        (Some(1), None) => Text::LastTry.get(lang).to_owned(),
        (Some(left), None) => left.to_string(),
        (None, _) if pin.low => Text::PinCountLow.get(lang).to_owned(),
        (None, _) => Text::PinTriesNotTold.get(lang).to_owned(),
    }
}

fn history_page(ui: &mut Ui, screen: &mut Screen, actions: &mut Vec<UiAction>) {
    let lang = screen.lang;
    let entries = match &screen.history {
        Ok(entries) => entries,
        Err(why) => {
            ui.label(
                RichText::new(fill(Text::HistoryUnreadable.get(lang), &[("why", why)]))
                    .color(ui.visuals().error_fg_color),
            );
            return;
        }
    };
    if entries.is_empty() {
        ui.label(Text::HistoryEmpty.get(lang));
        if let Some(Ok(n)) = screen.forgotten {
            ui.label(RichText::new(fill(Text::Forgotten.get(lang), &[("n", &n.to_string())])).weak());
        }
        return;
    }
    let sites = history::sites(entries);
    if screen.site_filter.as_ref().is_some_and(|s| !sites.contains(s)) {
        screen.site_filter = None;
    }
    ui.horizontal(|ui| {
        let shown = screen
            .site_filter
            .clone()
            .unwrap_or_else(|| Text::AllSites.get(lang).to_owned());
        egui::ComboBox::from_label(Text::ColSite.get(lang))
            .selected_text(shown)
            .width(260.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut screen.site_filter, None, Text::AllSites.get(lang));
                for site in &sites {
                    ui.selectable_value(&mut screen.site_filter, Some(site.clone()), site);
                }
            });
        let (text, what) = match &screen.site_filter {
            Some(site) => (Text::ForgetSite, Forget::Site(site.clone())),
            None => (Text::ForgetAll, Forget::All),
        };
        if ui.button(text.get(lang)).clicked() {
            screen.confirm_forget = Some(what);
        }
    });
    let shown: Vec<&Entry> = entries
        .iter()
        .filter(|e| screen.site_filter.as_ref().is_none_or(|s| &e.origin == s))
        .collect();
    if let Some(what) = screen.confirm_forget.clone() {
        let n = match &what {
            Forget::All => entries.len(),
            Forget::Site(site) => entries.iter().filter(|e| &e.origin == site).count(),
        };
        Frame::new()
            .fill(ui.visuals().faint_bg_color)
            .inner_margin(Margin::same(8))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(fill(Text::ForgetConfirm.get(lang), &[("n", &n.to_string())]));
                    if ui.button(Text::Yes.get(lang)).clicked() {
                        actions.push(UiAction::Forget(what.clone()));
                        screen.confirm_forget = None;
                    }
                    if ui.button(Text::No.get(lang)).clicked() {
                        screen.confirm_forget = None;
                    }
                });
            });
    }
    if let Some(Err(why)) = &screen.forgotten {
        ui.label(RichText::new(why).color(ui.visuals().error_fg_color));
    }
    ui.add_space(6.0);
    egui::Grid::new("history")
        .num_columns(5)
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for col in [
                Text::ColTime,
                Text::ColSite,
                Text::ColAction,
                Text::ColHolder,
                Text::ColResult,
            ] {
                ui.label(RichText::new(col.get(lang)).strong());
            }
            ui.end_row();
            for e in shown {
                ui.label(local_time(e.time));
                ui.label(host_of(&e.origin));
                ui.label(i18n::history_action(&e.action, lang));
                ui.label(e.holder.as_deref().unwrap_or("—"));
                let result = i18n::history_result(&e.result, lang);
                if e.result == "ok" {
                    ui.label(result);
                } else {
                    ui.label(RichText::new(result).color(ui.visuals().error_fg_color));
                }
                ui.end_row();
            }
        });
}

/// What a citizen recognizes of an origin: its host, with the port when there is one.
fn host_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, rest)| rest)
}

fn settings_page(ui: &mut Ui, screen: &mut Screen, actions: &mut Vec<UiAction>) {
    let lang = screen.lang;
    let s = &mut screen.settings;
    let before = s.ui;
    ui.spacing_mut().item_spacing.y = 8.0;
    ui.horizontal(|ui| {
        let name = |l: Option<Language>| l.map_or(Text::SystemLanguage.get(lang), Language::native_name);
        egui::ComboBox::from_label(Text::Language.get(lang))
            .selected_text(name(s.ui.language))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.ui.language, None, name(None));
                for l in Language::ALL {
                    ui.selectable_value(&mut s.ui.language, Some(l), name(Some(l)));
                }
            });
    });
    let mut autostart = s.autostart;
    if ui.checkbox(&mut autostart, Text::StartAtLogin.get(lang)).changed() {
        actions.push(UiAction::SetAutostart(autostart));
    }
    ui.separator();
    ui.checkbox(&mut s.ui.logging, Text::Logging.get(lang));
    ui.label(RichText::new(Text::LoggingHelp.get(lang)).size(12.0).weak());
    if ui.button(Text::OpenLogFolder.get(lang)).clicked() {
        actions.push(UiAction::OpenLogFolder);
    }
    ui.separator();
    ui.label(RichText::new(Text::Developer.get(lang)).strong());
    ui.checkbox(&mut s.ui.allow_http_localhost, Text::AllowHttpLocalhost.get(lang));
    ui.label(RichText::new(Text::AllowHttpLocalhostHelp.get(lang)).size(12.0).weak());
    ui.separator();
    if s.ui != before {
        actions.push(UiAction::SaveSettings(s.ui));
    }
    match &s.saved {
        Some(Ok(())) => {
            ui.label(RichText::new(Text::Saved.get(lang)).weak());
        }
        Some(Err(why)) => {
            ui.label(
                RichText::new(fill(Text::SaveFailed.get(lang), &[("why", why)])).color(ui.visuals().error_fg_color),
            );
        }
        None => {}
    }
    ui.label(
        RichText::new(fill(Text::SettingsFile.get(lang), &[("path", &s.config_file)]))
            .size(12.0)
            .weak(),
    );
}
