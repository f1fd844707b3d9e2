//! Pending interactions: a person's visit to Pintu's pages on behalf of a request that waits
//! (an OIDC authorization, a logout confirmation, an account action). Each has a typed kind
//! and a typed pending request; only the hash of its CSRF token is stored, and a form proves
//! the pair (interaction, CSRF token) before anything else is looked at.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::authn::secret::{random_token, secure_eq, token_hash};
use crate::clock::SharedClock;
use crate::domain::authorization::ValidRequest;
use crate::domain::{GrantId, SessionId};
use crate::storage::{Interaction, StorageError, Store};

/// Where an interaction stands. Each step of an authorization is its own kind, so a form of
/// one step can never be posted to another's endpoint (a second-factor page's token cannot
/// complete consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionKind {
    /// An authorization at its login step.
    AuthorizeLogin,
    AuthorizeSecondFactor,
    AuthorizeConsent,
    /// RP-initiated logout waiting for the person's confirmation.
    Logout,
    /// The account page's forms, and the TOTP enrolment's.
    Account,
    AccountTotp,
    /// Signing in to the account pages themselves (opened directly), and its second step.
    AccountLogin,
    AccountSecondFactor,
    /// Activating an account with a code (choosing the first password).
    Activation,
    /// Asking for a password-reset link by e-mail.
    PasswordReset,
}

impl InteractionKind {
    const ALL: [InteractionKind; 10] = [
        InteractionKind::AuthorizeLogin,
        InteractionKind::AuthorizeSecondFactor,
        InteractionKind::AuthorizeConsent,
        InteractionKind::Logout,
        InteractionKind::Account,
        InteractionKind::AccountTotp,
        InteractionKind::AccountLogin,
        InteractionKind::AccountSecondFactor,
        InteractionKind::Activation,
        InteractionKind::PasswordReset,
    ];

    /// The stored name (unchanged from the string constants earlier builds wrote).
    pub fn as_str(self) -> &'static str {
        match self {
            InteractionKind::AuthorizeLogin => "authorize",
            InteractionKind::AuthorizeSecondFactor => "authorize-second-factor",
            InteractionKind::AuthorizeConsent => "authorize-consent",
            InteractionKind::Logout => "logout",
            InteractionKind::Account => "account",
            InteractionKind::AccountTotp => "account-totp",
            InteractionKind::AccountLogin => "account-login",
            InteractionKind::AccountSecondFactor => "account-second-factor",
            InteractionKind::Activation => "activation",
            InteractionKind::PasswordReset => "password-reset",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// An authorization ends by writing its grant (`grant_of`), not by a deletion.
    pub fn ends_in_grant(self) -> bool {
        matches!(
            self,
            InteractionKind::AuthorizeLogin
                | InteractionKind::AuthorizeSecondFactor
                | InteractionKind::AuthorizeConsent
        )
    }
}

/// What waits while the person is on Pintu's pages; the protocol that started the interaction
/// resumes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "protocol", content = "request", rename_all = "snake_case")]
pub enum PendingRequest {
    /// An OpenID Connect authorization request.
    Oidc(Box<ValidRequest>),
    /// Where an OpenID Connect RP-initiated logout returns, as the OIDC core serialised it.
    OidcLogout(serde_json::Value),
    /// An account-page action: nothing waits but the page itself.
    Account,
    /// The account sign-in on behalf of a request that waits elsewhere (a SAML AuthnRequest,
    /// kept by the SAML side): it must reach `level` where the person's factors can.
    SignInFor { level: u8 },
}

/// An interaction's id with the CSRF token its form carries: the pair a form must present.
#[derive(Debug, Clone, Copy)]
pub struct FormToken<'a> {
    pub interaction: &'a str,
    pub csrf: &'a str,
}

/// A freshly started interaction: its id and the CSRF token for its form (shown once).
#[derive(Debug, Clone)]
pub struct StartedInteraction {
    pub id: String,
    pub csrf: String,
}

/// A loaded interaction whose form token checked out.
#[derive(Debug, Clone)]
pub struct LoadedInteraction {
    pub id: String,
    pub kind: InteractionKind,
    pub request: PendingRequest,
    /// Set once the person signed in during this interaction.
    pub session_id: Option<SessionId>,
}

/// Why an interaction cannot continue.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the interaction expired or does not exist")]
    Expired,
    #[error("the form's CSRF token does not match")]
    Csrf,
    #[error("a stored interaction cannot be read")]
    Corrupt(#[source] serde_json::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Starts, loads and advances interactions. Cheap to clone.
#[derive(Clone)]
pub struct Interactions {
    store: Store,
    clock: SharedClock,
    /// How long a person has to finish (seconds).
    ttl: i64,
}

impl Interactions {
    pub fn new(store: Store, clock: SharedClock, ttl: i64) -> Self {
        Self { store, clock, ttl }
    }

    /// How long a person has to finish an interaction (seconds): its browser binding lasts as long.
    pub fn ttl(&self) -> i64 {
        self.ttl
    }

    /// Stores a pending interaction of `kind` carrying `request`.
    pub async fn start(
        &self,
        kind: InteractionKind,
        request: &PendingRequest,
        session: Option<&SessionId>,
    ) -> Result<StartedInteraction, SsoError> {
        let now = self.clock.now();
        let (id, csrf) = (random_token(), random_token());
        let interaction = Interaction {
            id: id.clone(),
            kind: kind.as_str().to_owned(),
            csrf_hash: token_hash(&csrf),
            payload: serde_json::to_string(request).map_err(SsoError::Corrupt)?,
            session_id: session.cloned(),
            created_at: now,
            expires_at: now + self.ttl,
        };
        self.store.interactions().insert(&interaction).await?;
        Ok(StartedInteraction { id, csrf })
    }

    /// Loads an unexpired interaction of `kind` whose form token matches (in constant time).
    pub async fn load(&self, form: FormToken<'_>, kind: InteractionKind) -> Result<LoadedInteraction, SsoError> {
        // An authorization is finished once its grant exists: the lookup itself refuses it, so
        // a resubmitted form never authenticates again before finding out.
        let finished_by = kind.ends_in_grant().then(|| grant_of(form.interaction));
        let found = self.store.interactions().find(form.interaction, self.clock.now(), finished_by.as_ref()).await?;
        let stored = found.ok_or(SsoError::Expired)?;
        if InteractionKind::parse(&stored.kind) != Some(kind) {
            return Err(SsoError::Expired);
        }
        if !secure_eq(&stored.csrf_hash, &token_hash(form.csrf)) {
            return Err(SsoError::Csrf);
        }
        Ok(LoadedInteraction {
            request: decode(kind, &stored.payload)?,
            id: stored.id,
            kind,
            session_id: stored.session_id,
        })
    }

    /// Moves an interaction to its next step, bound to the session that signed in.
    pub async fn advance(&self, id: &str, session: &SessionId, next: InteractionKind) -> Result<(), SsoError> {
        Ok(self.store.interactions().attach_session(id, session, next.as_str()).await?)
    }

    /// Ends an interaction; `false` when it was already gone (so it is finished exactly once).
    pub async fn finish(&self, id: &str) -> Result<bool, SsoError> {
        Ok(self.store.interactions().delete(id).await?)
    }
}

/// The stored request; interactions written by earlier builds hold the bare OIDC request (or
/// logout target, or nothing), and stay readable until they expire.
fn decode(kind: InteractionKind, payload: &str) -> Result<PendingRequest, SsoError> {
    if let Ok(request) = serde_json::from_str::<PendingRequest>(payload) {
        return Ok(request);
    }
    match kind {
        _ if kind.ends_in_grant() => {
            serde_json::from_str(payload).map(|r| PendingRequest::Oidc(Box::new(r))).map_err(SsoError::Corrupt)
        }
        InteractionKind::Logout => {
            serde_json::from_str(payload).map(PendingRequest::OidcLogout).map_err(SsoError::Corrupt)
        }
        _ => Ok(PendingRequest::Account),
    }
}

/// The id of the grant an authorization interaction ends in, fixed by the interaction: the
/// grant is written once, so finishing an interaction twice issues one code. A one-way
/// derivation, so the grant id (which applications see in access tokens) does not reveal the
/// interaction's.
pub fn grant_of(interaction_id: &str) -> GrantId {
    let digest = Sha256::digest(format!("pintu grant of interaction {interaction_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    GrantId::new(uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_stored_names() {
        for kind in InteractionKind::ALL {
            assert_eq!(InteractionKind::parse(kind.as_str()), Some(kind));
        }
        let stored = InteractionKind::ALL.map(InteractionKind::as_str);
        let released = [
            "authorize",
            "authorize-second-factor",
            "authorize-consent",
            "logout",
            "account",
            "account-totp",
            "account-login",
            "account-second-factor",
            "activation",
            "password-reset",
        ];
        assert_eq!(stored, released, "pending interactions survive an upgrade");
        assert!(InteractionKind::parse("authorize-anything").is_none());
    }

    #[test]
    fn payloads_of_earlier_builds_stay_readable() {
        assert_eq!(decode(InteractionKind::Account, "").unwrap(), PendingRequest::Account);
        let target = r#"{"redirect_uri":null}"#;
        assert!(matches!(decode(InteractionKind::Logout, target).unwrap(), PendingRequest::OidcLogout(_)));
        let tagged = serde_json::to_string(&PendingRequest::Account).unwrap();
        assert_eq!(decode(InteractionKind::AccountTotp, &tagged).unwrap(), PendingRequest::Account);
    }
}
