//! refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use returns a new refresh token; presenting a rotated one revokes the whole family,
//! except the immediately previous one within the grace period (see `judge`).

use crate::domain::grant::Consumable;
use crate::domain::grant::RefreshData;
use crate::domain::{ClientId, GrantId, RelyingParty, Scope};
use crate::storage::{PresentedRefresh, RefreshFamily, RefreshState, Rotation};

use super::TokenResponse;
use crate::oidc::tokens::{AccessTokenSpec, IdTokenSpec};
use crate::oidc::{OAuthError, OidcService, Params};

/// Why a presented refresh token did not rotate its family, and what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Another client's token: refused, the family untouched (RFC 6749 §6).
    AnotherClient,
    Revoked,
    Expired,
    /// The immediately previous generation, within the grace period, while the current token
    /// is still unused: answered with the current token instead of counting as a replay.
    Grace,
    /// An earlier generation outside the grace: the family is revoked (RFC 9700 §4.14.2).
    Replay,
    Unknown,
}

/// Tells why `presented` (of `generation`, by `client`) did not rotate `family`. A token
/// reaches here only if its MAC verified, so an earlier generation is genuine, not made up.
fn judge(family: &RefreshFamily, (generation, hash): (i64, &str), client: &ClientId, now: i64, grace: i64) -> Verdict {
    if family.client_id != *client {
        return Verdict::AnotherClient;
    }
    if family.revoked {
        return Verdict::Revoked;
    }
    if generation == family.generation {
        return match hash == family.current_hash {
            true => Verdict::Expired,
            false => Verdict::Unknown,
        };
    }
    // "Unused" holds by construction: using the current token would have advanced the family,
    // making the presented one two generations old.
    let within = family.rotated_at.is_some_and(|at| now - at <= grace) && family.expires_at > now;
    match generation {
        g if g == family.generation - 1 && grace > 0 && within => Verdict::Grace,
        g if g < family.generation => Verdict::Replay,
        _ => Verdict::Unknown,
    }
}

impl OidcService {
    pub(super) async fn refresh(
        &self,
        client: &RelyingParty,
        params: &Params,
        binding: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = params.require("refresh_token")?;
        let now = self.now();
        let Some(p) = self.refresh_family(presented) else {
            return Err(OAuthError::invalid_grant("the refresh token is invalid"));
        };
        // A narrower scope is checked against the grant before anything rotates (RFC 6749 §6:
        // a refused request must not consume the token); the common request without `scope`
        // costs no read.
        let requested = match params.get("scope") {
            Some(requested) => Some(self.requested_refresh_scope(&p.grant, client, requested).await?),
            None => None,
        };
        // The next token is made first, so rotation is one statement.
        let next = self.next_refresh_token(&p.grant, p.generation + 1)?;
        let presented =
            PresentedRefresh { grant: &p.grant, generation: p.generation, hash: &p.hash, client: &client.client_id };
        let (consumable, refresh_token) =
            match self.store.grants().rotate_refresh(presented, &next.hash, next.expires_at, now).await? {
                Rotation::Rotated(c) => (c, next.token),
                Rotation::Refused(family) => {
                    self.refused_refresh(&p.grant, (p.generation, &p.hash), client, *family).await?
                }
                Rotation::Unknown => return Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
            };
        let (data, state) = consumable.data;
        // The rotating statement also told us: offline? session alive? account enabled?
        // Without offline_access the token lives only as long as the SSO session.
        if !state.offline && !state.session_active {
            self.store.grants().revoke(&consumable.grant_id, now).await?;
            return Err(OAuthError::invalid_grant("the session of this refresh token has ended"));
        }
        if !state.user_active {
            return Err(OAuthError::invalid_grant("the account is no longer active"));
        }
        let scope = match requested {
            Some(scope) => scope,
            None => data.scope.clone(),
        };
        let (access_token, expires_in) = self.mint_access_token(&AccessTokenSpec {
            client_id: &client.client_id,
            subject: data.user_id.as_str(),
            scope: &scope.to_string(),
            grant_id: Some(&consumable.grant_id),
            authn: Some(&data.authn),
            cnf: binding,
            authorization_details: None,
        })?;
        // OIDC Core §12.2: a new ID token keeps auth_time, carries no nonce.
        let id_token = if scope.contains("openid") {
            // Directory claims need the account; applications that receive none skip the read.
            let extra = match client.profile.released_claims.is_empty() {
                true => serde_json::Map::new(),
                false => match self.store.users().find(&data.user_id).await? {
                    Some(user) => self.id_token_directory_claims(client, &user, &scope).await?,
                    None => return Err(OAuthError::invalid_grant("the account is no longer active")),
                },
            };
            Some(self.mint_id_token(IdTokenSpec {
                client,
                subject: &data.user_id,
                authn: &data.authn,
                session_id: data.session_id.as_str(),
                nonce: None,
                access_token: Some(&access_token),
                extra,
            })?)
        } else {
            None
        };
        // The family keeps its original scope, so a narrowed request does not shrink later ones.
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: Some(refresh_token),
            id_token,
            scope: scope.to_string(),
            authorization_details: None,
            receipt: None,
            user: Some(data.user_id.clone()),
        })
    }
}

impl OidcService {
    /// RFC 6749 §6: the requested scope may not exceed the grant. Read before rotating, so a
    /// refused request leaves the token as it was.
    async fn requested_refresh_scope(
        &self,
        grant: &GrantId,
        client: &RelyingParty,
        requested: &str,
    ) -> Result<Scope, OAuthError> {
        let requested = Scope::parse(requested).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        let Some(stored) = self.store.grants().find(grant).await? else {
            return Err(OAuthError::invalid_grant("the refresh token is invalid or expired"));
        };
        if stored.client_id != client.client_id {
            return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        narrowed_scope(&stored.scope, &requested)?;
        Ok(requested)
    }

    /// A presented token that did not rotate its family: refused, revoked as a replay, or
    /// (within the grace period) answered with the family's current token.
    async fn refused_refresh(
        &self,
        grant: &GrantId,
        presented: (i64, &str),
        client: &RelyingParty,
        family: RefreshFamily,
    ) -> Result<(Consumable<(RefreshData, RefreshState)>, String), OAuthError> {
        let now = self.now();
        let verdict = judge(&family, presented, &client.client_id, now, self.config.refresh_grace);
        let refused = match verdict {
            Verdict::Grace => {
                let current = self.next_refresh_token(grant, family.generation)?;
                // A family rotated before tokens were derivable cannot be given again.
                if current.hash == family.current_hash {
                    tracing::info!(client_id = %client.client_id, "previous refresh token used within the grace period");
                    let data = (family.data, family.state);
                    let consumable = Consumable { grant_id: grant.clone(), data, expires_at: family.expires_at };
                    return Ok((consumable, current.token));
                }
                "the refresh token was already used"
            }
            Verdict::Replay => {
                self.store.grants().revoke(grant, now).await?;
                tracing::warn!(client_id = %client.client_id, "rotated refresh token reused; family revoked");
                "the refresh token was already used"
            }
            Verdict::AnotherClient => "the refresh token was issued to another client",
            Verdict::Revoked => "the refresh token was revoked",
            Verdict::Expired | Verdict::Unknown => "the refresh token is invalid or expired",
        };
        Err(OAuthError::invalid_grant(refused))
    }
}

/// RFC 6749 §6: a requested scope must not exceed the original grant.
fn narrowed_scope(original: &Scope, requested: &Scope) -> Result<(), OAuthError> {
    if requested.is_subset_of(original) {
        Ok(())
    } else {
        Err(OAuthError::invalid_scope("the requested scope exceeds the original grant"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AuthnContext, SessionId, UserId};

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    #[test]
    fn refresh_scope_may_narrow_but_not_widen() {
        assert!(narrowed_scope(&scope("openid email"), &scope("openid")).is_ok());
        assert!(narrowed_scope(&scope("openid"), &scope("openid email")).is_err());
    }

    fn family(client: &ClientId, generation: i64, rotated_at: Option<i64>) -> RefreshFamily {
        let data = RefreshData {
            client_id: client.clone(),
            user_id: UserId::new("u"),
            session_id: SessionId::new("s"),
            scope: scope("openid"),
            authn: AuthnContext::password(0),
        };
        let state = RefreshState { offline: false, session_active: true, user_active: true };
        let (current_hash, client_id) = ("current".into(), client.clone());
        RefreshFamily {
            current_hash,
            generation,
            data,
            expires_at: 1_000,
            client_id,
            revoked: false,
            rotated_at,
            state,
        }
    }

    #[test]
    fn previous_generation_is_answered_only_within_the_grace_period() {
        let client = ClientId::new("app");
        let f = family(&client, 3, Some(100));
        assert_eq!(judge(&f, (2, "old"), &client, 105, 5), Verdict::Grace);
        assert_eq!(judge(&f, (2, "old"), &client, 106, 5), Verdict::Replay, "the grace is over");
        assert_eq!(judge(&f, (2, "old"), &client, 100, 0), Verdict::Replay, "0 turns the grace off");
        assert_eq!(judge(&f, (1, "older"), &client, 100, 5), Verdict::Replay, "only the previous generation");
        assert_eq!(judge(&f, (3, "current"), &client, 100, 5), Verdict::Expired);
        assert_eq!(judge(&f, (4, "future"), &client, 100, 5), Verdict::Unknown);
        let never_rotated = family(&client, 3, None);
        assert_eq!(judge(&never_rotated, (2, "old"), &client, 100, 5), Verdict::Replay);
    }

    #[test]
    fn another_clients_or_a_revoked_token_is_refused_before_anything_else() {
        let client = ClientId::new("app");
        let stranger = family(&ClientId::new("other"), 3, Some(100));
        assert_eq!(judge(&stranger, (1, "older"), &client, 100, 5), Verdict::AnotherClient);
        let mut revoked = family(&client, 3, Some(100));
        revoked.revoked = true;
        assert_eq!(judge(&revoked, (2, "old"), &client, 100, 5), Verdict::Revoked);
    }
}
