//! Rotating the identity provider's signing key with an overlap. SPs copy the IdP's
//! certificate from its metadata, often by hand, so a new key is published first (`next`, in
//! the metadata beside the current one) and signs only when an operator runs the rotation
//! again, once the SPs have it; the old key is then retired and leaves the metadata.

use serde::Serialize;
use serde_json::json;

use super::keys::fingerprint;
use super::{SamlError, SamlIdp};
use crate::audit::{AdminChange, AuditEvent};
use crate::domain::ActorId;

/// A key as operators see it.
#[derive(Debug, Clone, Serialize)]
pub struct SamlKeyInfo {
    pub id: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    pub sha256_fingerprint: String,
    pub not_after: i64,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// What a rotation step did.
#[derive(Debug, Clone, Serialize)]
pub struct SamlRotation {
    /// `published`: a next key is in the metadata; `promoted`: it signs now.
    pub step: &'static str,
    pub key: String,
    pub sha256_fingerprint: String,
}

impl SamlIdp {
    /// Every key, retired ones included (a first key is made when there is none).
    pub async fn list_keys(&self) -> Result<Vec<SamlKeyInfo>, SamlError> {
        self.keys().await?;
        let rows = self.store.saml_keys().all().await?;
        rows.into_iter()
            .map(|r| {
                Ok(SamlKeyInfo {
                    sha256_fingerprint: fingerprint(&r.certificate_pem)?,
                    id: r.id,
                    state: r.state,
                    not_after: r.not_after,
                    created_at: r.created_at,
                    retired_at: r.retired_at,
                })
            })
            .collect()
    }

    /// One step of a rotation: publishes a next key, or, when one is published, makes it the
    /// signing key and retires the current one. Audited as `actor`'s.
    pub async fn rotate(&self, actor: &ActorId) -> Result<SamlRotation, SamlError> {
        self.keys().await?;
        let published = self.store.saml_keys().published().await?;
        let (step, key) = match published.iter().find(|k| k.state == "next") {
            Some(next) => {
                self.store.saml_keys().promote_next(self.clock.now()).await?;
                // Only now: a signature made before the promotion must not cache the old key.
                self.forget_key();
                ("promoted", next.clone())
            }
            None => {
                let id = self.generate_key("next").await?;
                let rows = self.store.saml_keys().published().await?;
                let next = rows.into_iter().find(|k| k.state == "next" && id.as_ref().is_none_or(|id| &k.id == id));
                ("published", next.ok_or_else(|| SamlError::Key("the next key was not stored".into()))?)
            }
        };
        let detail = json!({ "kind": "saml", "step": step, "key": key.id });
        let event = AuditEvent::admin(actor, AdminChange::KeyRotate, &key.id, None, detail);
        self.audit.record(event).await.map_err(|e| SamlError::Key(format!("cannot audit the rotation: {e}")))?;
        Ok(SamlRotation { step, sha256_fingerprint: fingerprint(&key.certificate_pem)?, key: key.id })
    }
}
