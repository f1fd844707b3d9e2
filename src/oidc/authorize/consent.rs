//! The consent page's answer: scopes granted, or, for a request with authorization details,
//! the transaction approved and signed (RFC 9396) or declined.

use crate::domain::Scope;
use crate::signing::{Approval, Channel, SigningError};
use crate::sso::InteractionKind;

use super::{AuthorizationResponse, ErrorTarget};
use crate::oidc::interaction::{InteractionError, grant_of, request_of};
use crate::oidc::{InteractionStage, OAuthError, OidcService};

impl OidcService {
    /// Consent form submitted. `approve == false` answers the client with `access_denied`.
    /// A request carrying authorization details is signed here, with `passphrase` for the
    /// signing service; a refusal shows the page again.
    pub async fn submit_consent(
        &self,
        interaction_id: &str,
        csrf: &str,
        approve: bool,
        session_cookie: Option<&str>,
        passphrase: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<AuthorizationResponse, InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeConsent, csrf).await?;
        let req = request_of(&interaction)?;
        let (session, user) = self.find_session(session_cookie).await?.ok_or(InteractionError::Expired)?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        // The session must still meet the level (a second look, whatever led here).
        let client = self.client_of(&req).await?;
        if !matches!(self.check_level(&client, &req, &session, &user).await?, super::level::LevelCheck::Enough) {
            return Err(InteractionError::Expired);
        }
        let details = match &req.authorization_details {
            Some(json) => Some(
                self.signing
                    .parse(&json.to_string(), &client.metadata.authorization_details_types)
                    .map_err(|e| OAuthError::new(crate::oidc::ErrorCode::InvalidAuthorizationDetails, e.0))?,
            ),
            None => None,
        };
        if !approve {
            // Refusing deletes the interaction, so it answers the client once.
            if !self.interactions.finish(interaction_id).await? {
                return Err(InteractionError::Expired);
            }
            if let Some(details) = &details {
                self.signing.decline(&client.client_id, &user, details, Channel::Browser).await?;
            }
            let target = ErrorTarget {
                redirect_uri: req.redirect_uri.clone(),
                mode: req.response_mode,
                state: req.state.clone(),
            };
            return Ok(self.error_response(&target, &OAuthError::access_denied("the user denied the request")));
        }
        let granted = self.store.sessions().find_consent(&user.id, &req.client_id).await?;
        let granted = granted.map(|g| Scope::parse(&g).unwrap_or_default()).unwrap_or_default();
        let scope = granted.union(&req.scope);
        let mut transaction = None;
        if let Some(details) = &details {
            // The interaction is spent before the service is asked, so two submits (a double
            // click, the Back button) cannot sign twice; a refusal (a mistyped passphrase)
            // opens a new one for another try.
            if !self.interactions.finish(interaction_id).await? {
                return Err(InteractionError::Expired);
            }
            let approval = Approval {
                client: &client.client_id,
                user: &user,
                authn: &session.authn,
                details,
                passphrase: passphrase.unwrap_or(""),
                channel: Channel::Browser,
                source_ip,
            };
            match self.signing.approve(approval).await {
                Ok(approved) => transaction = Some(approved.transaction_id),
                Err(e) => {
                    let name = client.display_name().to_owned();
                    let payload = crate::sso::PendingRequest::Oidc(Box::new(req.clone()));
                    let kind = InteractionKind::AuthorizeConsent;
                    let (id, csrf) = self.start_interaction(kind, &payload, Some(&session.id)).await?;
                    let pending = self.pending(id, csrf, InteractionStage::Consent, &req, name);
                    let problem = match e {
                        SigningError::Refused => crate::sso::SignInProblem::Certificate("remote_refused"),
                        SigningError::Throttled { until } => crate::sso::SignInProblem::Throttled { until },
                        SigningError::Failed(code) => crate::sso::SignInProblem::Signing(code),
                        SigningError::Storage(e) => return Err(e.into()),
                    };
                    return Err(InteractionError::Refused { pending: Box::new(pending), problem });
                }
            }
        }
        self.store.sessions().save_consent(&user.id, &req.client_id, &scope.to_string(), self.now()).await?;
        // The interaction's grant id makes a double submit issue one code.
        let grant = grant_of(interaction_id);
        self.issue_code(&req, &session, &user, grant, transaction.as_deref()).await?.ok_or(InteractionError::Expired)
    }
}
