//! The local, append-only history of requests the tray app shows: time, origin, action, certificate
//! holder, result. Never a PIN, never a document hash. One JSON object per line in
//! `<data dir>/history.jsonl`.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The requesting origin.
    pub origin: String,
    /// `authenticate`, `get-signing-certificate` or `sign`.
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

/// Appends an entry (creating the directory and file as needed).
pub fn append(data_dir: &Path, entry: &Entry) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("history.jsonl"))?;
    // One write per line, so concurrent hosts never interleave inside a line.
    f.write_all(&line)
}

/// Reads every entry (malformed lines are skipped).
pub fn read(data_dir: &Path) -> std::io::Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(data_dir.join("history.jsonl")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("eidlink-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = Entry::now("https://ex.be", "authenticate", Some("Alice".into()), "ok");
        let b = Entry::now("https://ex.be", "sign", None, "USER_CANCELLED");
        append(&dir, &a).expect("append");
        append(&dir, &b).expect("append");
        assert_eq!(read(&dir).expect("read"), vec![a, b]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
