//! Opt-in logging, the same for every eidlink program: nothing unless the user turned it on (the
//! `logging` setting, or `EIDLINK_LOG=<level>`), and then to `<data dir>/<file>`, never to stdout
//! (the host's stdout is the protocol channel). The log is the user's only (0600, in the 0700
//! data directory: it names sites and card holders), and bounded: a log found over
//! [`MAX_BYTES`] when a program starts is renamed `<file>.1` (replacing the previous one).

use std::sync::Mutex;

use crate::config::{Config, Dirs};

/// The size over which a log is rotated when a program opens it.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Starts logging to `file_name` in the data directory when it is wanted; returns whether it did.
pub fn init(config: &Config, dirs: Option<&Dirs>, file_name: &str) -> bool {
    let env_level = std::env::var("EIDLINK_LOG").ok();
    if !config.logging && env_level.is_none() {
        return false;
    }
    let Some(dirs) = dirs else { return false };
    let Ok(file) = open(&dirs.data, file_name) else {
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

/// Opens the log for appending, private and rotated (see the module documentation).
fn open(data_dir: &std::path::Path, file_name: &str) -> std::io::Result<std::fs::File> {
    crate::fsutil::create_private_dir(data_dir)?;
    let path = data_dir.join(file_name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_BYTES) {
        // Two programs starting at once may both try; the second rename fails harmlessly.
        let rotated = data_dir.join(format!("{file_name}.1"));
        if std::fs::rename(&path, &rotated).is_ok() {
            // A log of an older version may have been 0644.
            let _ = crate::fsutil::open_private_append(&rotated);
        }
    }
    crate::fsutil::open_private_append(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_log_is_rotated_once_and_a_small_one_kept() {
        let dir = std::env::temp_dir().join(format!("eidlink-logging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("host.log");
        drop(open(&dir, "host.log").unwrap());
        std::fs::write(&path, b"small\n").unwrap();
        drop(open(&dir, "host.log").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"small\n", "under the limit: kept");

        let big = vec![b'x'; MAX_BYTES as usize + 1];
        std::fs::write(&path, &big).unwrap();
        drop(open(&dir, "host.log").unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "a fresh log");
        assert_eq!(
            std::fs::metadata(dir.join("host.log.1")).unwrap().len(),
            big.len() as u64
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
