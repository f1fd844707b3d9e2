//! The self-service account page: sessions per application, ending one, changing the password.

use crate::backend_tests;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(people_see_and_end_their_sessions_and_change_their_password);

fn form_after<'a>(page: &'a str, marker: &str) -> &'a str {
    &page[page.find(marker).unwrap_or_else(|| panic!("{marker} not in {page}"))..]
}

async fn people_see_and_end_their_sessions_and_change_their_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let anonymous = app.browser();
    let (status, page, _) = anonymous.get(&app.url("/account")).await;
    let sign_in = crate::support::browser::form_in(&page).map(|f| f.action).unwrap_or_default();
    assert!(status == 200 && sign_in.starts_with("/account/login/"), "the sign-in page: {page}");

    let (here, there) = (app.browser(), app.browser());
    app.code_for(&here, &client, "budi", &[]).await;
    app.code_for(&there, &client, "budi", &[]).await;
    let (status, page, _) = here.get(&app.url("/account")).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<li>").count(), 2, "two live sessions: {page}");
    assert!(page.contains("E-Office") && page.contains("sesi ini"));

    let inline = form_after(&page, "class=\"inline\"");
    assert!(inline.contains("name=\"session\""));
    let action =
        format!("/account/sessions/{}", page.split("/account/sessions/").nth(1).unwrap().split('"').next().unwrap());
    let other_id = page.split("name=\"session\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let csrf = page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, page, _) = here.post(&action, &[("csrf_token", &csrf), ("session", &other_id)]).await;
    assert!(status == 200 && page.contains("Sesi sudah diakhiri"), "{page}");
    assert_eq!(page.matches("<li>").count(), 1);
    let (status, page, _) = there.get(&app.code_flow_url(&client, &[])).await;
    assert!(status == 200 && page.contains("name=\"password\""), "the ended session must sign in again");

    let change = |page: &str| {
        let action = format!(
            "/account/password/{}",
            page.split("/account/password/").nth(1).unwrap().split('"').next().unwrap()
        );
        let csrf = page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        (action, csrf)
    };
    let (_, page, _) = here.get(&app.url("/account")).await;
    let (action, csrf) = change(&page);
    let (_, page, _) = here
        .post(
            &action,
            &[
                ("csrf_token", &csrf),
                ("current_password", "salah-salah-salah"),
                ("new_password", "jeruk nipis di atas lemari"),
            ],
        )
        .await;
    assert!(page.contains("Kata sandi saat ini salah"), "{page}");
    let (action, csrf) = change(&page);
    let (_, page, _) = here
        .post(&action, &[("csrf_token", &csrf), ("current_password", PASSWORD), ("new_password", "passwordpassword")])
        .await;
    assert!(page.contains("Kata sandi baru ditolak"), "{page}");
    let (action, csrf) = change(&page);
    let new = "jeruk nipis di atas lemari tua";
    let (_, page, _) =
        here.post(&action, &[("csrf_token", &csrf), ("current_password", PASSWORD), ("new_password", new)]).await;
    assert!(page.contains("Kata sandi sudah diganti"), "{page}");
    let (_, page, _) = there.get(&app.code_flow_url(&client, &[])).await;
    let (status, _, _) = there.login(&page, "budi", PASSWORD).await;
    assert_eq!(status, 401, "the old password no longer works");
    let (_, page, _) = there.get(&app.code_flow_url(&client, &[])).await;
    let (status, _, _) = there.login(&page, "budi", new).await;
    assert_eq!(status, 303);
    let forged = app.browser();
    let (status, _, _) =
        forged.post(&action, &[("csrf_token", &csrf), ("current_password", new), ("new_password", "x")]).await;
    assert_eq!(status, 403, "a form from another browser is refused");
}
