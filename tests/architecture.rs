//! The architecture, checked: dependency direction between modules (STYLE.md §3), where each
//! heavy library may be used, migration parity between backends, and the documented
//! configuration example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may use itself or any lower layer, never a module of its own
/// layer or above. Some are still to come (`certificates`, `federation`, `saml`, `signing`):
/// their place is fixed before their code exists.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("storage", 1),
    ("keys", 2),
    ("authn", 2),
    ("audit", 2),
    ("mail", 2),
    ("directory", 3),
    ("backup", 3),
    ("certificates", 3),
    ("applications", 4),
    ("federation", 4),
    ("sso", 5),
    ("oidc", 6),
    ("account", 6),
    ("saml", 6),
    ("signing", 5),
    ("web", 7),
];
/// Leaves anyone may use.
const SHARED: &[&str] = &["config", "clock", "metrics"];
/// What sits above every layer: the composition root, the command line, background jobs.
const ABOVE: &[&str] = &["app", "cli", "jobs", "lib", "main"];
/// Where each library may appear (path prefixes under src/).
const LIBRARIES: &[(&str, &[&str])] = &[
    ("sqlx", &["storage/"]),
    ("axum", &["web/", "app/mod.rs"]),
    ("tower", &["web/", "app/mod.rs"]),
    ("tower_http", &["web/", "app/mod.rs"]),
    ("minijinja", &["web/views.rs"]),
    ("josekit", &["keys/", "oidc/tokens.rs"]),
    ("argon2", &["authn/password.rs"]),
    ("figment", &["config/"]),
    ("clap", &["main.rs", "cli/"]),
    ("csv", &["directory/import/parse.rs"]),
    ("zxcvbn", &["authn/policy.rs"]),
    ("totp_rs", &["authn/totp.rs"]),
    ("webauthn_rs", &["authn/webauthn.rs"]),
    ("qrcode", &["authn/totp.rs"]),
    (
        "reqwest",
        &[
            "keys/jwks_uri/fetch.rs",
            "certificates/fetch.rs",
            "certificates/remote.rs",
            "certificates/bsre.rs",
            "oidc/ciba_ping.rs",
        ],
    ),
    ("ldap3", &["federation/ldap/client.rs"]),
    ("lettre", &["mail/smtp.rs"]),
    ("prometheus_client", &["metrics.rs"]),
    ("age", &["backup/archive.rs"]),
    ("flate2", &["backup/archive.rs"]),
    ("rustls", &["federation/ldap/client.rs", "web/tls.rs"]),
    ("tokio_rustls", &["web/tls.rs"]),
    ("hyper", &["web/tls.rs"]),
    ("hyper_util", &["web/tls.rs"]),
    ("rustls_native_certs", &["federation/ldap/client.rs"]),
    ("openssl", &["certificates/", "saml/keys.rs"]),
    ("saml_rs", &["saml/"]),
    ("x509_parser", &["certificates/x509.rs"]),
    ("x509_ocsp", &["certificates/revocation.rs"]),
    ("x509_cert", &["certificates/revocation.rs", "certificates/detached.rs"]),
    ("der", &["certificates/revocation.rs", "certificates/detached.rs"]),
    ("cms", &["certificates/detached.rs"]),
    ("const_oid", &["certificates/detached.rs"]),
    ("spki", &["certificates/detached.rs"]),
];
/// External crates `domain` may use (STYLE.md: std, serde, time, uuid; serde_json for JWK
/// Sets and `claims` requests that are JSON by definition).
const DOMAIN_CRATES: &[&str] = &["serde", "serde_json", "uuid", "std", "core", "super", "crate"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src()).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn layer_of(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// `crate::<module>` references in code (comments excluded).
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + 7..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
}

#[test]
fn modules_only_depend_downwards() {
    let mut violations = Vec::new();
    for (file, code) in sources() {
        let module = file.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
        let Some(own) = layer_of(&module) else { continue }; // ABOVE and SHARED
        for used in crate_modules(&code) {
            if used == module || SHARED.contains(&used.as_str()) {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                _ => violations.push(format!("{file} uses crate::{used}")),
            }
        }
    }
    assert!(violations.is_empty(), "dependency rule violations:\n{}", violations.join("\n"));
}

/// A new top-level module must be given its place: an unlisted one would escape the
/// dependency rule silently.
#[test]
fn every_top_level_module_has_a_place() {
    let mut unplaced = BTreeSet::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".rs").to_owned();
        let is_module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
        let placed = layer_of(&name).is_some() || SHARED.contains(&name.as_str()) || ABOVE.contains(&name.as_str());
        if is_module && !placed {
            unplaced.insert(name);
        }
    }
    assert!(unplaced.is_empty(), "add these modules to LAYERS, SHARED or ABOVE: {unplaced:?}");
}

#[test]
fn libraries_stay_in_their_modules() {
    let mut violations = Vec::new();
    for (file, code) in sources() {
        for (lib, allowed) in LIBRARIES {
            let path = format!("{lib}::");
            // `lib::` as a path of its own: not the tail of a longer name (`message::`, `_age::`).
            let used = code.lines().filter(|l| !l.trim_start().starts_with("//")).any(|l| {
                l.match_indices(&path)
                    .any(|(i, _)| !l[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_'))
            });
            if used && !allowed.iter().any(|a| file.starts_with(a)) {
                violations.push(format!("{file} uses {lib}"));
            }
        }
    }
    assert!(violations.is_empty(), "library placement violations:\n{}", violations.join("\n"));
}

#[test]
fn domain_uses_only_its_allowed_crates() {
    for (file, code) in sources().into_iter().filter(|(f, _)| f.starts_with("domain/")) {
        for line in code.lines().map(str::trim).filter(|l| l.starts_with("use ")) {
            let root = line[4..].split("::").next().unwrap().trim_matches(|c| c == '{' || c == ';');
            assert!(DOMAIN_CRATES.contains(&root), "{file}: domain must not use {root}");
        }
    }
}

#[test]
fn migrations_have_identical_file_names_for_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert_eq!(sqlite, names("postgres"));
    let embedded: Vec<String> = pintu::storage::MIGRATION_FILE_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(sqlite, embedded, "src/storage/migrations.rs must embed every migration");
}

#[test]
fn no_source_file_exceeds_400_lines() {
    for (file, code) in sources() {
        assert!(code.lines().count() <= 400, "{file} has more than 400 lines; split it (STYLE.md §10)");
    }
}

fn keys_of(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(obj) = value.as_object() {
        for (k, v) in obj {
            if v.is_object() {
                keys_of(v, &format!("{prefix}{k}."), out);
            } else {
                out.push(format!("{prefix}{k}"));
            }
        }
    }
}

#[test]
fn documented_config_example_parses_validates_and_covers_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let raw: pintu::config::RawConfig = toml::from_str(&text).expect("config.example.toml parses as RawConfig");
    raw.validate().expect("config.example.toml validates");
    let mut keys = Vec::new();
    keys_of(&serde_json::to_value(pintu::config::RawConfig::default()).unwrap(), "", &mut keys);
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| {
            let leaf = k.rsplit('.').next().unwrap();
            !text.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{leaf} =")))
        })
        .collect();
    assert!(missing.is_empty(), "undocumented configuration keys: {missing:?}");
}

/// The admin API reads requests only through its own extractors (`ApiPath`, `ApiQuery`,
/// `JsonBody`), which refuse control characters; axum's `Path`, `Query`, `Json` and `Form`
/// extractors would let them through to the database.
#[test]
fn admin_api_reads_requests_through_its_checking_extractors() {
    let admin_api =
        sources().into_iter().filter(|(f, _)| f.starts_with("web/admin_api/") && f != "web/admin_api/mod.rs");
    for (file, code) in admin_api {
        for extractor in ["Path<", "Query<", "Json<", "Form<"] {
            let unchecked = code.match_indices(extractor).any(|(i, _)| !code[..i].ends_with("Api"));
            assert!(!unchecked, "{file}: reads a request with axum's {extractor}…> instead of the Api* extractors");
        }
    }
}

/// Applications are registered, changed, disabled and given new secrets only by the
/// application service (`src/applications/`), which also drops its cached clients: a write
/// anywhere else would leave a node serving the old client for up to the cache's lifetime.
#[test]
fn only_the_application_service_writes_applications() {
    const WRITES: &[&str] = &[
        "insert_in",
        "update_profile_in",
        "update_oidc_metadata_in",
        "set_disabled_in",
        "set_secret_hash_in",
        "use_in",
        "insert(",
    ];
    let mut violations = Vec::new();
    for (file, code) in sources().into_iter().filter(|(f, _)| !f.starts_with("applications/")) {
        let code: String = code.split_whitespace().collect();
        for repository in ["applications()", "initial_access_tokens()"] {
            for (i, _) in code.match_indices(&format!("{repository}.")) {
                let call = &code[i + repository.len() + 1..];
                if let Some(write) = WRITES.iter().find(|w| call.starts_with(**w)) {
                    violations.push(format!("{file}: {repository}.{write}"));
                }
            }
        }
    }
    assert!(violations.is_empty(), "writes outside src/applications/:\n{}", violations.join("\n"));
}

/// Every Markdown document of the project.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![root.join("README.md"), root.join("keys/README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out
}

/// The targets of a document's Markdown links (`[text](target)`) and autolinks (`<http…>`).
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(|c: char| c == ')' || c.is_whitespace()).unwrap_or(rest.len());
        out.push(rest[..end].to_owned());
    }
    let mut rest = text;
    while let Some(i) = rest.find("<http") {
        rest = &rest[i + 1..];
        out.push(rest[..rest.find('>').unwrap_or(rest.len())].to_owned());
    }
    out
}

#[test]
fn documents_link_only_to_files_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap();
    let mut problems = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(&root).unwrap_or(&doc).display().to_string();
        for target in link_targets(&text) {
            let file = target.split('#').next().unwrap_or("");
            if target.contains("://") || target.starts_with("mailto:") {
                problems.push(format!("{name}: links outside the repository: {target}"));
            } else if !file.is_empty() {
                match doc.parent().unwrap().join(file).canonicalize() {
                    Ok(found) if found.starts_with(&root) => {}
                    Ok(_) => problems.push(format!("{name}: links outside the repository: {target}")),
                    Err(_) => problems.push(format!("{name}: links to a missing file: {target}")),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_metadata_card_is_current() {
    // The card is generated from the migrations, routes and dependencies: a change to any of
    // them regenerates it (`python3 docs/tools/metadata.py`), and a new table must be classified.
    let out = std::process::Command::new("python3")
        .args(["docs/tools/metadata.py", "--check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs the metadata generator");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "docs/metadata.* are stale or incomplete: {said}");
}
