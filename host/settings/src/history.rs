//! The local journal of requests the tray app shows: time, origin (the site), action, certificate
//! holder, result. Never a PIN, never a document hash. One JSON object per line in
//! `<data dir>/history.jsonl`.
//!
//! Hosts (one process per request) append; the tray reads and "forgets". Nothing may be lost when
//! they run at once, so:
//! - an append is one `write()` on a file opened with `O_APPEND`, so appends never interleave;
//! - forgetting rewrites the journal into a temporary file renamed over it, holding an exclusive
//!   lock on `history.lock`; appenders hold a shared lock on it while they open and write, so an
//!   append lands either before the rewrite (and is copied) or after the rename (in the new file),
//!   never in the file being replaced;
//! - lines that do not parse are skipped when reading but kept by a rewrite: a line written by a
//!   newer version, or damaged by a crash, is not ours to delete;
//! - the journal stays bounded: an append that finds it over [`MAX_BYTES`] rewrites it (the same
//!   way, under the exclusive lock) keeping the newest lines up to half of that, so a site that
//!   fires requests in a loop cannot fill the disk.
//!
//! The directory is 0700 and the journal 0600: it tells which sites a citizen used, under which name.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The journal's file name in the data directory.
pub const FILE: &str = "history.jsonl";
/// The lock file appenders and rewriters take.
pub const LOCK_FILE: &str = "history.lock";
/// The size over which an append trims the journal to its newest half: at about 150 bytes a line,
/// some 3500 requests are kept, months of use.
pub const MAX_BYTES: u64 = 512 * 1024;

/// The action of a TLS client-certificate login through the PKCS#11 module (whose origin is the
/// program that asked: PKCS#11 does not tell the site).
pub const TLS_LOGIN: &str = "tls-login";

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The requesting origin (the site).
    pub origin: String,
    /// `authenticate`, `get-signing-certificate`, `sign` or [`TLS_LOGIN`].
    pub action: String,
    /// The certificate holder, when a card was read.
    pub holder: Option<String>,
    /// `ok`, or the error reason.
    pub result: String,
}

impl Entry {
    /// An entry stamped now.
    pub fn now(origin: &str, action: &str, holder: Option<String>, result: &str) -> Self {
        let time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self {
            time,
            origin: origin.to_owned(),
            action: action.to_owned(),
            holder,
            result: result.to_owned(),
        }
    }
}

/// What to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forget {
    /// Every entry of one site (origin).
    Site(String),
    /// Everything.
    All,
}

fn lock(data_dir: &Path, exclusive: bool) -> std::io::Result<File> {
    let f = crate::fsutil::open_private_append(&data_dir.join(LOCK_FILE))?;
    if exclusive {
        f.lock()?;
    } else {
        f.lock_shared()?;
    }
    // Released when the file is closed (dropped).
    Ok(f)
}

/// Appends an entry (creating the directory and file as needed).
pub fn append(data_dir: &Path, entry: &Entry) -> std::io::Result<()> {
    crate::fsutil::create_private_dir(data_dir)?;
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    let size = {
        let _lock = lock(data_dir, false)?;
        // Opened under the lock: after a forget's rename, this is the new file.
        let mut f = crate::fsutil::open_private_append(&data_dir.join(FILE))?;
        // One write per line, so concurrent hosts never interleave inside a line.
        f.write_all(&line)?;
        f.metadata()?.len()
    };
    if size > MAX_BYTES {
        trim(data_dir)?;
    }
    Ok(())
}

/// Keeps the newest lines of the journal, up to half of [`MAX_BYTES`].
fn trim(data_dir: &Path) -> std::io::Result<()> {
    let path = data_dir.join(FILE);
    let _lock = lock(data_dir, true)?;
    let text = std::fs::read(&path)?;
    // Another append may have trimmed it between our write and this lock.
    if text.len() as u64 <= MAX_BYTES {
        return Ok(());
    }
    // The cut is at the start of the first whole line within the newest half.
    let from = text.len() - (MAX_BYTES / 2) as usize;
    let start = if text[from - 1] == b'\n' {
        from
    } else {
        text[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| from + i + 1)
    };
    crate::fsutil::write_atomic(&path, &text[start..])?;
    tracing::debug!(dropped_bytes = start, "history trimmed to its newest entries");
    Ok(())
}

/// Reads every entry, newest first (malformed lines are skipped).
pub fn read(data_dir: &Path) -> std::io::Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(data_dir.join(FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries: Vec<Entry> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    // File order is append order; concurrent hosts may append a second apart out of order, so sort
    // by time too (stable: same-second entries stay newest first).
    entries.reverse();
    entries.sort_by_key(|e| std::cmp::Reverse(e.time));
    Ok(entries)
}

/// Reads the entries of one site, newest first.
pub fn read_site(data_dir: &Path, origin: &str) -> std::io::Result<Vec<Entry>> {
    let mut entries = read(data_dir)?;
    entries.retain(|e| e.origin == origin);
    Ok(entries)
}

/// The sites in the journal, each once, most recently used first.
pub fn sites(entries: &[Entry]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries {
        if !out.contains(&e.origin) {
            out.push(e.origin.clone());
        }
    }
    out
}

/// Removes entries; returns how many were removed. Appends running at the same time are kept.
pub fn forget(data_dir: &Path, what: &Forget) -> std::io::Result<usize> {
    let path: PathBuf = data_dir.join(FILE);
    if !path.exists() {
        return Ok(0);
    }
    let _lock = lock(data_dir, true)?;
    let text = std::fs::read(&path)?;
    let mut kept = Vec::with_capacity(text.len());
    let mut removed = 0;
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let drop = match serde_json::from_slice::<Entry>(line) {
            Ok(e) => match what {
                Forget::All => true,
                Forget::Site(site) => &e.origin == site,
            },
            // Not ours to judge (see the module documentation).
            Err(_) => false,
        };
        if drop {
            removed += 1;
        } else {
            kept.extend_from_slice(line);
            kept.push(b'\n');
        }
    }
    crate::fsutil::write_atomic(&path, &kept)?;
    tracing::debug!(removed, "history entries forgotten");
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eidlink-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entry(time: u64, origin: &str) -> Entry {
        Entry {
            time,
            origin: origin.to_owned(),
            action: "authenticate".to_owned(),
            holder: Some("Alice".to_owned()),
            result: "ok".to_owned(),
        }
    }

    #[test]
    fn appends_and_reads_back_newest_first() {
        let dir = temp_dir("basic");
        let a = Entry::now("https://ex.be", "authenticate", Some("Alice".into()), "ok");
        let b = Entry::now("https://ex.be", "sign", None, "USER_CANCELLED");
        append(&dir, &a).expect("append");
        append(&dir, &b).expect("append");
        assert_eq!(read(&dir).expect("read"), vec![b, a]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn filters_by_site_and_forgets_keeping_corrupt_lines() {
        let dir = temp_dir("forget");
        append(&dir, &entry(1, "https://a.be")).unwrap();
        append(&dir, &entry(2, "https://b.be")).unwrap();
        // A damaged line (a crash mid-write, or a newer format) between valid ones.
        let mut f = OpenOptions::new().append(true).open(dir.join(FILE)).unwrap();
        f.write_all(b"{\"time\": 3, \"orig\n").unwrap();
        append(&dir, &entry(4, "https://a.be")).unwrap();

        let all = read(&dir).unwrap();
        assert_eq!(
            all,
            vec![
                entry(4, "https://a.be"),
                entry(2, "https://b.be"),
                entry(1, "https://a.be")
            ]
        );
        assert_eq!(sites(&all), vec!["https://a.be".to_owned(), "https://b.be".to_owned()]);
        assert_eq!(read_site(&dir, "https://b.be").unwrap(), vec![entry(2, "https://b.be")]);

        assert_eq!(forget(&dir, &Forget::Site("https://a.be".into())).unwrap(), 2);
        assert_eq!(read(&dir).unwrap(), vec![entry(2, "https://b.be")]);
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        assert!(
            text.contains("{\"time\": 3, \"orig\n"),
            "the damaged line is kept: {text}"
        );

        assert_eq!(forget(&dir, &Forget::All).unwrap(), 1);
        assert!(read(&dir).unwrap().is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.join(FILE)).unwrap(),
            "{\"time\": 3, \"orig\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_journal_stays_bounded_and_keeps_the_newest_entries() {
        let dir = temp_dir("bounded");
        let n = 6000u64;
        for i in 0..n {
            append(&dir, &entry(i, "https://loop.example")).unwrap();
        }
        let size = std::fs::metadata(dir.join(FILE)).unwrap().len();
        assert!(size <= MAX_BYTES, "{size} bytes after {n} appends");
        let all = read(&dir).unwrap();
        assert_eq!(
            all.first(),
            Some(&entry(n - 1, "https://loop.example")),
            "the newest is kept"
        );
        assert!(all.len() > 1000, "only the oldest go: {} kept", all.len());
        // What is kept is a run of whole lines up to the newest, none damaged.
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        assert_eq!(text.lines().count(), all.len());
        let oldest = all.last().unwrap().time;
        assert_eq!(all.len() as u64, n - oldest);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn the_journal_and_its_directory_are_the_users_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("modes");
        append(&dir, &entry(1, "https://a.be")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(FILE)), 0o600);
        forget(&dir, &Forget::All).unwrap();
        assert_eq!(mode(&dir.join(FILE)), 0o600, "a rewrite keeps it private");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn forget_of_an_absent_journal_is_nothing() {
        let dir = temp_dir("absent");
        assert_eq!(forget(&dir, &Forget::All).unwrap(), 0);
        assert!(read(&dir).unwrap().is_empty());
    }

    #[test]
    fn appends_during_forgets_are_never_lost() {
        let dir = temp_dir("race");
        const WRITERS: u64 = 4;
        const PER_WRITER: u64 = 200;
        // Entries of the site being forgotten, appended before and during the forgets.
        for i in 0..50 {
            append(&dir, &entry(i, "https://forget.me")).unwrap();
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    for i in 0..PER_WRITER {
                        append(&dir, &entry(w * 1000 + i, "https://keep.me")).unwrap();
                    }
                })
            })
            .collect();
        let forgetter = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    forget(&dir, &Forget::Site("https://forget.me".into())).unwrap();
                }
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        forgetter.join().unwrap();
        let entries = read(&dir).unwrap();
        assert_eq!(
            entries.len() as u64,
            WRITERS * PER_WRITER,
            "every append survives the forgets"
        );
        for w in 0..WRITERS {
            for i in 0..PER_WRITER {
                assert!(entries.contains(&entry(w * 1000 + i, "https://keep.me")));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
