//! Line protocol of the `eidlink-vcard --control SOCKET` Unix socket.
//!
//! One command per line; one reply line per command, `ok ...` or `err ...`
//! (except `log`, whose `ok N` line is followed by N log lines). Blank lines
//! are ignored. See tests/README.md for the full table.

use crate::handle::VirtualCardHandle;
use crate::log::hex_spaced;

/// The answer to one control line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Lines to send back (without newlines); empty for a blank input line.
    pub lines: Vec<String>,
    /// `true` after `quit`: the server should stop.
    pub quit: bool,
}

impl Reply {
    fn ok(text: impl AsRef<str>) -> Reply {
        let text = text.as_ref();
        let line = if text.is_empty() {
            "ok".to_string()
        } else {
            format!("ok {text}")
        };
        Reply {
            lines: vec![line],
            quit: false,
        }
    }

    fn err(text: impl AsRef<str>) -> Reply {
        Reply {
            lines: vec![format!("err {}", text.as_ref())],
            quit: false,
        }
    }
}

fn parse_u64(arg: Option<&str>, what: &str) -> Result<u64, Reply> {
    let arg = arg.ok_or_else(|| Reply::err(format!("missing {what}")))?;
    arg.parse().map_err(|_| Reply::err(format!("bad {what} {arg:?}")))
}

fn parse_sw(arg: Option<&str>) -> Result<u16, Reply> {
    let arg = arg.ok_or_else(|| Reply::err("missing status word"))?;
    let hex = arg.trim_start_matches("0x");
    if hex.len() != 4 {
        return Err(Reply::err(format!("bad status word {arg:?} (4 hex digits)")));
    }
    u16::from_str_radix(hex, 16).map_err(|_| Reply::err(format!("bad status word {arg:?}")))
}

/// Executes one control line against a running card.
pub fn execute(handle: &VirtualCardHandle, line: &str) -> Reply {
    let mut words = line.split_whitespace();
    let Some(command) = words.next() else {
        return Reply {
            lines: Vec::new(),
            quit: false,
        };
    };
    let args: Vec<&str> = words.collect();
    let expected = match command {
        "remove-at" | "delay" => 1,
        "sw-at" => 2,
        _ => 0,
    };
    if args.len() > expected {
        return Reply::err(format!("too many arguments for {command}"));
    }
    let arg1 = args.first().copied();
    let arg2 = args.get(1).copied();
    let result = match command {
        "insert" => {
            handle.insert();
            Ok(Reply::ok(""))
        }
        "remove" => {
            handle.remove();
            Ok(Reply::ok(""))
        }
        "remove-at" => parse_u64(arg1, "APDU number").map(|k| {
            handle.remove_at(k);
            Reply::ok(format!("remove at APDU {}", k.max(1)))
        }),
        "sw-at" => parse_u64(arg1, "APDU number").and_then(|k| {
            let sw = parse_sw(arg2)?;
            handle.sw_at(k, sw);
            Ok(Reply::ok(format!("SW {sw:04X} at APDU {}", k.max(1))))
        }),
        "delay" => parse_u64(arg1, "milliseconds").map(|ms| {
            handle.delay(ms);
            Reply::ok(format!("delay {ms} ms"))
        }),
        "clear-faults" => {
            handle.clear_faults();
            Ok(Reply::ok(""))
        }
        "log" => {
            let log = handle.apdu_log();
            let mut lines = vec![format!("ok {}", log.len())];
            lines.extend(log.iter().map(|e| e.to_line()));
            Ok(Reply { lines, quit: false })
        }
        "clear-log" => {
            handle.clear_log();
            Ok(Reply::ok(""))
        }
        "count" => Ok(Reply::ok(handle.apdu_count().to_string())),
        "tries" => Ok(Reply::ok(match handle.sign_pin_tries_left() {
            Some(pin2) => format!("{} {pin2}", handle.pin_tries_left()),
            None => handle.pin_tries_left().to_string(),
        })),
        "status" => Ok(Reply::ok(format!(
            "{} {} {} {} profile={} port={} apdus={}",
            if handle.is_inserted() { "inserted" } else { "removed" },
            if handle.is_connected() {
                "connected"
            } else {
                "disconnected"
            },
            if handle.is_present() { "present" } else { "absent" },
            if handle.is_powered() { "powered" } else { "unpowered" },
            handle.profile(),
            handle.port(),
            handle.apdu_count(),
        ))),
        "atr" => Ok(Reply::ok(hex_spaced(&handle.with_card(|c| c.atr())))),
        "quit" => Ok(Reply {
            lines: vec!["ok bye".into()],
            quit: true,
        }),
        other => Err(Reply::err(format!("unknown command {other:?}"))),
    };
    result.unwrap_or_else(|err| err)
}
