//! Hosts append to the journal from other processes while the tray forgets: no append is lost. The
//! appenders are this test binary run again (`child_appender`, which only works when asked to).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use eidlink_settings::history::{append, forget, read, Entry, Forget};

const CHILD_DIR: &str = "EIDLINK_TEST_HISTORY_CHILD_DIR";
const CHILD_ID: &str = "EIDLINK_TEST_HISTORY_CHILD_ID";
const PER_CHILD: u64 = 150;

fn entry(time: u64, origin: &str) -> Entry {
    Entry {
        time,
        origin: origin.to_owned(),
        action: "sign".to_owned(),
        holder: None,
        result: "ok".to_owned(),
    }
}

#[test]
fn child_appender() {
    let (Ok(dir), Ok(id)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ID)) else {
        return;
    };
    let id: u64 = id.parse().unwrap();
    for i in 0..PER_CHILD {
        append(&PathBuf::from(&dir), &entry(id * 1000 + i, "https://keep.me")).unwrap();
    }
}

#[test]
fn appends_from_other_processes_survive_forgets() {
    let dir = std::env::temp_dir().join(format!("eidlink-history-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for i in 0..20 {
        append(&dir, &entry(i, "https://forget.me")).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (1..=3u64)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "child_appender", "--test-threads=1"])
                .env(CHILD_DIR, &dir)
                .env(CHILD_ID, id.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut children = children;
    // Forget for as long as any appender runs.
    while !children.is_empty() {
        forget(&dir, &Forget::Site("https://forget.me".into())).unwrap();
        let mut still = Vec::new();
        for mut c in children {
            match c.try_wait().unwrap() {
                Some(status) => assert!(status.success()),
                None => still.push(c),
            }
        }
        children = still;
    }
    let entries = read(&dir).unwrap();
    assert_eq!(entries.len() as u64, 3 * PER_CHILD);
    for id in 1..=3 {
        for i in 0..PER_CHILD {
            assert!(
                entries.contains(&entry(id * 1000 + i, "https://keep.me")),
                "lost {id}/{i}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
