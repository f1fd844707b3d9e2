//! Transaction signing: an application pushes (PAR) what a person must sign as RFC 9396
//! `authorization_details`; the person steps up to level 4, sees the documents' labels and
//! digests, and approves with their certificate's passphrase; the CA's signing service (the
//! development stand-in, CSC API v2 or BSrE) signs exactly those digests; the application gets
//! detached CMS signatures that `openssl cms -verify` accepts, and a receipt anyone can verify.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pintu::directory::{Actor, UserInput};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::backend_tests;
use crate::certificates::{form_ending, post_passphrase};
use crate::support::browser::{form_in, location, query_param};
use crate::support::{Backend, Browser, PASSWORD, REDIRECT_URI, TestApp, TestClient, pki, scratch};

backend_tests!(documents_are_signed_after_approval_at_level_four_and_verify_with_openssl, signing_through_the_bsre_api,);

pub(crate) async fn signing_app(backend: Backend, bsre: bool) -> (TestApp, pki::Signer) {
    let signer = pki::Signer::start(pki::NIP);
    let (url, file) = match bsre {
        true => (signer.bsre_url.clone(), signer.bsre_token_file.clone()),
        false => (signer.url.clone(), signer.token_file.clone()),
    };
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.signing = pintu::config::RawSigning {
                url: Some(url),
                token_file: Some(file),
                holder: Some(if bsre { "nik" } else { "nip" }.into()),
                api: Some(if bsre { "bsre" } else { "csc" }.into()),
            };
        });
    })
    .await;
    (app, signer)
}

/// Budi with his NIP certificate added (pending until he proves it) and an application
/// registered for both signing types.
pub(crate) async fn budi_and_application(app: &TestApp) -> (String, TestClient) {
    let input = UserInput {
        username: Some("budi".into()),
        name: "Budi Santoso".into(),
        nip: Some(pki::NIP.into()),
        nik: Some(pki::NIK.into()),
        email: Some("budi@kominfo.example.go.id".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let id = app.state.directory.create_user(&Actor::cli(), &input).await.expect("create budi").id;
    let token = app.office_token().await;
    let body = json!({ "certificate": pki::with_chain("nip") });
    let r = app.api("POST", &format!("/api/v1/users/{id}/certificates"), &token, Some(body), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let client = app
        .client_from(
            json!({
                "client_name": "E-Office Surat",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "authorization_details_types": ["credential", "urn:pintu:transaction"],
            }),
            true,
        )
        .await;
    (id, client)
}

pub(crate) fn digest_b64(document: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(document))
}

fn details(letter: &[u8], attachment: &[u8]) -> String {
    json!([
        {
            "type": "credential",
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
            "documentDigests": [
                { "hash": digest_b64(letter), "label": "Surat Edaran Bupati 12/2026" },
                { "hash": digest_b64(attachment), "label": "Lampiran anggaran" },
            ],
        },
        {
            "type": "urn:pintu:transaction", "description": "Persetujuan pencairan anggaran",
            "reference": "SPM-2026-0042", "amount": "1500000", "currency": "IDR", "opd": "DISKOMINFO",
        },
    ])
    .to_string()
}

async fn push(app: &TestApp, client: &TestClient, details: &str) -> (u16, Value) {
    let form = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("state", "signing-state"),
        ("nonce", "signing-nonce"),
        ("authorization_details", details),
    ];
    let (status, body, _) =
        app.post_form("/oauth2/par", &form, Some((&client.id, client.secret.as_deref().unwrap_or("")))).await;
    (status, body)
}

fn authorize_url(app: &TestApp, client: &TestClient, request_uri: &str) -> String {
    app.authorize_url(&[("client_id", client.id.as_str()), ("request_uri", request_uri)])
}

/// Pushes `details` and opens the request in `browser` (already signed in at level 4):
/// the consent page.
async fn consent_page(app: &TestApp, browser: &Browser, client: &TestClient, details: &str) -> String {
    let (status, body) = push(app, client, details).await;
    assert_eq!(status, 201, "{body}");
    let (status, page, _) = browser.get(&authorize_url(app, client, body["request_uri"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{page}");
    page
}

async fn decide(browser: &Browser, page: &str, decision: &str, passphrase: &str) -> (u16, String, String) {
    let form = form_in(page).expect("the consent form");
    let fields = [("csrf_token", form.csrf_token.as_str()), ("decision", decision), ("passphrase", passphrase)];
    let (status, page, headers) = browser.post(&form.action, &fields).await;
    let to = if status == 303 { location(&headers) } else { String::new() };
    (status.as_u16(), page, to)
}

/// `openssl cms -verify` of a detached signature over `content`, against the test root.
pub(crate) fn openssl_verifies(signature_b64: &str, content: &[u8]) -> bool {
    let signature = scratch::path("signature", ".p7s");
    let document = scratch::path("document", ".bin");
    std::fs::write(&signature, STANDARD.decode(signature_b64).unwrap()).unwrap();
    std::fs::write(&document, content).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-out", "/dev/null", "-in"])
        .arg(&signature)
        .arg("-content")
        .arg(&document)
        .arg("-CAfile")
        .arg(pki::file("root.pem"))
        .output()
        .expect("run openssl cms");
    out.status.success()
}

/// `pintu receipt verify FILE --jwks JWKS` in a directory of its own, trusting the test CA.
fn receipt_verifies_offline(receipt: &str, jwks: &str) -> bool {
    let dir = scratch::path("receipt-cli", "");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("receipt.jws"), receipt).unwrap();
    std::fs::write(dir.join("jwks.json"), jwks).unwrap();
    let anchors = pki::file("bundle.pem");
    let config = format!("[certificates]\ntrust_anchors = [\"{}\"]\nrevocation = \"soft\"\n", anchors.display());
    std::fs::write(dir.join("pintu.toml"), config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pintu"))
        .current_dir(&dir)
        .args(["receipt", "verify", "receipt.jws", "--jwks", "jwks.json"])
        .env_clear()
        .env("PINTU_METRICS__LISTEN", "")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.success(), stdout.contains("\"valid\": true"), "{stdout}");
    out.status.success()
}

fn claims_of(jws: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jws.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

async fn verify_receipt(app: &TestApp, receipt: &str) -> (u16, Value) {
    let r =
        app.http.post(app.url("/signing/receipts/verify")).json(&json!({ "receipt": receipt })).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn documents_are_signed_after_approval_at_level_four_and_verify_with_openssl(backend: Backend) {
    let (app, signer) = signing_app(backend, false).await;
    let (_, client) = budi_and_application(&app).await;
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["authorization_details_types_supported"], json!(["credential", "urn:pintu:transaction"]));
    let letter = b"Surat Edaran Bupati Nomor 12 Tahun 2026 tentang Tanda Tangan Elektronik".to_vec();
    let attachment = b"Lampiran: rincian anggaran".to_vec();
    let wanted = details(&letter, &attachment);

    // Refused before anyone sees them: unknown types, wrong digest lengths, an application
    // not registered for signing, details sent through the browser instead of pushed.
    let (status, body) = push(&app, &client, r#"[{"type":"payment_initiation"}]"#).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_authorization_details")), "{body}");
    let short = wanted.replace(&digest_b64(&letter), &STANDARD.encode([1u8; 20]));
    let (status, body) = push(&app, &client, &short).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_authorization_details")), "{body}");
    let one = json!({ "type": "urn:pintu:transaction", "description": "x".repeat(400), "reference": "r" });
    let huge = Value::Array(vec![one; 50]);
    let (status, body) = push(&app, &client, &huge.to_string()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_authorization_details")), "{body}");
    let plain = app.client().await;
    let (status, body) = push(&app, &plain, &wanted).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_authorization_details")), "{body}");
    let direct = app.authorize_url(&[
        ("client_id", client.id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("authorization_details", wanted.as_str()),
    ]);
    let (status, _, headers) = app.browser().get(&direct).await;
    assert_eq!(status, 303);
    assert_eq!(query_param(&location(&headers), "error").as_deref(), Some("invalid_request"));

    // Pushed, then opened: sign in, step up to level 4 with the signing service, and see what
    // is to be signed.
    let (status, body) = push(&app, &client, &wanted).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    let browser = app.browser();
    let (status, page, _) = browser.get(&authorize_url(&app, &client, &request_uri)).await;
    assert_eq!(status, 200, "{page}");
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "the level-4 step-up: {page}");
    let form = form_ending(&page, "remote-certificate");
    let (status, page, _) = post_passphrase(&app, &browser, &form, pki::PIN).await;
    assert_eq!(status, 200, "the approval page: {page}");
    let hex: String = Sha256::digest(&letter).iter().map(|b| format!("{b:02x}")).collect();
    let text = page.replace("&#x2f;", "/");
    for shown in ["Surat Edaran Bupati 12/2026", "Lampiran anggaran", hex.as_str(), "SPM-2026-0042", "1500000 IDR"] {
        assert!(text.contains(shown), "{shown} on {page}");
    }
    // The request_uri served once.
    let (status, _, _) = app.browser().get(&authorize_url(&app, &client, &request_uri)).await;
    assert_eq!(status, 400);

    // A wrong passphrase signs nothing and shows the page again; the right one signs.
    let (status, page, _) = decide(&browser, &page, "allow", "").await;
    assert_eq!(status, 400, "nothing typed is asked again: {page}");
    let (status, page, _) = decide(&browser, &page, "allow", "salah").await;
    assert_eq!(status, 401, "{page}");
    let (status, answer, to) = decide(&browser, &page, "allow", pki::PIN).await;
    assert_eq!(status, 303, "{answer}");
    // The same form again (Back, submit): the interaction is spent, nothing is signed twice.
    let (status, _, _) = decide(&browser, &page, "allow", pki::PIN).await;
    assert!(status == 400 || status == 403, "{status}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("signing-state"));
    let code = query_param(&to, "code").unwrap();
    let (status, tokens) = app
        .token(&client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)])
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "a signing grant has no refresh token: {tokens}");
    // RFC 9396 §9: the access token carries the approved details, and introspection says so.
    let access = tokens["access_token"].as_str().unwrap();
    let secret = (client.id.as_str(), client.secret.as_deref().unwrap_or(""));
    let (_, introspected, _) = app.post_form("/oauth2/introspect", &[("token", access)], Some(secret)).await;
    assert_eq!(introspected["authorization_details"][0]["type"], "credential", "{introspected}");
    // The ID token as a relying-party library checks it (openidconnect has no PAR or RFC 9396
    // support of its own: those requests above are plain HTTP, as the RFCs define them).
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = openidconnect::IssuerUrl::new(app.base.clone()).unwrap();
    let metadata = openidconnect::core::CoreProviderMetadata::discover_async(issuer, &http).await.unwrap();
    let rp = openidconnect::core::CoreClient::from_provider_metadata(
        metadata,
        openidconnect::ClientId::new(client.id.clone()),
        client.secret.clone().map(openidconnect::ClientSecret::new),
    );
    let id_token: openidconnect::core::CoreIdToken = serde_json::from_value(tokens["id_token"].clone()).unwrap();
    let nonce = openidconnect::Nonce::new("signing-nonce".into());
    let verified = id_token.claims(&rp.id_token_verifier(), &nonce).expect("the ID token verifies");
    assert_eq!(verified.auth_context_ref().map(|a| a.as_str()), Some("urn:pintu:level:4"));

    // Every signature verifies with OpenSSL over the very document, and not over another.
    let granted = &tokens["authorization_details"];
    let signatures = granted[0]["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2, "{granted}");
    assert!(openssl_verifies(signatures[0]["signature"].as_str().unwrap(), &letter));
    assert!(openssl_verifies(signatures[1]["signature"].as_str().unwrap(), &attachment));
    assert!(!openssl_verifies(signatures[0]["signature"].as_str().unwrap(), &attachment));
    let content = STANDARD.decode(granted[1]["signed_content"].as_str().unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&content).contains("SPM-2026-0042"));
    assert!(openssl_verifies(granted[1]["signatures"][0]["signature"].as_str().unwrap(), &content));

    // The receipt: who, what, when, at which level, with which certificate; it verifies, and a
    // changed one does not.
    let receipt = tokens["receipt"].as_str().unwrap();
    let claims = claims_of(receipt);
    assert_eq!(claims["nip"], pki::NIP);
    assert_eq!(claims["acr"], "urn:pintu:level:4");
    assert_eq!(claims["client_id"], client.id.as_str());
    assert!(claims["x5t#S256"].as_str().is_some_and(|t| !t.is_empty()), "{claims}");
    let (status, check) = verify_receipt(&app, receipt).await;
    assert_eq!((status, &check["valid"]), (200, &json!(true)), "{check}");
    assert_eq!(check["signatures"].as_array().unwrap().len(), 3, "{check}");
    let mut forged = claims.clone();
    forged["authorization_details"][0]["documentDigests"][0]["hash"] = json!(digest_b64(b"another letter"));
    let parts: Vec<&str> = receipt.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged.to_string()), parts[2]);
    let (status, check) = verify_receipt(&app, &forged).await;
    assert_eq!((status, &check["valid"]), (422, &json!(false)), "{check}");
    // Offline, from the command line of another installation that trusts the same CA: with the
    // issuer's published JWK Set.
    let jwks = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap().text().await.unwrap();
    assert!(receipt_verifies_offline(receipt, &jwks));
    assert!(!receipt_verifies_offline(&forged, &jwks));

    // Declined: the application hears access_denied, nothing is signed.
    let page = consent_page(&app, &browser, &client, &wanted).await;
    assert!(page.contains("Surat Edaran Bupati 12&#x2f;2026"), "consent to sign is never remembered: {page}");
    let (status, _, to) = decide(&browser, &page, "deny", "").await;
    assert_eq!(status, 303);
    assert_eq!(query_param(&to, "error").as_deref(), Some("access_denied"));

    // A service whose signature does not verify, then a service that is down: the person is
    // told, the application gets nothing signed.
    signer.tamper(true).await;
    let page = consent_page(&app, &browser, &client, &wanted).await;
    let (status, page, _) = decide(&browser, &page, "allow", pki::PIN).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("tidak cocok"), "{page}");
    drop(signer);
    let page = consent_page(&app, &browser, &client, &wanted).await;
    let (status, page, _) = decide(&browser, &page, "allow", pki::PIN).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("tidak dapat dihubungi"), "{page}");

    // Everything is in the audit log (never the passphrase) and in the report per OPD.
    for (action, at_least) in [("signing.request", 4), ("signing.sign", 1), ("signing.decline", 1), ("signing.fail", 3)]
    {
        let n = app.raw_count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'")).await;
        assert!(n >= at_least, "{action}: {n}");
    }
    let logged = app.raw_count(&format!("SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%{}%'", pki::PIN)).await;
    assert_eq!(logged, 0, "the passphrase is never recorded");
    let token = app.office_token().await;
    let report = app.get_api(&format!("/api/v1/reports/signing?from=0&to={}", app.now() + 1), &token).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let row = &report.body["rows"][0];
    assert_eq!((row["signed"].as_i64(), row["declined"].as_i64(), row["failed"].as_i64()), (Some(1), Some(1), Some(2)));
    assert_eq!(row["signed_level_4"], 1);
    let csv_url = app.url(&format!("/api/v1/reports/signing?from=0&to={}&format=csv", app.now() + 1));
    let csv = app.http.get(csv_url).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("unit,unit_name,client_id,signed,declined,failed,signed_level_4"), "{csv}");
}

async fn signing_through_the_bsre_api(backend: Backend) {
    let (app, _signer) = signing_app(backend, true).await;
    let (_, client) = budi_and_application(&app).await;
    let letter = b"Nota Dinas 7/2026".to_vec();
    let wanted = json!([{
        "type": "credential", "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        "documentDigests": [{ "hash": digest_b64(&letter), "label": "Nota Dinas 7/2026" }],
    }])
    .to_string();
    let (status, body) = push(&app, &client, &wanted).await;
    assert_eq!(status, 201, "{body}");
    let browser = app.browser();
    let (_, page, _) = browser.get(&authorize_url(&app, &client, body["request_uri"].as_str().unwrap())).await;
    let (_, page, _) = browser.login(&page, "budi", PASSWORD).await;
    // The level-4 proof goes through BSrE too: a wrong passphrase is BSrE's refusal.
    let form = form_ending(&page, "remote-certificate");
    let (status, page, _) = post_passphrase(&app, &browser, &form, "salah").await;
    assert_eq!(status, 401, "{page}");
    let form = form_ending(&page, "remote-certificate");
    let (status, page, _) = post_passphrase(&app, &browser, &form, pki::PIN).await;
    assert_eq!(status, 200, "{page}");
    let (status, page, to) = decide(&browser, &page, "allow", pki::PIN).await;
    assert_eq!(status, 303, "{page}");
    let code = query_param(&to, "code").unwrap();
    let (status, tokens) = app
        .token(&client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)])
        .await;
    assert_eq!(status, 200, "{tokens}");
    let signature = tokens["authorization_details"][0]["signatures"][0]["signature"].as_str().unwrap();
    assert!(openssl_verifies(signature, &letter));
    let (status, check) = verify_receipt(&app, tokens["receipt"].as_str().unwrap()).await;
    assert_eq!((status, &check["valid"]), (200, &json!(true)), "{check}");
}
