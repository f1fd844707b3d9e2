//! Passkeys (security level 3) with a software authenticator: registration on the account
//! page, login without a name, step-up from 1 to 2 to 3 within one session, and refusals of
//! malformed, oversized, replayed, wrong-challenge, unknown and cloned (counter going
//! backwards) answers, each audited.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pintu::directory::ProfilePatch;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::backend_tests;
use crate::levels::{code_at, enrol, exchange};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, Browser, PASSWORD, TestApp};

backend_tests!(
    passkey_registration_and_login_without_a_name,
    step_up_from_password_to_code_to_passkey_in_one_session,
    bad_passkey_answers_are_refused_and_audited,
    passkeys_are_off_without_a_host_name,
    bad_registrations_are_refused_and_audited,
    a_passkey_does_not_lift_a_person_above_their_ceiling,
    the_account_pages_sign_in_with_a_passkey_and_take_it_as_the_second_step,
);

/// Opening the account page directly: a passkey signs the person in there, and after a
/// password it is the second step (a code is not taken where the person has none).
async fn the_account_pages_sign_in_with_a_passkey_and_take_it_as_the_second_step(backend: Backend) {
    let Registered { app, user, browser, mut key, id, .. } = registered(backend, "Laptop kantor").await;

    let other = app.browser();
    let (status, page, _) = other.get(&app.url("/account")).await;
    assert!(status == 200 && page.contains("id=\"passkey\""), "the sign-in page offers passkeys: {page}");
    let c = ceremony(&page);
    assert!(c.options_url.starts_with("/account/login/") && c.options_url.ends_with("/passkey/options"));
    let assertion = sign(&app, &mut key, options(&other, &c).await, Some((&id, user.id.as_str())));
    let (status, page, headers) = answer(&other, &c, &assertion.to_string()).await;
    assert_eq!((status, location(&headers).as_str()), (303, "/account"), "{page}");
    let (_, page, _) = other.get(&app.url("/account")).await;
    assert!(page.contains("/account/password/"), "a passkey opens the account pages: {page}");

    // `browser` signed in with the password only: its second step is the passkey.
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let c = ceremony(&page);
    assert!(c.action.starts_with("/account/second-factor/"), "{}", c.action);
    let code = browser.post(&c.action.replace("/passkey", ""), &[("csrf_token", &c.csrf), ("code", "123456")]).await;
    assert_eq!(code.0, 401, "no code is taken from someone without TOTP: {}", code.1);
    let opts = options(&browser, &c).await;
    assert_eq!(opts["publicKey"]["allowCredentials"].as_array().unwrap().len(), 1, "the person's own passkey");
    let assertion = sign(&app, &mut key, opts, None);
    let (status, page, headers) = answer(&browser, &c, &assertion.to_string()).await;
    assert_eq!((status, location(&headers).as_str()), (303, "/account"), "{page}");
    let (_, page, _) = browser.get(&app.url("/account")).await;
    assert!(page.contains("/account/password/"), "{page}");
}

/// The passkey part of a page: where the script gets options and posts the answer.
pub(crate) struct Ceremony {
    options_url: String,
    action: String,
    csrf: String,
}

fn attr(page: &str, marker: &str) -> String {
    let start = page.find(marker).unwrap_or_else(|| panic!("{marker:?} not in {page}")) + marker.len();
    page[start..start + page[start..].find('"').unwrap()].replace("&#x2f;", "/").replace("&amp;", "&")
}

pub(crate) fn ceremony(page: &str) -> Ceremony {
    let section = &page[page.find("id=\"passkey\"").unwrap_or_else(|| panic!("no passkey section in {page}"))..];
    Ceremony {
        options_url: attr(section, "data-options=\""),
        action: attr(section, "<form method=\"post\" action=\""),
        csrf: attr(section, "name=\"csrf_token\" value=\""),
    }
}

pub(crate) async fn options(browser: &Browser, c: &Ceremony) -> Value {
    let (status, body, headers) = browser.post(&c.options_url, &[("csrf_token", &c.csrf)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    serde_json::from_str(&body).unwrap()
}

fn origin(app: &TestApp) -> Url {
    Url::parse(&app.issuer).unwrap()
}

/// Registers a passkey named `name` from the account page; returns its credential id.
pub(crate) async fn register(app: &TestApp, browser: &Browser, key: &mut SoftPasskey, name: &str) -> Vec<u8> {
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200, "{page}");
    let c = ceremony(&page);
    let opts: CreationChallengeResponse = serde_json::from_value(options(browser, &c).await).unwrap();
    assert_eq!(opts.public_key.rp.id, "localhost");
    let credential = key.do_registration(origin(app), opts).expect("the authenticator registers");
    let body = serde_json::to_string(&credential).unwrap();
    let (status, page, _) =
        browser.post(&c.action, &[("csrf_token", &c.csrf), ("name", name), ("credential", &body)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Passkey berhasil didaftarkan"), "{page}");
    credential.raw_id.to_vec()
}

/// Signs the options as the authenticator would. For a login without a name the browser
/// lets the person pick a passkey: `pick` names it, and the user handle is added as a
/// discoverable credential returns it.
pub(crate) fn sign(app: &TestApp, key: &mut SoftPasskey, mut opts: Value, pick: Option<(&[u8], &str)>) -> Value {
    if let Some((id, _)) = pick {
        assert_eq!(opts["publicKey"]["allowCredentials"], json!([]), "a discoverable request names no credential");
        opts["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(id) }]);
    }
    let request: RequestChallengeResponse = serde_json::from_value(opts).unwrap();
    let assertion = key.do_authentication(origin(app), request).expect("the authenticator signs");
    let mut assertion = serde_json::to_value(&assertion).unwrap();
    if let Some((_, user_id)) = pick {
        let handle = uuid::Uuid::parse_str(user_id).unwrap();
        assertion["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    }
    assertion
}

pub(crate) async fn answer(
    browser: &Browser,
    c: &Ceremony,
    credential: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let (status, page, headers) = browser.post(&c.action, &[("csrf_token", &c.csrf), ("credential", credential)]).await;
    (status.as_u16(), page, headers)
}

/// Budi, signed in with his password through the portal, registers a passkey named `name`.
struct Registered {
    app: TestApp,
    user: pintu::domain::User,
    portal: crate::support::TestClient,
    browser: Browser,
    key: SoftPasskey,
    id: Vec<u8>,
}

async fn registered(backend: Backend, name: &str) -> Registered {
    let app = TestApp::spawn_localhost(backend).await;
    let user = app.user("budi").await;
    let portal = app.client().await;
    let browser = app.browser();
    browser.authorize_and_login(&app.code_flow_url(&portal, &[]), "budi", PASSWORD).await;
    let mut key = SoftPasskey::new(true);
    let id = register(&app, &browser, &mut key, name).await;
    Registered { app, user, portal, browser, key, id }
}

async fn passkey_registration_and_login_without_a_name(backend: Backend) {
    let Registered { app, user, portal, browser, mut key, id } = registered(backend, "Laptop kantor").await;
    let (_, page, _) = browser.get(&app.url("/account")).await;
    assert!(
        page.contains("second-factor") && !page.contains("/account/password/"),
        "with a passkey enrolled, a password alone no longer opens the account pages: {page}"
    );

    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["acr_values_supported"][2], "urn:pintu:level:3");
    let other = app.browser();
    let (status, page, _) = other.get(&app.code_flow_url(&portal, &[])).await;
    assert_eq!(status, 200);
    assert!(page.contains("autocomplete=\"username webauthn\""), "passkeys are offered in the name's autofill");
    let c = ceremony(&page);
    let assertion = sign(&app, &mut key, options(&other, &c).await, Some((&id, user.id.as_str())));
    let (status, page, headers) = answer(&other, &c, &assertion.to_string()).await;
    assert_eq!(status, 303, "{page}");
    let claims = exchange(&app, &portal, &location(&headers)).await;
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["acr"], "urn:pintu:level:3");
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));

    let (status, _, _) = answer(&other, &c, &assertion.to_string()).await;
    assert_eq!(status, 403, "a finished login cannot be answered again (its interaction is gone)");
    let (status, page, _) = other.get(&app.url("/account")).await;
    assert!(status == 200 && page.contains("Laptop kantor") && page.contains("terakhir dipakai"), "{page}");
    let events = app.get_api("/api/v1/audit/events?limit=100", &app.office_token().await).await;
    let enrolled =
        events.body["items"].as_array().unwrap().iter().any(|e| e["action"] == "admin.factor.passkey.enroll");
    assert!(enrolled, "registration is audited: {}", events.body);
}

async fn step_up_from_password_to_code_to_passkey_in_one_session(backend: Backend) {
    let app = TestApp::spawn_localhost(backend).await;
    app.user("budi").await;
    let portal = app.client().await;
    let finance = app.client().await;
    let signing = app.client().await;
    app.set_profile(&finance.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    app.set_profile(&signing.id, ProfilePatch { min_level: Some(3), ..Default::default() }).await;
    let browser = app.browser();
    let (secret, _) = enrol(&app, &browser, &portal, "budi").await;

    // 1 → 2: the code; a passkey is not registered yet, so none is offered.
    app.clock.advance(30);
    let (status, page, _) = browser.get(&app.code_flow_url(&finance, &[])).await;
    assert!(status == 200 && page.contains("name=\"code\"") && !page.contains("id=\"passkey\""), "{page}");
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    let (status, _, headers) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!(status, 303);
    let renewed = headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pintu_session="));
    assert!(renewed, "a step-up renews the session cookie");
    exchange(&app, &finance, &location(&headers)).await;

    let mut key = SoftPasskey::new(true);
    register(&app, &browser, &mut key, "Kunci biru").await;
    // 2 → 3: only the passkey reaches level 3, so the code is not asked for.
    let (status, page, _) = browser.get(&app.code_flow_url(&signing, &[])).await;
    assert!(status == 200 && page.contains("id=\"passkey\"") && !page.contains("name=\"code\""), "{page}");
    let c = ceremony(&page);
    app.clock.advance(30);
    let code = code_at(&secret, app.now());
    let code_action = c.action.trim_end_matches("/passkey").to_owned();
    let (status, _, _) = browser.post(&code_action, &[("csrf_token", &c.csrf), ("code", &code)]).await;
    assert_eq!(status, 401, "a code is not taken where only a passkey reaches the level");
    let failed = answer(&browser, &c, "{}").await;
    assert!(failed.0 == 401 && !failed.1.contains("name=\"code\""), "asked again, still for the passkey only");
    let c = ceremony(&failed.1);
    let opts = options(&browser, &c).await;
    assert_eq!(opts["publicKey"]["allowCredentials"].as_array().unwrap().len(), 1, "the session owner's keys only");
    let assertion = sign(&app, &mut key, opts, None);
    let (status, page, headers) = answer(&browser, &c, &assertion.to_string()).await;
    assert_eq!(status, 303, "{page}");
    let claims = exchange(&app, &signing, &location(&headers)).await;
    assert_eq!(claims["acr"], "urn:pintu:level:3");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa", "hwk", "user"]));
    let (status, _, _) = browser.get(&app.code_flow_url(&finance, &[])).await;
    assert_eq!(status, 303, "level 3 serves level 2 without asking");

    // The person turns TOTP off and removes the passkey from the account page.
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let c = ceremony(&page);
    let off = attr(&page, "<form method=\"post\" action=\"/account/totp/");
    let (status, page, _) = browser.post(&format!("/account/totp/{off}"), &[("csrf_token", &c.csrf)]).await;
    assert!(status == 200 && page.contains("Verifikasi dua langkah telah dimatikan"), "{page}");
    app.clock.advance(11 * 60);
    let c = ceremony(&page);
    let (status, body, _) = browser.post(&c.options_url, &[("csrf_token", &c.csrf)]).await;
    assert!(status == 403 && body.contains("sign_in_again"), "adding a passkey needs a recent sign-in: {body}");
    let passkey = attr(&page, "name=\"passkey\" value=\"");
    let remove = c.action.clone() + "/remove";
    let (status, _, _) = browser.post(&remove, &[("csrf_token", &c.csrf), ("passkey", "someone-else")]).await;
    assert_eq!(status, 401, "only one's own passkeys can be removed");
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let c = ceremony(&page);
    let remove = c.action.clone() + "/remove";
    let (status, page, _) = browser.post(&remove, &[("csrf_token", &c.csrf), ("passkey", &passkey)]).await;
    assert!(status == 200 && page.contains("Passkey telah dihapus") && !page.contains("Kunci biru"), "{page}");
    let events = app.get_api("/api/v1/audit/events?limit=200", &app.office_token().await).await;
    let actions: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["admin.factor.totp.remove", "admin.factor.passkey.remove"] {
        assert!(actions.contains(&action), "{action} is audited");
    }
    let other = app.browser();
    let (_, page, _) = other.get(&app.code_flow_url(&finance, &[])).await;
    let (status, _, _) = other.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 403, "without factors, level 2 is out of reach again");
}

async fn bad_passkey_answers_are_refused_and_audited(backend: Backend) {
    let Registered { app, user, portal, browser: _, mut key, id } = registered(backend, "Kunci").await;
    let pick = Some((id.as_slice(), user.id.as_str()));
    let other = app.browser();
    let login_page = || async { ceremony(&other.get(&app.code_flow_url(&portal, &[])).await.1) };

    let c = login_page().await;
    let first = sign(&app, &mut key, options(&other, &c).await, pick).to_string();
    let (status, page, _) = answer(&other, &c, "{\"id\": 42}").await;
    assert!(status == 401 && page.contains("Jawaban passkey tidak sah"), "malformed: {page}");
    let (status, page, _) = answer(&other, &c, &first).await;
    assert!(status == 401 && page.contains("sudah dijawab"), "the challenge went with the first answer: {page}");

    let c = login_page().await;
    options(&other, &c).await;
    let huge = format!("{{\"id\": \"{}\"}}", "A".repeat(40 * 1024));
    let (status, page, _) = answer(&other, &c, &huge).await;
    assert!(status == 401 && page.contains("Jawaban passkey tidak sah"), "oversized: {page}");

    let c = login_page().await;
    options(&other, &c).await;
    let (status, page, _) = answer(&other, &c, &first).await;
    assert!(status == 401 && page.contains("tidak dapat diverifikasi"), "an answer to another challenge: {page}");

    let c = login_page().await;
    let mut stranger = sign(&app, &mut key, options(&other, &c).await, pick);
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);
    stranger["id"] = json!(unknown);
    stranger["rawId"] = json!(unknown);
    let (status, page, _) = answer(&other, &c, &stranger.to_string()).await;
    assert!(status == 401 && page.contains("tidak terdaftar"), "an unknown credential: {page}");

    // A cloned authenticator: the stored counter is ahead of what the key now signs.
    let record = app.state.store.passkeys().of_user(&user.id).await.unwrap().remove(0);
    let mut stored: Value = serde_json::from_str(&record.passkey).unwrap();
    stored["cred"]["counter"] = json!(1000);
    let sql = format!("UPDATE webauthn_credentials SET passkey = '{stored}' WHERE id = '{}'", record.id);
    app.raw_sql(&sql).await.unwrap();
    let c = login_page().await;
    let cloned = sign(&app, &mut key, options(&other, &c).await, pick);
    let (status, page, _) = answer(&other, &c, &cloned.to_string()).await;
    assert!(status == 401 && page.contains("tidak dapat diverifikasi"), "a counter going backwards: {page}");

    let events = app.get_api("/api/v1/audit/events?limit=200", &app.office_token().await).await;
    let refused: Vec<String> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str().filter(|d| d.contains("passkey")).map(str::to_owned))
        .collect();
    for reason in ["passkey malformed", "passkey no_challenge", "passkey rejected", "passkey unknown_credential"] {
        assert!(refused.iter().any(|d| d.contains(reason)), "{reason} is audited: {refused:?}");
    }
    let (_, page, _) = other.get(&app.url("/account")).await;
    assert!(!page.contains("/account/password/"), "no refused answer signed anyone in: {page}");
}

async fn passkeys_are_off_without_a_host_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["acr_values_supported"], json!(["urn:pintu:level:1", "urn:pintu:level:2"]));
    app.user("budi").await;
    let portal = app.client().await;
    let browser = app.browser();
    let (status, page, _) = browser.get(&app.code_flow_url(&portal, &[])).await;
    assert!(status == 200 && !page.contains("id=\"passkey\"") && page.contains("name=\"password\""), "{page}");
    browser.authorize_and_login(&app.code_flow_url(&portal, &[]), "budi", PASSWORD).await;
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert!(status == 200 && !page.contains("id=\"passkey\""), "{page}");
}

async fn bad_registrations_are_refused_and_audited(backend: Backend) {
    let Registered { app, mut key, .. } = registered(backend, "Pertama").await;
    // The first passkey raised what the account pages ask; sign in with it again.
    let other = app.browser();
    let page = other.get(&app.code_flow_url(&app.client().await, &[])).await.1;
    let c = ceremony(&page);
    let user_id = app.state.store.users().resolve("budi").await.unwrap().unwrap();
    let id = app.state.store.passkeys().of_user(&user_id).await.unwrap()[0].credential_id.clone();
    let id = URL_SAFE_NO_PAD.decode(id).unwrap();
    let assertion = sign(&app, &mut key, options(&other, &c).await, Some((&id, user_id.as_str())));
    assert_eq!(answer(&other, &c, &assertion.to_string()).await.0, 303);

    let (_, mut page, _) = other.get(&app.url("/account")).await;
    let mut credential = String::new();
    // Each answer renders the page again under a new form token.
    for (name, malformed, fetch, message) in [
        ("", false, true, "Beri nama passkey 1 sampai 64 karakter"),
        ("Kedua", true, true, "Jawaban passkey tidak sah"),
        ("Kedua", false, false, "sudah kedaluwarsa atau sudah dijawab"),
    ] {
        let c = ceremony(&page);
        if fetch {
            let opts: CreationChallengeResponse = serde_json::from_value(options(&other, &c).await).unwrap();
            credential = serde_json::to_string(&key.do_registration(origin(&app), opts).unwrap()).unwrap();
        }
        let body = if malformed { "{\"id\": []}" } else { credential.as_str() };
        let (status, next, _) =
            other.post(&c.action, &[("csrf_token", &c.csrf), ("name", name), ("credential", body)]).await;
        assert!(status == 400 && next.contains(message), "{name:?}: {status} {next}");
        page = next;
    }
    assert_eq!(app.state.store.passkeys().of_user(&user_id).await.unwrap().len(), 1, "nothing was stored");
    let events = app.get_api("/api/v1/audit/events?limit=100", &app.office_token().await).await;
    let refused = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "admin.factor.passkey.refused")
        .count();
    assert_eq!(refused, 3, "each refused registration is audited");
}

async fn a_passkey_does_not_lift_a_person_above_their_ceiling(backend: Backend) {
    let Registered { app, user, portal, mut key, id, .. } = registered(backend, "Kunci").await;
    let d = &app.state.directory;
    let actor = pintu::directory::Actor::cli();
    let current = d.get_user(&actor, user.id.as_str()).await.unwrap();
    d.update_user(&actor, user.id.as_str(), &json!({"level_ceiling": 2}), Some(current.version)).await.unwrap();
    let signing = app.client().await;
    app.set_profile(&signing.id, ProfilePatch { min_level: Some(3), ..Default::default() }).await;

    let other = app.browser();
    let c = ceremony(&other.get(&app.code_flow_url(&portal, &[])).await.1);
    let assertion = sign(&app, &mut key, options(&other, &c).await, Some((&id, user.id.as_str())));
    let (status, _, headers) = answer(&other, &c, &assertion.to_string()).await;
    assert_eq!(status, 303);
    let claims = exchange(&app, &portal, &location(&headers)).await;
    assert_eq!(claims["acr"], "urn:pintu:level:2", "the session is capped at the person's ceiling");
    let (status, _, _) = other.get(&app.code_flow_url(&signing, &[])).await;
    assert_eq!(status, 403, "a level-3 application stays out of reach");
}
