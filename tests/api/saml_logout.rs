//! Single logout across protocols: a person signed in to two SAML SPs (pysaml2, registered
//! from their metadata) and an OpenID Connect client in one session; the first SP's signed
//! LogoutRequest ends the session, the second SP gets Pintu's signed LogoutRequest in a frame
//! (pysaml2 checks its signature and finds its NameID), the OIDC client is told in a frame
//! (front-channel, `iss` and `sid`) and from the server (back-channel), and the first SP gets
//! a signed LogoutResponse with its RelayState. Then the refusals: a replay, an unsigned
//! request, a changed one; and a logout started at the OIDC client reaching the SAML SP.

use axum::http::StatusCode;
use axum::routing::post;
use pintu::directory::Actor;
use pintu::saml::{ImportChoices, MetadataSource};
use serde_json::json;

use crate::backend_tests;
use crate::saml_sso::{Sp, line, posted, pysaml2_sp, unescaped};
use crate::support::browser::location;
use crate::support::{Backend, Browser, PASSWORD, REDIRECT_URI, TestApp};

backend_tests!(single_logout_reaches_every_application_of_the_session);

/// Signs in to `sp` through `browser` (the session answers at once when there is one); what
/// pysaml2 read.
async fn sign_in(app: &TestApp, browser: &Browser, sp: &Sp) -> String {
    let (request_id, url) = sp.request("masuk");
    let (status, mut page, headers) = browser.get(&url).await;
    if status == 303 {
        assert_eq!(location(&headers), "/saml/sign-in");
        let (_, login, _) = browser.get(&app.url("/saml/sign-in")).await;
        browser.login(&login, "budi", PASSWORD).await;
        page = browser.get(&app.url("/saml/resume")).await.1;
    }
    let (response, _) = posted(&page, &sp.args[4]);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!(code, Some(0), "{read}");
    read
}

async fn single_logout_reaches_every_application_of_the_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_private_addresses = true).await;
    app.org_tree().await;
    app.pegawai("budi", "DINKES").await;
    let Some((first, _)) = pysaml2_sp(&app).await else { return };
    let mut args = first.args.clone();
    args[3] = "https://sp2.test/metadata".into();
    args[4] = "https://sp2.test/acs".into();
    let second = Sp { python: first.python.clone(), script: first.script.clone(), args };
    for (sp, name) in [(&first, "Surat"), (&second, "Arsip")] {
        let (code, xml) = sp.run("metadata", &[], None);
        assert_eq!(code, Some(0), "{xml}");
        let registration =
            app.state.saml.import_metadata(MetadataSource::Document(xml), ImportChoices::default()).await.unwrap();
        app.state.applications.create_saml(&Actor::cli(), name, registration).await.unwrap();
    }
    // An OIDC client listening both ways.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let router = axum::Router::new().route("/bcl", post(|| async { StatusCode::OK }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = app
        .client_from(
            json!({
                "redirect_uris": [REDIRECT_URI],
                "backchannel_logout_uri": format!("{base}/bcl"),
                "frontchannel_logout_uri": "http://127.0.0.1:9/fcl",
            }),
            true,
        )
        .await;

    // One session: the first SP (signing in), the second SP and the OIDC client at once.
    let browser = app.browser();
    let first_read = sign_in(&app, &browser, &first).await;
    let second_read = sign_in(&app, &browser, &second).await;
    app.code_for(&browser, &client, "budi", &[("scope", "openid")]).await;
    let (format, name_id) = line(&first_read, "name_id ").split_once(' ').unwrap();
    let index = line(&first_read, "session ");
    assert_eq!(line(&second_read, "session "), index, "one session");

    // A LogoutResponse to nothing Pintu asked, signed by no one: acknowledged with a page,
    // and the browser keeps its session cookie (it ended nothing).
    let stray = "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                 xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_stray\" Version=\"2.0\" \
                 IssueInstant=\"2026-12-05T00:00:00Z\" InResponseTo=\"_never\"><saml:Issuer>https://sp.test/metadata\
                 </saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>\
                 </samlp:Status></samlp:LogoutResponse>";
    let stray = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, stray);
    let (status, page, headers) = browser.post("/saml/slo", &[("SAMLResponse", &stray)]).await;
    assert_eq!(status, 200, "{page}");
    let cleared = headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pintu_session="));
    assert!(!cleared, "a stray LogoutResponse must not sign the browser out");

    // The first SP logs out.
    let (code, out) = first.run("logout", &[format, name_id, index], None);
    assert_eq!(code, Some(0), "{out}");
    let url = out.lines().nth(1).unwrap().to_owned();
    let (status, page, headers) = browser.get(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pintu_session=;")));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-src https://sp2.test http://127.0.0.1:9"), "{csp}");
    let page = unescaped(&page);
    let frames: Vec<&str> = page.split("<iframe src=\"").skip(1).map(|f| f.split('"').next().unwrap()).collect();
    assert_eq!(frames.len(), 2, "{page}");
    let saml_frame = frames.iter().find(|f| f.starts_with("https://sp2.test/slo?SAMLRequest=")).expect("the second SP");
    let (code, read) = second.run("logout-request", &[], Some(saml_frame));
    assert_eq!(code, Some(0), "pysaml2 refused Pintu's LogoutRequest: {read}");
    assert_eq!(line(&read, "name_id "), line(&second_read, "name_id "));
    assert_eq!(line(&read, "session "), index);
    let oidc_frame = frames.iter().find(|f| f.starts_with("http://127.0.0.1:9/fcl?")).expect("the OIDC client");
    assert!(
        oidc_frame
            .contains(&format!("iss={}", form_urlencoded::byte_serialize(app.issuer.as_bytes()).collect::<String>()))
    );
    assert!(oidc_frame.contains("&sid="), "{oidc_frame}");
    let answer = page.split("<a href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(answer.starts_with("https://sp.test/slo?SAMLResponse="), "{answer}");
    let (code, read) = first.run("logout-response", &[], Some(answer));
    assert_eq!(code, Some(0), "{read}");
    assert_eq!(line(&read, "status "), "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert_eq!(line(&read, "relay_state "), "keluar");
    // The OIDC client heard it from the server too; the session is over.
    assert_eq!(app.state.oidc.deliver_logouts().await, 1);
    let (status, _, headers) = browser.get(&first.request("lagi").1).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));

    // Refused with a page: the same request again, one without its signature, one changed.
    let (status, page, _) = browser.get(&url).await;
    assert!(status == 400 && page.contains("received before"), "{page}");
    let (_, out) = first.run("logout", &[format, name_id, index], None);
    let fresh = out.lines().nth(1).unwrap().to_owned();
    let (status, page, _) = browser.get(fresh.split("&SigAlg=").next().unwrap()).await;
    assert!(status == 400 && page.contains("must be signed"), "{page}");
    let (status, page, _) = browser.get(&fresh.replace("RelayState=keluar", "RelayState=masuk")).await;
    assert!(status == 400 && page.contains("signature"), "{page}");

    // Over HTTP-POST with an XML signature, from a new session: answered the same way.
    let posting = app.browser();
    let read = sign_in(&app, &posting, &first).await;
    let (format, name_id) = line(&read, "name_id ").split_once(' ').unwrap();
    let (code, out) = first.run("logout", &[format, name_id, line(&read, "session "), "post"], None);
    assert_eq!(code, Some(0), "{out}");
    let encoded = out.lines().nth(1).unwrap();
    let (status, _, headers) = posting.post("/saml/slo", &[("SAMLRequest", encoded), ("RelayState", "pos")]).await;
    // Nobody else to tell: straight to the SP's LogoutResponse.
    assert_eq!(status, 303);
    let answer = location(&headers);
    let (code, read) = first.run("logout-response", &[], Some(&answer));
    assert_eq!((code, line(&read, "status ")), (Some(0), "urn:oasis:names:tc:SAML:2.0:status:Success"), "{read}");
    assert_eq!(line(&read, "relay_state "), "pos");

    // A logout that starts at the OIDC client reaches the SAML SP in the browser as well.
    let other = app.browser();
    let read = sign_in(&app, &other, &first).await;
    let code = app.code_for(&other, &client, "budi", &[("scope", "openid")]).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
    let (_, tokens) = app.token(&client, &form).await;
    let hint: String = form_urlencoded::byte_serialize(tokens["id_token"].as_str().unwrap().as_bytes()).collect();
    let (status, page, _) = other.get(&app.url(&format!("/oauth2/logout?id_token_hint={hint}"))).await;
    assert_eq!(status, 200, "{page}");
    let page = unescaped(&page);
    let frame = page.split("<iframe src=\"").nth(1).map(|f| f.split('"').next().unwrap()).expect("a frame");
    assert!(frame.starts_with("https://sp.test/slo?SAMLRequest="), "{page}");
    let (code, told) = first.run("logout-request", &[], Some(frame));
    assert_eq!(code, Some(0), "{told}");
    assert_eq!(line(&told, "name_id "), line(&read, "name_id "));
}
