//! A private X server for tests that drive real windows (the PIN dialog, the tray): Xvfb on a free
//! display number, started with `-nolisten tcp`, ready once an X client completes the handshake,
//! stopped on drop. Screenshots are taken over the X protocol and written as PNG, so no ImageMagick
//! or `xwd` is needed (scripts/lib.sh installs neither).
//!
//! ```no_run
//! use eidlink_tests::xvfb::Display;
//! use std::time::Duration;
//!
//! let display = Display::start()?;
//! // std::process::Command::new("eidlink-pin").env("DISPLAY", display.name()) ...
//! let window = display.wait_window("eidlink", Duration::from_secs(30))?;
//! display.xdotool(&["windowfocus", "--sync", &window])?;
//! display.screenshot(std::path::Path::new("target/screenshots/dialog.png"))?;
//! # Ok::<(), eidlink_tests::xvfb::XvfbError>(())
//! ```

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder};

/// Debian/Ubuntu packages the X tests need (scripts/lib.sh installs them).
pub const PACKAGES: &str = "xvfb xdotool";

/// Set to an existing display (e.g. `:0`) to watch the tests on a real screen instead of Xvfb.
pub const DISPLAY_ENV: &str = "EIDLINK_GUI_TEST_DISPLAY";

/// What can go wrong with the test display.
#[derive(Debug, thiserror::Error)]
pub enum XvfbError {
    /// A program could not be run, or a file written.
    #[error("{what}: {source} (apt-get install -y {PACKAGES})")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: io::Error,
    },
    /// No display number in the range could be used.
    #[error("Xvfb did not start on any display number ({0})")]
    NoDisplay(String),
    /// `xdotool` failed.
    #[error("xdotool {args:?} failed: {stderr}")]
    Xdotool {
        /// Its arguments.
        args: Vec<String>,
        /// What it printed on stderr.
        stderr: String,
    },
    /// No window with that title appeared.
    #[error("no visible window titled {title:?} on {display} within {timeout:?}")]
    NoWindow {
        /// The title looked for (exact match).
        title: String,
        /// The display.
        display: String,
        /// How long it was looked for.
        timeout: Duration,
    },
    /// The X server did not answer or refused a request.
    #[error("X protocol: {0}")]
    X11(String),
    /// The screen's pixel format is not one this module converts.
    #[error("unsupported pixel format: {0}")]
    PixelFormat(String),
    /// PNG encoding failed.
    #[error("PNG: {0}")]
    Png(#[from] png::EncodingError),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> XvfbError {
    let what = what.into();
    move |source| XvfbError::Io { what, source }
}

fn x11_err(e: impl std::fmt::Display) -> XvfbError {
    XvfbError::X11(e.to_string())
}

/// Xvfb servers of one process start and stop one at a time, so two tests never race for a number
/// (another process racing for one makes Xvfb exit at once, and the next number is tried).
static LIFECYCLE: Mutex<()> = Mutex::new(());
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Display numbers tried: away from the usual :0, :1 and :99 of desktops and CI.
const FIRST: u32 = 200;
const RANGE: u32 = 700;
const START_LIMIT: Duration = Duration::from_secs(20);

/// An X display for one test: a private Xvfb stopped on drop, or the display named by
/// [`DISPLAY_ENV`].
#[derive(Debug)]
pub struct Display {
    name: String,
    xvfb: Option<Child>,
}

impl Display {
    /// Starts Xvfb with a 1280×1024 24-bit screen.
    pub fn start() -> Result<Display, XvfbError> {
        Self::start_sized(1280, 1024)
    }

    /// Starts Xvfb with a `width`×`height` 24-bit screen, on the first free display number.
    pub fn start_sized(width: u32, height: u32) -> Result<Display, XvfbError> {
        if let Ok(name) = std::env::var(DISPLAY_ENV) {
            return Ok(Display { name, xvfb: None });
        }
        let _serial = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
        let mut last = String::from("all in use");
        for _ in 0..50 {
            let seq = NEXT.fetch_add(1, Ordering::Relaxed);
            let number = FIRST + std::process::id().wrapping_mul(7).wrapping_add(seq.wrapping_mul(13)) % RANGE;
            // A lock file or socket means another server has (or had) this number.
            if Path::new(&format!("/tmp/.X{number}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
            {
                continue;
            }
            let name = format!(":{number}");
            let mut xvfb = Command::new("Xvfb")
                .arg(&name)
                // -noreset: otherwise the server resets when its last client leaves (every xdotool
                // call), and a client connecting during the reset cannot open the display.
                .args([
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(io_err("cannot start Xvfb"))?;
            let started = Instant::now();
            while started.elapsed() < START_LIMIT {
                // Ready means an X client gets through the handshake, not just that the socket exists.
                if x11rb::connect(Some(&name)).is_ok() {
                    return Ok(Display { name, xvfb: Some(xvfb) });
                }
                if let Ok(Some(status)) = xvfb.try_wait() {
                    last = format!("Xvfb {name} exited: {status}");
                    break; // lost a race for this number: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if started.elapsed() >= START_LIMIT {
                last = format!("Xvfb {name} not ready within {START_LIMIT:?}");
            }
            let _ = xvfb.kill();
            let _ = xvfb.wait();
        }
        Err(XvfbError::NoDisplay(last))
    }

    /// The display name for `DISPLAY` (`:N`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `xdotool` on this display; returns its stdout.
    pub fn xdotool(&self, args: &[&str]) -> Result<String, XvfbError> {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .map_err(io_err("cannot run xdotool"))?;
        if !out.status.success() {
            return Err(XvfbError::Xdotool {
                args: args.iter().map(|a| (*a).to_owned()).collect(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits for a visible window titled exactly `title`; returns its id (decimal, as xdotool
    /// prints it).
    pub fn wait_window(&self, title: &str, timeout: Duration) -> Result<String, XvfbError> {
        let started = Instant::now();
        let pattern = format!("^{title}$");
        loop {
            // xdotool search exits 1 when nothing matches yet: only its output counts.
            let out = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--name", &pattern])
                .env("DISPLAY", &self.name)
                .output()
                .map_err(io_err("cannot run xdotool"))?;
            if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
                return Ok(id.trim().to_owned());
            }
            if started.elapsed() > timeout {
                return Err(XvfbError::NoWindow {
                    title: title.to_owned(),
                    display: self.name.clone(),
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Writes the whole screen to `path` as an RGB PNG (parent directories are created).
    pub fn screenshot(&self, path: &Path) -> Result<(), XvfbError> {
        self.grab(None, path)
    }

    /// Writes one window (an id as [`wait_window`](Self::wait_window) returns it) to `path` as an
    /// RGB PNG. The window must be mapped; parts covered by other windows show those windows.
    pub fn screenshot_window(&self, window: &str, path: &Path) -> Result<(), XvfbError> {
        let id = window
            .trim()
            .parse::<u32>()
            .map_err(|e| XvfbError::X11(format!("window id {window:?}: {e}")))?;
        self.grab(Some(id), path)
    }

    fn grab(&self, window: Option<u32>, path: &Path) -> Result<(), XvfbError> {
        let (conn, screen_num) = x11rb::connect(Some(&self.name)).map_err(x11_err)?;
        let setup = conn.setup();
        let screen = setup
            .roots
            .get(screen_num)
            .ok_or_else(|| XvfbError::X11(format!("no screen {screen_num}")))?;
        let root = screen.root;
        // A window is read from the root at its place on screen: GetImage on the window itself
        // fails for windows partly off screen, and the root holds the same pixels.
        let (x, y, width, height) = match window {
            None => (0, 0, screen.width_in_pixels, screen.height_in_pixels),
            Some(w) => {
                let geo = conn.get_geometry(w).map_err(x11_err)?.reply().map_err(x11_err)?;
                let at = conn
                    .translate_coordinates(w, root, 0, 0)
                    .map_err(x11_err)?
                    .reply()
                    .map_err(x11_err)?;
                let x = at.dst_x.max(0);
                let y = at.dst_y.max(0);
                let right = (i32::from(at.dst_x) + i32::from(geo.width)).min(i32::from(screen.width_in_pixels));
                let bottom = (i32::from(at.dst_y) + i32::from(geo.height)).min(i32::from(screen.height_in_pixels));
                let w = u16::try_from(right - i32::from(x)).unwrap_or(0);
                let h = u16::try_from(bottom - i32::from(y)).unwrap_or(0);
                (x, y, w, h)
            }
        };
        if width == 0 || height == 0 {
            return Err(XvfbError::X11("the window is not on screen".into()));
        }
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, root, x, y, width, height, !0)
            .map_err(x11_err)?
            .reply()
            .map_err(x11_err)?;
        let visual = screen
            .allowed_depths
            .iter()
            .flat_map(|d| d.visuals.iter())
            .find(|v| v.visual_id == image.visual)
            .ok_or_else(|| XvfbError::PixelFormat(format!("visual {:#x} not in the setup", image.visual)))?;
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == image.depth)
            .map(|f| f.bits_per_pixel)
            .ok_or_else(|| XvfbError::PixelFormat(format!("no pixmap format for depth {}", image.depth)))?;
        if bpp != 32 {
            return Err(XvfbError::PixelFormat(format!(
                "{bpp} bits per pixel at depth {}",
                image.depth
            )));
        }
        let (w, h) = (usize::from(width), usize::from(height));
        if image.data.len() < w * h * 4 {
            return Err(XvfbError::X11(format!(
                "short image: {} bytes for {w}x{h}",
                image.data.len()
            )));
        }
        let channel = |pixel: u32, mask: u32| -> u8 {
            if mask == 0 {
                return 0;
            }
            let v = (pixel & mask) >> mask.trailing_zeros();
            let max = mask >> mask.trailing_zeros();
            // Scaled to 8 bits whatever the mask's width (8 bits on every Xvfb depth-24 visual).
            u8::try_from(u64::from(v) * 255 / u64::from(max)).unwrap_or(u8::MAX)
        };
        let mut rgb = Vec::with_capacity(w * h * 3);
        for px in image.data.chunks_exact(4).take(w * h) {
            let bytes = [px[0], px[1], px[2], px[3]];
            let pixel = if setup.image_byte_order == ImageOrder::MSB_FIRST {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            };
            rgb.push(channel(pixel, visual.red_mask));
            rgb.push(channel(pixel, visual.green_mask));
            rgb.push(channel(pixel, visual.blue_mask));
        }
        write_png(path, u32::from(width), u32::from(height), &rgb)
    }
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), XvfbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    }
    let file = File::create(path).map_err(io_err(format!("cannot write {}", path.display())))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}

/// `target/screenshots/` of the workspace the running test binary was built in (next to the
/// `debug/` or `release/` directory), created if missing.
pub fn screenshot_dir() -> Result<PathBuf, XvfbError> {
    let exe = std::env::current_exe().map_err(io_err("cannot locate the test binary"))?;
    // Test binaries live in <target>/<profile>/deps/, programs in <target>/<profile>/.
    let mut dir = exe.parent();
    if dir.and_then(Path::file_name).is_some_and(|n| n == "deps") {
        dir = dir.and_then(Path::parent);
    }
    let target = dir
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    Ok(dir)
}

impl Drop for Display {
    fn drop(&mut self) {
        let Some(xvfb) = &mut self.xvfb else { return };
        let _serial = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
        // SIGTERM lets Xvfb remove its lock file and socket (SIGKILL leaves them behind, and the
        // number is then skipped by every later start).
        let _ = Command::new("kill").arg("-TERM").arg(xvfb.id().to_string()).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = xvfb.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = xvfb.kill();
        let _ = xvfb.wait();
    }
}
