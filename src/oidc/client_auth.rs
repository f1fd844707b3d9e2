//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt, none.
//!
//! A client must use the method it registered (OIDC Core §9: `token_endpoint_auth_method`).
//! Every failure is `invalid_client` (RFC 6749 §5.2), logged at warn and audited with its
//! reason. The description is the same whatever failed, except when a registered, enabled
//! client used another method than its own: then it names both, because that is a
//! configuration mistake (openid-client v6 sends client_secret_post by default, Pintu
//! registers client_secret_basic by default) and the authorization endpoint already tells
//! anyone whether a client_id exists. Unknown and disabled clients stay indistinguishable.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::audit::AuditEvent;
use crate::domain::{ClientAuthMethod, ClientId, RelyingParty};

use crate::certificates::Presented;

use super::{OAuthError, OidcService, Params, check_parameter, secure_eq, token_hash};

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

    /// The method these credentials use (`None` when there are none).
    fn method(&self) -> Option<ClientAuthMethod> {
        match self {
            ClientCredentials::Basic { .. } => Some(ClientAuthMethod::ClientSecretBasic),
            ClientCredentials::Post { .. } => Some(ClientAuthMethod::ClientSecretPost),
            ClientCredentials::Assertion { .. } => Some(ClientAuthMethod::PrivateKeyJwt),
            ClientCredentials::None { .. } => Some(ClientAuthMethod::None),
            ClientCredentials::Missing => None,
        }
    }

    /// The client_id the request claims (for an assertion, its unverified `iss`).
    fn claimed_id(&self) -> Option<String> {
        match self {
            ClientCredentials::Basic { client_id, .. }
            | ClientCredentials::Post { client_id, .. }
            | ClientCredentials::None { client_id } => Some(client_id.clone()),
            ClientCredentials::Assertion { client_id, assertion } => assertion_issuer(client_id.as_deref(), assertion),
            ClientCredentials::Missing => None,
        }
    }
}

/// Why a client was refused. Logged and audited; only `WrongMethod` is told to the client.
#[derive(Debug)]
enum Refusal {
    NoCredentials,
    UnknownClient,
    Disabled,
    WrongMethod {
        registered: ClientAuthMethod,
        used: ClientAuthMethod,
    },
    WrongSecret,
    InvalidAssertion,
    /// RFC 8705: no certificate, or one that is not the client's.
    WrongCertificate,
    /// Not the client's fault (storage): answered `server_error`, not audited.
    Server(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Refusal::Server(e)
    }
}

impl Refusal {
    fn reason(&self) -> Cow<'static, str> {
        match self {
            Refusal::NoCredentials => "no client authentication".into(),
            Refusal::UnknownClient => "unknown client".into(),
            Refusal::Disabled => "disabled client".into(),
            Refusal::WrongMethod { registered, used } => {
                format!("this client is registered for {}; {} was used", registered.as_str(), used.as_str()).into()
            }
            Refusal::WrongSecret => "wrong client secret".into(),
            Refusal::InvalidAssertion => "invalid client assertion".into(),
            Refusal::WrongCertificate => "no client certificate, or not the registered one".into(),
            Refusal::Server(_) => "server error".into(),
        }
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
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    if id.is_empty() {
        return Err(bad());
    }
    // The pair stands for the client_id and client_secret parameters, under their rules.
    check_parameter("client_id", &id)?;
    check_parameter("client_secret", &secret)?;
    Ok((id, secret))
}

impl OidcService {
    /// Authenticates a client with the method it registered; `ip` is the caller's address for
    /// the audit event of a failure. Any failure is `invalid_client` (RFC 6749 §5.2).
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        cert: Option<&Presented>,
        ip: Option<&str>,
    ) -> Result<RelyingParty, OAuthError> {
        let (known, refusal) = match self.check_client(creds, cert).await {
            Ok(client) => return Ok(client),
            Err((_, Refusal::Server(e))) => return Err(e),
            Err(refused) => refused,
        };
        let reason = refusal.reason();
        let method = creds.method().map(ClientAuthMethod::as_str);
        // Never the secret or the assertion: the claimed id, the method and the reason.
        tracing::warn!(client_id = creds.claimed_id().as_deref(), method, %reason, "client authentication failed");
        let event = AuditEvent::client_authentication_failed(known.as_ref(), method, &reason).from_ip(ip);
        self.audit.record_or_log(event).await;
        let description = match refusal {
            Refusal::WrongMethod { .. } => reason,
            _ => "client authentication failed".into(),
        };
        Err(OAuthError { basic_auth_attempted: creds.is_basic(), ..OAuthError::invalid_client(description) })
    }

    /// The client, or why it was refused together with the registered client's id (`None`
    /// when the request names no registered client).
    async fn check_client(
        &self,
        creds: &ClientCredentials,
        cert: Option<&Presented>,
    ) -> Result<RelyingParty, (Option<ClientId>, Refusal)> {
        let Some(claimed_id) = creds.claimed_id() else {
            let assertion = matches!(creds, ClientCredentials::Assertion { .. });
            return Err((None, if assertion { Refusal::InvalidAssertion } else { Refusal::NoCredentials }));
        };
        let client = match self.client(&claimed_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err((None, Refusal::UnknownClient)),
            Err(e) => return Err((None, e.into())),
        };
        let known = Some(client.client_id.clone());
        if client.disabled {
            return Err((known, Refusal::Disabled));
        }
        let registered = client.metadata.token_endpoint_auth_method;
        let ok = match (creds, registered) {
            (ClientCredentials::Basic { secret, .. }, ClientAuthMethod::ClientSecretBasic)
            | (ClientCredentials::Post { secret, .. }, ClientAuthMethod::ClientSecretPost) => {
                client.secret_hash.as_deref().is_some_and(|h| secure_eq(h, &token_hash(secret)))
            }
            (ClientCredentials::Assertion { assertion, .. }, ClientAuthMethod::PrivateKeyJwt) => {
                self.check_client_assertion(&client, assertion).await.map_err(|e| (known.clone(), e.into()))?
            }
            (ClientCredentials::None { .. }, ClientAuthMethod::None) => true,
            (ClientCredentials::None { .. }, m) if m.uses_certificate() => {
                let matched = match cert {
                    Some(c) => self.certificate_is_clients(&client, c).await,
                    None => false,
                };
                if matched {
                    return Ok(client);
                }
                return Err((known, Refusal::WrongCertificate));
            }
            _ => {
                let used = creds.method().unwrap_or(ClientAuthMethod::None);
                return Err((known, Refusal::WrongMethod { registered, used }));
            }
        };
        match (ok, registered) {
            (true, _) => Ok(client),
            (false, ClientAuthMethod::PrivateKeyJwt) => Err((known, Refusal::InvalidAssertion)),
            (false, _) => Err((known, Refusal::WrongSecret)),
        }
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

    /// RFC 8705 §2.1: a certificate from a trusted CA (checked like people's) that carries the
    /// registered subject DN or SAN; §2.2: the very certificate registered in `jwks`.
    async fn certificate_is_clients(&self, client: &RelyingParty, cert: &Presented) -> bool {
        let m = &client.metadata;
        match m.token_endpoint_auth_method {
            ClientAuthMethod::TlsClientAuth => {
                let Ok(valid) = self.certificates.validate_client(cert).await else { return false };
                crate::certificates::matches_registration(
                    &valid.facts,
                    crate::certificates::ClientCertificateName {
                        subject_dn: m.tls_client_auth_subject_dn.as_deref(),
                        san_dns: m.tls_client_auth_san_dns.as_deref(),
                        san_uri: m.tls_client_auth_san_uri.as_deref(),
                        san_ip: m.tls_client_auth_san_ip.as_deref(),
                        san_email: m.tls_client_auth_san_email.as_deref(),
                    },
                )
            }
            ClientAuthMethod::SelfSignedTlsClientAuth => {
                let presented = crate::certificates::x509::thumbprint(&cert.leaf);
                registered_certificates(m.jwks.as_ref())
                    .iter()
                    .any(|der| crate::certificates::x509::thumbprint_of_der(der) == presented)
            }
            _ => false,
        }
    }

    fn accepts_audience(&self, aud: &str) -> bool {
        aud == self.config.issuer || aud == self.endpoint("/oauth2/token")
    }
}

/// The certificates (`x5c[0]`, DER) of a registered JWK Set.
fn registered_certificates(jwks: Option<&Value>) -> Vec<Vec<u8>> {
    let keys = jwks.and_then(|j| j.get("keys")).and_then(Value::as_array).cloned().unwrap_or_default();
    keys.iter()
        .filter_map(|k| k.get("x5c")?.as_array()?.first()?.as_str().map(str::to_owned))
        .filter_map(|c| STANDARD.decode(c).ok())
        .collect()
}

/// The `iss` of an unverified assertion, to find the client whose keys verify it; must agree
/// with `client_id` when both are sent, and is a client_id parameter in all but name.
fn assertion_issuer(client_id: Option<&str>, assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let iss = claims.get("iss")?.as_str()?.to_owned();
    check_parameter("client_id", &iss).ok()?;
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
    fn control_characters_in_basic_credentials_are_invalid_request() {
        for pair in ["a%00b:secret", "app:s%00cret", "a%0Ab:secret"] {
            let header = format!("Basic {}", STANDARD.encode(pair));
            let err = ClientCredentials::from_request(Some(&header), &Params::default()).unwrap_err();
            assert_eq!(err.code, crate::oidc::ErrorCode::InvalidRequest, "{pair}");
        }
    }

    #[test]
    fn an_assertion_issuer_with_a_control_character_names_no_client() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"iss":"a\u0000b"}"#);
        assert_eq!(assertion_issuer(None, &format!("e30.{claims}.sig")), None);
    }

    #[test]
    fn a_method_mismatch_names_the_registered_method() {
        let refusal = Refusal::WrongMethod {
            registered: ClientAuthMethod::ClientSecretBasic,
            used: ClientAuthMethod::ClientSecretPost,
        };
        assert_eq!(refusal.reason(), "this client is registered for client_secret_basic; client_secret_post was used");
    }

    #[test]
    fn malformed_basic_header_is_invalid_client_with_basic_flag() {
        let err = ClientCredentials::from_request(Some("Basic !!!"), &Params::default()).unwrap_err();
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidClient);
        assert!(err.basic_auth_attempted);
    }
}
