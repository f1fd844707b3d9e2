//! What a code is worth at the exchange: nothing to another client (and that attempt does not
//! burn it), nothing once the session it was issued in has ended.

use pintu::clock::Clock;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

async fn another_clients_attempt_neither_works_nor_burns_the_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let (client, thief) = (app.client().await, app.client().await);
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "budi", &[]).await;
    let exchange = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)];
    let (status, body) = app.token(&thief, &exchange).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, body) = app.token(&client, &exchange).await;
    assert_eq!(status, 200, "the rightful client still gets its tokens: {body}");
}

async fn a_code_is_worthless_once_its_session_has_ended(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let budi = app.user("budi").await;
    let client = app.client().await;
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "budi", &[]).await;
    let now = app.clock.now();
    for session in app.state.store.session_list().live(&budi.id, now).await.unwrap() {
        app.state.store.sessions().end(&session.id, now).await.unwrap();
    }
    let exchange = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)];
    let (status, body) = app.token(&client, &exchange).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

backend_tests!(
    another_clients_attempt_neither_works_nor_burns_the_code,
    a_code_is_worthless_once_its_session_has_ended
);
