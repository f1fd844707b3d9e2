//! The attributes of an assertion (SAML Core §2.7.3), named as service providers expect: the
//! `urn:oid:` names of the LDAP attribute types (RFC 4519, inetOrgPerson RFC 2798) with the
//! SAML V2.0 X.500/LDAP Attribute Profile's `NameFormat` `uri`, and the types' names as friendly
//! names. The directory's own (NIP, OPD, jabatan, golongan, roles, employment type, NIK) have
//! no LDAP type: Pintu's URNs, with the OIDC claim names as friendly names. Account attributes
//! go to every SP, as OIDC's `profile` and `email` scopes would; the directory's only where the
//! application's profile releases them, exactly as for an OIDC application.

use serde_json::Value;

use super::response::Attribute;
use super::{SamlError, SamlIdp};
use crate::domain::{Application, ClientId, User};

/// (friendly name, name) of the account attributes.
const UID: (&str, &str) = ("uid", "urn:oid:0.9.2342.19200300.100.1.1");
const MAIL: (&str, &str) = ("mail", "urn:oid:0.9.2342.19200300.100.1.3");
const DISPLAY_NAME: (&str, &str) = ("displayName", "urn:oid:2.16.840.1.113730.3.1.241");
const GIVEN_NAME: (&str, &str) = ("givenName", "urn:oid:2.5.4.42");
const SN: (&str, &str) = ("sn", "urn:oid:2.5.4.4");
/// The unit's name beside the `opd` code: organizationalUnitName.
const OU: (&str, &str) = ("ou", "urn:oid:2.5.4.11");

/// The URN of a directory claim as an attribute.
pub fn directory_attribute(claim: &str) -> String {
    format!("urn:pintu:attribute:{claim}")
}

fn attribute((friendly, name): (&str, &str), values: Vec<String>) -> Attribute {
    Attribute { name: name.to_owned(), friendly_name: friendly.to_owned(), values }
}

impl SamlIdp {
    /// What the assertion for `user` states about them to `app`.
    pub(super) async fn attributes(&self, app: &Application, user: &User) -> Result<Vec<Attribute>, SamlError> {
        let mut out = vec![attribute(UID, vec![user.username.clone()])];
        for (which, value) in
            [(MAIL, &user.email), (DISPLAY_NAME, &user.name), (GIVEN_NAME, &user.given_name), (SN, &user.family_name)]
        {
            if let Some(value) = value {
                out.push(attribute(which, vec![value.clone()]));
            }
        }
        let client = ClientId::new(app.id.as_str());
        for (claim, value) in self.directory.released(&app.profile, &client, user, None).await? {
            let values = match (claim.as_str(), value) {
                // The OIDC claim is {code, name}: the code under `opd`, the name as `ou`.
                ("opd", Value::Object(unit)) => {
                    if let Some(Value::String(name)) = unit.get("name") {
                        out.push(attribute(OU, vec![name.clone()]));
                    }
                    unit.get("code").and_then(Value::as_str).map(|c| vec![c.to_owned()]).unwrap_or_default()
                }
                (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                (_, Value::String(s)) => vec![s],
                (_, other) => vec![other.to_string()],
            };
            // An attribute with no value says nothing (a person without roles): left out.
            if !values.is_empty() {
                out.push(Attribute { name: directory_attribute(&claim), friendly_name: claim, values });
            }
        }
        Ok(out)
    }
}
