//! `pintu certificates add|list|remove|check|report`: electronic certificates from the command
//! line, as the office, through the same services as the admin API.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use pintu::app::App;
use pintu::certificates::{AddedBy, CertProblem};
use pintu::directory::Actor;
use pintu::domain::ActorId;

use super::print_json;

#[derive(Subcommand)]
pub enum CertificatesCommand {
    /// Add a certificate (PEM with its chain, or DER) to a person (id, username, e-mail or NIP);
    /// it counts once the person proves possession at a level-4 sign-in.
    Add {
        user: String,
        #[arg(long)]
        file: PathBuf,
        /// Bind it although it does not carry the person's NIP, NIK or e-mail (audited).
        #[arg(long)]
        approve: bool,
    },
    /// A person's certificates with their history, as JSON.
    List { user: String },
    /// Remove a certificate's binding (its sessions at level 4 end; its history stays).
    Remove { user: String, thumbprint: String },
    /// Check every bound certificate now (expiry, revocation), as the background job does.
    Check,
    /// Certificates per OPD: bound, expiring, expired, revoked, people without one.
    Report {
        #[arg(long)]
        expiring_days: Option<u32>,
        /// json (default) or csv.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

pub async fn run(app: &App, cmd: CertificatesCommand) -> anyhow::Result<()> {
    let certificates = &app.state.sso.certificates;
    let directory = &app.state.directory;
    if !certificates.enabled() {
        anyhow::bail!("electronic certificates are not configured (set [certificates] trust_anchors)");
    }
    let person = |user: String| async move {
        directory.person_in_reach(&Actor::cli(), &user).await.with_context(|| format!("user {user}"))
    };
    match cmd {
        CertificatesCommand::Add { user, file, approve } => {
            let person = person(user).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let by = AddedBy::Admin { actor: ActorId::cli(), approve };
            let added = certificates.add(&person, &bytes, &by).await.map_err(refused)?;
            print_json(&added)
        }
        CertificatesCommand::List { user } => {
            let person = person(user).await?;
            print_json(&certificates.list(&person).await.map_err(refused)?)
        }
        CertificatesCommand::Remove { user, thumbprint } => {
            let person = person(user).await?;
            certificates.remove(&person, &thumbprint, &ActorId::cli()).await.map_err(refused)?;
            println!("certificate {thumbprint} removed");
            Ok(())
        }
        CertificatesCommand::Check => {
            let summary = certificates.check_all(i64::MAX, certificates.config().expiry_notice_days).await?;
            print_json(&summary)
        }
        CertificatesCommand::Report { expiring_days, format } => {
            let days = expiring_days.unwrap_or(certificates.config().expiry_notice_days);
            if !(1..=365).contains(&days) {
                anyhow::bail!("--expiring-days must be 1 to 365");
            }
            let report = certificates.report(days, |_| true).await?;
            match format.as_str() {
                "json" => print_json(&report),
                "csv" => {
                    print!("{}", report.to_csv());
                    Ok(())
                }
                other => anyhow::bail!("--format {other}: use json or csv"),
            }
        }
    }
}

/// A refused certificate, in the words the admin API uses.
fn refused(e: CertProblem) -> anyhow::Error {
    anyhow::anyhow!("refused ({}): {e}", e.code())
}
