//! Single Logout (SAML Profiles §4.4): an SP's signed LogoutRequest (HTTP-Redirect or
//! HTTP-POST) ends the person's SSO session, which queues the back-channel notices of the
//! OpenID Connect applications it reached (`Store::end_session`); the other SAML SPs of the
//! session get Pintu's signed LogoutRequests through the browser (front-channel, Profiles
//! §4.4.3.3) unless they registered a SOAP endpoint (`soap_logout`: told from the server), and
//! the SP that asked gets a signed LogoutResponse. An SP's LogoutResponse to
//! one of Pintu's requests needs nothing more. Which SPs a session reached, and the NameID
//! each knows the person by, is recorded as each assertion is issued.

use super::logout_messages::{parse_logout_request, parse_logout_response, root_name};
use super::request::{Received, has_enveloped_signature, verify_posted, verify_redirect};
use super::response::{REQUESTER, SUCCESS};
use super::sso::{ISSUE_INSTANT_WINDOW, Refused, invalid, session_index};
use super::{SamlError, SamlIdp};
use crate::audit::AuditEvent;
use crate::domain::{ClientId, SessionId, SsoSession};
use crate::storage::SamlParticipant;

/// What the browser is shown after a LogoutRequest.
#[derive(Debug)]
pub enum SloOutcome {
    /// The session (`ended`, if there was one to end) is over: the other SPs are told through
    /// `front_channel` (signed Redirect URLs, loaded by the logout page), then the browser is
    /// sent to `answer` (the signed LogoutResponse to the SP that asked).
    LoggedOut { ended: Option<SessionId>, front_channel: Vec<String>, answer: String },
    /// An SP answered one of Pintu's LogoutRequests.
    Acknowledged,
}

impl SamlIdp {
    /// A message received at `/saml/slo`.
    pub async fn single_logout(&self, received: Received, session_cookie: Option<&str>) -> Result<SloOutcome, Refused> {
        if root_name(&received.xml)? == "LogoutResponse" {
            let (issuer, status) = parse_logout_response(&received.xml)?;
            tracing::info!(sp = %issuer, status = %status, "a SAML service provider answered a logout request");
            return Ok(SloOutcome::Acknowledged);
        }
        let request = parse_logout_request(&received.xml)?;
        let app = self.sp.service_provider(&request.issuer).await.map_err(SamlError::from)?;
        let app = app.ok_or_else(|| Refused::UnknownSp(request.issuer.clone()))?;
        let sp = app.saml().ok_or_else(|| Refused::UnknownSp(request.issuer.clone()))?;
        let slo = sp.slo_url.clone().ok_or_else(|| invalid("the SP registered no single logout URL"))?;
        if sp.certificates.is_empty() {
            return Err(invalid("the SP has no registered certificate to check its logout request with"));
        }
        // Profiles §4.4.4.1: the request MUST be signed; POSTed, only the signed element counts.
        let request = match &received.redirect_signature {
            Some(signature) => {
                verify_redirect(signature, &sp.certificates)?;
                request
            }
            None if has_enveloped_signature(&received.xml) => {
                let signed = parse_logout_request(&verify_posted(&received.xml, &sp.certificates, "LogoutRequest")?)?;
                if signed.issuer != sp.entity_id {
                    return Err(invalid("the signed request names another issuer"));
                }
                signed
            }
            None => return Err(invalid("a LogoutRequest must be signed")),
        };
        // Bindings §3.4.5.2, §3.5.5.2: a signed message names where it was sent.
        if request.destination.as_deref() != Some(self.slo_url().as_str()) {
            return Err(invalid("the request is not addressed to this endpoint (Destination)"));
        }
        let now = self.clock.now();
        if (request.issue_instant - now).abs() > ISSUE_INSTANT_WINDOW {
            return Err(invalid("IssueInstant is too far from Pintu's clock"));
        }
        if request.not_on_or_after.is_some_and(|t| t <= now) {
            return Err(invalid("the request expired (NotOnOrAfter)"));
        }
        let remembered = uuid::Uuid::new_v4().simple().to_string();
        self.remember(&remembered, &app, &request.id, "", now).await?;

        let mut ended = None;
        let mut front_channel = Vec::new();
        let mut status = SUCCESS;
        // Core §3.7.3.2: a browser with no session is already logged out: success.
        if let Some((session, user)) = self.sessions.find(session_cookie).await.map_err(SamlError::from)? {
            let participants = self.store.saml_participants().of_session(session.id.as_str()).await;
            let participants = participants.map_err(SamlError::from)?;
            let named =
                participants.iter().any(|p| p.application_id == app.id.as_str() && p.name_id == request.name_id);
            let index = session_index(&session);
            if named && (request.session_indexes.is_empty() || request.session_indexes.contains(&index)) {
                // The SP that asked is answered here, not told again from the server.
                let own = self.store.saml_participants().forget(session.id.as_str(), app.id.as_str()).await;
                own.map_err(SamlError::from)?;
                self.sessions.end(&session.id).await.map_err(SamlError::from)?;
                let client = ClientId::new(app.id.as_str());
                self.audit.record_or_log(AuditEvent::logged_out(&user, Some(&client))).await;
                let others = participants.iter().filter(|p| p.application_id != app.id.as_str());
                front_channel = self.logout_requests(others, &index).await?;
                ended = Some(session.id);
            } else {
                // Core §3.7.3.2 / §3.2.2.2: the SP named a person or session this browser's is not.
                status = REQUESTER;
            }
        }
        let xml = self.logout_response_xml(&slo, &request.id, status);
        let answer = self.signed_redirect(&slo, "SAMLResponse", &xml, received.relay_state.as_deref()).await?;
        Ok(SloOutcome::LoggedOut { ended, front_channel, answer })
    }

    /// Front-channel LogoutRequests for the SAML SPs of a session another route ended (an OIDC
    /// logout, the account page): signed Redirect URLs for the logout page to load.
    pub async fn front_channel_logouts(&self, session: &SsoSession) -> Result<Vec<String>, SamlError> {
        let participants = self.store.saml_participants().of_session(session.id.as_str()).await?;
        self.logout_requests(participants.iter(), &session_index(session)).await
    }

    async fn logout_requests<'a>(
        &self,
        participants: impl Iterator<Item = &'a SamlParticipant>,
        index: &str,
    ) -> Result<Vec<String>, SamlError> {
        let mut urls = Vec::new();
        for p in participants {
            let Some(app) = self.sp.application(&p.application_id).await? else { continue };
            let Some(sp) = app.saml() else { continue };
            // An SP with a SOAP endpoint is told from the server (`soap_logout`), not here.
            let Some(slo) = sp.slo_url.as_ref().filter(|_| sp.slo_soap_url.is_none()) else { continue };
            let (_, xml) = self.logout_request_xml(slo, &sp.entity_id, (&p.name_id, &p.name_id_format), index);
            urls.push(self.signed_redirect(slo, "SAMLRequest", &xml, None).await?);
        }
        Ok(urls)
    }

    /// Remembers that `session` signed in to the SP `application_id` as `name_id`.
    pub(super) async fn record_participant(&self, session: &SsoSession, application_id: &str, name_id: (&str, &str)) {
        let p = SamlParticipant {
            application_id: application_id.to_owned(),
            name_id: name_id.0.to_owned(),
            name_id_format: name_id.1.to_owned(),
        };
        if let Err(e) = self.store.saml_participants().record(session.id.as_str(), &p, self.clock.now()).await {
            tracing::error!(error = %e, "a SAML session participant cannot be recorded; single logout will miss it");
        }
    }
}
