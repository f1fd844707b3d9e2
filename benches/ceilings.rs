//! The machine's ceilings for the work Pintu does, to report each Pintu figure as a fraction
//! of what the hardware allows:
//!
//! - `ceilings argon2 SECONDS [memory_kib iterations parallelism]`: argon2id verifications per
//!   second on one thread at the given (default OWASP) parameters;
//! - `ceilings es256 SECONDS`: ES256 JWT signatures per second on one thread (josekit, as Pintu);
//! - `ceilings serve PORT`: a bare axum server on 127.0.0.1:PORT with `/static` (a small JSON
//!   document, the discovery/JWKS ceiling) and `/sign` (one ES256 JWT per request, the token
//!   ceiling). It runs until killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, JwsSigner};

fn per_second(seconds: u64, mut op: impl FnMut()) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        op();
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn signer() -> impl JwsSigner {
    let jwk = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    ES256.signer_from_jwk(&jwk).unwrap()
}

fn sign_one(signer: &dyn JwsSigner, n: u64) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("bench");
    let claims = serde_json::json!({"iss": "http://127.0.0.1", "sub": "bench", "aud": "http://127.0.0.1", "client_id": "bench",
        "iat": 1_700_000_000, "exp": 1_700_000_600, "jti": n.to_string(), "scope": ""});
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, signer).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    match arg(0, "").as_str() {
        "argon2" => {
            let seconds: u64 = arg(1, "5").parse().unwrap();
            let params = Params::new(
                arg(2, "19456").parse().unwrap(),
                arg(3, "2").parse().unwrap(),
                arg(4, "1").parse().unwrap(),
                None,
            )
            .unwrap();
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let hash = argon.hash_password(b"kata-sandi-uji-beban").unwrap().to_string();
            let rate =
                per_second(seconds, || assert!(argon.verify_password(b"kata-sandi-uji-beban", hash.as_str()).is_ok()));
            println!("{}", serde_json::json!({"ceiling": "argon2id_verify", "per_second": rate}));
        }
        "es256" => {
            let seconds: u64 = arg(1, "5").parse().unwrap();
            let s = signer();
            let mut n = 0;
            let rate = per_second(seconds, || {
                n += 1;
                std::hint::black_box(sign_one(&s, n));
            });
            println!("{}", serde_json::json!({"ceiling": "es256_sign", "per_second": rate}));
        }
        "serve" => serve(arg(1, "18099").parse().unwrap()),
        _ => panic!("usage: ceilings argon2|es256|serve ..."),
    }
}

fn serve(port: u16) {
    use axum::routing::get;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async move {
        let s: Arc<dyn JwsSigner> = Arc::new(signer());
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let doc = serde_json::json!({"issuer": "http://127.0.0.1", "jwks_uri": "http://127.0.0.1/jwks", "response_types_supported": ["code"]});
        let app = axum::Router::new()
            .route("/static", get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc) }
            }))
            .route("/sign", axum::routing::post(move || {
                let (s, counter) = (s.clone(), counter.clone());
                async move {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    axum::Json(serde_json::json!({"access_token": sign_one(s.as_ref(), n), "token_type": "Bearer", "expires_in": 600}))
                }
            }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}
