//! Self-service account pages: TOTP enrollment for the person signed in with the SSO session.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::oidc::account::TotpPage;
use crate::oidc::interaction::InteractionError;

use super::error::{PageKind, error_page, page};
use super::extract::form_params;
use super::state::AppState;
use super::views::TotpView;
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/totp", get(show)).route("/account/totp/{id}", post(confirm))
}

async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    enrollment_page(&state, lang, &headers, None).await
}

async fn enrollment_page(state: &AppState, lang: &str, headers: &HeaderMap, error: Option<&str>) -> Response {
    let secure = state.web.secure_cookies;
    let session = cookies::get(headers, cookies::SESSION, secure);
    match state.oidc.totp_page(session.as_deref()).await {
        Ok(TotpPage::Enrolled { recovery_codes_left }) => {
            let view = TotpView { enrolled: true, recovery_codes_left, ..TotpView::default() };
            page(&state.views, StatusCode::OK, "account_totp.html", lang, &view)
        }
        Ok(TotpPage::Enroll { interaction_id, csrf_token, secret, qr_svg }) => {
            let view = TotpView {
                action: format!("/account/totp/{interaction_id}"),
                csrf_token,
                secret,
                qr_svg,
                error: error.map(str::to_owned),
                ..TotpView::default()
            };
            let mut response = page(&state.views, StatusCode::OK, "account_totp.html", lang, &view);
            let ttl = state.oidc.config().interaction_ttl;
            let cookie = cookies::set(cookies::INTERACTION, &interaction_id, Some(ttl), secure);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => failure(state, lang, &e),
    }
}

async fn confirm(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = lang_for(&state, &headers, None);
    let secure = state.web.secure_cookies;
    let Ok(form) = form_params(&headers, &body) else {
        return error_page(&state.views, lang, PageKind::BadRequest, None);
    };
    let bound = cookies::get(&headers, cookies::INTERACTION, secure).is_some_and(|c| crate::oidc::secure_eq(&c, &id));
    if !bound {
        return error_page(&state.views, lang, PageKind::Forbidden, None);
    }
    let session = cookies::get(&headers, cookies::SESSION, secure);
    let (csrf, code) = (form.get("csrf_token").unwrap_or(""), form.get("code").unwrap_or(""));
    match state.oidc.confirm_totp(&id, csrf, code, session.as_deref()).await {
        Ok(Some(recovery_codes)) => {
            let view = TotpView { recovery_codes, ..TotpView::default() };
            page(&state.views, StatusCode::OK, "account_totp.html", lang, &view)
        }
        Ok(None) => enrollment_page(&state, lang, &headers, Some("error_invalid_second_factor")).await,
        Err(e) => failure(&state, lang, &e),
    }
}

fn failure(state: &AppState, lang: &str, e: &InteractionError) -> Response {
    match e {
        InteractionError::Expired => {
            let mut r = error_page(&state.views, lang, PageKind::Expired, None);
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        InteractionError::Csrf => error_page(&state.views, lang, PageKind::Forbidden, None),
        _ => error_page(&state.views, lang, PageKind::Server, None),
    }
}
