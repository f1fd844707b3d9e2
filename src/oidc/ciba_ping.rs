//! CIBA Core §10.2 ping callbacks: `POST` to the client's notification endpoint with its
//! `client_notification_token` as a bearer token and `{"auth_req_id": ...}`; sent in the
//! background, retried a few times, never blocking the person's page. The endpoint is one the
//! client registered, so the request goes behind the same fences as a `jwks_uri` fetch
//! (checked addresses, no redirects, a timeout).

use std::time::Duration;

use crate::config::JwksUriConfig;

/// Tries before giving up, and the pause before each retry.
const RETRIES: [u64; 3] = [0, 2, 5];

pub(super) fn send(endpoint: String, token: String, auth_req_id: String, config: JwksUriConfig) {
    tokio::spawn(async move {
        let body = serde_json::json!({ "auth_req_id": auth_req_id }).to_string();
        for pause in RETRIES {
            tokio::time::sleep(Duration::from_secs(pause)).await;
            match crate::keys::post_published_json(&endpoint, &config, &token, body.clone()).await {
                Ok(status) if (200..300).contains(&status) => return,
                Ok(status) => tracing::warn!(status, "CIBA ping refused by the client"),
                Err(crate::keys::JwksUriError::Refused(why)) => {
                    tracing::error!(reason = %why, "CIBA ping endpoint not acceptable; not sent");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "CIBA ping could not be delivered"),
            }
        }
        tracing::error!("CIBA ping given up after retries");
    });
}
