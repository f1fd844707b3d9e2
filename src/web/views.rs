//! Pages: minijinja templates from the active theme (falling back to the embedded default
//! theme), rendered from `*View` structs only, with autoescaping on.

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

use super::i18n::Translations;

const TEMPLATES: [(&str, &str); 36] = [
    ("console_application.html", include_str!("../../themes/default/templates/console_application.html")),
    ("console_person.html", include_str!("../../themes/default/templates/console_person.html")),
    ("console_import.html", include_str!("../../themes/default/templates/console_import.html")),
    ("console_audit.html", include_str!("../../themes/default/templates/console_audit.html")),
    ("console_reports.html", include_str!("../../themes/default/templates/console_reports.html")),
    ("console_nav.html", include_str!("../../themes/default/templates/console_nav.html")),
    ("console_message.html", include_str!("../../themes/default/templates/console_message.html")),
    ("console_dashboard.html", include_str!("../../themes/default/templates/console_dashboard.html")),
    ("console_people.html", include_str!("../../themes/default/templates/console_people.html")),
    ("console_units.html", include_str!("../../themes/default/templates/console_units.html")),
    ("console_roles.html", include_str!("../../themes/default/templates/console_roles.html")),
    ("console_applications.html", include_str!("../../themes/default/templates/console_applications.html")),
    ("forgot.html", include_str!("../../themes/default/templates/forgot.html")),
    ("mail_reset.txt", include_str!("../../themes/default/templates/mail_reset.txt")),
    ("mail_activation.txt", include_str!("../../themes/default/templates/mail_activation.txt")),
    ("mail_notice.txt", include_str!("../../themes/default/templates/mail_notice.txt")),
    ("mail_base.html", include_str!("../../themes/default/templates/mail_base.html")),
    ("mail_reset.html", include_str!("../../themes/default/templates/mail_reset.html")),
    ("mail_activation.html", include_str!("../../themes/default/templates/mail_activation.html")),
    ("mail_notice.html", include_str!("../../themes/default/templates/mail_notice.html")),
    ("portal.html", include_str!("../../themes/default/templates/portal.html")),
    ("activate.html", include_str!("../../themes/default/templates/activate.html")),
    ("activation_letters.html", include_str!("../../themes/default/templates/activation_letters.html")),
    ("signing_details.html", include_str!("../../themes/default/templates/signing_details.html")),
    ("base.html", include_str!("../../themes/default/templates/base.html")),
    ("login.html", include_str!("../../themes/default/templates/login.html")),
    ("consent.html", include_str!("../../themes/default/templates/consent.html")),
    ("error.html", include_str!("../../themes/default/templates/error.html")),
    ("logout.html", include_str!("../../themes/default/templates/logout.html")),
    ("form_post.html", include_str!("../../themes/default/templates/form_post.html")),
    ("denied.html", include_str!("../../themes/default/templates/denied.html")),
    ("second_factor.html", include_str!("../../themes/default/templates/second_factor.html")),
    ("account_totp.html", include_str!("../../themes/default/templates/account_totp.html")),
    ("account.html", include_str!("../../themes/default/templates/account.html")),
    ("passkey.html", include_str!("../../themes/default/templates/passkey.html")),
    ("report.html", include_str!("../../themes/default/templates/report.html")),
];

/// The embedded stylesheet of the default theme.
pub const DEFAULT_CSS: &str = include_str!("../../themes/default/static/pintu.css");

/// The login form.
#[derive(Debug, Serialize)]
pub struct LoginView {
    pub action: String,
    pub csrf_token: String,
    pub client_name: String,
    pub login_hint: Option<String>,
    pub error: Option<String>,
    /// The step-up page offers a TOTP or recovery code.
    pub code: bool,
    /// Where the page's script asks for passkey options and posts the answer; `None` when
    /// no passkey is offered.
    pub passkey: Option<PasskeyForm>,
    /// Where the step-up page posts for a certificate (level 4): Pintu's TLS listener, which
    /// asks the browser for its certificate, or this origin behind a proxy that forwards it.
    pub certificate: Option<String>,
    /// Where the step-up page posts the passphrase of a certificate the CA's signing service holds.
    pub remote_certificate: Option<String>,
}

/// A passkey ceremony on a page (WebAuthn needs the page's script).
#[derive(Debug, Serialize)]
pub struct PasskeyForm {
    pub options_url: String,
    pub action: String,
    /// `login`, `step-up` or `register`.
    pub mode: &'static str,
}

/// One passkey on the account page.
#[derive(Debug, Default, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

/// The consent form.
#[derive(Debug, Serialize)]
pub struct ConsentView {
    pub action: String,
    pub csrf_token: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    /// What the person approves and signs (RFC 9396); empty for a plain consent.
    pub details: Vec<super::signing_views::DetailView>,
    pub error: Option<String>,
}

/// An error page. `title`/`message` are translation keys resolved by the template.
#[derive(Debug, Serialize)]
pub struct ErrorView {
    pub title_key: String,
    pub message_key: String,
    pub detail: Option<String>,
}

/// Logout confirmation or the logged-out notice.
#[derive(Debug, Serialize)]
pub struct LogoutView {
    pub confirm_action: Option<String>,
    pub csrf_token: Option<String>,
    pub client_name: Option<String>,
    /// Front-channel logout URLs to load, each in a hidden frame.
    pub frames: Vec<String>,
    /// Where the browser goes next (after the frames).
    pub continue_url: Option<String>,
}

/// The OAuth 2.0 Form Post Response Mode page.
#[derive(Debug, Serialize)]
pub struct FormPostView {
    pub redirect_uri: String,
    pub params: Vec<(String, String)>,
}

/// The account page.
#[derive(Debug, Default, Serialize)]
pub struct AccountView {
    pub interaction_id: String,
    pub csrf_token: String,
    pub display_name: String,
    pub username: String,
    pub totp_enrolled: bool,
    pub recovery_codes_left: i64,
    pub sessions: Vec<SessionView>,
    /// `None` when the server cannot do WebAuthn.
    pub passkeys: Option<Vec<PasskeyView>>,
    pub passkey: Option<PasskeyForm>,
    /// The password is kept in a directory: a pointer instead of the form.
    pub password_elsewhere: bool,
    pub password_change_url: Option<String>,
    /// `None` when certificates are not configured.
    pub certificates: Option<Vec<CertificateView>>,
    /// Requests waiting for the person's approval (CIBA).
    pub approvals: Vec<super::signing_views::ApprovalView>,
    /// The approval form asks for the signing service's passphrase (level 4 through it).
    pub approval_passphrase: bool,
    /// A translation key to show at the top, and whether it reports a problem.
    pub message: Option<String>,
    pub message_is_error: bool,
    pub detail: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct CertificateView {
    pub thumbprint: String,
    pub subject: String,
    pub issuer: String,
    /// "YYYY-MM-DD HH:MM UTC".
    pub valid_until: String,
    /// pending, bound, replaced, revoked, expired, removed.
    pub status: String,
}

#[derive(Debug, Default, Serialize)]
pub struct SessionView {
    pub id: String,
    /// "YYYY-MM-DD HH:MM UTC".
    pub started: String,
    /// "level 1" … from the session's `acr`.
    pub level: String,
    pub current: bool,
    pub applications: Vec<String>,
}

/// The TOTP enrollment page: the QR code and form, the recovery codes once, or the status.
#[derive(Debug, Default, Serialize)]
pub struct TotpView {
    pub action: String,
    pub csrf_token: String,
    pub secret: String,
    /// Drawn by Pintu from the otpauth URL (rects and a path only); rendered unescaped.
    pub qr_svg: String,
    pub error: Option<String>,
    pub recovery_codes: Vec<String>,
    pub enrolled: bool,
    pub recovery_codes_left: i64,
}

/// The access-denied page and the way back to the application.
#[derive(Debug, Serialize)]
pub struct DeniedView {
    pub client_name: String,
    /// `policy` (not in the access policy) or `level` (security level out of reach).
    pub reason: &'static str,
    /// For `response_mode=query`: the redirect carrying `error=access_denied`.
    pub return_url: String,
    pub form_post: bool,
    pub redirect_uri: String,
    pub params: Vec<(String, String)>,
}

/// The template environment and message catalogues.
pub struct Views {
    env: Environment<'static>,
    translations: Translations,
    css: String,
}

impl Views {
    /// Loads the theme at `themes_dir/theme`; missing files fall back to the embedded copies.
    pub fn load(themes_dir: &Path, theme: &str) -> Result<Self, String> {
        let dir = themes_dir.join(theme);
        let dir = dir.is_dir().then_some(dir);
        let mut env = Environment::new();
        for (name, embedded) in TEMPLATES {
            let source = dir
                .as_ref()
                .and_then(|d| std::fs::read_to_string(d.join("templates").join(name)).ok())
                .unwrap_or_else(|| embedded.to_owned());
            env.add_template_owned(name.to_owned(), source).map_err(|e| format!("template {name}: {e}"))?;
        }
        let css = dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("static").join("pintu.css")).ok())
            .unwrap_or_else(|| DEFAULT_CSS.to_owned());
        let translations = Translations::load(dir.as_deref())?;
        Ok(Self { env, translations, css })
    }

    /// One message of the catalogue (for answers that are not pages); the key if missing.
    pub fn message(&self, lang: &str, key: &str) -> String {
        self.translations.catalogue(lang).and_then(|c| c.get(key)).cloned().unwrap_or_else(|| key.to_owned())
    }

    pub fn css(&self) -> &str {
        &self.css
    }

    /// Renders `template` in `lang` with `view` as `v` and the catalogue as `t`.
    pub fn render<V: Serialize>(&self, template: &str, lang: &str, view: &V) -> Result<String, minijinja::Error> {
        let ctx = minijinja::context! {
            v => minijinja::Value::from(minijinja::value::Serde(view)),
            t => minijinja::Value::from(minijinja::value::Serde(self.translations.catalogue(lang))),
            lang => lang,
        };
        self.env.get_template(template)?.render(ctx)
    }
}

/// The printable monthly report: each row with the width of its bar (logins, out of the
/// largest), so the page draws its charts as SVG without scripts or inline styles.
#[derive(Serialize)]
pub struct PeriodicReportView {
    pub period: String,
    /// `YYYY-MM-DD HH:MM` at the report's UTC offset.
    pub from: String,
    pub to: String,
    pub utc_offset_hours: i32,
    pub accounts: i64,
    pub units: Vec<ReportLineView>,
    pub applications: Vec<ReportLineView>,
    pub totals: ReportLineView,
    /// Logins at each security level, 1-4, with the bar width of each.
    pub levels: Vec<(u8, i64, u32)>,
}

#[derive(Serialize)]
pub struct ReportLineView {
    pub key: String,
    pub name: String,
    pub active_users: i64,
    pub logins: i64,
    pub failures: i64,
    pub levels: [i64; 4],
    /// 0-300: the bar of `logins` against the largest row.
    pub bar: u32,
}

impl PeriodicReportView {
    pub fn new(r: &crate::directory::PeriodicReport) -> Self {
        let most = |lines: &[crate::directory::PeriodicLine]| lines.iter().map(|l| l.logins).max().unwrap_or(0);
        let line = |l: &crate::directory::PeriodicLine, most: i64| ReportLineView {
            key: l.key.clone(),
            name: l.name.clone(),
            active_users: l.active_users,
            logins: l.logins,
            failures: l.failures,
            levels: [l.level_1, l.level_2, l.level_3, l.level_4],
            bar: bar(l.logins, most),
        };
        let (units_most, apps_most) = (most(&r.by_unit), most(&r.by_application));
        let t = &r.totals;
        let level_counts = [t.level_1, t.level_2, t.level_3, t.level_4];
        let level_most = level_counts.iter().copied().max().unwrap_or(0);
        let when = |at: i64| {
            let local = at + i64::from(r.utc_offset_hours) * 3600;
            let d = crate::domain::nip::Date::from_unix(local);
            let secs = local.rem_euclid(86_400);
            format!("{:04}-{:02}-{:02} {:02}:{:02}", d.year, d.month, d.day, secs / 3600, secs % 3600 / 60)
        };
        Self {
            period: r.period.clone(),
            from: when(r.from),
            to: when(r.to),
            utc_offset_hours: r.utc_offset_hours,
            accounts: r.accounts,
            units: r.by_unit.iter().map(|l| line(l, units_most)).collect(),
            applications: r.by_application.iter().map(|l| line(l, apps_most)).collect(),
            totals: line(t, t.logins),
            levels: (1u8..=4).zip(level_counts).map(|(n, c)| (n, c, bar(c, level_most))).collect(),
        }
    }
}

fn bar(value: i64, most: i64) -> u32 {
    if most <= 0 { 0 } else { u32::try_from(value.clamp(0, most) * 300 / most).unwrap_or(0) }
}
