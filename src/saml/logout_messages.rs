//! The messages of Single Logout (SAML Core §3.7): reading a `<LogoutRequest>` an SP sends and
//! the `<LogoutResponse>` it answers Pintu's with, and writing Pintu's own, sent over the
//! HTTP-Redirect binding signed with the IdP key (Bindings §3.4.4.1: DEFLATE, base64, and an
//! RSA-SHA256 signature over the query string). Read with the same limits as AuthnRequests.

use saml_rs::binding::{deflate_raw_encode, redirect_binding_query};

use super::metadata::escape;
use super::request::{RequestError, child, document, parse_instant};
use super::response::{RSA_SHA256, format_instant, new_id};
use super::{SamlError, SamlIdp};

/// How long Pintu's LogoutRequests are valid (Core §3.7.1 `NotOnOrAfter`).
const REQUEST_LIFETIME: i64 = 300;

/// A LogoutRequest as an SP sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub issue_instant: i64,
    pub issuer: String,
    pub destination: Option<String>,
    pub not_on_or_after: Option<i64>,
    pub name_id: String,
    pub session_indexes: Vec<String>,
}

fn malformed(why: impl Into<String>) -> RequestError {
    RequestError::Malformed(why.into())
}

/// The root's name: `LogoutRequest`, `LogoutResponse`, or something else.
pub fn root_name(xml: &str) -> Result<String, RequestError> {
    Ok(document(xml)?.local_name)
}

/// Reads a LogoutRequest (Core §3.7.1): ID, Version 2.0, IssueInstant, Issuer, a NameID (an
/// encrypted one is not accepted: Pintu never issues those), SessionIndexes.
pub fn parse_logout_request(xml: &str) -> Result<LogoutRequest, RequestError> {
    let root = document(xml)?;
    if root.local_name != "LogoutRequest" {
        return Err(malformed(format!("a {} is not a LogoutRequest", root.local_name)));
    }
    if root.attr("Version") != Some("2.0") {
        return Err(malformed("Version must be 2.0"));
    }
    let id =
        root.attr("ID").filter(|id| !id.is_empty() && id.len() <= 256).ok_or_else(|| malformed("ID is missing"))?;
    let instant = |name: &str| {
        root.attr(name).map(|t| parse_instant(t).ok_or_else(|| malformed(format!("{name} is not a UTC time"))))
    };
    let issue_instant = instant("IssueInstant").ok_or_else(|| malformed("IssueInstant is missing"))??;
    let not_on_or_after = instant("NotOnOrAfter").transpose()?;
    let issuer = child(&root, "Issuer").map(|i| i.text.trim().to_owned()).filter(|i| !i.is_empty());
    let name_id = child(&root, "NameID").map(|n| n.text.trim().to_owned()).filter(|n| !n.is_empty());
    Ok(LogoutRequest {
        id: id.to_owned(),
        issue_instant,
        issuer: issuer.ok_or_else(|| malformed("Issuer is missing"))?,
        destination: root.attr("Destination").map(str::to_owned),
        not_on_or_after,
        name_id: name_id.ok_or_else(|| malformed("NameID is missing (an encrypted one is not accepted)"))?,
        session_indexes: root
            .children
            .iter()
            .filter(|c| c.local_name == "SessionIndex")
            .map(|c| c.text.trim().to_owned())
            .collect(),
    })
}

/// The issuer and top-level status of a LogoutResponse (Core §3.7.2).
pub fn parse_logout_response(xml: &str) -> Result<(String, String), RequestError> {
    let root = document(xml)?;
    if root.local_name != "LogoutResponse" {
        return Err(malformed(format!("a {} is not a LogoutResponse", root.local_name)));
    }
    let issuer = child(&root, "Issuer").map(|i| i.text.trim().to_owned()).unwrap_or_default();
    let status = child(&root, "Status").and_then(|s| child(s, "StatusCode")).and_then(|c| c.attr("Value"));
    Ok((issuer, status.unwrap_or_default().to_owned()))
}

impl SamlIdp {
    /// Pintu's LogoutRequest to an SP of the session: the person is `name_id` there, in
    /// `format`; `session_index` names the session. Its ID and the XML.
    pub(super) fn logout_request_xml(
        &self,
        to: &str,
        sp: &str,
        name_id: (&str, &str),
        session_index: &str,
    ) -> (String, String) {
        let (now, id) = (self.clock.now(), new_id());
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" \
             Destination=\"{to}\" NotOnOrAfter=\"{until}\"><saml:Issuer>{issuer}</saml:Issuer>\
             <saml:NameID Format=\"{format}\" SPNameQualifier=\"{sp}\">{value}</saml:NameID>\
             <samlp:SessionIndex>{index}</samlp:SessionIndex></samlp:LogoutRequest>",
            id = id,
            now = format_instant(now),
            to = escape(to),
            until = format_instant(now + REQUEST_LIFETIME),
            issuer = escape(&self.entity_id()),
            format = escape(name_id.1),
            sp = escape(sp),
            value = escape(name_id.0),
            index = escape(session_index),
        );
        (id, xml)
    }

    /// Pintu's LogoutResponse to `in_response_to`, with a top-level `status`.
    pub(super) fn logout_response_xml(&self, to: &str, in_response_to: &str, status: &str) -> String {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" \
             Destination=\"{}\" InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer>\
             <samlp:Status><samlp:StatusCode Value=\"{}\"/></samlp:Status></samlp:LogoutResponse>",
            new_id(),
            format_instant(self.clock.now()),
            escape(to),
            escape(in_response_to),
            escape(&self.entity_id()),
            escape(status),
        )
    }

    /// `xml` sent to `endpoint` over HTTP-Redirect as `param` (`SAMLRequest`/`SAMLResponse`),
    /// signed: the URL to send the browser to.
    pub(super) async fn signed_redirect(
        &self,
        endpoint: &str,
        param: &str,
        xml: &str,
        relay_state: Option<&str>,
    ) -> Result<String, SamlError> {
        use base64::Engine;
        let deflated = deflate_raw_encode(xml.as_bytes()).map_err(|e| SamlError::Key(e.to_string()))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
        let algorithm: String = form_urlencoded::byte_serialize(RSA_SHA256.as_bytes()).collect();
        let octets = format!("{}&SigAlg={algorithm}", redirect_binding_query(param, &encoded, relay_state));
        let signature: String = form_urlencoded::byte_serialize(self.sign_octets(&octets).await?.as_bytes()).collect();
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{separator}{octets}&Signature={signature}"))
    }
}
