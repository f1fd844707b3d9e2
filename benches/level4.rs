//! Level 4 measured: the step-up request with a certificate whose OCSP answer is cached, next to
//! the passkey step-up (the target: within 20% of it), and chain validations per second.
//! Both step-ups run over plain HTTP on one in-process Pintu (SQLite): the certificate arrives
//! in a trusted proxy's header, so neither pays for a TLS handshake; only the server's requests
//! are timed (the passkey's options and answer; the authenticator's signing is the browser's).
//!
//! `cargo bench --bench level4 [-- --rounds N]` prints one JSON object (docs/benchmarks-level4.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, dead_code)]

#[path = "../tests/api/support/mod.rs"]
mod support;

#[path = "common/latency.rs"]
mod latency;

use std::time::{Duration, Instant};

use latency::summary;
use serde_json::json;
use support::browser::form_in;
use support::{Backend, Browser, PASSWORD, TestApp, pki};
#[allow(unused_imports)]
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

fn attr(page: &str, marker: &str) -> String {
    let start = page.find(marker).unwrap_or_else(|| panic!("{marker:?} not in {page}")) + marker.len();
    page[start..start + page[start..].find('"').unwrap()].replace("&#x2f;", "/").replace("&amp;", "&")
}

/// The passkey part of a page: (options URL, answer action, CSRF token).
fn ceremony(page: &str) -> (String, String, String) {
    let section = &page[page.find("id=\"passkey\"").expect("a passkey section")..];
    (
        attr(section, "data-options=\""),
        attr(section, "<form method=\"post\" action=\""),
        attr(section, "name=\"csrf_token\" value=\""),
    )
}

/// Signs in with the password at `client` and returns the step-up page.
async fn to_step_up(app: &TestApp, browser: &Browser, client: &support::TestClient) -> String {
    let (_, page, _) = browser.get(&app.code_flow_url(client, &[])).await;
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    page
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize =
        std::env::args().skip_while(|a| a != "--rounds").nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let responder = pki::Responder::start();
    let url = responder.url.clone();
    let app = TestApp::spawn_localhost_with(Backend::Sqlite, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.forwarded_header = Some("X-SSL-Client-Cert".into());
            raw.ocsp_url = Some(url);
        });
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let user = app.user("budi").await;
    let mut profile = pintu::directory::ProfilePatch::default();
    let level4 = app.client().await;
    profile.min_level = Some(4);
    app.set_profile(&level4.id, profile.clone()).await;
    let level3 = app.client().await;
    profile.min_level = Some(3);
    app.set_profile(&level3.id, profile).await;
    let by = pintu::certificates::AddedBy::Admin { actor: pintu::domain::ActorId::cli(), approve: true };
    app.state.sso.certificates.add(&user, pki::with_chain("nip").as_bytes(), &by).await.expect("add the certificate");
    // As nginx escapes it ($ssl_client_escaped_cert): spaces as %20.
    let header =
        url::form_urlencoded::byte_serialize(pki::read("nip.pem").as_bytes()).collect::<String>().replace('+', "%20");

    // A passkey, registered from the account page.
    let origin = Url::parse(&app.issuer).unwrap();
    let mut key = SoftPasskey::new(true);
    let setup = app.browser();
    let portal = app.client().await;
    let _ = setup.authorize_and_login(&app.code_flow_url(&portal, &[]), "budi", PASSWORD).await;
    let (_, page, _) = setup.get(&app.url("/account")).await;
    let (options_url, action, csrf) = ceremony(&page);
    let (_, body, _) = setup.post(&options_url, &[("csrf_token", &csrf)]).await;
    let opts: CreationChallengeResponse = serde_json::from_str(&body).unwrap();
    let credential = serde_json::to_string(&key.do_registration(origin.clone(), opts).unwrap()).unwrap();
    let (status, page, _) =
        setup.post(&action, &[("csrf_token", &csrf), ("name", "bench"), ("credential", &credential)]).await;
    assert_eq!(status, 200, "{page}");

    let (mut certificate, mut passkey) = (Vec::new(), Vec::new());
    for round in 0..rounds + 5 {
        // Level 4: one request, the certificate in the proxy's header.
        let browser = app.browser();
        let page = to_step_up(&app, &browser, &level4).await;
        let form = form_in(&page).unwrap();
        let started = Instant::now();
        let resp = browser
            .client
            .post(app.url(&form.action))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-ssl-client-cert", &header)
            .body(format!("csrf_token={}", form.csrf_token))
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(resp.status().as_u16(), 303, "{}", resp.text().await.unwrap_or_default());
        // Level 3: the options, then the answer.
        let browser = app.browser();
        let page = to_step_up(&app, &browser, &level3).await;
        let (options_url, action, csrf) = ceremony(&page);
        let started = Instant::now();
        let (_, body, _) = browser.post(&options_url, &[("csrf_token", &csrf)]).await;
        let options_took = started.elapsed();
        let request: RequestChallengeResponse = serde_json::from_str(&body).unwrap();
        let assertion = serde_json::to_string(&key.do_authentication(origin.clone(), request).unwrap()).unwrap();
        let started = Instant::now();
        let (status, page, _) = browser.post(&action, &[("csrf_token", &csrf), ("credential", &assertion)]).await;
        let answer_took = started.elapsed();
        assert_eq!(status.as_u16(), 303, "{page}");
        if round >= 5 {
            certificate.push(elapsed.as_secs_f64() * 1000.0);
            passkey.push((options_took + answer_took).as_secs_f64() * 1000.0);
        }
    }
    let cert = summary(certificate);
    let pass = summary(passkey);
    let ratio = cert["median_ms"].as_f64().unwrap() / pass["median_ms"].as_f64().unwrap();

    // Chain validations per second, in process.
    let anchors = pintu::certificates::TrustAnchors::load(&[pki::file("bundle.pem")]).unwrap();
    let presented = pintu::certificates::x509::read_upload(pki::with_chain("nip").as_bytes()).unwrap();
    let now = app.now();
    let started = Instant::now();
    let mut validations = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        anchors.validate(&presented, now).unwrap();
        validations += 1;
    }
    let per_second = validations as f64 / started.elapsed().as_secs_f64();
    drop(responder);
    let report = json!({
        "level4_step_up_cached_ocsp": cert,
        "passkey_step_up": pass,
        "median_ratio_level4_to_passkey": ratio,
        "target_ratio": 1.2,
        "chain_validations_per_second": per_second,
        "chain": "person ← intermediate ← root, RSA-2048",
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
