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
}

impl FromRef<AppState> for OidcService {
    fn from_ref(state: &AppState) -> Self {
        state.oidc.clone()
    }
}
