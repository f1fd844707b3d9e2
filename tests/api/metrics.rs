//! Prometheus metrics: requests by route pattern (never the raw path), sign-in steps by method,
//! outcome and reason, lockouts, tokens by grant type, the database pool; served by their own
//! router, which the public one does not include.

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    metrics_count_requests_logins_lockouts_and_tokens_by_route_and_reason,
    without_a_metrics_listener_requests_are_not_counted,
);

async fn without_a_metrics_listener_requests_are_not_counted(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.metrics.listen = None).await;
    assert_eq!(app.browser().get(&app.url("/healthz")).await.0, 200);
    assert!(!app.state.metrics.encode().contains("pintu_http_requests_total{"), "no layer, no cost");
}

async fn metrics_count_requests_logins_lockouts_and_tokens_by_route_and_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "budi", &[]).await;
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", client.redirect_uri.as_str())];
    assert_eq!(app.token(&client, &form).await.0, 200);
    for _ in 0..6 {
        let stranger = app.browser();
        let (_, page, _) = stranger.get(&app.url("/account")).await;
        stranger.login(&page, "budi", "bukan-kata-sandinya").await;
    }
    assert_eq!(app.browser().get(&app.url("/metrics")).await.0, 404, "not on the public listener");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = pintu::web::metrics_router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let response = reqwest::get(format!("http://{address}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for line in [
        r#"pintu_http_requests_total{route="/oauth2/token",method="POST",status="200"} 1"#,
        r#"pintu_http_requests_total{route="/account/login/{id}",method="POST",status="401"} 4"#,
        r#"pintu_http_requests_total{route="/account/login/{id}",method="POST",status="429"} 2"#,
        r#"pintu_logins_total{method="pwd",outcome="success",reason=""} 1"#,
        r#"pintu_logins_total{method="pwd",outcome="failure",reason="invalid password"} 4"#,
        r#"pintu_logins_total{method="pwd",outcome="failure",reason="throttled"} 2"#,
        "pintu_lockouts_total 2",
        r#"pintu_tokens_issued_total{grant_type="authorization_code"} 1"#,
        "pintu_argon2_queue_jobs 0",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains("pintu_db_pool_connections ") && text.contains("pintu_audit_batch_events_count "), "{text}");
    assert!(!text.contains(&code), "no raw paths (and so no codes or ids) in labels");
}
