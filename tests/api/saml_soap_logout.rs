//! Single logout from the server (SAML Bindings §3.2, the SOAP binding): a session ended with
//! no browser to carry front-channel messages (an administrator suspends the person) reaches
//! the SAML SP that registered a SOAP single logout service with Pintu's signed LogoutRequest,
//! read and answered by pysaml2 (its signature checked against Pintu's metadata); an SP that
//! answers with an error is retried later, and a notice is delivered once.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use pintu::directory::Actor;
use pintu::domain::UserStatus;
use pintu::domain::saml::{AcsEndpoint, SamlRegistration};

use crate::backend_tests;
use crate::saml_sso::{ACS, ENTITY, Sp, line, posted, pysaml2_sp};
use crate::support::browser::location;
use crate::support::{Backend, Browser, PASSWORD, TestApp};

backend_tests!(a_session_ended_without_a_browser_reaches_the_saml_sp_over_soap);

/// The SP's SOAP endpoint on 127.0.0.1: `/slo-soap` hands each message to pysaml2 and answers
/// with its LogoutResponse; `/broken` answers 500. What pysaml2 read, with the SOAPAction.
async fn serve(sp: Arc<Sp>) -> (Arc<Mutex<Vec<String>>>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let received = Arc::new(Mutex::new(Vec::new()));
    let (seen, at) = (received.clone(), format!("{base}/slo-soap"));
    let handler = move |headers: HeaderMap, body: String| {
        let (sp, seen, at) = (sp.clone(), seen.clone(), at.clone());
        async move {
            let action = headers.get("soapaction").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let run = move || sp.run("logout-soap", &[&at], Some(&body));
            let (code, out) = tokio::task::spawn_blocking(run).await.unwrap();
            seen.lock().unwrap().push(format!("soapaction {action}\n{out}"));
            let envelope = out.split_once("envelope\n").and_then(|(_, rest)| rest.split_once("\nend-envelope"));
            match (code, envelope) {
                (Some(0), Some((envelope, _))) => {
                    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], envelope.to_owned())
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], out),
            }
        }
    };
    let router = axum::Router::new()
        .route("/slo-soap", post(handler))
        .route("/broken", post(|| async { StatusCode::INTERNAL_SERVER_ERROR }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (received, base)
}

/// Budi signs in to the SP in a new browser: the NameID and SessionIndex pysaml2 read.
async fn signed_in(app: &TestApp, sp: &Sp) -> (Browser, String, String) {
    let browser = app.browser();
    let (request_id, url) = sp.request("masuk");
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    let (status, _, headers) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/resume"));
    let (_, page, _) = browser.get(&app.url("/saml/resume")).await;
    let (response, _) = posted(&page, ACS);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!(code, Some(0), "{read}");
    let name_id = line(&read, "name_id ").to_owned();
    (browser, name_id, line(&read, "session ").to_owned())
}

async fn a_session_ended_without_a_browser_reaches_the_saml_sp_over_soap(backend: Backend) {
    // The SP's endpoint is on this machine: the address fences must allow it.
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_private_addresses = true).await;
    app.org_tree().await;
    app.pegawai("budi", "DINKES").await;
    let Some((sp, cert)) = pysaml2_sp(&app).await else { return };
    let sp = Arc::new(sp);
    let (received, base) = serve(sp.clone()).await;
    let mut registration = SamlRegistration {
        entity_id: ENTITY.into(),
        acs: vec![AcsEndpoint { location: ACS.into(), index: 0, is_default: true }],
        slo_soap_url: Some(format!("{base}/slo-soap")),
        certificates: vec![cert],
        sign_requests: true,
        ..Default::default()
    };
    let actor = Actor::cli();
    let record = app.state.applications.create_saml(&actor, "Surat Lama", registration.clone()).await.unwrap();
    let (_browser, name_id, session) = signed_in(&app, &sp).await;

    // An administrator suspends Budi: no browser, so the SP is told from the server, once.
    app.state.directory.set_status(&actor, "budi", UserStatus::Suspended).await.unwrap();
    assert_eq!(app.state.oidc.deliver_logouts().await, 0, "not an OpenID Connect client's notice");
    assert_eq!(app.state.saml.deliver_logouts().await, 1, "{:?}", received.lock().unwrap());
    let seen = received.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("soapaction \"http://www.oasis-open.org/committees/security\"\n"), "{}", seen[0]);
    assert_eq!(line(&seen[0], "name_id "), name_id, "{}", seen[0]);
    assert_eq!(line(&seen[0], "session "), session, "{}", seen[0]);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM logout_deliveries WHERE status = 'sent'").await, 1);
    assert_eq!(app.state.saml.deliver_logouts().await, 0, "told once");

    // The SP's endpoint fails: the notice waits for a retry, with the reason.
    app.state.directory.set_status(&actor, "budi", UserStatus::Active).await.unwrap();
    signed_in(&app, &sp).await;
    let id = pintu::domain::ApplicationId::new(&record.id);
    let (current, _) = app.state.applications.saml_registration(&actor, &id).await.unwrap();
    registration.slo_soap_url = Some(format!("{base}/broken"));
    app.state.applications.update_saml(&actor, &id, registration, Some(current.version)).await.unwrap();
    app.state.directory.set_status(&actor, "budi", UserStatus::Suspended).await.unwrap();
    assert_eq!(app.state.saml.deliver_logouts().await, 0);
    let waiting = "SELECT COUNT(*) FROM logout_deliveries WHERE status = 'pending' AND attempts = 1 \
                   AND last_error LIKE '%500%'";
    assert_eq!(app.raw_count(waiting).await, 1);
    assert_eq!(received.lock().unwrap().len(), 1, "nothing reached pysaml2");
}
