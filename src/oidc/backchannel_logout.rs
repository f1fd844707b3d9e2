//! OpenID Connect Back-Channel Logout 1.0: when a session ends (however it ended: RP-initiated
//! logout, the account page, an administrator, a revoked certificate, SAML single logout), each
//! client the session reached that registered a `backchannel_logout_uri` is POSTed a signed
//! logout token (§2.4) from the server. The notices are queued in the database by the call
//! that ended the session (`Store::end_session`), so none is lost when a node stops; this module
//! delivers what is due, retrying an unreachable or refusing client with a growing pause
//! (§2.8: the OP "MAY retry"), behind the same address fences as a `jwks_uri` fetch.

use serde_json::{Map, Value, json};

use super::OidcService;
use crate::domain::ClientId;
use crate::storage::LogoutNotice;

/// §2.4: the `events` member that makes a JWT a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// §2.4 / RFC 8725 §3.11: the explicit type of a logout token.
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// How long a logout token is valid (seconds); a late retry gets a fresh one.
const TOKEN_TTL: i64 = 120;

impl OidcService {
    /// Delivers the logout notices due now; returns how many clients accepted theirs.
    pub async fn deliver_logouts(&self) -> usize {
        let deliveries = self.store.logout_deliveries();
        deliveries.drain("oidc", || self.now(), |notice| async move { self.deliver(&notice).await }).await
    }

    /// One notice: posted, dropped (no URI), or put back for later.
    async fn deliver(&self, notice: &LogoutNotice) -> Result<bool, crate::storage::StorageError> {
        let deliveries = self.store.logout_deliveries();
        let client = self.client(&notice.client_id).await.ok().flatten().filter(|c| !c.disabled);
        let Some((client, uri)) =
            client.and_then(|c| c.metadata.logout.backchannel_logout_uri.clone().map(|uri| (c, uri)))
        else {
            deliveries.settle(&notice.id, "none").await?;
            return Ok(false);
        };
        let token = match self.logout_token(&client.client_id, client.metadata.id_token_signed_response_alg, notice) {
            Ok(token) => token,
            Err(e) => {
                tracing::error!(error = %e, "a logout token cannot be signed");
                deliveries.failed(&notice.id, "the logout token cannot be signed", notice.retry_at(self.now())).await?;
                return Ok(false);
            }
        };
        let config = self.applications.fetch_config();
        let answer = crate::keys::post_published(&uri, config, &[("logout_token", &token)]).await;
        // §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK" (204 is common).
        let why = match answer {
            Ok(200 | 204) => {
                deliveries.settle(&notice.id, "sent").await?;
                return Ok(true);
            }
            Ok(status) => format!("the client answered {status}"),
            Err(e) => e.to_string(),
        };
        let next = notice.retry_at(self.now());
        tracing::warn!(client_id = %notice.client_id, reason = %why, retry = next.is_some(), "back-channel logout not delivered");
        deliveries.failed(&notice.id, &why, next).await?;
        Ok(false)
    }

    /// Front-Channel Logout 1.0 §3: the `frontchannel_logout_uri` of each client the ended
    /// `session` reached, with `iss` and `sid` (always sent, whatever `_session_required` says),
    /// for the logout page to load.
    pub async fn frontchannel_logout_urls(&self, session: &crate::domain::SessionId) -> Vec<String> {
        let clients = match self.store.logout_deliveries().clients_of(session.as_str()).await {
            Ok(clients) => clients,
            Err(e) => {
                tracing::error!(error = %e, "the clients of an ended session cannot be read");
                return Vec::new();
            }
        };
        let mut urls = Vec::new();
        for id in clients {
            let client = self.client(&id).await.ok().flatten().filter(|c| !c.disabled);
            if let Some(uri) = client.and_then(|c| c.metadata.logout.frontchannel_logout_uri) {
                let pairs = [("iss", self.config.issuer.as_str()), ("sid", session.as_str())];
                urls.push(super::logout::with_query(&uri, &pairs));
            }
        }
        urls
    }

    /// §2.4: iss, aud, iat, exp, jti, events, sub and sid (Pintu sends both, so
    /// `backchannel_logout_session_required` is always met); never a nonce (§2.4: "MUST NOT").
    fn logout_token(
        &self,
        client: &ClientId,
        alg: crate::domain::SigningAlg,
        notice: &LogoutNotice,
    ) -> Result<String, crate::keys::KeyError> {
        let now = self.now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.config.issuer));
        claims.insert("aud".into(), json!(client.as_str()));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + TOKEN_TTL));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("sub".into(), json!(notice.user_id));
        claims.insert("sid".into(), json!(notice.session_id));
        claims.insert("events".into(), Value::Object(Map::from_iter([(LOGOUT_EVENT.to_owned(), json!({}))])));
        self.keyring.sign(alg, LOGOUT_TOKEN_TYP, &claims)
    }
}
