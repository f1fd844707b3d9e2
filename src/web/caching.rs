//! How long a response may be kept, decided here for every route: never (tokens, credentials,
//! client information, introspection answers, error documents, pages carrying CSRF tokens), or
//! publicly for a while (discovery, the JWK Set, the stylesheet and the page script).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// RFC 6749 §5.1: `Cache-Control: no-store` and `Pragma: no-cache` (for HTTP/1.0 caches) on
/// any response carrying tokens, credentials or other sensitive information: token answers,
/// client information with its secrets (RFC 7591 §3.2.1, RFC 7592), introspection answers
/// (RFC 7662), userinfo, every error document and every page.
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// How long anyone may keep a public document (a `Cache-Control` value, fixed at compile
/// time so serving discovery or the JWK Set formats nothing).
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    FiveMinutes,
    AnHour,
}

impl Keep {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Keep::FiveMinutes => "public, max-age=300",
            Keep::AnHour => "public, max-age=3600",
        })
    }
}

/// A document anyone may cache for `keep`, served as `content_type`.
pub fn public(body: impl IntoResponse, content_type: &'static str, keep: Keep) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, keep.header());
    response
}
