//! Fetching revocation information: OCSP over HTTP POST (RFC 6960 Appendix A.1) and CRLs over
//! HTTP GET, bounded in time and size. Responders and distribution points are the CA's
//! (named in the certificate, or configured): plain http is normal for both, since what they
//! return is signed.

use std::time::Duration;

/// The largest OCSP response or CRL read.
const MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // One request per connection: simple responders (OpenSSL's among them) answer one
            // request and then wait for the next connection.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_default();
        Self { client }
    }

    pub async fn ocsp(&self, url: &url::Url, request: Vec<u8>) -> Result<Vec<u8>, String> {
        let sent = self
            .client
            .post(url.clone())
            .header("content-type", "application/ocsp-request")
            .header("accept", "application/ocsp-response")
            .header("connection", "close")
            .body(request)
            .send()
            .await;
        read(sent).await
    }

    pub async fn get(&self, url: &url::Url) -> Result<Vec<u8>, String> {
        read(self.client.get(url.clone()).send().await).await
    }
}

async fn read(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, String> {
    let mut response =
        sent.map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { "unreachable".to_owned() })?;
    if !response.status().is_success() {
        return Err(format!("answered HTTP {}", response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| "the answer broke off".to_owned())? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err("the answer is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
