//! The identity provider's metadata (SAML Metadata 2.0, §2.4.3 `IDPSSODescriptor`): the entity
//! ID, a signing `KeyDescriptor` for the current key and for a next one (published before it
//! signs, so that SPs that cache the metadata have it when it does), single logout and single
//! sign-on over HTTP-Redirect and HTTP-POST, and the NameID formats Pintu issues. Elements are
//! in the schema's order; every value is escaped. The document is signed with the current key
//! (Metadata §3: an enveloped signature over the `EntityDescriptor`, its first child), so an SP
//! that fetches it can check it against the certificate it already trusts.

use super::{SamlError, SamlIdp};

pub use crate::domain::saml::NAME_ID_FORMATS;

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = crate::domain::saml::HTTP_POST;
/// Stands for the document's ID until its digest is known.
const ID_PLACEHOLDER: &str = "_id";

/// XML text and attribute escaping (XML 1.0 §2.4, §3.3.3).
pub(super) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl SamlIdp {
    /// The metadata document (generating the first key if needed).
    pub async fn metadata(&self) -> Result<String, SamlError> {
        let keys = self.keys().await?;
        let mut xml = String::with_capacity(4096);
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" ID=\"{ID_PLACEHOLDER}\" entityID=\"{}\">\n",
            escape(&self.entity_id())
        ));
        xml.push_str(
            "  <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             WantAuthnRequestsSigned=\"false\">\n",
        );
        for key in &keys {
            xml.push_str(&format!(
                "    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:KeyName>{}</ds:KeyName><ds:X509Data>\
                 <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n",
                escape(&key.id),
                escape(&key.certificate_base64)
            ));
        }
        let slo = escape(&self.slo_url());
        for binding in [REDIRECT, POST] {
            xml.push_str(&format!("    <md:SingleLogoutService Binding=\"{binding}\" Location=\"{slo}\"/>\n"));
        }
        for format in NAME_ID_FORMATS {
            xml.push_str(&format!("    <md:NameIDFormat>{format}</md:NameIDFormat>\n"));
        }
        let sso = escape(&self.sso_url());
        for binding in [REDIRECT, POST] {
            xml.push_str(&format!("    <md:SingleSignOnService Binding=\"{binding}\" Location=\"{sso}\"/>\n"));
        }
        xml.push_str("  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n");
        // The ID is the content's digest, so the same metadata is the same document (RSA
        // PKCS#1 v1.5 signatures are deterministic): caches and SPs see no change until one.
        let xml = xml.replacen(ID_PLACEHOLDER, &super::keys::digest_id(&xml), 1);
        self.current_key().await?.sign(&xml, super::Signed::Metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("https://sso.example.go.id/saml/metadata"), "https://sso.example.go.id/saml/metadata");
    }
}
