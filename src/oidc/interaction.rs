//! Pending browser interactions: the hand-off from the protocol core to the login and consent
//! pages (as node-oidc-provider and Hydra do), and back.

use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use crate::domain::{GrantId, SessionId};
use crate::storage::Interaction;

use super::authorize::ValidRequest;
use super::{OAuthError, OidcService, random_token, secure_eq, token_hash};

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
}

/// Why an interaction cannot continue. Rendered as a page, never redirected.
#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    #[error("the interaction expired or does not exist")]
    Expired,
    #[error("the form's CSRF token does not match")]
    Csrf,
    /// Wrong login or password: show the login page again with a message.
    #[error("invalid credentials")]
    InvalidCredentials(Box<PendingInteraction>),
    /// Too many failures for this name or address: show the login page again, saying so,
    /// until `until` (unix seconds).
    #[error("too many failed attempts")]
    Throttled { pending: Box<PendingInteraction>, until: i64 },
    /// A wrong, reused or malformed second-factor code: ask again.
    #[error("invalid second factor")]
    InvalidSecondFactor(Box<PendingInteraction>),
    /// A passkey answer refused: show the page again, saying why.
    #[error("passkey refused: {problem}")]
    Passkey { pending: Box<PendingInteraction>, problem: crate::authn::webauthn::PasskeyProblem },
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

impl From<crate::storage::StorageError> for InteractionError {
    fn from(e: crate::storage::StorageError) -> Self {
        InteractionError::OAuth(e.into())
    }
}

/// An authorization interaction at its login step. Each later step has its own kind, so a
/// form of one step can never be posted to another's endpoint (a second-factor page's token
/// cannot complete consent).
pub(crate) const KIND_AUTHORIZE: &str = "authorize";
pub(crate) const KIND_SECOND_FACTOR: &str = "authorize-second-factor";
pub(crate) const KIND_CONSENT: &str = "authorize-consent";
pub(crate) const KIND_LOGOUT: &str = "logout";

impl OidcService {
    /// Stores a pending interaction and returns its id and the CSRF token for the form.
    pub(crate) async fn start_interaction(
        &self,
        kind: &str,
        payload: String,
        session: Option<&SessionId>,
    ) -> Result<(String, String), OAuthError> {
        let now = self.now();
        let id = random_token();
        let csrf = random_token();
        let interaction = Interaction {
            id: id.clone(),
            kind: kind.to_owned(),
            csrf_hash: token_hash(&csrf),
            payload,
            session_id: session.cloned(),
            created_at: now,
            expires_at: now + self.config.interaction_ttl,
        };
        self.store.interactions().insert(&interaction).await?;
        Ok((id, csrf))
    }

    /// Loads an interaction of `kind` and checks the form's CSRF token in constant time.
    pub(crate) async fn load_interaction(
        &self,
        id: &str,
        kind: &str,
        csrf: &str,
    ) -> Result<Interaction, InteractionError> {
        // An authorization interaction is finished once its grant exists (finishing writes the
        // grant, not a deletion): the lookup itself refuses it, so a resubmitted form never
        // authenticates again (a session, an audit event, a renewed cookie) before finding out.
        let authorizes = [KIND_AUTHORIZE, KIND_SECOND_FACTOR, KIND_CONSENT].contains(&kind);
        let finished_by = authorizes.then(|| grant_of(id));
        let found = self.store.interactions().find(id, self.now(), finished_by.as_ref()).await?;
        let interaction = found.ok_or(InteractionError::Expired)?;
        if interaction.kind != kind {
            return Err(InteractionError::Expired);
        }
        if !secure_eq(&interaction.csrf_hash, &token_hash(csrf)) {
            return Err(InteractionError::Csrf);
        }
        Ok(interaction)
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
            scopes: req.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            passkey_login: self.authn.passkeys_available(),
        }
    }
}

/// The id of the grant an authorization interaction ends in, fixed by the interaction: the
/// grant is written once, so finishing an interaction twice issues one code. A one-way
/// derivation, so the grant id (which applications see in access tokens) does not reveal the
/// interaction's.
pub(crate) fn grant_of(interaction_id: &str) -> GrantId {
    let digest = Sha256::digest(format!("pintu grant of interaction {interaction_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    GrantId::new(uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
}

pub(crate) fn request_of(interaction: &Interaction) -> Result<ValidRequest, InteractionError> {
    serde_json::from_str(&interaction.payload).map_err(|e| InteractionError::OAuth(OAuthError::server(e)))
}
