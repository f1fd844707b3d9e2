//! Token minting and checking: ID tokens (OIDC Core §2), JWT access tokens (RFC 9068), and
//! refresh tokens (opaque, stored hashed). Claims are built here; signing is the keyring's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::domain::{AuthnContext, ClientId, GrantId, RelyingParty, SigningAlg, UserId};

use super::{OAuthError, OidcService, token_hash};

/// RFC 9068 §2.1: the `typ` of JWT access tokens.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// What an access token is about.
pub struct AccessTokenSpec<'a> {
    pub client_id: &'a ClientId,
    pub subject: &'a str,
    pub scope: &'a str,
    pub grant_id: Option<&'a GrantId>,
    pub authn: Option<&'a AuthnContext>,
    /// RFC 8705 §3.1: the `x5t#S256` of the client certificate the token is bound to.
    pub cnf: Option<&'a str>,
    /// RFC 9396 §9.1: the authorization details the token was granted for (as approved).
    pub authorization_details: Option<&'a serde_json::Value>,
}

/// What an ID token is about.
pub struct IdTokenSpec<'a> {
    pub client: &'a RelyingParty,
    pub subject: &'a UserId,
    pub authn: &'a AuthnContext,
    pub session_id: &'a str,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    /// Claims released in the ID token itself (from the `claims` request).
    pub extra: Map<String, Value>,
}

/// A verified, unexpired, unrevoked access token.
#[derive(Debug, Clone)]
pub struct AccessTokenClaims {
    pub claims: Map<String, Value>,
    pub subject: String,
    pub client_id: String,
    pub scope: String,
    pub grant_id: Option<String>,
    pub jti: String,
    pub exp: i64,
}

impl AccessTokenClaims {
    /// RFC 8705 §3: a certificate-bound token (`cnf.x5t#S256`) is accepted only from a
    /// connection that presents that certificate.
    pub(crate) fn check_binding(&self, cert: Option<&crate::certificates::Presented>) -> Result<(), OAuthError> {
        let Some(bound) = self.claims.get("cnf").and_then(|c| c.get("x5t#S256")).and_then(Value::as_str) else {
            return Ok(());
        };
        let presented = cert.map(|c| crate::certificates::x509::thumbprint(&c.leaf));
        if presented.as_deref() == Some(bound) {
            Ok(())
        } else {
            Err(OAuthError::invalid_token("the access token is bound to a certificate this request did not present"))
        }
    }
}

impl OidcService {
    /// Signs an RFC 9068 access token (ES256). Returns the token and its lifetime.
    pub(crate) fn mint_access_token(&self, spec: &AccessTokenSpec<'_>) -> Result<(String, i64), OAuthError> {
        let now = self.now();
        let ttl = self.config.access_token_ttl;
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.config.issuer));
        claims.insert("sub".into(), json!(spec.subject));
        claims.insert("aud".into(), json!(self.config.issuer));
        claims.insert("client_id".into(), json!(spec.client_id.as_str()));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ttl));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("scope".into(), json!(spec.scope));
        if let Some(grant) = spec.grant_id {
            claims.insert("grant_id".into(), json!(grant.as_str()));
        }
        if let Some(authn) = spec.authn {
            insert_authn(&mut claims, authn);
        }
        if let Some(thumbprint) = spec.cnf {
            claims.insert("cnf".into(), json!({ "x5t#S256": thumbprint }));
        }
        if let Some(details) = spec.authorization_details {
            claims.insert("authorization_details".into(), details.clone());
        }
        Ok((self.keyring.sign(SigningAlg::ES256, ACCESS_TOKEN_TYP, &claims)?, ttl))
    }

    /// Signs an ID token with the client's chosen algorithm (OIDC Core §2, §3.1.3.6 at_hash).
    pub(crate) fn mint_id_token(&self, spec: IdTokenSpec<'_>) -> Result<String, OAuthError> {
        let now = self.now();
        let alg = spec.client.metadata.id_token_signed_response_alg;
        let mut claims = spec.extra;
        claims.insert("iss".into(), json!(self.config.issuer));
        claims.insert("sub".into(), json!(spec.subject.as_str()));
        claims.insert("aud".into(), json!(spec.client.client_id.as_str()));
        // OIDC Core §2: azp when the ID token has a single audience equal to the client is optional;
        // we include it so RPs with multiple audiences logic behave.
        claims.insert("azp".into(), json!(spec.client.client_id.as_str()));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + self.config.id_token_ttl));
        claims.insert("sid".into(), json!(spec.session_id));
        insert_authn(&mut claims, spec.authn);
        if let Some(nonce) = spec.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(at) = spec.access_token {
            claims.insert("at_hash".into(), json!(left_half_hash(alg, at)));
        }
        Ok(self.keyring.sign(alg, "JWT", &claims)?)
    }

    /// The refresh token of generation `generation` of `grant`'s family:
    /// `<grant>.<generation>.<secret>.<tag>`. The secret is a MAC of the family and generation
    /// and the tag a MAC over the rest, both under a key derived from the key-encryption key.
    /// A presented token thus names the one row that rotates it, a genuine earlier token can
    /// be told from a made-up one without keeping its hash, and the family's current token can
    /// be given again within the grace period although only its hash is stored.
    pub(crate) fn next_refresh_token(&self, grant: &GrantId, generation: i64) -> Result<NextRefresh, OAuthError> {
        let secret =
            self.keyring.refresh_tag(&format!("refresh secret {grant} {generation}")).map_err(OAuthError::server)?;
        let public = format!("{grant}.{generation}.{secret}");
        let tag = self.keyring.refresh_tag(&public).map_err(OAuthError::server)?;
        let token = format!("{public}.{tag}");
        Ok(NextRefresh { hash: token_hash(&token), token, expires_at: self.now() + self.config.refresh_token_ttl })
    }

    /// The family, generation and hash of a presented refresh token, if Pintu issued it (its
    /// tag verifies); `None` for anything else.
    pub(crate) fn refresh_family(&self, token: &str) -> Option<PresentedRefresh> {
        let (public, tag) = token.rsplit_once('.')?;
        let mut parts = public.splitn(3, '.');
        let (grant, generation, random) = (parts.next()?, parts.next()?, parts.next()?);
        let generation: i64 = generation.parse().ok().filter(|g| *g >= 0)?;
        if grant.is_empty() || grant.len() > 64 || random.is_empty() || random.contains('.') {
            return None;
        }
        let expected = self.keyring.refresh_tag(public).ok()?;
        if !super::secure_eq(&expected, tag) {
            return None;
        }
        Some(PresentedRefresh { grant: GrantId::new(grant), generation, hash: token_hash(token) })
    }
}

/// A refresh token about to be issued.
pub(crate) struct NextRefresh {
    pub token: String,
    pub hash: String,
    pub expires_at: i64,
}

/// A presented refresh token whose tag verified.
pub(crate) struct PresentedRefresh {
    pub grant: GrantId,
    pub generation: i64,
    pub hash: String,
}

impl OidcService {
    /// Verifies a JWT access token: signature, `typ`, issuer, expiry, revocation.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessTokenClaims, OAuthError> {
        let invalid = || OAuthError::invalid_token("the access token is invalid or expired");
        let jws = self.keyring.verify(token).map_err(|_| invalid())?;
        if jws.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return Err(invalid());
        }
        let c = jws.claims;
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
        let exp = c.get("exp").and_then(Value::as_i64).ok_or_else(invalid)?;
        if text("iss").as_deref() != Some(self.config.issuer.as_str()) || exp <= self.now() {
            return Err(invalid());
        }
        let (Some(subject), Some(client_id), Some(jti)) = (text("sub"), text("client_id"), text("jti")) else {
            return Err(invalid());
        };
        let grant_id = text("grant_id");
        if self.store.grants().is_access_token_revoked(&jti, grant_id.as_deref()).await? {
            return Err(invalid());
        }
        // A disabled application's tokens die with it (client_credentials tokens have no grant).
        if self.client(&client_id).await?.is_none_or(|c| c.disabled) {
            return Err(invalid());
        }
        let scope = text("scope").unwrap_or_default();
        Ok(AccessTokenClaims { claims: c, subject, client_id, scope, grant_id, jti, exp })
    }

    /// Verifies an ID token we issued, ignoring expiry (OIDC Core §3.1.2.1 `id_token_hint`,
    /// RP-Initiated Logout §2). Returns `(sub, aud, sid)`.
    pub(crate) fn id_token_hint_subject(
        &self,
        token: &str,
    ) -> Result<(String, Vec<String>, Option<String>), OAuthError> {
        let invalid = || OAuthError::invalid_request("id_token_hint is not an ID token issued by Pintu");
        let jws = self.keyring.verify(token).map_err(|_| invalid())?;
        if jws.typ.as_deref() == Some(ACCESS_TOKEN_TYP) {
            return Err(invalid());
        }
        let c = jws.claims;
        if c.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(invalid());
        }
        let sub = c.get("sub").and_then(Value::as_str).ok_or_else(invalid)?.to_owned();
        let aud = match c.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => return Err(invalid()),
        };
        let sid = c.get("sid").and_then(Value::as_str).map(str::to_owned);
        Ok((sub, aud, sid))
    }
}

fn insert_authn(claims: &mut Map<String, Value>, authn: &AuthnContext) {
    claims.insert("auth_time".into(), json!(authn.auth_time));
    claims.insert("acr".into(), json!(authn.level.acr()));
    claims.insert("amr".into(), json!(authn.amr));
}

/// OIDC Core §3.1.3.6: base64url of the left-most half of the hash of the token's ASCII, the
/// hash being the one of the JWS `alg` (SHA-512 for EdDSA with Ed25519).
pub fn left_half_hash(alg: SigningAlg, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlg::ES256 | SigningAlg::RS256 => Sha256::digest(token.as_bytes()).to_vec(),
        SigningAlg::EdDSA => Sha512::digest(token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OIDC Core, Appendix A.3 example: access token and its at_hash.
    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        assert_eq!(
            left_half_hash(SigningAlg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
