//! Answering a checked AuthnRequest (or an IdP-initiated sign-in) from the browser's session:
//! the assertion, an error status, or the sign-in first. The request's row (`saml_requests`,
//! its ID remembered against replay until it expires) is written once per step: a request
//! answered at once is stored already answered, before anything is signed, so a replayed ID
//! never gets an assertion.

use super::response::{
    AUTHN_FAILED, Addressed, INVALID_NAME_ID_POLICY, NO_AUTHN_CONTEXT, NO_PASSIVE, REQUESTER, RESPONDER, Statement,
};
use super::sso::{Outcome, Pending, Refused, class_of, invalid, session_index};
use super::{SamlError, SamlIdp};
use crate::audit::AuditEvent;
use crate::directory::AccessDecision;
use crate::domain::{Application, ClientId, SecurityLevel, User};

/// Whether the request's row exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kept {
    /// Received just now: not stored (the answer stores it).
    NotYet,
    /// Stored, waiting for the sign-in (`/saml/resume`).
    Waiting,
}

impl SamlIdp {
    /// Stores the request as answered: its ID stays remembered against replay. Refused when
    /// the ID was seen before.
    async fn settle(&self, pending_id: &str, app: &Application, pending: &Pending, kept: Kept) -> Result<(), Refused> {
        match kept {
            Kept::NotYet => self.remember(pending_id, app, &pending.request_id, "", self.clock.now()).await,
            Kept::Waiting => Ok(self.store.saml_requests().answered(pending_id).await.map_err(SamlError::from)?),
        }
    }

    /// Keeps the request waiting for the sign-in, which `/saml/resume` hands back.
    async fn wait(
        &self,
        pending_id: &str,
        app: &Application,
        pending: &Pending,
        kept: Kept,
    ) -> Result<Outcome, Refused> {
        let json = serde_json::to_string(pending).map_err(|e| invalid(e.to_string()))?;
        match kept {
            Kept::NotYet => self.remember(pending_id, app, &pending.request_id, &json, self.clock.now()).await?,
            Kept::Waiting => {
                self.store.saml_requests().replace_pending(pending_id, &json).await.map_err(SamlError::from)?
            }
        }
        Ok(Outcome::SignIn { pending: pending_id.to_owned() })
    }

    pub(super) async fn answer(
        &self,
        pending_id: &str,
        app: &Application,
        mut pending: Pending,
        session_cookie: Option<&str>,
        kept: Kept,
    ) -> Result<Outcome, Refused> {
        let sp = app.saml().ok_or(Refused::Expired)?;
        let to = Addressed {
            acs: pending.acs.clone(),
            audience: sp.entity_id.clone(),
            in_response_to: (!pending.unsolicited).then(|| pending.request_id.clone()),
        };
        let post = |xml: String| Outcome::Post {
            acs: pending.acs.clone(),
            response: Self::base64(&xml),
            relay_state: pending.relay_state.clone(),
        };
        let session = self.sessions.find(session_cookie).await.map_err(SamlError::from)?;
        // Core §3.4.1 ForceAuthn: only an authentication made after the request counts.
        let session = session.filter(|(s, _)| !pending.force_authn || s.authn.auth_time >= pending.received_at);
        let Some((session, user)) = session else {
            // Core §3.4.1 IsPassive: Pintu may not take over the browser to sign the person in.
            let status = match (pending.is_passive, kept) {
                (true, _) => NO_PASSIVE,
                (false, Kept::Waiting) => AUTHN_FAILED,
                (false, Kept::NotYet) => {
                    // The sign-in aims at the request's level already: not asked again for it.
                    let asked = Pending { asked: pending.level, ..pending.clone() };
                    return self.wait(pending_id, app, &asked, kept).await;
                }
            };
            self.settle(pending_id, app, &pending, kept).await?;
            return Ok(post(self.failure(&to, RESPONDER, Some(status)).await?));
        };
        let person_level = self.directory.person_required_level(&user).await.map_err(|e| invalid(e.to_string()))?;
        let needed = crate::domain::security_level::from_number(pending.level)
            .unwrap_or(SecurityLevel::Password)
            .max(person_level);
        let reached = session.authn.level;
        let fits = if pending.exact { reached == needed } else { reached >= needed };
        // A step-up, asked of the sign-in once per level: what the person cannot reach comes
        // back unchanged, and is refused below.
        if !fits && reached < needed && !pending.is_passive && pending.asked < needed as u8 {
            pending.asked = needed as u8;
            return self.wait(pending_id, app, &pending, kept).await;
        }
        self.settle(pending_id, app, &pending, kept).await?;
        if !fits {
            // Core §3.4.1.4: never a weaker assertion; IsPassive: no step-up either.
            let status = if pending.is_passive && reached < needed { NO_PASSIVE } else { NO_AUTHN_CONTEXT };
            return Ok(post(self.failure(&to, RESPONDER, Some(status)).await?));
        }
        if self.directory.access_for_profile(&app.profile, &user).await.map_err(|e| invalid(e.to_string()))?
            != AccessDecision::Allowed
        {
            return Ok(post(
                self.failure(&to, RESPONDER, Some("urn:oasis:names:tc:SAML:2.0:status:RequestDenied")).await?,
            ));
        }
        let name_id = match self.name_id(&pending.name_id_format, &sp.entity_id, &user).await? {
            Some(name_id) => name_id,
            None => return Ok(post(self.failure(&to, REQUESTER, Some(INVALID_NAME_ID_POLICY)).await?)),
        };
        let statement = Statement {
            name_id_format: pending.name_id_format.clone(),
            name_id,
            session_index: session_index(&session),
            authn_instant: session.authn.auth_time,
            class_ref: class_of(reached).to_owned(),
            attributes: self.attributes(app, &user).await?,
        };
        let xml = self.success(&to, &statement, sp.sign_response).await?;
        self.record_participant(&session, app.id.as_str(), (&statement.name_id, &statement.name_id_format)).await;
        let client = ClientId::new(app.id.as_str());
        let event = AuditEvent::token_issued(Some(&user.id), &client, "saml-web-sso", class_of(reached));
        self.audit.record_or_log(event).await;
        Ok(post(xml))
    }
    /// The person's NameID in `format` for the SP; `None` when they have none in it.
    async fn name_id(&self, format: &str, sp: &str, user: &User) -> Result<Option<String>, Refused> {
        Ok(match format {
            "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" => {
                Some(self.persistent_name_id(sp, user.id.as_str()).await?)
            }
            "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" => {
                Some(format!("_{}", uuid::Uuid::new_v4().simple()))
            }
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" => user.email.clone(),
            _ => Some(user.username.clone()),
        })
    }
}
