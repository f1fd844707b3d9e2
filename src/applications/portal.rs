//! The employees' portal: the applications a person may use, general (umum) first, then
//! special (khusus), each by name, with where to open it. An application appears when it is
//! enabled, has somewhere to open (an OIDC application's home page, `client_uri`, RFC 7591
//! §2; a SAML one's IdP-initiated sign-in, where its registration allows it) and its access
//! policy lets the person in.

use serde::Serialize;

use crate::directory::AccessDecision;
use crate::domain::{Category, User};

use super::{ApplicationError, ApplicationService};

/// One application on the portal.
#[derive(Debug, Clone, Serialize)]
pub struct PortalEntry {
    pub name: String,
    /// Its home page (the registered `client_uri`).
    pub url: String,
    /// umum or khusus.
    pub category: &'static str,
    /// The owning OPD's name, for special applications.
    pub owner: Option<String>,
    /// Where Pintu serves its icon (versioned by the image's digest), if it has one.
    pub icon: Option<String>,
}

impl ApplicationService {
    /// The applications `user` may open, general ones first, each group by name.
    pub async fn portal(&self, user: &User) -> Result<Vec<PortalEntry>, ApplicationError> {
        let units = self.store.org_units().list().await?;
        let icons: std::collections::HashMap<String, String> =
            self.store.application_icons().digests().await?.into_iter().collect();
        let mut entries = Vec::new();
        for app in self.store.applications().list().await? {
            // An OIDC application's home page; a SAML one through an IdP-initiated sign-in,
            // where its registration allows one.
            let url = match (app.oidc(), app.saml()) {
                (Some(oidc), _) => oidc.metadata.client_uri.clone(),
                (None, Some(sp)) if sp.idp_initiated => {
                    let query: String =
                        form_urlencoded::Serializer::new(String::new()).append_pair("sp", &sp.entity_id).finish();
                    Some(format!("/saml/init?{query}"))
                }
                _ => None,
            };
            let Some(url) = url else { continue };
            if app.disabled {
                continue;
            }
            if self.directory.access_for_profile(&app.profile, user).await? != AccessDecision::Allowed {
                continue;
            }
            let owner = app.profile.owner_unit_id.as_ref().and_then(|id| units.iter().find(|u| &u.id == id));
            entries.push(PortalEntry {
                name: app.name.clone(),
                url,
                category: app.profile.category.as_str(),
                owner: owner.map(|u| u.name.clone()),
                icon: icons.get(app.id.as_str()).map(|d| format!("/portal/icons/{}?v={d}", app.id)),
            });
        }
        entries.sort_by(|a, b| {
            (a.category != Category::Umum.as_str(), a.name.to_lowercase())
                .cmp(&(b.category != Category::Umum.as_str(), b.name.to_lowercase()))
        });
        Ok(entries)
    }
}
