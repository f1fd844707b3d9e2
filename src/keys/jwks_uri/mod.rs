//! JWK Sets that applications publish at a `jwks_uri` (RFC 7591 §2) instead of registering
//! them inline: which URLs are acceptable, and a per-node cache in front of the fetch.
//!
//! A set is used for `cache_secs`, then fetched again. An assertion naming a `kid` the cached
//! set lacks (the application rotated its keys) makes Pintu fetch early, but at most once per
//! `REFETCH_INTERVAL_SECS` per URL, whatever asks for it and whether the fetch worked: anyone
//! can send assertions with made-up `kid`s, and must not be able to make Pintu hammer the
//! application's server.

mod address;
mod fetch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

use crate::config::JwksUriConfig;

use super::VerifiedJws;
use super::client_jwks::{check_fetched_jwks, has_key_id, jws_key_id, verify_with_jwk_set};

use address::check_address;

/// Shortest time between two fetches of one URL outside the normal expiry.
pub const REFETCH_INTERVAL_SECS: i64 = 30;
/// Bound on cached URLs, so memory cannot grow without limit.
const MAX_ENTRIES: usize = 1000;
/// Longest `jwks_uri` accepted.
pub const MAX_JWKS_URI_LEN: usize = 2000;

/// Why an application's published keys could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksUriError {
    #[error("the jwks_uri is not acceptable: {0}")]
    Refused(String),
    #[error("the jwks_uri could not be fetched: {0}")]
    Unreachable(String),
    #[error("fetching the jwks_uri timed out")]
    Timeout,
    #[error("the jwks_uri answered more than {0} bytes")]
    TooLarge(usize),
    #[error("the jwks_uri does not hold a usable JWK Set: {0}")]
    Invalid(String),
    #[error("the last fetch of the jwks_uri failed; not retried before {REFETCH_INTERVAL_SECS} s have passed")]
    RecentlyFailed,
    #[error("the assertion's signature does not verify with the published keys")]
    BadSignature,
}

/// One GET of another document an application publishes (a SAML SP's metadata), behind the
/// same fences as a `jwks_uri`: the URL checked as one, every address checked when connecting,
/// no redirects, the configured timeout, and at most `max_bytes`. Not cached.
pub async fn fetch_published(
    uri: &str,
    config: &JwksUriConfig,
    accept: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, JwksUriError> {
    let url = check_jwks_uri(uri, config).map_err(JwksUriError::Refused)?;
    fetch::Fetcher::new(config.clone()).fetch_bytes(&url, accept, max_bytes).await
}

/// One POST of a form to an endpoint an application registered (its back-channel logout URI),
/// behind the same fences as a `jwks_uri`; the HTTP status it answered.
pub async fn post_published(uri: &str, config: &JwksUriConfig, form: &[(&str, &str)]) -> Result<u16, JwksUriError> {
    let url = check_jwks_uri(uri, config).map_err(JwksUriError::Refused)?;
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let content_type = "application/x-www-form-urlencoded";
    fetch::Fetcher::new(config.clone()).post(&url, content_type, body, None).await
}

/// One POST of a JSON document with a bearer token to an endpoint an application registered
/// (its CIBA notification endpoint), behind the same fences; the HTTP status it answered.
pub async fn post_published_json(
    uri: &str,
    config: &JwksUriConfig,
    bearer: &str,
    json: String,
) -> Result<u16, JwksUriError> {
    let url = check_jwks_uri(uri, config).map_err(JwksUriError::Refused)?;
    fetch::Fetcher::new(config.clone()).post(&url, "application/json", json, Some(bearer)).await
}

/// One SOAP 1.1 exchange with an endpoint an application registered (a SAML SP's single
/// logout service over the SOAP binding, SAML Bindings §3.2.2), behind the same fences: the
/// envelope POSTed as `text/xml` with the SOAPAction SAML names (§3.2.2.3); the status and at
/// most `max_bytes` of the answer.
pub async fn post_published_soap(
    uri: &str,
    config: &JwksUriConfig,
    envelope: String,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), JwksUriError> {
    let url = check_jwks_uri(uri, config).map_err(JwksUriError::Refused)?;
    let action = [("SOAPAction", "\"http://www.oasis-open.org/committees/security\"")];
    fetch::Fetcher::new(config.clone()).exchange(&url, ("text/xml; charset=utf-8", envelope), &action, max_bytes).await
}

/// Checks a `jwks_uri` against the configuration: https, or plain http to a loopback host when
/// the issuer is itself a plain-http loopback address (development); no credentials, no
/// fragment; an address literal must be one Pintu may connect to. Host names are checked
/// when fetched (their addresses can change).
pub fn check_jwks_uri(uri: &str, config: &JwksUriConfig) -> Result<Url, String> {
    if uri.len() > MAX_JWKS_URI_LEN || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must be a URL of at most 2000 characters without spaces or control characters".to_owned());
    }
    let url = Url::parse(uri).map_err(|_| "must be an absolute URL".to_owned())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment".to_owned());
    }
    match url.scheme() {
        "https" => {}
        "http" if config.allow_http_loopback && crate::config::is_loopback(&url) => {}
        "http" => return Err("must use https".to_owned()),
        other => return Err(format!("scheme {other} is not allowed; use https")),
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(ip.into()),
        Some(url::Host::Ipv6(ip)) => Some(ip.into()),
        Some(url::Host::Domain(_)) => None,
        None => return Err("must name a host".to_owned()),
    };
    if let Some(ip) = literal {
        check_address(ip, config.allow_private_addresses)?;
    }
    Ok(url)
}

/// One URL's cached set and the times of its last fetches.
#[derive(Default)]
struct Entry {
    keys: Option<Arc<Value>>,
    fetched_at: i64,
    failed_at: Option<i64>,
}

impl Entry {
    fn last_attempt(&self) -> Option<i64> {
        let fetched = self.keys.as_ref().map(|_| self.fetched_at);
        fetched.max(self.failed_at)
    }
}

/// The per-node cache of fetched JWK Sets. Cheap to share behind an `Arc`.
pub struct JwksUriCache {
    fetcher: fetch::Fetcher,
    /// One async lock per URL: concurrent requests for the same URL wait for one fetch.
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl JwksUriCache {
    pub fn new(config: JwksUriConfig) -> Self {
        Self { fetcher: fetch::Fetcher::new(config), entries: Mutex::new(HashMap::new()) }
    }

    /// Verifies a compact JWS with the keys published at `uri`, fetching them when the cache
    /// has none, they expired, or (rate-limited) the JWS names a `kid` they lack.
    pub async fn verify(&self, uri: &str, token: &str, now: i64) -> Result<VerifiedJws, JwksUriError> {
        let mut keys = self.key_set(uri, now, false).await?;
        if let Some(kid) = jws_key_id(token)
            && !has_key_id(&keys, &kid)
        {
            keys = self.key_set(uri, now, true).await?;
        }
        verify_with_jwk_set(token, &keys).map_err(|_| JwksUriError::BadSignature)
    }

    fn entry(&self, uri: &str) -> Result<Arc<tokio::sync::Mutex<Entry>>, JwksUriError> {
        let mut entries = self.entries.lock().map_err(|_| JwksUriError::Unreachable("cache poisoned".to_owned()))?;
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(uri) {
            entries.clear();
        }
        Ok(entries.entry(uri.to_owned()).or_default().clone())
    }

    async fn key_set(&self, uri: &str, now: i64, unknown_kid: bool) -> Result<Arc<Value>, JwksUriError> {
        let entry = self.entry(uri)?;
        let mut entry = entry.lock().await;
        let fresh = entry.keys.clone().filter(|_| now - entry.fetched_at < self.fetcher.config().cache_secs);
        if let (Some(keys), false) = (&fresh, unknown_kid) {
            return Ok(keys.clone());
        }
        if entry.last_attempt().is_some_and(|at| now - at < REFETCH_INTERVAL_SECS) {
            // `cache_secs` is at least the refetch interval (config), so a set fetched within
            // the interval is still fresh: what is not fresh here, the last attempt failed.
            return fresh.ok_or(JwksUriError::RecentlyFailed);
        }
        match self.fetch_checked(uri).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *entry = Entry { keys: Some(keys.clone()), fetched_at: now, failed_at: None };
                Ok(keys)
            }
            Err(e) => {
                // Keys still within `cache_secs` keep serving (a failed early refetch must not
                // lock the application out); expired ones are not used again: fail closed.
                entry.failed_at = Some(now);
                Err(e)
            }
        }
    }

    async fn fetch_checked(&self, uri: &str) -> Result<Value, JwksUriError> {
        let url = check_jwks_uri(uri, self.fetcher.config()).map_err(JwksUriError::Refused)?;
        let keys = self.fetcher.fetch(&url).await?;
        check_fetched_jwks(&keys).map_err(JwksUriError::Invalid)?;
        Ok(keys)
    }
}
