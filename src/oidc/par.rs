//! Pushed Authorization Requests (RFC 9126): an application sends its authorization request
//! straight to Pintu, authenticated like at the token endpoint, and gets a `request_uri` that
//! stands for it at the authorization endpoint. The parameters never travel through the
//! browser, so nobody on the way can read or change them.

use serde::Serialize;

use crate::certificates::Presented;

use super::authorize::checks;
use super::{ClientCredentials, OAuthError, OidcService, Params, random_token, token_hash};

/// RFC 9126 §2.2: the `request_uri` scheme for pushed requests.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request can be used (RFC 9126 §2.2 suggests a short lifetime).
pub const PUSHED_REQUEST_TTL: i64 = 60;

/// RFC 9126 §2.2 successful response (201 Created).
#[derive(Debug, Clone, Serialize)]
pub struct PushedRequest {
    pub request_uri: String,
    pub expires_in: i64,
}

impl OidcService {
    /// RFC 9126 §2: authenticates the client, validates the request as the authorization
    /// endpoint would (errors answered here, never redirected), keeps it for one use.
    pub async fn push_authorization_request(
        &self,
        creds: &ClientCredentials,
        cert: Option<&Presented>,
        params: &Params,
        ip: Option<&str>,
    ) -> Result<PushedRequest, OAuthError> {
        let client = self.authenticate_client(creds, cert, ip).await?;
        // §2.1: "The client_id ... MUST" match the authenticated client; the request_uri
        // parameter MUST NOT be pushed.
        if params.get("client_id").is_some_and(|id| id != client.client_id.as_str()) {
            return Err(OAuthError::invalid_request("client_id is not the authenticated client"));
        }
        if params.contains("request_uri") {
            return Err(OAuthError::invalid_request("request_uri must not be pushed (RFC 9126 §2.1)"));
        }
        let mut pairs: Vec<(String, String)> = vec![("client_id".into(), client.client_id.to_string())];
        match params.get("request") {
            // RFC 9126 §3, RFC 9101 §5: a signed request object, whose claims alone are the request.
            Some(object) => pairs.extend(self.request_object_parameters(&client, object).await?),
            None => {
                for key in PUSHABLE {
                    if let Some(value) = params.get(key) {
                        pairs.push(((*key).to_owned(), value.to_owned()));
                    }
                }
            }
        }
        let pushed = Params::from_pairs(pairs)?;
        let redirect_uri = checks::check_redirect_uri(&pushed, &client)
            .map_err(|e| OAuthError::invalid_request(e.description.into_owned()))?;
        let target = super::authorize::ErrorTarget {
            redirect_uri,
            mode: checks::check_response_mode(&pushed).unwrap_or(super::ResponseMode::Query),
            state: pushed.get("state").map(str::to_owned),
        };
        self.validate(&pushed, &client, &target).await?;
        let reference = random_token();
        let now = self.now();
        let expires_at = now + PUSHED_REQUEST_TTL;
        let store = self.store.pushed_requests();
        store.insert(&token_hash(&reference), client.client_id.as_str(), &pushed.to_json(), now, expires_at).await?;
        Ok(PushedRequest { request_uri: format!("{REQUEST_URI_PREFIX}{reference}"), expires_in: PUSHED_REQUEST_TTL })
    }

    /// RFC 9126 §4: the authorization request a `request_uri` stands for, used once; only its
    /// parameters count (others sent beside it are ignored), and only for the client that
    /// pushed it.
    pub(super) async fn pushed_parameters(&self, params: &Params) -> Result<Option<Params>, OAuthError> {
        let Some(request_uri) = params.get("request_uri") else { return Ok(None) };
        let Some(reference) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
            // Request objects by reference (RFC 9101 §5.2) are not fetched.
            return Ok(None);
        };
        let client_id = params.require("client_id")?;
        let stored = self.store.pushed_requests().take(&token_hash(reference), client_id, self.now()).await?;
        let stored = stored.ok_or_else(|| {
            OAuthError::new(super::ErrorCode::InvalidRequestUri, "the request_uri is unknown, used or expired")
        })?;
        Ok(Some(Params::from_json(&stored)?))
    }
}

/// The authorization request parameters a pushed request keeps (what the authorization
/// endpoint reads); anything else is dropped.
const PUSHABLE: &[&str] = &[
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "ui_locales",
    "acr_values",
    "claims",
    "authorization_details",
];

/// The longest a request object may be valid for (seconds).
const MAX_REQUEST_OBJECT_LIFETIME: i64 = 3600;

impl OidcService {
    /// RFC 9101 §6: signed by one of the client's registered keys (never `none`), `iss` and
    /// `client_id` the client, `aud` this issuer, unexpired and short-lived; its claims become
    /// the authorization request's parameters (objects such as `claims` as JSON text).
    async fn request_object_parameters(
        &self,
        client: &crate::domain::RelyingParty,
        object: &str,
    ) -> Result<Vec<(String, String)>, OAuthError> {
        let refused = |why: &str| OAuthError::new(super::ErrorCode::InvalidRequestObject, why.to_owned());
        let jws = self
            .verify_with_client_keys(client, object)
            .await
            .ok_or_else(|| refused("the request object is not signed with one of the client's keys"))?;
        let claims = &jws.claims;
        let id = client.client_id.as_str();
        let text = |k: &str| claims.get(k).and_then(serde_json::Value::as_str);
        if text("iss") != Some(id) || text("client_id").is_some_and(|c| c != id) {
            return Err(refused("the request object's iss and client_id must be the client"));
        }
        let aud_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => *a == self.config.issuer,
            Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&self.config.issuer)),
            _ => false,
        };
        let now = self.now();
        let exp = claims.get("exp").and_then(serde_json::Value::as_i64).unwrap_or(0);
        if !aud_ok || exp <= now || exp - now > MAX_REQUEST_OBJECT_LIFETIME {
            return Err(refused("the request object needs aud = this issuer and an exp within the hour"));
        }
        let mut pairs = Vec::new();
        for key in PUSHABLE {
            let value = match claims.get(*key) {
                None | Some(serde_json::Value::Null) => continue,
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            pairs.push(((*key).to_owned(), value));
        }
        Ok(pairs)
    }
}
