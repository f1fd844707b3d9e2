//! CIBA Core §10.2 ping callbacks: `POST` to the client's notification endpoint with its
//! `client_notification_token` as a bearer token and `{"auth_req_id": ...}`; sent in the
//! background, retried a few times, never blocking the person's page.

use std::time::Duration;

/// Tries before giving up, and the pause before each retry.
const RETRIES: [u64; 3] = [0, 2, 5];

pub(super) fn send(endpoint: String, token: String, auth_req_id: String) {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let body = serde_json::json!({ "auth_req_id": auth_req_id }).to_string();
        for pause in RETRIES {
            tokio::time::sleep(Duration::from_secs(pause)).await;
            let sent = client
                .post(&endpoint)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => tracing::warn!(status = r.status().as_u16(), "CIBA ping refused by the client"),
                Err(e) => tracing::warn!(error = %e, "CIBA ping could not be delivered"),
            }
        }
        tracing::error!("CIBA ping given up after retries");
    });
}
