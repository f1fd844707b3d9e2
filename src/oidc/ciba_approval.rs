//! The person's side of CIBA: the requests waiting for them (shown on their account page) and
//! their decision. Approving reaches the level the application (and any signing) needs: level 4
//! through the CA's signing service with the passphrase typed on the page, the same passphrase
//! then unlocking the signature.

use crate::domain::{SecurityLevel, User};
use crate::signing::{Approval, Channel, SigningError};
use crate::sso::{Attempt, SignInError, SignInProblem};

use super::authorize::level::required_level;
use super::ciba::PendingApproval;
use super::{OAuthError, OidcService};

/// What approving carries besides the request and the session.
struct Approving<'a> {
    client: &'a crate::domain::RelyingParty,
    details: Option<&'a [crate::signing::Detail]>,
    passphrase: Option<&'a str>,
    source_ip: Option<&'a str>,
}

/// Why a decision could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("sign in first")]
    SignInFirst,
    /// Decided already, expired, or not this person's.
    #[error("the request is no longer waiting")]
    Gone,
    /// The session is below the level needed and cannot be raised here.
    #[error("level {0:?} is needed")]
    NeedsLevel(SecurityLevel),
    /// A passphrase or signature refused: the page again, saying why (under the session's new
    /// cookie when the step-up before the refusal raised it).
    #[error("refused: {0:?}")]
    Refused(SignInProblem, Option<String>),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

impl From<crate::storage::StorageError> for ApprovalError {
    fn from(e: crate::storage::StorageError) -> Self {
        ApprovalError::OAuth(e.into())
    }
}

impl OidcService {
    /// The CIBA requests waiting for the person of this session, oldest first.
    pub async fn pending_approvals(&self, session_cookie: Option<&str>) -> Result<Vec<PendingApproval>, ApprovalError> {
        let (_, user) = self.find_session(session_cookie).await?.ok_or(ApprovalError::SignInFirst)?;
        let rows = self.store.signing().pending_ciba(user.id.as_str(), self.now()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let client_name = match self.client(&row.client_id).await? {
                Some(client) if !client.disabled => client.display_name().to_owned(),
                _ => continue,
            };
            out.push(PendingApproval {
                id: row.id,
                client_name,
                binding_message: row.binding_message,
                scopes: row.scope.split(' ').map(str::to_owned).collect(),
                authorization_details: row.details.as_deref().and_then(|d| serde_json::from_str(d).ok()),
                expires_at: row.expires_at,
            });
        }
        Ok(out)
    }

    /// The person approves or declines request `id`. Returns the session's new cookie when
    /// approving raised it.
    pub async fn decide_approval(
        &self,
        session_cookie: Option<&str>,
        id: &str,
        approve: bool,
        passphrase: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<Option<String>, ApprovalError> {
        let (session, user) = self.find_session(session_cookie).await?.ok_or(ApprovalError::SignInFirst)?;
        let now = self.now();
        let row = self.store.signing().ciba_of_user(id, user.id.as_str()).await?;
        let row = row.filter(|r| r.status == "pending" && r.expires_at > now).ok_or(ApprovalError::Gone)?;
        let client = match self.client(&row.client_id).await? {
            Some(client) if !client.disabled => client,
            _ => return Err(ApprovalError::Gone),
        };
        let allowed = &client.metadata.authorization_details_types;
        let details = match &row.details {
            Some(text) => Some(self.signing.parse(text, allowed).map_err(|_| ApprovalError::Gone)?),
            None => None,
        };
        let store = self.store.signing();
        // Claimed first: one decision at a time, and none once the request expired.
        if !store.claim_ciba(id, user.id.as_str(), now).await? {
            return Err(ApprovalError::Gone);
        }
        let decided = match approve {
            false => self.decline_claimed(&client, &user, &row, details.as_deref()).await,
            true => {
                let approving = Approving { client: &client, details: details.as_deref(), passphrase, source_ip };
                self.approve_claimed(approving, (session, user), &row).await
            }
        };
        match decided {
            Ok(cookie) => {
                self.ping(&client, &row);
                Ok(cookie)
            }
            Err(e) => {
                store.release_ciba(id).await?;
                Err(e)
            }
        }
    }

    async fn decline_claimed(
        &self,
        client: &crate::domain::RelyingParty,
        user: &User,
        row: &crate::storage::CibaRow,
        details: Option<&[crate::signing::Detail]>,
    ) -> Result<Option<String>, ApprovalError> {
        if !self.store.signing().decide_ciba(&row.id, "denied", None, None, self.now()).await? {
            return Err(ApprovalError::Gone);
        }
        if let Some(details) = details {
            self.signing.decline(&client.client_id, user, details, Channel::Ciba).await?;
        }
        Ok(None)
    }

    /// Raises the session to the level needed (level 4 through the signing service), signs
    /// what the request carries, and records the approval. The new cookie when raised.
    async fn approve_claimed(
        &self,
        a: Approving<'_>,
        (mut session, mut user): (crate::domain::SsoSession, User),
        row: &crate::storage::CibaRow,
    ) -> Result<Option<String>, ApprovalError> {
        let client = a.client;
        let need = self.approval_level(client, &user, row.acr_values.as_deref(), a.details.is_some()).await?;
        let mut cookie = None;
        if session.authn.level < need {
            let remote = need == SecurityLevel::Certificate && self.certificates.remote_available();
            let Some(passphrase) = a.passphrase.filter(|p| remote && !p.is_empty()) else {
                return Err(ApprovalError::NeedsLevel(need));
            };
            let at = Attempt { client: Some(&client.client_id), source_ip: a.source_ip };
            let raised = self.sign_in.step_up_with_remote_certificate(at, (session, user), passphrase).await;
            let done = raised.map_err(|e| match e.into_problem() {
                Ok(problem) => ApprovalError::Refused(problem, None),
                Err(SignInError::Expired) => ApprovalError::Gone,
                Err(other) => ApprovalError::OAuth(OAuthError::server(other)),
            })?;
            (session, user, cookie) = (done.session, done.user, Some(done.cookie));
        }
        let mut transaction = None;
        if let Some(details) = a.details {
            let approval = Approval {
                client: &client.client_id,
                user: &user,
                authn: &session.authn,
                details,
                passphrase: a.passphrase.unwrap_or(""),
                channel: Channel::Ciba,
                source_ip: a.source_ip,
            };
            let problem = match self.signing.approve(approval).await {
                Ok(approved) => {
                    transaction = Some(approved.transaction_id);
                    None
                }
                Err(SigningError::Refused) => Some(SignInProblem::Certificate("remote_refused")),
                Err(SigningError::Throttled { until }) => Some(SignInProblem::Throttled { until }),
                Err(SigningError::Failed(code)) => Some(SignInProblem::Signing(code)),
                Err(SigningError::Storage(e)) => return Err(e.into()),
            };
            if let Some(problem) = problem {
                return Err(ApprovalError::Refused(problem, cookie));
            }
        }
        let authn = serde_json::to_string(&session.authn).map_err(OAuthError::server)?;
        let approval = Some((session.id.as_str(), authn.as_str()));
        let store = self.store.signing();
        if !store.decide_ciba(&row.id, "approved", approval, transaction.as_deref(), self.now()).await? {
            return Err(ApprovalError::Gone);
        }
        Ok(cookie)
    }

    /// The level approving needs: the application's and the person's, what the request asked
    /// (`acr_values`), and level 4 for signing.
    async fn approval_level(
        &self,
        client: &crate::domain::RelyingParty,
        user: &User,
        acr_values: Option<&str>,
        signing: bool,
    ) -> Result<SecurityLevel, OAuthError> {
        let personal = self.directory.person_required_level(user).await?;
        let need = required_level(client.profile.min_level.max(personal), acr_values, None).level;
        let need = if signing { need.max(SecurityLevel::Certificate) } else { need };
        if need > user.profile.level_ceiling {
            return Err(OAuthError::access_denied("this request needs a higher level than the account can reach"));
        }
        Ok(need)
    }

    /// CIBA Core §10.2: tells a ping-mode client its request was decided.
    fn ping(&self, client: &crate::domain::RelyingParty, row: &crate::storage::CibaRow) {
        let (Some(endpoint), Some(token)) =
            (client.metadata.backchannel_client_notification_endpoint.clone(), row.notification_token.clone())
        else {
            return;
        };
        if row.mode != "ping" {
            return;
        }
        match self.auth_req_id(&row.id) {
            Ok(auth_req_id) => {
                let config = self.applications.fetch_config().clone();
                super::ciba_ping::send(endpoint, token, auth_req_id, config)
            }
            Err(e) => tracing::error!(error = %e, "cannot name the CIBA request for its ping"),
        }
    }
}
