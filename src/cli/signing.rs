//! `pintu receipt verify FILE` and `pintu signing report`: transaction signing from the command
//! line, through the same service as the API.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use pintu::app::App;
use pintu::directory::Actor;

use super::print_json;

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Verify a signing receipt (the JWS in FILE): Pintu's signature on it (with this
    /// installation's keys, or the JWK Set in --jwks), then every signature it carries against
    /// its digest and the trusted CAs. Exits non-zero when anything does not hold.
    Verify {
        file: PathBuf,
        /// A JWK Set file (the issuer's /oauth2/jwks) to verify with instead of the local keys.
        #[arg(long)]
        jwks: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum SigningCommand {
    /// Transactions per OPD and application over a period: signed, declined, failed, level.
    Report {
        /// Unix seconds, inclusive (default: 30 days before --to).
        #[arg(long)]
        from: Option<i64>,
        /// Unix seconds, exclusive (default: now).
        #[arg(long)]
        to: Option<i64>,
        /// json (default) or csv.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

pub async fn receipt(app: &App, cmd: ReceiptCommand) -> anyhow::Result<()> {
    match cmd {
        ReceiptCommand::Verify { file, jwks } => {
            let token = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let jwks = match jwks {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    Some(serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?)
                }
                None => None,
            };
            let check = app.state.oidc.signing().verify_receipt(token.trim(), jwks.as_ref());
            print_json(&check)?;
            if !check.valid {
                anyhow::bail!("the receipt does not verify: {}", check.problems.join("; "));
            }
            Ok(())
        }
    }
}

pub async fn signing(app: &App, cmd: SigningCommand, now: i64) -> anyhow::Result<()> {
    match cmd {
        SigningCommand::Report { from, to, format } => {
            let to = to.unwrap_or(now + 1);
            let from = from.unwrap_or(to.saturating_sub(30 * 86_400));
            if from < 0 || from >= to {
                anyhow::bail!("--from must be before --to (unix seconds)");
            }
            let reach = app.state.directory.reach(&Actor::cli()).await?;
            let report = app.state.oidc.signing().report(from, to, |u| reach.covers(u)).await?;
            match format.as_str() {
                "json" => print_json(&report),
                "csv" => {
                    print!("{}", report.to_csv());
                    Ok(())
                }
                other => anyhow::bail!("--format must be json or csv, not {other}"),
            }
        }
    }
}
