//! A scripted PIN program for tests, speaking the host's PIN program protocol
//! (docs/pin-dialog-protocol.md) like the real dialog, with answers given in advance.
//!
//! `eidlink-pin-script --answers 9999,1234 --record FILE`: each `ask` takes the next answer: digits
//! → `{"result":"pin","pin":...}`, `cancel` → cancelled, `confirm` → confirmed, `hang` → no answer
//! (a user who walks away). An `ask` with `wait` (the host waits for a reader or card) takes an
//! answer only when the next one is `wait-cancel` (the user cancels while waiting) and is otherwise
//! left unanswered, as the user does who goes to insert the card; a final one (a blocked PIN) is
//! closed at once. Without `--answers`, it answers by purpose: `--pin` to `authenticate`,
//! `--sign-pin` (default: `--pin`) to `sign`, and confirms `consent` (the demo's user). Every line received is appended to FILE (requests carry no PIN), so a
//! test can check what the dialog was shown, e.g. the tries left decreasing. Exits on `close` or at
//! the end of stdin, appending `EXIT` to FILE. Its first line is `PID <pid>`, so a test can check that
//! the host ended it.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Parser;
use eidlink_pin_protocol::{Purpose, Request, Response};
use zeroize::Zeroizing;

#[derive(Parser)]
struct Args {
    /// Answers, in order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    answers: Vec<String>,
    /// PIN for `authenticate` when no `--answers` are given.
    #[arg(long)]
    pin: Option<String>,
    /// PIN for `sign` when no `--answers` are given (default: `--pin`).
    #[arg(long)]
    sign_pin: Option<String>,
    /// Append every received line here.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn record(path: &Option<PathBuf>, line: &str) {
    if let Some(p) = path {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p) {
            let _ = writeln!(f, "{line}");
        }
    }
}

fn main() {
    let args = Args::parse();
    record(&args.record, &format!("PID {}", std::process::id()));
    let mut answers = args.answers.into_iter().peekable();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        record(&args.record, &line);
        // A line this program cannot read is recorded and skipped, like a status.
        let purpose = match Request::from_line(&line) {
            Ok(Request::Close) => break,
            Ok(Request::Ask(ask)) if ask.wait.is_some() => {
                let reply =
                    if answers.next_if(|a| a == "wait-cancel").is_some() || ask.wait.is_some_and(|w| w.is_final()) {
                        Response::Cancelled
                    } else {
                        continue;
                    };
                if out.write_all(&reply.to_line()).and_then(|()| out.flush()).is_err() {
                    break;
                }
                continue;
            }
            Ok(Request::Ask(ask)) => ask.purpose,
            Ok(Request::Status { .. }) | Err(_) => continue,
        };
        let by_purpose = if args.pin.is_some() {
            match purpose {
                Purpose::Consent => Some("confirm".to_owned()),
                Purpose::Sign => args.sign_pin.clone().or_else(|| args.pin.clone()),
                Purpose::Authenticate | Purpose::TlsLogin => args.pin.clone(),
            }
        } else {
            None
        };
        let reply = match by_purpose.or_else(|| answers.next()).as_deref() {
            Some("cancel") | None => Response::Cancelled,
            Some("confirm") => Response::Confirmed,
            Some("hang") => {
                // Wait until the host goes away (end of stdin) without answering.
                for l in stdin.lock().lines() {
                    if l.is_err() {
                        break;
                    }
                }
                break;
            }
            Some(pin) => Response::Pin(Zeroizing::new(pin.to_owned())),
        };
        if out.write_all(&reply.to_line()).and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    record(&args.record, "EXIT");
}
