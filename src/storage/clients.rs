//! Registered applications (OIDC relying parties). Metadata is kept as RFC 7591 JSON; the
//! directory profile (category, owner, access policy, released claims) sits beside it.

use crate::domain::{AccessPolicy, AdminScope, AppProfile, Category, ClientId, ClientMetadata, OrgUnitId};
use crate::domain::{RelyingParty, SecurityLevel};

use super::{Db, StorageError, Tx, corrupt, on_pool, on_tx, row_struct, touched};

macro_rules! client_columns {
    () => {
        "client_id, secret_hash, metadata, pre_approved, disabled, created_at, category, owner_unit_id, \
         min_level, access_policy, released_claims, admin_scope, version"
    };
}

row_struct!(ClientRow {
    client_id: String,
    secret_hash: Option<String>,
    metadata: String,
    pre_approved: bool,
    disabled: bool,
    created_at: i64,
    category: String,
    owner_unit_id: Option<String>,
    min_level: i64,
    access_policy: String,
    released_claims: String,
    admin_scope: Option<String>,
    version: i64,
});

fn into_client(row: ClientRow) -> Result<RelyingParty, StorageError> {
    let metadata: ClientMetadata = serde_json::from_str(&row.metadata).map_err(|e| corrupt("clients", e))?;
    let access: AccessPolicy = serde_json::from_str(&row.access_policy).map_err(|e| corrupt("clients", e))?;
    let released_claims: Vec<String> = serde_json::from_str(&row.released_claims).map_err(|e| corrupt("clients", e))?;
    let profile = AppProfile {
        category: Category::parse(&row.category).ok_or_else(|| corrupt("clients", &row.category))?,
        owner_unit_id: row.owner_unit_id.map(OrgUnitId::new),
        min_level: SecurityLevel::ALL
            .into_iter()
            .find(|l| *l as i64 == row.min_level)
            .ok_or_else(|| corrupt("clients", row.min_level))?,
        access,
        released_claims,
        admin_scope: row.admin_scope.as_deref().map(AdminScope::from_stored),
        version: row.version,
    };
    Ok(RelyingParty {
        client_id: ClientId::new(row.client_id),
        secret_hash: row.secret_hash,
        metadata,
        pre_approved: row.pre_approved,
        disabled: row.disabled,
        created_at: row.created_at,
        profile,
    })
}

/// A client to create. Hashes are SHA-256 hex of the generated secrets.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: ClientId,
    pub secret_hash: Option<String>,
    pub metadata: ClientMetadata,
    pub pre_approved: bool,
    pub registration_token_hash: Option<String>,
    pub now: i64,
}

const INSERT: &str = "INSERT INTO clients (client_id, secret_hash, metadata, pre_approved, disabled, \
     registration_token_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, FALSE, $5, $6, $6)";
const FIND: &str = concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id = $1");
const FIND_BY_REGISTRATION: &str =
    concat!("SELECT ", client_columns!(), " FROM clients WHERE registration_token_hash = $1 AND client_id = $2");
const LIST: &str = concat!("SELECT ", client_columns!(), " FROM clients ORDER BY client_id");
/// Optimistic update of the directory profile: only when the stored version is still `$2`.
const UPDATE_PROFILE: &str = "UPDATE clients SET category = $3, owner_unit_id = $4, min_level = $5, \
     access_policy = $6, released_claims = $7, admin_scope = $8, updated_at = $9, version = version + 1 \
     WHERE client_id = $1 AND version = $2";
const UPDATE_METADATA: &str = "UPDATE clients SET metadata = $2, updated_at = $3 WHERE client_id = $1";
const SET_DISABLED: &str = "UPDATE clients SET disabled = $2, updated_at = $3 WHERE client_id = $1";
const INSERT_INITIAL_TOKEN: &str =
    "INSERT INTO initial_access_tokens (token_hash, description, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const USE_INITIAL_TOKEN: &str = "UPDATE initial_access_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
const COUNT_USABLE_INITIAL_TOKEN: &str = "SELECT COUNT(*) FROM initial_access_tokens \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";

pub struct Clients<'a> {
    db: &'a Db,
}

impl<'a> Clients<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, new: &NewClient) -> Result<(), StorageError> {
        let metadata = serde_json::to_string(&new.metadata).map_err(|e| corrupt("clients", e))?;
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT)
                .bind(new.client_id.as_str())
                .bind(&new.secret_hash)
                .bind(&metadata)
                .bind(new.pre_approved)
                .bind(&new.registration_token_hash)
                .bind(new.now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Creates a client and consumes an RFC 7591 initial access token, both or neither (one
    /// transaction). `false`, with nothing written, when the token is unknown, expired or
    /// already used.
    pub async fn insert_with_initial_access_token(
        &self,
        new: &NewClient,
        token_hash: &str,
    ) -> Result<bool, StorageError> {
        let metadata = serde_json::to_string(&new.metadata).map_err(|e| corrupt("clients", e))?;
        let mut tx = self.db.begin().await?;
        let used = on_tx!(&mut tx, |conn| sqlx::query(USE_INITIAL_TOKEN)
            .bind(token_hash)
            .bind(new.now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if used != 1 {
            return Ok(false); // dropping the transaction rolls it back
        }
        on_tx!(&mut tx, |conn| sqlx::query(INSERT)
            .bind(new.client_id.as_str())
            .bind(&new.secret_hash)
            .bind(&metadata)
            .bind(new.pre_approved)
            .bind(&new.registration_token_hash)
            .bind(new.now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn find(&self, client_id: &str) -> Result<Option<RelyingParty>, StorageError> {
        let row: Option<ClientRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND).bind(client_id).fetch_optional(pool).await)?;
        row.map(into_client).transpose()
    }

    /// The client whose RFC 7592 registration access token hashes to `token_hash`.
    pub async fn find_by_registration_token(
        &self,
        client_id: &str,
        token_hash: &str,
    ) -> Result<Option<RelyingParty>, StorageError> {
        let row: Option<ClientRow> = on_pool!(self.db, |pool| {
            sqlx::query_as(FIND_BY_REGISTRATION).bind(token_hash).bind(client_id).fetch_optional(pool).await
        })?;
        row.map(into_client).transpose()
    }

    pub async fn list(&self) -> Result<Vec<RelyingParty>, StorageError> {
        let rows: Vec<ClientRow> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        rows.into_iter().map(into_client).collect()
    }

    pub async fn update_metadata(
        &self,
        client_id: &ClientId,
        metadata: &ClientMetadata,
        now: i64,
    ) -> Result<(), StorageError> {
        let json = serde_json::to_string(metadata).map_err(|e| corrupt("clients", e))?;
        let n = on_pool!(self.db, |pool| {
            sqlx::query(UPDATE_METADATA)
                .bind(client_id.as_str())
                .bind(&json)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        touched(n)
    }

    /// Disables a client (RFC 7592 delete and `pintu admin app disable`). Its grants stay
    /// in place for audit but no longer authenticate.
    pub async fn set_disabled(&self, client_id: &str, disabled: bool, now: i64) -> Result<(), StorageError> {
        let n = on_pool!(self.db, |pool| {
            sqlx::query(SET_DISABLED)
                .bind(client_id)
                .bind(disabled)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        touched(n)
    }

    /// Writes the directory profile if the stored version is still `expected_version`.
    /// `NotFound` when the client is unknown or the version moved on.
    pub async fn update_profile_in(
        &self,
        tx: &mut Tx,
        client_id: &ClientId,
        profile: &AppProfile,
        expected_version: i64,
        now: i64,
    ) -> Result<(), StorageError> {
        let access = serde_json::to_string(&profile.access).map_err(|e| corrupt("clients", e))?;
        let claims = serde_json::to_string(&profile.released_claims).map_err(|e| corrupt("clients", e))?;
        let n = on_tx!(tx, |conn| sqlx::query(UPDATE_PROFILE)
            .bind(client_id.as_str())
            .bind(expected_version)
            .bind(profile.category.as_str())
            .bind(profile.owner_unit_id.as_ref().map(OrgUnitId::as_str))
            .bind(profile.min_level as i64)
            .bind(&access)
            .bind(&claims)
            .bind(profile.admin_scope.as_ref().map(AdminScope::as_stored))
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    pub async fn insert_initial_access_token(
        &self,
        token_hash: &str,
        description: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT_INITIAL_TOKEN)
                .bind(token_hash)
                .bind(description)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Whether an initial access token is known, unexpired and unused (nothing is written).
    pub async fn initial_access_token_is_usable(&self, token_hash: &str, now: i64) -> Result<bool, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| {
            sqlx::query_as(COUNT_USABLE_INITIAL_TOKEN).bind(token_hash).bind(now).fetch_one(pool).await
        })?;
        Ok(n > 0)
    }
}
