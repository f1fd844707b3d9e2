//! HTTP: the only user of axum and tower. Routes per area, one error mapping, security headers
//! and request ids for every response.

pub mod cookies;
pub mod error;
pub mod extract;
mod health;
pub mod i18n;
mod interaction;
mod oidc;
mod registration;
pub mod state;
pub mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application.
pub fn router(state: AppState) -> Router {
    let max_body = state.web.max_body_bytes;
    let timeout = Duration::from_secs(state.web.request_timeout_secs);
    Router::new()
        .merge(oidc::routes())
        .merge(interaction::routes())
        .merge(registration::routes())
        .merge(health::routes())
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
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
