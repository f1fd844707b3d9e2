//! Rotating the token-signing keys without breaking a relying party (RFC 7517 §5, OpenID
//! Connect Core §10.1.1): a new key is first published as the *next* key, long enough for
//! relying parties' JWKS caches to hold it; only then does it become *active* and sign, and
//! the key it replaces is *retired*: still published and still verifying until every token it
//! signed has expired, then deleted. A rotation pass is idempotent and safe on several nodes at
//! once (one next key per algorithm is a unique index; promotion is a conditional update).

use serde::Serialize;

use crate::domain::{KeyState, SigningAlg};
use crate::storage::StorageError;

use super::keyring::generate;
use super::{KeyError, Keyring};

/// When keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Start a rotation once the active key is this old (seconds); `None`: only on command.
    pub rotate_after: Option<i64>,
    /// How long a next key is published before it signs (seconds).
    pub publish_for: i64,
    /// How long a retired key stays published: the longest lifetime of a token it signed.
    pub keep_retired_for: i64,
}

/// One thing a rotation pass did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RotationStep {
    /// A next key is published; it signs from `signs_from` (unix seconds) on.
    Published { alg: &'static str, kid: String, signs_from: i64 },
    /// A next key still waits for its publication period to pass.
    Waiting { alg: &'static str, kid: String, signs_from: i64 },
    /// The next key signs now; `retired` stays published until its tokens have expired.
    Promoted { alg: &'static str, kid: String, retired: Vec<String> },
    /// Retired keys whose tokens have all expired were deleted.
    Deleted { count: u64 },
    /// A key was withdrawn at once (compromised): deleted, so nothing it signed verifies any
    /// more; when it was the signing key, `replaced_by` signs from now on.
    Revoked { alg: String, kid: String, replaced_by: Option<String> },
}

/// A stored key as an operator sees it (no private part).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub state: &'static str,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl Keyring {
    /// Every stored key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let rows = self.store().signing_keys().list().await?;
        Ok(rows
            .into_iter()
            .map(|r| KeyInfo {
                kid: r.kid,
                alg: r.alg,
                state: r.state.as_str(),
                created_at: r.created_at,
                retired_at: r.retired_at,
            })
            .collect())
    }

    /// Tells the other nodes to reload their keys now (a failed announcement leaves them their
    /// minute's reload).
    pub(super) async fn announce(&self) {
        if let Err(e) = self.store().announce(&crate::storage::Change::Keys).await {
            tracing::warn!(error = %e, "cannot announce a key change to the other nodes");
        }
    }

    /// Withdraws key `kid` at once, for a key that may be compromised: if it signs, a new key
    /// (the published next key, or a fresh one) signs from now on without waiting to be
    /// published; then the key is deleted, so no token it signed verifies any more and it
    /// leaves the JWK Set. Relying parties fetch the new key when they meet its `kid`; other
    /// nodes reload within a minute. `Err(NoActiveKey)` names a `kid` that does not exist.
    pub async fn revoke(&self, kid: &str, now: i64) -> Result<RotationStep, KeyError> {
        let rows = self.store().signing_keys().list().await?;
        let target = rows.iter().find(|r| r.kid == kid).ok_or(KeyError::NoActiveKey("that kid"))?;
        let alg = SigningAlg::parse(&target.alg).ok_or(KeyError::NoActiveKey("unknown"))?;
        let mut replaced_by = None;
        if target.state == KeyState::Active {
            let next = rows.iter().find(|r| r.alg == target.alg && r.state == KeyState::Next);
            let next = match next {
                Some(n) => n.kid.clone(),
                None => {
                    let row = generate(alg, KeyState::Next, self.sealer(), now)?;
                    self.store().signing_keys().insert(&row).await?;
                    row.kid
                }
            };
            self.store().signing_keys().promote(alg.as_str(), &next, now).await?;
            replaced_by = Some(next);
        }
        self.store().signing_keys().delete_inactive(kid).await?;
        tracing::warn!(%kid, alg = alg.as_str(), "signing key revoked: tokens it signed no longer verify");
        self.announce().await;
        self.reload().await?;
        Ok(RotationStep::Revoked { alg: alg.as_str().to_owned(), kid: kid.to_owned(), replaced_by })
    }

    /// One rotation pass at `now`: publishes a next key for each algorithm whose active key is
    /// due (or for every algorithm, with `start`), promotes next keys published long enough,
    /// deletes retired keys no token needs, and reloads. Returns what it did.
    pub async fn rotate(&self, policy: &RotationPolicy, now: i64, start: bool) -> Result<Vec<RotationStep>, KeyError> {
        let mut steps = Vec::new();
        let rows = self.store().signing_keys().list().await?;
        for alg in SigningAlg::ALL {
            let of_alg = |state: KeyState| rows.iter().filter(move |r| r.alg == alg.as_str() && r.state == state);
            if let Some(next) = of_alg(KeyState::Next).next_back() {
                let signs_from = next.created_at + policy.publish_for;
                if now < signs_from {
                    steps.push(RotationStep::Waiting { alg: alg.as_str(), kid: next.kid.clone(), signs_from });
                    continue;
                }
                let retired: Vec<String> = of_alg(KeyState::Active).map(|r| r.kid.clone()).collect();
                if self.store().signing_keys().promote(alg.as_str(), &next.kid, now).await? {
                    tracing::info!(kid = %next.kid, alg = alg.as_str(), "the next signing key signs now");
                    steps.push(RotationStep::Promoted { alg: alg.as_str(), kid: next.kid.clone(), retired });
                }
                continue;
            }
            let active_since = of_alg(KeyState::Active).map(|r| r.created_at).max();
            let due = policy.rotate_after.zip(active_since).is_some_and(|(after, since)| now - since >= after);
            if start || due {
                let row = generate(alg, KeyState::Next, self.sealer(), now)?;
                match self.store().signing_keys().insert(&row).await {
                    Ok(()) => {
                        tracing::info!(kid = %row.kid, alg = alg.as_str(), "published the next signing key");
                        let signs_from = now + policy.publish_for;
                        steps.push(RotationStep::Published { alg: alg.as_str(), kid: row.kid, signs_from });
                    }
                    // Another node published one first; the reload below brings it.
                    Err(StorageError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // Deletes only when a listed key is due: most passes write nothing.
        let expired_before = now - policy.keep_retired_for;
        if rows.iter().any(|r| r.state == KeyState::Retired && r.retired_at.is_some_and(|t| t < expired_before)) {
            let count = self.store().signing_keys().delete_retired_before(expired_before).await?;
            steps.push(RotationStep::Deleted { count });
        }
        if steps.iter().any(|s| !matches!(s, RotationStep::Waiting { .. })) {
            self.announce().await;
        }
        self.reload().await?;
        Ok(steps)
    }
}
