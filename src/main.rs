//! The `pintu` command: parse arguments, load configuration, set up logging, run. The command
//! line itself lives in `cli/`.
#![allow(clippy::print_stdout)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

use pintu::config::{Config, LogFormat, RawConfig};

fn main() -> ExitCode {
    if let Err(e) = cli::check_arguments(std::env::args_os()) {
        eprintln!("pintu: {e}");
        return ExitCode::from(2);
    }
    let cli = cli::Cli::parse();
    let config = match RawConfig::load(cli.config.as_deref()).and_then(RawConfig::validate) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("pintu: the configuration is invalid:");
            for e in errors {
                eprintln!("  - {e}");
            }
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pintu: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pintu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The configured filter, quietening the database driver's chatter (`storage` names it) unless
/// the filter already says something about the driver.
fn log_filter(level: &str) -> String {
    match level.contains("sqlx") {
        true => level.to_owned(),
        false => format!("{level},{}", pintu::storage::QUIET_DRIVER_LOGS),
    }
}

fn init_tracing(config: &Config) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(log_filter(&config.log.level)).unwrap_or_else(|_| "info".into());
    // Colour codes only on a terminal, and not there either when NO_COLOR is set (no-color.org):
    // a log file or the journal gets plain text.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !no_color;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}
