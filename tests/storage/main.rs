//! Storage conformance: repository behaviour that both backends must share. Each case runs on
//! SQLite always and on PostgreSQL when `TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pintu::domain::grant::{CodeData, Consumed, Grant};
use pintu::domain::{ActorId, AuthnContext, ClientId, GrantId, Scope, SessionId, User, UserId};
use pintu::storage::{NewSession, NewUser, PresentedRefresh, Rotation, StorageError, Store};

#[path = "../common/scratch.rs"]
mod scratch;

async fn sqlite(path: &std::path::Path) -> Store {
    Store::open(&format!("sqlite://{}", path.display())).await.unwrap()
}

async fn postgres() -> Store {
    Store::open(&scratch::postgres_schema_url("s").await).await.unwrap()
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let path = crate::scratch::path("pintu-storage", ".db");
                super::$name(super::sqlite(&path).await).await;
                crate::scratch::remove_sqlite(&path);
            }
            #[tokio::test]
            #[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
            async fn postgres() { super::$name(super::postgres().await).await }
        }
    )*};
}

fn user(name: &str) -> NewUser {
    NewUser {
        user: User {
            id: UserId::generate(),
            username: name.to_owned(),
            name: None,
            given_name: None,
            family_name: None,
            email: Some(format!("{name}@kominfo.go.id")),
            email_verified: false,
            phone_number: None,
            phone_number_verified: false,
            locale: None,
            is_admin: false,
            disabled: false,
            created_at: 1,
            updated_at: 1,
            profile: Default::default(),
        },
        password_hash: Some("$argon2id$x".to_owned()),
    }
}

/// A grant of a new client with code `code_hash`, under a live session; returns the grant, its
/// client and its session.
async fn grant_with_code(store: &Store, code_hash: &str, expires_at: i64) -> (GrantId, ClientId, SessionId) {
    let u = user(&format!("u{}", uuid::Uuid::new_v4().simple()));
    store.users().insert(&u).await.unwrap();
    let app = clients::oidc_app(1);
    clients::insert(store, &app).await;
    let client = app.oidc().unwrap().client_id.clone();
    let session = NewSession {
        id: SessionId::generate(),
        token_hash: uuid::Uuid::new_v4().to_string(),
        user_id: u.user.id.clone(),
        authn: AuthnContext::password(1),
        now: 1,
        expires_at: 10_000,
    };
    store.sessions().insert(&session).await.unwrap();
    let grant = Grant {
        id: GrantId::generate(),
        client_id: client.clone(),
        user_id: Some(u.user.id.clone()),
        session_id: Some(session.id.clone()),
        scope: Scope::parse("openid").unwrap(),
        claims: None,
        offline: false,
        created_at: 1,
        revoked_at: None,
    };
    let data = CodeData {
        client_id: client.clone(),
        user_id: u.user.id.clone(),
        session_id: session.id.clone(),
        redirect_uri: "https://a.go.id/cb".into(),
        scope: Scope::parse("openid").unwrap(),
        nonce: None,
        code_challenge: None,
        authn: AuthnContext::password(1),
        id_token_claims: None,
        transaction_id: None,
    };
    assert!(store.grants().insert_with_code(&grant, code_hash, &data, expires_at).await.unwrap());
    // The same grant id again: issuance is exactly-once.
    assert!(!store.grants().insert_with_code(&grant, "other", &data, expires_at).await.unwrap());
    (grant.id, client, session.id)
}

async fn duplicate_username_or_email_is_a_conflict(store: Store) {
    store.users().insert(&user("budi")).await.unwrap();
    let same_name = store.users().insert(&user("budi")).await;
    assert!(matches!(same_name, Err(StorageError::Conflict { .. })), "{same_name:?}");
    let mut other = user("ani");
    other.user.email = Some("budi@kominfo.go.id".into());
    assert!(matches!(store.users().insert(&other).await, Err(StorageError::Conflict { .. })));
}

async fn login_finds_by_username_or_email(store: Store) {
    let u = user("budi");
    store.users().insert(&u).await.unwrap();
    assert_eq!(store.users().find_credentials("budi").await.unwrap().unwrap().0.id, u.user.id);
    assert_eq!(store.users().find_credentials("budi@kominfo.go.id").await.unwrap().unwrap().0.id, u.user.id);
    assert!(store.users().find_credentials("nobody").await.unwrap().is_none());
}

async fn code_is_consumed_once_then_reported_as_replayed(store: Store) {
    let (grant, client, _) = grant_with_code(&store, "h1", 100).await;
    let grants = store.grants();
    // A wrong hash naming the real grant, or another client presenting the right one, is
    // unknown and does not consume the code.
    assert!(matches!(grants.consume_code((&grant, "forged", &client), None, 10).await.unwrap(), Consumed::Unknown));
    let stranger = ClientId::generate();
    assert!(matches!(grants.consume_code((&grant, "h1", &stranger), None, 10).await.unwrap(), Consumed::Unknown));
    let fresh = grants.consume_code((&grant, "h1", &client), Some(("r1", 500)), 10).await.unwrap();
    assert!(matches!(fresh, Consumed::Fresh(_)), "{fresh:?}");
    match grants.consume_code((&grant, "h1", &client), None, 11).await.unwrap() {
        Consumed::Replayed(g) => assert_eq!(g, grant),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(grants.consume_code((&grant, "forged", &client), None, 11).await.unwrap(), Consumed::Unknown));
    let other = GrantId::generate();
    assert!(matches!(grants.consume_code((&other, "h1", &client), None, 11).await.unwrap(), Consumed::Unknown));
    // The exchange started the family. Another client presenting its token rotates nothing.
    let by = |client, generation, hash| PresentedRefresh { grant: &grant, generation, hash, client };
    match grants.rotate_refresh(by(&stranger, 0, "r1"), "r2", 600, 12).await.unwrap() {
        Rotation::Refused(family) => assert_eq!((family.generation, family.client_id), (0, client.clone())),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Its own client rotates it once; the family then remembers when.
    let rotated = grants.rotate_refresh(by(&client, 0, "r1"), "r2", 600, 12).await.unwrap();
    assert!(matches!(rotated, Rotation::Rotated(_)), "{rotated:?}");
    match grants.rotate_refresh(by(&client, 0, "r1"), "r3", 600, 13).await.unwrap() {
        Rotation::Refused(family) => {
            assert_eq!((family.generation, family.current_hash.as_str(), family.rotated_at), (1, "r2", Some(12)));
            assert!(!family.revoked);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A revoked grant's current token does not rotate either.
    grants.revoke(&grant, 14).await.unwrap();
    match grants.rotate_refresh(by(&client, 1, "r2"), "r3", 600, 15).await.unwrap() {
        Rotation::Refused(family) => assert!(family.revoked),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let nobody = GrantId::generate();
    let unknown = PresentedRefresh { grant: &nobody, generation: 0, hash: "r1", client: &client };
    assert!(matches!(grants.rotate_refresh(unknown, "r2", 600, 16).await.unwrap(), Rotation::Unknown));
}

async fn expired_artefacts_are_deleted(store: Store) {
    let (old, old_client, _) = grant_with_code(&store, "old", 50).await;
    let (new, new_client, _) = grant_with_code(&store, "new", 500).await;
    // SAML requests go once expired; until then their request IDs still refuse a replay.
    let app = clients::oidc_app(1);
    clients::insert(&store, &app).await;
    let requests = store.saml_requests();
    assert!(requests.insert("stale", app.id.as_str(), "_req1", "", 10, 90).await.unwrap());
    assert!(requests.insert("fresh", app.id.as_str(), "_req2", "{}", 10, 900).await.unwrap());
    assert_eq!(store.delete_expired(100).await.unwrap(), 2);
    assert!(requests.insert("again", app.id.as_str(), "_req1", "", 110, 900).await.unwrap());
    assert!(!requests.insert("again2", app.id.as_str(), "_req2", "", 110, 900).await.unwrap());
    assert_eq!(requests.pending("fresh", 110).await.unwrap().map(|(_, p)| p).as_deref(), Some("{}"));
    let grants = store.grants();
    assert!(matches!(grants.consume_code((&old, "old", &old_client), None, 60).await.unwrap(), Consumed::Unknown));
    assert!(matches!(grants.consume_code((&new, "new", &new_client), None, 60).await.unwrap(), Consumed::Fresh(_)));
    // The scrubbed grant keeps its row: its access tokens can still be revoked by it.
    assert!(store.grants().find(&old).await.unwrap().is_some());
}

async fn revoking_a_grant_marks_its_access_tokens_revoked(store: Store) {
    let (grant, _, _) = grant_with_code(&store, "h2", 100).await;
    assert!(!store.grants().is_access_token_revoked("jti-1", Some(grant.as_str())).await.unwrap());
    store.grants().revoke(&grant, 20).await.unwrap();
    assert!(store.grants().is_access_token_revoked("jti-1", Some(grant.as_str())).await.unwrap());
    store.grants().revoke_access_token("jti-2", 100).await.unwrap();
    store.grants().revoke_access_token("jti-2", 100).await.unwrap(); // idempotent
    assert!(store.grants().is_access_token_revoked("jti-2", None).await.unwrap());
}

async fn client_assertion_ids_are_accepted_once(store: Store) {
    assert!(store.grants().record_assertion("c:j", 100).await.unwrap());
    assert!(!store.grants().record_assertion("c:j", 100).await.unwrap());
}

/// Two nodes (two recorders, two writer tasks) and an administrative transaction append at
/// once: the chain must stay one line, without forks or gaps.
async fn concurrent_appenders_keep_one_chain(store: Store) {
    use pintu::audit::{AdminChange, AuditEvent, AuditRecorder};
    let clock: pintu::clock::SharedClock = std::sync::Arc::new(pintu::clock::FixedClock::new(1_700_000_000));
    let nodes = [AuditRecorder::new(store.clone(), clock.clone()), AuditRecorder::new(store.clone(), clock.clone())];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let recorder = nodes[i % 2].clone();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let event = AuditEvent::admin(
                &ActorId::cli(),
                AdminChange::UserUpdate,
                &format!("t{i}"),
                None,
                serde_json::json!({ "i": i }),
            );
            if i % 10 == 0 {
                let mut tx = store.begin().await.unwrap();
                recorder.record_in(&mut tx, vec![event]).await.unwrap();
                tx.commit().await.unwrap();
            } else {
                recorder.record(event).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = nodes[0].verify().await.unwrap();
    assert_eq!((report.events, report.head_seq, report.problems.len()), (40, 40, 0), "{report:?}");
}

/// A batch larger than one multi-row INSERT still makes one unbroken chain, in order.
async fn a_large_batch_is_appended_in_order(store: Store) {
    use pintu::audit::{AdminChange, AuditEvent, AuditRecorder};
    let clock: pintu::clock::SharedClock = std::sync::Arc::new(pintu::clock::FixedClock::new(1_700_000_000));
    let recorder = AuditRecorder::new(store.clone(), clock);
    recorder
        .record(AuditEvent::admin(&ActorId::cli(), AdminChange::UserCreate, "t", None, serde_json::json!({})))
        .await
        .unwrap();
    let events: Vec<AuditEvent> = (0..600)
        .map(|i| {
            AuditEvent::admin(
                &ActorId::cli(),
                AdminChange::UserUpdate,
                &format!("t{i}"),
                None,
                serde_json::json!({ "i": i }),
            )
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    recorder.record_in(&mut tx, events).await.unwrap();
    tx.commit().await.unwrap();
    let report = recorder.verify().await.unwrap();
    assert_eq!((report.events, report.head_seq, report.problems.len()), (601, 601, 0), "{report:?}");
    let page = store.audit().page(300, 1).await.unwrap();
    assert_eq!((page[0].seq, page[0].event.target.as_deref()), (301, Some("t299")), "events keep their order");
}

/// The protocol writer trusts the head it wrote last; a stale or wrong one must never fork the
/// chain: the guarded INSERT writes nothing and the head is read instead.
async fn a_stale_known_head_does_not_fork_the_chain(store: Store) {
    use pintu::audit::{AuditRecorder, chain_hash};
    let row = |i: i64| pintu::storage::NewAuditRow {
        at: 1_700_000_000 + i,
        action: "thing.change".into(),
        outcome: "success".into(),
        actor: Some("test".into()),
        target: Some(format!("t{i}")),
        org_unit_id: None,
        client_id: None,
        source_ip: None,
        level: None,
        detail: "{}".into(),
    };
    let append = async |known: Option<&(i64, String)>, rows: &[pintu::storage::NewAuditRow]| {
        let mut tx = store.begin().await.unwrap();
        let head = store.audit().append_after(&mut tx, rows, chain_hash, known).await.unwrap();
        tx.commit().await.unwrap();
        head
    };
    let first = append(None, &[row(1)]).await;
    assert_eq!(first.0, 1);
    let forged = (1, "0".repeat(64));
    assert_eq!(append(Some(&forged), &[row(2)]).await.0, 2, "a wrong hash at the head's seq");
    let stale = append(Some(&first), &[row(3), row(4)]).await;
    assert_eq!(stale.0, 4, "a head that is no longer the newest");
    // 300 rows after the right head: the guarded first INSERT, then an ordinary one.
    let rows: Vec<_> = (5..305).map(row).collect();
    assert_eq!(append(Some(&stale), &rows).await.0, 304);
    let clock: pintu::clock::SharedClock = std::sync::Arc::new(pintu::clock::FixedClock::new(1_700_000_000));
    let report = AuditRecorder::new(store.clone(), clock).verify().await.unwrap();
    assert_eq!((report.events, report.head_seq, report.problems.len()), (304, 304, 0), "{report:?}");
}

/// A code is consumed only while it is unexpired, its grant unrevoked and its session active.
async fn a_code_outlives_neither_its_expiry_nor_its_grant_nor_its_session(store: Store) {
    let grants = store.grants();
    let (expired, client, _) = grant_with_code(&store, "e", 100).await;
    assert!(matches!(grants.consume_code((&expired, "e", &client), None, 100).await.unwrap(), Consumed::Unknown));
    let (revoked, client, _) = grant_with_code(&store, "r", 100).await;
    grants.revoke(&revoked, 5).await.unwrap();
    assert!(matches!(grants.consume_code((&revoked, "r", &client), None, 10).await.unwrap(), Consumed::Unknown));
    let (ended, client, session) = grant_with_code(&store, "s", 100).await;
    store.sessions().end(&session, 5).await.unwrap();
    assert!(matches!(grants.consume_code((&ended, "s", &client), None, 10).await.unwrap(), Consumed::Unknown));
    // None of them was consumed: a later attempt is not a replay either.
    assert!(matches!(grants.consume_code((&ended, "s", &client), None, 11).await.unwrap(), Consumed::Unknown));
}

/// A message is claimed by one sender at a time, retried when it failed, and keeps no body
/// once sent or given up.
async fn mail_is_claimed_once_retried_and_cleared(store: Store) {
    use pintu::storage::OutgoingMail;
    let outbox = store.mail_outbox();
    let mail = |id: &str| OutgoingMail {
        id: id.into(),
        to_addr: "siti@example.go.id".into(),
        subject: "s".into(),
        body: "a one-time link".into(),
        body_html: "<p>a one-time link</p>".into(),
        attempts: 0,
    };
    outbox.insert(&mail("m1"), 100).await.unwrap();
    outbox.insert(&mail("m2"), 101).await.unwrap();
    let first = outbox.claim(200, 60).await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), first.body_html.as_str()), ("m1", "<p>a one-time link</p>"));
    assert_eq!(outbox.claim(200, 60).await.unwrap().unwrap().id, "m2", "a claimed message is not handed out twice");
    assert!(outbox.claim(200, 60).await.unwrap().is_none());
    outbox.failed("m1", "connection refused", Some(300)).await.unwrap();
    assert!(outbox.claim(250, 60).await.unwrap().is_none(), "not before its retry time");
    let again = outbox.claim(300, 60).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("m1", 1));
    outbox.sent("m1", 301).await.unwrap();
    outbox.failed("m2", "mailbox unavailable", None).await.unwrap();
    assert!(outbox.claim(10_000, 60).await.unwrap().is_none(), "sent and given up are done");
}

conformance!(
    mail_is_claimed_once_retried_and_cleared,
    a_code_outlives_neither_its_expiry_nor_its_grant_nor_its_session,
    a_stale_known_head_does_not_fork_the_chain,
    a_large_batch_is_appended_in_order,
    concurrent_appenders_keep_one_chain,
    duplicate_username_or_email_is_a_conflict,
    login_finds_by_username_or_email,
    code_is_consumed_once_then_reported_as_replayed,
    expired_artefacts_are_deleted,
    revoking_a_grant_marks_its_access_tokens_revoked,
    client_assertion_ids_are_accepted_once,
);

mod clients;
mod external;
mod keys;
mod migration;

/// PostgreSQL over TLS: `sslmode=require` connects where the server offers TLS (and is refused
/// with a clear error where it does not), instead of failing for want of TLS in the driver.
#[tokio::test]
#[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
async fn postgres_connections_can_require_tls() {
    let admin = scratch::postgres_url();
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&pool).await.unwrap();
    pool.close().await;
    let opened = Store::open(&format!("{}&sslmode=require", scratch::postgres_schema_url("s").await)).await;
    match ssl.as_str() {
        "on" => opened.expect("a TLS connection to PostgreSQL").ping().await.unwrap(),
        _ => {
            let Err(refused) = opened.map(|_| ()) else { panic!("TLS required of a server that offers none") };
            let refused = refused.to_string();
            assert!(!refused.contains("without TLS support"), "the driver has TLS: {refused}");
        }
    }
}
