//! Token introspection (RFC 7662), for authenticated clients (resource servers).

use serde_json::{Map, Value, json};

use crate::domain::RelyingParty;

use super::{ClientCredentials, OAuthError, OidcService, Params};

impl OidcService {
    /// RFC 7662 §2.2. Access tokens are described to any authenticated client (resource
    /// servers must check them); refresh tokens only to the client that holds them. Anything
    /// else is `{"active": false}`.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        cert: Option<&crate::certificates::Presented>,
        params: &Params,
        ip: Option<&str>,
    ) -> Result<Value, OAuthError> {
        let client = self.authenticate_client(creds, cert, ip).await?;
        // RFC 7662 §2.1: the endpoint must be protected; a public client proves nothing.
        if client.is_public() {
            return Err(OAuthError::invalid_client("public clients cannot use introspection"));
        }
        let token = params.require("token")?;
        let hint = params.get("token_type_hint");
        let inactive = json!({ "active": false });
        let first_refresh = hint == Some("refresh_token");
        if first_refresh && let Some(v) = self.introspect_refresh(&client, token).await? {
            return Ok(v);
        }
        if let Ok(at) = self.verify_access_token(token).await {
            let mut out: Map<String, Value> = Map::new();
            out.insert("active".into(), json!(true));
            out.insert("token_type".into(), json!("Bearer"));
            for key in [
                "scope",
                "client_id",
                "sub",
                "exp",
                "iat",
                "iss",
                "aud",
                "jti",
                "auth_time",
                "acr",
                "cnf",
                "authorization_details",
            ] {
                if let Some(v) = at.claims.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            return Ok(Value::Object(out));
        }
        if !first_refresh && let Some(v) = self.introspect_refresh(&client, token).await? {
            return Ok(v);
        }
        Ok(inactive)
    }

    async fn introspect_refresh(&self, client: &RelyingParty, token: &str) -> Result<Option<Value>, OAuthError> {
        let now = self.now();
        let Some(p) = self.refresh_family(token) else { return Ok(None) };
        let Some(refresh) = self.store.grants().find_refresh(&p.grant, &p.hash).await? else { return Ok(None) };
        if refresh.data.client_id != client.client_id || refresh.expires_at <= now {
            return Ok(None);
        }
        match self.store.grants().find(&refresh.grant_id).await? {
            Some(g) if g.revoked_at.is_none() => {}
            _ => return Ok(None),
        }
        Ok(Some(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": refresh.data.scope,
            "client_id": refresh.data.client_id,
            "sub": refresh.data.user_id,
            "exp": refresh.expires_at,
            "iss": self.config.issuer,
        })))
    }
}
