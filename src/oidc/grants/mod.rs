//! The token endpoint (RFC 6749 §3.2): one module per grant type, one response shape.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use serde::Serialize;

use crate::audit::AuditEvent;
use crate::domain::{GrantType, RelyingParty};

use super::{ClientCredentials, OAuthError, OidcService, Params};

/// RFC 6749 §5.1 successful response (plus `id_token`, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    /// RFC 9396 §7: the authorization details granted, enriched with their signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<serde_json::Value>,
    /// The signing receipt (a JWS by Pintu) of the transaction the person approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// Whom the tokens speak for (none for client credentials); for the audit event only.
    #[serde(skip)]
    pub user: Option<crate::domain::UserId>,
}

impl OidcService {
    /// Authenticates the client, then runs the requested grant.
    /// `ip` is the caller's address, for the audit event of a failed client authentication.
    #[tracing::instrument(skip_all, fields(grant_type = params.get("grant_type")))]
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        cert: Option<&crate::certificates::Presented>,
        params: &Params,
        ip: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(creds, cert, ip).await?;
        // RFC 8705 §3: a client registered for certificate-bound tokens gets tokens bound to the
        // certificate of this connection, and none without one.
        let binding = match (client.metadata.tls_client_certificate_bound_access_tokens, cert) {
            (false, _) => None,
            (true, Some(cert)) => Some(crate::certificates::x509::thumbprint(&cert.leaf)),
            (true, None) => {
                return Err(OAuthError::invalid_request(
                    "this client's access tokens are bound to its certificate: connect with it (RFC 8705)",
                ));
            }
        };
        let binding = binding.as_deref();
        let grant_type = params.require("grant_type")?;
        let grant = GrantType::parse(grant_type)
            .ok_or_else(|| OAuthError::unsupported_grant_type(format!("grant_type {grant_type} is not supported")))?;
        check_grant_allowed(&client, grant)?;
        let response = match grant {
            GrantType::AuthorizationCode => self.exchange_code(&client, params, binding).await,
            GrantType::RefreshToken => self.refresh(&client, params, binding).await,
            GrantType::ClientCredentials => self.client_credentials(&client, params, binding),
            GrantType::Ciba => self.ciba_token(&client, params, binding).await,
        }?;
        let event =
            AuditEvent::token_issued(response.user.as_ref(), &client.client_id, grant.as_str(), &response.scope);
        self.audit.record_or_log(event).await;
        Ok(response)
    }
}

/// RFC 6749 §5.2 `unauthorized_client`: the client is not registered for this grant type.
fn check_grant_allowed(client: &RelyingParty, grant: GrantType) -> Result<(), OAuthError> {
    if client.allows_grant(grant) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!("this application may not use {}", grant.as_str())))
    }
}
