//! `/saml/*`: Pintu as a SAML 2.0 identity provider. The metadata is published; single sign-on
//! and single logout answer, until they are built, with a page saying SAML sign-in is not
//! available yet (never a 404 that looks like a wrong address).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata", get(metadata))
        .route("/saml/sso", get(not_yet).post(not_yet))
        .route("/saml/slo", get(not_yet).post(not_yet))
}

/// SAML Metadata §4.1.1: served as `application/samlmetadata+xml`, cacheable for an hour.
async fn metadata(State(state): State<AppState>) -> Response {
    match state.saml.metadata().await {
        Ok(xml) => {
            let mut response = xml.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "the SAML metadata cannot be made");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn not_yet(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = super::lang_for(&state, &headers, None);
    super::error::error_page(&state.views, lang, super::error::PageKind::SamlNotYet, None)
}
