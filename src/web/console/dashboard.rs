//! The console's overview: people, units and applications within reach, sessions live now,
//! sign-ins per OPD over the last week (drawn as SVG by Pintu itself), failed sign-ins,
//! certificates expiring, and for the office the locks in force and the last HR import, LDAP
//! sync and backup.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{ConsoleGet, render};
use crate::directory::{Period, ReportKind, UserQuery};
use crate::web::account::format_time;
use crate::web::state::AppState;

#[derive(Serialize)]
struct Bar {
    name: String,
    logins: i64,
    failures: i64,
    width: i64,
    y: usize,
}

/// One day's column of the sign-ins chart.
#[derive(Serialize)]
struct Day {
    /// `MM-DD` (UTC).
    label: String,
    logins: i64,
    /// The bar's height (0-120) and its left edge.
    height: i64,
    top: i64,
    x: usize,
}

/// One OPD's sign-ins on each of the seven days.
#[derive(Serialize)]
struct UnitDays {
    name: String,
    counts: Vec<i64>,
}

#[derive(Serialize)]
struct DashboardView {
    people: String,
    units: usize,
    applications: usize,
    failures: i64,
    /// Certificates expiring within the notice window (none when certificates are off).
    expiring: Option<i64>,
    /// The last backup: when, and whether it worked (the office only).
    backup: Option<(String, bool)>,
    /// Whether e-mail can be sent (SMTP configured).
    mail: bool,
    /// Sessions live now, of people within reach.
    sessions: i64,
    /// Counters locked now: people, login names, addresses (the office only).
    locked: Option<i64>,
    /// The last HR import applied and the last LDAP sync: when, and the outcome (the office only).
    last_import: Option<(String, String)>,
    last_sync: Option<(String, String)>,
    bars: Vec<Bar>,
    chart_height: usize,
    days: Vec<Day>,
    unit_days: Vec<UnitDays>,
}

/// Sign-ins on each of the last seven calendar days (UTC, today so far last), in total and
/// per OPD within reach.
async fn per_day(state: &AppState, actor: &crate::directory::Actor, now: i64) -> (Vec<Day>, Vec<UnitDays>) {
    const DAYS: usize = 7;
    let today = now - now.rem_euclid(86_400);
    let mut days = Vec::with_capacity(DAYS);
    let mut units: std::collections::BTreeMap<String, UnitDays> = Default::default();
    for i in 0..DAYS {
        let from = today - (DAYS - 1 - i) as i64 * 86_400;
        let period = Period { from, to: from + 86_400 };
        let lines = state.directory.report(actor, ReportKind::OrgUnit, period).await.unwrap_or_default();
        for line in &lines {
            let unit = units
                .entry(line.key.clone())
                .or_insert_with(|| UnitDays { name: line.name.clone(), counts: vec![0; DAYS] });
            unit.counts[i] = line.counts.logins;
        }
        let date = format_time(from);
        let label = date.get(5..10).unwrap_or(&date).to_owned();
        let logins = lines.iter().map(|l| l.counts.logins).sum();
        days.push(Day { label, logins, height: 0, top: 0, x: i * 60 + 10 });
    }
    let most = days.iter().map(|d| d.logins).max().unwrap_or(0).max(1);
    for day in &mut days {
        day.height = day.logins * 120 / most;
        day.top = 140 - day.height;
    }
    (days, units.into_values().collect())
}

pub(super) async fn dashboard(State(state): State<AppState>, ConsoleGet { c, lang }: ConsoleGet) -> Response {
    let now = state.oidc.now();
    let week = Period { from: now - 7 * 86_400, to: now + 1 };
    let lines = state.directory.report(&c.actor, ReportKind::OrgUnit, week).await.unwrap_or_default();
    let most = lines.iter().map(|l| l.counts.logins).max().unwrap_or(0).max(1);
    let bars = lines
        .iter()
        .enumerate()
        .map(|(i, l)| Bar {
            name: l.name.clone(),
            logins: l.counts.logins,
            failures: l.counts.failures,
            width: l.counts.logins * 300 / most,
            y: i * 24,
        })
        .collect::<Vec<_>>();
    let query = UserQuery { limit: Some(500), ..Default::default() };
    let people = match state.directory.list_users(&c.actor, &query).await {
        Ok(page) if page.next_cursor.is_some() => format!("{}+", page.items.len()),
        Ok(page) => page.items.len().to_string(),
        Err(_) => "?".into(),
    };
    let units = state.directory.list_org_units(&c.actor).await.map(|u| u.len()).unwrap_or(0);
    let applications = state.applications.list(&c.actor).await.map(|a| a.len()).unwrap_or(0);
    let failures = bars.iter().map(|b| b.failures).sum();
    let certificates = &state.sso.certificates;
    let expiring = match certificates.enabled() {
        true => {
            let reach = state.directory.reach(&c.actor).await;
            let days = certificates.config().expiry_notice_days;
            match reach {
                Ok(reach) => certificates
                    .report(days, |unit| reach.covers(unit))
                    .await
                    .ok()
                    .map(|r| r.units.iter().map(|u| u.expiring).sum()),
                Err(_) => None,
            }
        }
        false => None,
    };
    let backup = match matches!(c.actor.scope, crate::domain::AdminScope::Office) {
        true => state.store.backup_runs().latest().await.ok().and_then(|(last, _)| last),
        false => None,
    }
    .map(|run| (format_time(run.finished_at), run.succeeded));
    let reach = state.directory.reach(&c.actor).await.ok();
    let within = reach.as_ref().and_then(|r| r.root()).cloned();
    let sessions = state.store.session_list().count_live(now, within.as_ref()).await.unwrap_or(0);
    let office = matches!(c.actor.scope, crate::domain::AdminScope::Office);
    let (mut locked, mut last_import, mut last_sync) = (None, None, None);
    if office {
        locked = state.store.throttle().count_locked(now).await.ok();
        last_import = latest(&state, "admin.import.apply").await;
        last_sync = latest(&state, "admin.ldap.sync").await;
    }
    let chart_height = bars.len() * 24 + 4;
    let (days, unit_days) = per_day(&state, &c.actor, now).await;
    let view = DashboardView {
        people,
        units,
        applications,
        failures,
        expiring,
        backup,
        mail: state.mailer.enabled(),
        sessions,
        locked,
        last_import,
        last_sync,
        chart_height,
        bars,
        days,
        unit_days,
    };
    render(&state, lang, &c, StatusCode::OK, "console_dashboard.html", &view)
}

/// When the newest audit event named `action` happened, and its outcome.
async fn latest(state: &AppState, action: &str) -> Option<(String, String)> {
    let found = state.store.audit().latest(action).await.ok().flatten();
    found.map(|(at, outcome)| (format_time(at), outcome))
}
