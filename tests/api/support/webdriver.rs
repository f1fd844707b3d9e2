//! A small W3C WebDriver client for the system's Chromium through ChromeDriver (both from
//! the distribution's packages, installed by `tests/run`), with the WebAuthn extension's
//! virtual authenticator. Only loopback is ever contacted.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The element reference key of the W3C WebDriver protocol.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser at a time in this process: two headless Chromiums on two cores make each
/// other's pages miss their waits.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// ChromeDriver and one headless Chromium session; both end when this is dropped.
pub struct Chromium {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: TempDir,
}

/// Why no browser could be started (the caller decides whether to skip or fail).
#[derive(Debug)]
pub struct Unavailable(pub String);

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Chromium {
    /// Starts ChromeDriver on a loopback port and a headless Chromium with a fresh profile.
    pub async fn start() -> Result<Chromium, Unavailable> {
        let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .ok_or_else(|| Unavailable("chromedriver is not installed (package chromium-driver)".into()))?;
        let chromium = "/usr/bin/chromium";
        if !std::path::Path::new(chromium).exists() {
            return Err(Unavailable("chromium is not installed (package chromium)".into()));
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Unavailable(format!("cannot start chromedriver: {e}")))?;
        let profile = std::env::temp_dir().join(format!("pintu-chromium-{}-{port}", std::process::id()));
        let mut me = Chromium {
            _turn: turn,
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _profile: TempDir(profile.clone()),
        };
        let mut ready = false;
        for _ in 0..100 {
            if me.http.get(format!("{}/status", me.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            return Err(Unavailable("chromedriver did not answer within 10 s".into()));
        }
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1000,900".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "webauthn:virtualAuthenticators": true,
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }}});
        let session = me.call("POST", "/session", Some(caps)).await.map_err(Unavailable)?;
        let id = session["sessionId"].as_str().ok_or_else(|| Unavailable(format!("no session: {session}")))?;
        me.base = format!("{}/session/{id}", me.base);
        Ok(me)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.http.post(&url).json(&body.unwrap_or_else(|| json!({}))),
            "DELETE" => self.http.delete(&url),
            _ => self.http.get(&url),
        };
        let resp = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status();
        let json: Value = resp.json().await.map_err(|e| format!("{method} {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {json}"));
        }
        Ok(json["value"].clone())
    }

    async fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body).await.unwrap_or_else(|e| panic!("webdriver: {e}"))
    }

    /// Adds a CTAP2 platform authenticator that stores passkeys and verifies the user
    /// (WebAuthn Level 3 §11.3, the WebDriver extension).
    pub async fn add_virtual_authenticator(&self) {
        let options = json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true,
        });
        self.must("POST", "/webauthn/authenticator", Some(options)).await;
    }

    pub async fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.must("GET", "/url", None).await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn source(&self) -> String {
        self.must("GET", "/source", None).await.as_str().unwrap_or_default().to_owned()
    }

    async fn element(&self, css: &str) -> String {
        let found = self.call("POST", "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        match found.as_ref().ok().and_then(|f| f[ELEMENT].as_str()) {
            Some(id) => id.to_owned(),
            None => panic!("no element {css} ({found:?}) at {}: {}", self.url().await, self.source().await),
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.must("POST", &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.must("POST", &format!("/element/{id}/click"), None).await;
    }

    /// Clicks `css` if it is (still) on the page; the page may be navigating away.
    pub async fn click_if_present(&self, css: &str) {
        let found = self.call("POST", "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        if let Some(id) = found.ok().and_then(|f| f[ELEMENT].as_str().map(str::to_owned)) {
            let _ = self.call("POST", &format!("/element/{id}/click"), None).await;
        }
    }

    /// Saves a PNG of the visible page to `path` (creating its directory).
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let encoded = self.must("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("webdriver: screenshot is not base64: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "webdriver: the screenshot is not a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub async fn execute(&self, script: &str) -> Value {
        self.must("POST", "/execute/sync", Some(json!({ "script": script, "args": [] }))).await
    }

    pub async fn delete_cookies(&self) {
        self.must("DELETE", "/cookie", None).await;
    }

    /// Waits up to thirty seconds for `check` on the current URL and page; returns both.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&str, &str) -> bool) -> (String, String) {
        let (mut url, mut page) = (String::new(), String::new());
        for _ in 0..300 {
            (url, page) = (self.url().await, self.source().await);
            if check(&url, &page) {
                return (url, page);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}; at {url}: {page}");
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Ending the session closes Chromium; ChromeDriver is killed with it.
        let url = self.base.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async { reqwest::Client::new().delete(&url).send().await.ok() });
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
