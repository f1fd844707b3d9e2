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
use crate::keys::Keyring;
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
        if repo.latest_seq().await? >= seq {
            return Ok(None);
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

    /// Every stored checkpoint as its JWS, oldest first: the export to keep elsewhere.
    pub async fn export(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.store.audit_checkpoints().list().await?.into_iter().map(|c| c.jws).collect())
    }

    /// Checks the stored checkpoints and `exported` ones (JWS strings) against the chain.
    pub async fn verify(&self, exported: &[String]) -> anyhow::Result<CheckpointReport> {
        let stored = self.store.audit_checkpoints().list().await?;
        let mut report = CheckpointReport::default();
        for row in &stored {
            self.check(&row.jws, Some(row), &mut report).await?;
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
        for jws in exported {
            self.check(jws, None, &mut report).await?;
        }
        Ok(report)
    }

    async fn check(&self, jws: &str, row: Option<&CheckpointRow>, report: &mut CheckpointReport) -> anyhow::Result<()> {
        let problem = |seq: i64, reason: &str| CheckpointProblem { seq, reason: reason.to_owned() };
        let claims = match self.keyring.verify(jws) {
            Ok(v) if v.typ.as_deref() == Some(CHECKPOINT_TYP) => v.claims,
            Ok(_) => {
                report.problems.push(problem(row.map_or(0, |r| r.seq), "not a checkpoint (another kind of token)"));
                return Ok(());
            }
            Err(_) if signed_by_unknown_key(jws, &self.keyring) => {
                report.unverifiable += 1;
                return Ok(());
            }
            Err(_) => {
                let why = "the signature does not verify with the key it names: a forged or altered checkpoint";
                report.problems.push(problem(row.map_or(0, |r| r.seq), why));
                return Ok(());
            }
        };
        let seq = claims.get("seq").and_then(Value::as_i64).unwrap_or(0);
        let hash = claims.get("hash").and_then(Value::as_str).unwrap_or_default();
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
