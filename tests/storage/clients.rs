//! Applications (the protocol-neutral row joined with its OIDC registration) and RFC 7591
//! initial access tokens.

use pintu::domain::{AppProfile, Application, ApplicationId, ClientId, ClientMetadata, OidcRegistration, Registration};
use pintu::storage::Store;

use super::{postgres, sqlite};

/// A new OIDC application whose id is its client_id, as the service creates them.
pub fn oidc_app(now: i64) -> Application {
    let client_id = ClientId::generate();
    Application {
        id: ApplicationId::new(client_id.as_str()),
        name: "SIMPEG".into(),
        profile: AppProfile::default(),
        pre_approved: false,
        disabled: false,
        created_at: now,
        registration: Registration::Oidc(OidcRegistration {
            client_id,
            secret_hash: Some("old-hash".into()),
            metadata: ClientMetadata { client_name: Some("SIMPEG".into()), ..Default::default() },
        }),
    }
}

fn client_id(app: &Application) -> &ClientId {
    &app.oidc().unwrap().client_id
}

/// Inserts `app` (with a registration access token hash) in its own transaction.
pub async fn insert(store: &Store, app: &Application) {
    let mut tx = store.begin().await.unwrap();
    let token = uuid::Uuid::new_v4().to_string();
    store.applications().insert_in(&mut tx, app, Some(&token)).await.unwrap();
    tx.commit().await.unwrap();
}

/// Creates `app` and uses up `token` in one transaction, as the service does; `false` (and
/// nothing written) when the token is not usable.
async fn insert_with_token(
    store: &Store,
    app: &Application,
    token: &str,
) -> Result<bool, pintu::storage::StorageError> {
    let mut tx = store.begin().await?;
    if !store.initial_access_tokens().use_in(&mut tx, token, app.created_at).await? {
        return Ok(false);
    }
    store.applications().insert_in(&mut tx, app, None).await?;
    tx.commit().await?;
    Ok(true)
}

/// Stores an initial access token valid from 1 to 100.
async fn issue(store: &Store, hash: &str) {
    let mut tx = store.begin().await.unwrap();
    store.initial_access_tokens().insert_in(&mut tx, hash, "test", (1, 100)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn an_initial_access_token_is_used_up_only_with_the_client_it_creates(store: Store) {
    let tokens = store.initial_access_tokens();
    issue(&store, "iat").await;
    assert!(tokens.is_usable("iat", 10).await.unwrap());
    assert!(tokens.is_usable("iat", 10).await.unwrap(), "checking writes nothing");
    assert!(!tokens.is_usable("iat", 100).await.unwrap(), "expired");
    assert!(!tokens.is_usable("unknown", 10).await.unwrap());

    let first = oidc_app(10);
    assert!(insert_with_token(&store, &first, "iat").await.unwrap());
    assert!(store.applications().find_by_client_id(client_id(&first).as_str()).await.unwrap().is_some());
    assert!(!tokens.is_usable("iat", 11).await.unwrap(), "used by the client");

    let second = oidc_app(10);
    assert!(!insert_with_token(&store, &second, "iat").await.unwrap(), "single use");
    assert!(store.applications().find(&second.id).await.unwrap().is_none(), "nothing written");

    // A client that cannot be written (its id is taken) leaves the token unused.
    issue(&store, "iat-2").await;
    let taken = Application { created_at: 12, ..first.clone() };
    assert!(insert_with_token(&store, &taken, "iat-2").await.is_err());
    assert!(tokens.is_usable("iat-2", 12).await.unwrap());
}

/// One application is its profile row joined with its OIDC registration: created, read by id,
/// by client_id and by registration token, disabled, its secret replaced, its metadata and
/// name changed, its profile updated only at the version read.
async fn an_application_is_read_through_the_join_and_changed_in_place(store: Store) {
    let app = oidc_app(5);
    let mut tx = store.begin().await.unwrap();
    store.applications().insert_in(&mut tx, &app, Some("reg-hash")).await.unwrap();
    tx.commit().await.unwrap();
    let apps = store.applications();
    let by_id = apps.find(&app.id).await.unwrap().unwrap();
    assert_eq!((by_id.name.as_str(), by_id.created_at, by_id.disabled), ("SIMPEG", 5, false));
    assert_eq!(by_id.oidc().unwrap().secret_hash.as_deref(), Some("old-hash"));
    let client = apps.find_by_client_id(client_id(&app).as_str()).await.unwrap().unwrap();
    assert_eq!(client.id, app.id);
    assert!(apps.find_by_registration_token(client_id(&app).as_str(), "reg-hash").await.unwrap().is_some());
    assert!(apps.find_by_registration_token(client_id(&app).as_str(), "other").await.unwrap().is_none());

    let mut tx = store.begin().await.unwrap();
    apps.set_secret_hash_in(&mut tx, client_id(&app), "new-hash", 6).await.unwrap();
    let metadata = ClientMetadata { client_name: Some("SIMPEG 2".into()), ..Default::default() };
    apps.update_oidc_metadata_in(&mut tx, (&app.id, client_id(&app)), &metadata, "SIMPEG 2", 6).await.unwrap();
    apps.set_disabled_in(&mut tx, &app.id, true, 6).await.unwrap();
    tx.commit().await.unwrap();
    let changed = apps.find(&app.id).await.unwrap().unwrap();
    assert_eq!(changed.oidc().unwrap().secret_hash.as_deref(), Some("new-hash"));
    assert_eq!(changed.oidc().unwrap().metadata.client_name.as_deref(), Some("SIMPEG 2"));
    assert_eq!((changed.name.as_str(), changed.disabled), ("SIMPEG 2", true));
    assert_eq!(changed.profile.version, 3, "a new name and disabling each move the version on");

    let profile = AppProfile { min_level: pintu::domain::SecurityLevel::SecondFactor, ..changed.profile.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(apps.update_profile_in(&mut tx, &app.id, &profile, 1, 7).await.is_err(), "a stale version writes nothing");
    apps.update_profile_in(&mut tx, &app.id, &profile, 3, 7).await.unwrap();
    tx.commit().await.unwrap();
    let updated = apps.find(&app.id).await.unwrap().unwrap();
    assert_eq!((updated.profile.min_level, updated.profile.version), (pintu::domain::SecurityLevel::SecondFactor, 4));
    assert_eq!(apps.list().await.unwrap().len(), 1);
}

conformance!(
    an_initial_access_token_is_used_up_only_with_the_client_it_creates,
    an_application_is_read_through_the_join_and_changed_in_place,
);
