//! Load driver for the flows a fixed-request generator cannot express: the full browser login
//! (authorization code + PKCE, with a cookie store and the real password check) and refresh-token
//! chains with rotation. Works against Pintu and the peer alike: it follows redirects by hand and
//! submits any page's form that asks for a password.
//!
//! `driver login|refresh --base URL --client-id ID --client-secret S --redirect-uri URI
//!  --username U --password P [--authorize-path /oauth2/authorize] [--token-path /oauth2/token]
//!  [--concurrency 16] [--seconds 10] [--max 100000]` prints one JSON object.
//!
//! Every run is bounded in time and count and talks to loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
struct Args {
    mode: String,
    base: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    username: String,
    password: String,
    authorize_path: String,
    token_path: String,
    scope: String,
    concurrency: usize,
    seconds: u64,
    max: u64,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = it.next().expect("mode: login or refresh");
    let mut a = Args {
        mode,
        base: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        redirect_uri: String::new(),
        username: String::new(),
        password: String::new(),
        authorize_path: "/oauth2/authorize".into(),
        token_path: "/oauth2/token".into(),
        scope: "openid offline_access".into(),
        concurrency: 16,
        seconds: 10,
        max: 100_000,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--base" => a.base = v,
            "--client-id" => a.client_id = v,
            "--client-secret" => a.client_secret = v,
            "--redirect-uri" => a.redirect_uri = v,
            "--username" => a.username = v,
            "--password" => a.password = v,
            "--authorize-path" => a.authorize_path = v,
            "--token-path" => a.token_path = v,
            "--scope" => a.scope = v,
            "--concurrency" => a.concurrency = v.parse().expect("number"),
            "--seconds" => a.seconds = v.parse().expect("number"),
            "--max" => a.max = v.parse().expect("number"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.base.starts_with("http://127.") || a.base.starts_with("http://localhost"), "loopback only");
    a
}

fn attr_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].replace("&#x2f;", "/").replace("&amp;", "&"))
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") { location.to_owned() } else { format!("{base}{location}") }
}

/// One complete login: authorize, login form, (consent if shown), code exchange.
/// Returns the refresh token, if any.
async fn login(a: &Args, http: &reqwest::Client) -> Result<Option<String>, String> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut verifier_bytes = [0u8; 32];
    rand::fill(&mut verifier_bytes);
    let verifier = URL_SAFE_NO_PAD.encode(verifier_bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", a.client_id.as_str()),
            ("redirect_uri", a.redirect_uri.as_str()),
            ("scope", a.scope.as_str()),
            ("state", "bench"),
            ("nonce", "bench"),
            ("prompt", "consent"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut resp =
        browser.get(format!("{}{}?{query}", a.base, a.authorize_path)).send().await.map_err(|e| e.to_string())?;
    let mut code = None;
    for _ in 0..10 {
        let status = resp.status();
        if status.is_redirection() {
            let loc =
                resp.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("redirect without Location")?;
            let loc = absolute(&a.base, loc);
            if loc.starts_with(&a.redirect_uri) {
                let url = url::Url::parse(&loc).map_err(|e| e.to_string())?;
                code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
                break;
            }
            resp = browser.get(loc).send().await.map_err(|e| e.to_string())?;
            continue;
        }
        let page = resp.text().await.map_err(|e| e.to_string())?;
        let action = absolute(
            &a.base,
            &attr_after(&page, "<form method=\"post\" action=\"").ok_or(format!("no form ({status})"))?,
        );
        let csrf = attr_after(&page, "name=\"csrf_token\" value=\"").unwrap_or_default();
        let form: Vec<(&str, &str)> = if page.contains("name=\"password\"") {
            vec![("csrf_token", &csrf), ("username", &a.username), ("password", &a.password)]
        } else {
            vec![("csrf_token", &csrf), ("decision", "allow")]
        };
        resp = browser.post(action).form(&form).send().await.map_err(|e| e.to_string())?;
    }
    let code = code.ok_or("no code")?;
    let token = http
        .post(format!("{}{}", a.base, a.token_path))
        .basic_auth(&a.client_id, Some(&a.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &a.redirect_uri),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !token.status().is_success() {
        return Err(format!("token endpoint answered {}", token.status()));
    }
    let body: serde_json::Value = token.json().await.map_err(|e| e.to_string())?;
    Ok(body["refresh_token"].as_str().map(str::to_owned))
}

async fn refresh(a: &Args, http: &reqwest::Client, token: &str) -> Result<String, String> {
    let resp = http
        .post(format!("{}{}", a.base, a.token_path))
        .basic_auth(&a.client_id, Some(&a.client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("refresh answered {}", resp.status()));
    }
    let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    body["refresh_token"].as_str().map(str::to_owned).ok_or_else(|| "no rotated refresh token".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = Arc::new(parse_args());
    let http = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).build().expect("client");
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut first_error = String::new();
    // Refresh chains start from one (untimed) login per worker.
    let mut seeds = Vec::new();
    if a.mode == "refresh" {
        for _ in 0..a.concurrency {
            match login(&a, &http).await {
                Ok(Some(t)) => seeds.push(t),
                Ok(None) => panic!("no refresh token issued; is offline_access/refresh_token allowed?"),
                Err(e) => panic!("seed login failed: {e}"),
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..a.concurrency {
        let (a, http, issued, errors) = (a.clone(), http.clone(), issued.clone(), errors.clone());
        let mut chain = seeds.get(w).cloned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut error = None;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < a.max {
                let t0 = Instant::now();
                let result = match a.mode.as_str() {
                    "login" => login(&a, &http).await.map(|_| ()),
                    _ => match refresh(&a, &http, chain.as_deref().unwrap_or("")).await {
                        Ok(next) => {
                            chain = Some(next);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                };
                match result {
                    Ok(()) => latencies.push(t0.elapsed()),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        error.get_or_insert(e);
                        if a.mode == "refresh" {
                            break; // a broken chain cannot continue
                        }
                    }
                }
            }
            (latencies, error)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let (lat, err) = t.await.expect("worker");
        all.extend(lat);
        if let (Some(e), true) = (err, first_error.is_empty()) {
            first_error = e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let report = serde_json::json!({
        "mode": a.mode,
        "requests": all.len(),
        "errors": errors.load(Ordering::Relaxed),
        "first_error": first_error,
        "seconds": elapsed,
        "rps": all.len() as f64 / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    });
    println!("{report}");
}
