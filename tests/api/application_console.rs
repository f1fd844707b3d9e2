//! An application's addresses and icon, from the console and the admin API: redirect URIs are
//! validated as a registration is and take effect at once; icons are raster images recognised
//! by their bytes, served by Pintu with a validator, and shown on the portal.

use pintu::directory::Actor;
use serde_json::json;

use crate::backend_tests;
use crate::console::{administrator, form_token, post_multipart};
use crate::support::{Backend, Browser, TestApp};

backend_tests!(addresses_and_icons_are_changed_from_the_console_and_the_api);

/// A 16×16 PNG, blue.
const PNG: &str = "89504e470d0a1a0a0000000d494844520000001000000010080200000090916836000000164944415478da63d0ced940126218d530aa61f86a0000535c4710b999f2a60000000049454e44ae426082";

pub(crate) fn png() -> Vec<u8> {
    (0..PNG.len()).step_by(2).map(|i| u8::from_str_radix(&PNG[i..i + 2], 16).unwrap()).collect()
}

/// Posts the addresses form of `page` (its own form token).
async fn save_addresses(office: &Browser, page: &str, id: &str, version: &str, uris: &str) -> (u16, String) {
    let (base, csrf) = form_token(page, "/admin/application/");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("application", id),
        ("version", version),
        ("client_name", "E-Office Baru"),
        ("redirect_uris", uris),
        ("post_logout_redirect_uris", ""),
        ("client_uri", "https://eoffice.example.go.id/home"),
    ];
    let (status, page, _) = office.post(&format!("{base}/addresses"), &fields).await;
    (status.as_u16(), page)
}

async fn addresses_and_icons_are_changed_from_the_console_and_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let office = administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let client = app
        .client_from(
            json!({ "client_name": "E-Office", "redirect_uris": ["https://eoffice.example.go.id/cb"],
                    "client_uri": "https://eoffice.example.go.id/" }),
            true,
        )
        .await;
    let page_url = app.url(&format!("/admin/application?id={}", client.id));

    // New redirect URIs take effect at once; the old one is refused.
    let (status, page, _) = office.get(&page_url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("https:&#x2f;&#x2f;eoffice.example.go.id&#x2f;cb"), "{page}");
    let version = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let new_uris = "https://eoffice.example.go.id/login/callback\r\nhttp://127.0.0.1:8080/cb";
    let (status, page) = save_addresses(&office, &page, &client.id, &version, new_uris).await;
    assert_eq!(status, 200, "{page}");
    let saved =
        app.state.applications.get(&Actor::cli(), &pintu::domain::ApplicationId::new(&client.id)).await.unwrap();
    assert_eq!(saved.redirect_uris, ["https://eoffice.example.go.id/login/callback", "http://127.0.0.1:8080/cb"]);
    assert_eq!(
        (saved.name.as_str(), saved.client_uri.as_deref()),
        ("E-Office Baru", Some("https://eoffice.example.go.id/home"))
    );
    let authorize = |uri: &str| {
        app.authorize_url(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", uri),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", "E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
    };
    let (status, _, _) = app.browser().get(&authorize("https://eoffice.example.go.id/login/callback")).await;
    assert_eq!(status, 200, "the new redirect URI leads to the sign-in");
    let (status, _, _) = app.browser().get(&authorize("https://eoffice.example.go.id/cb")).await;
    assert_eq!(status, 400, "the old one is no longer registered");

    // A URI with a fragment, or a stale version, changes nothing.
    let current = saved.version.to_string();
    let (status, page) =
        save_addresses(&office, &page, &client.id, &current, "https://eoffice.example.go.id/cb#x").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("fragment"), "{page}");
    let (status, _) = save_addresses(&office, &page, &client.id, &version, "https://eoffice.example.go.id/other").await;
    assert_eq!(status, 422, "the version the page showed is no longer current");
    let after =
        app.state.applications.get(&Actor::cli(), &pintu::domain::ApplicationId::new(&client.id)).await.unwrap();
    assert_eq!(after.redirect_uris, saved.redirect_uris);

    // The icon: SVG and oversized images are refused; a PNG is kept and served by Pintu.
    // Each answer carries the next form token; a refused upload still spends the one it used.
    let upload = |file: (&'static str, &'static str, Vec<u8>)| {
        let (office, page_url, id) = (&office, page_url.clone(), client.id.clone());
        async move {
            let (_, page, _) = office.get(&page_url).await;
            let (base, csrf) = form_token(&page, "/admin/application/");
            let fields = [("csrf_token", csrf.as_str()), ("application", id.as_str())];
            post_multipart(office, &format!("{base}/icon"), &fields, ("icon", file.0, file.1, &file.2)).await
        }
    };
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let (status, page) = upload(("logo.png", "image/png", svg)).await;
    assert_eq!(status, 422, "{page}");
    let mut big = png();
    big.resize(70 * 1024, 0);
    assert_eq!(upload(("big.png", "image/png", big)).await.0, 422, "larger than 64 KiB");
    assert_eq!(upload(("huge.png", "image/png", vec![0u8; 200 * 1024])).await.0, 400, "beyond the upload limit");
    let (_, page, _) = office.get(&page_url).await;
    let (base, _) = form_token(&page, "/admin/application/");
    let forged = [("csrf_token", "forged"), ("application", client.id.as_str())];
    let (status, _) =
        post_multipart(&office, &format!("{base}/icon"), &forged, ("icon", "a.png", "image/png", &png())).await;
    assert_eq!(status, 403, "a forged token");
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM application_icons").await, 0);
    let (status, page) = upload(("logo.bin", "text/plain", png())).await;
    assert_eq!(status, 200, "{page}");
    let src = page
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    let served = app.http.get(app.url(&src)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png", "the type read from its bytes");
    let etag = served.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(served.bytes().await.unwrap().as_ref(), png().as_slice());
    let again = app.http.get(app.url(&src)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(app.http.get(app.url("/portal/icons/unknown")).send().await.unwrap().status(), 404);

    // The portal shows it to a person the application admits.
    let person = app.browser();
    app.pegawai("dedi", "PUSKESMAS").await;
    app.code_for(&person, &app.client().await, "dedi", &[]).await;
    let (_, portal, _) = person.get(&app.url("/")).await;
    assert!(portal.contains("E-Office Baru") && portal.contains("class=\"app-icon\""), "{portal}");

    // Through the admin API: a JPEG replaces it, then it is removed; an OPD administrator
    // cannot touch the office's application.
    let token = app.office_token().await;
    let path = format!("/api/v1/applications/{}/icon", client.id);
    let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00".to_vec();
    let put = |token: &str, body: Vec<u8>| {
        app.http
            .put(app.url(&path))
            .bearer_auth(token.to_owned())
            .header("content-type", "image/jpeg")
            .body(body)
            .send()
    };
    let resp = put(&token, jpeg.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["icon"].as_str().unwrap().starts_with(&format!("/portal/icons/{}?v=", client.id)));
    assert_eq!(put(&token, vec![0u8; 100 * 1024]).await.unwrap().status(), 413);
    assert_eq!(put(&token, b"GIF89a".to_vec()).await.unwrap().status(), 422);
    let opd = app.opd_admin_token("kepala", "DINKES").await;
    assert_eq!(put(&opd, jpeg).await.unwrap().status(), 404);
    assert_eq!(app.api("DELETE", &path, &token, None, None).await.status, 204);
    assert_eq!(app.api("DELETE", &path, &token, None, None).await.status, 404);
    let events = "SELECT COUNT(*) FROM audit_events WHERE action = 'admin.application.update' AND detail LIKE '%icon%'";
    assert_eq!(app.raw_count(events).await, 3, "set twice, removed once");

    // The API changes the addresses at the version it names.
    let record = app.get_api(&format!("/api/v1/applications/{}", client.id), &token).await;
    let patch = json!({ "redirect_uris": ["https://eoffice.example.go.id/v2/cb"] });
    let oidc = format!("/api/v1/applications/{}/oidc", client.id);
    let resp = app.api("PATCH", &oidc, &token, Some(patch.clone()), Some(&record.etag())).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["redirect_uris"], json!(["https://eoffice.example.go.id/v2/cb"]));
    assert_eq!(resp.body["client_name"], "E-Office Baru", "absent fields keep their value");
    let resp = app.api("PATCH", &oidc, &token, Some(patch), Some(&record.etag())).await;
    assert_eq!(resp.status, 412, "a stale version");
    let bad = json!({ "redirect_uris": ["ftp://x"], "secret": "no" });
    let resp = app.api("PATCH", &oidc, &token, Some(bad), None).await;
    assert_eq!(resp.status, 422, "unknown fields are refused: {}", resp.body);
}
