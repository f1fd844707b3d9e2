//! Signed checkpoints of the audit chain: tamper evidence that holds against whoever can write
//! the database. The chain's hashes detect an edit, but such a writer can recompute every hash
//! after it; they cannot sign. A checkpoint is a JWS by Pintu's active ES256 signing key over
//! the head's sequence number and hash. Because each hash commits to every event before it, a
//! rewrite of any event up to a checkpoint changes the hash that checkpoint signed.
//!
//! Checkpoints are kept in the database and exported (`pintu audit checkpoints`) to be stored
//! elsewhere (with the backups): a writer who also deletes the stored ones is caught by the
//! exported file. The audit log and the keys sit side by side in the layers, so the
//! composition root joins them, as for key rotation.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::SigningAlg;
use crate::keys::{Keyring, VerifiedJws, verify_with_jwk_set};
use crate::storage::{CheckpointRow, Store};

/// The JWS `typ` of a checkpoint.
pub const CHECKPOINT_TYP: &str = "audit-checkpoint+jwt";

/// Makes and checks checkpoints.
#[derive(Clone)]
pub struct AuditCheckpoints {
    pub keyring: Arc<Keyring>,
    pub store: Store,
    pub issuer: String,
}

/// The export of `pintu audit checkpoints`: the checkpoints and the public keys that verify
/// them, to keep with the backups.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CheckpointExport {
    pub issuer: String,
    /// A JWK Set (RFC 7517 §5).
    pub keys: Value,
    pub checkpoints: Vec<String>,
}

/// What checking the checkpoints found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckpointReport {
    /// Checkpoints whose signature verified and whose event still has the signed hash.
    pub verified: usize,
    /// Signed by a key deleted since (after a rotation): they cannot be checked, and prove
    /// nothing either way. A later checkpoint covers every event before it.
    pub unverifiable: usize,
    /// The newest event a verified checkpoint covers.
    pub covered_through: i64,
    pub problems: Vec<CheckpointProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointProblem {
    pub seq: i64,
    pub reason: String,
}

impl AuditCheckpoints {
    /// Signs the chain's current head, unless the newest checkpoint already signs it (or there
    /// are no events). Several nodes at once store one checkpoint per event.
    pub async fn make(&self, now: i64) -> anyhow::Result<Option<CheckpointRow>> {
        let repo = self.store.audit_checkpoints();
        let Some((seq, hash)) = repo.chain_head().await? else { return Ok(None) };
        let latest = repo.latest_seq().await?;
        if latest == seq {
            return Ok(None);
        }
        if latest > seq {
            // A checkpoint beyond the chain's end: events were deleted, or a row was written.
            tracing::error!(
                latest,
                head = seq,
                "an audit checkpoint lies beyond the chain's last event; signing the head anyway"
            );
        }
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!("audit-chain"));
        claims.insert("seq".into(), json!(seq));
        claims.insert("hash".into(), json!(hash));
        claims.insert("iat".into(), json!(now));
        let jws = self.keyring.sign(SigningAlg::ES256, CHECKPOINT_TYP, &claims)?;
        let row = CheckpointRow { seq, hash, jws, created_at: now };
        Ok(repo.insert(&row).await?.then_some(row))
    }

    /// The stored checkpoints that Pintu's current keys verify, with those public keys: the
    /// export to keep elsewhere. Verifying against it later needs nothing from the database's
    /// keys (which someone who can write the database could change, and rotation deletes).
    pub async fn export(&self) -> anyhow::Result<CheckpointExport> {
        let keys: Value = serde_json::from_slice(&self.keyring.jwks())?;
        let rows = self.store.audit_checkpoints().list().await?;
        let checkpoints =
            rows.into_iter().filter(|c| verify_with_jwk_set(&c.jws, &keys).is_ok()).map(|c| c.jws).collect();
        Ok(CheckpointExport { issuer: self.issuer.clone(), keys, checkpoints })
    }

    /// Checks the stored checkpoints (with Pintu's keys) and an `exported` file's (with the
    /// keys in the file) against the chain.
    pub async fn verify(&self, exported: Option<&CheckpointExport>) -> anyhow::Result<CheckpointReport> {
        let stored = self.store.audit_checkpoints().list().await?;
        let mut report = CheckpointReport::default();
        for row in &stored {
            let verified = match self.keyring.verify(&row.jws) {
                Err(_) if signed_by_unknown_key(&row.jws, &self.keyring) => {
                    report.unverifiable += 1;
                    continue;
                }
                other => other.ok(),
            };
            self.check(verified, Some(row), &mut report).await?;
        }
        // Checkpoints are made often and keys deleted only hours after retirement: the newest
        // one is signed by a key Pintu has, unless someone put it there.
        if let Some(newest) = stored.last()
            && signed_by_unknown_key(&newest.jws, &self.keyring)
        {
            let why = "the newest checkpoint names a key Pintu does not have: forged, or no checkpoint was made \
                       since before a key rotation (make one with `pintu audit checkpoint`)";
            report.problems.push(CheckpointProblem { seq: newest.seq, reason: why.to_owned() });
        }
        if let Some(file) = exported {
            if file.issuer != self.issuer {
                report
                    .problems
                    .push(CheckpointProblem { seq: 0, reason: "the exported file is another issuer's".into() });
            }
            // Every checkpoint in a file must verify with the file's own keys.
            for jws in &file.checkpoints {
                self.check(verify_with_jwk_set(jws, &file.keys).ok(), None, &mut report).await?;
            }
        }
        Ok(report)
    }

    async fn check(
        &self,
        verified: Option<VerifiedJws>,
        row: Option<&CheckpointRow>,
        report: &mut CheckpointReport,
    ) -> anyhow::Result<()> {
        let problem = |seq: i64, reason: &str| CheckpointProblem { seq, reason: reason.to_owned() };
        let at = row.map_or(0, |r| r.seq);
        let claims = match verified {
            Some(v) if v.typ.as_deref() == Some(CHECKPOINT_TYP) => v.claims,
            Some(_) => {
                report.problems.push(problem(at, "not a checkpoint (another kind of token)"));
                return Ok(());
            }
            None => {
                let why = "the signature does not verify with the key it names: a forged or altered checkpoint";
                report.problems.push(problem(at, why));
                return Ok(());
            }
        };
        let seq = claims.get("seq").and_then(Value::as_i64).filter(|s| *s >= 1);
        let hash = claims.get("hash").and_then(Value::as_str);
        let (Some(seq), Some(hash)) = (seq, hash) else {
            report.problems.push(problem(at, "a malformed checkpoint (no event number or hash)"));
            return Ok(());
        };
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            report.problems.push(problem(seq, "signed for another issuer"));
            return Ok(());
        }
        if row.is_some_and(|r| r.seq != seq || r.hash != hash) {
            report.problems.push(problem(seq, "the stored checkpoint row differs from what its signature covers"));
        }
        match self.store.audit_checkpoints().hash_at(seq).await? {
            None => report
                .problems
                .push(problem(seq, "the chain no longer has the event this checkpoint signed: events were deleted")),
            Some(stored) if stored != hash => report.problems.push(problem(
                seq,
                "the event's hash differs from the one signed: the chain was rewritten (hashes recomputed) up to here",
            )),
            Some(_) => {
                report.verified += 1;
                report.covered_through = report.covered_through.max(seq);
            }
        }
        Ok(())
    }
}

/// Whether `jws` names a key the keyring no longer has (deleted after a rotation).
fn signed_by_unknown_key(jws: &str, keyring: &Keyring) -> bool {
    let Some(header) = jws.split('.').next() else { return false };
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header);
    let kid = decoded
        .ok()
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h["kid"].as_str().map(str::to_owned));
    kid.is_some_and(|kid| !keyring.has_kid(&kid))
}
