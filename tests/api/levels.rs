//! Security levels: TOTP enrollment, level-2 applications, step-up within one session,
//! replayed codes, recovery codes, and refusals with the right error.

use base64::Engine;
use pintu::directory::{Actor, ProfilePatch};
use serde_json::Value;

use crate::backend_tests;
use crate::support::browser::{form_in, location, query_param};
use crate::support::{Backend, Browser, PASSWORD, TestApp, TestClient};

backend_tests!(
    second_factor_enrolment_step_up_replay_and_recovery,
    unreachable_levels_are_refused_with_the_right_error,
    units_and_roles_can_require_a_second_factor,
    the_second_factor_cannot_be_skipped_or_guessed,
    codes_of_the_wrong_shape_are_refused_and_audited,
);

/// Budi, a portal (level 1) and a finance application that demands level 2.
async fn with_finance(backend: Backend) -> (TestApp, TestClient, TestClient) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let portal = app.client().await;
    let finance = app.client().await;
    app.set_profile(&finance.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    (app, portal, finance)
}

pub(crate) fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let i = page.find(start).unwrap_or_else(|| panic!("{start:?} not in {page}")) + start.len();
    &page[i..i + page[i..].find(end).unwrap()]
}

pub(crate) fn code_at(secret: &str, now: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let t = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    t.generate(now as u64).to_string()
}

fn auth_url(app: &TestApp, client: &TestClient, extra: &[(&str, &str)]) -> String {
    app.code_flow_url(client, extra)
}

/// Signs in with a password (level 1) through `client`, then enrolls TOTP on the account page;
/// returns the secret and the recovery codes.
pub(crate) async fn enrol(app: &TestApp, browser: &Browser, client: &TestClient, user: &str) -> (String, Vec<String>) {
    browser.authorize_and_login(&auth_url(app, client, &[]), user, PASSWORD).await;
    let (status, page, _) = browser.get(&app.url("/account/totp")).await;
    assert_eq!(status, 200, "{page}");
    let secret = between(&page, "<code>", "</code>").to_owned();
    assert!(page.contains("<svg"), "the QR code is drawn inline");
    let form = form_in(&page).unwrap();
    let wrong = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", "000000")]).await;
    assert!(wrong.1.contains("Kode salah"), "a wrong first code asks again");
    let secret2 = between(&wrong.1, "<code>", "</code>").to_owned();
    let form = form_in(&wrong.1).unwrap();
    let code = code_at(&secret2, app.now());
    let (status, page, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!(status, 200, "{page}");
    let codes: Vec<String> = page.split("<li><code>").skip(1).map(|c| c[..c.find('<').unwrap()].to_owned()).collect();
    assert_eq!(codes.len(), 10, "{page}");
    assert_eq!(secret, secret2, "the secret already scanned stays valid after a typo");
    (secret2, codes)
}

fn id_token_claims(tokens: &Value) -> Value {
    let part = tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub(crate) async fn exchange(app: &TestApp, client: &TestClient, location: &str) -> Value {
    let code = query_param(location, "code").expect("code");
    let (status, tokens) = app
        .token(client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)])
        .await;
    assert_eq!(status, 200, "{tokens}");
    id_token_claims(&tokens)
}

async fn second_factor_enrolment_step_up_replay_and_recovery(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let portal = app.client().await;
    let finance = app.client().await;
    let level2 = ProfilePatch { min_level: Some(2), ..Default::default() };
    app.set_profile(&finance.id, level2).await;
    let browser = app.browser();
    let (secret, recovery) = enrol(&app, &browser, &portal, "budi").await;
    let id = app.state.store.users().resolve("budi").await.unwrap().unwrap();
    let stored = app.state.store.factors().find_totp(&id).await.unwrap().unwrap().secret;
    assert!(!stored.contains(&secret) && stored.split('.').count() == 5, "the seed is sealed at rest: {stored}");

    let (status, page, _) = browser.get(&auth_url(&app, &finance, &[])).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"code\"") && !page.contains("name=\"password\""), "step-up asks only for the factor");
    let form = form_in(&page).unwrap();
    let replay = code_at(&secret, app.now());
    let (status, page, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &replay)]).await;
    assert_eq!(status, 401, "the enrolment code is spent (RFC 6238 §5.2)");
    app.clock.advance(30);
    let form = form_in(&page).unwrap();
    let fresh = code_at(&secret, app.now());
    let (status, _, headers) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &fresh)]).await;
    assert_eq!(status, 303);
    let claims = exchange(&app, &finance, &location(&headers)).await;
    assert_eq!(claims["acr"], "urn:pintu:level:2");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    let metrics = app.state.metrics.encode();
    assert!(metrics.contains(r#"pintu_step_ups_total{level="2"} 1"#), "the step-up is counted: {metrics}");
    assert!(
        metrics.contains(r#"pintu_logins_total{method="otp",outcome="success",reason=""} 1"#),
        "as an otp step: {metrics}"
    );
    let again = browser.get(&auth_url(&app, &portal, &[])).await;
    assert_eq!(again.0, 303, "the stepped-up session serves lower levels without asking");

    let other = app.browser();
    let (_, page, _) = other.get(&auth_url(&app, &finance, &[])).await;
    let (_, page, _) = other.login(&page, "budi", PASSWORD).await;
    let form = form_in(&page).unwrap();
    assert!(page.contains("name=\"code\""), "a fresh login at level 2 asks for the factor after the password");
    let (status, _, headers) =
        other.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &recovery[0])]).await;
    assert_eq!(status, 303, "a recovery code stands in for the authenticator");
    exchange(&app, &finance, &location(&headers)).await;
    let third = app.browser();
    let (_, page, _) = third.get(&auth_url(&app, &finance, &[])).await;
    let (_, page, _) = third.login(&page, "budi", PASSWORD).await;
    let form = form_in(&page).unwrap();
    let (status, _, _) = third.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &recovery[0])]).await;
    assert_eq!(status, 401, "each recovery code works once");
    let (_, page, _) = third.get(&app.url("/account")).await;
    assert!(
        page.contains("name=\"code\"") && !page.contains("/account/password/"),
        "a password alone does not open the account pages of an account with TOTP: {page}"
    );
    let (status, page, _) = other.get(&app.url("/account/totp")).await;
    assert!(status == 200 && page.contains("Kode pemulihan yang belum dipakai: 9"), "{page}");

    let token = app.office_token().await;

    let reset = app.api("DELETE", &format!("/api/v1/users/{id}/factors"), &token, None, None).await;
    assert_eq!(reset.status, 204, "a lost device: the office resets the factors");
    let (status, page, _) = browser.get(&auth_url(&app, &finance, &[])).await;
    assert!(status == 200 && page.contains("name=\"password\""), "the reset ended the session");
    let (status, _, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 403, "level 2 is out of reach until the person enrolls again");
}

async fn unreachable_levels_are_refused_with_the_right_error(backend: Backend) {
    let (app, portal, finance) = with_finance(backend).await;
    let browser = app.browser();
    browser.authorize_and_login(&auth_url(&app, &portal, &[]), "budi", PASSWORD).await;

    let refusal = |page: &str| {
        let link = between(page, "class=\"button\" href=\"", "\"").replace("&amp;", "&").replace("&#x2f;", "/");
        query_param(&link, "error").unwrap()
    };
    let (status, page, _) = browser.get(&auth_url(&app, &finance, &[])).await;
    assert_eq!(status, 403, "no second factor enrolled: {page}");
    assert!(page.contains("tingkat keamanan"));
    assert_eq!(refusal(&page), "access_denied", "the application's minimum is out of reach");
    let (_, page, _) = browser.get(&auth_url(&app, &portal, &[("acr_values", "urn:pintu:level:2")])).await;
    assert_eq!(refusal(&page), "unmet_authentication_requirements", "the request asked for it");

    let (secret, _) = enrol(&app, &app.browser(), &portal, "budi").await;
    let (status, _, headers) = browser.get(&auth_url(&app, &finance, &[("prompt", "none")])).await;
    assert_eq!(status, 303);
    assert_eq!(query_param(&location(&headers), "error").as_deref(), Some("interaction_required"));
    let (_, page, _) = browser.get(&auth_url(&app, &portal, &[("acr_values", "urn:pintu:level:3")])).await;
    assert_eq!(refusal(&page), "unmet_authentication_requirements", "no passkey yet: level 3 is out of reach");
    let essential = r#"{"id_token":{"acr":{"essential":true,"value":"urn:pintu:level:2"}}}"#;
    let (_, page, _) = browser.get(&auth_url(&app, &portal, &[("claims", essential)])).await;
    assert!(page.contains("name=\"code\""), "an essential acr claim steps up too");
    assert!(!secret.is_empty());

    let id = app.state.store.users().resolve("budi").await.unwrap().unwrap();
    let d = &app.state.directory;
    let current = d.get_user(&Actor::cli(), id.as_str()).await.unwrap();
    let ceiling = serde_json::json!({"level_ceiling": 1});
    d.update_user(&Actor::cli(), id.as_str(), &ceiling, Some(current.version)).await.unwrap();
    let fresh = app.browser();
    let (_, page, _) = fresh.get(&auth_url(&app, &finance, &[])).await;
    let (status, page, _) = fresh.login(&page, "budi", PASSWORD).await;
    assert_eq!(
        (status.as_u16(), refusal(&page).as_str()),
        (403, "access_denied"),
        "the person's ceiling caps the level"
    );
}

async fn units_and_roles_can_require_a_second_factor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    app.pegawai("dewi", "PUSKESMAS").await;
    let andi = app.pegawai("andi", "APTIKA").await;
    let portal = app.client().await;
    let refused = |status: u16, page: &str| status == 403 && page.contains("tingkat keamanan");
    let first = app.browser();
    let (status, page, _) = first.get(&auth_url(&app, &portal, &[])).await;
    assert_eq!(status, 200);
    let tag = app.get_api("/api/v1/org-units/DINKES", &token).await.etag();
    let r = app
        .api("PATCH", "/api/v1/org-units/DINKES", &token, Some(serde_json::json!({"min_level": 2})), Some(&tag))
        .await;
    assert_eq!((r.status, r.body["min_level"].as_u64()), (200, Some(2)), "{}", r.body);
    let (status, page, _) = first.login(&page, "dewi", PASSWORD).await;
    assert!(refused(status.as_u16(), &page), "a unit above hers requires level 2: {page}");
    let role = app
        .api("POST", "/api/v1/roles", &token, Some(serde_json::json!({"name": "bendahara", "min_level": 2})), None)
        .await;
    assert_eq!((role.status, role.body["min_level"].as_u64()), (201, Some(2)), "{}", role.body);
    let second = app.browser();
    let (_, page, _) = second.get(&auth_url(&app, &portal, &[])).await;
    let (status, _, _) = second.login(&page, "andi", PASSWORD).await;
    assert_eq!(status, 303, "no requirement yet");
    let grant = serde_json::json!({"role": role.body["id"]});
    assert_eq!(app.api("POST", &format!("/api/v1/users/{andi}/roles"), &token, Some(grant), None).await.status, 201);
    let third = app.browser();
    let (_, page, _) = third.get(&auth_url(&app, &portal, &[])).await;
    let (status, page, _) = third.login(&page, "andi", PASSWORD).await;
    assert!(refused(status.as_u16(), &page), "holding the role requires level 2");
}

async fn the_second_factor_cannot_be_skipped_or_guessed(backend: Backend) {
    let (app, portal, finance) = with_finance(backend).await;
    enrol(&app, &app.browser(), &portal, "budi").await;

    let thief = app.browser();
    let (_, page, _) = thief.get(&auth_url(&app, &finance, &[])).await;
    let (_, page, _) = thief.login(&page, "budi", PASSWORD).await;
    let form = form_in(&page).unwrap();
    let consent = form.action.replace("/second-factor/", "/consent/");
    let (status, page, _) = thief.post(&consent, &[("csrf_token", &form.csrf_token), ("decision", "allow")]).await;
    assert_ne!(status, 303, "the second-factor page's token does not complete consent: {page}");

    let mut statuses = Vec::new();
    for round in 0..3 {
        let (_, page, _) = thief.get(&auth_url(&app, &finance, &[])).await;
        let page = if page.contains("name=\"password\"") { thief.login(&page, "budi", PASSWORD).await.1 } else { page };
        let mut page = page;
        for guess in 0..3 {
            let Some(form) = form_in(&page) else { break };
            let code = format!("{:06}", 100_000 + round * 10 + guess);
            let (status, next, _) =
                thief.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
            statuses.push(status.as_u16());
            page = next;
        }
    }
    assert!(statuses.contains(&429), "guesses across fresh password logins still lock the factor: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 4, "{statuses:?}");
}

async fn codes_of_the_wrong_shape_are_refused_and_audited(backend: Backend) {
    let (app, portal, finance) = with_finance(backend).await;
    let browser = app.browser();
    let (secret, _) = enrol(&app, &browser, &portal, "budi").await;
    app.clock.advance(30);
    let (_, mut page, _) = browser.get(&auth_url(&app, &finance, &[])).await;
    let long = "9".repeat(5000);
    for code in ["12345", "1234567", "abcdef", long.as_str()] {
        let form = form_in(&page).unwrap();
        let (status, next, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", code)]).await;
        assert!(status == 401 && next.contains("Kode salah"), "{code:.10}: {status} {next}");
        page = next;
    }
    let events = app.get_api("/api/v1/audit/events?limit=100", &app.office_token().await).await;
    let refused = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains("invalid second factor")))
        .count();
    assert_eq!(refused, 4, "each refused code is audited");
    let form = form_in(&page).unwrap();
    let (status, page, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", " ")]).await;
    assert_eq!(status, 429, "the fifth refusal locks the factor for a while, whatever the codes' shape");
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    let (status, _, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!(status, 429, "even the right code waits");
}
