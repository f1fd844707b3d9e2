//! The command line, all of it: `pintu serve|migrate`, `pintu admin user|app|registration-token`
//! and the directory's commands, `pintu audit`. Every command builds the app and calls its
//! services (the directory, applications, OIDC), never the store; results go to stdout (secrets
//! exactly once), failures to stderr with a non-zero exit. `check_arguments` refuses control
//! characters in every argument of every command before clap reads them.

mod apps;
mod args;
mod backup;
mod certificates;
mod directory;
mod ldap;
mod reports;
mod saml;
mod signing;
mod users;

use std::ffi::OsString;
use std::sync::Arc;

use pintu::app::App;
use pintu::applications::ApplicationError;
use pintu::clock::{SharedClock, SystemClock};
use pintu::config::Config;
use pintu::directory::DirectoryError;
use pintu::domain::text::{TextKind, check_text};

pub use args::Cli;
use args::{AdminCommand, Command, KeysCommand};

/// Options whose value is free text (`domain::text`: TAB and line breaks allowed).
const FREE_TEXT_OPTIONS: &[&str] = &["--description"];

/// Refuses a control character in any argument (`domain::text`): each is one line, except the
/// value of a free-text option. (NUL cannot reach a program through its arguments at all.)
/// `Err` names the argument's position and the character.
pub fn check_arguments(args: impl IntoIterator<Item = OsString>) -> Result<(), String> {
    let mut free_text_next = false;
    for (position, arg) in args.into_iter().enumerate() {
        let arg = arg.to_string_lossy();
        let (option, inline) = match arg.split_once('=') {
            Some((option, value)) if option.starts_with("--") => (option, Some(value)),
            _ => (arg.as_ref(), None),
        };
        let kind = |free: bool| if free { TextKind::Multiline } else { TextKind::Line };
        let checked = match inline {
            Some(value) => check_text(TextKind::Line, option)
                .and_then(|()| check_text(kind(FREE_TEXT_OPTIONS.contains(&option)), value)),
            None => check_text(kind(free_text_next), &arg),
        };
        checked.map_err(|e| format!("argument {position} {e}"))?;
        free_text_next = inline.is_none() && FREE_TEXT_OPTIONS.contains(&option);
    }
    Ok(())
}

/// Opens `path` for writing, readable by its owner only (0600): keys and codes go there.
/// `new`: refuse a file that exists; otherwise replace its contents.
pub(crate) fn private_file(path: &std::path::Path, new: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let must = if new { " (it must not exist)" } else { "" };
    options.open(path).map_err(|e| anyhow::anyhow!("cannot create {}{must}: {e}", path.display()))
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A directory error as a message naming every invalid field.
pub(crate) fn refused_dir(e: DirectoryError) -> anyhow::Error {
    match e {
        DirectoryError::Invalid(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|f| match f.line {
                    Some(line) => format!("line {line}: {}: {}", f.field, f.reason),
                    None => format!("{}: {}", f.field, f.reason),
                })
                .collect();
            anyhow::anyhow!("invalid input:\n  {}", lines.join("\n  "))
        }
        DirectoryError::Storage(cause) => anyhow::Error::new(cause).context("storage failed"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// An application service error, in the same words.
pub(crate) fn refused_app(e: ApplicationError) -> anyhow::Error {
    match e {
        ApplicationError::Directory(e) => refused_dir(e),
        ApplicationError::Storage(cause) => anyhow::Error::new(cause).context("storage failed"),
        ApplicationError::InvalidMetadata(m) => anyhow::anyhow!("invalid_client_metadata: {m}"),
        ApplicationError::InvalidRedirectUri(m) => anyhow::anyhow!("invalid_redirect_uri: {m}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Runs one command to completion.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    match command {
        Command::Serve => pintu::app::serve(config, clock).await,
        Command::Migrate => {
            App::build(&config, clock).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            admin(&app, cmd).await
        }
        Command::Audit(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            directory::audit(&app, cmd).await
        }
        Command::Keys(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            keys(&app, cmd, clock.now()).await
        }
        Command::Certificates(cmd) => {
            let app = App::build(&config, clock).await?;
            certificates::run(&app, cmd).await
        }
        Command::Receipt(cmd) => {
            let app = App::build(&config, clock).await?;
            signing::receipt(&app, cmd).await
        }
        Command::Signing(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            signing::signing(&app, cmd, clock.now()).await
        }
        Command::Saml(cmd) => {
            let app = App::build(&config, clock).await?;
            saml::run(&app, cmd).await
        }
        Command::Ldap(cmd) => {
            let app = App::build(&config, clock).await?;
            ldap::run(&app, cmd).await
        }
        Command::Backup(args) => backup::run(args, &config, clock).await,
        // Builds the app only after restoring: before, it would migrate and create keys.
        Command::Restore(args) => backup::restore(args, &config, clock).await,
    }
}

/// `pintu keys …`. A rotation is audited as the command line's; every running node picks it up
/// within a minute (its keyring reloads).
async fn keys(app: &App, cmd: KeysCommand, now: i64) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::List => print_json(&app.rotation.keyring.list().await?),
        KeysCommand::Rotate => print_json(&app.rotation.run(&pintu::domain::ActorId::cli(), now, true).await?),
        KeysCommand::Revoke { kid } => {
            print_json(&app.rotation.revoke(&pintu::domain::ActorId::cli(), &kid, now).await?)
        }
        KeysCommand::RotateKek { prepare } => {
            print_json(&app.rotation.rotate_kek(&pintu::domain::ActorId::cli(), prepare).await?)
        }
    }
}

async fn admin(app: &App, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::User(cmd) => users::run(app, cmd).await,
        AdminCommand::App(cmd) => apps::run(app, cmd).await,
        AdminCommand::Directory(cmd) => directory::run(app, cmd).await,
        AdminCommand::Activation(args) => users::activation(app, args).await,
        AdminCommand::RegistrationToken { description, ttl_secs } => {
            apps::registration_token(app, &description, ttl_secs).await
        }
    }
}
