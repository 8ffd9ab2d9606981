//! Command-line entry point: global options and subcommand dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::paths::Paths;

#[derive(Debug, Parser)]
#[command(
    name = "soc-tui",
    version,
    about = "Terminal SOC console over Cloudflare and Datadog audit logs",
    arg_required_else_help = true
)]
pub struct Cli {
    /// Config file (default: the platform config dir's soc-tui/config.toml).
    #[arg(long, global = true, env = "SOC_TUI_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Data directory holding the store and logs (default: the platform data dir).
    #[arg(long, global = true, env = "SOC_TUI_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load raw audit events (JSON page, JSON array or NDJSON; Cloudflare or Datadog) into the store.
    Ingest(crate::ingest::IngestArgs),
    /// Read new audit events from Cloudflare or Datadog once, store them, and print a summary.
    Poll(crate::sources::poll::cli::PollArgs),
    /// Create, check and locate the config file.
    #[command(subcommand)]
    Config(crate::config::ConfigCommand),
    /// Store, inspect and delete service credentials (OS keychain).
    #[command(subcommand)]
    Auth(crate::secrets::AuthCommand),
    /// Validate and print the detection rules (thresholds, allow-lists, suppressions).
    #[command(subcommand)]
    Rules(crate::detect::rules::RulesCommand),
    /// Investigate an actor around a time and store a draft report.
    Investigate(crate::investigate::cli::InvestigateArgs),
    /// List, show and approve investigation draft reports.
    #[command(subcommand)]
    Report(crate::investigate::cli::ReportCommand),
    /// Run the anomaly webhook receiver, or sign a test request.
    #[command(subcommand)]
    Webhook(crate::webhook::WebhookCommand),
    /// Run the scheduled checks without a terminal until Ctrl-C or SIGTERM.
    Daemon(crate::engine::cli::DaemonArgs),
    /// Run one check (baseline, bursts or tokens) now and print its findings.
    Check(crate::engine::cli::CheckArgs),
    /// Replay historical events through all checks and print what would have fired.
    Replay(crate::replay::ReplayArgs),
    /// Maintain the local store (rebuild derived aggregates).
    #[command(subcommand)]
    Store(crate::store_cmd::StoreCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(cli.config, cli.data_dir)?;
    match cli.command {
        Command::Ingest(args) => {
            init_logging(&paths);
            crate::ingest::run(args, &paths)
        }
        Command::Poll(args) => {
            init_logging(&paths);
            crate::sources::poll::cli::run(args, &paths)
        }
        Command::Config(cmd) => crate::config::run(cmd, &paths).map(|()| ExitCode::SUCCESS),
        Command::Auth(cmd) => {
            init_logging(&paths);
            crate::secrets::run(cmd).map(|()| ExitCode::SUCCESS)
        }
        Command::Rules(cmd) => crate::detect::rules::run(cmd, &paths).map(|()| ExitCode::SUCCESS),
        Command::Investigate(args) => {
            init_logging(&paths);
            crate::investigate::cli::run_investigate(args, &paths)
        }
        Command::Report(cmd) => {
            init_logging(&paths);
            crate::investigate::cli::run_report(cmd, &paths)
        }
        Command::Webhook(cmd) => {
            init_logging(&paths);
            crate::webhook::cli::run(cmd, &paths)
        }
        Command::Daemon(args) => {
            init_logging(&paths);
            crate::engine::cli::run_daemon(args, &paths)
        }
        Command::Check(args) => {
            init_logging(&paths);
            crate::engine::cli::run_check(args, &paths)
        }
        Command::Replay(args) => {
            init_logging(&paths);
            crate::replay::run(args, &paths)
        }
        Command::Store(cmd) => {
            init_logging(&paths);
            crate::store_cmd::run(cmd, &paths).map(|()| ExitCode::SUCCESS)
        }
    }
}

/// Logging is best effort: a read-only data dir must not stop a command.
fn init_logging(paths: &Paths) {
    if let Err(err) = paths
        .ensure_data_dir()
        .and_then(|_| crate::logging::init(&paths.log_dir()))
    {
        eprintln!("warning: logging disabled: {err:#}");
    }
}
