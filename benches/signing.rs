//! Transaction signing measured: PAR + approval + signing round trips per second against the
//! local signing service (tests/signing/dev-signer, CSC API v2, signing with the `openssl`
//! command), and the cost of a CIBA poll next to a refresh (the target: a poll costs no
//! more than a refresh). One in-process Pintu on SQLite, over plain HTTP on loopback.
//!
//! `cargo bench --bench signing [-- --rounds N]` prints one JSON object
//! (docs/benchmarks-signing.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, dead_code)]

#[path = "../tests/api/support/mod.rs"]
mod support;

#[path = "common/latency.rs"]
mod latency;

use std::time::Instant;

use base64::Engine;
use latency::summary;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::browser::{form_in, location, query_param};
use support::{Backend, PASSWORD, REDIRECT_URI, TestApp, TestClient, pki};

fn secret(client: &TestClient) -> (&str, &str) {
    (client.id.as_str(), client.secret.as_deref().unwrap_or(""))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize =
        std::env::args().skip_while(|a| a != "--rounds").nth(1).and_then(|n| n.parse().ok()).unwrap_or(100);
    let signer = pki::Signer::start(pki::NIP);
    let (url, file) = (signer.url.clone(), signer.token_file.clone());
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.signing = pintu::config::RawSigning {
                url: Some(url),
                token_file: Some(file),
                holder: Some("nip".into()),
                api: None,
            };
        });
    })
    .await;
    let input = pintu::directory::UserInput {
        username: Some("budi".into()),
        name: "Budi Santoso".into(),
        nip: Some(pki::NIP.into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let actor = pintu::directory::Actor::cli();
    let id = app.state.directory.create_user(&actor, &input).await.unwrap().id;
    let user = app.state.directory.person_in_reach(&actor, &id).await.unwrap();
    let by = pintu::certificates::AddedBy::Admin { actor: pintu::domain::ActorId::cli(), approve: true };
    app.state.sso.certificates.add(&user, pki::with_chain("nip").as_bytes(), &by).await.unwrap();
    let signing = app
        .client_from(
            json!({
                "client_name": "E-Office Surat", "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "authorization_details_types": ["credential"],
            }),
            true,
        )
        .await;
    let ciba = app
        .client_from(
            json!({ "client_name": "Persuratan", "grant_types": ["urn:openid:params:grant-type:ciba"],
                    "backchannel_token_delivery_mode": "poll" }),
            false,
        )
        .await;
    let portal = app.client().await;

    // Level 4 once (the first proof binds the certificate); every transaction after it is
    // PAR, the approval page, the approval (which signs) and the token request.
    let browser = app.browser();
    let document = b"Surat Edaran 12/2026".to_vec();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&document));
    let details = json!([{ "type": "credential", "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                           "documentDigests": [{ "hash": hash, "label": "Surat Edaran 12/2026" }] }])
    .to_string();
    let form = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("authorization_details", details.as_str()),
    ];
    let mut first = true;
    let mut transaction_ms = Vec::with_capacity(rounds);
    let started = Instant::now();
    for _ in 0..=rounds {
        let t = Instant::now();
        let (status, pushed, _) = app.post_form("/oauth2/par", &form, Some(secret(&signing))).await;
        assert_eq!(status, 201, "{pushed}");
        let url =
            app.authorize_url(&[("client_id", &signing.id), ("request_uri", pushed["request_uri"].as_str().unwrap())]);
        let (_, mut page, _) = browser.get(&url).await;
        if first {
            let (_, step_up, _) = browser.login(&page, "budi", PASSWORD).await;
            let start = step_up.find("remote-certificate\"").unwrap();
            let action = &step_up[step_up[..start].rfind("action=\"").unwrap() + 8..start + 18];
            let csrf = form_in(&step_up).unwrap().csrf_token;
            let (status, consent, _) =
                browser.post(&action.replace("&#x2f;", "/"), &[("csrf_token", &csrf), ("passphrase", pki::PIN)]).await;
            assert_eq!(status, 200, "{consent}");
            page = consent;
        }
        let consent = form_in(&page).expect("the approval form");
        let fields = [("csrf_token", consent.csrf_token.as_str()), ("decision", "allow"), ("passphrase", pki::PIN)];
        let (status, answer, headers) = browser.post(&consent.action, &fields).await;
        assert_eq!(status, 303, "{answer}");
        let code = query_param(&location(&headers), "code").unwrap();
        let exchange = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
        let (status, tokens) = app.token(&signing, &exchange).await;
        assert_eq!(status, 200, "{tokens}");
        if first {
            first = false;
        } else {
            transaction_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let per_second = rounds as f64 / started.elapsed().as_secs_f64();

    // CIBA polls (authorization_pending) next to refreshes, interleaved. The clock moves 5 s
    // before each poll (the interval); a request lives 10 minutes, so a new one every 100 polls.
    let start_ciba = || async {
        let form = [("scope", "openid"), ("login_hint", "budi"), ("requested_expiry", "600")];
        let (status, body, _) = app.post_form("/oauth2/ciba", &form, Some(secret(&ciba))).await;
        assert_eq!(status, 200, "{body}");
        body["auth_req_id"].as_str().unwrap().to_owned()
    };
    let mut auth_req_id = start_ciba().await;
    let code = app.code_for(&app.browser(), &portal, "budi", &[]).await;
    let (_, tokens) = app
        .token(&portal, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)])
        .await;
    let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (mut poll_ms, mut refresh_ms) = (Vec::new(), Vec::new());
    for i in 0..rounds * 5 {
        if i > 0 && i % 100 == 0 {
            auth_req_id = start_ciba().await;
        }
        app.clock.advance(5);
        let t = Instant::now();
        let (status, body) = app
            .token(&ciba, &[("grant_type", "urn:openid:params:grant-type:ciba"), ("auth_req_id", &auth_req_id)])
            .await;
        poll_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(body["error"], "authorization_pending", "{status} {body}");
        let t = Instant::now();
        let (status, body) = app.token(&portal, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        refresh_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{body}");
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }
    let (poll, refreshed) = (summary(poll_ms), summary(refresh_ms));
    let ratio = poll["median_ms"].as_f64().unwrap() / refreshed["median_ms"].as_f64().unwrap();
    let out = json!({
        "bench": "signing",
        "transactions": { "what": "PAR + approval page + approval (1 document signed by the dev-signer via CSC v2) + token request",
                          "per_second": per_second, "latency": summary(transaction_ms) },
        "ciba_poll": poll,
        "refresh": refreshed,
        "poll_over_refresh_median": ratio,
        "target_met": ratio <= 1.0,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    drop(signer);
}
