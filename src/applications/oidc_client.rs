//! An application's OpenID Connect registration: RFC 7591 §2 client metadata as sent and its
//! validation into `ClientMetadata`, the same for dynamic registration and the command line.
//! Pure: the checks that need the configuration (`jwks_uri` addresses) are the service's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::authorization::AUTHORIZATION_DETAILS_TYPES;
use crate::domain::scope::SUPPORTED_SCOPES;
use crate::domain::{ClientAuthMethod, ClientMetadata, GrantType, Scope, SigningAlg};

use super::ApplicationError;

/// Longest URI accepted in any metadata field.
pub(super) const MAX_URI_LEN: usize = 2000;
/// Most language-tagged forms (RFC 7591 §2.2) one registration may carry.
const MAX_LOCALIZED: usize = 50;
/// The human-readable fields that may carry a language tag (RFC 7591 §2.2).
const LOCALIZABLE: &[&str] = &["client_name", "client_uri", "logo_uri", "policy_uri", "tos_uri"];

/// RFC 7591 §2 metadata as sent, before validation.
#[derive(Debug, Default, Deserialize)]
pub struct RawMetadata {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub scope: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub tls_client_auth_subject_dn: Option<String>,
    pub tls_client_auth_san_dns: Option<String>,
    pub tls_client_auth_san_uri: Option<String>,
    pub tls_client_auth_san_ip: Option<String>,
    pub tls_client_auth_san_email: Option<String>,
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    pub authorization_details_types: Option<Vec<String>>,
    pub backchannel_token_delivery_mode: Option<String>,
    pub backchannel_client_notification_endpoint: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    pub frontchannel_logout_uri: Option<String>,
    pub frontchannel_logout_session_required: Option<bool>,
    /// Every other member: the language-tagged forms (`logo_uri#en`) are taken from here;
    /// the rest is ignored, as RFC 7591 §2 requires of metadata a server does not understand.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn bad_meta(msg: impl Into<Cow<'static, str>>) -> ApplicationError {
    ApplicationError::invalid_metadata(msg)
}

/// Turns raw metadata into validated `ClientMetadata` (RFC 7591 §2, §3.2.2 error codes).
pub fn validate_metadata(raw: RawMetadata) -> Result<ClientMetadata, ApplicationError> {
    let grant_types = grant_types(raw.grant_types.as_deref(), raw.response_types.as_deref())?;
    let method = match raw.token_endpoint_auth_method.as_deref() {
        None => ClientAuthMethod::ClientSecretBasic,
        Some(m) => ClientAuthMethod::parse(m)
            .ok_or_else(|| bad_meta(format!("token_endpoint_auth_method {m} is not supported")))?,
    };
    check_keys(method, raw.jwks.as_ref(), raw.jwks_uri.as_deref())?;
    check_tls_client_auth(method, &raw)?;
    // RFC 8705 §4 asks public clients' refresh tokens to be bound as well, which Pintu does not
    // do: bound access tokens are for clients that authenticate with their certificate.
    if raw.tls_client_certificate_bound_access_tokens == Some(true) && !method.uses_certificate() {
        return Err(bad_meta(
            "tls_client_certificate_bound_access_tokens needs tls_client_auth or self_signed_tls_client_auth",
        ));
    }
    if method == ClientAuthMethod::None && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(bad_meta("public clients cannot use client_credentials"));
    }
    // OpenID Connect Dynamic Client Registration 1.0 §2: "The default, if omitted, is RS256."
    let alg = match raw.id_token_signed_response_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(a) => SigningAlg::parse(a)
            .ok_or_else(|| bad_meta(format!("id_token_signed_response_alg {a} is not supported")))?,
    };
    if let Some(scope) = &raw.scope {
        check_scope(scope)?;
    }
    check_human_fields(&raw)?;
    super::backchannel::check_backchannel(&raw, &grant_types, method)?;
    let logout = super::backchannel::check_logout_uris(&raw, raw.redirect_uris.as_deref().unwrap_or_default())?;
    let redirect_uris = raw.redirect_uris.unwrap_or_default();
    let post_logout = raw.post_logout_redirect_uris.unwrap_or_default();
    check_redirect_uris(&redirect_uris, &post_logout, &grant_types, method)?;
    let types = raw.authorization_details_types.unwrap_or_default();
    if let Some(unknown) = types.iter().find(|t| !AUTHORIZATION_DETAILS_TYPES.contains(&t.as_str())) {
        return Err(bad_meta(format!("authorization_details_types: {unknown} is not supported")));
    }
    Ok(ClientMetadata {
        client_name: raw.client_name,
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types,
        token_endpoint_auth_method: method,
        id_token_signed_response_alg: alg,
        scope: raw.scope,
        jwks: raw.jwks,
        jwks_uri: raw.jwks_uri,
        contacts: raw.contacts.unwrap_or_default(),
        client_uri: raw.client_uri,
        logo_uri: raw.logo_uri,
        policy_uri: raw.policy_uri,
        tos_uri: raw.tos_uri,
        localized: localized_fields(&raw.other)?,
        tls_client_auth_subject_dn: raw.tls_client_auth_subject_dn,
        tls_client_auth_san_dns: raw.tls_client_auth_san_dns,
        tls_client_auth_san_uri: raw.tls_client_auth_san_uri,
        tls_client_auth_san_ip: raw.tls_client_auth_san_ip,
        tls_client_auth_san_email: raw.tls_client_auth_san_email,
        tls_client_certificate_bound_access_tokens: raw.tls_client_certificate_bound_access_tokens.unwrap_or(false),
        authorization_details_types: types,
        backchannel_token_delivery_mode: raw.backchannel_token_delivery_mode,
        backchannel_client_notification_endpoint: raw.backchannel_client_notification_endpoint,
        logout,
    })
}

/// The fields shown to people: the name and the web pages (RFC 7591 §2).
fn check_human_fields(raw: &RawMetadata) -> Result<(), ApplicationError> {
    let fields = [
        ("client_name", &raw.client_name),
        ("client_uri", &raw.client_uri),
        ("logo_uri", &raw.logo_uri),
        ("policy_uri", &raw.policy_uri),
        ("tos_uri", &raw.tos_uri),
    ];
    for (field, value) in fields {
        if let Some(v) = value {
            check_field(field, v)?;
        }
    }
    Ok(())
}

/// RFC 7591 §2.1: `response_types` must agree with `grant_types`; only `code` is supported.
fn grant_types(
    grants: Option<&[String]>,
    response_types: Option<&[String]>,
) -> Result<Vec<GrantType>, ApplicationError> {
    let grant_types = match grants {
        None => vec![GrantType::AuthorizationCode],
        Some(list) => list
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| bad_meta(format!("grant type {g} is not supported"))))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let wants_code = grant_types.contains(&GrantType::AuthorizationCode);
    match response_types {
        None => {}
        Some([]) if !wants_code => {}
        Some([one]) if one == "code" && wants_code => {}
        Some(_) => return Err(bad_meta("response_types must be [\"code\"] with the authorization_code grant")),
    }
    Ok(grant_types)
}

/// Both lists of redirect URIs; `redirect_uris` is required for the code grant.
fn check_redirect_uris(
    redirect_uris: &[String],
    post_logout: &[String],
    grant_types: &[GrantType],
    method: ClientAuthMethod,
) -> Result<(), ApplicationError> {
    if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(ApplicationError::invalid_redirect_uri(
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    let public = method == ClientAuthMethod::None;
    for uri in redirect_uris {
        check_redirect_uri(uri, public).map_err(ApplicationError::invalid_redirect_uri)?;
    }
    for uri in post_logout {
        check_redirect_uri(uri, public).map_err(|m| bad_meta(format!("post_logout_redirect_uris: {m}")))?;
    }
    Ok(())
}

/// `jwks` and `jwks_uri`: never both (RFC 7591 §2), a well-formed set of public keys, and one
/// of them for `private_key_jwt`.
fn check_keys(method: ClientAuthMethod, jwks: Option<&Value>, jwks_uri: Option<&str>) -> Result<(), ApplicationError> {
    if jwks.is_some() && jwks_uri.is_some() {
        return Err(bad_meta("jwks and jwks_uri must not both be present (RFC 7591 §2)"));
    }
    if let Some(set) = jwks {
        crate::keys::check_client_jwks(set).map_err(|e| bad_meta(format!("jwks: {e}")))?;
    }
    if let Some(uri) = jwks_uri {
        check_uri(uri, false).map_err(|e| bad_meta(format!("jwks_uri: {e}")))?;
    }
    if method == ClientAuthMethod::PrivateKeyJwt && jwks.is_none() && jwks_uri.is_none() {
        return Err(bad_meta("private_key_jwt needs jwks or jwks_uri"));
    }
    Ok(())
}

/// RFC 8705 §2.1.2: `tls_client_auth` names its certificate by exactly one subject DN or SAN;
/// §2.2: `self_signed_tls_client_auth` registers the certificate in `jwks` (an `x5c`).
fn check_tls_client_auth(method: ClientAuthMethod, raw: &RawMetadata) -> Result<(), ApplicationError> {
    let names = [
        &raw.tls_client_auth_subject_dn,
        &raw.tls_client_auth_san_dns,
        &raw.tls_client_auth_san_uri,
        &raw.tls_client_auth_san_ip,
        &raw.tls_client_auth_san_email,
    ];
    let given: Vec<&String> = names.iter().filter_map(|n| n.as_ref()).collect();
    for value in &given {
        if value.is_empty() || value.len() > 1000 || value.chars().any(char::is_control) {
            return Err(bad_meta("tls_client_auth_* values must be 1-1000 printable characters"));
        }
    }
    match method {
        ClientAuthMethod::TlsClientAuth if given.len() != 1 => Err(bad_meta(
            "tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, \
             tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email (RFC 8705 §2.1.2)",
        )),
        ClientAuthMethod::TlsClientAuth => Ok(()),
        _ if !given.is_empty() => Err(bad_meta("tls_client_auth_* metadata is only for tls_client_auth")),
        ClientAuthMethod::SelfSignedTlsClientAuth => {
            let has_x5c = raw.jwks.as_ref().and_then(|j| j.get("keys")).and_then(Value::as_array).is_some_and(|keys| {
                keys.iter().any(|k| k.get("x5c").and_then(Value::as_array).is_some_and(|c| !c.is_empty()))
            });
            if has_x5c {
                Ok(())
            } else {
                Err(bad_meta("self_signed_tls_client_auth needs jwks with the certificate in x5c (RFC 8705 §2.2)"))
            }
        }
        _ => Ok(()),
    }
}

/// Every registered scope must be one Pintu supports: a client that registers a scope it can
/// never be granted has a broken configuration worth reporting at once.
fn check_scope(scope: &str) -> Result<(), ApplicationError> {
    let parsed = Scope::parse(scope).map_err(|e| bad_meta(e.to_string()))?;
    let unknown: Vec<&str> = parsed.iter().filter(|s| !SUPPORTED_SCOPES.contains(s)).collect();
    if !unknown.is_empty() {
        return Err(bad_meta(format!("scope {} is not supported", unknown.join(" "))));
    }
    Ok(())
}

/// One human-readable field: `client_name` is text, the others web pages or images.
fn check_field(field: &str, value: &str) -> Result<(), ApplicationError> {
    if field == "client_name" {
        if value.chars().count() > 200 || value.chars().any(char::is_control) {
            return Err(bad_meta("client_name must be at most 200 characters without control characters"));
        }
        return Ok(());
    }
    check_uri(value, true).map_err(|e| bad_meta(format!("{field}: {e}")))
}

/// RFC 7591 §2.2: `field#tag`, where the tag is a BCP 47 language tag.
fn localized_fields(other: &Map<String, Value>) -> Result<BTreeMap<String, String>, ApplicationError> {
    let mut localized = BTreeMap::new();
    for (key, value) in other {
        let Some((field, tag)) = key.split_once('#') else { continue };
        if !LOCALIZABLE.contains(&field) {
            continue; // not a field Pintu knows: ignored (RFC 7591 §2)
        }
        if !is_language_tag(tag) {
            return Err(bad_meta(format!("{key}: {tag} is not a BCP 47 language tag")));
        }
        let Value::String(text) = value else { return Err(bad_meta(format!("{key} must be a string"))) };
        check_field(field, text)?;
        localized.insert(key.clone(), text.clone());
    }
    if localized.len() > MAX_LOCALIZED {
        return Err(bad_meta(format!("at most {MAX_LOCALIZED} language-tagged fields")));
    }
    Ok(localized)
}

/// The shape of a BCP 47 tag (RFC 5646 §2.1): alphanumeric subtags of 1 to 8 characters
/// joined by hyphens, starting with a 2-8 letter language (or `i`/`x`).
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let first_ok = subtags.next().is_some_and(|l| {
        l.chars().all(|c| c.is_ascii_alphabetic()) && ((2..=8).contains(&l.len()) || l == "i" || l == "x")
    });
    first_ok
        && tag.len() <= 64
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A web URL in metadata: absolute, https (plain http only on loopback), at most
/// `MAX_URI_LEN`, no spaces or control characters, no credentials; a fragment only where
/// `fragment_ok`.
pub(super) fn check_uri(uri: &str, fragment_ok: bool) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("must be at most {MAX_URI_LEN} characters"));
    }
    check_text_of_uri(uri)?;
    let url = url::Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URI"))?;
    check_no_userinfo(&url, uri)?;
    if !fragment_ok && url.fragment().is_some() {
        return Err(format!("{uri} must not contain a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::config::is_loopback(&url) => Ok(()),
        _ => Err(format!("{uri} must use https (plain http only on loopback)")),
    }
}

/// The URL parser silently drops tabs and newlines and trims control characters and spaces
/// (WHATWG URL §4.4), so it would accept a URI different from the string registered; such
/// URIs are refused before parsing.
/// A backslash is read as `/` in the host part of web URLs, by some parsers and not others.
fn check_text_of_uri(uri: &str) -> Result<(), String> {
    if uri.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return Err(format!("{} must not contain spaces, backslashes or control characters", uri.escape_debug()));
    }
    Ok(())
}

/// RFC 9700 §4.1.1 / RFC 3986 §3.2.1: a `user@` part makes `https://trusted.go.id@evil.example/`
/// look like one host while naming another; credentials never belong in a registered URI.
/// The raw text is checked too: the parser drops an empty `@`.
fn check_no_userinfo(url: &url::Url, uri: &str) -> Result<(), String> {
    let raw_authority = uri.split_once("://").and_then(|(_, rest)| rest.split(['/', '?', '#']).next());
    if !url.username().is_empty() || url.password().is_some() || raw_authority.is_some_and(|a| a.contains('@')) {
        return Err(format!("{uri} must not contain user information"));
    }
    Ok(())
}

/// RFC 6749 §3.1.2, RFC 9700 §4.1, RFC 8252 §7: absolute, no fragment, no user information,
/// no spaces or control characters; https, http only on loopback, or (public native clients)
/// a private-use scheme with a dot.
pub fn check_redirect_uri(uri: &str, public: bool) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("redirect URIs must be at most {MAX_URI_LEN} characters"));
    }
    check_text_of_uri(uri)?;
    let url = url::Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri} must not contain a fragment"));
    }
    check_no_userinfo(&url, uri)?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::config::is_loopback(&url) => Ok(()),
        "http" => Err(format!("{uri} must use https (plain http only on loopback)")),
        s if public && s.contains('.') => Ok(()),
        s => Err(format!("scheme {s} is not allowed in {uri}")),
    }
}

#[cfg(test)]
#[path = "oidc_client_tests.rs"]
mod tests;
