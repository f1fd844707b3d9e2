//! Single logout from the server (SAML Profiles §4.4.3.5 over the SOAP binding, Bindings §3.2):
//! when a session ends with no browser to carry front-channel messages (an administrator, a
//! suspension, a password change elsewhere, a revoked certificate) or an SP registered only a
//! SOAP endpoint, each SAML SP the session signed in to that registered a SOAP single logout
//! service is sent Pintu's signed LogoutRequest from the server and answers with a
//! LogoutResponse in the same exchange. The notices are the back-channel logout queue's
//! (`logout_deliveries`, queued by `Store::end_session` for OIDC clients and SAML SPs alike);
//! this module delivers the SAML ones, retried like the OpenID Connect ones.

use super::request::{RequestError, child, document};
use super::response::SUCCESS;
use super::sso::session_index_of;
use super::{SamlError, SamlIdp};
use crate::domain::ApplicationId;
use crate::storage::{LogoutNotice, StorageError};

/// Largest SOAP answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why a LogoutRequest was not confirmed.
#[derive(Debug, thiserror::Error)]
enum NotDelivered {
    #[error("the SP answered {0}")]
    Status(u16),
    #[error("{0}")]
    Unreachable(String),
    #[error("the SP's answer is not a SOAP LogoutResponse to this request: {0}")]
    Answer(String),
    #[error("the SP answered the logout with {0}")]
    Refused(String),
    #[error("the LogoutRequest cannot be signed: {0}")]
    Signing(#[from] SamlError),
}

impl SamlIdp {
    /// Delivers the SOAP LogoutRequests due now; returns how many SPs confirmed theirs.
    pub async fn deliver_logouts(&self) -> usize {
        let deliveries = self.store.logout_deliveries();
        deliveries.drain("saml", || self.clock.now(), |notice| async move { self.deliver(&notice).await }).await
    }

    /// One notice: sent and confirmed, dropped (no SOAP endpoint, no NameID), or put back.
    async fn deliver(&self, notice: &LogoutNotice) -> Result<bool, StorageError> {
        let deliveries = self.store.logout_deliveries();
        // A database error is returned, so the notice waits for its hold to end: never dropped.
        let app = self.store.applications().find(&ApplicationId::new(&notice.client_id)).await?;
        let sp = app.as_ref().filter(|a| !a.disabled).and_then(|a| a.saml());
        let Some((sp, url)) = sp.and_then(|sp| sp.slo_soap_url.clone().map(|url| (sp, url))) else {
            deliveries.settle(&notice.id, "none").await?;
            return Ok(false);
        };
        let participants = self.store.saml_participants().of_session(&notice.session_id).await?;
        let Some(participant) = participants.into_iter().find(|p| p.application_id == notice.client_id) else {
            deliveries.settle(&notice.id, "none").await?;
            return Ok(false);
        };
        let name_id = (participant.name_id.as_str(), participant.name_id_format.as_str());
        let request = self.logout_request_xml(&url, &sp.entity_id, name_id, &session_index_of(&notice.session_id));
        match self.exchange(&url, &request).await {
            Ok(()) => {
                deliveries.settle(&notice.id, "sent").await?;
                Ok(true)
            }
            Err(why) => {
                let next = notice.retry_at(self.clock.now());
                let reason = why.to_string();
                tracing::warn!(sp = %sp.entity_id, reason = %reason, retry = next.is_some(), "SAML SOAP logout not delivered");
                deliveries.failed(&notice.id, &reason, next).await?;
                Ok(false)
            }
        }
    }

    /// Signs `request`, posts it in a SOAP envelope to `url`, and reads the answer: a
    /// LogoutResponse to this request with status Success (Core §3.7.3.2).
    async fn exchange(&self, url: &str, (request_id, request): &(String, String)) -> Result<(), NotDelivered> {
        // saml-rs signs the element as given (no XML declaration): it goes into the Body as is.
        let signed = self.sign(request, true).await?;
        let envelope = format!(
            "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soap-env:Body>{signed}</soap-env:Body></soap-env:Envelope>"
        );
        let config = self.sp.fetch_config();
        let (status, body) = crate::keys::post_published_soap(url, config, envelope, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| NotDelivered::Unreachable(e.to_string()))?;
        if status != 200 {
            return Err(NotDelivered::Status(status));
        }
        let body = String::from_utf8(body).map_err(|_| NotDelivered::Answer("not UTF-8".into()))?;
        let answer = |e: RequestError| NotDelivered::Answer(e.to_string());
        let envelope = document(&body).map_err(answer)?;
        let response = child(&envelope, "Body")
            .and_then(|b| child(b, "LogoutResponse"))
            .ok_or_else(|| NotDelivered::Answer("no LogoutResponse in the SOAP Body".into()))?;
        if response.attr("InResponseTo") != Some(request_id.as_str()) {
            return Err(NotDelivered::Answer("InResponseTo names another request".into()));
        }
        let status = child(response, "Status").and_then(|s| child(s, "StatusCode")).and_then(|c| c.attr("Value"));
        match status {
            Some(SUCCESS) => Ok(()),
            other => Err(NotDelivered::Refused(other.unwrap_or("no status").to_owned())),
        }
    }
}
