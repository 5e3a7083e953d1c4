//! The verifier's notion of "now" (protocol.md §4.5, nonce expiry), injectable so tests and the CLI's
//! `--at` can check a token at a chosen time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Seconds since the Unix epoch (negative before 1970), as certificate times are compared.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based civil-to-days formula).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a UTC time `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339 with `Z`, optional fraction ignored) or a date
/// `YYYY-MM-DD` (midnight UTC). For the CLI's `--at` and for tests.
pub fn parse_utc(s: &str) -> Option<SystemTime> {
    let num = |part: &str, len: usize| -> Option<i64> {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (h, m, sec) = match time {
        None => (0, 0, 0),
        Some(t) => {
            let t = t.strip_suffix(['Z', 'z'])?;
            let t = t.split_once('.').map_or(t, |(whole, frac)| {
                if frac.bytes().all(|b| b.is_ascii_digit()) {
                    whole
                } else {
                    "invalid"
                }
            });
            let mut p = t.split(':');
            let hms = (num(p.next()?, 2)?, num(p.next()?, 2)?, num(p.next()?, 2)?);
            if p.next().is_some() || hms.0 > 23 || hms.1 > 59 || hms.2 > 60 {
                return None;
            }
            hms
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec;
    let abs = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(abs)
    } else {
        UNIX_EPOCH.checked_sub(abs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_times() {
        let secs = |s: &str| parse_utc(s).map(unix_seconds);
        assert_eq!(secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(secs("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(secs("2026-01-01"), Some(1_767_225_600));
        assert_eq!(secs("2000-02-29T12:34:56.789Z"), Some(951_827_696));
        assert_eq!(secs("1969-12-31T23:59:59Z"), Some(-1));
        for bad in [
            "",
            "2026-13-01",
            "2026-01-01T00:00:00",
            "2026-1-1",
            "2026-01-01T25:00:00Z",
            "x",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
