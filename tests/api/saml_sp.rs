//! Pintu's SAML identity provider read and used by pysaml2, a service-provider library Pintu
//! did not write (installed by `tests/install-saml`): the metadata against the SAML schema, a
//! signed request and Pintu's signed response, and Web Browser SSO over HTTP end to end.

use crate::support::{Backend, TestApp};

/// The python of the environment `tests/install-saml` prepares (pysaml2), or why there is none.
pub(crate) fn saml_python() -> Result<String, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/install-saml");
    let out = std::process::Command::new("bash").arg(script).output().map_err(|e| e.to_string())?;
    let python = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if python.is_empty() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(python)
}

/// The metadata passes the SAML metadata schema and reads, in pysaml2's metadata store, as the
/// document Pintu means: every endpoint, the signing certificate, the NameID formats.
#[tokio::test]
async fn an_independent_sp_library_accepts_the_metadata() {
    let python = match saml_python() {
        Ok(python) => python,
        Err(why) if std::env::var("PINTU_TEST_REQUIRE_SAML").as_deref() != Ok("1") => {
            eprintln!("NOTICE: pysaml2 unavailable ({why}); the SAML metadata test is SKIPPED");
            return;
        }
        Err(why) => panic!("pysaml2 is required here: {why}"),
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let key = app.state.saml.keys().await.unwrap().remove(0);
    let xml = app.http.get(app.url("/saml/metadata")).send().await.unwrap().text().await.unwrap();
    let entity = format!("{}/saml/metadata", app.issuer);
    let check = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/saml/metadata_check.py");
    let read = |document: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(&python)
            .arg(&check)
            .arg(&entity)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(document.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = read(&xml);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pysaml2 refused the metadata: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "valid");
    for (kind, binding) in [("sso", "redirect"), ("sso", "post"), ("slo", "redirect"), ("slo", "post")] {
        let path = if kind == "sso" { "/saml/sso" } else { "/saml/slo" };
        assert!(lines.contains(&format!("{kind} {binding} {}{path}", app.issuer).as_str()), "{stdout}");
    }
    assert!(lines.contains(&format!("certificate {}", key.certificate_base64).as_str()), "{stdout}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("format ")).count(), 4, "{stdout}");

    // Signed (Metadata §3): xmlsec1 verifies it with the certificate it publishes, and not
    // once a single endpoint is changed.
    let dir = crate::support::scratch::path("saml-metadata", "");
    std::fs::create_dir_all(&dir).unwrap();
    let certificate = dir.join("idp.crt");
    std::fs::write(&certificate, &key.certificate_pem).unwrap();
    let verify = |document: &str| {
        let file = dir.join("metadata.xml");
        std::fs::write(&file, document).unwrap();
        std::process::Command::new("xmlsec1")
            .args(["--verify", "--pubkey-cert-pem", certificate.to_str().unwrap()])
            .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor", file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    assert!(xml.contains("<ds:Signature") && xml.find("<ds:Signature") < xml.find("<md:IDPSSODescriptor"), "{xml}");
    let verified = verify(&xml);
    assert!(verified.status.success(), "xmlsec1: {}", String::from_utf8_lossy(&verified.stderr));
    let moved = xml.replace("/saml/sso\"", "/saml/elsewhere\"");
    assert_ne!(moved, xml);
    assert!(!verify(&moved).status.success(), "a changed document still verified");

    // The schema check can fail: the same document with its elements out of order does.
    let broken =
        xml.replacen("<md:NameIDFormat>", "<md:SingleSignOnService Binding=\"x\" Location=\"y\"/><md:NameIDFormat>", 1);
    assert!(!read(&broken).status.success(), "an out-of-order document passed the schema");
}

/// An RSA key and its self-signed certificate, PEM (an SP's).
pub(crate) fn sp_key_pair() -> (String, String) {
    use openssl::{
        asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509::X509Builder, x509::X509NameBuilder,
    };
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "sp.test").unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    let serial = openssl::bn::BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let key_pem = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (key_pem, String::from_utf8(b.build().to_pem().unwrap()).unwrap())
}

/// A signed HTTP-Redirect AuthnRequest made by pysaml2 is read and its signature verified
/// over the query string exactly as sent; a changed RelayState or another SP's certificate
/// does not verify. Pintu's signed Response to it is accepted by pysaml2 (xmlsec1 checks the
/// signature against the metadata's certificate) and by xmlsec1 directly; a changed one, an
/// error status and an answer to another request are refused.
#[tokio::test]
async fn a_round_trip_with_an_independent_sp_library() {
    use pintu::saml::request::{from_redirect, parse, verify_redirect};
    let python = match saml_python() {
        Ok(python) => python,
        Err(why) if std::env::var("PINTU_TEST_REQUIRE_SAML").as_deref() != Ok("1") => {
            eprintln!("NOTICE: pysaml2 unavailable ({why}); the SAML request test is SKIPPED");
            return;
        }
        Err(why) => panic!("pysaml2 is required here: {why}"),
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = crate::support::scratch::path("saml-sp", "");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = sp_key_pair();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let metadata = write("idp.xml", &app.state.saml.metadata().await.unwrap());
    let (key_file, cert_file) = (write("sp.key", &key), write("sp.crt", &cert));
    let sp = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/saml/sp.py");
    let out = std::process::Command::new(&python)
        .arg(&sp)
        .args(["request", &metadata, &key_file, &cert_file, "https://sp.test/metadata", "https://sp.test/acs", "s/1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "pysaml2: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (request_id, url) = stdout.trim().split_once('\n').unwrap();
    let (endpoint, query) = url.split_once('?').unwrap();
    assert_eq!(endpoint, format!("{}/saml/sso", app.issuer), "the metadata's Redirect endpoint");

    let received = from_redirect(query).unwrap();
    assert_eq!(received.relay_state.as_deref(), Some("s/1"));
    let request = parse(&received.xml).unwrap();
    assert_eq!(request.id, request_id);
    assert_eq!(request.issuer, "https://sp.test/metadata");
    assert_eq!(request.acs_url.as_deref(), Some("https://sp.test/acs"));
    assert_eq!(request.destination.as_deref(), Some(endpoint));
    let signature = received.redirect_signature.expect("signed");
    verify_redirect(&signature, std::slice::from_ref(&cert)).expect("pysaml2's signature verifies");

    assert!(query.contains("RelayState=s%2F1"), "{query}");
    let tampered = from_redirect(&query.replace("RelayState=s%2F1", "RelayState=s%2F2")).unwrap();
    assert!(verify_redirect(&tampered.redirect_signature.unwrap(), std::slice::from_ref(&cert)).is_err());
    let (_, other) = sp_key_pair();
    assert!(verify_redirect(&signature, &[other]).is_err(), "another SP's certificate");

    // The response, as pysaml2 reads it.
    use pintu::saml::response::{Addressed, Attribute, NO_AUTHN_CONTEXT, REQUESTER, Statement};
    let to = Addressed {
        acs: "https://sp.test/acs".into(),
        audience: "https://sp.test/metadata".into(),
        in_response_to: Some(request_id.to_owned()),
    };
    let attribute = |name: &str, friendly: &str, value: &str| Attribute {
        name: name.into(),
        friendly_name: friendly.into(),
        values: vec![value.into()],
    };
    let statement = Statement {
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
        name_id: "p-7f3a9c".into(),
        session_index: "_s1".into(),
        authn_instant: app.now() - 10,
        class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        attributes: vec![
            attribute("urn:oid:0.9.2342.19200300.100.1.1", "uid", "budi"),
            attribute("urn:oid:2.16.840.1.113730.3.1.241", "displayName", "Budi <Santoso> & Co"),
        ],
    };
    let check = |xml: &str, id: &str| {
        use base64::Engine;
        use std::io::Write;
        let mut child = std::process::Command::new(&python)
            .arg(&sp)
            .args(["response", &metadata, &key_file, &cert_file, "https://sp.test/metadata", "https://sp.test/acs", id])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        child.stdin.take().unwrap().write_all(encoded.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    for sign_response in [false, true] {
        let xml = app.state.saml.success(&to, &statement, sign_response).await.unwrap();
        assert_eq!(xml.matches("SignatureValue>").count(), if sign_response { 4 } else { 2 }, "{xml}");
        let (code, read) = check(&xml, request_id);
        assert_eq!(code, Some(0), "pysaml2 refused the response: {read}");
        assert!(read.contains("name_id urn:oasis:names:tc:SAML:2.0:nameid-format:persistent p-7f3a9c"), "{read}");
        assert!(read.contains("class urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"), "{read}");
        assert!(read.contains("session _s1") && read.contains("attribute uid budi"), "{read}");
        assert!(read.contains("attribute displayName Budi <Santoso> & Co"), "escaped and read back: {read}");
        // xmlsec1 itself, against the certificate in the metadata.
        let (file, idp_cert) =
            (write("response.xml", &xml), write("idp.crt", &app.state.saml.keys().await.unwrap()[0].certificate_pem));
        let verified = std::process::Command::new("xmlsec1")
            .args([
                "--verify",
                "--pubkey-cert-pem",
                &idp_cert,
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            ])
            .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", &file])
            .output()
            .unwrap();
        assert!(verified.status.success(), "xmlsec1: {}", String::from_utf8_lossy(&verified.stderr));
    }
    let xml = app.state.saml.success(&to, &statement, false).await.unwrap();
    let (code, read) = check(&xml.replace(">budi<", ">admin<"), request_id);
    assert_eq!(code, Some(3), "a changed assertion: {read}");
    let (code, read) = check(&xml, "id-another-request");
    assert_eq!(code, Some(3), "an answer to another request: {read}");
    let refused = app.state.saml.failure(&to, REQUESTER, Some(NO_AUTHN_CONTEXT)).await.unwrap();
    let (code, read) = check(&refused, request_id);
    assert!(code == Some(3) && read.contains("NoAuthnContext"), "{read}");
}
