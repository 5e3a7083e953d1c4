//! The running tray app: the window (eframe), the tray icon, the backend threads, the settings
//! and the journal, glued on the UI thread.
//!
//! Events from the reader monitor, the card reader and the tray menu arrive on channels whose
//! senders also wake the UI, so nothing polls: the UI sleeps until something happens, plus one
//! wake-up a minute (certificate expiry is a matter of the clock) and a journal check every two
//! seconds while the history page is open.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eframe::egui::{self, ViewportCommand};
use eidlink_pcsc::monitor::MonitorOptions;
use eidlink_settings::config::{Config, Dirs, UiSettings};
use eidlink_settings::history::{self, Forget};

use crate::autostart::Autostart;
use crate::backend::Backend;
use crate::dump;
use crate::state::{AppState, Event, Overall, UnixTime};
use crate::systray::{SysTray, TrayCommand};
use crate::view::{self, Page, Screen, SettingsScreen, TrayMode, UiAction};

/// How the app starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Do not try the tray icon: the window is the app.
    pub no_tray: bool,
    /// Start with the window hidden when the tray icon is there (start at login).
    pub hidden: bool,
    /// The first page.
    pub page: Page,
    /// Write the state as JSON to this file at every change (tests, benchmarks, support).
    pub state_file: Option<PathBuf>,
    /// Save a PNG of the window in this directory at every state change (`<seq>-<state>.png`).
    pub screenshot_dir: Option<PathBuf>,
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> UnixTime {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Screenshots delivered by the renderer, with their file names.
type Taken = Arc<Mutex<Vec<(PathBuf, Arc<egui::ColorImage>)>>>;

/// Screenshots of each state, taken by the app itself.
///
/// eframe captures a screenshot requested during a frame when it paints the *next* frame. So that
/// the picture shows the state it is named after, no new event is applied while one is pending
/// (at most [`Screenshots::HOLD`]): a state that lasts one frame, such as "reading" before a fast
/// card read, still gets its own picture.
struct Screenshots {
    dir: PathBuf,
    /// Screenshots delivered by the renderer, with their file names, waiting to be saved.
    taken: Taken,
    /// When the screenshot not delivered yet was requested.
    pending: Arc<Mutex<Option<Instant>>>,
}

impl Screenshots {
    /// The longest events are held back for a screenshot (a window that never paints).
    const HOLD: Duration = Duration::from_secs(1);

    /// Asks for a screenshot of the state being drawn, to be saved as `name`.
    fn request(&mut self, ctx: &egui::Context, name: String) {
        let path = self.dir.join(name);
        let taken = Arc::clone(&self.taken);
        let pending = Arc::clone(&self.pending);
        if let Ok(mut p) = self.pending.lock() {
            *p = Some(Instant::now());
        }
        let waker = ctx.clone();
        ctx.request_screenshot(move |image| {
            if let Ok(mut t) = taken.lock() {
                t.push((path, image));
            }
            if let Ok(mut p) = pending.lock() {
                *p = None;
            }
            waker.request_repaint();
        });
    }

    /// A screenshot is requested and not taken yet: the state must not change meanwhile.
    fn holding(&self) -> bool {
        self.pending
            .lock()
            .map(|p| p.is_some_and(|at| at.elapsed() < Self::HOLD))
            .unwrap_or(false)
    }

    /// Saves the screenshots that arrived.
    fn save_ready(&mut self) {
        let taken = self
            .taken
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for (path, image) in taken {
            if let Err(e) = eidlink_pin_dialog::pin::save_png(&path, &image) {
                tracing::warn!(error = %e, "screenshot not saved");
            }
        }
    }
}

enum Wake {
    Backend(Event),
    Tray(TrayCommand),
}

struct TrayApp {
    screen: Screen,
    backend: Option<Backend>,
    wakes: Receiver<Wake>,
    tray: Option<SysTray>,
    dirs: Option<Dirs>,
    autostart: Option<Autostart>,
    shown: Option<(Overall, eidlink_lang::Language)>,
    state_file: Option<PathBuf>,
    last_dump: Option<serde_json::Value>,
    seq: u64,
    screenshots: Option<Screenshots>,
    /// The state changed: a screenshot is due once the new state is drawn.
    shoot: bool,
    visible: bool,
    quitting: bool,
    journal_stamp: Option<SystemTime>,
    journal_checked: Instant,
}

fn journal_stamp(dirs: Option<&Dirs>) -> Option<SystemTime> {
    let dirs = dirs?;
    std::fs::metadata(dirs.data.join(history::FILE))
        .and_then(|m| m.modified())
        .ok()
}

fn read_journal(dirs: Option<&Dirs>) -> Result<Vec<history::Entry>, String> {
    match dirs {
        Some(d) => history::read(&d.data).map_err(|e| format!("{}: {e}", d.data.join(history::FILE).display())),
        None => Err("no home directory".into()),
    }
}

fn load_settings(dirs: Option<&Dirs>) -> (Config, Option<Result<(), String>>) {
    match Config::load(dirs) {
        Ok(c) => (c, None),
        // The window still opens and says why; saving would refuse to overwrite the file.
        Err(e) => (Config::default(), Some(Err(e.to_string()))),
    }
}

impl TrayApp {
    fn new(ctx: &egui::Context, options: Options) -> Self {
        // Follow the desktop's light or dark theme; light when it does not say.
        ctx.options_mut(|o| o.fallback_theme = egui::Theme::Light);
        let dirs = Dirs::new();
        let (config, load_error) = load_settings(dirs.as_ref());
        let autostart = Autostart::for_user();
        let (tx, wakes) = mpsc::channel();

        let backend = {
            let tx = tx.clone();
            let ctx = ctx.clone();
            match Backend::start(MonitorOptions::default(), config.clone(), move |e| {
                let alive = tx.send(Wake::Backend(e)).is_ok();
                ctx.request_repaint();
                alive
            }) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "the reader monitor did not start");
                    None
                }
            }
        };
        let state = AppState::new();
        let lang = config.effective_language();
        let tray = if options.no_tray {
            None
        } else {
            let ctx = ctx.clone();
            match SysTray::start(&state.overall(unix_now()), lang, move |c| {
                let _ = tx.send(Wake::Tray(c));
                ctx.request_repaint();
            }) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::info!(error = %e, "running as a window");
                    None
                }
            }
        };
        let visible = !(options.hidden && tray.is_some());
        if !visible {
            ctx.send_viewport_cmd(ViewportCommand::Visible(false));
        }
        let screen = Screen {
            state,
            lang,
            page: options.page,
            tray: if tray.is_some() {
                TrayMode::Icon
            } else {
                TrayMode::WindowOnly
            },
            history: read_journal(dirs.as_ref()),
            site_filter: None,
            confirm_forget: None,
            forgotten: None,
            settings: SettingsScreen {
                ui: config.ui(),
                autostart: autostart.as_ref().is_some_and(Autostart::is_enabled),
                config_file: dirs
                    .as_ref()
                    .map_or_else(String::new, |d| d.config_file().display().to_string()),
                saved: load_error,
            },
        };
        Self {
            journal_stamp: journal_stamp(dirs.as_ref()),
            journal_checked: Instant::now(),
            screen,
            backend,
            wakes,
            tray,
            dirs,
            autostart,
            shown: None,
            state_file: options.state_file,
            last_dump: None,
            seq: 0,
            shoot: false,
            screenshots: options.screenshot_dir.map(|dir| Screenshots {
                dir,
                taken: Arc::new(Mutex::new(Vec::new())),
                pending: Arc::new(Mutex::new(None)),
            }),
            visible,
            quitting: false,
        }
    }

    fn show_window(&mut self, ctx: &egui::Context, page: Page) {
        self.screen.page = page;
        if page == Page::History {
            self.reload_journal();
        }
        self.visible = true;
        ctx.send_viewport_cmd(ViewportCommand::Visible(true));
        ctx.send_viewport_cmd(ViewportCommand::Minimized(false));
        ctx.send_viewport_cmd(ViewportCommand::Focus);
    }

    fn quit(&mut self, ctx: &egui::Context) {
        self.quitting = true;
        if let Some(b) = self.backend.take() {
            b.stop();
        }
        self.tray = None;
        ctx.send_viewport_cmd(ViewportCommand::Close);
    }

    fn reload_journal(&mut self) {
        self.journal_stamp = journal_stamp(self.dirs.as_ref());
        self.journal_checked = Instant::now();
        self.screen.history = read_journal(self.dirs.as_ref());
    }

    fn apply_ui(&mut self, action: UiAction) {
        match action {
            UiAction::Refresh(reader) => self.apply_event(Event::Refresh { reader }),
            UiAction::Forget(what) => {
                let Some(dirs) = &self.dirs else { return };
                self.screen.forgotten = Some(history::forget(&dirs.data, &what).map_err(|e| e.to_string()));
                if let Forget::Site(_) = what {
                    self.screen.site_filter = None;
                }
                self.reload_journal();
            }
            UiAction::SaveSettings(ui) => self.save_settings(ui),
            UiAction::SetAutostart(on) => {
                let Some(a) = &self.autostart else { return };
                let result = if on {
                    std::env::current_exe().and_then(|exe| a.enable(&exe))
                } else {
                    a.disable()
                };
                self.screen.settings.saved = Some(result.map_err(|e| format!("{}: {e}", a.path().display())));
                self.screen.settings.autostart = a.is_enabled();
            }
            UiAction::OpenLogFolder => {
                if let Some(dirs) = &self.dirs {
                    if let Err(e) = open_folder(&dirs.data) {
                        self.screen.settings.saved = Some(Err(e));
                    }
                }
            }
        }
    }

    fn save_settings(&mut self, ui: UiSettings) {
        let Some(dirs) = &self.dirs else {
            self.screen.settings.saved = Some(Err("no home directory".into()));
            return;
        };
        let result = eidlink_settings::save_ui(&dirs.config_file(), &ui).map_err(|e| e.to_string());
        if result.is_ok() {
            // What the host will read from now on, language included.
            let (config, error) = load_settings(Some(dirs));
            self.screen.lang = config.effective_language();
            self.screen.settings.ui = config.ui();
            self.screen.settings.saved = error.or(Some(Ok(())));
        } else {
            self.screen.settings.saved = Some(result);
        }
    }

    fn apply_event(&mut self, event: Event) {
        for effect in self.screen.state.apply(event) {
            if let Some(b) = &self.backend {
                b.run(effect);
            }
        }
    }

    /// Brings the icon and the state file up to date.
    fn publish(&mut self, now: UnixTime) {
        let overall = self.screen.state.overall(now);
        let key = (overall.clone(), self.screen.lang);
        if self.shown.as_ref() == Some(&key) && self.state_file.is_none() {
            return;
        }
        if self.shown.as_ref() != Some(&key) {
            if let Some(t) = &mut self.tray {
                t.set_state(&overall, self.screen.lang);
            }
            self.shown = Some(key);
        }
        if let Some(path) = &self.state_file {
            let json = dump::state_json(&self.screen, now, self.visible);
            // Written only when something shown changed, so a reader sees each state once.
            if self.last_dump.as_ref() != Some(&json) {
                self.seq += 1;
                if let Err(e) = dump::write(path, self.seq, &json) {
                    tracing::warn!(error = %e, "state file not written");
                }
                self.last_dump = Some(json);
                self.shoot = true;
            }
        }
    }
}

/// Opens a folder in the desktop's file manager.
fn open_folder(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let program = if cfg!(windows) {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(dir)
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("{program}: {e}"))
}

impl eframe::App for TrayApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Events wait in the channel (their senders wake us again) while a screenshot is pending.
        let hold = self.screenshots.as_ref().is_some_and(Screenshots::holding);
        while let Some(wake) = if hold { None } else { self.wakes.try_recv().ok() } {
            match wake {
                Wake::Backend(event) => self.apply_event(event),
                Wake::Tray(TrayCommand::Open(page)) => self.show_window(ctx, page),
                Wake::Tray(TrayCommand::Quit) => self.quit(ctx),
            }
        }
        if self.screen.page == Page::History && self.journal_checked.elapsed() >= Duration::from_secs(2) {
            self.journal_checked = Instant::now();
            if journal_stamp(self.dirs.as_ref()) != self.journal_stamp {
                self.reload_journal();
            }
        }
        if ctx.input(|i| i.viewport().close_requested()) && !self.quitting {
            if self.tray.is_some() {
                // The tray keeps running; the icon brings the window back.
                ctx.send_viewport_cmd(ViewportCommand::CancelClose);
                ctx.send_viewport_cmd(ViewportCommand::Visible(false));
                self.visible = false;
            } else {
                self.quit(ctx);
            }
        }
        let now = unix_now();
        self.publish(now);
        let every = if self.screen.page == Page::History && self.visible {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(60)
        };
        ctx.request_repaint_after(every);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let now = unix_now();
        let before = self.screen.page;
        let actions = view::show(ui, &mut self.screen, now);
        if self.screen.page == Page::History && before != Page::History {
            self.reload_journal();
        }
        for action in actions {
            self.apply_ui(action);
        }
        self.publish(now);
        if let Some(shots) = &mut self.screenshots {
            shots.save_ready();
            // This frame drew the state `publish` saw in `logic`; the screenshot is of this frame.
            if std::mem::take(&mut self.shoot) {
                let overall = dump::overall_code(&self.screen.state.overall(now));
                shots.request(
                    ui.ctx(),
                    format!("{:03}-{overall}-{:?}.png", self.seq, self.screen.page).to_lowercase(),
                );
            }
        }
    }
}

impl Drop for TrayApp {
    fn drop(&mut self) {
        if let Some(b) = self.backend.take() {
            b.stop();
        }
    }
}

/// Runs the app until the user quits.
pub fn run(options: Options) -> Result<(), eframe::Error> {
    let viewport = egui::ViewportBuilder::default()
        .with_title("eidlink")
        .with_app_id("org.eidlink.Tray")
        .with_inner_size(view::SIZE)
        .with_min_inner_size([420.0, 360.0])
        .with_icon(egui::IconData {
            rgba: crate::icon::rgba(&Overall::Ready, 64),
            width: 64,
            height: 64,
        });
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        // The window may be hidden for hours: keep running when it is.
        run_and_return: false,
        ..Default::default()
    };
    eframe::run_native(
        "eidlink-tray",
        native,
        Box::new(move |cc| Ok(Box::new(TrayApp::new(&cc.egui_ctx, options)))),
    )
}
