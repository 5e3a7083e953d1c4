//! The icon in the system tray: its picture and tooltip follow the overall state, its menu opens
//! the window's pages or quits.
//!
//! On Linux the icon is a StatusNotifierItem on the session bus. Desktops without a
//! status-notifier host (plain X11 window managers, GNOME without the AppIndicator extension) would
//! accept the item and show nothing, so the host's presence is checked first and the app stays a
//! window when there is none.

use tray_icon::menu::{Menu, MenuEvent, MenuId, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, MouseButton, TrayIcon, TrayIconBuilder, TrayIconEvent};

use eidlink_lang::Language;

use crate::i18n::{self, Text};
use crate::icon;
use crate::state::Overall;
use crate::view::Page;

/// What the tray asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayCommand {
    /// Show the window (on a page).
    Open(Page),
    /// Quit the app.
    Quit,
}

/// Why there is no tray icon.
#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    /// No session bus or no status-notifier host on it.
    #[error("no system tray: {0}")]
    NoHost(String),
    /// The icon could not be created.
    #[error("the tray icon could not be created: {0}")]
    Icon(String),
}

// Fixed ids, so a menu rebuilt in another language keeps meaning the same thing to the handler.
const OPEN: &str = "open";
const HISTORY: &str = "history";
const SETTINGS: &str = "settings";
const QUIT: &str = "quit";

/// The tray icon.
pub struct SysTray {
    icon: TrayIcon,
    lang: Language,
}

fn build_menu(lang: Language) -> Result<Menu, TrayError> {
    let item = |id: &str, text: Text| MenuItem::with_id(MenuId::new(id), text.get(lang), true, None);
    let menu = Menu::new();
    menu.append_items(&[
        &item(OPEN, Text::MenuOpen),
        &item(HISTORY, Text::PageHistory),
        &item(SETTINGS, Text::PageSettings),
        &PredefinedMenuItem::separator(),
        &item(QUIT, Text::MenuQuit),
    ])
    .map_err(|e| TrayError::Icon(e.to_string()))?;
    Ok(menu)
}

fn picture(overall: &Overall) -> Result<Icon, TrayError> {
    Icon::from_rgba(icon::rgba(overall, icon::SIZE), icon::SIZE, icon::SIZE).map_err(|e| TrayError::Icon(e.to_string()))
}

/// The tooltip: the app's name and the state's headline, with the thing to do.
pub fn tooltip(overall: &Overall, lang: Language) -> String {
    let mut text = format!("eidlink — {}", i18n::headline(overall).get(lang));
    if let Some(action) = overall.action() {
        text.push('\n');
        text.push_str(&i18n::action(&action, lang));
    }
    text
}

/// Checks that a status-notifier host is there to show an icon.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
))]
pub fn check_host() -> Result<(), TrayError> {
    let no_host = |e: String| TrayError::NoHost(e);
    let conn = zbus::blocking::Connection::session().map_err(|e| no_host(format!("no session bus ({e})")))?;
    let proxy = zbus::blocking::Proxy::new(
        &conn,
        "org.kde.StatusNotifierWatcher",
        "/StatusNotifierWatcher",
        "org.kde.StatusNotifierWatcher",
    )
    .map_err(|e| no_host(e.to_string()))?;
    match proxy.get_property::<bool>("IsStatusNotifierHostRegistered") {
        Ok(true) => Ok(()),
        Ok(false) => Err(no_host("no status-notifier host is registered".into())),
        Err(e) => Err(no_host(format!("no status-notifier watcher ({e})"))),
    }
}

/// Windows and macOS always have a notification area.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
)))]
pub fn check_host() -> Result<(), TrayError> {
    Ok(())
}

impl SysTray {
    /// Puts the icon in the tray; `on_command` runs (on another thread) for each menu choice or
    /// click.
    pub fn start<F>(overall: &Overall, lang: Language, on_command: F) -> Result<Self, TrayError>
    where
        F: Fn(TrayCommand) + Send + Sync + 'static,
    {
        check_host()?;
        let menu = build_menu(lang)?;
        let icon = TrayIconBuilder::new()
            .with_id("org.eidlink.Tray")
            .with_title("eidlink")
            .with_tooltip(tooltip(overall, lang))
            .with_icon(picture(overall)?)
            .with_menu(Box::new(menu))
            .build()
            .map_err(|e| TrayError::Icon(e.to_string()))?;
        let on_command = std::sync::Arc::new(on_command);
        let handler = on_command.clone();
        MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
            let command = match event.id.as_ref() {
                OPEN => TrayCommand::Open(Page::Status),
                HISTORY => TrayCommand::Open(Page::History),
                SETTINGS => TrayCommand::Open(Page::Settings),
                QUIT => TrayCommand::Quit,
                _ => return,
            };
            handler(command);
        }));
        TrayIconEvent::set_event_handler(Some(move |event: TrayIconEvent| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                ..
            } = event
            {
                on_command(TrayCommand::Open(Page::Status));
            }
        }));
        Ok(Self { icon, lang })
    }

    /// Shows a new state.
    pub fn set_state(&mut self, overall: &Overall, lang: Language) {
        match picture(overall) {
            Ok(p) => {
                if let Err(e) = self.icon.set_icon(Some(p)) {
                    tracing::warn!(error = %e, "tray icon not updated");
                }
            }
            Err(e) => tracing::warn!(error = %e, "tray icon not drawn"),
        }
        if let Err(e) = self.icon.set_tooltip(Some(tooltip(overall, lang))) {
            tracing::warn!(error = %e, "tray tooltip not updated");
        }
        if lang != self.lang {
            match build_menu(lang) {
                Ok(menu) => {
                    self.icon.set_menu(Some(Box::new(menu)));
                    self.lang = lang;
                }
                Err(e) => tracing::warn!(error = %e, "tray menu not rebuilt"),
            }
        }
    }
}

impl Drop for SysTray {
    fn drop(&mut self) {
        MenuEvent::set_event_handler(None::<fn(MenuEvent)>);
        TrayIconEvent::set_event_handler(None::<fn(TrayIconEvent)>);
        tracing::debug!("tray icon removed");
    }
}
