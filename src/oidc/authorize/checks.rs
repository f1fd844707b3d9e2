//! The rules of the authorization endpoint, one function each, pure. The order lives in
//! `mod.rs`.

use crate::domain::scope::SUPPORTED_SCOPES;
use crate::domain::{GrantType, RelyingParty, Scope};

use super::ResponseMode;
use crate::oidc::{OAuthError, Params};

/// OIDC Core §3.1.2.1: `redirect_uri` is required and must exactly match a registered value
/// (simple string comparison, RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3). Not redirectable.
pub fn check_redirect_uri(params: &Params, client: &RelyingParty) -> Result<String, OAuthError> {
    let uri = params.require("redirect_uri")?;
    if client.metadata.redirect_uris.iter().any(|registered| registered == uri) {
        Ok(uri.to_owned())
    } else {
        Err(OAuthError::invalid_request("redirect_uri is not registered for this application"))
    }
}

/// OAuth 2.0 Form Post Response Mode: `query` (default for `code`) or `form_post`.
pub fn check_response_mode(params: &Params) -> Result<ResponseMode, OAuthError> {
    match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err(OAuthError::invalid_request("response_mode must be query or form_post")),
    }
}

/// RFC 9101 (JAR) is not supported: say so with the OIDC Core §3.1.2.6 codes.
pub fn check_no_request_object(params: &Params) -> Result<(), OAuthError> {
    if params.contains("request") {
        return Err(OAuthError::new(crate::oidc::ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if params.contains("request_uri") {
        return Err(OAuthError::new(crate::oidc::ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    Ok(())
}

/// Only the authorization code flow (OAuth 2.1, RFC 9700 §2.1.2: no implicit grant).
pub fn check_response_type(params: &Params, client: &RelyingParty) -> Result<(), OAuthError> {
    match params.require("response_type")? {
        "code" if client.allows_grant(GrantType::AuthorizationCode) => Ok(()),
        "code" => Err(OAuthError::unauthorized_client("this application may not use the authorization code flow")),
        _ => Err(OAuthError::unsupported_response_type("only response_type=code is supported")),
    }
}

/// RFC 6749 §3.3: known scopes, all allowed for this client. `offline_access` is dropped when
/// the client cannot use refresh tokens (OIDC Core §11).
pub fn check_scope(params: &Params, client: &RelyingParty) -> Result<Scope, OAuthError> {
    let requested = Scope::parse(params.require("scope")?).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if let Some(unknown) = requested.iter().find(|s| !SUPPORTED_SCOPES.contains(s)) {
        return Err(OAuthError::invalid_scope(format!("scope {unknown} is not supported")));
    }
    let requested =
        if client.allows_grant(GrantType::RefreshToken) { requested } else { requested.without("offline_access") };
    if !requested.is_subset_of(&client.allowed_scope()) {
        return Err(OAuthError::invalid_scope("this application may not request that scope"));
    }
    Ok(requested)
}

/// RFC 7636 §4.3 and RFC 9700 §2.1.1: public clients must send a challenge; only S256.
pub fn check_pkce(params: &Params, client: &RelyingParty) -> Result<Option<String>, OAuthError> {
    match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (Some(challenge), Some("S256")) => {
            // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
            let valid =
                challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if valid {
                Ok(Some(challenge.to_owned()))
            } else {
                Err(OAuthError::invalid_request("code_challenge is malformed"))
            }
        }
        (Some(_), None) => Err(OAuthError::invalid_request("code_challenge_method is required; use S256")),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request("code_challenge_method must be S256")),
        (None, Some(_)) => Err(OAuthError::invalid_request("code_challenge_method without code_challenge")),
        (None, None) if client.is_public() => Err(OAuthError::invalid_request("code_challenge is required")),
        (None, None) => Ok(None),
    }
}

/// OIDC Core §3.1.2.1 `prompt`: known values; `none` stands alone.
pub fn check_prompt(params: &Params) -> Result<Vec<String>, OAuthError> {
    let values: Vec<String> =
        params.get("prompt").unwrap_or("").split(' ').filter(|v| !v.is_empty()).map(str::to_owned).collect();
    if let Some(bad) = values.iter().find(|v| !["none", "login", "consent", "select_account"].contains(&v.as_str())) {
        return Err(OAuthError::invalid_request(format!("prompt value {bad} is not supported")));
    }
    if values.len() > 1 && values.iter().any(|v| v == "none") {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(values)
}

/// OIDC Core §3.1.2.1 `max_age`: a non-negative integer of seconds.
pub fn check_max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("max_age")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| OAuthError::invalid_request("max_age must be a non-negative integer"))
        })
        .transpose()
}

/// OIDC Core §5.5 `claims`: a JSON object whose members `userinfo` and `id_token` are objects.
pub fn check_claims(params: &Params) -> Result<Option<serde_json::Value>, OAuthError> {
    let Some(raw) = params.get("claims") else { return Ok(None) };
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|_| OAuthError::invalid_request("claims is not valid JSON"))?;
    let obj = value.as_object().ok_or_else(|| OAuthError::invalid_request("claims must be a JSON object"))?;
    for (member, request) in obj {
        if !["userinfo", "id_token"].contains(&member.as_str()) {
            continue; // OIDC Core §5.5: unknown members are ignored.
        }
        if !request.is_object() {
            return Err(OAuthError::invalid_request(format!("claims.{member} must be an object")));
        }
    }
    Ok(Some(value))
}

/// Bounds free-text parameters so a hostile request cannot bloat storage.
pub fn check_lengths(params: &Params) -> Result<(), OAuthError> {
    for key in ["state", "nonce", "login_hint", "ui_locales", "acr_values", "id_token_hint"] {
        if params.get(key).is_some_and(|v| v.len() > 2048) {
            return Err(OAuthError::invalid_request(format!("{key} is too long")));
        }
    }
    if params.get("claims").is_some_and(|v| v.len() > 8192) {
        return Err(OAuthError::invalid_request("claims is too long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientAuthMethod, ClientId, ClientMetadata};

    fn client(auth: ClientAuthMethod) -> RelyingParty {
        RelyingParty {
            client_id: ClientId::new("app"),
            secret_hash: None,
            metadata: ClientMetadata {
                redirect_uris: vec!["https://app.example.go.id/cb".into()],
                token_endpoint_auth_method: auth,
                ..Default::default()
            },
            pre_approved: false,
            disabled: false,
            created_at: 0,
            profile: Default::default(),
        }
    }

    fn params(q: &str) -> Params {
        Params::parse(q.as_bytes()).unwrap()
    }

    #[test]
    fn redirect_uri_must_match_exactly() {
        let c = client(ClientAuthMethod::ClientSecretBasic);
        assert!(check_redirect_uri(&params("redirect_uri=https%3A%2F%2Fapp.example.go.id%2Fcb"), &c).is_ok());
        assert!(check_redirect_uri(&params("redirect_uri=https%3A%2F%2Fapp.example.go.id%2Fcb%2F"), &c).is_err());
        assert!(check_redirect_uri(&params(""), &c).is_err());
    }

    #[test]
    fn public_client_without_code_challenge_is_rejected() {
        let err = check_pkce(&params(""), &client(ClientAuthMethod::None)).unwrap_err();
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidRequest);
        assert!(check_pkce(&params(""), &client(ClientAuthMethod::ClientSecretBasic)).unwrap().is_none());
    }

    #[test]
    fn plain_pkce_is_rejected() {
        let q = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain";
        assert!(check_pkce(&params(q), &client(ClientAuthMethod::None)).is_err());
    }

    #[test]
    fn prompt_none_alone_only() {
        assert!(check_prompt(&params("prompt=none+login")).is_err());
        assert_eq!(check_prompt(&params("prompt=login+consent")).unwrap(), vec!["login", "consent"]);
    }

    #[test]
    fn unknown_scope_is_invalid_scope() {
        let err = check_scope(&params("scope=openid+admin"), &client(ClientAuthMethod::ClientSecretBasic)).unwrap_err();
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidScope);
    }

    #[test]
    fn offline_access_is_dropped_without_refresh_grant() {
        let scope =
            check_scope(&params("scope=openid+offline_access"), &client(ClientAuthMethod::ClientSecretBasic)).unwrap();
        assert_eq!(scope.to_string(), "openid");
    }

    #[test]
    fn negative_max_age_is_rejected() {
        assert!(check_max_age(&params("max_age=-1")).is_err());
        assert_eq!(check_max_age(&params("max_age=0")).unwrap(), Some(0));
    }
}
