//! vsmartcard vpcd wire protocol, card side (cards.md §6).
//!
//! vpcd (the pcscd driver) listens on TCP 35963 (reader `Virtual PCD 00 00`)
//! and 35964 (`Virtual PCD 00 01`) by default; the pcscd of scripts/lib.sh uses
//! another pair ([`port`], [`second_port`]). The card connects as a client, and
//! the connection itself is the card insertion. Frames in both directions are a
//! 2-byte big-endian length and a payload. A 1-byte payload is a control
//! message (00 power off, 01 power on, 02 reset, 04 get ATR) of which only
//! GET ATR is answered; any longer payload is a C-APDU answered with the
//! R-APDU. Never send an empty frame: vpcd ejects the card on it.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// vpcd port of the first virtual reader (`Virtual PCD 00 00`).
pub const DEFAULT_PORT: u16 = 35963;
/// vpcd port of the second virtual reader (`Virtual PCD 00 01`).
pub const SECOND_PORT: u16 = 35964;
/// The first vpcd port of the pcscd the tests use, when it is not the default: scripts/lib.sh
/// runs a private pcscd on its own port pair so that it never touches somebody else's pcscd.
pub const PORT_ENV: &str = "EIDLINK_VPCD_PORT";

/// The reader pcscd makes of vpcd's first slot, whatever its port.
pub const READER: &str = "Virtual PCD 00 00";
/// The reader of vpcd's second slot.
pub const SECOND_READER: &str = "Virtual PCD 00 01";

/// Fails the test, saying what to start, when the tests' pcscd with its two vpcd readers is not
/// running: tests through pcscd never pass without testing.
///
/// # Panics
/// When nothing listens on the vpcd ports.
pub fn require_vpcd() {
    let (first, second) = (port(), second_port());
    assert!(
        listener_present(first) && listener_present(second),
        "pcscd with the vsmartcard vpcd driver is not running (nothing listens on {first} and \
         {second}): run `bash scripts/test.sh` (or `bash scripts/with-pcscd.sh cargo test ...`), or \
         install pcscd and vsmartcard-vpcd and start `pcscd -f`"
    );
}

/// vpcd port of the first reader of the tests' pcscd: [`PORT_ENV`], else [`DEFAULT_PORT`].
pub fn port() -> u16 {
    port_from(std::env::var(PORT_ENV).ok().as_deref())
}

/// vpcd port of the second reader: vpcd's second slot listens on the next port.
pub fn second_port() -> u16 {
    port_from_second(port())
}

/// [`port`] from the variable's value. A value that is not a port (with room for the second
/// one) is reported and the default is used: the test then says nothing listens there.
fn port_from(value: Option<&str>) -> u16 {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return DEFAULT_PORT;
    };
    match value.trim().parse::<u16>() {
        Ok(port) if port != 0 && port < u16::MAX => port,
        _ => {
            eprintln!("{PORT_ENV}={value:?} is not a TCP port below 65535: using vpcd's default {DEFAULT_PORT}");
            DEFAULT_PORT
        }
    }
}

fn port_from_second(first: u16) -> u16 {
    first.checked_add(1).unwrap_or(SECOND_PORT)
}

/// One message from vpcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `00`: power off (no answer).
    PowerOff,
    /// `01`: power on (no answer; vpcd asks for the ATR next).
    PowerOn,
    /// `02`: warm reset (no answer).
    Reset,
    /// `04`: get ATR (answer: the framed ATR). Also vpcd's presence poll.
    GetAtr,
    /// A control byte this implementation does not know (ignored).
    UnknownControl(u8),
    /// A C-APDU (answer: the framed R-APDU, at least SW1 SW2).
    Apdu(Vec<u8>),
}

impl Message {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::PowerOff => "power off",
            Message::PowerOn => "power on",
            Message::Reset => "reset",
            Message::GetAtr => "get ATR",
            Message::UnknownControl(_) => "unknown control",
            Message::Apdu(_) => "APDU",
        }
    }

    /// Classifies a payload: 1 byte = control, anything else = C-APDU.
    pub fn from_payload(payload: Vec<u8>) -> Message {
        match payload.as_slice() {
            [0x00] => Message::PowerOff,
            [0x01] => Message::PowerOn,
            [0x02] => Message::Reset,
            [0x04] => Message::GetAtr,
            [other] => Message::UnknownControl(*other),
            _ => Message::Apdu(payload),
        }
    }
}

/// Reads one frame. `read_exact` matters: Debian's vpcd 0.8 writes the
/// length and the payload in two separate writes (cards.md §6).
pub fn read_frame(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    reader.read_exact(&mut len)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    reader.read_exact(&mut payload)?;
    Ok(payload)
}

/// Asks the kernel to acknowledge what arrives at once. vpcd writes a frame's length and payload in
/// two writes; with Nagle's algorithm on its side, the payload waits for our ACK of the length,
/// which a delayed ACK holds back for ~40 ms: every APDU would cost 40 ms more than it should.
/// Linux clears the flag after use, so it is set again before every read.
pub fn quick_ack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// Writes one frame in a single write.
pub fn write_frame(writer: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "vpcd frame over 65535 bytes"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    writer.write_all(&frame)?;
    writer.flush()
}

/// Connects to vpcd on 127.0.0.1:`port`: this *is* a card insertion. Only
/// call it to insert a card, never to probe the port (use
/// [`listener_present`] for that).
pub fn connect(port: u16) -> io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `true` if something LISTENs on TCP `port` (IPv4 or IPv6), read from
/// /proc/net/tcp{,6} so that vpcd does not see a spurious card insertion.
pub fn listener_present(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .any(|table| table_has_listener(&table, port))
}

/// Parses a /proc/net/tcp table: `local_address` is `HEXIP:HEXPORT`, state
/// `0A` is LISTEN.
fn table_has_listener(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|line| {
        let mut cols = line.split_whitespace();
        let local = cols.nth(1);
        let state = cols.nth(1);
        let port_hex = local.and_then(|l| l.rsplit(':').next());
        let listening = state == Some("0A");
        listening && port_hex.and_then(|p| u16::from_str_radix(p, 16).ok()) == Some(port)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn frames_round_trip_and_classify() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &[0x00, 0xA4, 0x04, 0x00]).unwrap();
        assert_eq!(buf, [0x00, 0x04, 0x00, 0xA4, 0x04, 0x00]);
        let payload = read_frame(&mut buf.as_slice()).unwrap();
        assert_eq!(Message::from_payload(payload), Message::Apdu(vec![0, 0xA4, 4, 0]));
        assert_eq!(Message::from_payload(vec![4]), Message::GetAtr);
        assert_eq!(Message::from_payload(vec![2]), Message::Reset);
        assert!(read_frame(&mut [0x00u8, 0x05, 0x01].as_slice()).is_err());
    }

    #[test]
    fn proc_net_tcp_listener_parsing() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue\n\
   0: 00000000:8C7B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n\
   1: 0100007F:8C7C 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0\n";
        assert!(table_has_listener(table, 35963));
        assert!(!table_has_listener(table, 35964));
    }

    #[test]
    fn port_from_the_environment_or_the_default() {
        assert_eq!(port_from(None), DEFAULT_PORT);
        assert_eq!(port_from(Some("")), DEFAULT_PORT);
        assert_eq!(port_from(Some("36640")), 36640);
        assert_eq!(port_from_second(36640), 36641);
        assert_eq!(port_from_second(DEFAULT_PORT), SECOND_PORT);
        for bad in ["0", "65535", "65536", "port", "-1"] {
            assert_eq!(port_from(Some(bad)), DEFAULT_PORT, "{bad}");
        }
    }
}
