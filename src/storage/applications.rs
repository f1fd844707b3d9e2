//! Applications: the protocol-neutral row (`applications`: name, directory profile,
//! pre-approval, disabled) and each protocol's registration beside it (`oidc_clients`: client_id,
//! secret hash, RFC 7591 metadata as JSON, registration access token hash). Reads join the two,
//! so the protocol paths get a whole application in one statement.

use crate::domain::saml::SamlRegistration;
use crate::domain::{AccessPolicy, AdminScope, AppProfile, Application, ApplicationId, Category, ClientId};
use crate::domain::{ClientMetadata, OidcRegistration, OrgUnitId, Registration};

use super::{Db, StorageError, Tx, corrupt, level_of, on_pool, on_tx, row_struct, touched};

macro_rules! select_applications {
    () => {
        "SELECT a.id, a.protocol, a.name, a.category, a.owner_unit_id, a.min_level, a.access_policy, \
         a.released_claims, a.admin_scope, a.pre_approved, a.disabled, a.version, a.created_at, \
         c.client_id, c.secret_hash, c.metadata, s.registration AS saml \
         FROM applications a LEFT JOIN oidc_clients c ON c.application_id = a.id \
         LEFT JOIN saml_service_providers s ON s.application_id = a.id"
    };
}

row_struct!(ApplicationRow {
    id: String,
    protocol: String,
    name: String,
    category: String,
    owner_unit_id: Option<String>,
    min_level: i64,
    access_policy: String,
    released_claims: String,
    admin_scope: Option<String>,
    pre_approved: bool,
    disabled: bool,
    version: i64,
    created_at: i64,
    client_id: Option<String>,
    secret_hash: Option<String>,
    metadata: Option<String>,
    saml: Option<String>,
});

const TABLE: &str = "applications";

fn registration(row: &mut ApplicationRow) -> Result<Registration, StorageError> {
    match (row.protocol.as_str(), row.client_id.take(), row.metadata.take()) {
        ("oidc", Some(client_id), Some(metadata)) => Ok(Registration::Oidc(OidcRegistration {
            client_id: ClientId::new(client_id),
            secret_hash: row.secret_hash.take(),
            metadata: serde_json::from_str::<ClientMetadata>(&metadata).map_err(|e| corrupt("oidc_clients", e))?,
        })),
        ("saml", _, _) if row.saml.is_some() => {
            let json = row.saml.take().unwrap_or_default();
            Ok(Registration::Saml(serde_json::from_str(&json).map_err(|e| corrupt("saml_service_providers", e))?))
        }
        (protocol, _, _) => Err(corrupt(TABLE, format!("application {} has no {protocol} registration", row.id))),
    }
}

fn into_application(mut row: ApplicationRow) -> Result<Application, StorageError> {
    let registration = registration(&mut row)?;
    let access: AccessPolicy = serde_json::from_str(&row.access_policy).map_err(|e| corrupt(TABLE, e))?;
    let released_claims: Vec<String> = serde_json::from_str(&row.released_claims).map_err(|e| corrupt(TABLE, e))?;
    let profile = AppProfile {
        category: Category::parse(&row.category).ok_or_else(|| corrupt(TABLE, &row.category))?,
        owner_unit_id: row.owner_unit_id.map(OrgUnitId::new),
        min_level: level_of(row.min_level).ok_or_else(|| corrupt(TABLE, row.min_level))?,
        access,
        released_claims,
        admin_scope: row.admin_scope.as_deref().map(AdminScope::from_stored),
        version: row.version,
    };
    Ok(Application {
        id: ApplicationId::new(row.id),
        name: row.name,
        profile,
        pre_approved: row.pre_approved,
        disabled: row.disabled,
        created_at: row.created_at,
        registration,
    })
}

const INSERT_APPLICATION: &str = "INSERT INTO applications (id, protocol, name, category, owner_unit_id, \
     min_level, access_policy, released_claims, admin_scope, pre_approved, disabled, version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)";
const INSERT_OIDC_CLIENT: &str = "INSERT INTO oidc_clients (client_id, application_id, secret_hash, metadata, \
     registration_token_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
const FIND: &str = concat!(select_applications!(), " WHERE a.id = $1");
const FIND_BY_CLIENT_ID: &str = concat!(select_applications!(), " WHERE c.client_id = $1");
const FIND_BY_ENTITY_ID: &str = concat!(select_applications!(), " WHERE s.entity_id = $1");
const INSERT_SAML_SP: &str = "INSERT INTO saml_service_providers (application_id, entity_id, registration, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $4)";
const UPDATE_SAML_SP: &str =
    "UPDATE saml_service_providers SET entity_id = $2, registration = $3, updated_at = $4 WHERE application_id = $1";
const FIND_BY_REGISTRATION: &str =
    concat!(select_applications!(), " WHERE c.registration_token_hash = $1 AND c.client_id = $2");
const LIST: &str = concat!(select_applications!(), " ORDER BY a.id");
/// Optimistic update of the directory profile: only when the stored version is still `$2`.
const UPDATE_PROFILE: &str = "UPDATE applications SET category = $3, owner_unit_id = $4, min_level = $5, \
     access_policy = $6, released_claims = $7, admin_scope = $8, updated_at = $9, version = version + 1 \
     WHERE id = $1 AND version = $2";
/// A change the admin record shows (name, disabled) moves the version on, so an `If-Match`
/// read before it no longer matches.
const SET_NAME: &str = "UPDATE applications SET name = $2, updated_at = $3, version = version + 1 WHERE id = $1";
const SET_DISABLED: &str =
    "UPDATE applications SET disabled = $2, updated_at = $3, version = version + 1 WHERE id = $1";
const UPDATE_OIDC_METADATA: &str = "UPDATE oidc_clients SET metadata = $2, updated_at = $3 WHERE client_id = $1";
const SET_SECRET_HASH: &str = "UPDATE oidc_clients SET secret_hash = $2, updated_at = $3 WHERE client_id = $1";

pub struct Applications<'a> {
    db: &'a Db,
}

impl<'a> Applications<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Writes a new application and its registration. `registration_token_hash`: the SHA-256
    /// of an RFC 7592 registration access token, for clients that registered themselves.
    pub async fn insert_in(
        &self,
        tx: &mut Tx,
        app: &Application,
        registration_token_hash: Option<&str>,
    ) -> Result<(), StorageError> {
        let p = &app.profile;
        let access = serde_json::to_string(&p.access).map_err(|e| corrupt(TABLE, e))?;
        let claims = serde_json::to_string(&p.released_claims).map_err(|e| corrupt(TABLE, e))?;
        on_tx!(&mut *tx, |conn| sqlx::query(INSERT_APPLICATION)
            .bind(app.id.as_str())
            .bind(app.protocol().as_str())
            .bind(&app.name)
            .bind(p.category.as_str())
            .bind(p.owner_unit_id.as_ref().map(OrgUnitId::as_str))
            .bind(p.min_level as i64)
            .bind(&access)
            .bind(&claims)
            .bind(p.admin_scope.as_ref().map(AdminScope::as_stored))
            .bind(app.pre_approved)
            .bind(app.disabled)
            .bind(p.version)
            .bind(app.created_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        match &app.registration {
            Registration::Oidc(oidc) => self.insert_oidc_in(tx, app, oidc, registration_token_hash).await,
            Registration::Saml(saml) => {
                let json = serde_json::to_string(saml).map_err(|e| corrupt("saml_service_providers", e))?;
                on_tx!(tx, |conn| sqlx::query(INSERT_SAML_SP)
                    .bind(app.id.as_str())
                    .bind(&saml.entity_id)
                    .bind(&json)
                    .bind(app.created_at)
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected()))?;
                Ok(())
            }
        }
    }

    /// Replaces a service provider's registration (its name moves with `set_name_in`).
    pub async fn update_saml_in(
        &self,
        tx: &mut Tx,
        id: &ApplicationId,
        saml: &SamlRegistration,
        now: i64,
    ) -> Result<(), StorageError> {
        let json = serde_json::to_string(saml).map_err(|e| corrupt("saml_service_providers", e))?;
        let updated = on_tx!(tx, |conn| sqlx::query(UPDATE_SAML_SP)
            .bind(id.as_str())
            .bind(&saml.entity_id)
            .bind(&json)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(updated)
    }

    /// The service provider whose entity ID is `entity_id`.
    pub async fn find_by_entity_id(&self, entity_id: &str) -> Result<Option<Application>, StorageError> {
        self.fetch_one(FIND_BY_ENTITY_ID, &[entity_id]).await
    }

    async fn insert_oidc_in(
        &self,
        tx: &mut Tx,
        app: &Application,
        oidc: &OidcRegistration,
        registration_token_hash: Option<&str>,
    ) -> Result<(), StorageError> {
        let metadata = serde_json::to_string(&oidc.metadata).map_err(|e| corrupt("oidc_clients", e))?;
        on_tx!(tx, |conn| sqlx::query(INSERT_OIDC_CLIENT)
            .bind(oidc.client_id.as_str())
            .bind(app.id.as_str())
            .bind(&oidc.secret_hash)
            .bind(&metadata)
            .bind(registration_token_hash)
            .bind(app.created_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn find(&self, id: &ApplicationId) -> Result<Option<Application>, StorageError> {
        self.fetch_one(FIND, &[id.as_str()]).await
    }

    /// The application whose OIDC registration has `client_id`.
    pub async fn find_by_client_id(&self, client_id: &str) -> Result<Option<Application>, StorageError> {
        self.fetch_one(FIND_BY_CLIENT_ID, &[client_id]).await
    }

    /// The application whose RFC 7592 registration access token hashes to `token_hash`.
    pub async fn find_by_registration_token(
        &self,
        client_id: &str,
        token_hash: &str,
    ) -> Result<Option<Application>, StorageError> {
        self.fetch_one(FIND_BY_REGISTRATION, &[token_hash, client_id]).await
    }

    async fn fetch_one(&self, sql: &'static str, binds: &[&str]) -> Result<Option<Application>, StorageError> {
        let row: Option<ApplicationRow> = on_pool!(self.db, |pool| {
            let mut query = sqlx::query_as(sql);
            for value in binds {
                query = query.bind(*value);
            }
            query.fetch_optional(pool).await
        })?;
        row.map(into_application).transpose()
    }

    pub async fn list(&self) -> Result<Vec<Application>, StorageError> {
        let rows: Vec<ApplicationRow> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        rows.into_iter().map(into_application).collect()
    }

    /// Writes the directory profile if the stored version is still `expected_version`.
    /// `NotFound` when the application is unknown or the version moved on.
    pub async fn update_profile_in(
        &self,
        tx: &mut Tx,
        id: &ApplicationId,
        profile: &AppProfile,
        expected_version: i64,
        now: i64,
    ) -> Result<(), StorageError> {
        let access = serde_json::to_string(&profile.access).map_err(|e| corrupt(TABLE, e))?;
        let claims = serde_json::to_string(&profile.released_claims).map_err(|e| corrupt(TABLE, e))?;
        let n = on_tx!(tx, |conn| sqlx::query(UPDATE_PROFILE)
            .bind(id.as_str())
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

    /// Renames an application; its version moves on.
    pub async fn set_name_in(&self, tx: &mut Tx, id: &ApplicationId, name: &str, now: i64) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(SET_NAME)
            .bind(id.as_str())
            .bind(name)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Replaces an OIDC client's metadata and the application's name with it.
    pub async fn update_oidc_metadata_in(
        &self,
        tx: &mut Tx,
        (id, client_id): (&ApplicationId, &ClientId),
        metadata: &ClientMetadata,
        name: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        let json = serde_json::to_string(metadata).map_err(|e| corrupt("oidc_clients", e))?;
        let n = on_tx!(&mut *tx, |conn| sqlx::query(UPDATE_OIDC_METADATA)
            .bind(client_id.as_str())
            .bind(&json)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)?;
        let n = on_tx!(tx, |conn| sqlx::query(SET_NAME)
            .bind(id.as_str())
            .bind(name)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Disables (or enables) an application. Its grants stay for the audit trail; revoking
    /// them is the caller's, in the same transaction.
    pub async fn set_disabled_in(
        &self,
        tx: &mut Tx,
        id: &ApplicationId,
        disabled: bool,
        now: i64,
    ) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(SET_DISABLED)
            .bind(id.as_str())
            .bind(disabled)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Replaces an OIDC client's secret hash: the old secret stops matching at once.
    pub async fn set_secret_hash_in(
        &self,
        tx: &mut Tx,
        client_id: &ClientId,
        secret_hash: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(SET_SECRET_HASH)
            .bind(client_id.as_str())
            .bind(secret_hash)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }
}
