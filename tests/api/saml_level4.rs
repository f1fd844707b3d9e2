//! Level 4 through a SAML sign-in: an SP's RequestedAuthnContext for `urn:pintu:level:4` is
//! met by the account sign-in asking, after the password, for the person's bound electronic
//! certificate only (a TLS client certificate forwarded by a trusted proxy, or a passphrase
//! for one the CA's signing service holds), and answered with level 4's class; someone with
//! no certificate is never asked for one and the SP hears NoAuthnContext.

use pintu::directory::{Actor, UserInput};

use crate::backend_tests;
use crate::certificates::{escaped, form_ending, post_passphrase, post_with};
use crate::saml_sso::{ACS, Sp, line, posted, registered_sp};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, Browser, PASSWORD, TestApp, pki};

backend_tests!(saml_level_four_by_certificate_or_by_the_signing_service);

/// The SP's answer after the sign-in: what pysaml2 read of it.
async fn resumed(app: &TestApp, browser: &Browser, sp: &Sp, request_id: &str) -> (Option<i32>, String) {
    let (status, page, _) = browser.get(&app.url("/saml/resume")).await;
    assert_eq!(status, 200, "{page}");
    let (response, _) = posted(&page, ACS);
    sp.run("response", &[request_id], Some(&response))
}

/// Asks for level 4 and signs in with the password: the page that follows.
async fn level_four_asked(app: &TestApp, browser: &Browser, sp: &Sp, login: &str) -> (String, String) {
    let (request_id, url) = sp.request_with("empat", &["minimum=urn:pintu:level:4"]);
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    assert!(page.contains("name=\"password\""), "{page}");
    let (status, page, headers) = browser.login(&page, login, PASSWORD).await;
    let page = if status == 303 { location(&headers) } else { page };
    (request_id, page)
}

async fn saml_level_four_by_certificate_or_by_the_signing_service(backend: Backend) {
    let signer = pki::Signer::start(pki::NIP);
    let (url, token_file) = (signer.url.clone(), signer.token_file.clone());
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.forwarded_header = Some("X-SSL-Client-Cert".into());
            raw.signing = pintu::config::RawSigning {
                url: Some(url),
                token_file: Some(token_file),
                holder: Some("nip".into()),
                api: None,
            };
        });
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.org_tree().await;
    app.pegawai("siti", "DINKES").await;
    let input = UserInput {
        username: Some("budi".into()),
        name: "Budi Santoso".into(),
        nip: Some(pki::NIP.into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let budi = app.state.directory.create_user(&Actor::cli(), &input).await.unwrap().id;
    let Some((sp, _)) = registered_sp(&app).await else { return };
    let token = app.office_token().await;
    let body = serde_json::json!({ "certificate": pki::with_chain("nip"), "approve": false });
    let added = app.api("POST", &format!("/api/v1/users/{budi}/certificates"), &token, Some(body), None).await;
    assert_eq!(added.status, 201, "{}", added.body);

    // After the password, only the certificate is asked for (no code, no passkey).
    let browser = app.browser();
    let (request_id, page) = level_four_asked(&app, &browser, &sp, "budi").await;
    assert!(page.contains("Gunakan sertifikat elektronik"), "{page}");
    assert!(!page.contains("name=\"code\""), "{page}");
    let form = form_in(&page).unwrap();
    assert!(form.action.ends_with("/certificate") && form.action.contains("/account/second-factor/"), "{form:?}");

    // None presented, then one not bound to Budi: the page says why, nothing is raised.
    let (status, page, _) = post_with(&browser, &form, None).await;
    assert!(status == 401 && page.contains("Tidak ada sertifikat elektronik"), "{status}: {page}");
    let form = form_in(&page).unwrap();
    let other = escaped(&pki::read("second.pem"));
    let (status, page, _) = post_with(&browser, &form, Some(("X-SSL-Client-Cert", &other))).await;
    assert!(status == 401 && page.contains("belum terikat"), "{status}: {page}");

    // His certificate: the session reaches level 4 and the SP gets level 4's class.
    let form = form_in(&page).unwrap();
    let his = escaped(&pki::read("nip.pem"));
    let (status, page, to) = post_with(&browser, &form, Some(("X-SSL-Client-Cert", &his))).await;
    assert_eq!((status, to.as_str()), (303, "/saml/resume"), "{page}");
    let (code, read) = resumed(&app, &browser, &sp, &request_id).await;
    assert_eq!(code, Some(0), "{read}");
    assert_eq!(line(&read, "class "), "urn:pintu:level:4");

    // The same session answers the next level-4 request at once.
    let (request_id, url) = sp.request_with("lagi", &["exact=urn:pintu:level:4"]);
    let (status, page, _) = browser.get(&url).await;
    assert_eq!(status, 200, "answered from the session: {page}");
    let (response, _) = posted(&page, ACS);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!((code, line(&read, "class ")), (Some(0), "urn:pintu:level:4"), "{read}");

    // In another browser, the passphrase of the certificate the signing service holds: a
    // wrong one is refused with the reason; the right one reaches level 4.
    let browser = app.browser();
    let (request_id, page) = level_four_asked(&app, &browser, &sp, "budi").await;
    let form = form_ending(&page, "remote-certificate");
    assert!(form.action.starts_with("/account/second-factor/"), "{form:?}");
    let (status, page, _) = post_passphrase(&app, &browser, &form, "salah").await;
    assert!(status == 401 && page.contains("passphrase salah"), "{status}: {page}");
    let form = form_ending(&page, "remote-certificate");
    let (status, page, to) = post_passphrase(&app, &browser, &form, pki::PIN).await;
    assert_eq!((status, to.as_str()), (303, "/saml/resume"), "{page}");
    let (code, read) = resumed(&app, &browser, &sp, &request_id).await;
    assert_eq!((code, line(&read, "class ")), (Some(0), "urn:pintu:level:4"), "{read}");

    // Siti has no certificate: the sign-in asks nothing more, and the request, whose sign-in
    // already aimed at level 4, is answered NoAuthnContext at once (not sent to it again).
    let browser = app.browser();
    let (request_id, to) = level_four_asked(&app, &browser, &sp, "siti").await;
    assert_eq!(to, "/saml/resume");
    let (code, read) = resumed(&app, &browser, &sp, &request_id).await;
    assert!(code == Some(3) && read.contains("NoAuthnContext"), "{read}");
    drop(signer);
}
