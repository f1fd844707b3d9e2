//! Registered applications (OIDC relying parties). Metadata is kept as RFC 7591 JSON.

use crate::domain::{ClientId, ClientMetadata, RelyingParty};

use super::{Db, StorageError, corrupt, on_pool, touched};

type ClientRow = (String, Option<String>, String, bool, bool, i64);

fn into_client(row: ClientRow) -> Result<RelyingParty, StorageError> {
    let metadata: ClientMetadata = serde_json::from_str(&row.2).map_err(|e| corrupt("clients", e))?;
    Ok(RelyingParty {
        client_id: ClientId::new(row.0),
        secret_hash: row.1,
        metadata,
        pre_approved: row.3,
        disabled: row.4,
        created_at: row.5,
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
const FIND: &str =
    "SELECT client_id, secret_hash, metadata, pre_approved, disabled, created_at FROM clients WHERE client_id = $1";
const FIND_BY_REGISTRATION: &str = "SELECT client_id, secret_hash, metadata, pre_approved, disabled, created_at \
     FROM clients WHERE registration_token_hash = $1 AND client_id = $2";
const LIST: &str =
    "SELECT client_id, secret_hash, metadata, pre_approved, disabled, created_at FROM clients ORDER BY client_id";
const UPDATE_METADATA: &str = "UPDATE clients SET metadata = $2, updated_at = $3 WHERE client_id = $1";
const SET_DISABLED: &str = "UPDATE clients SET disabled = $2, updated_at = $3 WHERE client_id = $1";
const INSERT_INITIAL_TOKEN: &str =
    "INSERT INTO initial_access_tokens (token_hash, description, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const USE_INITIAL_TOKEN: &str = "UPDATE initial_access_tokens SET used_at = $2 \
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

    /// Marks an initial access token used. `false` if it is unknown, expired or already used.
    pub async fn use_initial_access_token(&self, token_hash: &str, now: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| {
            sqlx::query(USE_INITIAL_TOKEN).bind(token_hash).bind(now).execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
