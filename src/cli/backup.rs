//! `pintu backup …` and `pintu restore`: archives of the whole installation (src/backup/).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use pintu::app::App;
use pintu::audit::{AdminChange, AuditEvent};
use pintu::backup::{self, Protection, RestoreRequest, Unlock};
use pintu::clock::SharedClock;
use pintu::config::Config;
use pintu::domain::ActorId;
use secrecy::ExposeSecret;

use super::print_json;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: Option<BackupAction>,
    /// Write the archive here (a file that must not exist yet, e.g. on an external disk).
    #[arg(long)]
    pub to: Option<PathBuf>,
    /// Encrypt to this age public key (age1…); repeat for several. The private key stays
    /// off the server.
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
    /// Encrypt with the passphrase in this file (its first line; /dev/stdin to pipe it).
    #[arg(long, conflicts_with = "recipients")]
    pub passphrase_file: Option<PathBuf>,
    /// Leave the key-encryption key out of the archive (then a restore needs it separately).
    #[arg(long)]
    pub without_kek: bool,
    /// Use about a third of the CPU (about three times as long), leaving the rest to a server
    /// running beside it; scheduled backups always do.
    #[arg(long)]
    pub gentle: bool,
}

#[derive(Subcommand)]
pub enum BackupAction {
    /// Read a whole archive and check it (counts, hashes, version) without restoring it.
    Verify(OpenArgs),
    /// The last backup and the last that succeeded, as JSON.
    Status,
    /// Make an age key pair: the private key into a new file (keep it off the server), the
    /// public key (for [backup] recipients or --recipient) printed.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
}

/// How to open an archive.
#[derive(Args)]
pub struct OpenArgs {
    /// The archive.
    pub archive: PathBuf,
    /// An age identity file (AGE-SECRET-KEY-1… lines).
    #[arg(long, conflicts_with = "passphrase_file")]
    pub identity: Option<PathBuf>,
    /// The passphrase, in this file (first line; /dev/stdin to pipe it).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub open: OpenArgs,
    /// Replace everything the database holds (refused otherwise unless it is empty).
    #[arg(long)]
    pub force: bool,
}

impl OpenArgs {
    fn unlock(&self) -> anyhow::Result<Unlock> {
        match (&self.identity, &self.passphrase_file) {
            (Some(path), _) => Ok(Unlock::identity_file(path)?),
            (None, Some(path)) => Ok(Unlock::Passphrase(backup::read_passphrase(path)?)),
            (None, None) => anyhow::bail!("give --identity FILE or --passphrase-file FILE to open the archive"),
        }
    }
}

pub async fn run(args: BackupArgs, config: &Config, clock: SharedClock) -> anyhow::Result<()> {
    match (args.action, &args.to) {
        (Some(BackupAction::Verify(open)), _) => {
            let unlock = open.unlock()?;
            let path = open.archive.clone();
            let (report, _) = tokio::task::spawn_blocking(move || backup::verify(&path, &unlock)).await??;
            print_json(&report)
        }
        (Some(BackupAction::Keygen { out }), _) => keygen(&out),
        (Some(BackupAction::Status), _) => {
            let app = App::build(config, clock).await?;
            let (last, last_success) = app.backups.latest().await?;
            print_json(&serde_json::json!({ "last": last, "last_success": last_success }))
        }
        (None, Some(to)) => {
            let protection = if !args.recipients.is_empty() {
                Protection::recipients(&args.recipients)?
            } else if let Some(path) = &args.passphrase_file {
                Protection::Passphrase(backup::read_passphrase(path)?)
            } else {
                backup::configured_protection(&config.backup)?.context(
                    "give --recipient age1… or --passphrase-file FILE (or set [backup] recipients or passphrase_file)",
                )?
            };
            let app = App::build(config, clock.clone()).await?;
            // `[backup] include_kek = false` holds for the command line too.
            let include_kek = !args.without_kek && config.backup.include_kek;
            let options = backup::TakeOptions { include_kek, gentle: args.gentle };
            let report = app.backups.take(to, protection, options, "command", clock.now()).await?;
            print_json(&report)
        }
        (None, None) => anyhow::bail!("give --to PATH (or a subcommand: verify, status, keygen)"),
    }
}

pub async fn restore(args: RestoreArgs, config: &Config, clock: SharedClock) -> anyhow::Result<()> {
    let request = RestoreRequest {
        archive: args.open.archive.clone(),
        unlock: args.open.unlock()?,
        database_url: config.database_url.expose_secret(),
        keys_dir: &config.keys_dir,
        configured_kek: config.kek.as_ref(),
        force: args.force,
    };
    let report = backup::restore(request).await?;
    // The restored chain records the restore itself (from which archive, taken when).
    let app = App::build(config, clock).await?;
    let detail = serde_json::to_value(&report)?;
    let target = args.open.archive.display().to_string();
    let event = AuditEvent::admin(&ActorId::cli(), AdminChange::Restore, &target, None, detail);
    app.state.directory.audit().record(event).await?;
    print_json(&report)
}

fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    let (identity, public) = backup::generate_key();
    let mut file = super::private_file(out, true)?;
    use std::io::Write;
    writeln!(file, "# public key: {public}\n{}", identity.expose_secret())?;
    file.sync_all()?;
    println!("{public}");
    Ok(())
}
