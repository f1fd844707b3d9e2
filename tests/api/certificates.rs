//! Electronic certificates: validation against the office's CAs, identification of the person,
//! binding by proof of possession, and level 4 through Pintu's TLS listener and through a
//! trusted proxy's forwarded certificate.

use pintu::directory::{Actor, OrgUnitInput, ProfilePatch, UserInput};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::levels::exchange;
use crate::support::browser::{Form, form_in, location};
use crate::support::{Backend, Browser, PASSWORD, TestApp, TestClient, pki};

backend_tests!(
    certificates_are_validated_and_must_name_the_person,
    level_four_through_a_trusted_proxys_forwarded_certificate,
    a_forwarded_certificate_counts_only_from_a_trusted_proxy,
    level_four_through_pintus_tls_listener,
    revocation_is_asked_of_a_real_ocsp_responder_and_a_down_one_refuses_level_four,
    certificates_are_monitored_per_opd_and_checked_in_the_background,
    level_four_with_a_certificate_held_by_the_signing_service,
    trust_anchors_are_reloaded_without_a_restart,
    a_certificate_from_a_revoked_intermediate_is_refused,
    people_add_and_remove_their_own_certificates_on_the_account_page,
);

/// Budi, whose NIP the test certificates carry.
async fn budi(app: &TestApp) -> String {
    let input = UserInput {
        username: Some("budi".into()),
        name: "Budi Santoso".into(),
        nip: Some(pki::NIP.into()),
        email: Some("budi@kominfo.example.go.id".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    app.state.directory.create_user(&Actor::cli(), &input).await.expect("create budi").id
}

async fn add(app: &TestApp, token: &str, user: &str, certificate: &str, approve: bool) -> (u16, Value) {
    let path = format!("/api/v1/users/{user}/certificates");
    let r = app.api("POST", &path, token, Some(json!({ "certificate": certificate, "approve": approve })), None).await;
    (r.status, r.body)
}

async fn certificates_are_validated_and_must_name_the_person(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |_| {});
    })
    .await;
    let id = budi(&app).await;
    let token = app.office_token().await;
    for (name, problem) in [
        // Revoked: the OCSP responder it names is down, so its CRL says so.
        ("revoked", "certificate-revoked"),
        ("untrusted", "certificate-untrusted"),
        // inter2 is a CA the intermediate may not issue (pathlen 0).
        ("deep", "certificate-untrusted"),
        ("expired", "certificate-expired"),
        ("noku", "certificate-usage"),
        ("servereku", "certificate-usage"),
    ] {
        let upload =
            if name == "deep" { pki::with_chain("deep") + &pki::read("inter2.pem") } else { pki::with_chain(name) };
        let (status, body) = add(&app, &token, &id, &upload, false).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["type"], format!("urn:pintu:problem:{problem}"), "{name}: {body}");
    }
    // A CA certificate is not a person's; garbage and huge uploads are refused, not a panic.
    let (status, body) = add(&app, &token, &id, &pki::read("inter.pem"), false).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:pintu:problem:certificate-usage")), "{body}");
    let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let (status, body) = add(&app, &token, &id, garbage, false).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:pintu:problem:certificate-malformed")), "{body}");
    let (status, _) = add(&app, &token, &id, "bm90IGRlcg==", false).await;
    assert_eq!(status, 422);
    let huge = "A".repeat(70 * 1024);
    let (status, _) = add(&app, &token, &id, &huge, false).await;
    assert!(status == 422 || status == 413, "{status}");

    // Siti's certificate (her NIK) does not name Budi: only an administrator's approval binds it.
    let (status, body) = add(&app, &token, &id, &pki::with_chain("nik"), false).await;
    assert_eq!(body["type"], "urn:pintu:problem:certificate-not-identified", "{status} {body}");
    let (status, approved) = add(&app, &token, &id, &pki::with_chain("nik"), true).await;
    assert_eq!(status, 201, "{approved}");
    assert_eq!(approved["identified_by"], "approval");
    assert!(approved["approved_by"].as_str().is_some_and(|a| !a.is_empty()), "the approver is named: {approved}");

    // The NIP in the subject's serialNumber names him; the e-mail certificate by his e-mail.
    let (status, bound) = add(&app, &token, &id, &pki::with_chain("nip"), false).await;
    assert_eq!(status, 201, "{bound}");
    assert_eq!((bound["status"].as_str(), bound["identified_by"].as_str()), (Some("pending"), Some("nip")));
    let der = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        std::fs::read(pki::file("email.der")).unwrap(),
    );
    let (status, by_email) = add(&app, &token, &id, &der, false).await;
    assert_eq!((status, by_email["identified_by"].as_str()), (201, Some("email")), "{by_email}");
    // The same certificate cannot be added to someone else.
    app.org_tree().await;
    let other = app.pegawai("siti", "DINKES").await;
    let (status, _) = add(&app, &token, &other, &pki::with_chain("nip"), true).await;
    assert_eq!(status, 409);

    let list = app.get_api(&format!("/api/v1/users/{id}/certificates"), &token).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(3), "{}", list.body);
    assert!(list.body["items"][0].get("der").is_none(), "the certificate bytes are not listed");
    let refused = app
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.add' AND outcome = 'failure'")
        .await;
    assert!(refused >= 7, "every refusal is audited: {refused}");

    // Removal ends the binding but keeps its history.
    let thumbprint = bound["thumbprint"].as_str().unwrap();
    let r = app.api("DELETE", &format!("/api/v1/users/{id}/certificates/{thumbprint}"), &token, None, None).await;
    assert_eq!(r.status, 204);
    let list = app.get_api(&format!("/api/v1/users/{id}/certificates"), &token).await;
    let removed = list.body["items"].as_array().unwrap().iter().find(|c| c["thumbprint"] == thumbprint).cloned();
    assert_eq!(removed.map(|c| c["status"].clone()), Some(json!("removed")));

    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert!(discovery["acr_values_supported"].as_array().unwrap().contains(&json!("urn:pintu:level:4")));
}

/// An application that demands level 4, and Budi with his NIP certificate added by the office.
async fn level_four_setup(app: &TestApp) -> (TestClient, String) {
    let id = budi(app).await;
    let token = app.office_token().await;
    let (status, body) = add(app, &token, &id, &pki::with_chain("nip"), false).await;
    assert_eq!(status, 201, "{body}");
    let client = app.client().await;
    app.set_profile(&client.id, ProfilePatch { min_level: Some(4), ..Default::default() }).await;
    (client, id)
}

/// Signs in with the password and returns the step-up page's certificate form.
async fn to_certificate_step(app: &TestApp, browser: &Browser, client: &TestClient) -> Form {
    let (status, page, _) = browser.get(&app.code_flow_url(client, &[])).await;
    assert_eq!(status, 200, "{page}");
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "the step-up page: {page}");
    assert!(page.contains("Gunakan sertifikat elektronik"), "{page}");
    let form = form_in(&page).expect("the certificate form");
    assert!(form.action.ends_with("/certificate"), "{form:?}");
    form
}

pub(crate) async fn post_with(browser: &Browser, form: &Form, header: Option<(&str, &str)>) -> (u16, String, String) {
    let body = format!("csrf_token={}", form.csrf_token);
    let url =
        if form.action.starts_with("http") { form.action.clone() } else { browser.base().to_owned() + &form.action };
    let mut req = browser.client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let resp = req.send().await.expect("POST");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let location = if status == 303 { location(&headers) } else { String::new() };
    (status, resp.text().await.unwrap_or_default(), location)
}

pub(crate) fn escaped(pem: &str) -> String {
    url::form_urlencoded::byte_serialize(pem.as_bytes()).collect::<String>().replace('+', "%20")
}

async fn level_four_through_a_trusted_proxys_forwarded_certificate(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.forwarded_header = Some("X-SSL-Client-Cert".into()));
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (client, id) = level_four_setup(&app).await;
    let browser = app.browser();

    // No certificate, then one that is not bound to Budi: the page says why, nothing is raised.
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, _) = post_with(&browser, &form, None).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("Tidak ada sertifikat elektronik"), "{page}");
    let form = form_in(&page).unwrap();
    let (status, page, _) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("second.pem"))))).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("belum terikat"), "{page}");

    // His certificate, as nginx forwards it ($ssl_client_escaped_cert): level 4.
    let form = form_in(&page).unwrap();
    let (status, page, location) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nip.pem"))))).await;
    assert_eq!(status, 303, "{page}");
    let claims = exchange(&app, &client, &location).await;
    assert_eq!(claims["acr"], "urn:pintu:level:4", "{claims}");
    let amr: Vec<&str> = claims["amr"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for method in ["pwd", "sc", "hwk", "mfa"] {
        assert!(amr.contains(&method), "{method} in {amr:?}");
    }
    // The proof bound the pending certificate.
    let token = app.office_token().await;
    let list = app.get_api(&format!("/api/v1/users/{id}/certificates"), &token).await;
    assert_eq!(list.body["items"][0]["status"], "bound", "{}", list.body);
    assert_eq!(list.body["items"][0]["proof"], "forwarded");
    let bind = app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.bind'").await;
    let failed = app
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.proof' AND outcome = 'failure'")
        .await;
    assert_eq!((bind, failed), (1, 1), "the binding and the refused proof are audited");

    // The session is at level 4 now: the next login to a level-4 application asks nothing.
    let location = browser.authorize_and_login(&app.code_flow_url(&client, &[]), "budi", PASSWORD).await;
    assert_eq!(exchange(&app, &client, &location).await["acr"], "urn:pintu:level:4");

    // A renewed certificate (same subject and issuer), once proven, replaces the old binding.
    let (status, body) = add(&app, &token, &id, &pki::with_chain("second"), false).await;
    assert_eq!(status, 201, "{body}");
    let renewed = app.browser();
    let form = to_certificate_step(&app, &renewed, &client).await;
    let (status, page, _) =
        post_with(&renewed, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("second.pem"))))).await;
    assert_eq!(status, 303, "{page}");
    let list = app.get_api(&format!("/api/v1/users/{id}/certificates"), &token).await;
    let status_of = |name: &str| {
        let thumbprint = x509_thumbprint(name);
        let items = list.body["items"].as_array().unwrap();
        items.iter().find(|c| c["thumbprint"] == thumbprint.as_str()).map(|c| c["status"].clone())
    };
    assert_eq!((status_of("second"), status_of("nip")), (Some(json!("bound")), Some(json!("replaced"))));
}

async fn a_forwarded_certificate_counts_only_from_a_trusted_proxy(backend: Backend) {
    // The header is configured but no proxy is trusted: anyone could send it.
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.forwarded_header = Some("X-SSL-Client-Cert".into()));
    })
    .await;
    let (client, _) = level_four_setup(&app).await;
    let browser = app.browser();
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, _) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nip.pem"))))).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("Tidak ada sertifikat elektronik"), "{page}");
    let bound = app.raw_count("SELECT COUNT(*) FROM certificates WHERE status = 'bound'").await;
    assert_eq!(bound, 0);
}

async fn level_four_through_pintus_tls_listener(backend: Backend) {
    let port = pki::free_port();
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.tls = pintu::config::RawTls {
                listen: Some(format!("127.0.0.1:{port}")),
                certificate: Some(pki::file("server-chain.pem")),
                key: Some(pki::file("server.key")),
                url: Some(format!("https://127.0.0.1:{port}")),
            };
            raw.forwarded_header = Some("X-SSL-Client-Cert".into());
        });
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (client, _) = level_four_setup(&app).await;
    let root = pki::read("root.pem");

    // A browser without a certificate reaches the listener but proves nothing; on the TLS
    // listener a forwarded header counts for nothing, whoever the peer is.
    let browser = Browser::with_certificate(&app.base, &root, None);
    let form = to_certificate_step(&app, &browser, &client).await;
    assert!(form.action.starts_with(&format!("https://127.0.0.1:{port}/")), "{form:?}");
    let (status, page, _) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nip.pem"))))).await;
    assert_eq!(status, 401, "{page}");

    // An untrusted certificate is refused after the handshake, with the reason.
    let stranger = pki::read("untrusted.key") + &pki::read("untrusted.pem");
    let browser = Browser::with_certificate(&app.base, &root, Some(&stranger));
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, _) = post_with(&browser, &form, None).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("tidak diterbitkan oleh penyelenggara"), "{page}");

    // Budi's token: the handshake proves the key, the certificate binds, the session is level 4.
    let identity = pki::read("nip.key") + &pki::read("nip.pem") + &pki::read("chain.pem");
    let browser = Browser::with_certificate(&app.base, &root, Some(&identity));
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, location) = post_with(&browser, &form, None).await;
    assert_eq!(status, 303, "{page}");
    let claims = exchange(&app, &client, &location).await;
    assert_eq!(claims["acr"], "urn:pintu:level:4", "{claims}");
    let proof = app.raw_count("SELECT COUNT(*) FROM certificates WHERE status = 'bound' AND proof = 'tls'").await;
    assert_eq!(proof, 1);
}

async fn revocation_is_asked_of_a_real_ocsp_responder_and_a_down_one_refuses_level_four(backend: Backend) {
    let responder = pki::Responder::start();
    let down = format!("http://127.0.0.1:{}/", pki::free_port());
    let url = responder.url.clone();
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.forwarded_header = Some("X-SSL-Client-Cert".into());
            raw.ocsp_url = Some(url);
        });
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (client, id) = level_four_setup(&app).await;
    let token = app.office_token().await;
    // The responder knows the revoked certificate (and the certificate without a CRL is good).
    let (status, body) = add(&app, &token, &id, &pki::with_chain("revoked"), false).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:pintu:problem:certificate-revoked")), "{body}");
    let (status, body) = add(&app, &token, &id, &pki::with_chain("nocrl"), false).await;
    assert_eq!(status, 201, "{body}");
    let revoked = app
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.revoked' AND detail LIKE '%ocsp%'")
        .await;
    assert_eq!(revoked, 1, "the revocation and where it was learnt are audited");

    // Level 4 with a good answer (nonce echoed, signed by the CA's delegated responder).
    let browser = app.browser();
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, location) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nip.pem"))))).await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(exchange(&app, &client, &location).await["acr"], "urn:pintu:level:4");
    let good = app.raw_count("SELECT COUNT(*) FROM certificates WHERE check_result = 'good'").await;
    assert!(good >= 1);

    // A responder that signs with a key the CA never authorised is not believed.
    let forger = pki::Responder::signed_by("untrusted-root");
    let forged_url = forger.url.clone();
    let app3 = TestApp::spawn_with(Backend::Sqlite, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.ocsp_url = Some(forged_url));
    })
    .await;
    let id3 = budi(&app3).await;
    let token3 = app3.office_token().await;
    let (status, body) = add(&app3, &token3, &id3, &pki::with_chain("nocrl"), false).await;
    assert_eq!(body["type"], "urn:pintu:problem:certificate-revocation-unavailable", "{status} {body}");
    assert!(body["detail"].as_str().unwrap().contains("signature"), "{body}");
    drop(forger);

    // The responder goes down and the certificate has no CRL: under the hard policy level 4 is
    // refused with the reason, audited; lower levels do not notice.
    drop(responder);
    let app2 = TestApp::spawn_with(Backend::Sqlite, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.forwarded_header = Some("X-SSL-Client-Cert".into());
            raw.ocsp_url = Some(down);
        });
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (client2, id2) = level_four_setup(&app2).await;
    let token2 = app2.office_token().await;
    let (status, body) = add(&app2, &token2, &id2, &pki::with_chain("nocrl"), false).await;
    assert_eq!(body["type"], "urn:pintu:problem:certificate-revocation-unavailable", "{status} {body}");
    let browser = app2.browser();
    let form = to_certificate_step(&app2, &browser, &client2).await;
    let (status, page, _) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nocrl.pem"))))).await;
    assert_eq!(status, 401, "{page}");
    let checks = app2
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.check' AND outcome = 'failure'")
        .await;
    assert!(checks >= 1, "the failed check is audited");
    let portal = app2.client().await;
    let location = app2.browser().authorize_and_login(&app2.code_flow_url(&portal, &[]), "budi", PASSWORD).await;
    assert_eq!(exchange(&app2, &portal, &location).await["acr"], "urn:pintu:level:1");
}

async fn certificates_are_monitored_per_opd_and_checked_in_the_background(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.forwarded_header = Some("X-SSL-Client-Cert".into()));
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.org_tree().await;
    // BPKAD demands level 4 of everyone placed in it: Budi (with a certificate) and Siti (without).
    let unit = OrgUnitInput {
        code: "BPKAD".into(),
        name: "Badan Pengelolaan Keuangan".into(),
        kind: "badan".into(),
        parent: Some("PEMDA".into()),
        min_level: Some(4),
    };
    app.state.directory.create_org_unit(&Actor::cli(), &unit).await.unwrap();
    let id = budi(&app).await;
    let patch = json!({ "org_unit": "BPKAD" });
    let token = app.office_token().await;
    let current = app.get_api(&format!("/api/v1/users/{id}"), &token).await;
    let r = app.api("PATCH", &format!("/api/v1/users/{id}"), &token, Some(patch), Some(&current.etag())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.pegawai("siti", "BPKAD").await;
    let (status, body) = add(&app, &token, &id, &pki::with_chain("nip"), false).await;
    assert_eq!(status, 201, "{body}");

    // Budi's first level-4 sign-in binds the certificate.
    let client = app.client().await;
    let browser = app.browser();
    let form = to_certificate_step(&app, &browser, &client).await;
    let (status, page, location) =
        post_with(&browser, &form, Some(("X-SSL-Client-Cert", &escaped(&pki::read("nip.pem"))))).await;
    assert_eq!(status, 303, "{page}");
    exchange(&app, &client, &location).await;

    let report = app.get_api("/api/v1/reports/certificates", &token).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let line = report.body["units"].as_array().unwrap().iter().find(|u| u["unit"] == "BPKAD").cloned().unwrap();
    assert_eq!((line["bound"].as_i64(), line["without_certificate"].as_i64()), (Some(1), Some(1)), "{line}");
    assert_eq!(report.body["expiring_days"], 30);
    let csv =
        app.http.get(app.url("/api/v1/reports/certificates?format=csv")).bearer_auth(&token).send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("unit,unit_name,pending,bound,expiring"), "{csv}");
    assert!(csv.contains("BPKAD,Badan Pengelolaan Keuangan,0,1,0,0,0,0,1"), "{csv}");
    // An OPD administrator sees their own subtree only.
    let opd = app.opd_admin_token("admin.dinkes", "DINKES").await;
    let theirs = app.get_api("/api/v1/reports/certificates", &opd).await;
    assert!(!theirs.body["units"].as_array().unwrap().iter().any(|u| u["unit"] == "BPKAD"), "{}", theirs.body);
    let bad = app.get_api("/api/v1/reports/certificates?expiring_days=0", &token).await;
    assert_eq!(bad.status, 422);

    // Removing the certificate ends the session it raised: the next level-4 request asks again.
    let thumbprint = x509_thumbprint("nip");
    let r = app.api("DELETE", &format!("/api/v1/users/{id}/certificates/{thumbprint}"), &token, None, None).await;
    assert_eq!(r.status, 204);
    let (status, page, _) = browser.get(&app.code_flow_url(&client, &[])).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"password\""), "the session ended: sign in again");

    // The background check: a certificate whose validity ended becomes expired, audited.
    let (status, body) = add(&app, &token, &id, &pki::with_chain("second"), false).await;
    assert_eq!(status, 201, "{body}");
    app.raw_sql("UPDATE certificates SET status = 'bound' WHERE status = 'pending'").await.unwrap();
    let summary = app.state.sso.certificates.check_all(100, 30).await.unwrap();
    assert_eq!((summary.checked, summary.good, summary.expired), (1, 1, 0), "{summary:?}");
    app.clock.advance(800 * 86400);
    let summary = app.state.sso.certificates.check_all(100, 30).await.unwrap();
    assert_eq!(summary.expired, 1, "{summary:?}");
    let expired = app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.expired'").await;
    assert_eq!(expired, 1);
}

/// The x5t#S256 of a test certificate.
fn x509_thumbprint(name: &str) -> String {
    use sha2::Digest;
    let der = std::fs::read(pki::file(&format!("{name}.der"))).unwrap();
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sha2::Sha256::digest(der))
}

/// The form on `page` whose action ends with `suffix` (after the escaped `/`).
pub(crate) fn form_ending(page: &str, suffix: &str) -> Form {
    let at = page.find(&format!("{suffix}\"")).unwrap_or_else(|| panic!("no form for {suffix} in {page}"));
    let start = page[..at].rfind("action=\"").unwrap() + "action=\"".len();
    let csrf = form_in(page).unwrap().csrf_token;
    Form { action: page[start..at + suffix.len()].replace("&#x2f;", "/"), csrf_token: csrf }
}

pub(crate) async fn post_passphrase(
    app: &TestApp,
    browser: &Browser,
    form: &Form,
    passphrase: &str,
) -> (u16, String, String) {
    let fields = [("csrf_token", form.csrf_token.as_str()), ("passphrase", passphrase)];
    let (status, page, headers) = browser.post(&form.action, &fields).await;
    let location = if status == 303 { location(&headers) } else { String::new() };
    let _ = app;
    (status.as_u16(), page, location)
}

async fn level_four_with_a_certificate_held_by_the_signing_service(backend: Backend) {
    let signer = pki::Signer::start(pki::NIP);
    let (url, token_file) = (signer.url.clone(), signer.token_file.clone());
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.signing = pintu::config::RawSigning {
                url: Some(url),
                token_file: Some(token_file),
                holder: Some("nip".into()),
                api: None,
            };
        });
    })
    .await;
    let (client, _) = level_four_setup(&app).await;
    let browser = app.browser();
    let (status, page, _) = browser.get(&app.code_flow_url(&client, &[])).await;
    assert_eq!(status, 200, "{page}");
    let (status, page, _) = browser.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Passphrase sertifikat elektronik"), "{page}");
    let form = form_ending(&page, "remote-certificate");

    // A wrong passphrase: the service refuses, the page says so, the refusal is audited.
    let (status, page, _) = post_passphrase(&app, &browser, &form, "salah").await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("passphrase salah"), "{page}");
    let refused = app
        .raw_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.proof' AND detail LIKE '%remote_refused%'",
        )
        .await;
    assert_eq!(refused, 1);

    // The right one: the service signs Pintu's challenge with Budi's key, Pintu verifies it.
    let form = form_ending(&page, "remote-certificate");
    let (status, page, location) = post_passphrase(&app, &browser, &form, pki::PIN).await;
    assert_eq!(status, 303, "{page}");
    let claims = exchange(&app, &client, &location).await;
    assert_eq!(claims["acr"], "urn:pintu:level:4", "{claims}");
    let amr: Vec<&str> = claims["amr"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(amr.contains(&"hwk") && amr.contains(&"mfa") && !amr.contains(&"sc"), "{amr:?}");
    let remote = app.raw_count("SELECT COUNT(*) FROM certificates WHERE status = 'bound' AND proof = 'remote'").await;
    assert_eq!(remote, 1);
    let logged = app.raw_count(&format!("SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%{}%'", pki::PIN)).await;
    assert_eq!(logged, 0, "the passphrase is never recorded");

    // Guessing the passphrase is counted and locked like a second-factor code.
    let guesser = app.browser();
    let (_, page, _) = guesser.get(&app.code_flow_url(&client, &[])).await;
    let (_, mut page, _) = guesser.login(&page, "budi", PASSWORD).await;
    let mut locked = false;
    for _ in 0..12 {
        let form = form_ending(&page, "remote-certificate");
        let (status, next, _) = post_passphrase(&app, &guesser, &form, "tebakan").await;
        if status == 429 {
            locked = true;
            break;
        }
        assert_eq!(status, 401, "{next}");
        page = next;
    }
    assert!(locked, "the guesses end in a lockout");
    app.raw_sql("DELETE FROM login_throttle").await.unwrap();

    // The service goes away: level 4 by passphrase is refused with the reason.
    drop(signer);
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.code_flow_url(&client, &[])).await;
    let (_, page, _) = browser.login(&page, "budi", PASSWORD).await;
    let form = form_ending(&page, "remote-certificate");
    let (status, page, _) = post_passphrase(&app, &browser, &form, pki::PIN).await;
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("tidak dapat dihubungi"), "{page}");
}

/// Posts the account page's upload form as a browser does (multipart/form-data).
async fn upload(browser: &Browser, action: &str, csrf: &str, file: &[u8]) -> (u16, String) {
    let boundary = "----pintu-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"budi.cer\"\r\n\
             Content-Type: application/pkix-cert\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let url = browser.base().to_owned() + action;
    let resp = browser
        .client
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

async fn people_add_and_remove_their_own_certificates_on_the_account_page(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.forwarded_header = Some("X-SSL-Client-Cert".into()));
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    budi(&app).await;
    let portal = app.client().await;
    let browser = app.browser();
    app.code_for(&browser, &portal, "budi", &[]).await;
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Belum ada sertifikat elektronik"), "{page}");
    let form_of = |page: &str| {
        let id = page.split("/account/certificates/").nth(1).unwrap().split(['"', '/']).next().unwrap().to_owned();
        let csrf = page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        (format!("/account/certificates/{id}"), csrf)
    };

    // Someone else's certificate and a broken file are refused with the reason; each answer is
    // the account page again, with a fresh form.
    let (action, csrf) = form_of(&page);
    let (status, page) = upload(&browser, &action, &csrf, &std::fs::read(pki::file("nik.der")).unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("tidak memuat NIP, NIK, atau e-mail Anda"), "{page}");
    let (action, csrf) = form_of(&page);
    let (_, page) = upload(&browser, &action, &csrf, b"not a certificate").await;
    assert!(page.contains("tidak dapat dibaca"), "{page}");
    // Without the page's token, nothing happens.
    let (action, csrf) = form_of(&page);
    let (_, forged) = upload(&browser, &action, "forged", &std::fs::read(pki::file("nip.der")).unwrap()).await;
    assert!(!forged.contains("Sertifikat ditambahkan"), "{forged}");
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM certificates").await, 0);

    // His own (DER, as .cer files usually are): pending until he proves it.
    let (status, page) = upload(&browser, &action, &csrf, &std::fs::read(pki::file("nip.der")).unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sertifikat ditambahkan") && page.contains("menunggu bukti"), "{page}");
    let added = app
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.add' AND outcome = 'success'")
        .await;
    assert_eq!(added, 1);

    // Removed again from the page.
    let (action, csrf) = form_of(&page);
    let remove = format!("{action}/remove");
    let (status, page, _) =
        browser.post(&remove, &[("csrf_token", &csrf), ("thumbprint", &x509_thumbprint("nip"))]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sertifikat dihapus") && page.contains("dihapus"), "{page}");
    let removed = app.raw_count("SELECT COUNT(*) FROM certificates WHERE status = 'removed'").await;
    assert_eq!(removed, 1);
}

async fn trust_anchors_are_reloaded_without_a_restart(backend: Backend) {
    // The office starts trusting only the test CA; the other root is added while Pintu runs.
    let anchors = crate::support::scratch::path("anchors", ".pem");
    std::fs::write(&anchors, pki::read("bundle.pem")).unwrap();
    let file = anchors.clone();
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.trust_anchors = Some(vec![file]);
            raw.revocation = Some("soft".into());
        });
    })
    .await;
    let id = budi(&app).await;
    let token = app.office_token().await;
    let (status, body) = add(&app, &token, &id, &pki::read("untrusted.pem"), false).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:pintu:problem:certificate-untrusted")), "{body}");

    // A broken file is refused and the anchors in use stay.
    std::fs::write(&anchors, "not a bundle").unwrap();
    let r = app.api("POST", "/api/v1/certificates/reload", &token, None, None).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let (status, _) = add(&app, &token, &id, &pki::with_chain("nip"), false).await;
    assert_eq!(status, 201, "the old anchors still work");

    std::fs::write(&anchors, pki::read("bundle.pem") + &pki::read("untrusted-root.pem")).unwrap();
    app.org_tree().await;
    let opd = app.opd_admin_token("admin.dinkes", "DINKES").await;
    let r = app.api("POST", "/api/v1/certificates/reload", &opd, None, None).await;
    assert_eq!(r.status, 403, "only the office reloads");
    let r = app.api("POST", "/api/v1/certificates/reload", &token, None, None).await;
    assert_eq!((r.status, r.body["anchors"].as_i64()), (200, Some(3)), "{}", r.body);
    let (status, body) = add(&app, &token, &id, &pki::read("untrusted.pem"), false).await;
    assert_eq!(status, 201, "now trusted: {body}");
}

async fn a_certificate_from_a_revoked_intermediate_is_refused(backend: Backend) {
    // Only the root is trusted: the intermediates between it and the person are checked too.
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| raw.trust_anchors = Some(vec![pki::file("root.pem")]));
    })
    .await;
    let id = budi(&app).await;
    let token = app.office_token().await;
    let (status, body) = add(&app, &token, &id, &pki::with_chain("nip"), false).await;
    assert_eq!(status, 201, "the good intermediate names no revocation source: {body}");
    let chain = pki::read("subperson.pem") + &pki::read("subca.pem");
    let (status, body) = add(&app, &token, &id, &chain, false).await;
    assert_eq!((status, body["type"].as_str()), (422, Some("urn:pintu:problem:certificate-revoked")), "{body}");
    let revoked = app
        .raw_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.revoked' AND detail LIKE '%issuing CA%'",
        )
        .await;
    assert_eq!(revoked, 1);
}
