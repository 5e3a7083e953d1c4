//! eidlink desktop UI: the PIN dialog the native-messaging host starts as a child process
//! (`eidlink-pin`, docs/pin-dialog-protocol.md), and later the tray app.
//!
//! The dialog is split so its logic is testable without a display: [`protocol`] (the JSON lines),
//! [`model`] (the state machine, no egui), [`i18n`] (texts in four languages), [`view`] (draws a
//! model with egui, also run under egui_kittest) and [`pin`] (the program: stdin thread, eframe
//! window, stdout). [`site`] names a site (registrable domain first) for the dialog and the tray.

pub mod i18n;
pub mod model;
pub mod pin;
pub mod protocol;
pub mod site;
pub mod view;
