//! The OpenAPI description and the admin API's routes stay in step: every documented
//! operation is routed (it answers 401 without a token, never 404 or 405), and every route in
//! `src/web/admin_api/` is documented.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Backend, TestApp};

const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(pintu::web::OPENAPI).expect("openapi.json is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            ops.insert((method.to_string(), path.clone()));
        }
    }
    ops
}

/// `(method, path)` pairs from the `.route("…", get(…).post(…))` calls in the handlers.
fn routed() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/admin_api");
    let mut ops = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let code = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for call in code.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').unwrap();
            let args = &rest[..rest.find("))").map(|i| i + 1).unwrap_or(rest.len())];
            for method in METHODS {
                let direct = args.contains(&format!(" {method}(")) || args.contains(&format!(", {method}("));
                if direct || args.contains(&format!(".{method}(")) {
                    ops.insert((method.to_string(), path.to_owned()));
                }
            }
        }
    }
    ops
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let (doc, code) = (documented(), routed());
    assert!(code.len() >= 20, "the route scan found too little: {code:?}");
    let undocumented: Vec<_> = code.difference(&doc).collect();
    let unrouted: Vec<_> = doc.difference(&code).collect();
    assert!(undocumented.is_empty() && unrouted.is_empty(), "undocumented: {undocumented:?}\nunrouted: {unrouted:?}");
}

#[tokio::test]
async fn documented_operations_answer_and_demand_a_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (method, path) in documented() {
        let url = app.url(&path.replace(['{', '}'], ""));
        let req = app.http.request(reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), url);
        let status = req.send().await.unwrap().status().as_u16();
        let expected = if path == "/api/v1/openapi.json" { 200 } else { 401 };
        assert_eq!(status, expected, "{method} {path}");
    }
}
