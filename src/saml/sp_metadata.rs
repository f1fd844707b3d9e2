//! Registering a service provider from its SAML metadata (SAML Metadata §2.3.2, §2.4.4): the
//! entity ID, the HTTP-POST assertion consumer services with their indexes, the single logout
//! service, the signing certificates, whether it signs its requests, and the NameID formats it
//! names that Pintu issues. Read with saml-rs's parser (no DTD, size and depth limits), from a
//! document the office uploads or from the SP's URL, fetched behind the same fences as a
//! `jwks_uri`. The registration then passes the same checks as one written by hand. A
//! signature on the metadata is not relied on: the office vouches for the document it imports.

use saml_rs::xml::dom::{Node, XmlLimits, parse_with_limits};

use super::SamlIdp;
use super::request::parse_instant;
use crate::domain::saml::{AcsEndpoint, HTTP_POST, NAME_ID_FORMATS, SamlRegistration};

/// Largest metadata document read (a few certificates and endpoints fit many times over).
pub const MAX_METADATA_BYTES: usize = 256 * 1024;
const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// SAML Bindings §3.2.
const SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";

/// Where the metadata comes from.
#[derive(Debug, Clone)]
pub enum MetadataSource {
    Document(String),
    Url(String),
}

/// What the office decides beside the metadata.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportChoices {
    pub sign_response: bool,
    pub idp_initiated: bool,
}

/// Why metadata could not be read into a registration.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error("metadata_url: {0}")]
    Fetch(String),
}

/// Refused like any registration that breaks a rule (`invalid_client_metadata`, 400).
impl From<ImportError> for crate::applications::ApplicationError {
    fn from(e: ImportError) -> Self {
        crate::applications::ApplicationError::invalid_metadata(e.to_string())
    }
}

fn fetch_error(e: crate::keys::JwksUriError) -> ImportError {
    use crate::keys::JwksUriError as E;
    ImportError::Fetch(match e {
        E::Refused(why) => format!("not acceptable: {why}"),
        E::Unreachable(why) => format!("could not be fetched: {why}"),
        E::Timeout => "the fetch timed out".into(),
        E::TooLarge(limit) => format!("the document is larger than {limit} bytes"),
        other => other.to_string(),
    })
}

fn invalid(why: impl Into<String>) -> ImportError {
    ImportError::Invalid(why.into())
}

fn children<'a>(node: &'a Node, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
    node.children.iter().filter(move |c| c.local_name == name)
}

/// A certificate from `<ds:X509Certificate>` (base64 DER, line breaks allowed) as PEM.
fn pem_of(base64_der: &str) -> String {
    let compact: String = base64_der.chars().filter(|c| !c.is_whitespace()).collect();
    let lines: Vec<&str> =
        compact.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Reads `xml` (one EntityDescriptor, alone or as the only one in an EntitiesDescriptor) into a
/// registration, as of `now` (expired metadata is refused).
pub fn registration_from(xml: &str, choices: ImportChoices, now: i64) -> Result<SamlRegistration, ImportError> {
    let limits = XmlLimits { max_bytes: MAX_METADATA_BYTES, ..XmlLimits::default() };
    let document = parse_with_limits(xml, limits).map_err(|e| invalid(e.to_string()))?;
    let root = &document.root;
    let entity = match root.local_name.as_str() {
        "EntityDescriptor" => root,
        "EntitiesDescriptor" => {
            let mut entities = children(root, "EntityDescriptor");
            match (entities.next(), entities.next()) {
                (Some(entity), None) => entity,
                _ => return Err(invalid("an EntitiesDescriptor must hold exactly one EntityDescriptor to import")),
            }
        }
        other => return Err(invalid(format!("a {other} is not SAML metadata (EntityDescriptor)"))),
    };
    // Metadata §2.3.2: validUntil bounds the whole document, on the entity or around it.
    for node in [root, entity] {
        if let Some(until) = node.attr("validUntil") {
            let until = parse_instant(until).ok_or_else(|| invalid("validUntil is not a UTC time"))?;
            if until <= now {
                return Err(invalid("the metadata expired (validUntil)"));
            }
        }
    }
    let entity_id = entity.attr("entityID").ok_or_else(|| invalid("entityID is missing"))?.to_owned();
    let mut descriptors = children(entity, "SPSSODescriptor")
        .filter(|d| d.attr("protocolSupportEnumeration").is_some_and(|p| p.split_whitespace().any(|p| p == PROTOCOL)));
    let sp = match (descriptors.next(), descriptors.next()) {
        (Some(sp), None) => sp,
        (None, _) => return Err(invalid("no SPSSODescriptor for SAML 2.0")),
        _ => return Err(invalid("more than one SPSSODescriptor for SAML 2.0")),
    };
    let mut acs = Vec::new();
    for endpoint in children(sp, "AssertionConsumerService").filter(|e| e.attr("Binding") == Some(HTTP_POST)) {
        let location =
            endpoint.attr("Location").ok_or_else(|| invalid("an AssertionConsumerService has no Location"))?;
        let index = endpoint.attr("index").and_then(|i| i.parse::<u16>().ok());
        let index = index.ok_or_else(|| invalid("an AssertionConsumerService has no index 0-65535"))?;
        let is_default = matches!(endpoint.attr("isDefault"), Some("true" | "1"));
        acs.push(AcsEndpoint { location: location.to_owned(), index, is_default });
    }
    if acs.is_empty() {
        return Err(invalid(
            "no AssertionConsumerService with the HTTP-POST binding (the only one Pintu answers with)",
        ));
    }
    let slo = |binding: &str| {
        children(sp, "SingleLogoutService")
            .find(|e| e.attr("Binding") == Some(binding))
            .and_then(|e| e.attr("Location"))
    };
    let slo_url = slo(HTTP_REDIRECT).or_else(|| slo(HTTP_POST)).map(str::to_owned);
    // §2.4.1.1: a KeyDescriptor without `use` serves both signing and encryption.
    let mut certificates = Vec::new();
    for key in children(sp, "KeyDescriptor").filter(|k| k.attr("use").is_none_or(|u| u == "signing")) {
        for data in children(key, "KeyInfo").flat_map(|info| children(info, "X509Data")) {
            certificates.extend(children(data, "X509Certificate").map(|c| pem_of(&c.text)));
        }
    }
    // In the SP's order (the first is its default), each once wherever it repeats.
    let mut name_id_formats: Vec<String> = Vec::new();
    for format in children(sp, "NameIDFormat").map(|f| f.text.trim()) {
        if NAME_ID_FORMATS.contains(&format) && !name_id_formats.iter().any(|f| f == format) {
            name_id_formats.push(format.to_owned());
        }
    }
    let sign_requests = matches!(sp.attr("AuthnRequestsSigned"), Some("true" | "1"));
    Ok(SamlRegistration {
        entity_id,
        acs,
        slo_url,
        slo_soap_url: slo(SOAP).map(str::to_owned),
        certificates,
        sign_requests,
        sign_response: choices.sign_response,
        name_id_formats,
        idp_initiated: choices.idp_initiated,
    })
}

impl SamlIdp {
    /// The registration the metadata from `source` describes, with the office's `choices`.
    pub async fn import_metadata(
        &self,
        source: MetadataSource,
        choices: ImportChoices,
    ) -> Result<SamlRegistration, ImportError> {
        let xml = match source {
            MetadataSource::Document(xml) => xml,
            MetadataSource::Url(url) => {
                let accept = "application/samlmetadata+xml, application/xml, text/xml";
                let fetched = crate::keys::fetch_published(&url, self.sp.fetch_config(), accept, MAX_METADATA_BYTES);
                let bytes = fetched.await.map_err(fetch_error)?;
                String::from_utf8(bytes).map_err(|_| ImportError::Fetch("the document is not UTF-8".into()))?
            }
        };
        registration_from(&xml, choices, self.clock.now())
    }
}
