//! The test harness: a real Pintu on a loopback port with a fresh database per test, a
//! controllable clock, and a cookie-keeping browser that does not follow redirects.

pub mod admin;
pub mod browser;
pub mod pki;
#[path = "../../common/scratch.rs"]
pub mod scratch;
pub mod slapd;
pub mod smtp;
pub mod webdriver;

use std::path::PathBuf;
use std::sync::Arc;

use pintu::app::App;
use pintu::applications::{ChangedBy, ClientSpec, RawMetadata, validate_metadata};
use pintu::clock::{Clock, FixedClock, SystemClock};
use pintu::config::{Config, RawConfig, RawPassword};
use pintu::directory::Actor;
use pintu::domain::{User, UserId};
use pintu::keys::Sealer;
use pintu::storage::{NewUser, Store};
use pintu::web::AppState;
use serde_json::Value;

pub use browser::Browser;

/// Where the test's database lives.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// PostgreSQL from `TEST_POSTGRES_URL`, which a PostgreSQL test requires.
    pub fn postgres() -> Backend {
        Backend::Postgres
    }

    pub async fn database_url(&self) -> String {
        match self {
            Backend::Sqlite => {
                let path = scratch::path("pintu-test", ".db");
                format!("sqlite://{}", path.display())
            }
            // One schema per test: isolated, and dropped with the run's database.
            Backend::Postgres => scratch::postgres_schema_url("t").await,
        }
    }
}

/// Runs a test body once per available backend.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test]
                #[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
                async fn postgres() {
                    super::$name($crate::support::Backend::postgres()).await
                }
            }
        )*
    };
}

/// A registered test application.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

pub const PASSWORD: &str = "kata-sandi-yang-cukup-panjang";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A running Pintu.
pub struct TestApp {
    pub base: String,
    pub clock: FixedClock,
    pub state: AppState,
    pub http: reqwest::Client,
    /// The database, for tests that play an attacker with direct access.
    pub db_url: String,
    /// The issuer identifier (and the browser origin of its pages).
    pub issuer: String,
    /// Backups of this installation (its archives carry its key-encryption key).
    pub backups: pintu::backup::Backups,
}

/// The test's SQLite files go with it (a PostgreSQL schema goes with the run's database).
impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(path) = self.db_url.strip_prefix("sqlite://") {
            scratch::remove_sqlite(std::path::Path::new(path));
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a configuration adjusted by `customize`.
    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on("127.0.0.1", backend, customize).await
    }

    /// Spawns with the issuer `http://localhost:…`, a host name, so passkeys work (browsers
    /// and WebAuthn refuse an IP address as the relying-party ID). Requests still go to
    /// 127.0.0.1.
    pub async fn spawn_localhost(backend: Backend) -> TestApp {
        Self::spawn_localhost_with(backend, |_| {}).await
    }

    /// `spawn_localhost` with a configuration adjusted by `customize`.
    pub async fn spawn_localhost_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on("localhost", backend, customize).await
    }

    async fn spawn_on(host: &str, backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
        let url = backend.database_url().await;
        Self::start(host, url, Sealer::ephemeral(), customize).await
    }

    /// A node on an existing database (a restored one) with its key-encryption key.
    pub async fn spawn_on_database(host: &str, url: String, sealer: Sealer) -> TestApp {
        Self::start(host, url, sealer, |_| {}).await
    }

    async fn start(host: &str, url: String, sealer: Sealer, customize: impl FnOnce(&mut Config)) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let raw = RawConfig {
            issuer: Some(format!("http://{host}:{port}")),
            database_url: Some(url.clone()),
            password: RawPassword { memory_kib: Some(8192), iterations: Some(1), parallelism: Some(1) },
            web: pintu::config::RawWeb {
                themes_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("themes")),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut config = raw.validate().expect("test config is valid");
        customize(&mut config);
        let clock = FixedClock::new(SystemClock.now());
        let store = Store::open(&url).await.expect("open test database");
        let app = App::with_parts(&config, Arc::new(clock.clone()), store, sealer, false).await.expect("build app");
        let router = app.router();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
        });
        if let Some(tls) = &config.certificates.tls {
            // The listener runs as long as the test: its stop signal is never sent.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            pintu::app::tls_listener(&app, tls, stopped).await.expect("TLS listener");
            std::mem::forget(stop);
        }
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let issuer = format!("http://{host}:{port}");
        let base = format!("http://127.0.0.1:{port}");
        TestApp { base, issuer, clock, state: app.state, http, db_url: url, backups: app.backups }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// Creates an active user with `PASSWORD`.
    pub async fn user(&self, username: &str) -> User {
        let now = self.clock.now();
        let user = User {
            id: UserId::generate(),
            username: username.to_owned(),
            name: Some(format!("{username} Santoso")),
            given_name: Some(username.to_owned()),
            family_name: Some("Santoso".to_owned()),
            email: Some(format!("{username}@kominfo.go.id")),
            email_verified: true,
            phone_number: Some("+62812000000".to_owned()),
            phone_number_verified: false,
            locale: Some("id".to_owned()),
            is_admin: false,
            disabled: false,
            created_at: now,
            updated_at: now,
            profile: Default::default(),
        };
        let hash = self.state.oidc.password_hasher().hash(PASSWORD).expect("hash");
        self.state
            .store
            .users()
            .insert(&NewUser { user: user.clone(), password_hash: Some(hash) })
            .await
            .expect("insert user");
        user
    }

    /// Registers an application from RFC 7591-style metadata.
    pub async fn client_from(&self, metadata: Value, pre_approved: bool) -> TestClient {
        let raw: RawMetadata = serde_json::from_value(metadata).expect("metadata");
        let metadata = validate_metadata(raw).expect("valid metadata");
        let redirect_uri = metadata.redirect_uris.first().cloned().unwrap_or_default();
        let spec = ClientSpec { metadata, pre_approved, ..Default::default() };
        let by = ChangedBy::Admin(&Actor::cli());
        let created = self.state.applications.create(spec, by, None).await.expect("create client");
        TestClient { id: created.client.client_id.to_string(), secret: created.client_secret, redirect_uri }
    }

    /// A confidential, pre-approved client with code and refresh grants.
    pub async fn client(&self) -> TestClient {
        self.client_from(
            serde_json::json!({
                "client_name": "E-Office",
                "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": ["http://127.0.0.1:9/signed-out"],
                "grant_types": ["authorization_code", "refresh_token"],
            }),
            true,
        )
        .await
    }

    /// POSTs a form to `path`, with optional Basic credentials; returns status, JSON and headers.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut req =
            self.http.post(self.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
    }

    /// Token endpoint with client_secret_basic.
    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
        let secret = client.secret.as_deref().unwrap_or("");
        let (status, body, _) = self.post_form("/oauth2/token", form, Some((&client.id, secret))).await;
        (status, body)
    }

    /// Runs the browser part of the code flow for `username` and returns the code.
    pub async fn code_for(
        &self,
        browser: &Browser,
        client: &TestClient,
        username: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("scope", "openid profile email offline_access"),
            ("state", "st-1"),
            ("nonce", "n-1"),
        ];
        params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        params.extend_from_slice(extra);
        let location = browser.authorize_and_login(&self.authorize_url(&params), username, PASSWORD).await;
        browser::query_param(&location, "code").expect("code in redirect")
    }

    /// An `openid` code-flow request for `client` with `state=s-1`, plus `extra` parameters.
    pub fn code_flow_url(&self, client: &TestClient, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("scope", "openid"),
            ("state", "s-1"),
        ];
        params.extend_from_slice(extra);
        self.authorize_url(&params)
    }

    pub fn authorize_url(&self, params: &[(&str, &str)]) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        self.url(&format!("/oauth2/authorize?{query}"))
    }
}
