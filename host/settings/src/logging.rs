//! Opt-in logging, the same for every eidlink program: nothing unless the user turned it on (the
//! `logging` setting, or `EIDLINK_LOG=<level>`), and then to `<data dir>/<file>`, never to stdout
//! (the host's stdout is the protocol channel).

use std::sync::Mutex;

use crate::config::{Config, Dirs};

/// Starts logging to `file_name` in the data directory when it is wanted; returns whether it did.
pub fn init(config: &Config, dirs: Option<&Dirs>, file_name: &str) -> bool {
    let env_level = std::env::var("EIDLINK_LOG").ok();
    if !config.logging && env_level.is_none() {
        return false;
    }
    let Some(dirs) = dirs else { return false };
    if std::fs::create_dir_all(&dirs.data).is_err() {
        return false;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.data.join(file_name))
    else {
        return false;
    };
    let level = env_level
        .or_else(|| config.log_level.clone())
        .unwrap_or_else(|| "info".to_owned());
    let Ok(filter) = tracing_subscriber::EnvFilter::try_new(&level) else {
        return false;
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .is_ok()
}
