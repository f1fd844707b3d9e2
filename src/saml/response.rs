//! The `<Response>` Pintu sends to a service provider's assertion consumer service (SAML Core
//! §3.3.3, §2.3.3; Profiles §4.1.4.2): one bearer `<Assertion>` with the subject's NameID,
//! `SubjectConfirmationData` bound to the request (`InResponseTo`, `Recipient`,
//! `NotOnOrAfter`), `Conditions` with the SP as the only audience, an `AuthnStatement` (the
//! session's instant, its `SessionIndex`, the level's class) and the released attributes.
//! Pintu writes the XML with every value escaped; the assertion (and, when the SP asks, the
//! response) is signed by saml-rs with the current key: RSA-SHA256, exclusive C14N.

use super::metadata::escape;
use super::{SamlError, SamlIdp};

/// The signature algorithm of everything Pintu signs.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// How long an assertion may be presented (seconds), and the skew allowed before it.
pub const ASSERTION_LIFETIME: i64 = 300;
pub const CLOCK_SKEW: i64 = 60;

/// SAML Core §3.2.2.2.
pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
pub const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
pub const AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
pub const INVALID_NAME_ID_POLICY: &str = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";

/// One attribute (SAML Core §2.7.3.1), named with the `uri` name format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub friendly_name: String,
    pub values: Vec<String>,
}

/// What the assertion states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub name_id_format: String,
    pub name_id: String,
    pub session_index: String,
    /// Unix seconds: when the person authenticated.
    pub authn_instant: i64,
    pub class_ref: String,
    pub attributes: Vec<Attribute>,
}

/// Where the response goes and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    /// The registered ACS URL the browser posts to.
    pub acs: String,
    /// The SP's entity ID: the audience.
    pub audience: String,
    /// The AuthnRequest's ID (`None` for IdP-initiated SSO).
    pub in_response_to: Option<String>,
}

/// `YYYY-MM-DDTHH:MM:SSZ` (SAML Core §1.3.3: UTC, no fractional seconds needed).
pub fn format_instant(t: i64) -> String {
    let d = crate::domain::nip::Date::from_unix(t);
    let s = t.rem_euclid(86_400);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, s / 3600, s % 3600 / 60, s % 60)
}

/// An xs:ID: `_` and 32 random hex digits.
pub(super) fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

fn attributes_xml(attributes: &[Attribute]) -> String {
    if attributes.is_empty() {
        return String::new();
    }
    let mut xml = String::from("<saml:AttributeStatement>");
    for a in attributes {
        xml.push_str(&format!(
            "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" FriendlyName=\"{}\">",
            escape(&a.name),
            escape(&a.friendly_name)
        ));
        for v in &a.values {
            xml.push_str(&format!("<saml:AttributeValue xsi:type=\"xs:string\">{}</saml:AttributeValue>", escape(v)));
        }
        xml.push_str("</saml:Attribute>");
    }
    xml.push_str("</saml:AttributeStatement>");
    xml
}

impl SamlIdp {
    fn response_open(&self, to: &Addressed, now: i64) -> String {
        let in_response_to = to.in_response_to.as_deref().map(|id| format!(" InResponseTo=\"{}\"", escape(id)));
        format!(
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" \
             Destination=\"{}\"{}><saml:Issuer>{}</saml:Issuer>",
            new_id(),
            format_instant(now),
            escape(&to.acs),
            in_response_to.unwrap_or_default(),
            escape(&self.entity_id())
        )
    }

    /// A signed success response carrying one signed assertion.
    pub async fn success(
        &self,
        to: &Addressed,
        statement: &Statement,
        sign_response: bool,
    ) -> Result<String, SamlError> {
        let now = self.clock.now();
        let until = format_instant(now + ASSERTION_LIFETIME);
        let in_response_to = to.in_response_to.as_deref().map(|id| format!(" InResponseTo=\"{}\"", escape(id)));
        let assertion = format!(
            "<saml:Assertion xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\">\
             <saml:Issuer>{issuer}</saml:Issuer>\
             <saml:Subject><saml:NameID Format=\"{format}\" SPNameQualifier=\"{audience}\">{name_id}</saml:NameID>\
             <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
             <saml:SubjectConfirmationData{in_response_to} NotOnOrAfter=\"{until}\" Recipient=\"{acs}\"/>\
             </saml:SubjectConfirmation></saml:Subject>\
             <saml:Conditions NotBefore=\"{from}\" NotOnOrAfter=\"{until}\">\
             <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
             <saml:AuthnStatement AuthnInstant=\"{authn}\" SessionIndex=\"{session}\">\
             <saml:AuthnContext><saml:AuthnContextClassRef>{class}</saml:AuthnContextClassRef></saml:AuthnContext>\
             </saml:AuthnStatement>{attributes}</saml:Assertion>",
            id = new_id(),
            now = format_instant(now),
            issuer = escape(&self.entity_id()),
            format = escape(&statement.name_id_format),
            audience = escape(&to.audience),
            name_id = escape(&statement.name_id),
            in_response_to = in_response_to.unwrap_or_default(),
            until = until,
            acs = escape(&to.acs),
            from = format_instant(now - CLOCK_SKEW),
            authn = format_instant(statement.authn_instant),
            session = escape(&statement.session_index),
            class = escape(&statement.class_ref),
            attributes = attributes_xml(&statement.attributes),
        );
        let xml = format!(
            "{}<samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status>{assertion}</samlp:Response>",
            self.response_open(to, now)
        );
        let signed = self.sign(&xml, false).await?;
        if sign_response { self.sign(&signed, true).await } else { Ok(signed) }
    }

    /// A signed error response (no assertion): `status`, and a second-level code under it.
    pub async fn failure(&self, to: &Addressed, status: &str, detail: Option<&str>) -> Result<String, SamlError> {
        let now = self.clock.now();
        let code = match detail {
            Some(second) => format!(
                "<samlp:StatusCode Value=\"{}\"><samlp:StatusCode Value=\"{}\"/></samlp:StatusCode>",
                escape(status),
                escape(second)
            ),
            None => format!("<samlp:StatusCode Value=\"{}\"/>", escape(status)),
        };
        let xml = format!("{}<samlp:Status>{code}</samlp:Status></samlp:Response>", self.response_open(to, now));
        self.sign(&xml, true).await
    }

    /// The current signing key, parsed once and kept `KEY_CACHE_SECS` (see `SamlIdp::key_cache`).
    pub(super) async fn current_key(&self) -> Result<super::SigningKey, SamlError> {
        let now = self.clock.now();
        if let Ok(cache) = self.key_cache.lock()
            && let Some((read_at, key)) = cache.as_ref()
            && now - read_at < super::KEY_CACHE_SECS
            && *read_at <= now
        {
            return Ok(key.clone());
        }
        let keys = self.keys().await?;
        let current =
            keys.iter().find(|k| k.state == "current").ok_or_else(|| SamlError::Key("no current key".into()))?;
        let pem =
            current.private_pkcs8_pem.as_ref().ok_or_else(|| SamlError::Key("the current key is not open".into()))?;
        let key = super::SigningKey::parse(pem, &current.certificate_pem)?;
        if let Ok(mut cache) = self.key_cache.lock() {
            *cache = Some((now, key.clone()));
        }
        Ok(key)
    }

    /// Forgets the cached signing key (after a rotation here).
    pub(super) fn forget_key(&self) {
        if let Ok(mut cache) = self.key_cache.lock() {
            *cache = None;
        }
    }

    /// Signs the document (`whole`) or its assertion with the current key.
    pub(super) async fn sign(&self, xml: &str, whole: bool) -> Result<String, SamlError> {
        let target = if whole { super::Signed::Document } else { super::Signed::Assertion };
        self.current_key().await?.sign(xml, target)
    }

    /// Signs the octets of an HTTP-Redirect message (Bindings §3.4.4.1) with the current key,
    /// RSA-SHA256; the signature in base64.
    pub(super) async fn sign_octets(&self, octets: &str) -> Result<String, SamlError> {
        self.current_key().await?.sign(octets, super::Signed::Octets)
    }
}

#[cfg(test)]
mod tests {
    use super::format_instant;

    #[test]
    fn instants_are_written_in_utc() {
        assert_eq!(format_instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_instant(1_796_465_953), "2026-12-05T10:19:13Z");
        assert_eq!(super::super::request::parse_instant(&format_instant(1_796_465_953)), Some(1_796_465_953));
    }
}
