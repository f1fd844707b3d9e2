//! Protocol endpoints: discovery, JWKS, authorize, token, userinfo, introspection, revocation.
//! Handlers extract, call one service method, and map the result.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::oidc::grants::TokenResponse;
use crate::oidc::{
    AuthorizationResponse, AuthorizeOutcome, ClientCredentials, OAuthError, OidcService, Params, ResponseMode,
};

use super::caching::{Keep, no_store, public};
use super::client_certificate::ClientCertificate;
use super::error::{BearerError, bearer_challenge, oauth_error_page};
use super::extract::{ClientIp, authorization, bearer, form_params, is_form, query_params};
use super::interaction::{render_denied, render_interaction, respond_to_client};
use super::state::{AppState, Published};
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/oauth2/jwks", get(jwks))
        .route("/oauth2/authorize", get(authorize).post(authorize))
        .route("/oauth2/token", post(token))
        .route("/oauth2/par", post(pushed_authorization_request))
        .route("/oauth2/ciba", post(backchannel_authentication))
        .route("/signing/receipts/verify", post(verify_receipt))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/introspect", post(introspect))
        .route("/oauth2/revoke", post(revoke))
}

async fn discovery(State(docs): State<Published>) -> Response {
    published(docs.discovery, "application/json")
}

async fn jwks(State(oidc): State<OidcService>) -> Response {
    published(Bytes::from_owner(oidc.jwks()), "application/jwk-set+json")
}

/// A public, cacheable JSON document.
fn published(body: Bytes, content_type: &'static str) -> Response {
    public(body, content_type, Keep::FiveMinutes)
}

/// OIDC Core §3.1.2.1: GET and POST (form) are both supported.
async fn authorize(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = if method == Method::POST { form_params(&headers, &body) } else { query_params(&uri) };
    let lang = lang_for(&state, &headers, params.as_ref().ok().and_then(|p| p.get("ui_locales")));
    let params = match params {
        Ok(p) => p,
        Err(e) => return oauth_error_page(&state.views, lang, &e),
    };
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    match state.oidc.authorize(&params, session.as_deref()).await {
        Ok(AuthorizeOutcome::Respond(response)) => respond_to_client(&state, lang, &response),
        Ok(AuthorizeOutcome::Interact(pending)) => render_interaction(&state, lang, &pending, StatusCode::OK, None),
        Ok(AuthorizeOutcome::Denied { client_name, response, reason }) => {
            render_denied(&state, lang, client_name, &response, reason)
        }
        Err(e) => oauth_error_page(&state.views, lang, &e),
    }
}

/// Builds the 303 redirect (query) or the auto-submitting form (form_post).
pub fn redirect_or_form(response: &AuthorizationResponse) -> Result<Response, AuthorizationResponse> {
    match response.mode {
        ResponseMode::Query => {
            let pairs: Vec<(&str, &str)> = response.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let location = crate::oidc::logout::with_query(&response.redirect_uri, &pairs);
            Ok(see_other(&location))
        }
        ResponseMode::FormPost => Err(response.clone()),
    }
}

/// A 303 See Other to `location` (RFC 9700 §4.12: never 307 after a form post).
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn client_request(headers: &HeaderMap, body: &Bytes) -> Result<(ClientCredentials, Params), OAuthError> {
    let params = form_params(headers, body)?;
    let creds = ClientCredentials::from_request(authorization(headers), &params)?;
    Ok((creds, params))
}

/// A client's call to the token, PAR, introspection or revocation endpoint: its credentials
/// and form, the certificate of its connection (RFC 8705), its address.
struct ClientCall {
    creds: ClientCredentials,
    params: Params,
    cert: Option<crate::certificates::Presented>,
    ip: Option<String>,
}

impl FromRequest<AppState> for ClientCall {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, state).await;
        let Ok(cert) = ClientCertificate::from_request_parts(&mut parts, state).await;
        let headers = parts.headers.clone();
        let body =
            Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        let (creds, params) = client_request(&headers, &body).map_err(IntoResponse::into_response)?;
        Ok(Self { creds, params, cert: cert.presented, ip })
    }
}

impl ClientCall {
    fn cert(&self) -> Option<&crate::certificates::Presented> {
        self.cert.as_ref()
    }
}

/// RFC 6749 §3.2, §5.1: JSON with `Cache-Control: no-store`.
async fn token(State(oidc): State<OidcService>, c: ClientCall) -> Result<Response, OAuthError> {
    let tokens: TokenResponse = oidc.token(&c.creds, c.cert(), &c.params, c.ip.as_deref()).await?;
    Ok(no_store(Json(tokens).into_response()))
}

/// RFC 9126 §2: 201 with the request_uri, or an error as at the token endpoint.
async fn pushed_authorization_request(State(oidc): State<OidcService>, c: ClientCall) -> Result<Response, OAuthError> {
    let pushed = oidc.push_authorization_request(&c.creds, c.cert(), &c.params, c.ip.as_deref()).await?;
    Ok(no_store((StatusCode::CREATED, Json(pushed)).into_response()))
}

/// CIBA Core §7: 200 with the auth_req_id; errors as at the token endpoint, `access_denied`
/// with 403 (§13).
async fn backchannel_authentication(State(oidc): State<OidcService>, c: ClientCall) -> Result<Response, Response> {
    match oidc.backchannel_authentication(&c.creds, c.cert(), &c.params, c.ip.as_deref()).await {
        Ok(started) => Ok(no_store(Json(started).into_response())),
        Err(e) => {
            let denied = e.code == crate::oidc::ErrorCode::AccessDenied;
            let mut response = e.into_response();
            if denied {
                *response.status_mut() = StatusCode::FORBIDDEN;
            }
            Err(response)
        }
    }
}

/// Verifies a signing receipt (`{"receipt": "<JWS>"}`, or the JWS itself as the body) against
/// Pintu's keys and the trust anchors. Public: a receipt proves nothing secret.
async fn verify_receipt(State(oidc): State<OidcService>, headers: HeaderMap, body: Bytes) -> Response {
    const MAX_RECEIPT: usize = 512 * 1024;
    if body.len() > MAX_RECEIPT {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the receipt is too large").into_response();
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let token = if json {
        match serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("receipt")?.as_str().map(str::to_owned))
        {
            Some(token) => token,
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({"error": "a receipt member (the JWS) is required"})),
                )
                    .into_response();
            }
        }
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    let check = oidc.signing().verify_receipt(&token, None);
    let status = if check.valid { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, Json(check)).into_response()
}

async fn introspect(State(oidc): State<OidcService>, c: ClientCall) -> Result<Response, OAuthError> {
    let answer = oidc.introspect(&c.creds, c.cert(), &c.params, c.ip.as_deref()).await?;
    Ok(no_store(Json(answer).into_response()))
}

/// RFC 7009 §2.2: 200 with an empty body on success.
async fn revoke(State(oidc): State<OidcService>, c: ClientCall) -> Result<Response, OAuthError> {
    oidc.revoke(&c.creds, c.cert(), &c.params, c.ip.as_deref()).await?;
    Ok(no_store(StatusCode::OK.into_response()))
}

/// OIDC Core §5.3 with RFC 6750 §2.1 (header) or §2.2 (form body) tokens.
async fn userinfo(
    State(oidc): State<OidcService>,
    cert: ClientCertificate,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let from_body = if method == Method::POST && is_form(&headers) {
        match form_params(&headers, &body) {
            Ok(p) => p.get("access_token").map(str::to_owned),
            Err(e) => return BearerError(e).into_response(),
        }
    } else {
        None
    };
    let token = match (bearer(&headers), from_body) {
        (Some(_), Some(_)) => {
            // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token."
            return BearerError(OAuthError::invalid_request("send the access token in one place only")).into_response();
        }
        (Some(t), None) => t.to_owned(),
        (None, Some(t)) => t,
        (None, None) => return bearer_challenge(),
    };
    match oidc.userinfo(&token, cert.presented.as_ref()).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => BearerError(e).into_response(),
    }
}
