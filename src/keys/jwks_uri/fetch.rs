//! One HTTP GET of a `jwks_uri` (or of another document an application publishes: a SAML
//! SP's metadata), the only outgoing HTTP request to an application's server Pintu makes (and
//! the only place that uses reqwest for one). The URL comes from an outsider, so the request
//! is fenced in:
//! - host names are resolved here and every address is checked before connecting; the
//!   connection goes to exactly the checked addresses, so a DNS answer that changes between
//!   check and connect (DNS rebinding) cannot lead it elsewhere;
//! - no redirects (a redirect could lead to an address that was never checked), no proxy from
//!   the environment, no cookies, no compression;
//! - one timeout for the whole exchange, and the body is read up to a size limit.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;
use url::{Host, Url};

use crate::config::JwksUriConfig;

use super::JwksUriError;
use super::address::check_address;

/// The HTTP client, built on first use (building loads the system's trusted roots).
pub(super) struct Fetcher {
    config: JwksUriConfig,
    client: tokio::sync::OnceCell<reqwest::Client>,
}

/// Refusal of an address by the resolver, found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AddressRefused(String);

/// Resolves with the system resolver and hands reqwest only addresses that pass the check;
/// one refused address refuses the name (a name that mixes public and internal addresses is
/// an attack or a misconfiguration).
struct CheckedResolver {
    allow_internal: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_internal = self.allow_internal;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(Box::new(AddressRefused(format!("{host} has no address"))) as _);
            }
            for addr in &addrs {
                check_address(addr.ip(), allow_internal)
                    .map_err(|e| Box::new(AddressRefused(format!("{host}: {e}"))) as Box<_>)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Fetcher {
    pub(super) fn new(config: JwksUriConfig) -> Self {
        Self { config, client: tokio::sync::OnceCell::new() }
    }

    pub(super) fn config(&self) -> &JwksUriConfig {
        &self.config
    }

    async fn client(&self) -> Result<&reqwest::Client, JwksUriError> {
        self.client
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .dns_resolver(Arc::new(CheckedResolver { allow_internal: self.config.allow_private_addresses }))
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .referer(false)
                    .timeout(self.config.timeout)
                    .connect_timeout(self.config.timeout)
                    .user_agent(concat!("Pintu/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| JwksUriError::Unreachable(e.to_string()))
            })
            .await
    }

    /// GETs the JWK Set at `url` (already checked by `check_jwks_uri`).
    pub(super) async fn fetch(&self, url: &Url) -> Result<Value, JwksUriError> {
        let accept = "application/jwk-set+json, application/json";
        let body = self.fetch_bytes(url, accept, self.config.max_bytes).await?;
        serde_json::from_slice(&body).map_err(|_| JwksUriError::Invalid("the body is not JSON".to_owned()))
    }

    /// An address literal is not resolved, so reqwest would not ask the resolver: checked here.
    fn check_literal(&self, url: &Url) -> Result<(), JwksUriError> {
        match url.host() {
            Some(Host::Ipv4(ip)) => check_address(ip.into(), self.config.allow_private_addresses),
            Some(Host::Ipv6(ip)) => check_address(ip.into(), self.config.allow_private_addresses),
            _ => Ok(()),
        }
        .map_err(JwksUriError::Refused)
    }

    /// POSTs `body` of `content_type` to `url` (already checked), with `bearer` as an
    /// `Authorization: Bearer` token when given; the status it answered (the body is not read).
    pub(super) async fn post(
        &self,
        url: &Url,
        content_type: &str,
        body: String,
        bearer: Option<&str>,
    ) -> Result<u16, JwksUriError> {
        self.check_literal(url)?;
        let client = self.client().await?;
        let mut request = client.post(url.clone()).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let exchange = request.send();
        let response = tokio::time::timeout(self.config.timeout, exchange).await.map_err(|_| JwksUriError::Timeout)?;
        Ok(response.map_err(request_error)?.status().as_u16())
    }

    /// POSTs `body` of `content_type` with `headers` to `url` (already checked); the status it
    /// answered and at most `limit` bytes of what it said.
    pub(super) async fn exchange(
        &self,
        url: &Url,
        (content_type, body): (&str, String),
        headers: &[(&'static str, &str)],
        limit: usize,
    ) -> Result<(u16, Vec<u8>), JwksUriError> {
        self.check_literal(url)?;
        let client = self.client().await?;
        let mut request = client.post(url.clone()).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let exchange = async {
            let response = request.send().await.map_err(request_error)?;
            let status = response.status().as_u16();
            Ok((status, Self::read_body(response, limit).await?))
        };
        tokio::time::timeout(self.config.timeout, exchange).await.map_err(|_| JwksUriError::Timeout)?
    }

    /// GETs the document at `url` (already checked), at most `limit` bytes of it.
    pub(super) async fn fetch_bytes(&self, url: &Url, accept: &str, limit: usize) -> Result<Vec<u8>, JwksUriError> {
        self.check_literal(url)?;
        let client = self.client().await?;
        let exchange = async {
            let response =
                client.get(url.clone()).header(reqwest::header::ACCEPT, accept).send().await.map_err(request_error)?;
            let status = response.status();
            if status.is_redirection() {
                return Err(JwksUriError::Unreachable(format!("answered {status}; redirects are not followed")));
            }
            if !status.is_success() {
                return Err(JwksUriError::Unreachable(format!("answered {status}")));
            }
            Self::read_body(response, limit).await
        };
        // reqwest's timeout covers the exchange; this one also covers name resolution.
        tokio::time::timeout(self.config.timeout, exchange).await.map_err(|_| JwksUriError::Timeout)?
    }

    async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, JwksUriError> {
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(JwksUriError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > limit {
                return Err(JwksUriError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn request_error(e: reqwest::Error) -> JwksUriError {
    if e.is_timeout() {
        return JwksUriError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<AddressRefused>() {
            return JwksUriError::Refused(refused.0.clone());
        }
        source = err.source();
    }
    JwksUriError::Unreachable(e.without_url().to_string())
}
