//! Reading OAuth parameters from requests: the query string, or a form body whose content
//! type and encoding are checked (RFC 6749 §3.2, §4.1.3: `application/x-www-form-urlencoded`).
//! The pages' forms are read the same way; `Params` refuses control characters by each
//! field's rule (`domain::text`), after percent-decoding.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};

use crate::oidc::{OAuthError, Params, ParamsError};

use super::AppState;

/// Why a query string or form body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the body must be application/x-www-form-urlencoded")]
    NotForm,
    #[error("{0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Params(#[from] ParamsError),
}

impl FormError {
    /// A field held a control character its rule refuses (a page shows a message for it).
    pub fn is_control_character(&self) -> bool {
        matches!(self, FormError::Params(ParamsError::ControlCharacter { .. }))
    }
}

/// Every case is `invalid_request` (RFC 6749 §5.2: "otherwise malformed").
impl From<FormError> for OAuthError {
    fn from(e: FormError) -> Self {
        match e {
            FormError::Params(p) => p.into(),
            other => OAuthError::invalid_request(other.to_string()),
        }
    }
}

/// Parameters from the query string.
pub fn query_params(uri: &Uri) -> Result<Params, OAuthError> {
    Ok(checked_parse(uri.query().unwrap_or("").as_bytes())?)
}

/// Parameters from a form body; any other content type is `invalid_request`.
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
    Ok(form_fields(headers, body)?)
}

/// The fields of a page's form, with the reason when they cannot be read.
pub fn form_fields(headers: &HeaderMap, body: &Bytes) -> Result<Params, FormError> {
    if !is_form(headers) {
        return Err(FormError::NotForm);
    }
    checked_parse(body)
}

pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Form encoding is ASCII; percent-escapes must decode to UTF-8 (no silent replacement).
fn checked_parse(raw: &[u8]) -> Result<Params, FormError> {
    if raw.iter().any(|b| !b.is_ascii() || b.is_ascii_control()) {
        return Err(FormError::Malformed("malformed form encoding"));
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if pairs.iter().any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}')) {
        return Err(FormError::Malformed("malformed percent-encoding"));
    }
    Ok(Params::from_pairs(pairs)?)
}

/// The `Authorization` header as text, if present and printable.
pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// RFC 6750 §2.1: the token of a `Bearer` authorization header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = authorization(headers)?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The client's address, for audit events and login throttling: the peer address, or, when
/// the peer is a configured trusted proxy, the right-most `X-Forwarded-For` entry that is not
/// a trusted proxy (entries further left are whatever the client claimed). `None` when the
/// server was not started with connection info.
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
            return Ok(ClientIp(None));
        };
        Ok(ClientIp(Some(client_address(peer, &parts.headers, &state.web.trusted_proxies).to_string())))
    }
}

fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse().ok()).collect();
    hops.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.5".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, &[proxy]).to_string(), "203.0.113.9");
        assert_eq!(client_address(proxy, &headers, &[]).to_string(), "10.0.0.5", "untrusted peers are the client");
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_address(stranger, &headers, &[proxy]), stranger);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn invalid_utf8_escape_is_rejected() {
        assert!(checked_parse(b"code=%ff%fe").is_err());
        assert!(checked_parse(b"code=abc%20def").is_ok());
    }

    #[test]
    fn an_escaped_nul_is_a_control_character_not_a_malformed_form() {
        assert!(checked_parse(b"username=a%00b").is_err_and(|e| e.is_control_character()));
        assert!(checked_parse(b"username=a\0b").is_err_and(|e| !e.is_control_character()));
    }
}
