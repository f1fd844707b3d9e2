//! HTTP: the only user of axum and tower. Routes per area, one error mapping, security headers
//! and request ids for every response.

mod account;
mod account_approvals;
mod account_certificates;
mod account_sign_in;
pub mod activation;
mod admin_api;
mod caching;
pub mod client_certificate;
mod console;
pub mod cookies;
pub mod error;
pub mod extract;
mod health;
pub mod i18n;
mod icons;
mod interaction;
mod logout;
pub(crate) mod mail_pages;
mod metrics;
mod oidc;
mod passkeys;
mod registration;
mod saml;
mod signing_views;
pub mod state;
pub mod tls;
pub mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use admin_api::OPENAPI;
pub use metrics::metrics_router;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application. The middleware is composed into one layer so each route is boxed
/// once (every `Router::layer` call boxes every route again, and routes are cloned per request).
pub fn router(state: AppState) -> Router {
    let max_body = state.web.max_body_bytes;
    let timeout = Duration::from_secs(state.web.request_timeout_secs);
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .map_response(security_headers)
        .layer(DefaultBodyLimit::max(max_body));
    let routes = Router::new()
        .merge(oidc::routes())
        .merge(interaction::routes())
        .merge(logout::routes())
        .merge(account::routes())
        .merge(account::overview_routes())
        .merge(account_approvals::routes())
        .merge(activation::routes())
        .merge(mail_pages::routes())
        .merge(console::routes(state.web.max_import_bytes))
        .merge(account_certificates::routes())
        .merge(account_sign_in::routes())
        .merge(passkeys::routes())
        .merge(registration::routes())
        .merge(health::routes())
        .merge(icons::routes())
        .merge(saml::routes())
        .merge(admin_api::routes(state.web.max_import_bytes));
    // Counting requests costs a layer on every route: only when metrics are served.
    let routes = match state.serve_metrics {
        true => routes.route_layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track)),
        false => routes,
    };
    routes.fallback(not_found).with_state(state).layer(middleware)
}

/// Request ids: a random per-process prefix and a counter. Unique across nodes and restarts
/// without a random-number system call per request (a UUID costs one).
#[derive(Clone)]
struct RequestIds {
    prefix: std::sync::Arc<str>,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let prefix = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        Self { prefix: prefix.into(), counter: Default::default() }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

/// Headers every response carries unless a handler set its own (form_post sets a CSP).
fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> axum::response::Response {
    let lang = lang_for(&state, &headers, None);
    error::error_page(&state.views, lang, error::PageKind::NotFound, None)
}

/// The language of a page for this request (see `i18n::negotiate`).
pub fn lang_for(state: &AppState, headers: &HeaderMap, ui_locales: Option<&str>) -> &'static str {
    let cookie = cookies::get(headers, cookies::LOCALE, state.web.secure_cookies);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    i18n::negotiate(ui_locales, cookie.as_deref(), accept, &state.web.default_locale)
}
