//! `/portal/icons/{id}`: applications' icons, served by Pintu itself for the portal and the
//! console (the pages allow images from Pintu only). The portal links each icon with its
//! digest, so a changed icon is a new address and the old one may be cached.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/portal/icons/{id}", get(icon))
}

async fn icon(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let (content_type, bytes, digest) = match state.applications.icon(&id).await {
        Ok(Some(icon)) => icon,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an application's icon cannot be read");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = format!("\"{digest}\"");
    let cached = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if cached { StatusCode::NOT_MODIFIED.into_response() } else { bytes.into_response() };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    response
}
