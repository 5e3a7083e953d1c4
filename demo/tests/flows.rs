//! The demo service over real HTTPS, with tokens and signatures made with the virtual card's test PKI
//! keys: the login and contract-signing flows, and each way they must fail.
// Test helpers outside #[test] fns: a failed step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use eidlink_core::HashAlgorithm;
use eidlink_verifier::{verify_signature, SignatureAlgorithm};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_sign_and_download() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();

    // The challenge opens an anonymous session with a strict cookie.
    let nonce = b.challenge().await;
    let anonymous = b.cookie.clone().expect("session cookie");
    let set = b.last_set_cookie.clone().unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }

    let login = b
        .post("/api/auth/login", &json!({ "token": token(pki, &demo.origin, &nonce) }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let who = login.json();
    assert_eq!(who["holder"], "ALICE SPECIMEN");
    assert_eq!(who["nationalNumber"], "85010112486");
    assert_eq!(who["algorithm"], "ES384");
    assert_ne!(
        b.cookie.as_deref(),
        Some(anonymous.as_str()),
        "a new session id at login"
    );

    // The pages know who is there.
    let home = b.get("/").await;
    assert!(
        home.text.contains(r#"<span id="holder">ALICE SPECIMEN</span>"#),
        "{}",
        home.text
    );
    assert!(home.text.contains(r#"<span id="national-number">85010112486</span>"#));
    assert!(home.text.contains(r#"<section id="login-section" hidden>"#));
    let contract = b.get("/contract").await;
    assert_eq!(contract.status, StatusCode::OK);
    assert!(contract.text.contains("Contrat d'adhésion"));
    assert!(contract.text.contains(r#"<button id="sign""#));
    assert!(contract.text.contains(r#"<section id="signed" hidden>"#));

    // Prepare: the ECC card offers SHA-384, so SHA-384 it is.
    let prepared = b.prepare(pki, "fr").await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", prepared.text);
    let prepared = prepared.json();
    assert_eq!(prepared["hashFunction"], "SHA-384");
    assert_eq!(unb64(prepared["hash"].as_str().unwrap()).len(), 48);

    let finished = b.post("/api/sign/finish", &sign_result(pki, &prepared)).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.text);
    let done = finished.json();
    assert_eq!(done["holder"], "ALICE SPECIMEN");
    let signed_by = done["signedByText"].as_str().unwrap();
    assert!(signed_by.starts_with("Signé par ALICE SPECIMEN le "), "{signed_by}");
    assert!(signed_by.ends_with(" UTC"), "{signed_by}");
    assert_eq!(done["signatureAlgorithm"]["cryptoAlgorithm"], "ECC");
    let download = done["download"].as_str().unwrap().to_owned();
    assert_eq!(download, format!("/api/sign/download/{}", done["id"].as_str().unwrap()));

    // The download is a self-contained, checkable record.
    let file = b.get(&download).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text);
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let record = file.json();
    let document = record["document"].as_str().unwrap();
    assert!(document.starts_with("Contrat d'adhésion"));
    assert!(document.contains("ALICE SPECIMEN"));
    assert!(document.contains("85010112486"));
    assert!(record["notice"].as_str().unwrap().contains("Not a PAdES"));
    let hash = unb64(record["hash"].as_str().unwrap());
    assert_eq!(
        hash,
        eidlink_core::hash::hash(HashAlgorithm::Sha384, document.as_bytes())
    );
    assert_eq!(record["hash"], prepared["hash"]);
    assert_eq!(unb64(record["signingCertificate"].as_str().unwrap()), pki.sign_der);
    let alg: SignatureAlgorithm = serde_json::from_value(record["signatureAlgorithm"].clone()).unwrap();
    let signature = unb64(record["signature"].as_str().unwrap());
    verify_signature(&pki.sign_der, "SHA-384", &hash, &signature, &alg).unwrap();

    // The contract page shows the signature after a reload too.
    let contract = b.get("/contract").await;
    assert!(contract.text.contains(r#"<section id="signed">"#), "{}", contract.text);
    assert!(contract.text.contains(&download));

    // What the server verified for this session (the demo script prints it).
    let last = b.get("/api/last").await.json();
    assert_eq!(last["login"]["holder"], "ALICE SPECIMEN");
    assert_eq!(last["login"]["nationalNumber"], "85010112486");
    assert_eq!(last["login"]["algorithm"], "ES384");
    assert_eq!(last["signature"]["holder"], "ALICE SPECIMEN");
    assert_eq!(last["signature"]["algorithm"], "ECC/SHA-384/NONE");
    assert_eq!(last["signature"]["hashFunction"], "SHA-384");
    assert_eq!(last["signature"]["documentId"], done["id"]);
    assert!(last["signature"]["time"].as_str().unwrap().ends_with('Z'));

    // Logout ends the session.
    let out = b.post("/api/auth/logout", &json!({})).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(b.cookie.is_none());
    b.get(&download).await.assert_refused(401, "NOT_LOGGED_IN", None);
}

#[tokio::test]
async fn english_document_and_rsa_card_with_sha256() {
    let demo = start().await;
    let pki = alice_rsa();
    let mut b = demo.browser();
    assert_eq!(b.login(pki).await["algorithm"], "RS256");
    let prepared = b.prepare(pki, "en").await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", prepared.text);
    let prepared = prepared.json();
    assert_eq!(prepared["hashFunction"], "SHA-256", "RSA cards sign SHA-256 here");
    let done = b.post("/api/sign/finish", &sign_result(pki, &prepared)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let done = done.json();
    assert!(done["signedByText"]
        .as_str()
        .unwrap()
        .starts_with("Signed by ALICE SPECIMEN on "));
    let record = b.get(done["download"].as_str().unwrap()).await.json();
    assert!(record["document"].as_str().unwrap().starts_with("Enrollment contract"));
    assert_eq!(record["lang"], "en");
}

#[tokio::test]
async fn the_root_and_an_intermediate_can_be_configured() {
    let pki = alice();
    let demo = start_with(&[&pki.root_der], &[&pki.ca_der], None).await;
    let mut b = demo.browser();
    b.login(pki).await;
    assert_eq!(b.prepare(pki, "fr").await.status, StatusCode::OK);
    // Without the intermediate, nothing chains to the root.
    let demo = start_with(&[&pki.root_der], &[], None).await;
    demo.browser()
        .login_with(pki)
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("UNTRUSTED_ISSUER"));
}

#[tokio::test]
async fn a_nonce_is_used_once() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();

    // A failed login uses the nonce up: the right token for it is refused afterwards.
    let nonce = b.challenge().await;
    let bad = token(pki, "https://evil.example", &nonce);
    b.post("/api/auth/login", &json!({ "token": bad }))
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("BAD_SIGNATURE"));
    let good = json!({ "token": token(pki, &demo.origin, &nonce) });
    b.post("/api/auth/login", &good)
        .await
        .assert_refused(401, "NONCE_REJECTED", Some("NO_CHALLENGE"));

    // A successful login cannot be replayed, with the old cookie or the new one.
    let nonce = b.challenge().await;
    let anonymous = b.cookie.clone();
    let good = json!({ "token": token(pki, &demo.origin, &nonce) });
    assert_eq!(b.post("/api/auth/login", &good).await.status, StatusCode::OK);
    b.post("/api/auth/login", &good)
        .await
        .assert_refused(401, "NONCE_REJECTED", Some("NO_CHALLENGE"));
    let mut replay = demo.browser();
    replay.cookie = anonymous;
    replay
        .post("/api/auth/login", &good)
        .await
        .assert_refused(401, "NONCE_REJECTED", Some("NO_CHALLENGE"));

    // A token for another browser's nonce does not log this one in.
    let mut other = demo.browser();
    let others_nonce = other.challenge().await;
    let mut mine = demo.browser();
    mine.challenge().await;
    mine.post(
        "/api/auth/login",
        &json!({ "token": token(pki, &demo.origin, &others_nonce) }),
    )
    .await
    .assert_refused(401, "TOKEN_REJECTED", Some("BAD_SIGNATURE"));

    // No challenge at all.
    demo.browser()
        .post("/api/auth/login", &good)
        .await
        .assert_refused(401, "NONCE_REJECTED", Some("NO_CHALLENGE"));
}

#[tokio::test]
async fn a_token_for_another_origin_is_refused() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();
    let nonce = b.challenge().await;
    let other_port = "https://localhost:1";
    b.post("/api/auth/login", &json!({ "token": token(pki, other_port, &nonce) }))
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("BAD_SIGNATURE"));

    // With --origin, that origin is the one tokens must name.
    let demo = start_with(&[&pki.ca_der], &[], Some("https://demo.eidlink.example")).await;
    assert_eq!(demo.origin, "https://demo.eidlink.example");
    let mut b = demo.browser();
    let nonce = b.challenge().await;
    // (The test client sends no Origin header for these, as a non-browser client would.)
    let req = json!({ "token": token(pki, "https://demo.eidlink.example", &nonce) });
    let a = b.post_with("/api/auth/login", &req, ("x-test", "1")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn an_untrusted_ca_is_refused() {
    let demo = start().await;
    demo.browser()
        .login_with(alice_untrusted())
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("UNTRUSTED_ISSUER"));
    // And a malformed token is a refusal too, not a crash.
    let mut b = demo.browser();
    b.challenge().await;
    b.post("/api/auth/login", &json!({ "token": {"format": "web-eid:1.0"} }))
        .await
        .assert_refused(401, "TOKEN_REJECTED", Some("TOKEN_LENGTH"));
    b.post("/api/auth/login", &json!({ "nothing": 1 }))
        .await
        .assert_refused(400, "BAD_REQUEST", None);
}

#[tokio::test]
async fn a_tampered_signature_is_refused_and_the_hash_is_used_up() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();
    b.login(pki).await;
    let prepared = b.prepare(pki, "fr").await.json();
    let good = sign_result(pki, &prepared);
    let mut bad = good.clone();
    let mut sig = unb64(bad["signature"].as_str().unwrap());
    sig[10] ^= 0x01;
    bad["signature"] = json!(b64(&sig));
    b.post("/api/sign/finish", &bad)
        .await
        .assert_refused(422, "SIGNATURE_REJECTED", Some("BAD_SIGNATURE"));
    b.post("/api/sign/finish", &good)
        .await
        .assert_refused(409, "NO_PENDING_SIGNATURE", None);

    // A signature over another hash function than the one asked for.
    let prepared = b.prepare(pki, "fr").await.json();
    let mut other = sign_result(pki, &prepared);
    other["signatureAlgorithm"]["hashFunction"] = json!("SHA-256");
    b.post("/api/sign/finish", &other)
        .await
        .assert_refused(422, "SIGNATURE_REJECTED", Some("HASH_FUNCTION_MISMATCH"));
    assert!(b.get("/api/last").await.json()["signature"].is_null());
}

#[tokio::test]
async fn finish_without_prepare_is_refused() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();
    b.login(pki).await;
    let fake = json!({
        "signature": b64(&[0u8; 96]),
        "signatureAlgorithm": {"cryptoAlgorithm": "ECC", "hashFunction": "SHA-384", "paddingScheme": "NONE"},
    });
    b.post("/api/sign/finish", &fake)
        .await
        .assert_refused(409, "NO_PENDING_SIGNATURE", Some("NOT_PREPARED"));
}

#[tokio::test]
async fn the_signing_certificate_must_be_the_logged_in_persons() {
    let demo = start().await;
    let mut b = demo.browser();
    b.login(alice()).await;
    // Bob's certificate chains to the same trusted CA, but names someone else.
    b.prepare(bob(), "fr")
        .await
        .assert_refused(403, "CERTIFICATE_NOT_HOLDER", None);
    // Alice's name under an untrusted CA.
    b.prepare(alice_untrusted(), "fr")
        .await
        .assert_refused(403, "CERTIFICATE_REJECTED", Some("UNTRUSTED_ISSUER"));
    // Not base64.
    b.post(
        "/api/sign/prepare",
        &json!({"certificate": "%%%", "supportedSignatureAlgorithms": []}),
    )
    .await
    .assert_refused(400, "BAD_REQUEST", Some("BASE64"));
    // No algorithm the service uses.
    let mut offer = signing_certificate(alice());
    offer["supportedSignatureAlgorithms"] =
        json!([{"cryptoAlgorithm": "ECC", "hashFunction": "SHA3-256", "paddingScheme": "NONE"}]);
    b.post("/api/sign/prepare", &offer)
        .await
        .assert_refused(422, "UNSUPPORTED_ALGORITHM", None);
    // Nothing was left pending by the refusals.
    assert_nothing_pending(&mut b).await;
}

#[tokio::test]
async fn nothing_without_a_session() {
    let demo = start().await;
    let pki = alice();
    let mut b = demo.browser();
    b.prepare(pki, "fr").await.assert_refused(401, "NOT_LOGGED_IN", None);
    b.post("/api/sign/finish", &json!({"signature": "", "signatureAlgorithm": {"cryptoAlgorithm": "ECC", "hashFunction": "SHA-384", "paddingScheme": "NONE"}}))
        .await
        .assert_refused(401, "NOT_LOGGED_IN", None);
    b.get("/api/sign/download/abc")
        .await
        .assert_refused(401, "NOT_LOGGED_IN", None);
    let contract = b.get("/contract?lang=en").await;
    assert_eq!(contract.status, StatusCode::SEE_OTHER);
    assert_eq!(contract.headers["location"], "/?lang=en");

    // An anonymous session (challenge only) is not a login.
    b.challenge().await;
    b.prepare(pki, "fr").await.assert_refused(401, "NOT_LOGGED_IN", None);

    // An unknown or forged cookie is no session.
    b.cookie = Some("forged".into());
    b.prepare(pki, "fr").await.assert_refused(401, "NOT_LOGGED_IN", None);

    // Alice's document is not Bob's to download.
    let mut alice_b = demo.browser();
    alice_b.login(pki).await;
    let prepared = alice_b.prepare(pki, "fr").await.json();
    let done = alice_b
        .post("/api/sign/finish", &sign_result(pki, &prepared))
        .await
        .json();
    let download = done["download"].as_str().unwrap();
    let mut bob_b = demo.browser();
    bob_b.login(bob()).await;
    bob_b.get(download).await.assert_refused(404, "NOT_FOUND", None);
    assert_eq!(alice_b.get(download).await.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_languages_and_headers() {
    let demo = start().await;
    let mut b = demo.browser();

    let health = b.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);

    let fr = b.get("/").await;
    assert_eq!(fr.status, StatusCode::OK);
    assert!(fr.text.contains(r#"<html lang="fr">"#));
    assert!(fr.text.contains("Se connecter avec ma carte d'identité"));
    assert!(fr.text.contains(r#"<button id="login""#));
    assert!(fr.text.contains(r#"id="status""#) && fr.text.contains(r#"data-state="idle""#));
    let csp = fr.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(fr.headers["x-content-type-options"], "nosniff");
    assert_eq!(fr.headers["x-frame-options"], "DENY");
    assert!(!fr.text.contains("<script>"), "no inline script");

    let en = b.get("/?lang=en").await;
    assert!(en.text.contains(r#"<html lang="en">"#));
    assert!(en.text.contains("Log in with my identity card"));
    let en = b.get_with("/", ("accept-language", "en-GB,en;q=0.9,fr;q=0.5")).await;
    assert!(en.text.contains("Log in with my identity card"));
    let fr = b.get_with("/?lang=fr", ("accept-language", "en")).await;
    assert!(fr.text.contains(r#"<html lang="fr">"#));
    let de = b.get_with("/", ("accept-language", "de")).await;
    assert!(de.text.contains(r#"<html lang="fr">"#), "French by default");

    let js = b.get("/app.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.text.contains("import('/eidlink.js')"));
    let module = b.get("/eidlink.js").await;
    assert_eq!(module.status, StatusCode::OK);
    assert!(module.text.contains("export async function status"));
    assert_eq!(b.get("/style.css").await.status, StatusCode::OK);

    assert_eq!(b.get("/favicon.ico").await.status, StatusCode::NO_CONTENT);
    let missing = b.get("/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Cross-site POSTs are refused whatever the cookie.
    b.post_with("/api/auth/challenge", &json!({}), ("origin", "https://evil.example"))
        .await
        .assert_refused(403, "BAD_ORIGIN", None);
    b.post_with("/api/auth/challenge", &json!({}), ("sec-fetch-site", "cross-site"))
        .await
        .assert_refused(403, "BAD_ORIGIN", None);

    // What the server verified is only for a logged-in session's own person.
    b.get("/api/last").await.assert_refused(401, "NOT_LOGGED_IN", None);
}

#[tokio::test]
async fn last_shows_the_callers_own_session_only() {
    let demo = start().await;
    let mut alice_b = demo.browser();
    alice_b.login(alice()).await;
    let prepared = alice_b.prepare(alice(), "fr").await.json();
    let done = alice_b
        .post("/api/sign/finish", &sign_result(alice(), &prepared))
        .await
        .json();

    // Nobody else learns who logged in or signed: no session, an anonymous one, a forged cookie.
    let mut stranger = demo.browser();
    let a = stranger.get("/api/last").await;
    a.assert_refused(401, "NOT_LOGGED_IN", None);
    assert!(
        !a.text.contains("85010112486") && !a.text.contains("ALICE"),
        "{}",
        a.text
    );
    stranger.challenge().await;
    stranger
        .get("/api/last")
        .await
        .assert_refused(401, "NOT_LOGGED_IN", None);
    stranger.cookie = Some("forged".into());
    stranger
        .get("/api/last")
        .await
        .assert_refused(401, "NOT_LOGGED_IN", None);

    // Bob, logged in after Alice, sees his own login and no signature, not hers.
    let mut bob_b = demo.browser();
    bob_b.login(bob()).await;
    let bobs = bob_b.get("/api/last").await;
    assert_eq!(bobs.status, StatusCode::OK, "{}", bobs.text);
    assert!(
        !bobs.text.contains("85010112486") && !bobs.text.contains("ALICE"),
        "{}",
        bobs.text
    );
    let bobs = bobs.json();
    assert_eq!(bobs["login"]["holder"], "BOB EXEMPLE");
    assert_eq!(bobs["login"]["nationalNumber"], "90020199744");
    assert!(bobs["signature"].is_null(), "{bobs}");

    // Alice still sees hers; after logout, nothing.
    let mine = alice_b.get("/api/last").await.json();
    assert_eq!(mine["login"]["holder"], "ALICE SPECIMEN");
    assert_eq!(mine["signature"]["documentId"], done["id"]);
    alice_b.post("/api/auth/logout", &json!({})).await;
    alice_b
        .get("/api/last")
        .await
        .assert_refused(401, "NOT_LOGGED_IN", None);
}

#[tokio::test]
async fn an_authentication_certificate_cannot_sign_the_contract() {
    let demo = start().await;
    for pki in [alice(), alice_rsa()] {
        let mut b = demo.browser();
        b.login(pki).await;
        // The login certificate is valid, trusted and the holder's, but has no nonRepudiation.
        let mut offer = signing_certificate(pki);
        offer["certificate"] = json!(b64(&pki.auth_der));
        let a = b.post("/api/sign/prepare", &offer).await;
        a.assert_refused(403, "CERTIFICATE_REJECTED", Some("NOT_A_SIGNING_CERTIFICATE"));
        assert!(
            a.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nonRepudiation"),
            "{}",
            a.text
        );
        // Nothing is pending; the signing certificate still works.
        assert_nothing_pending(&mut b).await;
        assert_eq!(b.prepare(pki, "fr").await.status, StatusCode::OK);
    }
}

/// A signature sent now finds nothing prepared to finish.
async fn assert_nothing_pending(b: &mut Browser<'_>) {
    let fake = json!({
        "signature": b64(&[1u8; 96]),
        "signatureAlgorithm": {"cryptoAlgorithm": "ECC", "hashFunction": "SHA-384", "paddingScheme": "NONE"},
    });
    b.post("/api/sign/finish", &fake)
        .await
        .assert_refused(409, "NO_PENDING_SIGNATURE", None);
}
