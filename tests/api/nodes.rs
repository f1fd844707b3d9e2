//! Two `pintu serve` processes on one PostgreSQL database behind a round-robin proxy (every
//! request on a new connection, so consecutive requests of one login land on different
//! nodes): a change made anywhere reaches both nodes within a second (LISTEN/NOTIFY), and a
//! node killed (SIGKILL) under load loses no session, token or audit event that was answered.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::browser::{form_in, query_param};
use crate::support::scratch;

const PASSWORD: &str = "kata-sandi-dua-node-panjang";
const SECRET: &str = "rahasia-klien-dua-node-0123456789abcdef";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn pintu(dir: &Path, env: &[(&str, String)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pintu"));
    cmd.current_dir(dir).args(args).env_clear().stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "pintu {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A `pintu serve` process, killed when dropped (a failing test leaves no server behind).
struct Node(Child);

impl Node {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn serve(dir: &Path, env: &[(&str, String)], port: u16) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pintu"));
    cmd.current_dir(dir).arg("serve").env_clear().stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("PINTU_LISTEN", format!("127.0.0.1:{port}"));
    Node(cmd.spawn().unwrap())
}

fn location(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_up(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node on port {port} did not come up");
}

/// Accepts on `port` and hands each connection to the next node that accepts it.
async fn round_robin(port: u16, nodes: Vec<u16>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else { continue };
        let (next, nodes) = (next.clone(), nodes.clone());
        tokio::spawn(async move {
            for _ in 0..nodes.len() {
                let node = nodes[next.fetch_add(1, Ordering::Relaxed) % nodes.len()];
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", node)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    return;
                }
            }
        });
    }
}

/// A browser whose every request opens a new connection (so the proxy alternates nodes).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn authorize_url(base: &str, extra: &str) -> String {
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid%20offline_access\
         &state=s&nonce=n{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

/// One whole login (authorize, password, code, tokens); `None` if any step was not answered.
async fn login(base: &str) -> Option<(reqwest::Client, Value)> {
    let client = browser();
    let page = client.get(authorize_url(base, "")).send().await.ok()?.text().await.ok()?;
    let form = form_in(&page)?;
    let action = if form.action.starts_with("http") { form.action.clone() } else { format!("{base}{}", form.action) };
    let fields = [("csrf_token", form.csrf_token.as_str()), ("username", "budi"), ("password", PASSWORD)];
    let answered = client.post(action).form(&fields).send().await.ok()?;
    let code = query_param(&location(answered.headers())?, "code")?;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let tokens =
        client.post(format!("{base}/oauth2/token")).basic_auth("portal", Some(SECRET)).form(&form).send().await.ok()?;
    if tokens.status() != 200 {
        return None;
    }
    Some((client, tokens.json().await.ok()?))
}

async fn kids(port: u16) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("http://127.0.0.1:{port}/oauth2/jwks")).await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

async fn client_credentials(port: u16, client: &str) -> u16 {
    let form = [("grant_type", "client_credentials")];
    let url = format!("http://127.0.0.1:{port}/oauth2/token");
    reqwest::Client::new()
        .post(url)
        .basic_auth(client, Some(SECRET))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `check` until it holds, at most one second; how long it took.
async fn within_a_second<F: std::future::Future<Output = bool>>(check: impl Fn() -> F) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not seen within a second");
}

fn setup(dir: &Path, env: &[(&str, String)]) {
    std::fs::write(dir.join("password"), PASSWORD).unwrap();
    std::fs::write(dir.join("secret"), SECRET).unwrap();
    pintu(dir, env, &["admin", "user", "create", "--username", "budi", "--password-file", "password"]);
    for (id, grants) in
        [("portal", &["authorization_code", "refresh_token"][..]), ("batch", &["client_credentials"][..])]
    {
        let mut args = vec!["admin", "app", "create", "--name", id, "--client-id", id, "--secret-file", "secret"];
        args.extend(["--redirect-uri", REDIRECT, "--pre-approved"]);
        for g in grants {
            args.extend(["--grant-type", g]);
        }
        pintu(dir, env, &args);
    }
}

#[tokio::test]
#[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
async fn two_nodes_share_changes_at_once_and_survive_one_being_killed() {
    let dir: PathBuf = scratch::path("pintu-nodes", "");
    std::fs::create_dir_all(&dir).unwrap();
    let (proxy, port_a, port_b) = (free_port(), free_port(), free_port());
    let env: Vec<(&str, String)> = vec![
        ("PINTU_DATABASE_URL", scratch::postgres_schema_url("nodes").await),
        ("PINTU_ISSUER", format!("http://127.0.0.1:{proxy}")),
        ("PINTU_PASSWORD__MEMORY_KIB", "8192".into()),
        ("PINTU_PASSWORD__ITERATIONS", "1".into()),
        ("PINTU_METRICS__LISTEN", String::new()),
        ("PINTU_LOG_LEVEL", "warn".into()),
    ];
    setup(&dir, &env);
    let mut a = serve(&dir, &env, port_a);
    let mut b = serve(&dir, &env, port_b);
    wait_up(port_a).await;
    wait_up(port_b).await;
    tokio::spawn(round_robin(proxy, vec![port_a, port_b]));
    let base = format!("http://127.0.0.1:{proxy}");

    // A key rotation by the command line (a third process) reaches both nodes at once, not at
    // their minute's reload.
    let before = kids(port_a).await.len();
    pintu(&dir, &env, &["keys", "rotate"]);
    for port in [port_a, port_b] {
        within_a_second(|| async move { kids(port).await.len() > before }).await;
    }
    // A disabled client is refused by both nodes at once, not after their cache's 5 seconds.
    assert_eq!((client_credentials(port_a, "batch").await, client_credentials(port_b, "batch").await), (200, 200));
    pintu(&dir, &env, &["admin", "app", "disable", "batch"]);
    for port in [port_a, port_b] {
        within_a_second(|| async move { client_credentials(port, "batch").await == 401 }).await;
    }

    // Logins through the proxy, four at a time; node A is killed halfway.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (stop, base) = (stop.clone(), base.clone());
        workers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(done) = login(&base).await {
                    answered.push(done);
                }
            }
            answered
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut answered = Vec::new();
    for w in workers {
        answered.extend(w.await.unwrap());
    }
    assert!(answered.len() >= 8, "logins were answered on both sides of the kill: {}", answered.len());

    // Every answered login's audit event is there, and the chain is whole.
    let pool = sqlx::PgPool::connect(&env[0].1).await.unwrap();
    let issued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'token.issued'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(issued >= answered.len() as i64, "{issued} token events for {} answered logins", answered.len());
    let verified = pintu(&dir, &env, &["audit", "verify"]);
    assert!(String::from_utf8_lossy(&verified.stdout).contains("\"problems\": []"));

    // Every answered session and token works on the node that is left.
    for (client, tokens) in &answered {
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
        let response = client.post(format!("{base}/oauth2/token")).basic_auth("portal", Some(SECRET)).form(&form);
        assert_eq!(response.send().await.unwrap().status(), 200, "the refresh token survives the kill");
        let response = client.get(authorize_url(&base, "&prompt=none")).send().await.unwrap();
        let code = location(response.headers()).and_then(|l| query_param(&l, "code"));
        assert!(code.is_some(), "the session survives the kill");
    }
    b.kill();
}
