//! OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0), poll and ping
//! modes: an application asks for a person by `login_hint` (username, NIP or e-mail) or
//! `id_token_hint`; the person sees the request on their account page with its
//! `binding_message` (and what they would sign), approves (at level 4 for signing) or declines;
//! the application polls the token endpoint, or is pinged and then asks.

use serde::Serialize;
use serde_json::Value;

use crate::domain::grant::{CodeData, Consumed, Grant};
use crate::domain::user::normalize_login;
use crate::domain::{GrantId, GrantType, RelyingParty, Scope, User};
use crate::signing::Channel;
use crate::storage::{CibaRow, Poll};

use super::grants::TokenResponse;
use super::{ClientCredentials, ErrorCode, OAuthError, OidcService, Params, random_token, token_hash};

/// How long a request waits for the person by default, and at most (seconds).
const DEFAULT_EXPIRY: i64 = 300;
const MAX_EXPIRY: i64 = 600;
/// CIBA Core §7.3: the minimum seconds between polls; `slow_down` adds this much.
pub const POLL_INTERVAL: i64 = 5;
/// The longest binding message shown (characters).
const MAX_BINDING_MESSAGE: usize = 64;

/// CIBA Core §7.3 successful authentication request acknowledgement.
#[derive(Debug, Clone, Serialize)]
pub struct CibaStarted {
    pub auth_req_id: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
}

fn error(code: ErrorCode, why: &str) -> OAuthError {
    OAuthError::new(code, why.to_owned())
}

impl OidcService {
    /// CIBA Core §7: authenticates the client and starts a request for the person hinted at.
    pub async fn backchannel_authentication(
        &self,
        creds: &ClientCredentials,
        cert: Option<&crate::certificates::Presented>,
        params: &Params,
        ip: Option<&str>,
    ) -> Result<CibaStarted, OAuthError> {
        let client = self.authenticate_client(creds, cert, ip).await?;
        if !client.allows_grant(GrantType::Ciba) || client.is_public() {
            return Err(OAuthError::unauthorized_client("this application is not registered for CIBA"));
        }
        super::authorize::checks::check_lengths(params)?;
        if params.contains("request") || params.contains("request_uri") {
            return Err(OAuthError::invalid_request("signed authentication requests are not supported"));
        }
        let scope = Scope::parse(params.require("scope")?).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        if !scope.contains("openid") {
            return Err(OAuthError::invalid_scope("scope must include openid (CIBA Core §7.1)"));
        }
        if !scope.is_subset_of(&client.allowed_scope()) {
            return Err(OAuthError::invalid_scope("this application may not request that scope"));
        }
        let user = self.hinted_user(&client, params).await?;
        if params.contains("user_code") {
            return Err(OAuthError::invalid_request("user_code is not supported (backchannel_user_code_parameter)"));
        }
        let binding_message = params.get("binding_message").map(str::to_owned);
        if binding_message.as_deref().is_some_and(|m| !crate::signing::details::readable(m, MAX_BINDING_MESSAGE)) {
            return Err(error(ErrorCode::InvalidBindingMessage, "binding_message must be 1-64 readable characters"));
        }
        let expires_in = match params.get("requested_expiry") {
            None => DEFAULT_EXPIRY,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=MAX_EXPIRY).contains(s))
                .ok_or_else(|| OAuthError::invalid_request("requested_expiry must be 1-600 seconds"))?,
        };
        let ping = client.metadata.backchannel_token_delivery_mode.as_deref() == Some("ping");
        let token = params.get("client_notification_token").map(str::to_owned);
        match &token {
            None if ping => {
                return Err(OAuthError::invalid_request("client_notification_token is required in ping mode"));
            }
            Some(t) if t.is_empty() || t.len() > 1024 => {
                return Err(OAuthError::invalid_request("client_notification_token must be 1-1024 characters"));
            }
            _ => {}
        }
        let details = match params.get("authorization_details") {
            Some(text) => Some(
                self.signing
                    .parse(text, &client.metadata.authorization_details_types)
                    .map_err(|e| OAuthError::new(ErrorCode::InvalidAuthorizationDetails, e.0))?,
            ),
            None => None,
        };
        if self.directory.access_decision(&client, &user).await? == crate::directory::AccessDecision::NotInPolicy {
            return Err(OAuthError::access_denied("this account may not use this application"));
        }
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let auth_req_id = self.auth_req_id(&id)?;
        let row = CibaRow {
            id,
            client_id: client.client_id.to_string(),
            user_id: user.id.to_string(),
            mode: if ping { "ping" } else { "poll" }.into(),
            scope: scope.to_string(),
            acr_values: params.get("acr_values").map(str::to_owned),
            binding_message,
            details: details.as_ref().map(|d| crate::signing::details::to_json(d).to_string()),
            notification_token: token,
            status: "pending".into(),
            session_id: None,
            authn: None,
            transaction_id: None,
            // A pinged client asks once it is told; the interval binds polling clients.
            poll_interval: if ping { 0 } else { POLL_INTERVAL },
            last_poll_at: None,
            created_at: now,
            expires_at: now + expires_in,
        };
        self.store.signing().insert_ciba(&row, &token_hash(&auth_req_id)).await?;
        if let Some(details) = &details {
            let json = crate::signing::details::to_json(details);
            self.signing.requested(&client.client_id, &user, &json, Channel::Ciba).await;
        }
        Ok(CibaStarted { auth_req_id, expires_in, interval: (!ping).then_some(POLL_INTERVAL) })
    }

    /// The auth_req_id of request `id`: the id and a MAC of it under Pintu's secret, so a ping
    /// can name it again while only its hash is stored.
    pub(crate) fn auth_req_id(&self, id: &str) -> Result<String, OAuthError> {
        let tag = self.keyring.refresh_tag(&format!("ciba:{id}")).map_err(OAuthError::server)?;
        Ok(format!("{id}.{tag}"))
    }

    /// CIBA Core §7.1: exactly one hint; the person must exist and be active.
    async fn hinted_user(&self, client: &RelyingParty, params: &Params) -> Result<User, OAuthError> {
        let hints = ["login_hint", "id_token_hint", "login_hint_token"];
        let given: Vec<&str> = hints.iter().copied().filter(|h| params.contains(h)).collect();
        if given.len() != 1 {
            return Err(OAuthError::invalid_request("exactly one of login_hint and id_token_hint is required"));
        }
        let user_id = match given[0] {
            "login_hint" => self.store.users().resolve(&normalize_login(params.require("login_hint")?)).await?,
            "id_token_hint" => {
                // CIBA Core §7.1: an ID token previously issued to this client.
                let (sub, audience, _) = self.id_token_hint_subject(params.require("id_token_hint")?)?;
                if !audience.iter().any(|a| a == client.client_id.as_str()) {
                    return Err(OAuthError::invalid_request("id_token_hint was issued to another application"));
                }
                Some(crate::domain::UserId::new(sub))
            }
            _ => return Err(OAuthError::invalid_request("login_hint_token is not supported")),
        };
        let user = match user_id {
            Some(id) => self.store.users().find(&id).await?,
            None => None,
        };
        match user {
            Some(user) if !user.disabled => Ok(user),
            _ => Err(error(ErrorCode::UnknownUserId, "the hint names no active account")),
        }
    }

    /// CIBA Core §10.1, §11: the token request with `auth_req_id`.
    pub(in crate::oidc) async fn ciba_token(
        &self,
        client: &RelyingParty,
        params: &Params,
        binding: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let auth_req_id = params.require("auth_req_id")?;
        let hash = token_hash(auth_req_id);
        let now = self.now();
        let row = match self.store.signing().poll_ciba(&hash, client.client_id.as_str(), now).await? {
            Poll::Unknown => return Err(OAuthError::invalid_grant("the auth_req_id is unknown")),
            Poll::Expired => return Err(error(ErrorCode::ExpiredToken, "the auth_req_id has expired")),
            Poll::TooFast => {
                self.store.signing().slow_ciba(&hash, POLL_INTERVAL).await?;
                return Err(error(ErrorCode::SlowDown, "polled too often: wait longer between polls"));
            }
            Poll::Found(row) => row,
        };
        match row.status.as_str() {
            "pending" | "deciding" => {
                return Err(error(ErrorCode::AuthorizationPending, "the person has not decided yet"));
            }
            "denied" => return Err(OAuthError::access_denied("the person declined")),
            "approved" => {}
            _ => return Err(OAuthError::invalid_grant("the auth_req_id was used")),
        }
        if !self.store.signing().issue_ciba(&row.id).await? {
            return Err(OAuthError::invalid_grant("the auth_req_id was used"));
        }
        let data = self.ciba_code_data(&row)?;
        // The grant goes through the code machinery (one row per grant, revoked with its
        // session), its code consumed at once and never shown.
        let grant = Grant {
            id: GrantId::generate(),
            client_id: data.client_id.clone(),
            user_id: Some(data.user_id.clone()),
            session_id: Some(data.session_id.clone()),
            scope: data.scope.clone(),
            claims: None,
            offline: false,
            created_at: now,
            revoked_at: None,
        };
        let code_hash = token_hash(&random_token());
        self.store.grants().insert_with_code(&grant, &code_hash, &data, now + 60).await?;
        let consumed = self.store.grants().consume_code((&grant.id, &code_hash, &client.client_id), None, now).await?;
        let Consumed::Fresh(consumable) = consumed else {
            return Err(OAuthError::invalid_grant("the session of this approval has ended"));
        };
        self.tokens_for_code(client, (&consumable.grant_id, binding), &consumable.data, None).await
    }

    fn ciba_code_data(&self, row: &CibaRow) -> Result<CodeData, OAuthError> {
        let corrupt = || OAuthError::server(std::io::Error::other("an approved CIBA request lacks its approval"));
        let authn = row.authn.as_deref().and_then(|a| serde_json::from_str(a).ok()).ok_or_else(corrupt)?;
        let session = row.session_id.clone().ok_or_else(corrupt)?;
        Ok(CodeData {
            client_id: crate::domain::ClientId::new(row.client_id.clone()),
            user_id: crate::domain::UserId::new(row.user_id.clone()),
            session_id: crate::domain::SessionId::new(session),
            redirect_uri: String::new(),
            scope: Scope::parse(&row.scope).unwrap_or_default(),
            nonce: None,
            code_challenge: None,
            authn,
            id_token_claims: None,
            transaction_id: row.transaction_id.clone(),
        })
    }
}

/// A CIBA request as the person sees it on their account page.
#[derive(Debug, Clone, Serialize)]
pub struct PendingApproval {
    pub id: String,
    pub client_name: String,
    pub binding_message: Option<String>,
    pub scopes: Vec<String>,
    /// What the person would sign (the validated authorization details).
    pub authorization_details: Option<Value>,
    pub expires_at: i64,
}
