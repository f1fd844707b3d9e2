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
    let ansi = ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()), std::env::var_os("NO_COLOR"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}

/// Colour codes only on a terminal, and not there either when NO_COLOR is set to something
/// (no-color.org): a log file or the journal gets plain text.
fn ansi(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::ansi;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(ansi(true, None));
        assert!(!ansi(true, Some("1".into())));
        assert!(ansi(true, Some("".into())), "an empty NO_COLOR does not count");
        assert!(!ansi(false, None));
    }
}
