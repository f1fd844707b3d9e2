//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestClient};
use crate::token::{VERIFIER, code_with_pkce, error, exchange};

/// Presents `token` at the token endpoint as a refresh token.
async fn refresh(app: &TestApp, client: &TestClient, token: &str) -> (u16, Value) {
    app.token(client, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await
}

async fn refresh_token_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(&app, &client, &first).await;
    assert_eq!(status, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second_refresh);
    assert!(second["id_token"].is_string());
    let (status, narrowed) = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", &second_refresh), ("scope", "openid")])
        .await;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("openid")));
    let third_refresh = narrowed["refresh_token"].as_str().unwrap().to_owned();
    // Knowing the family (access tokens name their grant) is not knowing a token of it: a
    // made-up secret is refused without harming the family.
    let family = third_refresh.split_once('.').unwrap().0;
    for forged in [format!("{family}.dibuat-buat"), format!("{family}.0.acak.tanda-palsu")] {
        let (status, body) = refresh(&app, &client, &forged).await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"));
    }
    let (status, fourth) = refresh(&app, &client, &third_refresh).await;
    assert_eq!(status, 200, "{fourth}");
    let fourth_refresh = fourth["refresh_token"].as_str().unwrap().to_owned();
    // An attacker replays the first (rotated three times since) token: the whole family dies.
    let (status, body) = refresh(&app, &client, &first).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let (status, body) = refresh(&app, &client, &fourth_refresh).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the legitimate latest token is revoked too");
    let (status, body) = refresh(&app, &client, "made-up").await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
}

/// A thief who rotates a stolen token many times cannot outrun reuse detection: the client's
/// next refresh, with its own (now old) token, still revokes the family.
async fn reuse_is_detected_however_many_rotations_later(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let clients_own = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut thief = clients_own.clone();
    for _ in 0..20 {
        let (status, body) = refresh(&app, &client, &thief).await;
        assert_eq!(status, 200, "{body}");
        thief = body["refresh_token"].as_str().unwrap().to_owned();
    }
    let (status, body) = refresh(&app, &client, &clients_own).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let (status, body) = refresh(&app, &client, &thief).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the thief's newest token is revoked with the family");
}

async fn refresh_scope_cannot_widen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid phone")])
        .await;
    assert_eq!((status, error(&body)), (400, "invalid_scope"));
}

/// A family's first refresh token, through a real code exchange.
async fn first_refresh_token(app: &TestApp, client: &TestClient) -> String {
    let code = code_with_pkce(app, client).await;
    let (_, tokens) = app.token(client, &exchange(client, &code, VERIFIER)).await;
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

fn refresh_of(body: &Value) -> String {
    body["refresh_token"].as_str().expect("a refresh token").to_owned()
}

/// RFC 6749 §6: a refused refresh (another client, a wider scope) must not consume the token,
/// or the rightful client's next refresh would count as a replay and revoke the grant.
async fn a_refused_refresh_leaves_the_token_usable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, other) = (app.client().await, app.client().await);
    let token = first_refresh_token(&app, &client).await;
    let (status, body) = refresh(&app, &other, &token).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let wider = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("scope", "openid phone")];
    let (status, body) = app.token(&client, &wider).await;
    assert_eq!((status, error(&body)), (400, "invalid_scope"));
    let (status, body) = app.token(&other, &[wider[0], wider[1], ("scope", "openid")]).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "another client, even with a narrower scope");
    let (status, body) = refresh(&app, &client, &token).await;
    assert_eq!(status, 200, "the rightful client's token still works: {body}");
    let (status, body) = refresh(&app, &client, &refresh_of(&body)).await;
    assert_eq!(status, 200, "and the family was not revoked: {body}");
}

/// Eight requests of one session refresh with the same token at once (a reverse proxy such as
/// mod_auth_openidc does): every one is answered, all with the family's one current token.
async fn parallel_refreshes_of_one_token_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let token = first_refresh_token(&app, &client).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let form = format!("grant_type=refresh_token&refresh_token={token}");
        let request = app.http.post(app.url("/oauth2/token")).basic_auth(&client.id, client.secret.as_ref());
        let request = request.header("content-type", "application/x-www-form-urlencoded").body(form);
        set.spawn(async move {
            let resp = request.send().await.expect("request");
            (resp.status().as_u16(), resp.json::<Value>().await.expect("a JSON answer"))
        });
    }
    let mut current = None;
    for (status, body) in set.join_all().await {
        assert_eq!(status, 200, "{body}");
        assert!(body["access_token"].is_string() && body["id_token"].is_string());
        let next = refresh_of(&body);
        assert_ne!(next, token);
        assert_eq!(current.get_or_insert_with(|| next.clone()), &next, "one current token for all");
    }
    let (status, body) = refresh(&app, &client, &current.unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

/// A client whose answer was lost presents its token again: within the grace period it gets the
/// current token; once that is used, or the grace is over, the old one is a replay again.
async fn previous_token_is_answered_within_the_grace_period_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let first = first_refresh_token(&app, &client).await;
    let (_, body) = refresh(&app, &client, &first).await;
    let second = refresh_of(&body);
    app.clock.advance(5);
    let (status, again) = refresh(&app, &client, &first).await;
    assert_eq!((status, refresh_of(&again)), (200, second.clone()), "lost answer retried: {again}");
    let (status, body) = refresh(&app, &client, &second).await;
    assert_eq!(status, 200, "{body}");
    let third = refresh_of(&body);
    let (status, body) = refresh(&app, &client, &first).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "two generations old: a replay");
    let (status, body) = refresh(&app, &client, &third).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the replay revoked the family");
}

async fn previous_token_is_a_replay_once_the_grace_is_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let first = first_refresh_token(&app, &client).await;
    let (_, body) = refresh(&app, &client, &first).await;
    let second = refresh_of(&body);
    app.clock.advance(6);
    let (status, body) = refresh(&app, &client, &first).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "after the grace: a replay");
    let (status, body) = refresh(&app, &client, &second).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the family is revoked");
}

async fn a_grace_period_of_zero_keeps_strict_reuse_detection(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.refresh_grace = 0).await;
    let client = app.client().await;
    let first = first_refresh_token(&app, &client).await;
    let (_, body) = refresh(&app, &client, &first).await;
    let second = refresh_of(&body);
    let (status, body) = refresh(&app, &client, &first).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let (status, body) = refresh(&app, &client, &second).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the family is revoked");
}

backend_tests!(
    refresh_token_rotates_and_reuse_revokes_the_family,
    reuse_is_detected_however_many_rotations_later,
    refresh_scope_cannot_widen,
    a_refused_refresh_leaves_the_token_usable,
    parallel_refreshes_of_one_token_all_succeed,
    previous_token_is_answered_within_the_grace_period_only,
    previous_token_is_a_replay_once_the_grace_is_over,
    a_grace_period_of_zero_keeps_strict_reuse_detection,
);
