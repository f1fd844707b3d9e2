//! Client authentication failures say why: a client that uses another method than the one it
//! registered is told which one it registered; every failure is audited with its reason,
//! while unknown and disabled clients stay indistinguishable.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(a_client_using_another_method_is_told_the_registered_one, client_authentication_failures_are_audited);

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

fn description(body: &Value) -> (&str, &str) {
    (body["error"].as_str().unwrap_or_default(), body["error_description"].as_str().unwrap_or_default())
}

async fn a_client_using_another_method_is_told_the_registered_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let basic = app.client().await;
    let basic_secret = basic.secret.clone().unwrap();
    let metadata = json!({ "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post" });
    let post = app.client_from(metadata, false).await;
    let post_secret = post.secret.clone().unwrap();

    // openid-client v6's default against Pintu's default.
    let form = [GRANT, ("client_id", basic.id.as_str()), ("client_secret", basic_secret.as_str())];
    let (status, body, headers) = app.post_form("/oauth2/token", &form, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        description(&body),
        ("invalid_client", "this client is registered for client_secret_basic; client_secret_post was used")
    );
    assert!(headers.get("www-authenticate").is_none(), "no Basic challenge when Basic was not tried");

    // RFC 6749 §5.2: Basic was attempted, so the 401 carries a Basic challenge.
    let (status, body, headers) = app.post_form("/oauth2/token", &[GRANT], Some((&post.id, &post_secret))).await;
    assert_eq!(status, 401);
    assert_eq!(
        description(&body),
        ("invalid_client", "this client is registered for client_secret_post; client_secret_basic was used")
    );
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));

    let (_, body, _) = app.post_form("/oauth2/introspect", &[("token", "x"), ("client_id", &basic.id)], None).await;
    assert_eq!(description(&body).1, "this client is registered for client_secret_basic; none was used");

    // Everything else keeps the one message.
    let generic = ("invalid_client", "client authentication failed");
    let (_, body, _) = app.post_form("/oauth2/token", &[GRANT], Some((&basic.id, "wrong-secret"))).await;
    assert_eq!(description(&body), generic, "wrong secret");
    let unknown = [GRANT, ("client_id", "no-such-client"), ("client_secret", "x")];
    assert_eq!(description(&app.post_form("/oauth2/token", &unknown, None).await.1), generic, "unknown client");
    app.disable_app(&basic.id).await;
    assert_eq!(description(&app.post_form("/oauth2/token", &form, None).await.1), generic, "disabled = unknown");
}

async fn client_authentication_failures_are_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let office = app.office_token().await;
    let basic = app.client().await;
    let secret = basic.secret.clone().unwrap();
    let form = [GRANT, ("client_id", basic.id.as_str()), ("client_secret", secret.as_str())];
    assert_eq!(app.post_form("/oauth2/token", &form, None).await.0, 401);
    assert_eq!(app.post_form("/oauth2/revoke", &[("token", "x")], Some((&basic.id, "wrong-secret"))).await.0, 401);
    let unknown = [GRANT, ("client_id", "no-such-client"), ("client_secret", "s3cret-typed-here")];
    assert_eq!(app.post_form("/oauth2/token", &unknown, None).await.0, 401);

    let events = app.get_api("/api/v1/audit/events?limit=1000", &office).await;
    let failures: Vec<&Value> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "client.authentication" && e["outcome"] == "failure")
        .collect();
    let detail = |e: &Value| serde_json::from_str::<Value>(e["detail"].as_str().unwrap()).unwrap();
    let seen: Vec<(Option<&str>, Value)> = failures.iter().map(|e| (e["client_id"].as_str(), detail(e))).collect();
    let mismatch = "this client is registered for client_secret_basic; client_secret_post was used";
    for expected in [
        (Some(basic.id.as_str()), json!({ "method": "client_secret_post", "reason": mismatch })),
        (Some(basic.id.as_str()), json!({ "method": "client_secret_basic", "reason": "wrong client secret" })),
        (None, json!({ "method": "client_secret_post", "reason": "unknown client" })),
    ] {
        assert!(seen.contains(&expected), "{expected:?} missing from {seen:?}");
    }
    assert!(failures.iter().all(|e| e["source_ip"] == "127.0.0.1"), "{failures:?}");
    let text = events.body.to_string();
    assert!(!text.contains(&secret) && !text.contains("wrong-secret") && !text.contains("s3cret-typed-here"));
    assert!(!text.contains("no-such-client"), "a name no client has is not recorded");
}
