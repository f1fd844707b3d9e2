//! Token revocation (RFC 7009).

use super::{ClientCredentials, OAuthError, OidcService, Params};

impl OidcService {
    /// RFC 7009 §2.1. Revoking a refresh token revokes its grant (and so the access tokens
    /// issued under it); revoking an access token records its `jti`. Unknown tokens succeed
    /// silently (§2.2); a token of another client is refused.
    pub async fn revoke(
        &self,
        creds: &ClientCredentials,
        cert: Option<&crate::certificates::Presented>,
        params: &Params,
        ip: Option<&str>,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(creds, cert, ip).await?;
        let token = params.require("token")?;
        let now = self.now();
        let refresh = match self.refresh_family(token) {
            Some(p) => self.store.grants().find_refresh(&p.grant, &p.hash).await?,
            None => None,
        };
        if let Some(refresh) = refresh {
            if refresh.data.client_id != client.client_id {
                return Err(OAuthError::invalid_request("the token was not issued to this client"));
            }
            self.store.grants().revoke(&refresh.grant_id, now).await?;
            return Ok(());
        }
        if let Ok(at) = self.verify_access_token(token).await {
            if at.client_id != client.client_id.as_str() {
                return Err(OAuthError::invalid_request("the token was not issued to this client"));
            }
            self.store.grants().revoke_access_token(&at.jti, at.exp).await?;
        }
        Ok(())
    }
}
