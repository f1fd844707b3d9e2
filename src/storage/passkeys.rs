//! WebAuthn credentials and pending ceremonies. The credential and ceremony state are kept as
//! opaque JSON written by `authn::webauthn`; this layer only stores and consumes them.

use crate::domain::UserId;

use super::{Db, StorageError, Tx, on_pool, on_tx, row_struct};

/// A registered credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: UserId,
    /// The credential id, base64url without padding, as the authenticator names it.
    pub credential_id: String,
    pub name: String,
    /// The public key and signature counter (webauthn-rs `Passkey`, JSON).
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A pending ceremony: the challenge state, for whom and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub user_id: Option<UserId>,
    pub state: String,
    pub expires_at: i64,
}

row_struct!(PasskeyRow {
    id: String,
    user_id: String,
    credential_id: String,
    name: String,
    passkey: String,
    created_at: i64,
    last_used_at: Option<i64>,
});

impl From<PasskeyRow> for PasskeyRecord {
    fn from(r: PasskeyRow) -> Self {
        Self {
            id: r.id,
            user_id: UserId::new(r.user_id),
            credential_id: r.credential_id,
            name: r.name,
            passkey: r.passkey,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

const OF_USER: &str = "SELECT id, user_id, credential_id, name, passkey, created_at, last_used_at \
     FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id";
const BY_CREDENTIAL: &str = "SELECT id, user_id, credential_id, name, passkey, created_at, last_used_at \
     FROM webauthn_credentials WHERE credential_id = $1";
const INSERT: &str = "INSERT INTO webauthn_credentials (id, user_id, credential_id, name, passkey, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const USED: &str = "UPDATE webauthn_credentials SET passkey = $2, last_used_at = $3 WHERE id = $1";
const REMOVE: &str = "DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2";
const REMOVE_ALL: &str = "DELETE FROM webauthn_credentials WHERE user_id = $1";
const COUNT: &str = "SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1";
/// One pending ceremony per purpose and binding: starting again replaces the challenge.
const PUT_CEREMONY: &str = "INSERT INTO webauthn_ceremonies (purpose, binding, user_id, state, expires_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (purpose, binding) \
     DO UPDATE SET user_id = $3, state = $4, expires_at = $5";
/// Consumes a ceremony: of two answers to one challenge, only the first finds it.
const TAKE_CEREMONY: &str =
    "DELETE FROM webauthn_ceremonies WHERE purpose = $1 AND binding = $2 RETURNING user_id, state, expires_at";

pub struct Passkeys<'a> {
    db: &'a Db,
}

impl<'a> Passkeys<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Stores a newly registered credential. A credential id registered before (to anyone)
    /// is refused by the unique index and reported as `Conflict`.
    pub async fn insert(&self, record: &PasskeyRecord) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(INSERT)
            .bind(&record.id)
            .bind(record.user_id.as_str())
            .bind(&record.credential_id)
            .bind(&record.name)
            .bind(&record.passkey)
            .bind(record.created_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A person's credentials, oldest first.
    pub async fn of_user(&self, user: &UserId) -> Result<Vec<PasskeyRecord>, StorageError> {
        let rows: Vec<PasskeyRow> =
            on_pool!(self.db, |pool| sqlx::query_as(OF_USER).bind(user.as_str()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(PasskeyRecord::from).collect())
    }

    /// The credential an authenticator named, whoever it belongs to.
    pub async fn find_by_credential_id(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StorageError> {
        let row: Option<PasskeyRow> =
            on_pool!(self.db, |pool| sqlx::query_as(BY_CREDENTIAL).bind(credential_id).fetch_optional(pool).await)?;
        Ok(row.map(PasskeyRecord::from))
    }

    pub async fn count(&self, user: &UserId) -> Result<i64, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(COUNT).bind(user.as_str()).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Records a use: the updated counter (and backup state) and the time.
    pub async fn record_use(&self, id: &str, passkey: &str, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(USED).bind(id).bind(passkey).bind(now).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Removes one of a person's credentials. `false` if it is not theirs or already gone.
    pub async fn remove(&self, user: &UserId, id: &str) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(REMOVE)
            .bind(id)
            .bind(user.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Removes every credential of a person (an administrator's reset).
    pub async fn remove_all_in(&self, tx: &mut Tx, user: &UserId) -> Result<u64, StorageError> {
        Ok(on_tx!(tx, |conn| sqlx::query(REMOVE_ALL)
            .bind(user.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Stores (or replaces) the pending ceremony of `purpose` bound to `binding`.
    pub async fn put_ceremony(&self, purpose: &str, binding: &str, ceremony: &Ceremony) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(PUT_CEREMONY)
            .bind(purpose)
            .bind(binding)
            .bind(ceremony.user_id.as_ref().map(UserId::as_str))
            .bind(&ceremony.state)
            .bind(ceremony.expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes and returns the pending ceremony, if any (expired ones included: the caller
    /// checks `expires_at`).
    pub async fn take_ceremony(&self, purpose: &str, binding: &str) -> Result<Option<Ceremony>, StorageError> {
        let row: Option<(Option<String>, String, i64)> = on_pool!(self.db, |pool| sqlx::query_as(TAKE_CEREMONY)
            .bind(purpose)
            .bind(binding)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(user_id, state, expires_at)| Ceremony { user_id: user_id.map(UserId::new), state, expires_at }))
    }
}
