//! Pintu's SAML identity provider: its signing key (RSA-2048, generated once, sealed, the same
//! across nodes and restarts), its rotation, its certificate and metadata (read by a parser
//! Pintu did not write, Python's), and service providers' registrations. Single logout
//! answers that it is not available yet.

use openssl::x509::X509;
use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    the_metadata_publishes_one_stable_key_and_every_endpoint,
    a_new_key_is_published_before_it_signs,
    service_providers_are_registered_by_the_office
);

/// What Python's XML parser reads in the metadata: the entity ID, then each endpoint as
/// `element binding location`, each NameID format, and each certificate, a line each.
fn read_with_python(xml: &str) -> Vec<String> {
    let script = r#"
import sys, xml.etree.ElementTree as ET
md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
ds = "{http://www.w3.org/2000/09/xmldsig#}"
root = ET.fromstring(sys.stdin.read())
assert root.tag == md + "EntityDescriptor", root.tag
print("entity", root.get("entityID"))
idp = root.find(md + "IDPSSODescriptor")
assert idp.get("protocolSupportEnumeration") == "urn:oasis:names:tc:SAML:2.0:protocol"
for child in idp:
    name = child.tag.split("}")[1]
    if name in ("SingleSignOnService", "SingleLogoutService"):
        print(name, child.get("Binding").rsplit(":", 1)[1], child.get("Location"))
    elif name == "NameIDFormat":
        print("format", child.text)
    elif name == "KeyDescriptor":
        print("certificate", child.get("use"), child.find(ds + "KeyInfo/" + ds + "X509Data/" + ds + "X509Certificate").text)
    else:
        print("other", name)
"#;
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python could not read the metadata: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

async fn the_metadata_publishes_one_stable_key_and_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Two requests at once on a new installation still make one key.
    let (first, second) = tokio::join!(app.state.saml.keys(), app.state.saml.keys());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first[0].certificate_pem, second[0].certificate_pem);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM saml_keys").await, 1);
    let sealed = "SELECT COUNT(*) FROM saml_keys WHERE sealed_private LIKE '%PRIVATE KEY%'";
    assert_eq!(app.raw_count(sealed).await, 0, "the private key is stored sealed");

    let resp = app.http.get(app.url("/saml/metadata")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/samlmetadata+xml");
    let xml = resp.text().await.unwrap();
    let read = read_with_python(&xml);
    let base = &app.issuer;
    assert_eq!(read[0], format!("entity {base}/saml/metadata"));
    // The schema's order: keys, logout, formats, sign-on.
    let kinds: Vec<&str> = read[1..].iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "certificate",
            "SingleLogoutService",
            "SingleLogoutService",
            "format",
            "format",
            "format",
            "format",
            "SingleSignOnService",
            "SingleSignOnService"
        ]
    );
    for binding in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(read.contains(&format!("SingleSignOnService {binding} {base}/saml/sso")), "{read:?}");
        assert!(read.contains(&format!("SingleLogoutService {binding} {base}/saml/slo")), "{read:?}");
    }
    assert!(read.contains(&"format urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_owned()));

    // The certificate: RSA-2048, self-signed with SHA-256, valid for years, the key's own.
    let line = read.iter().find(|l| l.starts_with("certificate signing ")).unwrap();
    let der = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(line.rsplit(' ').next().unwrap()).unwrap()
    };
    let certificate = X509::from_der(&der).unwrap();
    let key = certificate.public_key().unwrap();
    assert_eq!((key.bits(), key.rsa().is_ok()), (2048, true));
    assert!(certificate.verify(&key).unwrap(), "self-signed");
    assert_eq!(certificate.signature_algorithm().object().to_string(), "sha256WithRSAEncryption");
    let in_four_years = openssl::asn1::Asn1Time::from_unix(app.now() + 4 * 365 * 86_400).unwrap();
    assert!(certificate.not_after() > in_four_years);
    let private = first[0].private_pkcs8_pem.as_ref().unwrap();
    use secrecy::ExposeSecret;
    assert!(private.expose_secret().starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    let private = openssl::pkey::PKey::private_key_from_pem(private.expose_secret().as_bytes()).unwrap();
    assert!(private.public_eq(&key), "the certificate is the stored key's");

    // The same document on every request: the key is made once.
    let again = app.http.get(app.url("/saml/metadata")).send().await.unwrap().text().await.unwrap();
    assert_eq!(again, xml, "stable across requests");

    // A request that is not one is refused with a page.
    for (path, status) in [("/saml/sso?SAMLRequest=x", 400), ("/saml/sso", 400), ("/saml/slo", 400)] {
        let resp = app.http.get(app.url(path)).header("accept-language", "id").send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
    }
    let resp =
        app.http.post(app.url("/saml/sso")).form(&[("SAMLRequest", "%%%"), ("SAMLRequest", "x")]).send().await.unwrap();
    assert_eq!(resp.status(), 400, "a repeated field");
    // A 1 MiB posted message, and a query as long as a URL may be: refused before they are
    // decoded, never a 500.
    let big = "A".repeat(1024 * 1024);
    let long = "A".repeat(60_000);
    for path in ["/saml/sso", "/saml/slo"] {
        let resp = app.http.post(app.url(path)).form(&[("SAMLRequest", big.as_str())]).send().await.unwrap();
        assert!(matches!(resp.status().as_u16(), 400 | 413), "{path}: {}", resp.status());
        let resp = app.http.get(app.url(&format!("{path}?SAMLRequest={long}"))).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{path}");
    }
    assert!(app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'saml.refused'").await >= 2);
}

/// A rotation publishes the next certificate beside the current one, then promotes it: the
/// current key's private half is always the one that opens, and each step is audited.
async fn a_new_key_is_published_before_it_signs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let saml = &app.state.saml;
    let first = saml.keys().await.unwrap().remove(0);
    let cli = pintu::domain::ActorId::cli();
    let published = saml.rotate(&cli).await.unwrap();
    assert_eq!(published.step, "published");
    let keys = saml.keys().await.unwrap();
    let states: Vec<(&str, bool)> = keys.iter().map(|k| (k.state.as_str(), k.private_pkcs8_pem.is_some())).collect();
    assert_eq!(states, [("current", true), ("next", false)], "only the current key signs");
    assert_eq!((keys[0].id.as_str(), keys[1].id.as_str()), (first.id.as_str(), published.key.as_str()));
    let xml = saml.metadata().await.unwrap();
    assert!(xml.contains(&keys[0].certificate_base64) && xml.contains(&keys[1].certificate_base64));

    let promoted = saml.rotate(&cli).await.unwrap();
    assert_eq!((promoted.step, promoted.key.as_str()), ("promoted", published.key.as_str()));
    let keys = saml.keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].id.as_str(), keys[0].state.as_str()), (published.key.as_str(), "current"));
    assert!(keys[0].private_pkcs8_pem.is_some());
    let xml = saml.metadata().await.unwrap();
    assert!(!xml.contains(&first.certificate_base64), "the retired certificate leaves the metadata");
    let listed = saml.list_keys().await.unwrap();
    assert_eq!(listed.iter().map(|k| k.state.as_str()).collect::<Vec<_>>(), ["current", "retired"]);
    assert!(listed[1].retired_at.is_some());
    let audited = "SELECT COUNT(*) FROM audit_events WHERE action = 'admin.key.rotate' AND detail LIKE '%saml%'";
    assert_eq!(app.raw_count(audited).await, 2);
}

/// A self-signed certificate, as an SP's signing certificate.
fn sp_certificate() -> String {
    use openssl::{
        asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509::X509Builder, x509::X509NameBuilder,
    };
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "eoffice.example.go.id").unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    String::from_utf8(b.build().to_pem().unwrap()).unwrap()
}

/// The office registers service providers over the admin API: checked as a registration,
/// unique by entity ID, changed at the version read; OIDC-only operations refuse them.
async fn service_providers_are_registered_by_the_office(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let body = |entity: &str, acs: &str| {
        json!({
            "name": "E-Office <lama>",
            "entity_id": entity,
            "acs": [{ "location": acs, "index": 0, "is_default": true }],
            "slo_url": "https://eoffice.example.go.id/saml/slo",
            "certificates": [sp_certificate()],
            "sign_requests": true,
            "name_id_formats": ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"],
        })
    };
    let entity = "https://eoffice.example.go.id/saml/metadata";
    let acs = "https://eoffice.example.go.id/saml/acs";
    let created = app.api("POST", "/api/v1/applications/saml", &token, Some(body(entity, acs)), None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!((created.body["protocol"].as_str(), created.body["entity_id"].as_str()), (Some("saml"), Some(entity)));
    assert_eq!(created.body["client_id"], serde_json::Value::Null);
    let id = created.body["id"].as_str().unwrap().to_owned();

    // Refusals: the same entity ID, plain http to another machine, an unknown field, a
    // certificate that is not one, a signed-request SP without a certificate.
    let again = app.api("POST", "/api/v1/applications/saml", &token, Some(body(entity, acs)), None).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let http = app
        .api("POST", "/api/v1/applications/saml", &token, Some(body("urn:x:sp", "http://sp.example/acs")), None)
        .await;
    assert!(http.status == 422 && http.body["detail"].as_str().unwrap().contains("https"), "{}", http.body);
    let mut unknown = body("urn:x:sp2", acs);
    unknown["wants"] = json!("everything");
    assert_eq!(app.api("POST", "/api/v1/applications/saml", &token, Some(unknown), None).await.status, 422);
    let mut forged = body("urn:x:sp3", acs);
    forged["certificates"] = json!(["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]);
    assert_eq!(app.api("POST", "/api/v1/applications/saml", &token, Some(forged), None).await.status, 422);
    let mut unsigned = body("urn:x:sp4", acs);
    unsigned["certificates"] = json!([]);
    let r = app.api("POST", "/api/v1/applications/saml", &token, Some(unsigned), None).await;
    assert!(r.status == 422 && r.body["detail"].as_str().unwrap().contains("certificates"), "{}", r.body);
    let opd = app.opd_admin_token("kepala", "DINKES").await;
    assert_eq!(
        app.api("POST", "/api/v1/applications/saml", &opd, Some(body("urn:x:sp5", acs)), None).await.status,
        403
    );
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM saml_service_providers").await, 1);

    // Read and changed at the version read; a stale version changes nothing.
    let path = format!("/api/v1/applications/{id}/saml");
    let read = app.get_api(&path, &token).await;
    assert_eq!((read.status, read.body["entity_id"].as_str()), (200, Some(entity)));
    assert!(read.body["certificates"][0].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    let mut changed = read.body.clone();
    changed["acs"] = json!([{ "location": "https://eoffice.example.go.id/saml/acs2", "index": 3 }]);
    let put = app.api("PUT", &path, &token, Some(changed.clone()), Some(&read.etag())).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(app.api("PUT", &path, &token, Some(changed), Some(&read.etag())).await.status, 412);
    let sp = app.state.applications.service_provider(entity).await.unwrap().expect("found by entity ID");
    assert_eq!(sp.saml().unwrap().acs[0].index, 3);

    // OIDC-only operations, the console's list and the portal cope with a SAML application.
    let secret = app.api("POST", &format!("/api/v1/applications/{id}/secret"), &token, None, None).await;
    assert_eq!((secret.status, secret.body["type"].as_str()), (409, Some("urn:pintu:problem:not-oidc")));
    let list = app.get_api("/api/v1/applications", &token).await;
    assert!(list.body["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()));
    let created =
        "SELECT COUNT(*) FROM audit_events WHERE action = 'admin.application.create' AND detail LIKE '%eoffice%'";
    assert_eq!(app.raw_count(created).await, 1);
    let console = crate::console::administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let (status, page, _) = console.get(&app.url(&format!("/admin/application?id={id}"))).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("SAML entity ID") && !page.contains("id=\"redirect_uris\""), "{page}");
    let (_, page, _) = console.get(&app.url("/admin/applications")).await;
    assert!(page.contains("E-Office &lt;lama&gt;"), "{page}");
    app.disable_app(&id).await;
    assert!(app.state.applications.service_provider(entity).await.unwrap().is_none(), "a disabled SP is not served");
}
