//! E-mail through a local SMTP sink: a forgotten password reset by a link (no enumeration),
//! notices when the password changes, activation links for people whose address is known, and
//! the pages that say so when no SMTP server is configured.

use serde_json::json;

use crate::backend_tests;
use crate::support::browser::location;
use crate::support::smtp::Sink;
use crate::support::{Backend, Browser, PASSWORD, TestApp};

backend_tests!(
    a_forgotten_password_is_reset_through_an_e_mailed_link,
    without_smtp_the_pages_say_so,
    the_console_e_mails_an_activation_link
);

fn field(page: &str, marker: &str) -> String {
    let page = page.replace("&#x2f;", "/");
    page.split(marker).nth(1).unwrap().split('"').next().unwrap().to_owned()
}

async fn ask_for_link(app: &TestApp, browser: &Browser, login: &str) -> (u16, String) {
    let (_, page, _) = browser.get(&app.url("/password/forgot")).await;
    let action = format!("/password/forgot/{}", field(&page, "action=\"/password/forgot/"));
    let csrf = field(&page, "name=\"csrf_token\" value=\"");
    let (status, page, _) = browser.post(&action, &[("csrf_token", &csrf), ("login", login)]).await;
    (status.as_u16(), page)
}

/// A message's text as a mail client shows it (quoted-printable decoded, RFC 2045 §6.7).
fn decoded(message: &str) -> String {
    let joined = message.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The link in a plain-text message (one line, as Pintu writes it).
fn link_in(message: &str) -> String {
    let text = decoded(message);
    let start = text.find("http://").unwrap();
    text[start..].lines().next().unwrap().trim().to_owned()
}

async fn a_forgotten_password_is_reset_through_an_e_mailed_link(backend: Backend) {
    let sink = Sink::start().await;
    let mail = sink.config();
    let app = TestApp::spawn_with(backend, move |c| c.mail = mail).await;
    app.user("siti").await; // siti@kominfo.go.id
    let browser = app.browser();
    let (status, page) = ask_for_link(&app, &browser, "siti").await;
    assert_eq!(status, 200);
    assert!(page.contains("tautan untuk memilih kata sandi baru sudah dikirim"), "{page}");
    let message = sink.message_to("siti@kominfo.go.id").await.expect("the reset e-mail");
    assert!(message.contains("Subject: Pintu: tautan untuk memilih kata sandi baru"), "{message}");
    // Plain text first, then the same message as HTML (RFC 2046 §5.1.4).
    let (plain, html) = (message.find("Content-Type: text/plain"), message.find("Content-Type: text/html"));
    assert!(message.contains("Content-Type: multipart/alternative") && plain < html && plain.is_some(), "{message}");
    assert!(decoded(&message).contains("&amp;code="), "the link in the HTML part, escaped: {message}");
    let link = link_in(&message);
    assert!(link.contains("/activate?login=siti&code="), "{link}");

    // A name nobody has: the same page, and no e-mail.
    let before = sink.count();
    let (status, page) = ask_for_link(&app, &app.browser(), "nobody").await;
    assert_eq!(status, 200);
    assert!(page.contains("sudah dikirim"), "{page}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.count(), before, "no e-mail for an unknown name");

    // The link opens the form with the code in it; the new password replaces the old one.
    let path = link.split_once(&app.base).map(|(_, p)| p.to_owned()).unwrap();
    let (status, page, _) = browser.get(&app.url(&path)).await;
    assert_eq!(status, 200);
    let action = format!("/activate/{}", field(&page, "action=\"/activate/"));
    let csrf = field(&page, "name=\"csrf_token\" value=\"");
    let code = field(
        &page,
        "name=\"code\" type=\"text\" autocomplete=\"one-time-code\" required maxlength=\"64\" spellcheck=\"false\" value=\"",
    );
    let new = "kebun-raya-bogor-hujan-2026";
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("login", "siti"),
        ("code", &code),
        ("new_password", new),
        ("confirm_password", new),
    ];
    let (status, _, headers) = browser.post(&action, &fields).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));
    // The person is told by e-mail.
    let mut told = false;
    for _ in 0..100 {
        told = sink.all().iter().any(|m| decoded(m).contains("baru saja diubah"));
        if told {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(told, "a notice that the password changed");
    let portal = app.client().await;
    let other = app.browser();
    let (_, page, _) = other.get(&app.code_flow_url(&portal, &[])).await;
    let (status, _, _) = other.login(&page, "siti", PASSWORD).await;
    assert_eq!(status, 401, "the old password no longer works");

    // Activation links by e-mail for people with an address.
    let token = app.office_token().await;
    let imported = pintu::directory::UserInput {
        username: Some("wati".into()),
        name: "Wati <i>Rahayu</i>".into(),
        email: Some("wati@dinkes.example.go.id".into()),
        ..Default::default()
    };
    app.state.directory.create_user(&pintu::directory::Actor::cli(), &imported).await.unwrap();
    let r = app.api("POST", "/api/v1/activations", &token, Some(json!({ "user": "wati", "email": true })), None).await;
    assert_eq!((r.status, r.body["emailed"].as_i64()), (201, Some(1)), "{}", r.body);
    let message = sink.message_to("wati@dinkes.example.go.id").await.expect("the activation e-mail");
    assert!(decoded(&message).contains(r.body["items"][0]["code"].as_str().unwrap()), "{message}");
    let html = decoded(&message).split("Content-Type: text/html").nth(1).unwrap_or_default().to_owned();
    assert!(html.contains("Wati &lt;i&gt;Rahayu") && !html.contains("<i>Rahayu"), "the name escaped in HTML: {html}");
    let sent = app.raw_count("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND body = ''").await;
    assert!(sent >= 3, "sent mail keeps no body (the links): {sent}");
}

async fn without_smtp_the_pages_say_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("siti").await;
    let (status, page, _) = app.browser().get(&app.url("/password/forgot")).await;
    assert_eq!(status, 200);
    assert!(page.contains("belum tersedia"), "{page}");
    let token = app.office_token().await;
    let r = app.api("POST", "/api/v1/activations", &token, Some(json!({ "user": "siti", "email": true })), None).await;
    assert!(r.status == 400 || r.status == 422, "{}", r.body);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM mail_outbox").await, 0);
}

/// From the console's people page: the activation link by e-mail for a person with an address;
/// for one without, nothing is issued (their printed letter keeps working).
async fn the_console_e_mails_an_activation_link(backend: Backend) {
    let sink = Sink::start().await;
    let mail = sink.config();
    let app = TestApp::spawn_with(backend, move |c| c.mail = mail).await;
    app.org_tree().await;
    let office = crate::console::administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let with_address = app.pegawai("dedi", "DINKES").await;
    let cli = pintu::directory::Actor::cli();
    let without =
        pintu::directory::UserInput { username: Some("tono".into()), name: "Tono".into(), ..Default::default() };
    let tono = app.state.directory.create_user(&cli, &without).await.unwrap().id;
    let letter = pintu::directory::ActivationTarget::Person("tono".into());
    app.state.directory.issue_activation(&cli, &letter, None).await.unwrap();
    let printed_at = app.now();
    app.clock.advance(10);

    let (_, page, _) = office.get(&app.url("/admin/people")).await;
    assert!(page.contains("Kirim tautan aktivasi lewat e-mail"), "{page}");
    let send = |page: String, user: String| {
        let office = &office;
        async move {
            let (base, csrf) = crate::console::form_token(&page, "/admin/people/");
            let fields = [("csrf_token", csrf.as_str()), ("user", user.as_str()), ("send", "email")];
            let (status, page, _) = office.post(&format!("{base}/activation"), &fields).await;
            (status.as_u16(), page)
        }
    };
    let (status, page) = send(page, with_address).await;
    assert_eq!(status, 200, "{page}");
    let message = sink.message_to("dedi@example.go.id").await.expect("the activation e-mail");
    assert!(decoded(&message).contains("/activate?login=dedi&code="), "{message}");
    let (status, page) = send(page, tono.clone()).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("tidak memiliki alamat e-mail"), "{page}");
    let kept = format!("SELECT COUNT(*) FROM activation_codes WHERE user_id = '{tono}' AND created_at = {printed_at}");
    assert_eq!(app.raw_count(&kept).await, 1, "the printed letter's code is the one still on record");
}
