//! The state every handler can extract.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::config::WebConfig;
use crate::oidc::OidcService;
use crate::storage::Store;

use super::views::Views;

#[derive(Clone)]
pub struct AppState {
    pub oidc: OidcService,
    pub views: Arc<Views>,
    pub web: Arc<WebConfig>,
    pub store: Store,
    /// Discovery and JWKS bodies, shared (not copied) by every response.
    pub published: Published,
}

/// The pre-serialised public documents as reference-counted bodies.
#[derive(Clone)]
pub struct Published {
    pub discovery: axum::body::Bytes,
    pub jwks: axum::body::Bytes,
}

impl Published {
    pub fn from_service(oidc: &OidcService) -> Self {
        let docs = oidc.published();
        Self { discovery: docs.discovery.clone().into(), jwks: docs.jwks.clone().into() }
    }
}

impl FromRef<AppState> for Published {
    fn from_ref(state: &AppState) -> Self {
        state.published.clone()
    }
}

impl FromRef<AppState> for OidcService {
    fn from_ref(state: &AppState) -> Self {
        state.oidc.clone()
    }
}
