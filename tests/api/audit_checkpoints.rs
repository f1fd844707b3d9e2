//! Signed checkpoints of the audit chain: someone who can write the database edits an event and
//! recomputes every later hash, so the chain alone looks intact; the checkpoints (stored, and
//! exported before the stored ones were deleted too) still catch it, and an altered checkpoint
//! does not verify.

use pintu::app::AuditCheckpoints;
use pintu::directory::{Actor, UserInput};

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    a_rewritten_chain_fails_against_its_signed_checkpoints_stored_or_exported,
    a_signing_key_written_into_the_database_is_refused,
);

fn checkpoints(app: &TestApp) -> AuditCheckpoints {
    AuditCheckpoints {
        keyring: app.state.oidc.keyring().clone(),
        store: app.state.store.clone(),
        issuer: app.issuer.clone(),
    }
}

async fn person(app: &TestApp, name: &str) {
    let input = UserInput { username: Some(name.into()), name: format!("{name} Pegawai"), ..Default::default() };
    app.state.directory.create_user(&Actor::cli(), &input).await.unwrap();
}

/// What a database writer does: drops the append-only triggers, edits event `seq` and
/// recomputes the chain from there.
async fn rewrite_from(app: &TestApp, seq: i64) {
    let drop = if app.db_url.starts_with("sqlite:") {
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
    } else {
        "DROP TRIGGER audit_events_no_change ON audit_events;"
    };
    app.raw_sql(drop).await.unwrap();
    let rows = app.state.store.audit().page(0, 10_000).await.unwrap();
    let mut prev = rows.iter().find(|r| r.seq == seq - 1).map(|r| r.hash.clone()).unwrap();
    for mut row in rows.into_iter().filter(|r| r.seq >= seq) {
        if row.seq == seq {
            row.event.detail = r#"{"note":"rewritten"}"#.into();
        }
        let hash = pintu::audit::chain_hash(&prev, row.seq, &row.event);
        let sql = format!(
            "UPDATE audit_events SET detail = '{}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}",
            row.event.detail, row.seq
        );
        app.raw_sql(&sql).await.unwrap();
        prev = hash;
    }
}

async fn a_rewritten_chain_fails_against_its_signed_checkpoints_stored_or_exported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signer = checkpoints(&app);
    assert!(signer.make(app.now()).await.unwrap().is_none(), "no events, no checkpoint");
    for name in ["ani", "budi", "citra"] {
        person(&app, name).await;
    }
    let first = signer.make(app.now()).await.unwrap().expect("the head is signed");
    assert!(signer.make(app.now()).await.unwrap().is_none(), "an unchanged head is not signed again");
    person(&app, "dodi").await;
    let second = signer.make(app.now()).await.unwrap().expect("a new head");
    assert!(second.seq > first.seq);
    let intact = signer.verify(None).await.unwrap();
    assert_eq!((intact.verified, intact.covered_through, intact.problems.len()), (2, second.seq, 0), "{intact:?}");
    let exported = signer.export().await.unwrap();
    assert_eq!(exported.checkpoints, [first.jws.clone(), second.jws.clone()]);
    assert!(exported.keys["keys"].as_array().is_some_and(|k| !k.is_empty()), "the keys travel with them");

    rewrite_from(&app, 2).await;
    let chain = app.state.directory.verify_audit(&Actor::cli()).await.unwrap();
    assert!(chain.is_intact(), "the recomputed chain alone looks intact: {chain:?}");
    let caught = signer.verify(None).await.unwrap();
    assert_eq!(caught.problems.len(), 2, "both checkpoints lie after the rewritten event: {caught:?}");
    assert!(caught.problems.iter().all(|p| p.reason.contains("rewritten")));

    // The writer deletes the stored checkpoints too; the exported ones were kept elsewhere.
    app.raw_sql("DELETE FROM audit_checkpoints").await.unwrap();
    assert!(signer.verify(None).await.unwrap().problems.is_empty(), "nothing stored, nothing to compare");
    let from_file = signer.verify(Some(&exported)).await.unwrap();
    assert_eq!(from_file.problems.len(), 2, "{from_file:?}");

    // An altered checkpoint (another hash in its payload) does not verify.
    let mut parts: Vec<String> = first.jws.split('.').map(str::to_owned).collect();
    let payload = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1]).unwrap();
    let forged = String::from_utf8(payload).unwrap().replace(&first.hash, &"0".repeat(64));
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, forged);
    let altered = pintu::app::CheckpointExport { checkpoints: vec![parts.join(".")], ..exported.clone() };
    let report = signer.verify(Some(&altered)).await.unwrap();
    assert!(report.problems[0].reason.contains("does not verify"), "{report:?}");
    // A file whose keys are not the ones that signed: nothing in it verifies.
    let rekeyed = pintu::app::CheckpointExport { keys: serde_json::json!({ "keys": [] }), ..exported.clone() };
    assert_eq!(signer.verify(Some(&rekeyed)).await.unwrap().problems.len(), 2);
}

/// Whoever can write the database cannot add a key of their own (a copied sealed private key
/// beside their public key) to sign checkpoints or tokens: the keyring refuses to load it.
async fn a_signing_key_written_into_the_database_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let forged = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"attacker"}"#;
    let sql = format!(
        "INSERT INTO signing_keys (kid, alg, state, sealed_private, public_jwk, created_at, retired_at) \
         SELECT 'attacker', alg, 'retired', sealed_private, '{forged}', created_at, NULL FROM signing_keys WHERE alg = 'ES256' LIMIT 1"
    );
    app.raw_sql(&sql).await.unwrap();
    let refused = app.state.oidc.keyring().reload().await;
    assert!(format!("{refused:?}").contains("Mismatch"), "{refused:?}");
    let jwks = app.state.oidc.keyring().jwks();
    assert!(
        !String::from_utf8_lossy(&jwks).contains("attacker"),
        "the old keys stay in use, the forged one unpublished"
    );
}
