//! The pages an employee sees, in a real browser and in both languages: signing in, the account
//! page, turning on two-step verification, the second step an application asks for, consent
//! and signing out. Each page is checked, then photographed for the user manual: the pictures
//! go to `target/tmp/screenshots/user-manual/{id,en}/`, and with `PINTU_UPDATE_SCREENSHOTS=1`
//! (`bash docs/generate` sets it) into `docs/img/user-manual/`, so the manual never shows a page
//! that no longer exists. Skipped with a notice where Chromium is not installed, unless
//! `PINTU_TEST_REQUIRE_BROWSER=1`.

use std::path::PathBuf;

use pintu::directory::ProfilePatch;
use serde_json::json;

use crate::levels::code_at;
use crate::support::webdriver::Chromium;
use crate::support::{Backend, PASSWORD, TestApp};

/// Where a language's pictures go: the test output always, the manual when asked.
fn destinations(lang: &str) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots/user-manual").join(lang)];
    if std::env::var("PINTU_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        out.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img/user-manual").join(lang));
    }
    out
}

async fn photograph(browser: &Chromium, lang: &str, name: &str) {
    for dir in destinations(lang) {
        browser.screenshot(&dir.join(format!("{name}.png"))).await;
    }
}

#[tokio::test]
async fn the_employees_pages_in_a_browser_for_the_user_manual() {
    let browser = match Chromium::start().await {
        Ok(b) => b,
        Err(why) if std::env::var("PINTU_TEST_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("NOTICE: headless Chromium unavailable ({}); the screenshot test is SKIPPED", why.0);
            return;
        }
        Err(why) => panic!("headless Chromium is required here: {}", why.0),
    };
    for (lang, words) in [
        ("id", ["Masuk", "Akun saya", "Verifikasi dua langkah"]),
        ("en", ["Sign in", "My account", "Two-step verification"]),
    ] {
        walk_through(&browser, lang, words).await;
        browser.delete_cookies().await;
    }
}

/// One language's walk: `words` are the sign-in title, the account title and the two-step
/// verification title in that language.
async fn walk_through(browser: &Chromium, lang: &str, [sign_in, account, two_step]: [&str; 3]) {
    let app = TestApp::spawn_localhost(Backend::Sqlite).await;
    app.user("budi").await;
    let landing = format!("{}/healthz", app.issuer);
    let metadata =
        |name: &str| json!({ "client_name": name, "redirect_uris": [landing], "grant_types": ["authorization_code"] });
    let portal = app.client_from(metadata("E-Office"), true).await;
    let finance = app.client_from(metadata("Sistem Keuangan Daerah"), false).await;
    app.set_profile(&finance.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    let authorize = |client: &crate::support::TestClient| {
        let params = [
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", landing.as_str()),
            ("scope", "openid profile email"),
            ("state", "s-1"),
            ("ui_locales", lang),
        ];
        app.authorize_url(&params).replace(&app.base, &app.issuer)
    };

    browser.goto(&authorize(&portal)).await;
    browser.wait_for("the sign-in page", |_, page| page.contains(sign_in) && page.contains("id=\"username\"")).await;
    photograph(browser, lang, "01-login").await;
    browser.type_into("#username", "budi").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the application", |url, _| url.starts_with(&landing)).await;

    browser.goto(&format!("{}/account", app.issuer)).await;
    let (_, page) = browser.wait_for("the account page", |_, page| page.contains("/account/password/")).await;
    assert!(page.contains(account) && page.contains("budi"), "{page}");
    photograph(browser, lang, "02-account").await;

    browser.goto(&format!("{}/account/totp", app.issuer)).await;
    let (_, page) = browser.wait_for("the two-step page", |_, page| page.contains("<svg")).await;
    assert!(page.contains(two_step), "{page}");
    photograph(browser, lang, "03-totp").await;
    let secret = crate::levels::between(&page, "<code>", "</code>").to_owned();
    browser.type_into("#code", &code_at(&secret, app.now())).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the recovery codes", |_, page| page.matches("<li><code>").count() == 10).await;

    app.clock.advance(30);
    browser.goto(&authorize(&finance)).await;
    let (_, page) = browser.wait_for("the second step", |_, page| page.contains("id=\"code\"")).await;
    assert!(page.contains("Sistem Keuangan Daerah") && !page.contains("id=\"password\""), "{page}");
    photograph(browser, lang, "04-second-factor").await;
    browser.type_into("#code", &code_at(&secret, app.now())).await;
    browser.click("form button[type=submit]").await;
    let (_, page) = browser.wait_for("the consent page", |_, page| page.contains("value=\"allow\"")).await;
    assert!(page.contains("Sistem Keuangan Daerah"), "{page}");
    photograph(browser, lang, "05-consent").await;
    browser.click("button[value=allow]").await;
    browser.wait_for("the application", |url, _| url.starts_with(&landing) && url.contains("code=")).await;

    browser.goto(&format!("{}/oauth2/logout", app.issuer)).await;
    browser.wait_for("the sign-out page", |_, page| page.contains("/logout/confirm/")).await;
    photograph(browser, lang, "06-logout").await;
    browser.click("form button[type=submit]").await;
    // The click only starts the form's submission: wait for its answer before going on.
    let signed_out = |page: &str| page.contains("Anda telah keluar") || page.contains("You are signed out");
    browser.wait_for("the signed-out page", |_, page| signed_out(page)).await;
    browser.goto(&format!("{}/account", app.issuer)).await;
    browser.wait_for("signed out", |_, page| page.contains("id=\"password\"")).await;
}
