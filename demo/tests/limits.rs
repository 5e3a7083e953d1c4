//! What the service does against clients that flood it or hold it up: anonymous challenges are
//! rate-limited (and cannot push logged-in sessions out), and request headers and bodies that arrive
//! too slowly are cut off. Over real HTTPS; the slow clients write HTTP by hand over TLS.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn a_flood_of_anonymous_challenges_is_refused_and_logged_in_sessions_stay() {
    let demo = start().await;
    let pki = alice();
    let mut alice_b = demo.browser();
    alice_b.login(pki).await;
    let mut anonymous = demo.browser();
    anonymous.challenge().await;

    // Fresh browsers (no cookie) from one address, as fast as they can: the first few pass (a person
    // may retry a login several times), then 429 with a JSON error and Retry-After.
    let mut passed = 0;
    let mut refused = None;
    for _ in 0..200 {
        let mut flood = demo.browser();
        let a = flood.post("/api/auth/challenge", &json!({})).await;
        if a.status == StatusCode::OK {
            passed += 1;
        } else {
            refused = Some(a);
            break;
        }
    }
    let refused = refused.expect("a flood of challenges from one address is never refused");
    refused.assert_refused(429, "TOO_MANY_REQUESTS", None);
    assert!(
        refused.headers.get("set-cookie").is_none(),
        "no session for a refused challenge"
    );
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    assert!(passed >= 10, "only {passed} challenges before the limit");

    // An anonymous session that already has a cookie is limited too (each challenge is a nonce).
    assert!(anonymous.cookie.is_some());
    anonymous
        .post("/api/auth/challenge", &json!({}))
        .await
        .assert_refused(429, "TOO_MANY_REQUESTS", None);

    // The logged-in person is untouched: still logged in, can still sign, and a challenge from a
    // logged-in session (a new login) is not counted against the address.
    let last = alice_b.get("/api/last").await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
    assert_eq!(last.json()["login"]["holder"], "ALICE SPECIMEN");
    assert_eq!(alice_b.prepare(pki, "fr").await.status, StatusCode::OK);
    assert_eq!(alice_b.login_with(pki).await.status, StatusCode::OK);
}

/// `POST /api/auth/login` announcing a body of `length` bytes, headers complete.
fn login_head(demo: &Demo, length: usize) -> String {
    format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nOrigin: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n",
        demo.origin
    )
}

/// Reads until the server closes (or `limit` passes): what it answered, and after how long.
async fn read_to_close(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: Duration,
) -> Result<(String, Duration), String> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Err(_) => {
                return Err(format!(
                    "still open after {limit:?}; got: {:?}",
                    String::from_utf8_lossy(&got)
                ))
            }
            Ok(Ok(0) | Err(_)) => return Ok((String::from_utf8_lossy(&got).into_owned(), started.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_request_body_that_trickles_in_is_answered_408() {
    let body_timeout = Duration::from_secs(1);
    let demo = start_configured(&[&alice().ca_der], &[], None, |s| {
        s.with_request_timeouts(Duration::from_secs(30), body_timeout)
    })
    .await;
    let tls = demo.raw_tls().await;
    let (mut reader, mut writer) = tokio::io::split(tls);
    // Headers at once, then one byte of the announced 200 every 100 ms (20 s in all).
    writer.write_all(login_head(&demo, 200).as_bytes()).await.unwrap();
    writer.flush().await.unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if writer.write_all(b" ").await.is_err() || writer.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let (answer, after) = read_to_close(&mut reader, Duration::from_secs(8)).await.unwrap();
    trickle.abort();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(after >= body_timeout, "answered after {after:?}");
    eprintln!("slow body answered 408 and closed after {after:?} (timeout {body_timeout:?})");

    // A body that comes at once is read as usual on the same service.
    let mut b = demo.browser();
    b.challenge().await;
    b.post("/api/auth/login", &json!({ "token": {"format": "web-eid:1.0"} }))
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("TOKEN_LENGTH"));
}

#[tokio::test]
async fn request_headers_that_trickle_in_close_the_connection() {
    let header_timeout = Duration::from_secs(1);
    let demo = start_configured(&[&alice().ca_der], &[], None, |s| {
        s.with_request_timeouts(header_timeout, Duration::from_secs(30))
    })
    .await;
    let mut tls = demo.raw_tls().await;
    let head = login_head(&demo, 2);
    tls.write_all(&head.as_bytes()[..20]).await.unwrap();
    tls.flush().await.unwrap();
    let (answer, after) = read_to_close(&mut tls, Duration::from_secs(8)).await.unwrap();
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(after >= header_timeout, "closed after {after:?}");
    eprintln!("slow headers: connection closed after {after:?} (timeout {header_timeout:?})");
}
