//! Brute-force protection: per-name and per-address lockouts that say nothing about which
//! accounts exist, expire by themselves, and are audited.

use crate::backend_tests;
use crate::support::{Backend, Browser, PASSWORD, TestApp, TestClient};

backend_tests!(
    failures_lock_a_login_name_the_same_way_whether_or_not_it_exists,
    many_names_from_one_address_lock_the_address,
    every_name_of_an_account_shares_one_count,
    a_burst_of_concurrent_guesses_is_checked_one_at_a_time,
);

/// Opens a login page for `client` in a fresh browser.
async fn login_page(app: &TestApp, client: &TestClient) -> (Browser, String) {
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.code_flow_url(client, &[])).await;
    (browser, page)
}

/// Submits `attempts` passwords in a row; returns each status.
async fn attempts(app: &TestApp, client: &TestClient, name: &str, passwords: &[&str]) -> Vec<u16> {
    let (browser, mut page) = login_page(app, client).await;
    let mut statuses = Vec::new();
    for password in passwords {
        let (status, next, headers) = browser.login(&page, name, password).await;
        statuses.push(status.as_u16());
        if status.as_u16() == 429 {
            let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=3600).contains(&wait));
            assert!(next.contains("Terlalu banyak percobaan"), "{next}");
        }
        if status.as_u16() == 303 {
            break;
        }
        page = next;
    }
    statuses
}

async fn failures_lock_a_login_name_the_same_way_whether_or_not_it_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let wrong = ["salah-1-panjang"; 6];
    let known = attempts(&app, &client, "budi", &wrong).await;
    assert_eq!(known, vec![401, 401, 401, 401, 429, 429]);
    let unknown = attempts(&app, &client, "siapa", &wrong).await;
    assert_eq!(unknown, known, "an unknown name behaves exactly like a known one");
    assert_eq!(attempts(&app, &client, "budi", &[PASSWORD]).await, vec![429], "the right password waits too");
    app.clock.advance(61);
    assert_eq!(attempts(&app, &client, "BUDI", &[PASSWORD]).await, vec![303], "the lock expires by itself");
    assert_eq!(attempts(&app, &client, "budi", &wrong[..2]).await, vec![401, 401], "success resets the count");
    let token = app.office_token().await;
    let events = app.get_api("/api/v1/audit/events?limit=1000", &token).await;
    let throttled = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains("throttled")))
        .count();
    assert!(throttled >= 4, "lockouts are audited ({throttled})");
}

async fn many_names_from_one_address_lock_the_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    for i in 0..7 {
        let statuses = attempts(&app, &client, &format!("tebak{i}"), &["salah-1-panjang"; 4]).await;
        assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    }
    let last = attempts(&app, &client, "tebak-akhir", &["salah-1-panjang"; 3]).await;
    assert_eq!(last, vec![401, 429, 429], "the 30th failure from one address locks it");
    assert_eq!(attempts(&app, &client, "budi", &[PASSWORD]).await, vec![429]);
    app.clock.advance(61);
    assert_eq!(attempts(&app, &client, "budi", &[PASSWORD]).await, vec![303]);
}

async fn every_name_of_an_account_shares_one_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    assert_eq!(attempts(&app, &client, "budi", &["salah-1", "salah-2"]).await, vec![401, 401]);
    assert_eq!(attempts(&app, &client, "budi@kominfo.go.id", &["salah-3", "salah-4"]).await, vec![401, 401]);
    assert_eq!(
        attempts(&app, &client, "BUDI@kominfo.go.id", &["salah-5", PASSWORD]).await,
        vec![429, 429],
        "the username and the e-mail address are one account: five failures in all lock it"
    );
    assert_eq!(attempts(&app, &client, "siapa", &["salah-1"]).await, vec![401], "other names are not locked");
}

async fn a_burst_of_concurrent_guesses_is_checked_one_at_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let mut pages = Vec::new();
    for _ in 0..12 {
        pages.push(login_page(&app, &client).await);
    }
    let mut guesses = tokio::task::JoinSet::new();
    for (i, (browser, page)) in pages.into_iter().enumerate() {
        guesses.spawn(async move { browser.login(&page, "budi", &format!("tebakan-{i}")).await.0.as_u16() });
    }
    let statuses = guesses.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 4, "{statuses:?}");
    // Had all twelve been checked before the first failure was counted, each would have
    // counted, and the lock would have grown far beyond its first minute.
    app.clock.advance(61);
    assert_eq!(
        attempts(&app, &client, "budi", &[PASSWORD]).await,
        vec![303],
        "only the guesses before the lock were checked and counted"
    );
}
