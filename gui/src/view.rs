//! Draws the PIN dialog from a [`Model`] and turns keys and clicks into model events.
//!
//! No egui state of its own: everything shown comes from the model, so the same function runs in
//! the real window and in egui_kittest.

use std::time::{Duration, Instant};

use eframe::egui::{
    self, Align, Button, Color32, CornerRadius, FontId, Frame, Key, Layout, Margin, RichText, Sense, Stroke,
    StrokeKind, Ui, Vec2, WidgetInfo,
};

use crate::i18n::{self, Language, Text};
use crate::model::{display_text, Asking, Effect, Event, InputHint, Model, Phase};
use crate::protocol::{Ask, AskError, Asker, Charset, Origin, Purpose};
use crate::site::{elide_chars, elide_labels, SiteName};

/// Window width in points; the height follows the content.
pub const WIDTH: f32 = 460.0;

/// Margin around the content.
const MARGIN: i8 = 20;

/// Size of the registrable domain: what the user must check, the biggest text of the dialog.
const HOST_SIZE: f32 = 28.0;

/// Size of the rest of the host, before the registrable domain: smaller, so that a familiar name
/// put there (`eservices.belgium.be.login-check.example.com`) does not pass for the site.
const PREFIX_SIZE: f32 = 17.0;

/// Size of the "embedded in" line.
const EMBEDDED_SIZE: f32 = 14.0;

/// Size of secondary text (captions, hints).
const SMALL: f32 = 12.5;

/// What drawing one frame produced.
#[derive(Debug, Default)]
pub struct Output {
    /// What the program must do (answers, exit).
    pub effects: Vec<Effect>,
    /// Height the window needs to show everything, in points.
    pub wanted_height: f32,
    /// Draw again after this long even without input (consent arming, the "working" dots).
    pub repaint_after: Option<Duration>,
}

/// Draws the dialog in `ui` and applies the user's input to `model`.
pub fn show(ui: &mut Ui, model: &mut Model, now: Instant) -> Output {
    let mut out = Output::default();
    let lang = model.lang();
    let frame = Frame::central_panel(ui.style()).inner_margin(Margin::same(MARGIN));
    let inner = frame.show(ui, |ui| {
        ui.set_width(WIDTH - 2.0 * f32::from(MARGIN));
        ui.spacing_mut().item_spacing.y = 6.0;
        match model.phase() {
            Phase::Asking(_) => asking(ui, model, lang, now, &mut out),
            Phase::Working {
                request,
                asker,
                purpose,
                status,
            } => {
                // The question stays on screen (without the field and buttons) so the window
                // keeps its size and the user still sees what is being done.
                header(ui, lang, asker);
                ui.separator();
                what_is_asked(ui, lang, *purpose, asker);
                details(ui, lang, request);
                ui.add_space(8.0);
                let text = status.map_or(Text::Working, i18n::status_text);
                busy_line(ui, text.get(lang));
                out.repaint_after = Some(Duration::from_millis(250));
            }
            Phase::Exiting => {}
        }
    });
    out.wanted_height = inner.response.rect.height();
    out
}

fn purpose_text(purpose: Purpose) -> Text {
    match purpose {
        Purpose::Authenticate => Text::PurposeAuthenticate,
        Purpose::Sign => Text::PurposeSign,
        Purpose::Consent => Text::PurposeConsent,
        Purpose::TlsLogin => Text::PurposeTlsLogin,
    }
}

/// The purpose's heading and what it means; for a TLS login, which program asks and that only the
/// authentication certificate is used.
fn what_is_asked(ui: &mut Ui, lang: Language, purpose: Purpose, asker: &Asker) {
    ui.label(RichText::new(purpose_text(purpose).get(lang)).size(18.0).strong());
    let explain = match purpose {
        Purpose::Authenticate => Text::ExplainAuthenticate.get(lang).to_owned(),
        Purpose::Sign => Text::ExplainSign.get(lang).to_owned(),
        Purpose::Consent => Text::ExplainConsent.get(lang).to_owned(),
        Purpose::TlsLogin => {
            // A tls_login always comes with the program's name ([`crate::protocol::check`]).
            let program = match asker {
                Asker::Program(name) => name.as_str(),
                Asker::Site { .. } => "",
            };
            i18n::fill(lang, Text::ExplainTlsLogin, &[("program", program)])
        }
    };
    // A plain label: the program's name is text, never markup, whatever it holds.
    ui.label(explain);
    if purpose == Purpose::TlsLogin {
        ui.label(RichText::new(Text::TlsLoginCertificate.get(lang)).size(SMALL).weak());
    }
}

/// Who asks, first: the site ([`site_header`]) or, for a TLS login, the program ([`program_header`]).
fn header(ui: &mut Ui, lang: Language, asker: &Asker) {
    match asker {
        Asker::Site { origin, embedded_in } => site_header(ui, lang, origin, embedded_in.as_ref()),
        Asker::Program(name) => program_header(ui, lang, name),
    }
}

/// The program that asks (`tls_login`), in the place and size of a site's name: PKCS#11 does not
/// tell the module which site the browser logs in to, so the program is what the user can check.
/// There is no "check the site" line: there is no site to check.
fn program_header(ui: &mut Ui, lang: Language, name: &str) {
    boxed(ui, 6, Margin::symmetric(12, 8), |ui| {
        ui.label(RichText::new(Text::RequestFromProgram.get(lang)).size(SMALL).weak());
        let strong = ui.visuals().strong_text_color();
        ui.add(egui::Label::new(RichText::new(name).size(HOST_SIZE).color(strong)).wrap());
    });
}

/// The site, first: what the user must check ([`site_name`]), and the site of the page it is
/// embedded in, if another.
fn site_header(ui: &mut Ui, lang: Language, origin: &Origin, embedded_in: Option<&Origin>) {
    boxed(ui, 6, Margin::symmetric(12, 8), |ui| {
        ui.label(RichText::new(Text::RequestFrom.get(lang)).size(SMALL).weak());
        site_name(ui, &SiteName::of(origin));
        if let Some(top) = embedded_in {
            embedded_line(ui, lang, &SiteName::of(top));
        }
        if !origin.is_secure() {
            let text = i18n::fill(lang, Text::NotSecure, &[("origin", origin.as_str())]);
            let color = ui.visuals().error_fg_color;
            let bg = ui.visuals().panel_fill;
            ui.horizontal_top(|ui| {
                warning_icon(ui, color, bg);
                ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
            });
        } else if origin.port().is_some() {
            ui.label(RichText::new(origin.as_str()).weak());
        }
    });
    ui.label(RichText::new(Text::CheckHost.get(lang)).size(SMALL).weak());
}

/// Width of `text` on one line at `size` points.
fn text_width(ui: &Ui, text: &str, size: f32) -> f32 {
    ui.ctx().fonts_mut(|f| {
        f.layout_no_wrap(text.to_owned(), FontId::proportional(size), Color32::PLACEHOLDER)
            .size()
            .x
    })
}

/// The site's name: the registrable domain big, strong and whole (wrapped if it must be, never
/// cut), the rest of the host before it smaller. On one line when the rest, shortened from the
/// left to whole labels (`…login-check.`), fits beside it; else the rest on a line of its own
/// above, shortened to that line.
fn site_name(ui: &mut Ui, name: &SiteName) {
    let strong = ui.visuals().strong_text_color();
    let site = egui::Label::new(RichText::new(&name.site).size(HOST_SIZE).color(strong)).wrap();
    if name.prefix.is_empty() {
        ui.add(site);
        return;
    }
    let prefix = |text: String| egui::Label::new(RichText::new(text).size(PREFIX_SIZE)).extend();
    let width = ui.available_width();
    let room = width - text_width(ui, &name.site, HOST_SIZE);
    let inline = (room > 0.0)
        .then(|| elide_labels(&name.prefix, |p| text_width(ui, p, PREFIX_SIZE) <= room))
        .flatten();
    match inline {
        Some(shown) => {
            // One row as high as the site's text, both at its bottom, the smaller text lifted by
            // the difference of the fonts' descents (a fifth of the size): one baseline, one name.
            let height = ui.ctx().fonts_mut(|f| f.row_height(&FontId::proportional(HOST_SIZE)));
            let lift = ((HOST_SIZE - PREFIX_SIZE) * 0.2).round() as i8;
            let row = Vec2::new(width, height);
            ui.allocate_ui_with_layout(row, Layout::left_to_right(Align::Max), |ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                Frame::new()
                    .inner_margin(Margin {
                        bottom: lift,
                        ..Margin::ZERO
                    })
                    .show(ui, |ui| ui.add(prefix(shown)));
                ui.add(site);
            });
        }
        None => {
            let fits = |p: &str| text_width(ui, p, PREFIX_SIZE) <= width;
            let shown = elide_labels(&name.prefix, fits).unwrap_or_else(|| elide_chars(&name.prefix, fits));
            ui.add(prefix(shown));
            ui.add(site);
        }
    }
}

/// "Embedded in <top site>": its registrable domain whole, the rest of its host shortened from
/// the left to keep the line to one line when it can.
fn embedded_line(ui: &mut Ui, lang: Language, top: &SiteName) {
    let width = ui.available_width();
    let line = |prefix: &str| i18n::fill(lang, Text::EmbeddedIn, &[("site", &format!("{prefix}{}", top.site))]);
    let prefix = elide_labels(&top.prefix, |p| text_width(ui, &line(p), EMBEDDED_SIZE) <= width).unwrap_or_default();
    let text = RichText::new(line(&prefix))
        .size(EMBEDDED_SIZE)
        .color(ui.visuals().strong_text_color());
    ui.add_space(2.0);
    ui.add(egui::Label::new(text).wrap());
}

fn asking(ui: &mut Ui, model: &mut Model, lang: Language, now: Instant, out: &mut Output) {
    // Keys first: the text typed this frame is in the PIN before the field is drawn.
    read_pin_keys(ui, model);
    let Some(a) = model.asking_mut() else { return };
    let purpose = a.request.purpose;

    header(ui, lang, &a.asker);
    ui.separator();
    what_is_asked(ui, lang, purpose, &a.asker);
    details(ui, lang, &a.request);

    if let Some(notice) = a.notice {
        let text = i18n::status_text(notice);
        banner(ui, text.get(lang), ui.visuals().warn_fg_color, false);
    }
    match &a.request.error {
        Some(AskError::WrongPin { tries_left }) => {
            let tries = a
                .request
                .pin
                .as_ref()
                .and_then(|p| p.tries_left)
                .or(*tries_left)
                .map(u32::from);
            banner(ui, &i18n::wrong_pin(lang, tries), ui.visuals().error_fg_color, false);
        }
        Some(AskError::Message { text }) => banner(ui, &display_text(text), ui.visuals().error_fg_color, false),
        None => {}
    }
    if a.is_last_try() {
        banner(ui, Text::LastTryWarning.get(lang), ui.visuals().error_fg_color, true);
    } else if a.is_blocked() {
        banner(ui, Text::PinBlocked.get(lang), ui.visuals().error_fg_color, true);
    }

    let label = a.request.pin.as_ref().map_or("PIN", |p| p.label.as_str()).to_owned();
    if let Some(wait) = a.waiting() {
        // The host waits for the user (or tells a final state): the site and what to do, no field.
        ui.add_space(4.0);
        let text = i18n::wait_text(wait).get(lang);
        if wait.is_final() {
            banner(ui, text, ui.visuals().error_fg_color, true);
        } else {
            busy_line(ui, text);
            ui.label(RichText::new(Text::WaitCancel.get(lang)).size(SMALL).weak());
            out.repaint_after = Some(Duration::from_millis(250));
        }
    } else if a.has_pin_field() {
        ui.add_space(4.0);
        pin_field(ui, lang, a, &label);
    } else if a.request.pinpad && purpose != Purpose::Consent {
        ui.add_space(4.0);
        let (prompt, cancel) = if a.request.token_prompt {
            (Text::TokenPrompt, Text::TokenPromptCancel)
        } else {
            (Text::PinpadPrompt, Text::PinpadCancel)
        };
        let prompt = i18n::fill(lang, prompt, &[("label", &label)]);
        busy_line(ui, &prompt);
        if let Some(tries) = a.tries_left().filter(|_| !a.is_last_try()) {
            ui.label(RichText::new(i18n::tries_left(lang, tries)).weak());
        }
        ui.label(RichText::new(cancel.get(lang)).size(SMALL).weak());
        out.repaint_after = Some(Duration::from_millis(250));
    }

    let mut event = None;
    if let Some(wait) = a.waiting() {
        // One button: Cancel while waiting, Close for a final state (both answer `cancelled`).
        ui.add_space(8.0);
        let size = Vec2::new(120.0, 30.0);
        let label = if wait.is_final() { Text::Close } else { Text::Cancel };
        ui.horizontal(|ui| {
            ui.add_space((ui.available_width() - size.x).max(0.0));
            if ui.add(Button::new(label.get(lang)).min_size(size)).clicked() {
                event = Some(Event::Cancel);
            }
        });
        if event.is_none() && ui.input(|i| i.key_pressed(Key::Escape) || i.key_pressed(Key::Enter)) {
            event = Some(Event::Cancel);
        }
    } else if a.has_buttons() {
        ui.add_space(8.0);
        let can_submit = a.can_submit(now);
        let submit = match purpose {
            Purpose::Authenticate | Purpose::TlsLogin => Text::SubmitAuthenticate,
            Purpose::Sign => Text::SubmitSign,
            Purpose::Consent => Text::SubmitConsent,
        };
        ui.horizontal(|ui| {
            // Right-aligned, but added left to right so Tab goes field → Cancel → OK.
            let size = Vec2::new(120.0, 30.0);
            ui.add_space((ui.available_width() - 2.0 * size.x - ui.spacing().item_spacing.x).max(0.0));
            let cancel = ui.add(Button::new(Text::Cancel.get(lang)).min_size(size));
            // The default button stands out (filled) once it can be used.
            let mut ok = Button::new(RichText::new(submit.get(lang)).strong()).min_size(size);
            if can_submit {
                ok = ok.fill(ui.visuals().selection.bg_fill);
            }
            let ok = ui.add_enabled(can_submit, ok);
            if cancel.clicked() {
                event = Some(Event::Cancel);
            } else if ok.clicked() {
                event = Some(Event::Submit);
            }
        });
        if event.is_none() {
            // Enter on a focused button already clicked it above; otherwise Enter submits.
            let (enter, escape) = ui.input(|i| (i.key_pressed(Key::Enter), i.key_pressed(Key::Escape)));
            if escape {
                event = Some(Event::Cancel);
            } else if enter {
                event = Some(Event::Submit);
            }
        }
        out.repaint_after = a.arming_left(now);
    }
    if let Some(event) = event {
        out.effects.extend(model.handle(event, now));
    }
}

/// Holder, certificate and (for signing) the hash.
fn details(ui: &mut Ui, lang: Language, r: &Ask) {
    let mut rows: Vec<(Text, String)> = Vec::new();
    if let Some(holder) = r.holder.as_deref().map(display_text).filter(|h| !h.is_empty()) {
        rows.push((Text::Holder, holder));
    }
    if let Some(cert) = &r.certificate {
        let subject = display_text(&cert.subject);
        if !subject.is_empty() {
            rows.push((Text::Certificate, subject));
        }
        let issuer = display_text(&cert.issuer);
        if !issuer.is_empty() {
            rows.push((Text::IssuedBy, issuer));
        }
        let (from, to) = (display_text(&cert.not_before), display_text(&cert.not_after));
        if !from.is_empty() || !to.is_empty() {
            rows.push((
                Text::Valid,
                i18n::fill(lang, Text::ValidRange, &[("from", &from), ("to", &to)]),
            ));
        }
    }
    if !rows.is_empty() {
        ui.add_space(2.0);
        egui::Grid::new("details")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (label, value) in rows {
                    ui.label(RichText::new(label.get(lang)).weak());
                    ui.add(egui::Label::new(value).wrap());
                    ui.end_row();
                }
            });
    }
    // What is signed: the hash function and the fingerprint, full width so it never wraps early.
    if let Some(hash) = r.hash.as_ref().filter(|_| r.purpose == Purpose::Sign) {
        ui.add_space(2.0);
        boxed(ui, 4, Margin::symmetric(10, 6), |ui| {
            let caption = i18n::fill(lang, Text::Fingerprint, &[("function", &display_text(&hash.function))]);
            ui.label(RichText::new(caption).size(SMALL).weak());
            let value = RichText::new(display_text(&hash.fingerprint))
                .monospace()
                .size(15.0)
                .strong();
            ui.add(egui::Label::new(value).wrap());
        });
    }
}

/// A full-width box on the faint background with tight lines: what the user must read closely (the
/// site, the fingerprint of what is signed).
fn boxed(ui: &mut Ui, corner: u8, margin: Margin, content: impl FnOnce(&mut Ui)) {
    Frame::new()
        .fill(ui.visuals().faint_bg_color)
        .stroke(ui.visuals().widgets.noninteractive.bg_stroke)
        .corner_radius(CornerRadius::same(corner))
        .inner_margin(margin)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.spacing_mut().item_spacing.y = 2.0;
            content(ui);
        });
}

/// A framed line of text in `color`; `solid` (white on `color`) for the last-try warning.
fn banner(ui: &mut Ui, text: &str, color: Color32, solid: bool) {
    // Solid: a dark red that keeps white text readable (contrast above 4.5:1) in both themes.
    let (fill, ink) = if solid {
        (Color32::from_rgb(185, 28, 28), Color32::WHITE)
    } else {
        (color.gamma_multiply(0.12), color)
    };
    Frame::new()
        .fill(fill)
        .stroke(Stroke::new(1.0, color))
        .corner_radius(CornerRadius::same(4))
        .inner_margin(Margin::symmetric(10, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            let icon_ink = if solid { fill } else { ui.visuals().panel_fill };
            ui.horizontal_top(|ui| {
                warning_icon(ui, ink, icon_ink);
                let mut rich = RichText::new(text).color(ink);
                if solid {
                    rich = rich.size(15.0).strong();
                }
                ui.add(egui::Label::new(rich).wrap());
            });
        });
}

/// A warning triangle drawn with the painter (the bundled fonts have no ⚠).
fn warning_icon(ui: &mut Ui, color: Color32, ink: Color32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(16.0), Sense::hover());
    let painter = ui.painter();
    let (l, r, t, b) = (
        rect.left() + 0.5,
        rect.right() - 0.5,
        rect.top() + 1.0,
        rect.bottom() - 0.5,
    );
    let points = vec![egui::pos2(rect.center().x, t), egui::pos2(r, b), egui::pos2(l, b)];
    painter.add(egui::Shape::convex_polygon(points, color, Stroke::NONE));
    let x = rect.center().x;
    painter.line_segment([egui::pos2(x, t + 5.0), egui::pos2(x, b - 5.0)], Stroke::new(1.8, ink));
    painter.circle_filled(egui::pos2(x, b - 2.6), 1.1, ink);
}

/// A line of text with three dots that light up in turn (a cheap "busy" sign: four frames a second).
fn busy_line(ui: &mut Ui, text: &str) {
    ui.horizontal(|ui| {
        let t = ui.input(|i| i.time);
        let lit = ((t * 4.0) as usize) % 3;
        let (rect, _) = ui.allocate_exact_size(Vec2::new(36.0, 16.0), Sense::hover());
        for dot in 0..3 {
            let color = if dot == lit {
                ui.visuals().strong_text_color()
            } else {
                ui.visuals().weak_text_color()
            };
            let center = egui::pos2(rect.left() + 6.0 + 12.0 * dot as f32, rect.center().y);
            ui.painter().circle_filled(center, 4.0, color);
        }
        ui.add(egui::Label::new(RichText::new(text).size(15.0)).wrap());
    });
}

/// Digits, Backspace and paste go to the PIN wherever the keyboard focus is (the PIN is the only
/// text input). Other characters are refused by the model.
fn read_pin_keys(ui: &Ui, model: &mut Model) {
    ui.input(|i| {
        for event in &i.events {
            match event {
                egui::Event::Text(text) | egui::Event::Paste(text) => model.type_text(text),
                egui::Event::Key {
                    key: Key::Backspace,
                    pressed: true,
                    modifiers,
                    ..
                } => {
                    if modifiers.command || modifiers.ctrl {
                        if let Some(a) = model.asking_mut() {
                            a.pin.clear();
                        }
                    } else {
                        model.backspace();
                    }
                }
                _ => {}
            }
        }
    });
}

/// The masked PIN field: one bullet per digit, no text ever drawn.
fn pin_field(ui: &mut Ui, lang: Language, a: &mut Asking, label: &str) {
    let title = i18n::fill(lang, Text::EnterPin, &[("label", label)]);
    let (min, max) = a.pin_bounds();
    let label_response = ui.label(RichText::new(&title).strong());
    let height = 34.0;
    let (rect, response) = ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::click());
    // Focus the field for each new question, on click, and whenever nothing else has the focus
    // (so typing always lands in the field and screen readers announce it).
    if a.take_focus_request() || response.clicked() || ui.memory(|m| m.focused().is_none()) {
        response.request_focus();
    }
    let focused = response.has_focus();
    let visuals = ui.visuals();
    let stroke = if focused {
        Stroke::new(2.0, visuals.selection.stroke.color)
    } else {
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color)
    };
    let painter = ui.painter_at(rect.expand(2.0));
    painter.rect_filled(rect, CornerRadius::same(4), visuals.extreme_bg_color);
    painter.rect_stroke(rect, CornerRadius::same(4), stroke, StrokeKind::Inside);
    let dot_color = visuals.strong_text_color();
    let step = 18.0;
    let mut x = rect.left() + 14.0;
    for _ in 0..a.pin.len() {
        painter.circle_filled(egui::pos2(x, rect.center().y), 5.0, dot_color);
        x += step;
    }
    if focused {
        let caret_x = x - 6.0 + if a.pin.is_empty() { 0.0 } else { 2.0 };
        let y = rect.center().y;
        painter.line_segment(
            [egui::pos2(caret_x, y - 9.0), egui::pos2(caret_x, y + 9.0)],
            Stroke::new(1.5, visuals.text_color()),
        );
    }
    let masked = "•".repeat(a.pin.len());
    let charset = a.pin_charset();
    let hint_text = i18n::pin_length(lang, min, max, charset);
    response.widget_info(|| WidgetInfo::text_edit(true, &masked, &masked, &hint_text));
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_role(egui::accesskit::Role::PasswordInput);
        node.add_action(egui::accesskit::Action::Focus);
    });
    let _ = response.labelled_by(label_response.id);

    // Under the field: why a key was refused, else the rules and the tries left.
    let line = match a.hint {
        Some(InputHint::DigitsOnly) => Some((Text::DigitsOnly.get(lang).to_owned(), true)),
        Some(InputHint::NotPrintable) => Some((Text::PrintableOnly.get(lang).to_owned(), true)),
        Some(InputHint::MaxDigits) => {
            let full = match charset {
                Charset::Digits => Text::MaxDigits,
                Charset::Any => Text::MaxChars,
            };
            Some((i18n::fill(lang, full, &[("max", &max.to_string())]), true))
        }
        None => None,
    };
    ui.horizontal(|ui| {
        match line {
            Some((text, _)) => {
                ui.label(RichText::new(text).size(SMALL).color(ui.visuals().warn_fg_color));
            }
            None => {
                ui.label(RichText::new(&hint_text).size(SMALL).weak());
            }
        }
        if let Some(tries) = a.tries_left().filter(|&n| n > 1) {
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.label(RichText::new(i18n::tries_left(lang, tries)).size(SMALL).weak());
            });
        }
    });
}
