//! Provider metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.

use crate::domain::GrantType;
use serde_json::{Value, json};

use crate::domain::scope::SUPPORTED_SCOPES;
use crate::domain::{ClientAuthMethod, SecurityLevel, SigningAlg};

use super::OidcService;
use super::claims::supported_claims;

impl OidcService {
    /// The metadata document; the same for `/.well-known/openid-configuration` and
    /// `/.well-known/oauth-authorization-server`.
    pub fn discovery(&self) -> Value {
        let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
        // Certificate methods (RFC 8705) only where certificates are configured.
        let mtls = self.certificates.enabled();
        let auth_methods: Vec<&str> =
            ClientAuthMethod::ALL.iter().filter(|m| mtls || !m.uses_certificate()).map(|m| m.as_str()).collect();
        let confidential: Vec<&str> = auth_methods.iter().copied().filter(|m| *m != "none").collect();
        // The levels a login can reach here: passwords, second factors, passkeys when the
        // issuer has a host name, certificates when trust anchors are configured.
        let mut acr_values = vec![SecurityLevel::Password.acr(), SecurityLevel::SecondFactor.acr()];
        if self.authn.passkeys_available() {
            acr_values.push(SecurityLevel::PhishingResistant.acr());
        }
        if self.certificates.enabled() {
            acr_values.push(SecurityLevel::Certificate.acr());
        }
        let mut document = json!({
            "issuer": self.config.issuer,
            "authorization_endpoint": self.endpoint("/oauth2/authorize"),
            "token_endpoint": self.endpoint("/oauth2/token"),
            "userinfo_endpoint": self.endpoint("/oauth2/userinfo"),
            "jwks_uri": self.endpoint("/oauth2/jwks"),
            "registration_endpoint": self.endpoint("/oauth2/register"),
            "introspection_endpoint": self.endpoint("/oauth2/introspect"),
            "revocation_endpoint": self.endpoint("/oauth2/revoke"),
            "pushed_authorization_request_endpoint": self.endpoint("/oauth2/par"),
            "require_pushed_authorization_requests": false,
            "end_session_endpoint": self.endpoint("/oauth2/logout"),
            "scopes_supported": SUPPORTED_SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", GrantType::Ciba.as_str()],
            // OpenID Connect CIBA Core 1.0 §4.
            "backchannel_authentication_endpoint": self.endpoint("/oauth2/ciba"),
            "backchannel_token_delivery_modes_supported": ["poll", "ping"],
            "backchannel_user_code_parameter_supported": false,
            // RFC 9396 §10: what may be asked for signing (none without a signing service).
            "authorization_details_types_supported": self.signing.types(),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "userinfo_signing_alg_values_supported": ["none"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": algs,
            "introspection_endpoint_auth_methods_supported": confidential,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": supported_claims(),
            "claims_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "require_request_uri_registration": false,
            "acr_values_supported": acr_values,
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "ui_locales_supported": ["id", "en"],
            "claim_types_supported": ["normal"],
            "authorization_response_iss_parameter_supported": true,
            // Front-Channel Logout 1.0 §3: loaded with iss and sid by Pintu's logout page.
            "frontchannel_logout_supported": true,
            "frontchannel_logout_session_supported": true,
            // Back-Channel Logout 1.0 §2.1: sid is always in the logout token and ID tokens.
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        });
        if mtls && let Some(map) = document.as_object_mut() {
            // RFC 8705 §3.3, §5: bound tokens, and where a client connects with its certificate.
            map.insert("tls_client_certificate_bound_access_tokens".into(), json!(true));
            if let Some(tls) = &self.certificates.config().tls {
                let base = tls.url.as_str().trim_end_matches('/');
                let aliases = json!({
                    "token_endpoint": format!("{base}/oauth2/token"),
                    "userinfo_endpoint": format!("{base}/oauth2/userinfo"),
                    "introspection_endpoint": format!("{base}/oauth2/introspect"),
                    "revocation_endpoint": format!("{base}/oauth2/revoke"),
                    "pushed_authorization_request_endpoint": format!("{base}/oauth2/par"),
                });
                map.insert("mtls_endpoint_aliases".into(), aliases);
            }
        }
        document
    }
}
