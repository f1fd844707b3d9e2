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
