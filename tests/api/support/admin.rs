//! Admin API helpers: tokens for the office and for OPD administrators, JSON requests, and a
//! small org tree.

use pintu::directory::{Actor, GrantInput, OrgUnitInput, ProfilePatch, UserInput};
use serde_json::Value;

use super::{PASSWORD, TestApp, TestClient};

/// A response: status, headers, JSON body (`Null` when empty or not JSON).
pub struct ApiResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl ApiResponse {
    pub fn etag(&self) -> String {
        self.headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
    pub fn content_type(&self) -> String {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

impl TestApp {
    /// Sends a JSON request to the admin API.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> ApiResponse {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body.to_string());
        }
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        ApiResponse { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub async fn get_api(&self, path: &str, token: &str) -> ApiResponse {
        self.api("GET", path, token, None, None).await
    }

    /// An application the office made admin-capable, with client credentials and the code flow.
    pub async fn admin_client(&self, admin: &str) -> TestClient {
        let client = self
            .client_from(
                serde_json::json!({
                    "client_name": "Konsol Admin",
                    "redirect_uris": [super::REDIRECT_URI],
                    "grant_types": ["authorization_code", "client_credentials"],
                }),
                true,
            )
            .await;
        self.set_profile(&client.id, ProfilePatch { admin: Some(admin.into()), ..Default::default() }).await;
        client
    }

    /// Updates an application's directory profile as the office (the service drops its cached
    /// client).
    pub async fn set_profile(&self, id: &str, patch: ProfilePatch) {
        let (apps, id) = (&self.state.applications, pintu::domain::ApplicationId::new(id));
        let current = apps.get(&Actor::cli(), &id).await.expect("application");
        apps.update_profile(&Actor::cli(), &id, &patch, Some(current.version)).await.expect("profile update");
    }

    /// An RFC 7591 initial access token, valid an hour, issued as the office.
    pub async fn initial_access_token(&self) -> String {
        let apps = &self.state.applications;
        apps.issue_initial_access_token(&Actor::cli(), "test", 3600).await.expect("initial access token")
    }

    /// Disables an application as the office, through the application service.
    pub async fn disable_app(&self, id: &str) {
        let by = pintu::applications::ChangedBy::Admin(&Actor::cli());
        self.state.applications.disable(&pintu::domain::ApplicationId::new(id), by).await.expect("disable");
    }

    /// A client-credentials token with the office's authority.
    pub async fn office_token(&self) -> String {
        let client = self.admin_client("office").await;
        let (status, body) =
            self.token(&client, &[("grant_type", "client_credentials"), ("scope", "pintu.admin")]).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A person holding `pintu.opd_admin` for `unit`, and their access token obtained by
    /// logging in through an admin console.
    pub async fn opd_admin_token(&self, username: &str, unit: &str) -> String {
        let user = self.pegawai(username, unit).await;
        let grant = GrantInput {
            role: "pintu.opd_admin".into(),
            org_unit: Some(unit.into()),
            valid_from: None,
            valid_until: None,
        };
        self.state.directory.grant_role(&Actor::cli(), &user, &grant).await.expect("grant");
        let console = self.admin_client("office").await;
        let browser = self.browser();
        let code = self.code_for(&browser, &console, username, &[("scope", "openid pintu.admin")]).await;
        let (status, body) = self
            .token(
                &console,
                &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &console.redirect_uri)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Creates a person with `PASSWORD` in `unit`; returns their id.
    pub async fn pegawai(&self, username: &str, unit: &str) -> String {
        let input = UserInput {
            username: Some(username.into()),
            name: format!("{username} Pegawai"),
            email: Some(format!("{username}@example.go.id")),
            org_unit: Some(unit.into()),
            password: Some(PASSWORD.into()),
            ..Default::default()
        };
        self.state.directory.create_user(&Actor::cli(), &input).await.expect("create pegawai").id
    }

    /// PEMDA ─┬─ DISKOMINFO ── APTIKA
    ///        └─ DINKES ── PUSKESMAS
    pub async fn org_tree(&self) {
        for (code, kind, parent) in [
            ("PEMDA", "pemda", None),
            ("DISKOMINFO", "dinas", Some("PEMDA")),
            ("APTIKA", "bidang", Some("DISKOMINFO")),
            ("DINKES", "dinas", Some("PEMDA")),
            ("PUSKESMAS", "uptd", Some("DINKES")),
        ] {
            let input = OrgUnitInput {
                code: code.into(),
                name: format!("Unit {code}"),
                kind: kind.into(),
                parent: parent.map(Into::into),
                min_level: None,
            };
            self.state.directory.create_org_unit(&Actor::cli(), &input).await.expect("create unit");
        }
    }
}

impl TestApp {
    /// Runs raw SQL on the test database, as someone with direct database access would.
    pub async fn raw_sql(&self, sql: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.db_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("sqlite");
            let result = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ()).map_err(|e| e.to_string());
            pool.close().await;
            result
        } else {
            let pool = sqlx::PgPool::connect(&self.db_url).await.expect("postgres");
            let result = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ()).map_err(|e| e.to_string());
            pool.close().await;
            result
        }
    }
}

impl TestApp {
    /// The single number a raw `SELECT COUNT(*) …` on the test database answers.
    pub async fn raw_count(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.db_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("sqlite");
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect("count");
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect(&self.db_url).await.expect("postgres");
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect("count");
            pool.close().await;
            n
        }
    }
}
