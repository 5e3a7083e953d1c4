#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod app;
pub mod autostart;
pub mod backend;
pub mod card;
pub mod dump;
pub mod i18n;
pub mod icon;
pub mod state;
pub mod systray;
pub mod view;

pub use eidlink_settings as settings;
