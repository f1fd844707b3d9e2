//! Security levels over SAML, in one session shared with an OIDC application: an SP's
//! RequestedAuthnContext steps the session up (asking only for the missing factor);
//! ForceAuthn signs the person in again over a live session; IsPassive is answered NoPassive
//! without a session and where a step-up would be needed; a class the person cannot reach is
//! answered NoAuthnContext after the sign-in had nothing to ask. And the sign-in no SP asked
//! for (IdP-initiated, from the portal), only where the SP's registration allows it.

use crate::backend_tests;
use crate::levels::{code_at, enrol};
use crate::saml_sso::{ACS, ENTITY, Sp, line, posted, registered_sp};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, Browser, PASSWORD, TestApp};

backend_tests!(saml_requests_step_up_sign_in_again_or_stay_passive, an_sp_that_allows_it_is_opened_from_the_portal);

/// Follows `url` to the page that posts the Response and has pysaml2 read it: its exit code
/// and what it printed.
async fn answered_at_once(browser: &Browser, sp: &Sp, request_id: &str, url: &str) -> (Option<i32>, String) {
    let (status, page, _) = browser.get(url).await;
    assert_eq!(status, 200, "answered without a page: {page}");
    let (response, _) = posted(&page, ACS);
    sp.run("response", &[request_id], Some(&response))
}

async fn saml_requests_step_up_sign_in_again_or_stay_passive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("budi", "DINKES").await;
    let Some((sp, _)) = registered_sp(&app).await else { return };
    // Budi signs in to an OIDC application (level 1) and enrols a TOTP on the account page.
    let portal = app.client().await;
    let browser = app.browser();
    let (secret, recovery) = enrol(&app, &browser, &portal, "budi").await;

    // The SP wants level 2 at least: the OIDC session is stepped up with the code only.
    let (request_id, url) = sp.request_with("naik", &["minimum=urn:pintu:level:2"]);
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (status, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("name=\"code\"") && !page.contains("name=\"password\""), "only the factor: {page}");
    app.clock.advance(30);
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    let (status, _, headers) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/resume"));
    let (status, page, _) = browser.get(&app.url("/saml/resume")).await;
    assert_eq!(status, 200, "{page}");
    let (response, relay) = posted(&page, ACS);
    assert_eq!(relay, "naik");
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!(code, Some(0), "{read}");
    assert_eq!(line(&read, "class "), "urn:pintu:level:2");
    let (first_session, first_instant) = (line(&read, "session ").to_owned(), line(&read, "issued ").to_owned());

    // The stepped-up session answers the next level-2 request at once.
    let (request_id, url) = sp.request_with("lagi", &["exact=urn:pintu:level:2"]);
    let (code, read) = answered_at_once(&browser, &sp, &request_id, &url).await;
    assert_eq!((code, line(&read, "session ")), (Some(0), first_session.as_str()), "{read}");

    // IsPassive where level 3 would need a step-up: NoPassive at once, no page.
    let (request_id, url) = sp.request_with("pasif", &["passive", "minimum=urn:pintu:level:3"]);
    let (code, read) = answered_at_once(&browser, &sp, &request_id, &url).await;
    assert!(code == Some(3) && read.contains("NoPassive"), "{read}");

    // Level 3 exactly, without a passkey: the sign-in has nothing to ask; NoAuthnContext.
    let (request_id, url) = sp.request_with("tiga", &["exact=urn:pintu:level:3"]);
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (status, _, headers) = browser.get(&app.url("/saml/sign-in")).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/resume"));
    let (_, page, _) = browser.get(&app.url("/saml/resume")).await;
    let (response, _) = posted(&page, ACS);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert!(code == Some(3) && read.contains("NoAuthnContext"), "{read}");

    // ForceAuthn: the password again over the live session (then the second factor the
    // account demands), and an assertion about the new authentication.
    app.clock.advance(5);
    let (request_id, url) = sp.request_with("ulang", &["force"]);
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    assert!(page.contains("name=\"password\""), "a new sign-in, not the session: {page}");
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "the second factor the account demands: {page}");
    let form = form_in(&page).unwrap();
    let (status, _, headers) =
        browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &recovery[0])]).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/resume"));
    let (_, page, _) = browser.get(&app.url("/saml/resume")).await;
    let (response, _) = posted(&page, ACS);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!(code, Some(0), "{read}");
    assert_ne!(line(&read, "session "), first_session, "a new session");
    assert!(line(&read, "issued ") > first_instant.as_str(), "authenticated after the request: {read}");

    // IsPassive without a session: NoPassive, and nothing signed in.
    let stranger = app.browser();
    let (request_id, url) = sp.request_with("x", &["passive"]);
    let (code, read) = answered_at_once(&stranger, &sp, &request_id, &url).await;
    assert!(code == Some(3) && read.contains("NoPassive"), "{read}");
}

async fn an_sp_that_allows_it_is_opened_from_the_portal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("budi", "DINKES").await;
    let Some((sp, record)) = registered_sp(&app).await else { return };
    let browser = app.browser();
    let init = format!("/saml/init?sp={}&RelayState=%2Fsurat%2Fmasuk", urlencoding(ENTITY));

    // Off by default: a page, no response.
    let (status, page, _) = browser.get(&app.url(&init)).await;
    assert!(status == 400 && page.contains("IdP-initiated is off"), "{page}");
    let actor = pintu::directory::Actor::cli();
    let id = pintu::domain::ApplicationId::new(&record.id);
    let (current, mut registration) = app.state.applications.saml_registration(&actor, &id).await.unwrap();
    registration.idp_initiated = true;
    app.state.applications.update_saml(&actor, &id, registration, Some(current.version)).await.unwrap();

    // Without a session: the sign-in first, then an unsolicited response to the default ACS.
    let (status, _, headers) = browser.get(&app.url(&init)).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    let (status, _, headers) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/resume"));
    let (_, page, _) = browser.get(&app.url("/saml/resume")).await;
    let (response, relay) = posted(&page, ACS);
    assert_eq!(relay, "/surat/masuk");
    let (code, read) = sp.run("response", &["-"], Some(&response));
    assert_eq!(code, Some(0), "an SP accepting unsolicited responses takes it: {read}");
    assert!(read.contains("attribute uid budi"), "{read}");
    // No InResponseTo: an SP waiting for its own request's answer does not take it for one.
    let (code, read) = sp.run("response", &["_never-sent"], Some(&response));
    assert_eq!(code, Some(3), "{read}");

    // The portal lists it, and its link answers at once from the session.
    let (status, page, _) = browser.get(&app.url("/")).await;
    assert_eq!(status, 200, "{page}");
    let link = page.replace("&#x2f;", "/").replace("&#x3d;", "=").replace("&amp;", "&");
    let href = format!("/saml/init?sp={}", urlencoding(ENTITY));
    assert!(link.contains(&format!("href=\"{href}\"")) && page.contains("E-Office Lama"), "{link}");
    let (status, page, _) = browser.get(&app.url(&href)).await;
    assert_eq!(status, 200, "{page}");
    let (response, relay) = posted(&page, ACS);
    assert_eq!(relay, "");
    let (code, read) = sp.run("response", &["-"], Some(&response));
    assert_eq!(code, Some(0), "{read}");

    // Refused with a page: an unknown SP, a missing or repeated sp, a RelayState over 80 bytes.
    for (query, why) in [
        ("sp=https%3A%2F%2Fnobody.test", "not registered"),
        ("RelayState=x", "sp (the service provider"),
        (&*format!("sp={0}&sp={0}", urlencoding(ENTITY)), "repeated"),
        (&*format!("sp={}&RelayState={}", urlencoding(ENTITY), "r".repeat(81)), "80 bytes"),
    ] {
        let (status, page, _) = browser.get(&app.url(&format!("/saml/init?{query}"))).await;
        assert!(status == 400 && page.contains(why), "{query}: {page}");
    }
}

fn urlencoding(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
