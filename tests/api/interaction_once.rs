//! Finishing an authorization interaction is exactly-once (the grant's id is fixed by the
//! interaction), however often, and however concurrently, its forms are submitted.

use pintu::clock::Clock;
use reqwest::StatusCode;

use crate::authorize::base_params;
use crate::backend_tests;
use crate::support::browser::{Form, form_in, location, query_param};
use crate::support::{Backend, PASSWORD, TestApp};

/// Replays a form with the cookies a browser held when it was shown (the interaction cookie
/// is cleared once the interaction finishes, so an ordinary browser could not even try).
async fn replay(action: &str, cookies: &str, form: &[(&str, &str)]) -> StatusCode {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let request =
        client.post(action).header("cookie", cookies).header("content-type", "application/x-www-form-urlencoded");
    request.body(body).send().await.unwrap().status()
}

/// A form's absolute URL and the interaction id it ends in.
fn target<'f>(app: &TestApp, form: &'f Form) -> (String, &'f str) {
    let url =
        if form.action.starts_with("http") { form.action.clone() } else { format!("{}{}", app.base, form.action) };
    (url, form.action.rsplit('/').next().unwrap())
}

fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    let prefix = format!("{name}=");
    let value = headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|v| v.starts_with(&prefix));
    value.expect("cookie set").split(';').next().unwrap().to_owned()
}

/// Finishing an interaction is exactly-once: its grant's id is fixed by the interaction, so a
/// second (or concurrent) submit of the same form issues no second code.
async fn an_interaction_issues_one_code_however_often_it_is_submitted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let budi = app.user("budi").await;
    let sessions = async || app.state.store.session_list().live(&budi.id, app.clock.now()).await.unwrap().len();
    let client = app.client().await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&client))).await;
    let (a, b) = tokio::join!(browser.login(&page, "budi", PASSWORD), browser.login(&page, "budi", PASSWORD));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::BAD_REQUEST], "one code, one 'expired' page");
    let form = form_in(&page).unwrap();
    let (url, id) = target(&app, &form);
    let login = [("csrf_token", form.csrf_token.as_str()), ("username", "budi"), ("password", PASSWORD)];
    let before = sessions().await;
    assert_eq!(replay(&url, &format!("pintu_interaction={id}"), &login).await, StatusCode::BAD_REQUEST);
    assert_eq!(sessions().await, before, "a finished interaction does not even check the password again");

    // The same for the consent step.
    let session = set_cookie(if a.0 == StatusCode::SEE_OTHER { &a.2 } else { &b.2 }, "pintu_session");
    let other = app
        .client_from(serde_json::json!({"client_name": "Aplikasi", "redirect_uris": ["http://127.0.0.1:9/cb"]}), false)
        .await;
    let (_, page, _) = browser.get(&app.authorize_url(&base_params(&other))).await;
    let form = form_in(&page).expect("consent form");
    let allow = [("csrf_token", form.csrf_token.as_str()), ("decision", "allow")];
    let (status, _, headers) = browser.post(&form.action, &allow).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(query_param(&location(&headers), "code").is_some());
    let (url, id) = target(&app, &form);
    let cookies = format!("pintu_interaction={id}; {session}");
    assert_eq!(replay(&url, &cookies, &allow).await, StatusCode::BAD_REQUEST);
    let deny = [("csrf_token", form.csrf_token.as_str()), ("decision", "deny")];
    assert_eq!(replay(&url, &cookies, &deny).await, StatusCode::BAD_REQUEST, "no access_denied after the code");
}

backend_tests!(an_interaction_issues_one_code_however_often_it_is_submitted);
