//! The `pintu` binary: administration commands, startup on the embedded default, and the
//! one-sentence failures an operator must see (bad configuration, port in use, bad key file,
//! unreachable database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[allow(dead_code)] // the PostgreSQL and SQLite helpers serve the other test crates
#[path = "common/scratch.rs"]
mod scratch;

fn workdir() -> PathBuf {
    let dir = scratch::path("pintu-cli", "");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `pintu` in `dir` with a clean environment plus `env`; cheap password hashing.
fn pintu(dir: &PathBuf, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pintu"));
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PINTU_PASSWORD__MEMORY_KIB", "8192")
        .env("PINTU_PASSWORD__ITERATIONS", "1")
        // No metrics listener unless a test asks: tests run side by side.
        .env("PINTU_METRICS__LISTEN", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn admin_creates_and_lists_users_and_applications() {
    let dir = workdir();
    let out = pintu(
        &dir,
        &[
            "admin",
            "user",
            "create",
            "--username",
            "Budi",
            "--generate-password",
            "--email",
            "budi@kominfo.go.id",
            "--admin",
        ],
        &[],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("created user budi") && stdout.contains("password (shown once): "));
    let again = pintu(&dir, &["admin", "user", "create", "--username", "budi", "--generate-password"], &[]);
    assert!(!again.status.success());
    assert!(text(&again).1.contains("already taken"), "{}", text(&again).1);

    let out = pintu(
        &dir,
        &[
            "admin",
            "app",
            "create",
            "--name",
            "E-Office",
            "--client-id",
            "eoffice",
            "--redirect-uri",
            "https://eoffice.example.go.id/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--pre-approved",
        ],
        &[],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("client_id: eoffice") && stdout.contains("client_secret (shown once): "));
    let list: serde_json::Value = serde_json::from_str(&text(&pintu(&dir, &["admin", "app", "list"], &[])).0).unwrap();
    let expected = serde_json::json!(
        {"id": "eoffice", "name": "E-Office", "protocol": "oidc", "token_endpoint_auth_method": "client_secret_basic", "status": "active"}
    );
    assert_eq!(list[0], expected, "every listing is JSON");
    let users: serde_json::Value =
        serde_json::from_str(&text(&pintu(&dir, &["admin", "user", "list"], &[])).0).unwrap();
    assert_eq!((&users[0]["username"], &users[0]["email"]), (&"budi".into(), &"budi@kominfo.go.id".into()));
    assert_eq!((&users[0]["admin"], &users[0]["status"]), (&true.into(), &"active".into()));
    // One rule for every way in: an address the office enters counts as verified.
    let added = pintu(&dir, &["admin", "pegawai", "add", "--set", "name=Ani", "--set", "email=ani@kominfo.go.id"], &[]);
    let ani: serde_json::Value = serde_json::from_str(&text(&added).0).unwrap();
    assert_eq!((&users[0]["email_verified"], &ani["email_verified"]), (&true.into(), &true.into()));
    assert!(pintu(&dir, &["admin", "user", "disable", "budi"], &[]).status.success());
    assert!(text(&pintu(&dir, &["admin", "user", "list"], &[])).0.contains("disabled"));
    assert!(pintu(&dir, &["admin", "app", "disable", "eoffice"], &[]).status.success());
    let token = text(&pintu(&dir, &["admin", "registration-token"], &[])).0;
    assert!(token.contains("initial access token"));
}

#[test]
fn invalid_application_is_refused_with_the_reason() {
    let dir = workdir();
    let out =
        pintu(&dir, &["admin", "app", "create", "--name", "X", "--redirect-uri", "http://app.example.go.id/cb"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("invalid_redirect_uri"));
    let out = pintu(&dir, &["admin", "user", "create", "--username", "x"], &[]);
    assert!(!out.status.success(), "a password source is required");
}

/// Login names are one namespace: the command line refuses a username that is another
/// account's e-mail, and `admin user conflicts` finds such pairs left in older data.
#[test]
fn login_name_conflicts_are_refused_and_reported() {
    let dir = workdir();
    let create = |username: &str, email: &str| {
        let args = ["admin", "user", "create", "--username", username, "--generate-password", "--email", email];
        pintu(&dir, &args, &[])
    };
    assert!(create("ani", "ani@kominfo.go.id").status.success());
    let out = create("ani@kominfo.go.id", "lain@kominfo.go.id");
    assert!(!out.status.success());
    assert!(text(&out).1.contains("already taken"), "{}", text(&out).1);
    let clean = pintu(&dir, &["admin", "user", "conflicts"], &[]);
    assert!(clean.status.success() && text(&clean).0.contains("no conflicts"));
    assert!(create("dedi@kominfo.go.id", "dedi.lama@kominfo.go.id").status.success());
    // Older data: an account whose e-mail is another's login name.
    let db = format!("sqlite://{}", dir.join("data/pintu.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        sqlx::query("UPDATE users SET email = 'dedi@kominfo.go.id' WHERE username = 'ani'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let found = pintu(&dir, &["admin", "user", "conflicts"], &[]);
    let (stdout, stderr) = text(&found);
    assert!(!found.status.success(), "conflicts make a non-zero exit");
    let found: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((&found[0]["name"], &found[0]["field"]), (&"dedi@kominfo.go.id".into(), &"username".into()), "{stdout}");
    assert_eq!(found[0]["other_field"], "email", "{stdout}");
    assert!(stderr.contains("1 login name(s)"), "{stderr}");
}

#[test]
fn control_characters_in_arguments_are_refused_except_in_free_text() {
    let dir = workdir();
    for args in [
        &["admin", "opd", "create", "--code", "DINAS", "--name", "Dinas\u{1b}[2J", "--kind", "dinas"][..],
        &["admin", "pegawai", "find", "--q=budi\tsantoso"][..],
        &["admin", "user", "disable", "budi\n"][..],
    ] {
        let out = pintu(&dir, args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out).1.contains("control character"), "{args:?}: {}", text(&out).1);
    }
    let out = pintu(&dir, &["admin", "registration-token", "--description", "untuk E-Office\nOPD Diskominfo"], &[]);
    assert!(out.status.success(), "a description may span lines: {}", text(&out).1);
}

#[test]
fn invalid_configuration_lists_every_problem() {
    let dir = workdir();
    let out = pintu(
        &dir,
        &["serve"],
        &[("PINTU_LISTEN", "nope"), ("PINTU_LOG_FORMAT", "xml"), ("PINTU_ISSUER", "http://sso.example.go.id")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out).1;
    for key in ["listen", "log_format", "issuer"] {
        assert!(stderr.contains(&format!("- {key}:")), "{key} missing in: {stderr}");
    }
    let unknown = pintu(&dir, &["serve"], &[("PINTU_LISTN", "127.0.0.1:1")]);
    assert_eq!(unknown.status.code(), Some(2), "unknown keys are errors");
}

#[test]
fn malformed_key_encryption_key_stops_startup() {
    let dir = workdir();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/kek.key"), "not base64!").unwrap();
    let out = pintu(&dir, &["migrate"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("key-encryption key"));
}

#[test]
fn unreachable_database_stops_startup_with_one_sentence() {
    let dir = workdir();
    let out = pintu(&dir, &["migrate"], &[("PINTU_DATABASE_URL", "postgres://pintu:secret@127.0.0.1:1/pintu")]);
    assert!(!out.status.success());
    let stderr = text(&out).1;
    assert!(stderr.contains("cannot open the database at postgres://pintu:***@127.0.0.1:1/pintu"), "{stderr}");
    assert!(!stderr.contains("secret"), "the password is never printed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn serve_starts_on_the_embedded_default_and_reports_a_busy_port() {
    let dir = workdir();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let issuer = format!("http://{listen}");
    let metrics_listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pintu"))
        .current_dir(&dir)
        .arg("serve")
        .env_clear()
        .env("PINTU_LISTEN", &listen)
        .env("PINTU_ISSUER", &issuer)
        .env("PINTU_METRICS__LISTEN", &metrics_listen)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(dir.join("serve.log")).unwrap()))
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(&listen) {
            use std::io::{Read, Write};
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut resp = String::new();
            s.read_to_string(&mut resp).unwrap();
            up = resp.starts_with("HTTP/1.1 200");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(up, "server answered /healthz");
    let metrics = http_get(&metrics_listen, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(r#"pintu_http_requests_total{route="/healthz",method="GET",status="200"} 1"#),
        "{metrics}"
    );
    assert!(http_get(&listen, "/metrics").starts_with("HTTP/1.1 404"), "never on the public listener");
    assert!(dir.join("data/pintu.db").exists(), "SQLite database under ./data");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        for private in ["keys/kek.key", "data/pintu.db", "data/pintu.db-wal", "data/pintu.db-shm"] {
            assert_eq!(mode(private), 0o600, "{private} is readable by Pintu's user only");
        }
        assert_eq!((mode("data"), mode("keys")), (0o700, 0o700), "so are their directories");
    }
    let busy = pintu(&dir, &["serve"], &[("PINTU_LISTEN", &listen), ("PINTU_ISSUER", &issuer)]);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(!busy.status.success());
    assert!(text(&busy).1.contains(&format!("cannot listen on {listen}")));
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(log.contains("INFO") && !log.contains('\u{1b}'), "plain log lines in a file: {log:?}");
}

#[test]
fn environment_overrides_the_configuration_file_and_secrets_come_from_files() {
    let dir = workdir();
    // The file alone would be invalid (an unknown log format); the environment corrects it.
    std::fs::write(dir.join("pintu.toml"), "log_format = \"xml\"\n[oidc]\ncode_ttl_secs = 30\n").unwrap();
    let out = pintu(&dir, &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(2), "the file is read: {}", text(&out).1);
    assert!(text(&out).1.contains("log_format"));
    let db_file = dir.join("database-url");
    std::fs::write(&db_file, format!("sqlite://{}/other.db\n", dir.display())).unwrap();
    let out = pintu(
        &dir,
        &["migrate"],
        &[("PINTU_LOG_FORMAT", "json"), ("PINTU_DATABASE_URL_FILE", db_file.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(dir.join("other.db").exists(), "the database URL came from its _FILE");
    let explicit = dir.join("custom.toml");
    std::fs::write(&explicit, "listen = \"not an address\"\n").unwrap();
    let out = pintu(&dir, &["--config", explicit.to_str().unwrap(), "migrate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("- listen:"));
    let missing = pintu(&dir, &["--config", "/nonexistent/pintu.toml", "migrate"], &[]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn directory_commands_cover_units_people_roles_import_reports_and_audit() {
    let dir = workdir();
    let ok = |args: &[&str]| {
        let out = pintu(&dir, args, &[]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "pintu {args:?} failed: {stderr}");
        stdout
    };
    ok(&["admin", "opd", "create", "--code", "PEMDA", "--name", "Pemerintah Kabupaten", "--kind", "pemda"]);
    ok(&[
        "admin",
        "opd",
        "create",
        "--code",
        "DISKOMINFO",
        "--name",
        "Dinas Kominfo",
        "--kind",
        "dinas",
        "--parent",
        "PEMDA",
    ]);
    ok(&[
        "admin",
        "opd",
        "create",
        "--code",
        "DINKES",
        "--name",
        "Dinas Kesehatan",
        "--kind",
        "dinas",
        "--parent",
        "PEMDA",
    ]);
    let cycle = pintu(&dir, &["admin", "opd", "update", "PEMDA", "--set", "parent=DINKES"], &[]);
    assert!(!cycle.status.success());
    assert!(text(&cycle).1.contains("parent: parent would make the unit its own ancestor"), "{}", text(&cycle).1);
    let added = ok(&[
        "admin",
        "pegawai",
        "add",
        "--set",
        "nip=198503302010011002",
        "--set",
        "name=Budi Santoso",
        "--set",
        "org_unit=DISKOMINFO",
        "--set",
        "employment_type=PNS",
    ]);
    let budi: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(budi["email_verified"], false, "no address, nothing verified");
    let id = budi["id"].as_str().unwrap();
    let on_line = pintu(&dir, &["admin", "pegawai", "update", id, "--set", "password=rahasia-panjang-sekali"], &[]);
    assert!(!on_line.status.success() && text(&on_line).1.contains("--password-file"), "{}", text(&on_line).1);
    let bad = pintu(&dir, &["admin", "pegawai", "add", "--set", "nip=123", "--set", "name=X"], &[]);
    assert!(!bad.status.success() && text(&bad).1.contains("nip: NIP must be exactly 18 digits"), "{}", text(&bad).1);
    let moved = ok(&["admin", "pegawai", "update", id, "--set", "org_unit=DINKES", "--set", "jabatan=Analis"]);
    assert!(moved.contains("\"org_unit\": \"DINKES\""), "{moved}");
    let history = ok(&["admin", "pegawai", "history", id]);
    assert!(history.contains("\"from_unit\": \"DISKOMINFO\""), "{history}");
    let found = ok(&["admin", "pegawai", "find", "--opd", "PEMDA", "--q", "budi"]);
    assert!(found.contains("198503302010011002"));
    let role: serde_json::Value =
        serde_json::from_str(&ok(&["admin", "role", "create", "--name", "operator"])).unwrap();
    ok(&["admin", "role", "grant", id, role["id"].as_str().unwrap(), "--until", "2099-01-01"]);
    assert!(ok(&["admin", "role", "grants", id]).contains("\"operator\""));

    let csv = dir.join("hr.csv");
    std::fs::write(
        &csv,
        "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status\n\
         199001012015031001,Sari Dewi,dr.,,Dokter,III/b,DINKES,sari@example.go.id,,PNS,aktif\n\
         199001012015031002,Tanpa Unit,,,,,NOPE,,,PNS,aktif\n",
    )
    .unwrap();
    let dry = pintu(&dir, &["admin", "import", csv.to_str().unwrap(), "--apply"], &[]);
    assert!(!dry.status.success(), "an import with problems writes nothing");
    assert!(text(&dry).0.contains("\"line\": 3"), "{}", text(&dry).0);
    std::fs::write(&csv, std::fs::read_to_string(&csv).unwrap().lines().take(2).collect::<Vec<_>>().join("\n"))
        .unwrap();
    assert!(ok(&["admin", "import", csv.to_str().unwrap(), "--apply"]).contains("\"created\": 1"));
    let report = ok(&["admin", "report", "opd", "--from", "2020-01-01", "--to", "2099-01-01", "--csv"]);
    assert!(report.starts_with("key,name,active_users"), "{report}");

    let verify = ok(&["audit", "verify"]);
    assert!(verify.contains("\"problems\": []"), "{verify}");
    let db = dir.join("data/pintu.db");
    let conn = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&conn).await.unwrap();
        sqlx::raw_sql("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'x' WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let tampered = pintu(&dir, &["audit", "verify"], &[]);
    assert!(!tampered.status.success(), "a broken chain fails the command");
    assert!(text(&tampered).0.contains("\"seq\": 3"), "{}", text(&tampered).0);
}

/// `pintu admin app rotate-secret`: a new secret printed once; against a server started
/// afterwards, the old secret is refused and the new one accepted. Public clients and unknown
/// ids are refused with the reason.
#[test]
fn rotate_secret_replaces_a_confidential_clients_secret() {
    let dir = workdir();
    let old = "rahasia-lama-yang-panjangnya-cukup-32-karakter";
    std::fs::write(dir.join("secret"), old).unwrap();
    let create = |id: &str, extra: &[&str]| {
        let mut args = vec!["admin", "app", "create", "--name", "Layanan", "--client-id", id];
        args.extend_from_slice(extra);
        pintu(&dir, &args, &[])
    };
    let secret_args =
        ["--secret-file", "secret", "--grant-type", "client_credentials", "--auth-method", "client_secret_post"];
    assert!(create("layanan", &secret_args).status.success());
    let out = pintu(&dir, &["admin", "app", "rotate-secret", "layanan"], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let new = stdout.lines().find_map(|l| l.split_once("): ").map(|(_, s)| s.trim().to_owned())).unwrap();
    assert!(stdout.contains("client_id: layanan") && stdout.contains("shown once") && new.len() >= 32, "{stdout}");

    let public = create("seluler", &["--public", "--redirect-uri", "id.go.kab.seluler:/cb"]);
    assert!(public.status.success(), "{}", text(&public).1);
    let refused = pintu(&dir, &["admin", "app", "rotate-secret", "seluler"], &[]);
    assert!(!refused.status.success());
    assert!(text(&refused).1.contains("has no client secret: it authenticates with none"), "{}", text(&refused).1);
    let unknown = pintu(&dir, &["admin", "app", "rotate-secret", "tidak-ada"], &[]);
    assert!(!unknown.status.success() && text(&unknown).1.contains("application not found"));

    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pintu"))
        .current_dir(&dir)
        .arg("serve")
        .env_clear()
        .env("PINTU_LISTEN", &listen)
        .env("PINTU_ISSUER", format!("http://{listen}"))
        .env("PINTU_METRICS__LISTEN", "")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let token = |secret: &str| {
        let body = format!("grant_type=client_credentials&client_id=layanan&client_secret={secret}");
        http_post(&listen, "/oauth2/token", &body)
    };
    let (with_old, with_new) = (token(old), token(&new));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(with_old.starts_with("HTTP/1.1 401"), "{with_old}");
    assert!(with_new.starts_with("HTTP/1.1 200"), "{with_new}");
}

/// A form POST over a plain socket, retried until the server listens; the raw response.
fn http_get(listen: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(listen).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

fn http_post(listen: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(listen) {
            let request = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(request.as_bytes()).unwrap();
            let mut resp = String::new();
            s.read_to_string(&mut resp).unwrap();
            return resp;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not start on {listen}");
}

#[test]
#[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
fn commands_on_postgres_log_no_driver_notices() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(scratch::postgres_schema_url("c"));
    let dir = workdir();
    for _ in 0..2 {
        let out = pintu(&dir, &["migrate"], &[("PINTU_DATABASE_URL", &url)]);
        let (_, log) = text(&out);
        assert!(out.status.success(), "{log}");
        // Every command after the first once logged PostgreSQL's "relation _sqlx_migrations
        // already exists, skipping" at INFO.
        assert!(!log.contains("_sqlx_migrations") && !log.contains("NOTICE"), "{log}");
    }
}

#[test]
fn keys_rotate_publishes_next_keys_that_wait_their_publication_time() {
    let dir = workdir();
    let listed = |dir: &PathBuf| -> serde_json::Value {
        serde_json::from_str(&text(&pintu(dir, &["keys", "list"], &[])).0).unwrap()
    };
    let states = |keys: &serde_json::Value| -> Vec<String> {
        keys.as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(states(&listed(&dir)), ["active"; 3], "one active key per algorithm");
    let out = pintu(&dir, &["keys", "rotate"], &[]);
    assert!(out.status.success(), "{}", text(&out).1);
    let steps: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let published = steps.as_array().unwrap().iter().filter(|s| s["step"] == "published").count();
    assert_eq!((published, steps.as_array().unwrap().len()), (3, 3), "{steps}");
    let keys = listed(&dir);
    assert_eq!(states(&keys).iter().filter(|s| *s == "next").count(), 3, "{keys}");
    let again: serde_json::Value = serde_json::from_str(&text(&pintu(&dir, &["keys", "rotate"], &[])).0).unwrap();
    let waiting = again.as_array().unwrap().iter().filter(|s| s["step"] == "waiting").count();
    assert_eq!((waiting, again.as_array().unwrap().len()), (3, 3), "not before publish_hours: {again}");
    assert_eq!(states(&listed(&dir)).iter().filter(|s| *s == "next").count(), 3, "still three next keys");
    let audit = text(&pintu(&dir, &["audit", "verify"], &[])).0;
    assert!(audit.contains("\"problems\": []"), "{audit}");
    // Each published key is audited as the command line's; waiting is no change.
    let db = format!("sqlite://{}", dir.join("data/pintu.db").display());
    let rotations: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        let sql = "SELECT COUNT(*) FROM audit_events WHERE action = 'admin.key.rotate' AND actor = 'cli'";
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    });
    assert_eq!(rotations, 3);
}

/// `pintu ldap …`: without a directory it says how to add one; a directory that is not there
/// is a failed run, recorded, with a non-zero exit and the reason; a misconfigured directory
/// stops startup naming the key.
#[test]
fn ldap_commands_say_what_is_missing_and_fail_visibly() {
    let dir = workdir();
    let out = pintu(&dir, &["ldap", "sync"], &[]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("no LDAP directory is configured"), "{stderr}");
    let out = pintu(&dir, &["ldap", "status"], &[]);
    assert!(out.status.success() && text(&out).0.trim() == "[]", "{:?}", text(&out));

    let closed = free_port();
    let directory = [
        ("PINTU_LDAP__KOMINFO__PRESET", "openldap"),
        ("PINTU_LDAP__KOMINFO__URL", &format!("ldap://127.0.0.1:{closed}") as &str),
        ("PINTU_LDAP__KOMINFO__BIND_DN", "cn=pintu,dc=example"),
        ("PINTU_LDAP__KOMINFO__BIND_PASSWORD", "secret"),
        ("PINTU_LDAP__KOMINFO__BASE_DN", "dc=example"),
        ("PINTU_LDAP__KOMINFO__TIMEOUT_SECS", "2"),
    ];
    let out = pintu(&dir, &["ldap", "sync", "--apply"], &directory);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("\"outcome\": \"failed\"") && stderr.contains("cannot connect"), "{stdout}\n{stderr}");
    let out = pintu(&dir, &["ldap", "status"], &directory);
    assert!(text(&out).0.contains("\"outcome\": \"failed\""), "the failed run is recorded: {:?}", text(&out));
    let out = pintu(&dir, &["ldap", "test", "--directory", "other"], &directory);
    assert!(!out.status.success() && text(&out).1.contains("no LDAP directory named other"), "{:?}", text(&out));

    let plain =
        [("PINTU_LDAP__KOMINFO__URL", "ldap://ldap.example.go.id"), ("PINTU_LDAP__KOMINFO__PRESET", "openldap")];
    let out = pintu(&dir, &["ldap", "status"], &plain);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ldap.kominfo.url") && stderr.contains("ldap.kominfo.bind_dn"), "{stderr}");
}

/// `pintu audit checkpoint|checkpoints|verify --checkpoints`: sign the head, export the
/// checkpoints, and check the chain against an exported file (an altered one fails).
#[test]
fn audit_checkpoints_are_signed_exported_and_checked() {
    let dir = workdir();
    let made = pintu(&dir, &["admin", "user", "create", "--username", "ani", "--generate-password"], &[]);
    assert!(made.status.success(), "{:?}", text(&made));
    let signed = pintu(&dir, &["audit", "checkpoint"], &[]);
    assert!(signed.status.success() && text(&signed).0.contains("\"jws\""), "{:?}", text(&signed));
    let again = pintu(&dir, &["audit", "checkpoint"], &[]);
    assert!(text(&again).0.contains("\"signed\": false"), "{:?}", text(&again));
    let exported = pintu(&dir, &["audit", "checkpoints"], &[]);
    let lines = text(&exported).0;
    let file: serde_json::Value = serde_json::from_str(&lines).unwrap();
    assert_eq!(file["checkpoints"].as_array().map(Vec::len), Some(1), "{lines}");
    std::fs::write(dir.join("checkpoints.txt"), &lines).unwrap();
    let verified = pintu(&dir, &["audit", "verify", "--checkpoints", "checkpoints.txt"], &[]);
    assert!(verified.status.success(), "{:?}", text(&verified));
    assert!(text(&verified).0.contains("\"verified\": 2"), "stored and exported: {:?}", text(&verified));
    let jws = file["checkpoints"][0].as_str().unwrap();
    let altered = lines.replace(jws, &jws.chars().rev().collect::<String>());
    std::fs::write(dir.join("altered.txt"), altered).unwrap();
    let refused = pintu(&dir, &["audit", "verify", "--checkpoints", "altered.txt"], &[]);
    assert!(!refused.status.success(), "{:?}", text(&refused));
    assert!(text(&refused).1.contains("does not match its signed checkpoints"), "{:?}", text(&refused));
}

/// `pintu keys revoke`: a compromised key is withdrawn at once (audited); an unknown kid is
/// named in the refusal.
#[test]
fn a_compromised_key_is_revoked_from_the_command_line() {
    let dir = workdir();
    let listed = pintu(&dir, &["keys", "list"], &[]);
    let keys: serde_json::Value = serde_json::from_str(&text(&listed).0).unwrap();
    let es256 = keys.as_array().unwrap().iter().find(|k| k["alg"] == "ES256" && k["state"] == "active").unwrap();
    let kid = es256["kid"].as_str().unwrap();
    let revoked = pintu(&dir, &["keys", "revoke", kid], &[]);
    assert!(revoked.status.success(), "{:?}", text(&revoked));
    assert!(text(&revoked).0.contains("\"step\": \"revoked\""), "{:?}", text(&revoked));
    let after = text(&pintu(&dir, &["keys", "list"], &[])).0;
    assert!(!after.contains(kid), "{after}");
    let unknown = pintu(&dir, &["keys", "revoke", "no-such-kid"], &[]);
    assert!(
        !unknown.status.success() && text(&unknown).1.contains("no signing key has kid no-such-kid"),
        "{:?}",
        text(&unknown)
    );
}

/// `pintu backup`, `backup verify` and `restore`: a round trip through the command line into a
/// new installation, and every refusal an operator can meet on the way.
#[test]
fn backup_and_restore_from_the_command_line_refuse_what_they_must() {
    let a = workdir();
    let made = pintu(&a, &["admin", "user", "create", "--username", "ani", "--generate-password"], &[]);
    assert!(made.status.success(), "{:?}", text(&made));
    let keygen = pintu(&a, &["backup", "keygen", "--out", "id.txt"], &[]);
    let recipient = text(&keygen).0.trim().to_owned();
    assert!(keygen.status.success() && recipient.starts_with("age1"), "{:?}", text(&keygen));

    let unencrypted = pintu(&a, &["backup", "--to", "b.age"], &[]);
    assert!(!unencrypted.status.success() && text(&unencrypted).1.contains("--recipient"), "{:?}", text(&unencrypted));
    let taken = pintu(&a, &["backup", "--to", "b.age", "--recipient", &recipient], &[]);
    assert!(taken.status.success(), "{:?}", text(&taken));
    let again = pintu(&a, &["backup", "--to", "b.age", "--recipient", &recipient], &[]);
    assert!(text(&again).1.contains("already exists"), "{:?}", text(&again));
    let nowhere = pintu(&a, &["backup", "--to", "b.age/inside.age", "--recipient", &recipient], &[]);
    assert!(!nowhere.status.success() && text(&nowhere).1.contains("b.age/inside.age"), "{:?}", text(&nowhere));
    let status = text(&pintu(&a, &["backup", "status"], &[])).0;
    assert!(status.contains("\"succeeded\": false") && status.contains("\"started_by\": \"command\""), "{status}");

    let verified = pintu(&a, &["backup", "verify", "b.age", "--identity", "id.txt"], &[]);
    let (out, err) = text(&verified);
    assert!(verified.status.success() && out.contains("\"includes_kek\": true"), "{out}{err}");
    pintu(&a, &["backup", "keygen", "--out", "other.txt"], &[]);
    let stranger = pintu(&a, &["backup", "verify", "b.age", "--identity", "other.txt"], &[]);
    assert!(text(&stranger).1.contains("encrypted for someone else"), "{:?}", text(&stranger));

    // A new machine: restore creates keys/kek.key from the archive; people are back.
    let b = workdir();
    let archive = a.join("b.age").display().to_string();
    let identity = a.join("id.txt").display().to_string();
    let restored = pintu(&b, &["restore", &archive, "--identity", &identity], &[]);
    assert!(restored.status.success(), "{:?}", text(&restored));
    assert_eq!(std::fs::read(a.join("keys/kek.key")).unwrap(), std::fs::read(b.join("keys/kek.key")).unwrap());
    let listed = text(&pintu(&b, &["admin", "user", "list"], &[])).0;
    assert!(listed.contains("\"ani\""), "{listed}");
    assert!(text(&pintu(&b, &["audit", "verify"], &[])).0.contains("\"problems\": []"));
    let actions = |dir: &PathBuf| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let url = format!("sqlite://{}", dir.join("data/pintu.db").display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let sql = "SELECT action || ':' || outcome FROM audit_events ORDER BY seq";
            sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await.unwrap()
        })
    };
    let restored_chain = actions(&b);
    assert_eq!(restored_chain.last().unwrap(), "admin.restore:success", "the restore is in the restored chain");
    let source_chain = actions(&a);
    assert!(source_chain.contains(&"admin.backup:success".to_owned()), "{source_chain:?}");
    assert!(source_chain.contains(&"admin.backup:failure".to_owned()), "{source_chain:?}");
    let refused = pintu(&b, &["restore", &archive, "--identity", &identity], &[]);
    assert!(text(&refused).1.contains("the database is not empty"), "{:?}", text(&refused));
    let forced = pintu(&b, &["restore", &archive, "--identity", &identity, "--force"], &[]);
    assert!(text(&forced).0.contains("\"replaced\": true"), "{:?}", text(&forced));

    // A restore that stopped halfway leaves the database marked: every command refuses it
    // until a restore completes.
    let c = workdir();
    let url = format!("sqlite://{}", c.join("data/pintu.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = pintu::storage::Db::connect(&url).await.unwrap();
        db.prepare_restore(3, false).await.unwrap();
        db.close().await;
    });
    let half = pintu(&c, &["admin", "user", "list"], &[]);
    assert!(!half.status.success() && text(&half).1.contains("did not finish"), "{:?}", text(&half));
    let listen = format!("127.0.0.1:{}", free_port());
    let serve = pintu(&c, &["serve"], &[("PINTU_LISTEN", &listen)]);
    assert!(
        !serve.status.success() && text(&serve).1.contains("did not finish"),
        "serve refuses it: {:?}",
        text(&serve)
    );
    let completed = pintu(&c, &["restore", &archive, "--identity", &identity], &[]);
    assert!(completed.status.success(), "{:?}", text(&completed));
    assert!(text(&pintu(&c, &["admin", "user", "list"], &[])).0.contains("\"ani\""));
}

/// A passphrase instead of a key; an archive without the KEK needs the same KEK at restore.
#[test]
fn a_passphrase_backup_without_the_kek_restores_only_under_the_same_kek() {
    let a = workdir();
    pintu(&a, &["admin", "user", "create", "--username", "ani", "--generate-password"], &[]);
    std::fs::write(a.join("pass.txt"), "kata sandi cadangan kominfo\n").unwrap();
    let taken = pintu(&a, &["backup", "--to", "p.age", "--passphrase-file", "pass.txt", "--without-kek"], &[]);
    assert!(taken.status.success() && text(&taken).0.contains("\"includes_kek\": false"), "{:?}", text(&taken));
    let archive = a.join("p.age").display().to_string();
    let pass = a.join("pass.txt").display().to_string();

    let b = workdir();
    let no_kek = pintu(&b, &["restore", &archive, "--passphrase-file", &pass], &[]);
    assert!(text(&no_kek).1.contains("does not carry the key-encryption key"), "{:?}", text(&no_kek));
    let other = pintu(&b, &["restore", &archive, "--passphrase-file", &pass], &[("PINTU_KEK", &"A".repeat(43))]);
    assert!(text(&other).1.contains("do not open with this key-encryption key"), "{:?}", text(&other));
    // Refused while checking the archive, before the database was touched: no marker left.
    let untouched = pintu(&b, &["admin", "user", "list"], &[("PINTU_KEK", &"A".repeat(43))]);
    assert!(untouched.status.success(), "no half-restored database: {:?}", text(&untouched));
    std::fs::remove_dir_all(b.join("data")).unwrap();
    std::fs::create_dir_all(b.join("keys")).unwrap();
    std::fs::copy(a.join("keys/kek.key"), b.join("keys/kek.key")).unwrap();
    let restored = pintu(&b, &["restore", &archive, "--passphrase-file", &pass], &[]);
    assert!(restored.status.success(), "{:?}", text(&restored));
    assert!(text(&pintu(&b, &["admin", "user", "list"], &[])).0.contains("\"ani\""));
}

/// `pintu keys rotate-kek`: the KEK file changes, the old one is retired, everything still
/// opens (the next command loads the signing keys), and the rotation is audited.
#[test]
fn the_kek_is_rotated_from_the_command_line() {
    let dir = workdir();
    let made = pintu(&dir, &["admin", "user", "create", "--username", "ani", "--generate-password"], &[]);
    assert!(made.status.success(), "{:?}", text(&made));
    let before = std::fs::read_to_string(dir.join("keys/kek.key")).unwrap();
    let rotated = pintu(&dir, &["keys", "rotate-kek"], &[]);
    assert!(rotated.status.success(), "{:?}", text(&rotated));
    assert!(
        text(&rotated).0.contains("\"resealed\": 4"),
        "three signing keys and the refresh secret: {:?}",
        text(&rotated)
    );
    let after = std::fs::read_to_string(dir.join("keys/kek.key")).unwrap();
    assert_ne!(before, after);
    assert_eq!(std::fs::read_to_string(dir.join("keys/kek.retired")).unwrap(), before);
    let listed = pintu(&dir, &["keys", "list"], &[]);
    assert!(listed.status.success(), "the keys open under the new KEK: {:?}", text(&listed));
    let audit = pintu(&dir, &["audit", "verify"], &[]);
    assert!(audit.status.success());
    let configured = pintu(&dir, &["keys", "rotate-kek"], &[("PINTU_KEK", after.trim())]);
    assert!(text(&configured).1.contains("comes from the configuration"), "{:?}", text(&configured));

    // A backup carries the retired KEK too; a restore on a new machine installs both.
    let recipient = text(&pintu(&dir, &["backup", "keygen", "--out", "id.txt"], &[])).0.trim().to_owned();
    let taken = pintu(&dir, &["backup", "--to", "b.age", "--recipient", &recipient], &[]);
    assert!(taken.status.success(), "{:?}", text(&taken));
    let other = workdir();
    let archive = dir.join("b.age").display().to_string();
    let identity = dir.join("id.txt").display().to_string();
    let restored = pintu(&other, &["restore", &archive, "--identity", &identity], &[]);
    assert!(restored.status.success(), "{:?}", text(&restored));
    assert_eq!(std::fs::read_to_string(other.join("keys/kek.key")).unwrap(), after);
    assert_eq!(std::fs::read_to_string(other.join("keys/kek.retired")).unwrap(), before);
}

/// A destination that fills up while the archive is written (here: a file-size limit of 4 KiB
/// on the backup process, as a full disk would stop it): a clear error, and no file left. On
/// PostgreSQL, so that the archive is the only file the process writes.
#[test]
#[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
fn a_backup_onto_a_full_destination_fails_clearly_and_leaves_nothing() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(scratch::postgres_schema_url("full"));
    let env = [("PINTU_DATABASE_URL", url.as_str())];
    let dir = workdir();
    let made = pintu(&dir, &["admin", "user", "create", "--username", "ani", "--generate-password"], &env);
    assert!(made.status.success(), "{:?}", text(&made));
    let recipient = text(&pintu(&dir, &["backup", "keygen", "--out", "id.txt"], &env)).0.trim().to_owned();
    std::fs::create_dir_all(dir.join("disk")).unwrap();
    let out = Command::new("bash")
        .current_dir(&dir)
        .args(["-c", r#"trap "" XFSZ; ulimit -f 4; exec "$0" "$@""#, env!("CARGO_BIN_EXE_pintu")])
        .args(["backup", "--to", "disk/b.age", "--recipient", &recipient])
        .env_clear()
        .env("PINTU_METRICS__LISTEN", "")
        .env("PINTU_DATABASE_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("disk/b.age is full") && stderr.contains("nothing was written"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.join("disk")).unwrap().collect();
    assert!(left.is_empty(), "no archive and no partial file: {left:?}");
    let status = text(&pintu(&dir, &["backup", "status"], &env)).0;
    assert!(status.contains("is full"), "the failed run is recorded with its reason: {status}");
}

#[test]
fn certificates_are_added_listed_checked_and_reported_from_the_command_line() {
    // Without trust anchors the commands say what is missing.
    let bare = workdir();
    let off = pintu(&bare, &["certificates", "report"], &[]);
    assert!(!off.status.success() && text(&off).1.contains("trust_anchors"), "{}", text(&off).1);

    let dir = workdir();
    let pki = dir.join("pki");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pki/make-pki");
    let made = Command::new("bash")
        .arg(script)
        .arg(&pki)
        .args(["http://127.0.0.1:9/ocsp", "http://127.0.0.1:9/crl.der"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // The responder and CRL the certificates name are unreachable: the soft policy lets them count.
    let config =
        format!("[certificates]\ntrust_anchors = [\"{}\"]\nrevocation = \"soft\"\n", pki.join("bundle.pem").display());
    std::fs::write(dir.join("pintu.toml"), config).unwrap();
    let ok = |args: &[&str]| {
        let out = pintu(&dir, args, &[]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "pintu {args:?} failed: {stderr}");
        stdout
    };
    ok(&["admin", "opd", "create", "--code", "BPKAD", "--name", "Badan Keuangan", "--kind", "badan"]);
    ok(&[
        "admin",
        "pegawai",
        "add",
        "--set",
        "nip=199001012015031001",
        "--set",
        "name=Budi Santoso",
        "--set",
        "username=budi",
        "--set",
        "org_unit=BPKAD",
    ]);
    let nip = pki.join("nip.pem");
    let added: serde_json::Value =
        serde_json::from_str(&ok(&["certificates", "add", "budi", "--file", nip.to_str().unwrap()])).unwrap();
    assert_eq!((added["status"].as_str(), added["identified_by"].as_str()), (Some("pending"), Some("nip")));
    let untrusted =
        pintu(&dir, &["certificates", "add", "budi", "--file", pki.join("untrusted.pem").to_str().unwrap()], &[]);
    assert!(!untrusted.status.success() && text(&untrusted).1.contains("untrusted"), "{}", text(&untrusted).1);
    let nik = pintu(&dir, &["certificates", "add", "budi", "--file", pki.join("nik.der").to_str().unwrap()], &[]);
    assert!(!nik.status.success() && text(&nik).1.contains("approve"), "{}", text(&nik).1);
    ok(&["certificates", "add", "budi", "--file", pki.join("nik.der").to_str().unwrap(), "--approve"]);
    let listed = ok(&["certificates", "list", "budi"]);
    assert_eq!(listed.matches("\"thumbprint\"").count(), 2, "{listed}");
    let csv = ok(&["certificates", "report", "--format", "csv"]);
    assert!(csv.contains("BPKAD,Badan Keuangan,2,0,0,0,0,0,0"), "{csv}");
    let checked: serde_json::Value = serde_json::from_str(&ok(&["certificates", "check"])).unwrap();
    assert_eq!(checked["checked"], 0, "nothing is bound until possession is proven");
    let thumbprint = added["thumbprint"].as_str().unwrap();
    ok(&["certificates", "remove", "budi", thumbprint]);
    let missing = pintu(&dir, &["certificates", "remove", "budi", thumbprint], &[]);
    assert!(!missing.status.success(), "removing twice is refused");
}

#[test]
fn receipts_and_the_signing_report_refuse_bad_input_with_the_reason() {
    let dir = workdir();
    let missing = pintu(&dir, &["receipt", "verify", "nowhere.jws"], &[]);
    assert!(!missing.status.success() && text(&missing).1.contains("cannot read"), "{}", text(&missing).1);
    std::fs::write(dir.join("garbage.jws"), "not.a.receipt").unwrap();
    let garbage = pintu(&dir, &["receipt", "verify", "garbage.jws"], &[]);
    assert!(!garbage.status.success() && text(&garbage).1.contains("does not verify"), "{}", text(&garbage).1);
    let backwards = pintu(&dir, &["signing", "report", "--from", "10", "--to", "5"], &[]);
    assert!(!backwards.status.success() && text(&backwards).1.contains("--from"), "{}", text(&backwards).1);
    let csv = pintu(&dir, &["signing", "report", "--format", "csv"], &[]);
    assert!(csv.status.success(), "{}", text(&csv).1);
    assert!(text(&csv).0.starts_with("unit,unit_name,client_id,signed,declined,failed,signed_level_4"));
}

#[test]
fn activation_codes_and_letters_come_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir();
    let ok = |args: &[&str]| {
        let out = pintu(&dir, args, &[]);
        assert!(out.status.success(), "pintu {args:?}: {}", text(&out).1);
        text(&out).0
    };
    ok(&["admin", "opd", "create", "--code", "BPKAD", "--name", "Badan Keuangan", "--kind", "badan"]);
    ok(&["admin", "pegawai", "add", "--set", "name=Siti Aminah", "--set", "username=siti", "--set", "org_unit=BPKAD"]);
    let printed = ok(&["admin", "activation", "--unit", "BPKAD", "--letters", "letters.html"]);
    let issued: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let code = issued["items"][0]["code"].as_str().unwrap();
    let letters = std::fs::read_to_string(dir.join("letters.html")).unwrap();
    assert!(letters.contains(code) && letters.contains("Siti Aminah"), "{letters}");
    let mode = std::fs::metadata(dir.join("letters.html")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the letters hold the codes");
    let unknown = pintu(&dir, &["admin", "activation", "--user", "nobody"], &[]);
    assert!(!unknown.status.success(), "{}", text(&unknown).1);
    let both = pintu(&dir, &["admin", "activation", "--user", "siti", "--unit", "BPKAD"], &[]);
    assert!(!both.status.success());
}

/// `pintu saml`: the metadata, the keys, and a rotation in two steps with overlap.
#[test]
fn saml_metadata_and_a_key_rotation_with_overlap() {
    let dir = workdir();
    // The published certificates (the signature's KeyInfo carries the current one again).
    let certificates = |xml: &str| xml.matches("<md:KeyDescriptor").count();
    let out = pintu(&dir, &["saml", "metadata"], &[]);
    let (metadata, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(metadata.contains("/saml/metadata\"") && metadata.contains("IDPSSODescriptor"), "{metadata}");
    assert_eq!(certificates(&metadata), 1);

    let out = pintu(&dir, &["saml", "rotate"], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success() && stderr.contains("run `pintu saml rotate` again"), "{stderr}");
    let published: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(published["step"], "published");
    let (metadata, _) = text(&pintu(&dir, &["saml", "metadata"], &[]));
    assert_eq!(certificates(&metadata), 2, "the next certificate is published beside the current one");

    let out = pintu(&dir, &["saml", "rotate"], &[]);
    let (stdout, _) = text(&out);
    let promoted: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((promoted["step"].as_str(), promoted["key"].as_str()), (Some("promoted"), published["key"].as_str()));
    let (metadata, _) = text(&pintu(&dir, &["saml", "metadata"], &[]));
    assert_eq!(certificates(&metadata), 1, "the retired certificate leaves the metadata");
    let (keys, _) = text(&pintu(&dir, &["saml", "keys"], &[]));
    let keys: serde_json::Value = serde_json::from_str(&keys).unwrap();
    let states: Vec<&str> = keys.as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["current", "retired"]);
    assert_eq!(keys[0]["id"], published["key"]);
    assert_eq!(keys[0]["sha256_fingerprint"].as_str().unwrap().len(), 32 * 3 - 1);
}

/// `pintu admin app saml-create FILE` and `saml-show`: a service provider from a JSON file,
/// refused with the reason when it breaks a rule.
#[test]
fn a_saml_service_provider_is_registered_from_a_file() {
    let dir = workdir();
    let file = dir.join("sp.json");
    let sp = serde_json::json!({
        "name": "Surat Lama",
        "entity_id": "urn:pemda:surat-lama",
        "acs": [{ "location": "https://surat.example.go.id/acs", "index": 1 }],
    });
    std::fs::write(&file, sp.to_string()).unwrap();
    let out = pintu(&dir, &["admin", "app", "saml-create", file.to_str().unwrap()], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (record["protocol"].as_str(), record["entity_id"].as_str()),
        (Some("saml"), Some("urn:pemda:surat-lama"))
    );
    let out = pintu(&dir, &["admin", "app", "saml-show", record["id"].as_str().unwrap()], &[]);
    let (stdout, _) = text(&out);
    assert!(out.status.success() && stdout.contains("https://surat.example.go.id/acs"), "{stdout}");
    let again = pintu(&dir, &["admin", "app", "saml-create", file.to_str().unwrap()], &[]);
    assert!(!again.status.success(), "the same entity ID twice");
    std::fs::write(&file, serde_json::json!({ "name": "X", "entity_id": "urn:x", "acs": [] }).to_string()).unwrap();
    let refused = pintu(&dir, &["admin", "app", "saml-create", file.to_str().unwrap()], &[]);
    let (_, stderr) = text(&refused);
    assert!(!refused.status.success() && stderr.contains("acs"), "{stderr}");
    let (list, _) = text(&pintu(&dir, &["admin", "app", "list"], &[]));
    assert!(list.contains("\"protocol\": \"saml\""), "{list}");
}

/// `pintu admin app saml-import FILE --name …`: a service provider from its SAML metadata;
/// a document that is not usable metadata is refused with the reason and registers nothing.
#[test]
fn a_saml_service_provider_is_registered_from_its_metadata() {
    let dir = workdir();
    let file = dir.join("sp-metadata.xml");
    let metadata = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:pemda:arsip">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://arsip.example.go.id/art" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://arsip.example.go.id/acs" index="2" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;
    std::fs::write(&file, metadata).unwrap();
    let args = ["admin", "app", "saml-import", file.to_str().unwrap(), "--name", "Arsip", "--sign-response"];
    let out = pintu(&dir, &args, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let out = pintu(&dir, &["admin", "app", "saml-show", record["id"].as_str().unwrap()], &[]);
    let (stdout, _) = text(&out);
    let registration: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        registration["acs"],
        serde_json::json!([{ "location": "https://arsip.example.go.id/acs", "index": 2, "is_default": true }]),
        "only the HTTP-POST endpoint"
    );
    assert_eq!(
        registration["name_id_formats"],
        serde_json::json!(["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"])
    );
    assert_eq!(registration["sign_response"], true);
    std::fs::write(&file, metadata.replace("urn:pemda:arsip", "urn:pemda:lain").replace("HTTP-POST", "PAOS")).unwrap();
    let refused = pintu(&dir, &args, &[]);
    let (_, stderr) = text(&refused);
    assert!(!refused.status.success() && stderr.contains("HTTP-POST"), "{stderr}");
    let missing = pintu(&dir, &["admin", "app", "saml-import", "--name", "Arsip"], &[]);
    assert!(!missing.status.success());
}
