//! An application's public keys, wherever it registered them: inline (`jwks`) or published at
//! its `jwks_uri` (RFC 7591 §2), fetched through the per-node cache in `keys`.

use crate::domain::RelyingParty;
use crate::keys::{JwksUriError, VerifiedJws};

use super::OidcService;

impl OidcService {
    /// Verifies a compact JWS signed by the application (an RFC 7523 client assertion).
    /// `None` when it has no keys or the signature does not verify; fetch problems are logged
    /// for the operator, never shown to the client.
    pub(crate) async fn verify_with_client_keys(&self, client: &RelyingParty, token: &str) -> Option<VerifiedJws> {
        if let Some(jwks) = &client.metadata.jwks {
            return crate::keys::verify_with_jwk_set(token, jwks).ok();
        }
        let uri = client.metadata.jwks_uri.as_deref()?;
        match self.client_keys.verify(uri, token, self.now()).await {
            Ok(jws) => Some(jws),
            Err(JwksUriError::BadSignature) => None,
            Err(e) => {
                tracing::warn!(client_id = %client.client_id, jwks_uri = uri, error = %e, "cannot use the client's jwks_uri");
                None
            }
        }
    }
}
