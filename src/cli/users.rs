//! `pintu admin user …`: accounts through the directory service, with its validation, its
//! login-name namespace and its audit event in the same transaction.

use anyhow::bail;

use pintu::app::App;
use pintu::authn::generate_password;
use pintu::directory::{AccountExtras, Actor, UserInput};
use pintu::domain::UserStatus;

use super::args::{UserCommand, UserCreate};
use super::{print_json, refused_dir};

pub async fn run(app: &App, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create(args) => create_user(app, args).await,
        UserCommand::List => list_users(app).await,
        UserCommand::Disable { user } => set_disabled(app, &user, true).await,
        UserCommand::Enable { user } => set_disabled(app, &user, false).await,
        UserCommand::Conflicts => conflicts(app).await,
    }
}

async fn create_user(app: &App, args: UserCreate) -> anyhow::Result<()> {
    let (password, generated) = match (&args.password_file, args.generate_password) {
        (Some(path), false) => (super::directory::read_password(Some(path))?.unwrap_or_default(), false),
        (None, true) => (generate_password(), true),
        _ => bail!("give exactly one of --password-file or --generate-password"),
    };
    let input = UserInput {
        username: Some(args.username.clone()),
        name: args.name.unwrap_or_else(|| args.username.clone()),
        email: args.email,
        phone: args.phone,
        password: Some(password.clone()),
        ..Default::default()
    };
    let extras = AccountExtras { is_admin: args.admin, given_name: args.given_name, family_name: args.family_name };
    let created = app.state.directory.create_account(&Actor::cli(), &input, &extras).await.map_err(refused_dir)?;
    let username = created.fields.username.as_deref().unwrap_or_default();
    println!("created user {username} ({})", created.id);
    if generated {
        println!("password (shown once): {password}");
    }
    Ok(())
}

/// Every account as JSON, like every directory command.
async fn list_users(app: &App) -> anyhow::Result<()> {
    let accounts = app.state.directory.list_accounts(&Actor::cli()).await.map_err(refused_dir)?;
    let rows: Vec<_> = accounts
        .iter()
        .map(|u| {
            serde_json::json!({
                "id": u.id.as_str(),
                "username": u.username,
                "email": u.email,
                "email_verified": u.email_verified,
                "admin": u.is_admin,
                "status": if u.disabled { "disabled" } else { u.profile.status.as_str() },
            })
        })
        .collect();
    print_json(&rows)
}

async fn set_disabled(app: &App, user: &str, disabled: bool) -> anyhow::Result<()> {
    let status = if disabled { UserStatus::Suspended } else { UserStatus::Active };
    app.state.directory.set_status(&Actor::cli(), user, status).await.map_err(refused_dir)?;
    println!("user {user} {}", if disabled { "disabled; sessions and tokens revoked" } else { "enabled" });
    Ok(())
}

async fn conflicts(app: &App) -> anyhow::Result<()> {
    let found = app.state.directory.login_conflicts(&Actor::cli()).await.map_err(refused_dir)?;
    if !found.is_empty() {
        print_json(&found)?;
        bail!(
            "{} login name(s) shared by two accounts; a login resolves each to the username first, then the \
             e-mail, then the NIP: change one side of each",
            found.len()
        );
    }
    println!("no conflicts: every login name names one account");
    Ok(())
}

/// `pintu admin activation` arguments.
#[derive(clap::Args)]
pub struct ActivationArgs {
    /// One person: id, username, e-mail or NIP.
    #[arg(long, conflicts_with = "unit", required_unless_present = "unit")]
    user: Option<String>,
    /// A unit's code: everyone active in it and its sub-units.
    #[arg(long)]
    unit: Option<String>,
    /// How long the codes work, in days (1-90).
    #[arg(long)]
    days: Option<u32>,
    /// Write the printable letters (HTML, one page each, sorted by unit) to this file.
    #[arg(long)]
    letters: Option<std::path::PathBuf>,
    /// The letters' language: id (default) or en.
    #[arg(long, default_value = "id")]
    lang: String,
}

/// `pintu admin activation`: codes for one person or a unit, shown once (JSON on stdout), and
/// the printable letters when `letters` names a file (written with mode 0600: they hold the
/// codes).
pub async fn activation(app: &App, args: ActivationArgs) -> anyhow::Result<()> {
    use pintu::directory::ActivationTarget;
    let ActivationArgs { user, unit, days, letters, lang } = args;
    let lang = lang.as_str();
    if !matches!(lang, "id" | "en") {
        bail!("--lang must be id or en");
    }
    let target = match (user, unit) {
        (Some(user), None) => ActivationTarget::Person(user),
        (None, Some(unit)) => ActivationTarget::Unit(unit),
        _ => bail!("give exactly one of --user and --unit"),
    };
    let codes = app.state.directory.issue_activation(&Actor::cli(), &target, days).await.map_err(refused_dir)?;
    if let Some(path) = letters {
        let issuer = &app.state.oidc.config().issuer;
        let html =
            pintu::web::activation::letters(&app.state.views, lang, issuer, &codes).map_err(anyhow::Error::msg)?;
        use std::io::Write;
        let mut file = super::private_file(&path, false)?;
        file.write_all(html.as_bytes()).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    print_json(&serde_json::json!({ "items": codes }))
}
