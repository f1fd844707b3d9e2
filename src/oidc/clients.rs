//! The protocol's read of registered clients: through the application service's per-node
//! cache, so authenticating a client at the token endpoint reads nothing while its entry is
//! fresh. Changes to clients are the application service's alone.

use crate::domain::RelyingParty;

use super::{OAuthError, OidcService};

impl OidcService {
    /// A registered client (disabled ones included; callers decide).
    pub(crate) async fn client(&self, client_id: &str) -> Result<Option<RelyingParty>, OAuthError> {
        self.applications.client(client_id).await.map_err(OAuthError::server)
    }
}
