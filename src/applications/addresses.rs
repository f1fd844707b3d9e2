//! Where an OpenID Connect application lives, as an administrator changes it: its name, redirect
//! URIs, post-logout redirect URIs and home page. The rest of the registration stays as the
//! application registered it; the whole of it is validated again exactly as a registration is
//! (RFC 7591 §2), so an administrator cannot store what the application could not.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::directory::{Actor, check_version};
use crate::domain::{ApplicationId, ClientMetadata, Registration};

use super::{ApplicationError, ApplicationRecord, ApplicationService, ChangedBy, RawMetadata, validate_metadata};

/// The fields an administrator may change; an absent field keeps its value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPatch {
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// The home page the portal links to; empty removes it.
    #[serde(default)]
    pub client_uri: Option<String>,
}

/// Registered metadata as RFC 7591 §3.2.1 represents it: the language-tagged forms back at
/// the top level (`client_name#en`), ready to be read again as `RawMetadata`.
pub fn metadata_document(metadata: &ClientMetadata) -> Value {
    let mut value = serde_json::to_value(metadata).unwrap_or_else(|_| json!({}));
    if let Some(obj) = value.as_object_mut() {
        obj.remove("localized");
        for (key, text) in &metadata.localized {
            obj.insert(key.clone(), json!(text));
        }
    }
    value
}

impl ApplicationService {
    /// Changes an OIDC application's name and addresses if `expected_version` is current.
    pub async fn update_addresses(
        &self,
        actor: &Actor,
        id: &ApplicationId,
        patch: &AddressPatch,
        expected_version: Option<i64>,
    ) -> Result<ApplicationRecord, ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        check_version(expected_version, app.profile.version)?;
        let Registration::Oidc(oidc) = &app.registration else { return Err(ApplicationError::NotOidc) };
        let mut document = metadata_document(&oidc.metadata);
        if let Some(obj) = document.as_object_mut() {
            let trimmed = |v: &str| v.trim().to_owned();
            if let Some(name) = &patch.client_name {
                obj.insert("client_name".into(), json!(trimmed(name)));
            }
            if let Some(uris) = &patch.redirect_uris {
                obj.insert("redirect_uris".into(), json!(uris.iter().map(|u| trimmed(u)).collect::<Vec<_>>()));
            }
            if let Some(uris) = &patch.post_logout_redirect_uris {
                let uris: Vec<String> = uris.iter().map(|u| trimmed(u)).collect();
                obj.insert("post_logout_redirect_uris".into(), json!(uris));
            }
            match patch.client_uri.as_deref().map(str::trim) {
                Some("") => drop(obj.remove("client_uri")),
                Some(uri) => drop(obj.insert("client_uri".into(), json!(uri))),
                None => {}
            }
        }
        let raw: RawMetadata = serde_json::from_value(document)
            .map_err(|e| ApplicationError::invalid_metadata(format!("metadata cannot be read back: {e}")))?;
        let metadata = validate_metadata(raw)?;
        self.update_oidc_metadata(id, metadata, ChangedBy::Admin(actor)).await?;
        self.get(actor, id).await
    }
}
