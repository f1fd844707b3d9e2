//! `pintu ldap sync|status|test`: the LDAP federation from the command line, as the office.

use pintu::app::App;
use pintu::directory::Actor;
use pintu::federation::ldap::SyncMode;

use clap::Subcommand;

use super::print_json;

#[derive(Subcommand)]
pub enum LdapCommand {
    /// Read a directory and list every change and problem (a dry run); with --apply, carry
    /// the changes out (in one transaction). Exits 1 when the run failed or was refused.
    Sync {
        /// The directory ([ldap.<name>] in the configuration); optional when only one is configured.
        #[arg(long)]
        directory: Option<String>,
        #[arg(long)]
        apply: bool,
        /// This run's leaver limit (0-100), instead of the directory's max_retire_percent: for
        /// a run whose dry run shows that many people really left.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        max_retire_percent: Option<u8>,
    },
    /// Each directory's last sync (time, counts, problems) and reachability, as JSON.
    Status,
    /// Connect, bind as the service account and count the people and groups found.
    Test {
        #[arg(long)]
        directory: Option<String>,
    },
}

pub async fn run(app: &App, cmd: LdapCommand) -> anyhow::Result<()> {
    let federation = &app.federation;
    match cmd {
        LdapCommand::Sync { directory, apply, max_retire_percent } => {
            let name = pick(&federation.names(), directory)?;
            let mode = if apply { SyncMode::Apply } else { SyncMode::DryRun };
            let run = federation.sync_with_limit(&Actor::cli(), &name, mode, max_retire_percent).await?;
            print_json(&run)?;
            match run.outcome.as_str() {
                "failed" => anyhow::bail!("the sync of {name} failed: {}", run.error.unwrap_or_default()),
                "refused" => anyhow::bail!("the sync of {name} was not applied: see \"refused\" above"),
                _ => Ok(()),
            }
        }
        LdapCommand::Status => print_json(&federation.status().await?),
        LdapCommand::Test { directory } => {
            let name = pick(&federation.names(), directory)?;
            let tested = federation.test(&name).await;
            print_json(&tested.map_err(|e| anyhow::Error::new(e).context(format!("directory {name}")))?)
        }
    }
}

/// The directory named, or the only one configured.
fn pick(names: &[String], asked: Option<String>) -> anyhow::Result<String> {
    match (asked, names) {
        (Some(name), _) => Ok(name),
        (None, [only]) => Ok(only.clone()),
        (None, []) => anyhow::bail!("no LDAP directory is configured (add an [ldap.<name>] section)"),
        (None, _) => {
            anyhow::bail!("several directories are configured; name one with --directory ({})", names.join(", "))
        }
    }
}
