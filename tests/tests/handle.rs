//! Tests of the vpcd client, the runtime controls and the control protocol
//! against a fake vpcd (a TCP listener on an ephemeral port): no pcscd needed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{card, hex};
use eidlink_tests::vpcd::{read_frame, write_frame};
use eidlink_tests::{control, HandleConfig, Injected, Profile, VirtualCardHandle};

const T: Duration = Duration::from_secs(5);

/// The vpcd side of one card connection.
struct FakeVpcd {
    stream: TcpStream,
}

impl FakeVpcd {
    fn accept(listener: &TcpListener) -> FakeVpcd {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(T)).unwrap();
        FakeVpcd { stream }
    }

    fn control(&mut self, byte: u8) {
        write_frame(&mut self.stream, &[byte]).unwrap();
    }

    fn atr(&mut self) -> Vec<u8> {
        self.control(0x04);
        read_frame(&mut self.stream).unwrap()
    }

    /// Power-on the way pcscd does it: GET ATR, POWER ON, GET ATR.
    fn power_on(&mut self) -> Vec<u8> {
        self.atr();
        self.control(0x01);
        self.atr()
    }

    fn transmit(&mut self, apdu: &str) -> Vec<u8> {
        // Old vpcd writes the length and the payload separately.
        let apdu = hex(apdu);
        let len = u16::try_from(apdu.len()).unwrap().to_be_bytes();
        std::io::Write::write_all(&mut self.stream, &len).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        std::io::Write::write_all(&mut self.stream, &apdu).unwrap();
        read_frame(&mut self.stream).unwrap()
    }

    /// `true` once the card closed the connection.
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.stream.read(&mut buf), Ok(0) | Err(_))
    }
}

fn start(profile: Profile, log: Option<std::path::PathBuf>) -> (TcpListener, VirtualCardHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = VirtualCardHandle::start_with(
        card(profile),
        HandleConfig {
            port,
            apdu_log: log,
            reconnect_interval: Duration::from_millis(20),
            min_absence: Duration::ZERO,
            ..HandleConfig::default()
        },
    )
    .unwrap();
    (listener, handle)
}

#[test]
fn atr_power_and_apdus_over_vpcd() {
    let (listener, handle) = start(Profile::Belpic18, None);
    let mut vpcd = FakeVpcd::accept(&listener);
    handle.wait_connected(T).unwrap();
    assert!(!handle.is_powered());
    assert_eq!(vpcd.power_on(), Profile::Belpic18.atr());
    handle.wait_present(T).unwrap();
    let r = vpcd.transmit("80 E4 00 00 1C");
    assert_eq!(r.len(), 30);
    assert_eq!(r[21], 0x18);
    // Unknown control bytes are ignored, detection APDUs answered.
    vpcd.control(0x07);
    assert_eq!(vpcd.transmit("00 A4 04 00 07 62 76 01 FF 00 00 00"), [0x6A, 0x82]);
    assert_eq!(handle.apdu_count(), 2);
    assert_eq!(handle.connection_count(), 1);
}

#[test]
fn reset_clears_volatile_state_but_not_tries() {
    let (listener, handle) = start(Profile::Belpic18, None);
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on();
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 12 34 FF FF FF FF FF"), [0x90, 0x00]);
    assert_eq!(vpcd.transmit("00 20 00 01 00"), [0x90, 0x00]);
    vpcd.control(0x02); // reset
    vpcd.atr();
    assert_eq!(vpcd.transmit("00 20 00 01 00"), [0x63, 0xC3]);
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 99 99 FF FF FF FF FF"), [0x63, 0xC2]);
    vpcd.control(0x00); // power off
    vpcd.control(0x01);
    assert_eq!(vpcd.transmit("00 20 00 01 00"), [0x63, 0xC2]);
    assert_eq!(handle.pin_tries_left(), 2);
}

#[test]
fn remove_at_and_reinsert_keeps_pin_counter() {
    let dir = std::env::temp_dir().join(format!("eidlink-vcard-log-{}", std::process::id()));
    let (listener, handle) = start(Profile::Belpic18, Some(dir.clone()));
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on();
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 99 99 FF FF FF FF FF"), [0x63, 0xC2]);
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 12 34 FF FF FF FF FF"), [0x90, 0x00]);
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 99 99 FF FF FF FF FF"), [0x63, 0xC2]);
    handle.remove_at(2);
    assert_eq!(vpcd.transmit("80 E4 00 00 1C").len(), 30);
    // The 2nd APDU from the rule: no answer, connection closed.
    write_frame(&mut vpcd.stream, &hex("80 E4 00 01 1F")).unwrap();
    assert!(vpcd.closed());
    handle.wait_removed(T).unwrap();
    assert!(!handle.is_inserted());
    let log = handle.apdu_log();
    assert_eq!(log.last().unwrap().injected, Some(Injected::Removal));
    assert!(log.last().unwrap().response.is_empty());
    // Re-insertion: a new connection, fresh volatile state, same tries.
    handle.insert();
    let mut vpcd = FakeVpcd::accept(&listener);
    handle.wait_connected(T).unwrap();
    vpcd.power_on();
    assert_eq!(handle.connection_count(), 2);
    let r = vpcd.transmit("80 E4 00 01 1F");
    assert_eq!(r[28], 2);
    assert_eq!(vpcd.transmit("00 20 00 01 00"), [0x63, 0xC2]);
    // Manual removal.
    handle.remove();
    assert!(vpcd.closed());
    assert!(!handle.is_connected());
    // The file log has masked PINs and the events.
    let text = std::fs::read_to_string(&dir).unwrap();
    std::fs::remove_file(&dir).unwrap();
    assert!(
        text.contains("> 00 20 00 01 08 ** ** ** ** ** ** ** ** < 63 C2"),
        "{text}"
    );
    assert!(!text.contains("24 12 34"), "the PIN leaked into the log:\n{text}");
    assert!(text.contains("# card removed"), "{text}");
    assert!(text.contains("# power on"), "{text}");
    assert!(text.contains("card inserted (vpcd connection 2)"), "{text}");
    // The in-memory log is masked too.
    assert!(handle
        .apdu_log()
        .iter()
        .filter(|e| e.ins() == 0x20 && e.command.len() > 5)
        .all(|e| e.masked && e.command[5..].iter().all(|b| *b == 0)));
}

#[test]
fn sw_at_and_delay() {
    let (listener, handle) = start(Profile::EstEid, None);
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on();
    handle.sw_at(2, 0x6F00);
    handle.sw_at(3, 0x6A82);
    let select = "00 A4 04 0C 10 A0 00 00 00 77 01 08 00 07 00 00 FE 00 00 01 00";
    assert_eq!(vpcd.transmit(select), [0x90, 0x00]);
    assert_eq!(vpcd.transmit(select), [0x6F, 0x00]);
    assert_eq!(vpcd.transmit(select), [0x6A, 0x82]);
    assert_eq!(vpcd.transmit(select), [0x90, 0x00]);
    let log = handle.apdu_log();
    assert_eq!(log[1].injected, Some(Injected::Sw(0x6F00)));
    assert_eq!(log[1].sw(), Some(0x6F00));
    assert_eq!(log[3].injected, None);
    handle.delay(150);
    let t0 = Instant::now();
    assert_eq!(vpcd.transmit(select), [0x90, 0x00]);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(handle.apdu_log().last().unwrap().duration >= Duration::from_millis(150));
    handle.clear_faults();
    handle.clear_log();
    assert_eq!(handle.apdu_count(), 0);
    assert_eq!(handle.apdu_log().len(), 0);
    vpcd.transmit(select);
    assert_eq!(handle.apdu_log()[0].seq, 6, "seq counts from start, not from clear");
}

#[test]
fn reinsertion_waits_min_absence() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = VirtualCardHandle::start_with(
        card(Profile::Belpic18),
        HandleConfig {
            port,
            min_absence: Duration::from_millis(300),
            ..HandleConfig::default()
        },
    )
    .unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    handle.wait_present(Duration::ZERO).unwrap_err();
    vpcd.atr();
    handle.wait_present(T).unwrap();
    handle.remove();
    let removed = Instant::now();
    handle.insert();
    let _vpcd = FakeVpcd::accept(&listener);
    assert!(removed.elapsed() >= Duration::from_millis(300));
    handle.wait_connected(T).unwrap();
    assert!(!handle.is_present(), "not polled yet on the new connection");
}

#[test]
fn vpcd_closing_is_survived_by_reconnecting() {
    let (listener, handle) = start(Profile::Belpic17, None);
    let vpcd = FakeVpcd::accept(&listener);
    handle.wait_connected(T).unwrap();
    drop(vpcd); // pcscd went away
    let mut vpcd = FakeVpcd::accept(&listener);
    handle.wait_connected(T).unwrap();
    assert_eq!(vpcd.power_on(), Profile::Belpic17.atr());
    assert!(handle.is_inserted());
    assert!(handle.connection_count() >= 2);
}

#[test]
fn control_protocol_lines() {
    let (listener, handle) = start(Profile::EstEid, None);
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on();
    let run = |line: &str| control::execute(&handle, line).lines;
    assert_eq!(run("count"), ["ok 0"]);
    assert_eq!(run("tries"), ["ok 3 3"]);
    assert_eq!(run("sw-at 1 6A82"), ["ok SW 6A82 at APDU 1"]);
    assert_eq!(vpcd.transmit("00 A4 00 0C"), [0x6A, 0x82]);
    assert_eq!(run("count"), ["ok 1"]);
    let log = run("log");
    assert_eq!(log[0], "ok 1");
    assert!(log[1].contains("> 00 A4 00 0C < 6A 82 # injected SW 6A82"), "{log:?}");
    assert_eq!(run("delay 0"), ["ok delay 0 ms"]);
    assert_eq!(run("clear-log"), ["ok"]);
    assert_eq!(run("count"), ["ok 0"]);
    assert!(run("status")[0].starts_with("ok inserted connected present powered profile=esteid"));
    assert_eq!(
        run("atr")[0],
        format!("ok {}", eidlink_tests::log::hex_spaced(Profile::EstEid.atr()))
    );
    assert_eq!(run(""), Vec::<String>::new());
    assert!(run("bogus")[0].starts_with("err unknown command"));
    assert!(run("sw-at 1")[0].starts_with("err missing status word"));
    assert!(run("sw-at x 9000")[0].starts_with("err bad APDU number"));
    assert!(run("remove-at")[0].starts_with("err missing"));
    assert!(run("delay 1 2")[0].starts_with("err too many"));
    assert_eq!(run("remove-at 1"), ["ok remove at APDU 1"]);
    write_frame(&mut vpcd.stream, &hex("00 A4 00 0C")).unwrap();
    assert!(vpcd.closed());
    assert_eq!(run("remove"), ["ok"]);
    assert!(run("status")[0].starts_with("ok removed disconnected absent unpowered"));
    assert_eq!(run("insert"), ["ok"]);
    let _vpcd = FakeVpcd::accept(&listener);
    handle.wait_connected(T).unwrap();
    let quit = control::execute(&handle, "quit");
    assert!(quit.quit);
    assert_eq!(quit.lines, ["ok bye"]);
}

#[test]
fn binary_control_socket_end_to_end() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let socket = std::env::temp_dir().join(format!("eidlink-vcard-ctl-{}.sock", std::process::id()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_eidlink-vcard"))
        .args(["--profile", "belpic18", "--port", &port.to_string(), "--control"])
        .arg(&socket)
        .args(["--pin", "4321", "--tries-left", "2"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(vpcd.power_on(), Profile::Belpic18.atr());
    let deadline = Instant::now() + T;
    let client = loop {
        match UnixStream::connect(&socket) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("control socket never appeared: {e}"),
        }
    };
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut writer = client;
    let mut ask = |line: &str| {
        writeln!(writer, "{line}").unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).unwrap();
        reply.trim_end().to_string()
    };
    assert_eq!(ask("tries"), "ok 2");
    assert_eq!(vpcd.transmit("00 20 00 01 08 24 43 21 FF FF FF FF FF"), [0x90, 0x00]);
    assert_eq!(ask("tries"), "ok 3");
    assert_eq!(ask("count"), "ok 1");
    assert_eq!(ask("quit"), "ok bye");
    assert!(vpcd.closed(), "quit removes the card");
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(!socket.exists(), "socket file cleaned up");
}
