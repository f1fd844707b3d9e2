//! RP-Initiated Logout 1.0: end the SSO session and, when the request proves which
//! application asked, return to a registered `post_logout_redirect_uri` with `state`.

use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;

use super::interaction::InteractionError;
use super::{OAuthError, OidcService, Params};
use crate::sso::{InteractionKind, PendingRequest};

/// Where to go after logout, validated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogoutTarget {
    /// The registered URI with `state` already appended.
    pub redirect: Option<String>,
    pub client_name: Option<String>,
    pub ui_locales: Option<String>,
}

/// Either done (session ended, where to go) or the person must confirm.
#[derive(Debug, Clone)]
pub enum LogoutOutcome {
    Done(LogoutTarget),
    Confirm { id: String, csrf_token: String, target: LogoutTarget },
}

impl OidcService {
    /// Handles `/oauth2/logout`. Errors are shown as pages: nothing is redirected before the
    /// target is verified.
    pub async fn logout(&self, params: &Params, session_cookie: Option<&str>) -> Result<LogoutOutcome, OAuthError> {
        let hint = params.get("id_token_hint").map(|t| self.id_token_hint_subject(t)).transpose()?;
        let client_id = match (params.get("client_id"), &hint) {
            (Some(id), Some((_, aud, _))) if !aud.iter().any(|a| a == id) => {
                return Err(OAuthError::invalid_request("client_id does not match id_token_hint"));
            }
            (Some(id), _) => Some(id.to_owned()),
            (None, Some((_, aud, _))) => aud.first().cloned(),
            (None, None) => None,
        };
        let target = self.logout_target(params, client_id.as_deref()).await?;
        let Some((session, user)) = self.find_session(session_cookie).await? else {
            return Ok(LogoutOutcome::Done(target));
        };
        // The hint proves the application speaks for this very session: no need to ask.
        let hint_matches = hint.as_ref().is_some_and(|(sub, _, sid)| {
            sub == session.user_id.as_str() && sid.as_deref().is_none_or(|s| s == session.id.as_str())
        });
        if hint_matches {
            self.sessions.end(&session.id).await?;
            let client = client_id.map(crate::domain::ClientId::new);
            self.audit.record_or_log(AuditEvent::logged_out(&user, client.as_ref())).await;
            return Ok(LogoutOutcome::Done(target));
        }
        let payload = PendingRequest::OidcLogout(serde_json::to_value(&target).map_err(OAuthError::server)?);
        let (id, csrf_token) = self.start_interaction(InteractionKind::Logout, &payload, Some(&session.id)).await?;
        Ok(LogoutOutcome::Confirm { id, csrf_token, target })
    }

    async fn logout_target(&self, params: &Params, client_id: Option<&str>) -> Result<LogoutTarget, OAuthError> {
        let ui_locales = params.get("ui_locales").map(str::to_owned);
        let client = match client_id {
            Some(id) => self.client(id).await?.filter(|c| !c.disabled),
            None => None,
        };
        let client_name = client.as_ref().map(|c| c.display_name().to_owned());
        let Some(uri) = params.get("post_logout_redirect_uri") else {
            return Ok(LogoutTarget { redirect: None, client_name, ui_locales });
        };
        let Some(client) = client else {
            return Err(OAuthError::invalid_request("post_logout_redirect_uri needs id_token_hint or client_id"));
        };
        if !client.metadata.post_logout_redirect_uris.iter().any(|r| r == uri) {
            return Err(OAuthError::invalid_request("post_logout_redirect_uri is not registered for this application"));
        }
        let redirect = match params.get("state") {
            Some(state) => with_query(uri, &[("state", state)]),
            None => uri.to_owned(),
        };
        Ok(LogoutTarget { redirect: Some(redirect), client_name, ui_locales })
    }

    /// The person confirmed logout on Pintu's page.
    pub async fn confirm_logout(
        &self,
        id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
    ) -> Result<LogoutTarget, InteractionError> {
        let interaction = self.load_interaction(id, InteractionKind::Logout, csrf).await?;
        self.interactions.finish(id).await?;
        let PendingRequest::OidcLogout(target) = interaction.request else { return Err(InteractionError::Expired) };
        let target: LogoutTarget =
            serde_json::from_value(target).map_err(|e| InteractionError::OAuth(OAuthError::server(e)))?;
        if let Some((session, user)) = self.find_session(session_cookie).await? {
            self.sessions.end(&session.id).await?;
            self.audit.record_or_log(AuditEvent::logged_out(&user, None)).await;
        }
        Ok(target)
    }
}

/// Appends query parameters to a URI that may already have a query.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let encoded: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{encoded}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_appended_to_an_existing_query() {
        assert_eq!(with_query("https://a.go.id/out?x=1", &[("state", "a b")]), "https://a.go.id/out?x=1&state=a+b");
        assert_eq!(with_query("https://a.go.id/out", &[("state", "s")]), "https://a.go.id/out?state=s");
    }
}
