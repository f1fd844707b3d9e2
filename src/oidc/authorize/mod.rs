//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2): validation in a fixed
//! order, then the decision (login, consent, or a code), then the response.

pub mod checks;
mod consent;
mod continuation;
pub mod level;
pub mod passkey;
mod step_up;

use crate::directory::AccessDecision;
use crate::domain::grant::{CodeData, Grant};
use crate::domain::{GrantId, RelyingParty, Scope, SsoSession, User};

pub use crate::domain::authorization::{ResponseMode, ValidRequest};

use super::interaction::{InteractionError, request_of};
use super::{
    InteractionStage, OAuthError, OidcService, Params, PendingInteraction, StepUpMethods, random_token, token_hash,
};
use crate::sso::{Attempt, InteractionKind, PendingRequest};

/// Where the browser goes next, and with which parameters.
#[derive(Debug, Clone)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

/// The result of an authorization step: answer the client, or show the person a page.
#[derive(Debug, Clone)]
pub enum AuthorizeOutcome {
    Respond(AuthorizationResponse),
    Interact(PendingInteraction),
    /// The application's access policy excludes this person, or the security level it needs
    /// is out of their reach: explain on a page, then let them return to the application
    /// with the error in `response`.
    Denied {
        client_name: String,
        response: AuthorizationResponse,
        reason: DenialReason,
    },
}

/// Why a person is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    /// Not in the application's access policy.
    Policy,
    /// The level needed is above the person's ceiling or their enrolled factors.
    Level(level::Requirement),
}

/// What the person's situation demands.
enum Decision {
    Login,
    Denied(Box<User>, DenialReason),
    StepUp(Box<SsoSession>, StepUpMethods),
    Consent(Box<SsoSession>),
    Issue(Box<(SsoSession, User)>),
}

/// Where to send errors once `redirect_uri` is trusted.
pub(super) struct ErrorTarget {
    pub(super) redirect_uri: String,
    pub(super) mode: ResponseMode,
    pub(super) state: Option<String>,
}

impl OidcService {
    /// Handles a request to the authorization endpoint. `Err` is only for errors that must not
    /// be redirected (unknown client, unregistered redirect_uri): the web layer shows a page.
    #[tracing::instrument(skip_all, fields(client_id = params.get("client_id")))]
    pub async fn authorize(
        &self,
        params: &Params,
        session_cookie: Option<&str>,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        // RFC 9126 §4: a pushed request's parameters replace whatever came with its request_uri.
        let pushed = self.pushed_parameters(params).await?;
        let params = pushed.as_ref().unwrap_or(params);
        let client = self.client_for_authorize(params).await?;
        let redirect_uri = checks::check_redirect_uri(params, &client)?;
        let target = ErrorTarget {
            redirect_uri,
            mode: checks::check_response_mode(params).unwrap_or(ResponseMode::Query),
            state: params.get("state").map(str::to_owned),
        };
        // RFC 9396 with RFC 9126: what a person signs never travels through the browser.
        if pushed.is_none() && params.contains("authorization_details") {
            let e = OAuthError::invalid_request("authorization_details must be pushed (PAR, RFC 9126)");
            return Ok(AuthorizeOutcome::Respond(self.error_response(&target, &e)));
        }
        let request = match self.validate(params, &client, &target).await {
            Ok(request) => request,
            Err(e) => return Ok(AuthorizeOutcome::Respond(self.error_response(&target, &e))),
        };
        let session = self.find_session(session_cookie).await?;
        match self.decide(&client, &request, session, false).await {
            Ok(decision) => self.act(&client, &request, decision).await,
            Err(e) => Ok(AuthorizeOutcome::Respond(self.error_response(&target, &e))),
        }
    }

    async fn client_for_authorize(&self, params: &Params) -> Result<RelyingParty, OAuthError> {
        let client_id = params.require("client_id")?;
        match self.client(client_id).await? {
            Some(client) if !client.disabled => Ok(client),
            _ => Err(OAuthError::invalid_request("unknown application (client_id)")),
        }
    }

    /// The ordered checks after `redirect_uri` is trusted; every error here is redirectable.
    pub(super) async fn validate(
        &self,
        params: &Params,
        client: &RelyingParty,
        target: &ErrorTarget,
    ) -> Result<ValidRequest, OAuthError> {
        checks::check_lengths(params)?;
        checks::check_no_request_object(params)?;
        let response_mode = checks::check_response_mode(params)?;
        checks::check_response_type(params, client)?;
        let scope = checks::check_scope(params, client)?;
        let code_challenge = checks::check_pkce(params, client)?;
        let prompt = checks::check_prompt(params)?;
        let max_age = checks::check_max_age(params)?;
        let claims = checks::check_claims(params)?;
        let authorization_details = match params.get("authorization_details") {
            Some(text) => {
                let allowed = &client.metadata.authorization_details_types;
                let details = self
                    .signing
                    .parse(text, allowed)
                    .map_err(|e| OAuthError::new(super::ErrorCode::InvalidAuthorizationDetails, e.0))?;
                Some(crate::signing::details::to_json(&details))
            }
            None => None,
        };
        let id_token_hint_sub = match params.get("id_token_hint") {
            Some(hint) => Some(self.id_token_hint_subject(hint)?.0),
            None => None,
        };
        Ok(ValidRequest {
            client_id: client.client_id.clone(),
            redirect_uri: target.redirect_uri.clone(),
            response_mode,
            state: target.state.clone(),
            scope,
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint: params.get("login_hint").map(str::to_owned),
            id_token_hint_sub,
            ui_locales: params.get("ui_locales").map(str::to_owned),
            acr_values: params.get("acr_values").map(str::to_owned),
            claims,
            authorization_details,
        })
    }

    /// Decides between login, consent and issuing a code. `fresh_login` is true right after
    /// the person authenticated in this interaction, so `prompt=login`/`max_age` are satisfied.
    async fn decide(
        &self,
        client: &RelyingParty,
        req: &ValidRequest,
        session: Option<(SsoSession, User)>,
        fresh_login: bool,
    ) -> Result<Decision, OAuthError> {
        let now = self.now();
        let session = session.filter(|(s, _)| {
            let too_old = req.max_age.is_some_and(|max| now - s.authn.auth_time > max);
            let other_user = req.id_token_hint_sub.as_deref().is_some_and(|sub| sub != s.user_id.as_str());
            // OIDC Core §3.1.2.1 prompt=login / max_age: re-authenticate unless it just happened.
            fresh_login || !(req.has_prompt("login") || req.has_prompt("select_account") || too_old || other_user)
        });
        let Some((session, user)) = session else {
            if req.has_prompt("none") {
                return Err(OAuthError::login_required("the user is not logged in"));
            }
            return Ok(Decision::Login);
        };
        if self.directory.access_decision(client, &user).await? == AccessDecision::NotInPolicy {
            if req.has_prompt("none") {
                return Err(OAuthError::access_denied("this account may not use this application"));
            }
            return Ok(Decision::Denied(Box::new(user), DenialReason::Policy));
        }
        match self.check_level(client, req, &session, &user).await? {
            level::LevelCheck::Enough => {}
            // OIDC Core §3.1.2.6: asking for a factor is an interaction.
            level::LevelCheck::StepUp(_) if req.has_prompt("none") => {
                return Err(OAuthError::interaction_required("a higher security level needs the user"));
            }
            level::LevelCheck::StepUp(methods) => return Ok(Decision::StepUp(Box::new(session), methods)),
            level::LevelCheck::Unreachable(need) if req.has_prompt("none") => {
                return Err(Self::unreachable_error(need));
            }
            level::LevelCheck::Unreachable(need) => {
                return Ok(Decision::Denied(Box::new(user), DenialReason::Level(need)));
            }
        }
        if self.needs_consent(client, req, &user).await? {
            if req.has_prompt("none") {
                return Err(OAuthError::consent_required("the user has not consented to this application"));
            }
            if let Some(details) = &req.authorization_details {
                self.signing.requested(&client.client_id, &user, details, crate::signing::Channel::Browser).await;
            }
            return Ok(Decision::Consent(Box::new(session)));
        }
        Ok(Decision::Issue(Box::new((session, user))))
    }

    async fn needs_consent(&self, client: &RelyingParty, req: &ValidRequest, user: &User) -> Result<bool, OAuthError> {
        // RFC 9396: consent to sign is never remembered, nor implied for first-party apps.
        if req.authorization_details.is_some() {
            return Ok(true);
        }
        if client.pre_approved {
            return Ok(false);
        }
        if req.has_prompt("consent") {
            return Ok(true);
        }
        let requested = &req.scope;
        let granted = self.store.sessions().find_consent(&user.id, &client.client_id).await?;
        let granted = granted.map(|g| Scope::parse(&g).unwrap_or_default()).unwrap_or_default();
        Ok(!requested.is_subset_of(&granted))
    }

    async fn act(
        &self,
        client: &RelyingParty,
        req: &ValidRequest,
        decision: Decision,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        let payload = PendingRequest::Oidc(Box::new(req.clone()));
        let name = client.display_name().to_owned();
        match decision {
            Decision::Login => {
                let (id, csrf) = self.start_interaction(InteractionKind::AuthorizeLogin, &payload, None).await?;
                Ok(AuthorizeOutcome::Interact(self.pending(id, csrf, InteractionStage::Login, req, name)))
            }
            Decision::Consent(session) => {
                let (id, csrf) =
                    self.start_interaction(InteractionKind::AuthorizeConsent, &payload, Some(&session.id)).await?;
                Ok(AuthorizeOutcome::Interact(self.pending(id, csrf, InteractionStage::Consent, req, name)))
            }
            Decision::StepUp(session, methods) => {
                let (id, csrf) =
                    self.start_interaction(InteractionKind::AuthorizeSecondFactor, &payload, Some(&session.id)).await?;
                let stage = InteractionStage::SecondFactor(methods);
                Ok(AuthorizeOutcome::Interact(self.pending(id, csrf, stage, req, name)))
            }
            Decision::Issue(found) => {
                let response = self.issue_code(req, &found.0, &found.1, GrantId::generate(), None).await?;
                // A new id cannot have been used.
                let response =
                    response.ok_or_else(|| OAuthError::server(std::io::Error::other("a new grant id was taken")))?;
                Ok(AuthorizeOutcome::Respond(response))
            }
            Decision::Denied(user, reason) => Ok(self.denied(client, req, &user, reason).await),
        }
    }

    /// Login form submitted: check credentials, start the SSO session, continue the flow.
    /// Returns the new session cookie value alongside the next step.
    pub async fn submit_login(
        &self,
        interaction_id: &str,
        csrf: &str,
        login: &str,
        password: &str,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeLogin, csrf).await?;
        let req = request_of(&interaction)?;
        let client = self.client_of(&req).await?;
        let at = Attempt { client: Some(&client.client_id), source_ip };
        let again = || {
            let name = client.display_name().to_owned();
            Box::new(self.pending(interaction.id.clone(), csrf.to_owned(), InteractionStage::Login, &req, name))
        };
        match self.sign_in.with_password(at, login, password).await {
            Ok(signed_in) => self.resume_signed_in((&interaction.id, csrf), &req, &client, signed_in).await,
            Err(e) => Err(continuation::sign_in_problem(e, again)),
        }
    }

    async fn client_of(&self, req: &ValidRequest) -> Result<RelyingParty, OAuthError> {
        match self.client(req.client_id.as_str()).await? {
            Some(client) if !client.disabled => Ok(client),
            _ => Err(OAuthError::access_denied("the application is no longer available")),
        }
    }

    /// RFC 6749 §4.1.2: a single-use code under the new grant `id`, with `iss` (RFC 9207).
    /// The grant and its code are one row, written once: `None` when grant `id` exists
    /// already (its interaction was finished before).
    async fn issue_code(
        &self,
        req: &ValidRequest,
        session: &SsoSession,
        user: &User,
        id: GrantId,
        transaction_id: Option<&str>,
    ) -> Result<Option<AuthorizationResponse>, OAuthError> {
        let now = self.now();
        let scope = &req.scope;
        let grant = Grant {
            id,
            client_id: req.client_id.clone(),
            user_id: Some(user.id.clone()),
            session_id: Some(session.id.clone()),
            scope: req.scope.clone(),
            claims: req.claims.as_ref().and_then(|c| c.get("userinfo")).map(|c| c.to_string()),
            // A signing grant is one transaction: no refresh token outlives it.
            offline: scope.contains("offline_access") && transaction_id.is_none(),
            created_at: now,
            revoked_at: None,
        };
        // The code names its grant, so the exchange addresses the row by primary key.
        let code = format!("{}.{}", grant.id, random_token());
        let data = CodeData {
            client_id: req.client_id.clone(),
            user_id: user.id.clone(),
            session_id: session.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            authn: session.authn.clone(),
            id_token_claims: req.claims.as_ref().and_then(|c| c.get("id_token")).cloned(),
            transaction_id: transaction_id.map(str::to_owned),
        };
        let expires_at = now + self.config.code_ttl;
        if !self.store.grants().insert_with_code(&grant, &token_hash(&code), &data, expires_at).await? {
            return Ok(None);
        }
        let mut params = vec![("code".to_owned(), code)];
        if let Some(state) = &req.state {
            params.push(("state".to_owned(), state.clone()));
        }
        params.push(("iss".to_owned(), self.config.issuer.clone()));
        Ok(Some(AuthorizationResponse { redirect_uri: req.redirect_uri.clone(), mode: req.response_mode, params }))
    }

    /// RFC 6749 §4.1.2.1 error response, with `state` and `iss` (RFC 9207).
    fn error_response(&self, target: &ErrorTarget, error: &OAuthError) -> AuthorizationResponse {
        if let Some(cause) = &error.cause {
            tracing::error!(error = %cause, "authorization request failed");
        }
        let mut params = vec![
            ("error".to_owned(), error.code.as_str().to_owned()),
            ("error_description".to_owned(), error.description.to_string()),
        ];
        if let Some(state) = &target.state {
            params.push(("state".to_owned(), state.clone()));
        }
        params.push(("iss".to_owned(), self.config.issuer.clone()));
        AuthorizationResponse { redirect_uri: target.redirect_uri.clone(), mode: target.mode, params }
    }
}
