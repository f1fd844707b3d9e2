//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt, none.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::domain::{ClientAuthMethod, RelyingParty};

use super::{OAuthError, OidcService, Params, secure_eq, token_hash};

/// RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest client-assertion lifetime accepted, in seconds.
const MAX_ASSERTION_LIFETIME: i64 = 600;

/// How the client presented itself. More than one method in one request is refused
/// (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request").
#[derive(Debug, Clone)]
pub enum ClientCredentials {
    Basic { client_id: String, secret: String },
    Post { client_id: String, secret: String },
    Assertion { client_id: Option<String>, assertion: String },
    None { client_id: String },
    Missing,
}

impl ClientCredentials {
    /// Reads the `Authorization` header and body parameters.
    pub fn from_request(authorization: Option<&str>, params: &Params) -> Result<Self, OAuthError> {
        let body_secret = params.get("client_secret");
        let assertion = params.get("client_assertion");
        let basic = match authorization {
            Some(value) => Some(parse_basic(value)?),
            None => None,
        };
        let methods =
            usize::from(basic.is_some()) + usize::from(body_secret.is_some()) + usize::from(assertion.is_some());
        if methods > 1 {
            return Err(OAuthError::invalid_request("use exactly one client authentication method"));
        }
        let body_id = params.get("client_id").map(str::to_owned);
        if let Some((client_id, secret)) = basic {
            if body_id.as_deref().is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request("client_id does not match the Authorization header"));
            }
            return Ok(ClientCredentials::Basic { client_id, secret });
        }
        if let Some(assertion) = assertion {
            if params.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
                return Err(OAuthError::invalid_request("client_assertion_type must be jwt-bearer (RFC 7523)"));
            }
            return Ok(ClientCredentials::Assertion { client_id: body_id, assertion: assertion.to_owned() });
        }
        Ok(match (body_id, body_secret) {
            (Some(client_id), Some(secret)) => ClientCredentials::Post { client_id, secret: secret.to_owned() },
            (Some(client_id), None) => ClientCredentials::None { client_id },
            (None, Some(_)) => return Err(OAuthError::invalid_request("client_secret without client_id")),
            (None, None) => ClientCredentials::Missing,
        })
    }

    fn is_basic(&self) -> bool {
        matches!(self, ClientCredentials::Basic { .. })
    }
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError { basic_auth_attempted: true, ..OAuthError::invalid_client("malformed Basic credentials") };
    let (scheme, value) = header.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let plus_fixed = s.replace('+', "%20");
        url::form_urlencoded::parse(format!("v={plus_fixed}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .ok_or_else(bad)
    };
    let id = unescape(id)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((id, unescape(secret)?))
}

impl OidcService {
    /// Authenticates a client with the method it registered. Any failure is `invalid_client`
    /// (RFC 6749 §5.2), with the same message whatever failed.
    pub async fn authenticate_client(&self, creds: &ClientCredentials) -> Result<RelyingParty, OAuthError> {
        let basic = creds.is_basic();
        let fail =
            || OAuthError { basic_auth_attempted: basic, ..OAuthError::invalid_client("client authentication failed") };
        let claimed_id = match creds {
            ClientCredentials::Basic { client_id, .. }
            | ClientCredentials::Post { client_id, .. }
            | ClientCredentials::None { client_id } => client_id.clone(),
            ClientCredentials::Assertion { client_id, assertion } => {
                assertion_issuer(client_id.as_deref(), assertion).ok_or_else(fail)?
            }
            ClientCredentials::Missing => return Err(fail()),
        };
        let client = match self.client(&claimed_id).await? {
            Some(c) if !c.disabled => c,
            _ => return Err(fail()),
        };
        let method = client.metadata.token_endpoint_auth_method;
        let ok = match (creds, method) {
            (ClientCredentials::Basic { secret, .. }, ClientAuthMethod::ClientSecretBasic)
            | (ClientCredentials::Post { secret, .. }, ClientAuthMethod::ClientSecretPost) => {
                client.secret_hash.as_deref().is_some_and(|h| secure_eq(h, &token_hash(secret)))
            }
            (ClientCredentials::Assertion { assertion, .. }, ClientAuthMethod::PrivateKeyJwt) => {
                self.check_client_assertion(&client, assertion).await?
            }
            (ClientCredentials::None { .. }, ClientAuthMethod::None) => true,
            _ => false,
        };
        if ok { Ok(client) } else { Err(fail()) }
    }

    /// RFC 7523 §3 / OIDC Core §9: signature with the client's keys, iss = sub = client_id,
    /// our token endpoint or issuer in aud, unexpired, short-lived, `jti` never seen before.
    async fn check_client_assertion(&self, client: &RelyingParty, assertion: &str) -> Result<bool, OAuthError> {
        let Some(jws) = self.verify_with_client_keys(client, assertion).await else { return Ok(false) };
        let c = &jws.claims;
        let id = client.client_id.as_str();
        let now = self.now();
        let text = |k: &str| c.get(k).and_then(Value::as_str);
        let audience_ok = match c.get("aud") {
            Some(Value::String(a)) => self.accepts_audience(a),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(|a| self.accepts_audience(a)),
            _ => false,
        };
        let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
        let fresh = exp > now
            && exp - now <= MAX_ASSERTION_LIFETIME
            && c.get("nbf").and_then(Value::as_i64).is_none_or(|nbf| nbf <= now + 60);
        let Some(jti) = text("jti") else { return Ok(false) };
        if text("iss") != Some(id) || text("sub") != Some(id) || !audience_ok || !fresh {
            return Ok(false);
        }
        let key = format!("{id}:{}", token_hash(jti));
        Ok(self.store.grants().record_assertion(&key, exp).await?)
    }

    fn accepts_audience(&self, aud: &str) -> bool {
        aud == self.config.issuer || aud == self.endpoint("/oauth2/token")
    }
}

/// The `iss` of an unverified assertion, to find the client whose keys verify it; must agree
/// with `client_id` when both are sent.
fn assertion_issuer(client_id: Option<&str>, assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let iss = claims.get("iss")?.as_str()?.to_owned();
    match client_id {
        Some(id) if id != iss => None,
        _ => Some(iss),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(parse_basic(&header).unwrap(), ("my app".to_owned(), "s:cret".to_owned()));
    }

    #[test]
    fn two_authentication_methods_are_refused() {
        let params = Params::parse(b"client_id=a&client_secret=b").unwrap();
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        assert!(ClientCredentials::from_request(Some(&header), &params).is_err());
    }

    #[test]
    fn malformed_basic_header_is_invalid_client_with_basic_flag() {
        let err = ClientCredentials::from_request(Some("Basic !!!"), &Params::default()).unwrap_err();
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidClient);
        assert!(err.basic_auth_attempted);
    }
}
