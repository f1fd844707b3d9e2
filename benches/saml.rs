//! SAML Web Browser SSO measured against this machine's RSA-2048 signing ceiling: with an
//! existing session, an SP-initiated sign-in is an AuthnRequest in (HTTP-POST, parsed, checked,
//! remembered against replay) and a Response out with one RSA-2048 signature over the
//! assertion. The ceiling is OpenSSL's RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on one
//! thread; the sign-ins run one after another (one stream, so about one core), timed end to end
//! over HTTP on one in-process Pintu (SQLite). The target: at least 70% of the ceiling.
//!
//! `cargo bench --bench saml [-- --rounds N]` prints one JSON object (docs/benchmarks-saml.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, dead_code)]

#[path = "../tests/api/support/mod.rs"]
mod support;

#[path = "common/latency.rs"]
mod latency;

use std::time::{Duration, Instant};

use base64::Engine;
use latency::summary;
use pintu::directory::Actor;
use pintu::domain::saml::{AcsEndpoint, SamlRegistration};
use serde_json::json;
use support::{Backend, PASSWORD, TestApp};

const ENTITY: &str = "https://bench.sp.test/metadata";
const ACS: &str = "https://bench.sp.test/acs";

/// A fresh, unsigned AuthnRequest (the SP is registered without signed requests), base64.
fn request(app: &TestApp, n: usize) -> String {
    let now = pintu::saml::response::format_instant(app.now());
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_bench{n}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" Destination=\"{issuer}/saml/sso\" AssertionConsumerServiceURL=\"{ACS}\">\
         <saml:Issuer>{ENTITY}</saml:Issuer></samlp:AuthnRequest>",
        issuer = app.issuer
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second, one thread, for `time`.
fn rsa_ceiling(time: Duration) -> f64 {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let data = [7u8; 1024];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
        signer.update(&data).unwrap();
        std::hint::black_box(signer.sign_to_vec().unwrap());
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize =
        std::env::args().skip_while(|a| a != "--rounds").nth(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let ceiling = tokio::task::spawn_blocking(|| rsa_ceiling(Duration::from_secs(3))).await.unwrap();

    let app = TestApp::spawn(Backend::Sqlite).await;
    app.user("budi").await;
    let registration = SamlRegistration {
        entity_id: ENTITY.into(),
        acs: vec![AcsEndpoint { location: ACS.into(), index: 0, is_default: true }],
        slo_url: None,
        certificates: vec![],
        sign_requests: false,
        sign_response: false,
        name_id_formats: vec![],
        idp_initiated: false,
    };
    app.state.applications.create_saml(&Actor::cli(), "Bench SP", registration).await.unwrap();
    // The session: one sign-in through the first request.
    let browser = app.browser();
    let (status, _, _) = browser.post("/saml/sso", &[("SAMLRequest", &request(&app, 0))]).await;
    assert_eq!(status, 303);
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    browser.login(&page, "budi", PASSWORD).await;
    let (status, page, _) = browser.get(&app.url("/saml/resume")).await;
    assert!(status == 200 && page.contains("SAMLResponse"), "{page}");

    let mut times = Vec::with_capacity(rounds);
    for n in 1..=rounds + 20 {
        let body = request(&app, n);
        let start = Instant::now();
        let (status, page, _) = browser.post("/saml/sso", &[("SAMLRequest", &body)]).await;
        let elapsed = start.elapsed();
        assert!(status == 200 && page.contains("SAMLResponse"), "{status}: {page}");
        if n > 20 {
            times.push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    // Where the time goes: the signed Response alone (the key read and opened, the XML
    // signature), and the key read and opened alone.
    use pintu::saml::response::{Addressed, Statement};
    let to = Addressed { acs: ACS.into(), audience: ENTITY.into(), in_response_to: Some("_x".into()) };
    let statement = Statement {
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
        name_id: "abc".into(),
        session_index: "_s".into(),
        authn_instant: app.now(),
        class_ref: "urn:pintu:level:2".into(),
        attributes: vec![],
    };
    let mut signing = Vec::new();
    let mut keys = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        std::hint::black_box(app.state.saml.success(&to, &statement, false).await.unwrap());
        signing.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        std::hint::black_box(app.state.saml.keys().await.unwrap());
        keys.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let sso = summary(times);
    let per_second = 1000.0 / sso["mean_ms"].as_f64().unwrap();
    let report = json!({
        "bench": "saml",
        "rsa2048_sign_per_second_one_thread": ceiling,
        "sso_with_session": {
            "what": "HTTP-POST AuthnRequest in, signed Response (one RSA-2048 signature) out, one stream",
            "per_second": per_second,
            "latency": sso,
        },
        "signed_response_only": summary(signing),
        "keys_read_and_opened": summary(keys),
        "ratio_to_ceiling": per_second / ceiling,
        "target": 0.7,
        "target_met": per_second / ceiling >= 0.7,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
