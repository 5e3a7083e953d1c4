//! Plays the browser and the website around the real `eidlink-host`, for the demo: issues a nonce,
//! sends `authenticate`, `get-signing-certificate` and `sign` to the host over native messaging
//! (a new host process per command, as browsers do), and verifies each result with
//! `eidlink-verifier` against the given trust anchors, printing who logged in and what was signed.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use base64::Engine as _;
use clap::Parser;
use serde_json::{json, Value};
use sha2::Digest as _;

#[derive(Parser)]
struct Args {
    /// The eidlink-host binary.
    #[arg(long)]
    host: PathBuf,
    /// Trusted root CA (PEM or DER).
    #[arg(long)]
    root: PathBuf,
    /// Intermediate CA (PEM or DER).
    #[arg(long)]
    intermediate: PathBuf,
    /// The site's origin.
    #[arg(long, default_value = "https://service.example.be")]
    origin: String,
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn call(host: &PathBuf, msg: &Value) -> Result<Value, String> {
    let mut child = Command::new(host)
        .arg("chrome-extension://demo/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", host.display()))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let read = |r: &mut dyn Read| -> Result<Value, String> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(|e| format!("host closed: {e}"))?;
        let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
        r.read_exact(&mut body).map_err(|e| e.to_string())?;
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let version = read(&mut stdout)?;
    let body = msg.to_string();
    let mut framed = (body.len() as u32).to_ne_bytes().to_vec();
    framed.extend_from_slice(body.as_bytes());
    stdin.write_all(&framed).map_err(|e| e.to_string())?;
    stdin.flush().map_err(|e| e.to_string())?;
    let reply = read(&mut stdout)?;
    drop(stdin);
    let _ = child.wait();
    eprintln!(
        "  host {} answered {} to {}",
        version["version"].as_str().unwrap_or("?"),
        summary(&reply),
        msg["command"]
    );
    match reply.get("error") {
        Some(e) => Err(format!("{} ({}): {}", e["reason"], e["code"], e["message"])),
        None => Ok(reply),
    }
}

fn summary(v: &Value) -> String {
    match v.as_object() {
        Some(o) => format!("{{{}}}", o.keys().cloned().collect::<Vec<_>>().join(", ")),
        None => v.to_string(),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let root = std::fs::read(&args.root).map_err(|e| format!("{}: {e}", args.root.display()))?;
    let ca = std::fs::read(&args.intermediate).map_err(|e| format!("{}: {e}", args.intermediate.display()))?;
    let verifier = eidlink_verifier::TokenVerifier::builder(&args.origin)
        .trusted_cas(&root)
        .intermediates(&ca)
        .build()
        .map_err(|e| e.to_string())?;
    let nonces = eidlink_verifier::NonceStore::new();

    println!("1. Log in: the site issues a nonce and asks for an authentication token");
    let nonce = nonces.issue();
    let token = call(
        &args.host,
        &json!({"command":"authenticate","arguments":{"challengeNonce":nonce,"origin":args.origin,"lang":"en"}}),
    )?;
    nonces
        .consume(&nonce, std::time::SystemTime::now())
        .map_err(|e| e.to_string())?;
    let who = verifier
        .verify(&token.to_string(), &nonce)
        .map_err(|e| format!("token rejected: {e}"))?;
    println!(
        "   VERIFIED login of {} (national number {}), {} token for {}",
        who.subject.full_name().unwrap_or_default(),
        who.subject.national_number.clone().unwrap_or_default(),
        who.algorithm.name(),
        args.origin
    );

    println!("2. Sign a contract: the site asks for the signing certificate, then a signature");
    let cert = call(
        &args.host,
        &json!({"command":"get-signing-certificate","arguments":{"origin":args.origin}}),
    )?;
    let cert_b64 = cert["certificate"].as_str().ok_or("no certificate")?.to_owned();
    let contract = format!(
        "Enrollment contract for {}: I agree to the terms.",
        who.subject.full_name().unwrap_or_default()
    );
    let hash = sha2::Sha256::digest(contract.as_bytes());
    let reply = call(
        &args.host,
        &json!({"command":"sign","arguments":{"origin":args.origin,"certificate":cert_b64,
            "hash":b64(&hash),"hashFunction":"SHA-256"}}),
    )?;
    eidlink_verifier::verify_sign_result(&cert_b64, "SHA-256", &b64(&hash), &reply.to_string())
        .map_err(|e| format!("signature rejected: {e}"))?;
    println!(
        "   VERIFIED {} signature of the contract (SHA-256 {}) with the signing certificate",
        reply["signatureAlgorithm"]["cryptoAlgorithm"].as_str().unwrap_or("?"),
        hex::encode(&hash[..8])
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidlink-nm-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
