//! The passkey pages in a real browser: headless Chromium (the system's package) with its
//! virtual authenticator registers a passkey on the account page and then signs in with it,
//! without a name, through the page's own script. Skipped with a visible notice where
//! Chromium is not installed, unless `PINTU_TEST_REQUIRE_BROWSER=1` (CI sets it; `tests/run`
//! installs Chromium).

use serde_json::json;

use crate::levels::exchange;
use crate::support::webdriver::Chromium;
use crate::support::{Backend, PASSWORD, TestApp};

#[tokio::test]
async fn passkey_registration_and_login_in_headless_chromium() {
    let browser = match Chromium::start().await {
        Ok(b) => b,
        Err(why) if std::env::var("PINTU_TEST_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("NOTICE: headless Chromium unavailable ({}); the browser passkey test is SKIPPED", why.0);
            return;
        }
        Err(why) => panic!("headless Chromium is required here: {}", why.0),
    };
    browser.add_virtual_authenticator().await;
    let app = TestApp::spawn_localhost(Backend::Sqlite).await;
    let user = app.user("budi").await;
    // The browser lands back on Pintu itself, where the code is read from the address.
    let landing = format!("{}/healthz", app.issuer);
    let portal = app
        .client_from(
            json!({ "client_name": "Portal", "redirect_uris": [landing], "grant_types": ["authorization_code"] }),
            true,
        )
        .await;
    let authorize = app.code_flow_url(&portal, &[]).replace(&app.base, &app.issuer);

    browser.goto(&authorize).await;
    browser.type_into("#username", "budi").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the password login", |url, _| url.starts_with(&landing) && url.contains("code=")).await;

    browser.goto(&format!("{}/account", app.issuer)).await;
    browser.type_into("#passkey-name", "Chromium").await;
    browser.click("#passkey-button").await;
    // The browser asks for English pages.
    browser.wait_for("the registration", |_, page| page.contains("The passkey was registered")).await;
    let stored = app.state.store.passkeys().of_user(&user.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Chromium");

    browser.delete_cookies().await;
    browser.goto(&authorize).await;
    // Chromium offers the passkey in the name field's autofill (conditional mediation); its
    // virtual authenticator may answer that request by itself. Otherwise, use the button.
    let (url, _) = browser
        .wait_for("the login page", |url, page| url.starts_with(&landing) || page.contains("id=\"passkey-button\""))
        .await;
    let url = match url.starts_with(&landing) {
        true => url,
        false => {
            // The autofill request may still win the race and leave the page first.
            browser.click_if_present("#passkey-button").await;
            browser.wait_for("the passkey login", |url, _| url.starts_with(&landing)).await.0
        }
    };
    let claims = exchange(&app, &portal, &url).await;
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["acr"], "urn:pintu:level:3");
    assert!(claims["amr"].as_array().unwrap().contains(&json!("user")), "{claims}");
}
