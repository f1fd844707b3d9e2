//! A SAML 2.0 service provider's registration: where Pintu may send its assertions and what
//! the SP asked for. Checked here (pure rules); a certificate's content is checked by the
//! service that stores it.

use serde::{Deserialize, Serialize};

/// SAML Core §8.3: the NameID formats Pintu issues, the default (persistent) first.
pub const NAME_ID_FORMATS: [&str; 4] = [
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
];

/// SAML Bindings §3.5: Pintu answers with the HTTP-POST binding only.
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

const MAX_ACS: usize = 20;
const MAX_URI: usize = 1024;
const MAX_CERTIFICATES: usize = 4;

/// An assertion consumer service (SAML Metadata §2.2.3 `IndexedEndpointType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcsEndpoint {
    pub location: String,
    pub index: u16,
    #[serde(default)]
    pub is_default: bool,
}

/// What Pintu knows of a service provider. `Default` is the empty registration (no entity, no
/// ACS: it fails `check`), to fill in with `..Default::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlRegistration {
    pub entity_id: String,
    /// HTTP-POST endpoints; a request naming another (by URL or index) is refused.
    pub acs: Vec<AcsEndpoint>,
    /// Where its LogoutRequests and LogoutResponses go (HTTP-Redirect or POST).
    #[serde(default)]
    pub slo_url: Option<String>,
    /// Its single logout service over the SOAP binding (Bindings §3.2): where Pintu's server
    /// tells it of a session that ended (by an administrator, or by any logout), instead of
    /// the browser.
    #[serde(default)]
    pub slo_soap_url: Option<String>,
    /// The SP's signing certificates (PEM), for its requests' signatures.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Its AuthnRequests must be signed (a certificate is then required).
    #[serde(default)]
    pub sign_requests: bool,
    /// The Response is signed too, not only the Assertion.
    #[serde(default)]
    pub sign_response: bool,
    /// The NameID formats it may receive; the first is its default. Empty: persistent only.
    #[serde(default)]
    pub name_id_formats: Vec<String>,
    /// Pintu may start a sign-in to it without a request (IdP-initiated SSO).
    #[serde(default)]
    pub idp_initiated: bool,
}

/// An https URL (plain http only to this machine), without a fragment or credentials.
fn check_url(field: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_URI || value.chars().any(char::is_control) {
        return Err(format!("{field}: at most {MAX_URI} printable characters"));
    }
    let url = url::Url::parse(value).map_err(|e| format!("{field}: not a URL ({e})"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{field}: must be https (http only to localhost)")),
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{field}: no fragment or credentials"));
    }
    Ok(())
}

impl SamlRegistration {
    /// The rules every registration follows; the reason for the first one broken.
    pub fn check(&self) -> Result<(), String> {
        let entity = &self.entity_id;
        if entity.is_empty() || entity.len() > MAX_URI || entity.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!("entity_id: 1 to {MAX_URI} characters, no spaces"));
        }
        // SAML Core §8.3.6: an entity identifier is a URI.
        url::Url::parse(entity).map_err(|_| "entity_id: must be an absolute URI".to_owned())?;
        if self.acs.is_empty() || self.acs.len() > MAX_ACS {
            return Err(format!("acs: 1 to {MAX_ACS} assertion consumer services"));
        }
        for acs in &self.acs {
            check_url("acs.location", &acs.location)?;
        }
        let mut indexes: Vec<u16> = self.acs.iter().map(|a| a.index).collect();
        indexes.sort_unstable();
        indexes.dedup();
        if indexes.len() != self.acs.len() {
            return Err("acs: every index must be different".into());
        }
        if self.acs.iter().filter(|a| a.is_default).count() > 1 {
            return Err("acs: at most one default".into());
        }
        if let Some(slo) = &self.slo_url {
            check_url("slo_url", slo)?;
        }
        if let Some(slo) = &self.slo_soap_url {
            check_url("slo_soap_url", slo)?;
        }
        if self.certificates.len() > MAX_CERTIFICATES {
            return Err(format!("certificates: at most {MAX_CERTIFICATES}"));
        }
        if self.sign_requests && self.certificates.is_empty() {
            return Err("certificates: signed requests need the SP's signing certificate".into());
        }
        if let Some(format) = self.name_id_formats.iter().find(|f| !NAME_ID_FORMATS.contains(&f.as_str())) {
            return Err(format!("name_id_formats: {format} is not one Pintu issues"));
        }
        Ok(())
    }

    /// The assertion consumer service a request asks for: by URL (exact match), by index, or
    /// the default (the one marked so, else the lowest index). `None`: not registered.
    pub fn acs_for(&self, url: Option<&str>, index: Option<u16>) -> Option<&AcsEndpoint> {
        match (url, index) {
            (Some(url), None) => self.acs.iter().find(|a| a.location == url),
            (None, Some(index)) => self.acs.iter().find(|a| a.index == index),
            (None, None) => self.acs.iter().find(|a| a.is_default).or_else(|| self.acs.iter().min_by_key(|a| a.index)),
            // SAML Core §3.4.1: the two are mutually exclusive.
            (Some(_), Some(_)) => None,
        }
    }

    /// The NameID format it gets when it asks for none.
    pub fn default_name_id_format(&self) -> &str {
        self.name_id_formats.first().map(String::as_str).unwrap_or(NAME_ID_FORMATS[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> SamlRegistration {
        SamlRegistration {
            entity_id: "https://eoffice.example.go.id/saml".into(),
            acs: vec![
                AcsEndpoint { location: "https://eoffice.example.go.id/acs".into(), index: 1, is_default: false },
                AcsEndpoint { location: "https://eoffice.example.go.id/acs2".into(), index: 0, is_default: false },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_registration_follows_the_rules() {
        assert_eq!(sp().check(), Ok(()));
        let broken = |change: fn(&mut SamlRegistration)| {
            let mut s = sp();
            change(&mut s);
            s.check().unwrap_err()
        };
        assert!(broken(|s| s.entity_id = "not a uri".into()).starts_with("entity_id"));
        assert!(broken(|s| s.acs.clear()).starts_with("acs"));
        assert!(broken(|s| s.acs[0].location = "http://eoffice.example.go.id/acs".into()).contains("https"));
        assert!(broken(|s| s.acs[0].location = "https://eoffice.example.go.id/acs#x".into()).contains("fragment"));
        assert!(broken(|s| s.acs[1].index = 1).contains("index"));
        assert!(broken(|s| s.sign_requests = true).starts_with("certificates"));
        assert!(broken(|s| s.name_id_formats = vec!["urn:x".into()]).starts_with("name_id_formats"));
        let mut local = sp();
        local.acs[0].location = "http://127.0.0.1:8080/acs".into();
        assert_eq!(local.check(), Ok(()), "plain http to this machine");
    }

    #[test]
    fn the_acs_is_found_by_url_index_or_default() {
        let s = sp();
        assert_eq!(s.acs_for(Some("https://eoffice.example.go.id/acs"), None).map(|a| a.index), Some(1));
        assert_eq!(s.acs_for(Some("https://eoffice.example.go.id/acs/"), None), None, "exact match only");
        assert_eq!(s.acs_for(None, Some(0)).map(|a| a.index), Some(0));
        assert_eq!(s.acs_for(None, Some(7)), None);
        assert_eq!(s.acs_for(None, None).map(|a| a.index), Some(0), "the lowest index");
        assert_eq!(s.acs_for(Some("https://eoffice.example.go.id/acs"), Some(1)), None);
        assert_eq!(s.default_name_id_format(), NAME_ID_FORMATS[0]);
    }
}
