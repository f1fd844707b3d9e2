//! Registering a SAML service provider from its metadata: pysaml2's own document through the
//! admin API, then a sign-in to it; the same from the URL the SP publishes it at (fetched behind
//! the `jwks_uri` fences: no redirects, no link-local addresses); and what is refused.

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::backend_tests;
use crate::saml_sso::{ACS, ENTITY, posted, pysaml2_sp};
use crate::support::browser::location;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(an_sp_registered_from_its_metadata_signs_people_in);

/// Serves `xml` at /metadata (and a redirect to it at /moved) on 127.0.0.1; returns the base.
async fn metadata_server(xml: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = axum::Router::new()
        .route("/metadata", get(move || async move { ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml) }))
        .route("/moved", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/metadata")]).into_response() }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://127.0.0.1:{port}")
}

async fn an_sp_registered_from_its_metadata_signs_people_in(backend: Backend) {
    // Applications' servers on this machine may be fetched from (as a regency whose SPs live
    // on its own network would configure).
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_private_addresses = true).await;
    app.org_tree().await;
    app.pegawai("budi", "DINKES").await;
    let Some((sp, _)) = pysaml2_sp(&app).await else { return };
    let (code, xml) = sp.run("metadata", &["https://sp.test/slo-soap"], None);
    assert_eq!(code, Some(0), "{xml}");
    let token = app.office_token().await;
    let import = |body: serde_json::Value| {
        let (app, token) = (&app, &token);
        async move { app.api("POST", "/api/v1/applications/saml/metadata", token, Some(body), None).await }
    };

    let created = import(json!({ "name": "Surat Lama", "metadata": xml, "idp_initiated": true })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let read = app.get_api(&format!("/api/v1/applications/{id}/saml"), &token).await;
    let r = &read.body;
    assert_eq!(r["entity_id"], ENTITY);
    assert_eq!(r["acs"], json!([{ "location": ACS, "index": 1, "is_default": false }]));
    assert_eq!(r["slo_url"], "https://sp.test/slo");
    assert_eq!(r["slo_soap_url"], "https://sp.test/slo-soap", "the SOAP binding's SingleLogoutService");
    assert_eq!((r["sign_requests"].as_bool(), r["idp_initiated"].as_bool()), (Some(true), Some(true)));
    assert_eq!(r["name_id_formats"], json!(["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"]));
    assert_eq!(r["certificates"].as_array().map(Vec::len), Some(1), "{r}");

    // Registered from its metadata, it signs people in (its signed requests verify with the
    // certificate read from it).
    let browser = app.browser();
    let (request_id, url) = sp.request("impor");
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/saml/sign-in"));
    let (_, page, _) = browser.get(&app.url("/saml/sign-in")).await;
    browser.login(&page, "budi", PASSWORD).await;
    let (_, page, _) = browser.get(&app.url("/saml/resume")).await;
    let (response, _) = posted(&page, ACS);
    let (code, read) = sp.run("response", &[&request_id], Some(&response));
    assert_eq!(code, Some(0), "{read}");

    // From the URL it publishes at: another SP's document, fetched once.
    let base = metadata_server(xml.replace(ENTITY, "https://sp2.test/metadata")).await;
    let from_url = import(json!({ "name": "Surat Baru", "metadata_url": format!("{base}/metadata") })).await;
    assert_eq!(from_url.status, 201, "{}", from_url.body);
    assert_eq!(from_url.body["entity_id"], "https://sp2.test/metadata");

    // Refused, and nothing registered: a redirect, a link-local address, both or neither
    // source, the same SP again, documents that are not usable metadata, an OPD administrator.
    let refused = |body: serde_json::Value, status: u16, why: &'static str| {
        let import = &import;
        async move {
            let r = import(body).await;
            let detail = r.body["detail"].as_str().unwrap_or_default().to_owned();
            assert!(r.status == status && detail.contains(why), "{why}: {} {}", r.status, r.body);
        }
    };
    let named = |field: &str, value: serde_json::Value| json!({ "name": "X", field: value });
    refused(named("metadata_url", json!(format!("{base}/moved"))), 422, "redirects are not followed").await;
    refused(named("metadata_url", json!("http://169.254.169.254/metadata")), 422, "not acceptable").await;
    refused(json!({ "name": "X", "metadata": xml, "metadata_url": base }), 422, "either metadata or").await;
    refused(json!({ "name": "X" }), 422, "either metadata or").await;
    refused(named("metadata", json!(xml)), 409, "").await;
    let other = |from: &str, to: &str| xml.replace(ENTITY, "https://sp3.test/metadata").replacen(from, to, 1);
    for (document, why) in [
        (format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{}", other("", "")), "DOCTYPE"),
        (other("", "")[..200].to_owned(), ""),
        (
            format!(
                "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{0}{0}</md:EntitiesDescriptor>",
                other("", "")
            ),
            "exactly one",
        ),
        (other("entityID=", "validUntil=\"2020-01-01T00:00:00Z\" entityID="), "expired"),
        (other("bindings:HTTP-POST\" Location", "bindings:PAOS\" Location"), "HTTP-POST"),
        (other("SAML:2.0:protocol\"", "SAML:1.1:protocol\""), "no SPSSODescriptor"),
        ("<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>".to_owned(), "not SAML metadata"),
    ] {
        refused(named("metadata", json!(document)), 422, why).await;
    }
    let opd = app.opd_admin_token("kepala", "DINKES").await;
    let r = app.api("POST", "/api/v1/applications/saml/metadata", &opd, Some(named("metadata_url", json!(base))), None);
    assert_eq!(r.await.status, 403);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM saml_service_providers").await, 2);
}
