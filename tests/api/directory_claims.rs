//! What applications learn and who may use them: directory claims released per application
//! and scope, and access policies that turn others away with an explanation.

use base64::Engine;
use pintu::directory::{Actor, GrantInput, ProfilePatch, RoleInput, UserInput};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::browser::{form_in, query_param};
use crate::support::{Backend, PASSWORD, TestApp, TestClient};

backend_tests!(
    directory_claims_reach_only_applications_allowed_to_receive_them,
    access_policy_turns_others_away_with_a_page
);

const SCOPE: &str = "openid profile pegawai opd roles nik";

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn sign_in(app: &TestApp, client: &TestClient, username: &str) -> (Value, Value) {
    let browser = app.browser();
    let code = app.code_for(&browser, client, username, &[("scope", SCOPE)]).await;
    let (status, tokens) = app
        .token(client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)])
        .await;
    assert_eq!(status, 200, "{tokens}");
    let info = app.http.get(app.url("/oauth2/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap());
    let info: Value = info.send().await.unwrap().json().await.unwrap();
    (payload(tokens["id_token"].as_str().unwrap()), info)
}

async fn directory_claims_reach_only_applications_allowed_to_receive_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let cli = Actor::cli();
    let d = &app.state.directory;
    let input = UserInput {
        username: Some("budi".into()),
        nip: Some("198503302010011002".into()),
        nik: Some("3301013003850001".into()),
        name: "Budi Santoso".into(),
        back_title: Some("S.Kom.".into()),
        employment_type: Some("PNS".into()),
        jabatan: Some("Pranata Komputer".into()),
        golongan: Some("III/c".into()),
        org_unit: Some("APTIKA".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let budi = d.create_user(&cli, &input).await.unwrap().id;
    let full = app.client().await;
    let plain = app.client().await;
    let sensitive = app.client().await;
    let claims = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    app.set_profile(
        &full.id,
        ProfilePatch {
            claims: Some(claims(&["nip", "opd", "roles", "jabatan", "golongan", "employment_type"])),
            ..Default::default()
        },
    )
    .await;
    app.set_profile(&sensitive.id, ProfilePatch { claims: Some(claims(&["nip", "nik"])), ..Default::default() }).await;
    let global = d
        .create_role(
            &cli,
            &RoleInput { name: "operator".into(), application: None, description: String::new(), min_level: None },
        )
        .await
        .unwrap();
    let mine = d
        .create_role(
            &cli,
            &RoleInput {
                name: "verifikator".into(),
                application: Some(full.id.clone()),
                description: String::new(),
                min_level: None,
            },
        )
        .await
        .unwrap();
    let theirs = d
        .create_role(
            &cli,
            &RoleInput {
                name: "bendahara".into(),
                application: Some(plain.id.clone()),
                description: String::new(),
                min_level: None,
            },
        )
        .await
        .unwrap();
    let now = app.now();
    for (role, unit, until) in [
        (&global.id, None, None),
        (&mine.id, Some("APTIKA"), None),
        (&theirs.id, None, None),
        (&mine.id, None, Some(now + 60)),
    ] {
        let grant =
            GrantInput { role: role.to_string(), org_unit: unit.map(Into::into), valid_from: None, valid_until: until };
        d.grant_role(&cli, &budi, &grant).await.unwrap();
    }

    let (id_token, info) = sign_in(&app, &full, "budi").await;
    for claims in [&id_token, &info] {
        assert_eq!(claims["nip"], "198503302010011002");
        assert_eq!(claims["opd"], json!({"code": "APTIKA", "name": "Unit APTIKA"}));
        assert_eq!(claims["jabatan"], "Pranata Komputer");
        assert_eq!(claims["golongan"], "III/c");
        assert_eq!(claims["employment_type"], "PNS");
        assert_eq!(claims["roles"], json!(["operator", "verifikator", "verifikator@APTIKA"]));
        assert!(claims.get("nik").is_none(), "NIK only for applications granted it");
    }
    assert_eq!(info["name"], "Budi Santoso, S.Kom.");

    let (id_token, info) = sign_in(&app, &plain, "budi").await;
    for claims in [&id_token, &info] {
        for name in ["nip", "opd", "roles", "jabatan", "nik"] {
            assert!(claims.get(name).is_none(), "{name} released to an application without it");
        }
    }

    let (id_token, info) = sign_in(&app, &sensitive, "budi").await;
    assert_eq!(info["nik"], "3301013003850001");
    assert!(id_token.get("nik").is_none(), "NIK never travels in ID tokens");

    app.clock.advance(120);
    let (_, info) = sign_in(&app, &full, "budi").await;
    assert_eq!(info["roles"], json!(["operator", "verifikator@APTIKA"]), "the acting post ended by itself");

    let browser = app.browser();
    let code = app.code_for(&browser, &full, "budi", &[("scope", "openid")]).await;
    let (_, tokens) = app
        .token(&full, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &full.redirect_uri)])
        .await;
    assert!(payload(tokens["id_token"].as_str().unwrap()).get("nip").is_none(), "claims need their scope");
}

async fn access_policy_turns_others_away_with_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("dewi", "PUSKESMAS").await;
    app.pegawai("andi", "APTIKA").await;
    let helper = app.pegawai("rudi", "APTIKA").await;
    let client = app.client().await;
    let cli = Actor::cli();
    let role = app
        .state
        .directory
        .create_role(
            &cli,
            &RoleInput {
                name: "pendamping".into(),
                application: Some(client.id.clone()),
                description: String::new(),
                min_level: None,
            },
        )
        .await
        .unwrap();
    let grant = GrantInput { role: role.id.to_string(), org_unit: None, valid_from: None, valid_until: None };
    app.state.directory.grant_role(&cli, &helper, &grant).await.unwrap();
    let patch = ProfilePatch {
        access_org_units: Some(vec!["DINKES".into()]),
        access_roles: Some(vec![role.id.to_string()]),
        ..Default::default()
    };
    app.set_profile(&client.id, patch).await;

    let browser = app.browser();
    let code = app.code_for(&browser, &client, "dewi", &[]).await;
    assert!(!code.is_empty(), "a member of a subunit of DINKES may sign in");
    let code = app.code_for(&app.browser(), &client, "rudi", &[]).await;
    assert!(!code.is_empty(), "a holder of a listed role may sign in");

    let browser = app.browser();
    let params = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "s-9"),
    ];
    let (_, page, _) = browser.get(&app.authorize_url(&params)).await;
    let (status, page, _) = browser.login(&page, "andi", PASSWORD).await;
    assert_eq!(status, 403);
    assert!(page.contains("Akses ditolak"), "{page}");
    let marker = "class=\"button\" href=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let link = page[start..page[start..].find('"').unwrap() + start].replace("&amp;", "&").replace("&#x2f;", "/");
    assert_eq!(query_param(&link, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&link, "state").as_deref(), Some("s-9"));
    assert!(form_in(&page).is_none(), "nothing to submit but the way back");

    let silent = [params.as_slice(), &[("prompt", "none")]].concat();
    let (status, _, headers) = browser.get(&app.authorize_url(&silent)).await;
    assert_eq!(status, 303, "prompt=none answers the application directly");
    let location = crate::support::browser::location(&headers);
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
}
