//! Approvals on the account page: the CIBA requests waiting for the person, and their
//! decision (approve, at the level the request needs, or decline).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::oidc::ciba_approval::ApprovalError;
use crate::sso::SignInProblem;

use super::account::{Notice, failure, format_time, render_overview, render_overview_for};
use super::cookies;
use super::extract::ClientIp;
use super::interaction::{BoundForm, with_cookies};
use super::signing_views::{ApprovalView, details};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/approvals/{id}", post(decide))
}

/// The requests waiting for the person of `session` (none when it cannot be read).
pub(super) async fn pending(state: &AppState, session: Option<&str>) -> Vec<ApprovalView> {
    match state.oidc.pending_approvals(session).await {
        Ok(list) => list
            .into_iter()
            .map(|a| ApprovalView {
                id: a.id,
                client_name: a.client_name,
                binding_message: a.binding_message,
                scopes: a.scopes,
                details: a.authorization_details.as_ref().map(details).unwrap_or_default(),
                expires: format_time(a.expires_at),
            })
            .collect(),
        Err(ApprovalError::SignInFirst) => Vec::new(),
        Err(e) => {
            tracing::error!(error = %e, "pending approvals cannot be listed");
            Vec::new()
        }
    }
}

/// The translation key for a refused step.
fn problem_key(problem: SignInProblem) -> String {
    match problem {
        SignInProblem::Certificate(code) => format!("error_certificate_{code}"),
        SignInProblem::Signing(code) => format!("error_signing_{code}"),
        SignInProblem::Throttled { .. } => "error_throttled".into(),
        _ => "error_invalid_second_factor".into(),
    }
}

async fn decide(State(state): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, f: BoundForm) -> Response {
    let lang = f.lang;
    let csrf = f.form.get("csrf_token").unwrap_or("");
    if let Err(e) = state.account.check_form((&f.id, csrf), f.session.as_deref()).await {
        return failure(&state, lang, &e);
    }
    let request = f.form.get("request").unwrap_or("");
    let approve = f.form.get("decision") == Some("approve");
    let passphrase = f.form.get("passphrase");
    let decided = state.oidc.decide_approval(f.session.as_deref(), request, approve, passphrase, ip.as_deref()).await;
    let notice = match decided {
        // A raised session has a new cookie: the overview is read again under it.
        Ok(Some(cookie)) => {
            let set = cookies::set(cookies::SESSION, &cookie, None, state.web.secure_cookies);
            let to_overview = (StatusCode::SEE_OTHER, [(header::LOCATION, "/account")]).into_response();
            return with_cookies(to_overview, [set]);
        }
        Ok(None) if approve => Notice::ok("account_approval_approved"),
        Ok(None) => Notice::ok("account_approval_declined"),
        Err(ApprovalError::Gone) => Notice::error("account_approval_gone"),
        Err(ApprovalError::NeedsLevel(_)) => Notice::error("account_approval_needs_level"),
        Err(ApprovalError::Refused(problem, None)) => Notice::error(&problem_key(problem)),
        Err(ApprovalError::Refused(problem, Some(cookie))) => {
            // The step-up succeeded before the refusal: the page under the new cookie.
            let notice = Notice::error(&problem_key(problem));
            let set = cookies::set(cookies::SESSION, &cookie, None, state.web.secure_cookies);
            return with_cookies(render_overview_for(&state, lang, Some(&cookie), Some(notice)).await, [set]);
        }
        Err(ApprovalError::SignInFirst) => return failure(&state, lang, &crate::account::AccountError::SignInFirst),
        Err(ApprovalError::OAuth(e)) if e.code == crate::oidc::ErrorCode::AccessDenied => {
            Notice::error("account_approval_unreachable")
        }
        Err(ApprovalError::OAuth(e)) => {
            tracing::error!(error = %e, "approval failed");
            Notice::error("error_server")
        }
    };
    render_overview(&state, lang, &headers, Some(notice)).await
}
