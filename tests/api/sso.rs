//! The protocol-neutral SSO core on its own: a sign-in that no protocol started still makes
//! one session every protocol honours, its failures are audited against the account, and
//! interactions keep their kind and their form token.

use pintu::sso::{Attempt, InteractionKind, PendingRequest, SignInError, SsoError};

use crate::backend_tests;
use crate::support::browser::{location, query_param};
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    one_sign_in_makes_a_session_that_oidc_honours,
    a_failed_sign_in_is_audited_against_the_account,
    an_interaction_answers_only_its_kind_and_its_form_token,
);

async fn one_sign_in_makes_a_session_that_oidc_honours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let budi = app.user("budi").await;
    let client = app.client().await;
    let at = Attempt { client: None, source_ip: Some("127.0.0.1") };
    let signed_in = app.state.sso.sign_in.with_password(at, "BUDI", PASSWORD).await.unwrap();
    assert_eq!(signed_in.user.id, budi.id);
    let (session, user) = app.state.sso.sessions.find(Some(&signed_in.cookie)).await.unwrap().unwrap();
    assert_eq!((session.id, user.id), (signed_in.session.id.clone(), budi.id.clone()));
    // The OpenID Connect authorization finds the session and answers at once: single sign-on.
    let resp = app
        .http
        .get(app.code_flow_url(&client, &[]))
        .header("cookie", format!("pintu_session={}", signed_in.cookie))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert!(query_param(&location(resp.headers()), "code").is_some());
    app.state.sso.sessions.end(&signed_in.session.id).await.unwrap();
    assert!(app.state.sso.sessions.find(Some(&signed_in.cookie)).await.unwrap().is_none());
}

async fn a_failed_sign_in_is_audited_against_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let budi = app.user("budi").await;
    let at = Attempt { client: None, source_ip: Some("127.0.0.1") };
    let refused = app.state.sso.sign_in.with_password(at, "budi", "bukan-kata-sandinya").await;
    assert!(matches!(refused, Err(SignInError::InvalidCredentials)), "{refused:?}");
    let refused = app.state.sso.sign_in.with_password(at, "tidak-ada", "bukan-kata-sandinya").await;
    assert!(matches!(refused, Err(SignInError::InvalidCredentials)), "{refused:?}");
    let token = app.office_token().await;
    let events = app.get_api("/api/v1/audit/events?limit=100", &token).await.body;
    let failures: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login" && e["outcome"] == "failure")
        .map(|e| (e["target"].as_str().map(str::to_owned), e["detail"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().any(|(t, d)| t.as_deref() == Some(budi.id.as_str()) && d.contains("invalid password")));
    assert!(failures.iter().any(|(t, d)| t.is_none() && d.contains("unknown account")));
}

async fn an_interaction_answers_only_its_kind_and_its_form_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let interactions = &app.state.sso.interactions;
    let started = interactions.start(InteractionKind::Account, &PendingRequest::Account, None).await.unwrap();
    let form = pintu::sso::FormToken { interaction: &started.id, csrf: &started.csrf };
    let wrong_kind = interactions.load(form, InteractionKind::AccountTotp).await;
    assert!(matches!(wrong_kind, Err(SsoError::Expired)), "{wrong_kind:?}");
    let forged = pintu::sso::FormToken { interaction: &started.id, csrf: "tebakan" };
    assert!(matches!(interactions.load(forged, InteractionKind::Account).await, Err(SsoError::Csrf)));
    let loaded = interactions.load(form, InteractionKind::Account).await.unwrap();
    assert_eq!((loaded.kind, loaded.request), (InteractionKind::Account, PendingRequest::Account));
    assert!(interactions.finish(&started.id).await.unwrap());
    assert!(matches!(interactions.load(form, InteractionKind::Account).await, Err(SsoError::Expired)));
}
