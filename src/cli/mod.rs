//! The command line, all of it: `pintu serve|migrate`, `pintu admin user|app|registration-token`
//! and the directory's commands, `pintu audit`. Every command builds the app and calls its
//! services (the directory, applications, OIDC), never the store; results go to stdout (secrets
//! exactly once), failures to stderr with a non-zero exit.

mod apps;
mod args;
mod directory;
mod users;

use std::sync::Arc;

use pintu::app::App;
use pintu::clock::{SharedClock, SystemClock};
use pintu::config::Config;
use pintu::directory::DirectoryError;
use pintu::oidc::OAuthError;

pub use args::Cli;
use args::{AdminCommand, Command};

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An operator-facing error: the protocol code and description, and for internal failures the
/// cause (the operator needs it; a client would never see it).
pub(crate) fn refused(e: OAuthError) -> anyhow::Error {
    match e.cause {
        Some(cause) => anyhow::anyhow!("{}: {cause}", e.description),
        None => anyhow::anyhow!("{}: {}", e.code.as_str(), e.description),
    }
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
    }
}

async fn admin(app: &App, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::User(cmd) => users::run(app, cmd).await,
        AdminCommand::App(cmd) => apps::run(app, cmd).await,
        AdminCommand::Directory(cmd) => directory::run(app, cmd).await,
        AdminCommand::RegistrationToken { description, ttl_secs } => {
            apps::registration_token(app, &description, ttl_secs).await
        }
    }
}
