//! Opening Pintu directly: `/` leads to the account page, which signs a person in by itself
//! (password, then the second step their factors demand) and returns to itself.

use crate::backend_tests;
use crate::levels::{code_at, enrol};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, Browser, PASSWORD, TestApp};
use pintu::sso::Attempt;

backend_tests!(
    the_front_door_signs_a_person_in_to_their_account,
    the_account_sign_in_asks_for_the_second_step,
    the_account_sign_in_is_throttled_like_any_other,
);

async fn the_account_sign_in_is_throttled_like_any_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let form = form_in(&page).unwrap();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let (status, _, headers) = post(&browser, &form.action, &form.csrf_token, "salah-1-panjang").await;
        statuses.push(status.as_u16());
        retry_after = headers.get("retry-after").map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{retry_after:?}");
    assert_eq!(post(&browser, &form.action, &form.csrf_token, PASSWORD).await.0, 429, "the right password waits too");
    app.clock.advance(61);
    assert_eq!(post(&browser, &form.action, &form.csrf_token, PASSWORD).await.0, 303, "the lock expires by itself");
}

async fn the_front_door_signs_a_person_in_to_their_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let browser = app.browser();
    let (status, _, headers) = browser.get(&app.url("/")).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));

    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("name=\"password\"") && page.contains("Akun saya"), "{page}");
    let form = form_in(&page).unwrap();
    assert!(form.action.starts_with("/account/login/"), "{}", form.action);

    // A form posted by another browser, or with another CSRF token, is refused.
    let action = form.action.as_str();
    assert_eq!(post(&app.browser(), action, &form.csrf_token, PASSWORD).await.0, 403, "another browser");
    assert_eq!(post(&browser, action, "forged", PASSWORD).await.0, 403, "a forged token");

    let (status, page, _) = post(&browser, action, &form.csrf_token, "salah-salah-salah").await;
    assert_eq!(status, 401);
    assert!(page.contains("role=\"alert\"") && page.contains("name=\"password\""), "{page}");
    let (status, _, headers) = post(&browser, action, &form.csrf_token, PASSWORD).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200);
    assert!(page.contains("sesi ini") && page.contains("/account/password/"), "the overview: {page}");
    assert!(page.contains("href=\"/oauth2/logout\""), "the account page offers a way to sign out: {page}");

    // The finished sign-in cannot be replayed: its cookie is gone, and with the cookie forged
    // back the interaction itself is finished (a fresh start, no new session).
    assert_eq!(post(&browser, action, &form.csrf_token, PASSWORD).await.0, 403, "its cookie is gone");
    let replay = bound(&app, action, None).form(&fields(&form.csrf_token, PASSWORD)).send().await.unwrap();
    assert_eq!(replay.status(), 303);
    assert_eq!(replay.headers()["location"], "/account");
    assert!(replay.headers().get("set-cookie").is_none(), "no session from a finished sign-in");
    let token = app.office_token().await;
    let events = app.get_api("/api/v1/audit/events?limit=1000", &token).await;
    let logins: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(logins.iter().filter(|o| **o == "success").count(), 1, "{logins:?}");
    assert_eq!(logins.len(), 2, "the failure is audited too: {logins:?}");
}

async fn the_account_sign_in_asks_for_the_second_step(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let (secret, _) = enrol(&app, &app.browser(), &client, "budi").await;
    app.clock.advance(30);

    let browser = app.browser();
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("name=\"code\"") && !page.contains("name=\"password\""), "{page}");
    let form = form_in(&page).unwrap();
    assert!(form.action.starts_with("/account/second-factor/"), "{}", form.action);
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert!(status == 200 && page.contains("name=\"code\""), "a password alone does not open the account: {page}");

    let form = form_in(&page).unwrap();
    let (status, page, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", "000000")]).await;
    assert_eq!(status, 401, "{page}");
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    // The code posted by a browser without the session is refused; past the browser binding,
    // without the session or with another person's, it is not taken either.
    let other = app.browser();
    assert_eq!(other.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await.0, 403);
    app.user("sari").await;
    let sari = app.state.sso.sign_in.with_password(Attempt { client: None, source_ip: None }, "sari", PASSWORD).await;
    for session in [None, Some(sari.unwrap().cookie)] {
        let form_fields = [("csrf_token", form.csrf_token.as_str()), ("code", code.as_str())];
        let sent = bound(&app, &form.action, session.as_deref()).form(&form_fields).send().await.unwrap();
        assert_eq!(sent.status(), 303, "{session:?}");
        assert_eq!(sent.headers()["location"], "/account");
        assert!(sent.headers().get("set-cookie").is_none(), "no session raised for {session:?}");
    }
    let (status, _, headers) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert!(status == 200 && page.contains("/account/password/"), "{page}");
}

/// A request to an interaction's form from a client holding only that interaction's cookie
/// (and, with `session`, a session cookie): past the browser binding, to what lies behind it.
fn bound(app: &TestApp, action: &str, session: Option<&str>) -> reqwest::RequestBuilder {
    let id = action.rsplit('/').next().unwrap();
    let mut cookie = format!("pintu_interaction={id}");
    if let Some(session) = session {
        cookie.push_str(&format!("; pintu_session={session}"));
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(action))
        .header("cookie", cookie)
}

fn fields<'a>(csrf: &'a str, password: &'a str) -> [(&'static str, &'a str); 3] {
    [("csrf_token", csrf), ("username", "budi"), ("password", password)]
}

async fn post(
    browser: &Browser,
    action: &str,
    csrf: &str,
    password: &str,
) -> (reqwest::StatusCode, String, reqwest::header::HeaderMap) {
    browser.post(action, &[("csrf_token", csrf), ("username", "budi"), ("password", password)]).await
}
