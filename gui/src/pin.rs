//! The `eidlink-pin` program: reads requests on stdin (docs/pin-dialog-protocol.md), shows the
//! dialog in an eframe window, writes one answer line per `ask` on stdout.
//!
//! The first `ask` is read before any window opens (a `close` or end of input before it exits 0,
//! an invalid first line exits 2). Then a reader thread passes the following lines to the window
//! and wakes it; on `close` or end of input the window closes itself, and the thread ends the
//! process shortly after in case the window could not (so a killed host never leaves a dialog).

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui::{self, ColorImage, Vec2, ViewportCommand, WindowLevel};

use crate::model::{Effect, Event, Model, Phase};
use crate::protocol::{self, Ask, Line, Request, Response, Status};
use crate::view;

/// How long the reader thread lets the window close itself before it ends the process.
pub const EXIT_GRACE: Duration = Duration::from_millis(250);

/// Exit code for a bad command line or an invalid first line.
pub const EXIT_USAGE: u8 = 2;

const USAGE: &str = "\
Usage: eidlink-pin [--screenshot FILE.png]

The eidlink PIN dialog. The eidlink host starts it and writes JSON-lines requests on its stdin
(see docs/pin-dialog-protocol.md); it answers one line per `ask` on stdout.

Options:
  --screenshot FILE.png  show the first `ask` read on stdin, save the window as a PNG and exit
                         without answering (for reviewing the layout; needs a display)
  -h, --help             print this help
  -V, --version          print the version
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the dialog.
    Run {
        /// Save a screenshot here instead of answering.
        screenshot: Option<PathBuf>,
    },
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

/// Parses the arguments (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut screenshot = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(Command::Help),
            Some("-V" | "--version") => return Ok(Command::Version),
            Some("--screenshot") => {
                let path = args.next().ok_or("--screenshot needs a file name")?;
                screenshot = Some(PathBuf::from(path));
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Command::Run { screenshot })
}

/// What came before the first `ask`.
#[derive(Debug)]
pub enum Start {
    /// Show this question (and the last `status` seen before it, if any).
    Ask(Box<Ask>, Option<Status>),
    /// Exit with this code without opening a window.
    Exit(u8),
}

/// Reads lines until the first `ask`: `close` or end of input → exit 0; an invalid *first* line →
/// exit 2; later invalid lines are reported on stderr and skipped.
pub fn read_start(input: &mut impl BufRead) -> Start {
    let mut status = None;
    let mut first = true;
    loop {
        let parsed = match protocol::read_line(input, protocol::MAX_LINE_BYTES) {
            Ok(Line::Eof) | Err(_) => return Start::Exit(0),
            Ok(Line::Invalid(why)) => Err(protocol::ParseError(why)),
            Ok(Line::Text(text)) => protocol::parse_request(&text),
        };
        match parsed {
            Ok(Request::Ask(ask)) => return Start::Ask(ask, status),
            Ok(Request::Status { message }) => status = Some(message),
            Ok(Request::Close) => return Start::Exit(0),
            Err(e) if first => {
                eprintln!("eidlink-pin: invalid first line ({e}); exiting");
                return Start::Exit(EXIT_USAGE);
            }
            Err(e) => eprintln!("eidlink-pin: ignoring a line: {e}"),
        }
        first = false;
    }
}

/// A message from the reader thread.
#[derive(Debug)]
pub enum Incoming {
    /// A valid request.
    Request(Request),
    /// End of stdin.
    End,
}

/// Reads requests until `close` or end of input, passing them on and waking the window; then
/// gives the window [`EXIT_GRACE`] to close and ends the process (under the stdout lock, so an
/// answer being written is never cut).
pub fn reader_thread(mut input: impl BufRead, tx: Sender<Incoming>, ctx: egui::Context) {
    forward_requests(&mut input, &tx, &|| ctx.request_repaint());
    std::thread::sleep(EXIT_GRACE);
    let _stdout = io::stdout().lock();
    std::process::exit(0);
}

/// The reader loop without the exit: returns after `close` or end of input.
pub fn forward_requests(input: &mut impl BufRead, tx: &Sender<Incoming>, wake: &dyn Fn()) {
    loop {
        let incoming = match protocol::read_line(input, protocol::MAX_LINE_BYTES) {
            Ok(Line::Eof) | Err(_) => Incoming::End,
            Ok(Line::Invalid(why)) => {
                eprintln!("eidlink-pin: ignoring a line: {why}");
                continue;
            }
            Ok(Line::Text(text)) => match protocol::parse_request(&text) {
                Ok(request) => Incoming::Request(request),
                Err(e) => {
                    eprintln!("eidlink-pin: ignoring a line: {e}");
                    continue;
                }
            },
        };
        let last = matches!(incoming, Incoming::End | Incoming::Request(Request::Close));
        // The window may already be gone; the process is ending then anyway.
        let _ = tx.send(incoming);
        wake();
        if last {
            return;
        }
    }
}

/// Writes an answer line on stdout.
fn write_answer(response: &Response) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    protocol::write_response(response, &mut out)
}

/// Screenshot mode: wait for the window to settle, grab a frame, save it, close.
struct Screenshot {
    path: PathBuf,
    frames: u32,
    requested: bool,
    image: Arc<Mutex<Option<Arc<ColorImage>>>>,
    result: Arc<Mutex<Option<Result<(), String>>>>,
}

/// The eframe application.
pub struct PinApp {
    model: Model,
    incoming: Receiver<Incoming>,
    screenshot: Option<Screenshot>,
    /// Height last asked of the window, and whether the window was centred after it.
    requested_height: Option<f32>,
    centred: bool,
    /// This program closes the window itself (a close it asked for is never refused).
    closing: bool,
}

impl PinApp {
    fn apply(&mut self, ctx: &egui::Context, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Answer(response) => {
                    if self.screenshot.is_some() {
                        continue;
                    }
                    if let Err(e) = write_answer(&response) {
                        eprintln!("eidlink-pin: cannot write the answer ({e}); the host is gone");
                        self.close(ctx);
                    }
                }
                Effect::Exit => self.close(ctx),
                Effect::KeepOpen => ctx.send_viewport_cmd(ViewportCommand::CancelClose),
            }
        }
    }

    fn close(&mut self, ctx: &egui::Context) {
        self.closing = true;
        ctx.send_viewport_cmd(ViewportCommand::Close);
    }

    /// Resizes the window to its content (and centres it once).
    fn fit(&mut self, ctx: &egui::Context, wanted: f32) -> bool {
        let wanted = wanted.ceil().max(120.0);
        let current = ctx.content_rect().height();
        if (current - wanted).abs() < 1.0 {
            return true;
        }
        if current > wanted && matches!(self.model.phase(), Phase::Working { .. }) {
            // No shrinking while waiting: the window would jump before a re-ask.
            return true;
        }
        if self.requested_height != Some(wanted) {
            self.requested_height = Some(wanted);
            ctx.send_viewport_cmd(ViewportCommand::InnerSize(Vec2::new(view::WIDTH, wanted)));
            if !self.centred {
                self.centred = true;
                if let Some(monitor) = ctx.input(|i| i.viewport().monitor_size) {
                    let pos = ((monitor - Vec2::new(view::WIDTH, wanted)) / 2.0).max(Vec2::ZERO);
                    ctx.send_viewport_cmd(ViewportCommand::OuterPosition(pos.to_pos2()));
                }
            }
        }
        false
    }

    fn screenshot_step(&mut self, ctx: &egui::Context, fitted: bool) {
        let Some(shot) = &mut self.screenshot else { return };
        ctx.request_repaint();
        shot.frames += 1;
        if !shot.requested {
            // Shoot what the user sees most of the time: consent armed, window fitted.
            let armed = self
                .model
                .asking()
                .is_none_or(|a| a.arming_left(Instant::now()).is_none());
            if fitted && armed && shot.frames >= 4 {
                shot.requested = true;
                let slot = shot.image.clone();
                let waker = ctx.clone();
                ctx.request_screenshot(move |image| {
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(image);
                    }
                    waker.request_repaint();
                });
            }
            return;
        }
        let image = shot.image.lock().ok().and_then(|mut slot| slot.take());
        if let Some(image) = image {
            let saved = save_png(&shot.path, &image);
            if let Ok(mut result) = shot.result.lock() {
                *result = Some(saved);
            }
            self.closing = true;
            ctx.send_viewport_cmd(ViewportCommand::Close);
        }
    }
}

impl eframe::App for PinApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        // Below the content (the window does not shrink while working) looks like the dialog.
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        while let Ok(incoming) = self.incoming.try_recv() {
            let event = match incoming {
                Incoming::Request(request) => Event::Request(request),
                Incoming::End => Event::InputClosed,
            };
            let effects = self.model.handle(event, now);
            self.apply(ctx, effects);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let now = Instant::now();
        if !self.closing && ctx.input(|i| i.viewport().close_requested()) {
            let effects = self.model.handle(Event::CloseRequested, now);
            self.apply(&ctx, effects);
        }
        let output = egui::CentralPanel::no_frame()
            .show(ui, |ui| view::show(ui, &mut self.model, now))
            .inner;
        self.apply(&ctx, output.effects);
        if let Some(after) = output.repaint_after {
            ctx.request_repaint_after(after);
        }
        let fitted = self.model.is_exiting() || self.fit(&ctx, output.wanted_height);
        self.screenshot_step(&ctx, fitted);
    }
}

/// Saves an egui screenshot as a PNG file (creating its directory).
pub fn save_png(path: &Path, image: &ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let (w, h) = (
        u32::try_from(w).map_err(|e| e.to_string())?,
        u32::try_from(h).map_err(|e| e.to_string())?,
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    image::save_buffer_with_format(
        path,
        &bytes,
        w,
        h,
        image::ExtendedColorType::Rgba8,
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// A first guess of the window height, so it opens about centred before it fits its content.
fn estimated_height(ask: &Ask) -> f32 {
    let mut h = 330.0;
    if ask.certificate.is_some() {
        h += 66.0;
    }
    if ask.hash.is_some() {
        h += 44.0;
    }
    if ask.error.is_some() {
        h += 40.0;
    }
    if ask.pin.as_ref().and_then(|p| p.tries_left) == Some(1) {
        h += 40.0;
    }
    h
}

/// Runs the program; `args` without the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let screenshot = match parse_args(args) {
        Ok(Command::Run { screenshot }) => screenshot,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("eidlink-pin {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("eidlink-pin: {e}\n\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut input = BufReader::new(io::stdin());
    let (ask, status) = match read_start(&mut input) {
        Start::Ask(ask, status) => (ask, status),
        Start::Exit(code) => return ExitCode::from(code),
    };
    let now = Instant::now();
    let height = estimated_height(&ask);
    // The tray's language setting; a config file that cannot be read only loses that step.
    let setting = eidlink_settings::Config::load(eidlink_settings::Dirs::new().as_ref())
        .map_err(|e| eprintln!("eidlink-pin: {e}"))
        .ok()
        .and_then(|c| c.language);
    let fallback = crate::model::fallback_language(setting.as_deref(), &eidlink_lang::Process);
    let mut model = match Model::new(*ask, Some(fallback), now) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("eidlink-pin: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(message) = status {
        model.handle(Event::Request(Request::Status { message }), now);
    }

    let result = Arc::new(Mutex::new(None));
    let screenshot = screenshot.map(|path| Screenshot {
        path,
        frames: 0,
        requested: false,
        image: Arc::new(Mutex::new(None)),
        result: result.clone(),
    });
    let viewport = egui::ViewportBuilder::default()
        .with_title("eidlink")
        .with_app_id("eidlink-pin")
        .with_inner_size([view::WIDTH, height])
        .with_resizable(false)
        .with_maximize_button(false)
        .with_minimize_button(false)
        .with_window_level(WindowLevel::AlwaysOnTop)
        .with_active(true);
    let options = eframe::NativeOptions {
        viewport,
        centered: true,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let shooting = screenshot.is_some();
    let run = eframe::run_native(
        "eidlink",
        options,
        Box::new(move |cc| {
            let (tx, rx) = mpsc::channel();
            if !shooting {
                let ctx = cc.egui_ctx.clone();
                std::thread::Builder::new()
                    .name("stdin".into())
                    .spawn(move || reader_thread(input, tx, ctx))?;
            }
            Ok(Box::new(PinApp {
                model,
                incoming: rx,
                screenshot,
                requested_height: None,
                centred: false,
                closing: false,
            }))
        }),
    );
    if let Err(e) = run {
        eprintln!("eidlink-pin: cannot open the window: {e}");
        return ExitCode::FAILURE;
    }
    let _ = io::stdout().flush();
    if shooting {
        return match result.lock().ok().and_then(|mut r| r.take()) {
            Some(Ok(())) => ExitCode::SUCCESS,
            Some(Err(e)) => {
                eprintln!("eidlink-pin: cannot save the screenshot: {e}");
                ExitCode::FAILURE
            }
            None => {
                eprintln!("eidlink-pin: the window closed before the screenshot");
                ExitCode::FAILURE
            }
        };
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_line() {
        assert_eq!(parse_args(args(&[])), Ok(Command::Run { screenshot: None }));
        assert_eq!(
            parse_args(args(&["--screenshot", "a.png"])),
            Ok(Command::Run {
                screenshot: Some("a.png".into())
            })
        );
        assert_eq!(parse_args(args(&["--help"])), Ok(Command::Help));
        assert_eq!(parse_args(args(&["-V"])), Ok(Command::Version));
        assert!(parse_args(args(&["--screenshot"])).is_err());
        assert!(parse_args(args(&["--pin", "1234"])).is_err());
    }

    const ASK: &str = r#"{"type":"ask","purpose":"consent","origin":"https://a.be"}"#;

    #[test]
    fn start_sequences() {
        let start = |text: &str| read_start(&mut Cursor::new(text.as_bytes().to_vec()));
        assert!(matches!(start(""), Start::Exit(0)));
        assert!(matches!(start("{\"type\":\"close\"}\n"), Start::Exit(0)));
        assert!(matches!(start("garbage\n"), Start::Exit(2)));
        assert!(matches!(
            start(r#"{"type":"ask","purpose":"sign","origin":"https://a.be"}"#),
            Start::Exit(2)
        ));
        assert!(matches!(start(&format!("{ASK}\n")), Start::Ask(_, None)));
        assert!(matches!(start(ASK), Start::Ask(_, None)), "no final newline");
        let s = format!("{{\"type\":\"status\",\"message\":\"insert_card\"}}\ngarbage\n{ASK}\n");
        assert!(
            matches!(start(&s), Start::Ask(_, Some(Status::InsertCard))),
            "later bad lines are skipped"
        );
        assert!(matches!(
            start("{\"type\":\"status\",\"message\":\"working\"}\n"),
            Start::Exit(0)
        ));
    }

    #[test]
    fn reader_forwards_until_close_or_end() {
        let (tx, rx) = mpsc::channel();
        let wakes = std::cell::Cell::new(0);
        let text = format!("{ASK}\nnot json\n{{\"type\":\"close\"}}\n{ASK}\n");
        forward_requests(&mut Cursor::new(text.into_bytes()), &tx, &|| wakes.set(wakes.get() + 1));
        let got: Vec<Incoming> = rx.try_iter().collect();
        assert!(
            matches!(
                got[..],
                [Incoming::Request(Request::Ask(_)), Incoming::Request(Request::Close)]
            ),
            "{got:?}"
        );
        assert_eq!(wakes.get(), 2);
        let (tx, rx) = mpsc::channel();
        forward_requests(&mut Cursor::new(Vec::new()), &tx, &|| {});
        assert!(matches!(rx.try_iter().collect::<Vec<_>>()[..], [Incoming::End]));
    }
}
