//! Delivers back-channel logout notices (OpenID Connect logout tokens, SAML LogoutRequests over
//! SOAP): as soon as a session ends on this node, and every few seconds for the rest (sessions
//! ended elsewhere, retries). Several nodes may run it: each notice is claimed before it is sent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::oidc::OidcService;
use crate::saml::SamlIdp;

const EVERY: Duration = Duration::from_secs(15);

pub fn spawn(
    (oidc, saml): (OidcService, SamlIdp),
    ended: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = ended.notified() => {}
                _ = shutdown.changed() => break,
            }
            let accepted = oidc.deliver_logouts().await + saml.deliver_logouts().await;
            if accepted > 0 {
                tracing::info!(accepted, "back-channel logout delivered");
            }
        }
    })
}
