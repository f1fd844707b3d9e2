//! Self-service account pages: TOTP enrollment for the person signed in with the SSO session.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use crate::account::AccountError;
use crate::account::{AccountOverview, PasswordChange, TotpPage};

use super::error::{PageKind, error_page, page};
use super::extract::ClientIp;
use super::interaction::{BoundForm, interaction_cookie, with_cookies};
use super::state::AppState;
use super::views::{AccountView, CertificateView, PasskeyForm, PasskeyView, SessionView, TotpView};
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
    match state.account.totp_page(session.as_deref()).await {
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
            let response = page(&state.views, StatusCode::OK, "account_totp.html", lang, &view);
            with_cookies(response, [interaction_cookie(state, &interaction_id)])
        }
        Err(e) => failure(state, lang, &e),
    }
}

async fn confirm(State(state): State<AppState>, headers: HeaderMap, f: BoundForm) -> Response {
    let lang = f.lang;
    let (csrf, code) = (f.form.get("csrf_token").unwrap_or(""), f.form.get("code").unwrap_or(""));
    match state.account.confirm_totp(&f.id, csrf, code, f.session.as_deref()).await {
        Ok(Some(recovery_codes)) => {
            if let Ok(Some((_, user))) = state.oidc.find_session(f.session.as_deref()).await {
                super::mail_pages::notify(&state, lang, &user, "notice_totp_enrolled").await;
            }
            let view = TotpView { recovery_codes, ..TotpView::default() };
            page(&state.views, StatusCode::OK, "account_totp.html", lang, &view)
        }
        Ok(None) => enrollment_page(&state, lang, &headers, Some("error_invalid_second_factor")).await,
        Err(e) => failure(&state, lang, &e),
    }
}

pub(super) fn failure(state: &AppState, lang: &str, e: &AccountError) -> Response {
    match e {
        AccountError::SignInFirst => error_page(&state.views, lang, PageKind::SignInFirst, None),
        AccountError::Csrf => error_page(&state.views, lang, PageKind::Forbidden, None),
        AccountError::Failed(cause) => {
            tracing::error!(error = %cause, "account page failed");
            error_page(&state.views, lang, PageKind::Server, None)
        }
    }
}

/// The overview and its forms: password change and ending sessions.
pub fn overview_routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/password/{id}", post(change_password))
        .route("/account/sessions/{id}", post(end_session))
}

/// A message to show at the top of the overview.
pub(super) struct Notice {
    key: String,
    pub is_error: bool,
    pub detail: Option<String>,
}

impl Notice {
    pub fn ok(key: &str) -> Self {
        Self { key: key.to_owned(), is_error: false, detail: None }
    }
    pub fn error(key: &str) -> Self {
        Self { key: key.to_owned(), is_error: true, detail: None }
    }
    pub fn key_is(&self, key: &str) -> bool {
        self.key == key
    }
}

/// The overview; without a session that opens it, the sign-in page, which returns here.
async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    match state.account.account_overview(session.as_deref()).await {
        Ok(o) => {
            let approvals = super::account_approvals::pending(&state, session.as_deref()).await;
            show_overview(&state, lang, o, approvals, None)
        }
        Err(AccountError::SignInFirst) => super::account_sign_in::sign_in(&state, lang, &headers).await,
        Err(e) => failure(&state, lang, &e),
    }
}

pub(super) async fn render_overview(
    state: &AppState,
    lang: &str,
    headers: &HeaderMap,
    notice: Option<Notice>,
) -> Response {
    let session = cookies::get(headers, cookies::SESSION, state.web.secure_cookies);
    render_overview_for(state, lang, session.as_deref(), notice).await
}

/// The overview for the session whose cookie value is `session`.
pub(super) async fn render_overview_for(
    state: &AppState,
    lang: &str,
    session: Option<&str>,
    notice: Option<Notice>,
) -> Response {
    match state.account.account_overview(session).await {
        Ok(o) => {
            let approvals = super::account_approvals::pending(state, session).await;
            show_overview(state, lang, o, approvals, notice)
        }
        Err(e) => failure(state, lang, &e),
    }
}

fn show_overview(
    state: &AppState,
    lang: &str,
    o: AccountOverview,
    approvals: Vec<super::signing_views::ApprovalView>,
    notice: Option<Notice>,
) -> Response {
    let available = o.passkeys.is_some();
    let sessions = o
        .sessions
        .iter()
        .map(|s| SessionView {
            id: s.id.clone(),
            started: format_time(s.created_at),
            level: s.acr.rsplit(':').next().map(|n| format!("level {n}")).unwrap_or_default(),
            current: s.current,
            applications: s.applications.clone(),
        })
        .collect();
    let view = AccountView {
        interaction_id: o.interaction_id.clone(),
        csrf_token: o.csrf_token,
        display_name: o.display_name,
        username: o.username,
        totp_enrolled: o.totp_enrolled,
        recovery_codes_left: o.recovery_codes_left,
        sessions,
        passkeys: o.passkeys.map(|list| {
            list.into_iter()
                .map(|p| PasskeyView {
                    id: p.id,
                    name: p.name,
                    created: format_time(p.created_at),
                    last_used: p.last_used_at.map(format_time),
                })
                .collect()
        }),
        passkey: available.then(|| PasskeyForm {
            options_url: format!("/account/passkeys/{}/options", o.interaction_id),
            action: format!("/account/passkeys/{}", o.interaction_id),
            mode: "register",
        }),
        certificates: o.certificates.map(|list| {
            list.into_iter()
                .map(|c| CertificateView {
                    thumbprint: c.thumbprint,
                    subject: c.subject,
                    issuer: c.issuer,
                    valid_until: format_time(c.not_after),
                    status: c.status,
                })
                .collect()
        }),
        approval_passphrase: state.sso.certificates.remote_available(),
        approvals,
        password_elsewhere: o.password_elsewhere.is_some(),
        password_change_url: o.password_elsewhere.flatten(),
        message_is_error: notice.as_ref().is_some_and(|n| n.is_error),
        detail: notice.as_ref().and_then(|n| n.detail.clone()),
        message: notice.map(|n| n.key),
    };
    let response = page(&state.views, StatusCode::OK, "account.html", lang, &view);
    with_cookies(response, [interaction_cookie(state, &o.interaction_id)])
}

/// "YYYY-MM-DD HH:MM UTC" for a unix time.
pub(super) fn format_time(t: i64) -> String {
    let d = crate::domain::nip::Date::from_unix(t);
    let secs = t.rem_euclid(86_400);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", d.year, d.month, d.day, secs / 3600, secs % 3600 / 60)
}

async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: BoundForm,
) -> Response {
    let (lang, form) = (f.lang, &f.form);
    let (current, new) = (form.get("current_password").unwrap_or(""), form.get("new_password").unwrap_or(""));
    let csrf = form.get("csrf_token").unwrap_or("");
    let changed = state.account.change_password((&f.id, csrf), f.session.as_deref(), current, new, ip.as_deref()).await;
    let notice = match changed {
        Ok(PasswordChange::Changed) => {
            if let Ok(Some((_, user))) = state.oidc.find_session(f.session.as_deref()).await {
                super::mail_pages::notify(&state, lang, &user, "notice_password_changed").await;
            }
            Notice::ok("account_password_changed")
        }
        Ok(PasswordChange::WrongCurrent) => Notice::error("account_wrong_password"),
        Ok(PasswordChange::Throttled { .. }) => Notice::error("error_throttled"),
        Ok(PasswordChange::Refused(why)) => Notice { detail: Some(why), ..Notice::error("account_password_refused") },
        Ok(PasswordChange::KeptElsewhere { url, .. }) => {
            Notice { detail: url, ..Notice::error("account_password_kept_elsewhere") }
        }
        Ok(PasswordChange::DirectoryUnavailable) => Notice::error("error_directory_unavailable"),
        Err(e) => return failure(&state, lang, &e),
    };
    render_overview(&state, lang, &headers, Some(notice)).await
}

async fn end_session(State(state): State<AppState>, headers: HeaderMap, f: BoundForm) -> Response {
    let lang = f.lang;
    let csrf = f.form.get("csrf_token").unwrap_or("");
    match state.account.end_own_session((&f.id, csrf), f.session.as_deref(), f.form.get("session").unwrap_or("")).await
    {
        Ok(()) => {
            let notice = Notice::ok("account_session_ended");
            render_overview(&state, lang, &headers, Some(notice)).await
        }
        Err(e) => failure(&state, lang, &e),
    }
}
