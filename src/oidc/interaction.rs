//! The OIDC side of pending interactions (`sso::interaction` keeps them): what the login and
//! consent pages are shown (as node-oidc-provider and Hydra hand off), and the errors that
//! send a person back to a page.

use serde::{Deserialize, Serialize};

use crate::domain::SessionId;
use crate::sso::interaction::LoadedInteraction;
use crate::sso::{FormToken, InteractionKind, PendingRequest, SsoError};

use super::authorize::ValidRequest;
use super::{OAuthError, OidcService};

pub(crate) use crate::sso::interaction::grant_of;

/// Which page the person must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionStage {
    Login,
    /// The session must step up: ask for the missing factor only.
    SecondFactor(StepUpMethods),
    Consent,
}

/// What a step-up page offers: a TOTP or recovery code (when that reaches the level needed),
/// a passkey (when the person has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepUpMethods {
    pub code: bool,
    pub passkey: bool,
    /// A bound electronic certificate (level 4): the only method offered for level 4.
    #[serde(default)]
    pub certificate: bool,
}

/// What the web layer needs to render a login or consent page. `csrf_token` goes into the
/// form; only its hash is stored.
#[derive(Debug, Clone)]
pub struct PendingInteraction {
    pub id: String,
    pub csrf_token: String,
    pub stage: InteractionStage,
    pub client_name: String,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// Scopes the consent page must list.
    pub scopes: Vec<String>,
    /// The login page offers passkeys (the server can do WebAuthn).
    pub passkey_login: bool,
    /// What the consent page asks the person to approve and sign (RFC 9396), if anything.
    pub authorization_details: Option<serde_json::Value>,
}

/// Why an interaction cannot continue. Rendered as a page, never redirected.
#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    #[error("the interaction expired or does not exist")]
    Expired,
    #[error("the form's CSRF token does not match")]
    Csrf,
    /// A sign-in step refused (wrong password or code, a refused passkey, too many failures):
    /// show the page again, saying why.
    #[error("sign-in step refused: {problem:?}")]
    Refused { pending: Box<PendingInteraction>, problem: crate::sso::SignInProblem },
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

impl From<crate::storage::StorageError> for InteractionError {
    fn from(e: crate::storage::StorageError) -> Self {
        InteractionError::OAuth(e.into())
    }
}

impl From<SsoError> for InteractionError {
    fn from(e: SsoError) -> Self {
        match e {
            SsoError::Expired => InteractionError::Expired,
            SsoError::Csrf => InteractionError::Csrf,
            SsoError::Corrupt(cause) => InteractionError::OAuth(OAuthError::server(cause)),
            SsoError::Storage(cause) => InteractionError::OAuth(cause.into()),
        }
    }
}

impl OidcService {
    /// Stores a pending interaction and returns its id and the CSRF token for the form.
    pub(crate) async fn start_interaction(
        &self,
        kind: InteractionKind,
        request: &PendingRequest,
        session: Option<&SessionId>,
    ) -> Result<(String, String), OAuthError> {
        match self.interactions.start(kind, request, session).await {
            Ok(started) => Ok((started.id, started.csrf)),
            Err(SsoError::Storage(e)) => Err(e.into()),
            Err(e) => Err(OAuthError::server(e)),
        }
    }

    /// Loads an interaction of `kind` and checks the form's CSRF token in constant time.
    pub(crate) async fn load_interaction(
        &self,
        id: &str,
        kind: InteractionKind,
        csrf: &str,
    ) -> Result<LoadedInteraction, InteractionError> {
        Ok(self.interactions.load(FormToken { interaction: id, csrf }, kind).await?)
    }

    pub(crate) fn pending(
        &self,
        id: String,
        csrf_token: String,
        stage: InteractionStage,
        req: &ValidRequest,
        client_name: String,
    ) -> PendingInteraction {
        PendingInteraction {
            id,
            csrf_token,
            stage,
            client_name,
            login_hint: req.login_hint.clone(),
            ui_locales: req.ui_locales.clone(),
            scopes: req.scope.iter().map(str::to_owned).collect(),
            passkey_login: self.authn.passkeys_available(),
            authorization_details: req.authorization_details.clone(),
        }
    }
}

/// The OIDC authorization request an interaction carries.
pub(crate) fn request_of(interaction: &LoadedInteraction) -> Result<ValidRequest, InteractionError> {
    match &interaction.request {
        PendingRequest::Oidc(req) => Ok(req.as_ref().clone()),
        _ => Err(InteractionError::Expired),
    }
}
