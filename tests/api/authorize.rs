//! The authorization endpoint: validation, SSO, prompts, consent, response modes, bad input.

use pintu::directory::Actor;
use pintu::domain::UserStatus;
use reqwest::StatusCode;

use crate::backend_tests;
use crate::support::browser::{form_in, location, query_param};
use crate::support::{Backend, PASSWORD, TestApp, TestClient};

pub(crate) fn base_params(client: &TestClient) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid email"),
        ("state", "st-1"),
    ]
}

async fn login_page_is_accessible_and_protected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let (status, page, headers) = app.browser().get(&app.authorize_url(&base_params(&client))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("autocomplete=\"username\""));
    assert!(page.contains("autocomplete=\"current-password\""));
    assert!(page.contains("<label for=\"username\">"));
    assert!(page.contains("lang=\"id\""), "Bahasa Indonesia by default");
    assert!(form_in(&page).is_some(), "CSRF token in the form");
    let set_cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
}

async fn ui_locales_en_renders_english(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let mut params = base_params(&client);
    params.push(("ui_locales", "en"));
    let (_, page, _) = app.browser().get(&app.authorize_url(&params)).await;
    assert!(page.contains("lang=\"en\"") && page.contains("Sign in"));
}

async fn one_login_serves_a_second_application(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let (first, second) = (app.client().await, app.client().await);
    let browser = app.browser();
    app.code_for(&browser, &first, "budi", &[]).await;
    let (status, _, headers) = browser.get(&app.authorize_url(&base_params(&second))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no login page the second time");
    assert!(query_param(&location(&headers), "code").is_some());
}

async fn prompt_none_without_session_returns_login_required(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let mut params = base_params(&client);
    params.push(("prompt", "none"));
    let (status, _, headers) = app.browser().get(&app.authorize_url(&params)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let loc = location(&headers);
    assert_eq!(query_param(&loc, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(app.base.as_str()));
}

async fn prompt_none_with_session_answers_without_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    app.code_for(&browser, &client, "budi", &[]).await;
    let mut params = base_params(&client);
    params.push(("prompt", "none"));
    let (status, _, headers) = browser.get(&app.authorize_url(&params)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(query_param(&location(&headers), "code").is_some());
}

async fn prompt_login_and_expired_max_age_show_the_login_page_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    app.code_for(&browser, &client, "budi", &[]).await;
    let mut with_prompt = base_params(&client);
    with_prompt.push(("prompt", "login"));
    let (status, page, _) = browser.get(&app.authorize_url(&with_prompt)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""));

    let mut with_max_age = base_params(&client);
    with_max_age.push(("max_age", "60"));
    let (status, _, _) = browser.get(&app.authorize_url(&with_max_age)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "session is fresh enough");
    app.clock.advance(120);
    let (status, page, _) = browser.get(&app.authorize_url(&with_max_age)).await;
    assert_eq!(status, StatusCode::OK, "max_age exceeded: re-authenticate");
    let (status, _, headers) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(query_param(&location(&headers), "code").is_some());
}

async fn consent_is_asked_once_and_deny_returns_access_denied(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app
        .client_from(
            serde_json::json!({"client_name": "Aplikasi Khusus", "redirect_uris": ["http://127.0.0.1:9/cb"]}),
            false,
        )
        .await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"decision\"") && page.contains("Aplikasi Khusus"));
    let form = form_in(&page).unwrap();
    let (status, _, headers) =
        browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("decision", "deny")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(query_param(&location(&headers), "error").as_deref(), Some("access_denied"));

    // Approve once; the next request for the same scopes needs no consent page.
    let loc = browser.authorize_and_login(&app.authorize_url(&base_params(&client)), "budi", PASSWORD).await;
    assert!(query_param(&loc, "code").is_some());
    let (status, _, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut none = base_params(&client);
    none[3] = ("scope", "openid email phone");
    none.push(("prompt", "none"));
    let (_, _, headers) = browser.get(&app.authorize_url(&none)).await;
    assert_eq!(query_param(&location(&headers), "error").as_deref(), Some("consent_required"));
}

async fn form_post_response_mode_posts_code_to_the_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let mut params = base_params(&client);
    params.push(("response_mode", "form_post"));
    let (_, page, _) = browser.get(&app.authorize_url(&params)).await;
    let (status, page, headers) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("action=\"http:&#x2f;&#x2f;127.0.0.1:9&#x2f;callback\"")
            || page.contains("action=\"http://127.0.0.1:9/callback\"")
    );
    assert!(page.contains("name=\"code\"") && page.contains("name=\"iss\""));
    assert!(headers.get("content-security-policy").unwrap().to_str().unwrap().contains("script-src 'sha256-"));
}

async fn unknown_client_or_unregistered_redirect_uri_never_redirects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    let mut unknown = base_params(&client);
    unknown[1] = ("client_id", "nobody");
    let (status, page, _) = browser.get(&app.authorize_url(&unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("invalid_request"));
    let mut evil = base_params(&client);
    evil[2] = ("redirect_uri", "https://evil.example/cb");
    let (status, _, headers) = browser.get(&app.authorize_url(&evil)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("location").is_none());
    let mut missing = base_params(&client);
    missing.remove(2);
    let (status, _, _) = browser.get(&app.authorize_url(&missing)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn redirectable_errors_carry_state_and_iss(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
        (vec![("request_uri", "https://x.example/r")], "request_uri_not_supported"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("max_age", "-5")], "invalid_request"),
        (vec![("claims", "{not json")], "invalid_request"),
        (vec![("code_challenge", "abc"), ("code_challenge_method", "plain")], "invalid_request"),
        (vec![("id_token_hint", "not.a.token")], "invalid_request"),
    ];
    for (overrides, expected) in cases {
        let mut params: Vec<(&str, &str)> =
            base_params(&client).into_iter().filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k)).collect();
        params.extend(overrides.iter().copied());
        let (status, page, headers) = browser.get(&app.authorize_url(&params)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{expected}: {page}");
        let loc = location(&headers);
        assert_eq!(query_param(&loc, "error").as_deref(), Some(expected), "{overrides:?}");
        assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"));
        assert_eq!(query_param(&loc, "iss").as_deref(), Some(app.base.as_str()));
    }
}

async fn repeated_parameter_is_refused_with_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let url = format!("{}&scope=openid", app.authorize_url(&base_params(&client)));
    let (status, page, _) = app.browser().get(&url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("repeated"));
}

async fn public_client_must_use_pkce(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app
        .client_from(
            serde_json::json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}),
            true,
        )
        .await;
    let (_, _, headers) = app.browser().get(&app.authorize_url(&base_params(&client))).await;
    let loc = location(&headers);
    assert_eq!(query_param(&loc, "error").as_deref(), Some("invalid_request"));
    assert!(query_param(&loc, "error_description").unwrap().contains("code_challenge"));
}

async fn wrong_password_and_unknown_user_look_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    let (s1, wrong, _) = browser.login(&page, "budi", "salah-salah-salah").await;
    let (s2, unknown, _) = browser.login(&wrong, "tidak-ada", "salah-salah-salah").await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    let message = "Nama pengguna atau kata sandi salah.";
    assert!(wrong.contains(message) && unknown.contains(message));
    // The same interaction still works with the right password, and e-mail works as login.
    let (status, _, _) = browser.login(&unknown, "budi@kominfo.go.id", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn login_form_without_csrf_token_or_interaction_cookie_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    let form = form_in(&page).unwrap();
    let (status, _, _) =
        browser.post(&form.action, &[("csrf_token", "forged"), ("username", "budi"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.browser();
    let (status, _, _) = stranger
        .post(&form.action, &[("csrf_token", &form.csrf_token), ("username", "budi"), ("password", PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another browser cannot complete this interaction");
}

async fn disabled_user_cannot_log_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    app.state.directory.set_status(&Actor::cli(), "budi", UserStatus::Suspended).await.unwrap();
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    let (status, _, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

backend_tests!(
    login_page_is_accessible_and_protected,
    ui_locales_en_renders_english,
    one_login_serves_a_second_application,
    prompt_none_without_session_returns_login_required,
    prompt_none_with_session_answers_without_a_page,
    prompt_login_and_expired_max_age_show_the_login_page_again,
    consent_is_asked_once_and_deny_returns_access_denied,
    form_post_response_mode_posts_code_to_the_client,
    unknown_client_or_unregistered_redirect_uri_never_redirects,
    redirectable_errors_carry_state_and_iss,
    repeated_parameter_is_refused_with_a_page,
    public_client_must_use_pkce,
    wrong_password_and_unknown_user_look_the_same,
    login_form_without_csrf_token_or_interaction_cookie_is_refused,
    disabled_user_cannot_log_in,
);

async fn login_upgrades_a_weaker_password_hash(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.password.iterations = 2).await;
    app.user("budi").await; // hashed at the configured cost (t=2)
    let weak = pintu::authn::PasswordHasherService::new(pintu::config::PasswordConfig {
        memory_kib: 8192,
        iterations: 1,
        parallelism: 1,
    });
    let weak_hash = weak.hash(PASSWORD).unwrap();
    let id = app.state.store.users().find_credentials("budi").await.unwrap().unwrap().0.id;
    app.state.store.users().set_password_hash(&id, &weak_hash, app.now()).await.unwrap();
    let client = app.client().await;
    app.code_for(&app.browser(), &client, "budi", &[]).await;
    let (_, stored) = app.state.store.users().find_credentials("budi").await.unwrap().unwrap();
    let stored = stored.unwrap();
    assert_ne!(stored, weak_hash);
    assert!(stored.contains("t=2"), "rehashed at the configured cost: {stored}");
}

backend_tests!(login_upgrades_a_weaker_password_hash);

async fn chosen_language_survives_the_login_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let mut params = base_params(&client);
    params.push(("ui_locales", "en"));
    let (_, page, _) = browser.get(&app.authorize_url(&params)).await;
    let (status, page, _) = browser.login(&page, "budi", "wrong-password-here").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Wrong username or password."), "still English after the POST");
}

backend_tests!(chosen_language_survives_the_login_form);

async fn login_hint_prefills_the_login_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let mut params = base_params(&client);
    params.push(("login_hint", "budi@kominfo.go.id"));
    let (_, page, _) = app.browser().get(&app.authorize_url(&params)).await;
    assert!(page.contains("value=\"budi@kominfo.go.id\""), "{page}");
}

async fn id_token_hint_for_another_user_requires_a_new_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    app.user("ani").await;
    let client = app.client().await;
    // Ani's ID token, then Budi's session in another browser.
    let code = app.code_for(&app.browser(), &client, "ani", &[]).await;
    let (_, tokens) = app
        .token(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
        )
        .await;
    let ani_hint = tokens["id_token"].as_str().unwrap().to_owned();
    let browser = app.browser();
    app.code_for(&browser, &client, "budi", &[]).await;
    // OIDC Core §3.1.2.1: the hinted user is not the one logged in, so prompt=none must fail...
    let mut silent = base_params(&client);
    silent.extend([("prompt", "none"), ("id_token_hint", ani_hint.as_str())]);
    let (_, _, headers) = browser.get(&app.authorize_url(&silent)).await;
    assert_eq!(query_param(&location(&headers), "error").as_deref(), Some("login_required"));
    // ...and without prompt=none the login page is shown instead of answering as Budi.
    let mut hinted = base_params(&client);
    hinted.push(("id_token_hint", ani_hint.as_str()));
    let (status, page, _) = browser.get(&app.authorize_url(&hinted)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""));
}

backend_tests!(login_hint_prefills_the_login_name, id_token_hint_for_another_user_requires_a_new_login);
