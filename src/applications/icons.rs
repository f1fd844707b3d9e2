//! Applications' icons on the portal. An administrator uploads a small raster image (PNG, JPEG
//! or WebP, recognised by its leading bytes, whatever name or type the upload claims); Pintu
//! keeps it and serves it itself, so the pages' Content-Security-Policy (images from Pintu
//! only) holds and no person's browser is sent to an application's server before they choose
//! to open it. SVG is refused: it can carry script.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{AdminChange, AuditEvent};
use crate::directory::Actor;
use crate::domain::ApplicationId;
use crate::storage::StoredIcon;

use super::{ApplicationError, ApplicationService, ChangedBy};

/// The largest icon accepted.
pub const MAX_ICON_BYTES: usize = 64 * 1024;

/// The media type of an image Pintu serves as an icon, from its first bytes.
pub fn icon_media_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

impl ApplicationService {
    /// Sets an application's icon (within the actor's reach).
    pub async fn set_icon(&self, actor: &Actor, id: &ApplicationId, bytes: &[u8]) -> Result<String, ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        if bytes.is_empty() || bytes.len() > MAX_ICON_BYTES {
            return Err(ApplicationError::invalid_metadata(format!(
                "an icon is 1 to {MAX_ICON_BYTES} bytes; this one is {}",
                bytes.len()
            )));
        }
        let content_type = icon_media_type(bytes)
            .ok_or_else(|| ApplicationError::invalid_metadata("an icon must be a PNG, JPEG or WebP image"))?;
        let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
        let icon = StoredIcon {
            content_type: content_type.to_owned(),
            data_base64: STANDARD.encode(bytes),
            digest: digest.clone(),
            updated_at: self.now(),
        };
        let mut tx = self.store.begin().await?;
        self.store.application_icons().set_in(&mut tx, app.id.as_str(), &icon).await?;
        let detail = json!({ "icon": digest, "content_type": content_type, "bytes": bytes.len() });
        self.audit.record_in(&mut tx, vec![icon_event(actor, &app, detail)]).await?;
        tx.commit().await?;
        Ok(digest)
    }

    /// Removes an application's icon; `NotFound` when it had none.
    pub async fn remove_icon(&self, actor: &Actor, id: &ApplicationId) -> Result<(), ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        let mut tx = self.store.begin().await?;
        if !self.store.application_icons().remove_in(&mut tx, app.id.as_str()).await? {
            return Err(ApplicationError::NotFound);
        }
        self.audit.record_in(&mut tx, vec![icon_event(actor, &app, json!({ "icon": null }))]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An application's icon as served: its media type, bytes and digest.
    pub async fn icon(&self, id: &str) -> Result<Option<(String, Vec<u8>, String)>, ApplicationError> {
        let Some(icon) = self.store.application_icons().find(id).await? else { return Ok(None) };
        let bytes = STANDARD
            .decode(icon.data_base64.as_bytes())
            .map_err(|e| ApplicationError::Storage(crate::storage::corrupt("application_icons", e)))?;
        Ok(Some((icon.content_type, bytes, icon.digest)))
    }
}

fn icon_event(actor: &Actor, app: &crate::domain::Application, detail: serde_json::Value) -> AuditEvent {
    let client = app.oidc().map(|o| o.client_id.clone());
    AuditEvent::admin(
        &actor.id,
        AdminChange::ApplicationUpdate,
        app.id.as_str(),
        app.profile.owner_unit_id.as_ref(),
        detail,
    )
    .with_client(client.as_ref())
    .from_ip(actor.source_ip.as_deref())
}

#[cfg(test)]
mod tests {
    use super::icon_media_type;

    #[test]
    fn icons_are_recognised_by_their_bytes_not_their_name() {
        assert_eq!(icon_media_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(icon_media_type(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(icon_media_type(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(icon_media_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>"), None);
        assert_eq!(icon_media_type(b"GIF89a"), None);
        assert_eq!(icon_media_type(b"\x89PN"), None);
        assert_eq!(icon_media_type(b"RIFF\x24\0\0\0WAVE"), None);
    }
}
