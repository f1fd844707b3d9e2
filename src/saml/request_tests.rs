use super::*;
use saml_rs::binding::{base64_encode, deflate_raw_encode};

const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1b2" Version="2.0" IssueInstant="2026-12-05T10:00:00Z" Destination="https://sso.example.go.id/saml/sso" AssertionConsumerServiceURL="https://eoffice.example.go.id/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true"><saml:Issuer>https://eoffice.example.go.id/sp</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:pintu:level:2</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#;

fn redirect_value(xml: &str) -> String {
    let encoded = base64_encode(&deflate_raw_encode(xml.as_bytes()).unwrap());
    form_urlencoded::byte_serialize(encoded.as_bytes()).collect()
}

#[test]
fn a_redirect_request_is_inflated_parsed_and_its_signed_octets_kept_as_sent() {
    let value = redirect_value(REQUEST);
    let query = format!(
        "SAMLRequest={value}&RelayState=abc%2Fdef&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=c2ln"
    );
    let received = from_redirect(&query).unwrap();
    assert_eq!(received.relay_state.as_deref(), Some("abc/def"));
    let sig = received.redirect_signature.unwrap();
    assert_eq!(sig.algorithm, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    assert_eq!(
        sig.signed_octets,
        format!(
            "SAMLRequest={value}&RelayState=abc%2Fdef&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"
        )
    );
    let request = parse(&received.xml).unwrap();
    assert_eq!(request.id, "_a1b2");
    assert_eq!(request.issue_instant, parse_instant("2026-12-05T10:00:00Z").unwrap());
    assert_eq!(request.issuer, "https://eoffice.example.go.id/sp");
    assert_eq!(request.acs_url.as_deref(), Some("https://eoffice.example.go.id/acs"));
    assert!(request.force_authn && !request.is_passive);
    assert_eq!(request.name_id_format.as_deref(), Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
    assert_eq!(request.requested_context, Some((Comparison::Minimum, vec!["urn:pintu:level:2".to_owned()])));
}

#[test]
fn a_post_request_is_base64_without_deflate() {
    let received = from_post(&base64_encode(REQUEST.as_bytes()), Some("rs")).unwrap();
    assert_eq!((received.xml.as_str(), received.relay_state.as_deref()), (REQUEST, Some("rs")));
    assert!(received.redirect_signature.is_none());
}

#[test]
fn bad_requests_are_refused_before_and_after_inflating() {
    let bomb = "<a>".to_owned() + &"x".repeat(MAX_XML_BYTES * 4) + "</a>";
    let refused = |query: &str| from_redirect(query).unwrap_err();
    assert!(
        matches!(refused(&format!("SAMLRequest={}", redirect_value(&bomb))), RequestError::Malformed(m) if m.contains("inflate"))
    );
    assert!(matches!(refused(""), RequestError::Malformed(m) if m.contains("missing")));
    assert!(
        matches!(refused(&format!("SAMLRequest={}", "A".repeat(MAX_ENCODED_BYTES + 1))), RequestError::Malformed(m) if m.contains("too large"))
    );
    assert!(matches!(refused("SAMLRequest=%%%"), RequestError::Malformed(_)));
    let value = redirect_value(REQUEST);
    assert!(
        matches!(refused(&format!("SAMLRequest={value}&SAMLRequest={value}")), RequestError::Malformed(m) if m.contains("repeated"))
    );
    assert!(
        matches!(refused(&format!("SAMLRequest={value}&Signature=x")), RequestError::Malformed(m) if m.contains("together"))
    );
    let long = "r".repeat(MAX_RELAY_STATE_BYTES + 1);
    assert!(
        matches!(refused(&format!("SAMLRequest={value}&RelayState={long}")), RequestError::Malformed(m) if m.contains("80"))
    );

    let bad = |xml: &str| parse(xml).unwrap_err().to_string();
    let doctype = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{REQUEST}");
    assert!(parse(&doctype).is_err(), "a DTD is refused");
    assert!(parse("<samlp:AuthnRequest").is_err(), "truncated");
    assert!(bad(&REQUEST.replace("Version=\"2.0\"", "Version=\"1.1\"")).contains("Version"));
    assert!(bad(&REQUEST.replace("ID=\"_a1b2\"", "ID=\"1abc\"")).contains("ID"));
    assert!(bad(&REQUEST.replace("2026-12-05T10:00:00Z", "2026-12-05T10:00:00+07:00")).contains("IssueInstant"));
    assert!(bad(&REQUEST.replace("https://eoffice.example.go.id/sp", " ")).contains("Issuer"));
    assert!(bad(&REQUEST.replace("ForceAuthn=\"true\"", "ForceAuthn=\"yes\"")).contains("boolean"));
    assert!(bad(&REQUEST.replace("Comparison=\"minimum\"", "Comparison=\"most\"")).contains("Comparison"));
    assert!(bad(&REQUEST.replace("AuthnRequest", "LogoutRequest")).contains("not an AuthnRequest"));
}

#[test]
fn only_sha2_rsa_signatures_are_accepted() {
    let sha1 = RedirectSignature {
        algorithm: "http://www.w3.org/2000/09/xmldsig#rsa-sha1".into(),
        signature: "c2ln".into(),
        signed_octets: "SAMLRequest=x".into(),
    };
    assert!(matches!(verify_redirect(&sha1, &[]), Err(RequestError::Signature(m)) if m.contains("SHA-2")));
    let unverified = RedirectSignature { algorithm: SIGNATURE_ALGORITHMS[0].into(), ..sha1 };
    assert!(matches!(verify_redirect(&unverified, &[]), Err(RequestError::Signature(_))));
}

#[test]
fn instants_are_utc_xs_date_times() {
    assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_instant("2026-12-05T10:00:00.123Z"), parse_instant("2026-12-05T10:00:00Z"));
    for bad in ["2026-12-05T10:00:00", "2026-02-30T10:00:00Z", "2026-12-05 10:00:00Z", "2026-12-05T24:00:00Z", "x"] {
        assert_eq!(parse_instant(bad), None, "{bad}");
    }
}
