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
    long_about = "Terminal SOC console over Cloudflare and Datadog audit logs.\n\n\
        Without a subcommand, opens the console on the store in the data dir, with the \
        engine running in this process (in standby when a daemon already runs the checks). \
        `soc-tui demo` shows it against simulated services.\n\n\
        Each workflow (baseline, bursts, tokens, investigation) is off, dry-run or on \
        (`soc-tui workflows`; w in the console); a new install is all dry-run and sends \
        nothing. Every request follows the workflow that caused it, including escalations \
        the analyst publishes by hand from the console: a report's Confluence page follows \
        investigation, its Linear ticket or PagerDuty event the workflow of the finding that \
        started the investigation (else investigation)."
)]
pub struct Cli {
    /// Config file (default: the platform config dir's soc-tui/config.toml).
    #[arg(long, global = true, env = "SOC_TUI_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Data directory holding the store and logs (default: the platform data dir).
    #[arg(long, global = true, env = "SOC_TUI_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Console theme: dark, light, high-contrast, or <config dir>/themes/<NAME>.toml
    /// (default: [ui] theme in the config, else dark).
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_theme)]
    pub theme: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A theme is named, never given as a path.
fn parse_theme(text: &str) -> Result<String, String> {
    if crate::config::is_theme_name(text) {
        Ok(text.to_owned())
    } else {
        Err("a theme name is 1 to 64 characters of a-z, 0-9, `_` and `-`".to_owned())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console against simulated Cloudflare, Datadog, Confluence, Linear and
    /// PagerDuty with a scripted attack (no credentials, loopback only).
    Demo(crate::console::demo::DemoCommand),
    /// Load raw audit events (JSON page, JSON array or NDJSON; Cloudflare or Datadog) into the store.
    Ingest(crate::ingest::IngestArgs),
    /// Read new audit events from Cloudflare or Datadog once, store them, and print a summary.
    Poll(crate::sources::poll::cli::PollArgs),
    /// Create, check, locate and show the config (with each setting's origin); list the prompts.
    #[command(subcommand, after_long_help = crate::config::ENV_HELP)]
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
    /// Run one check now on the store, or one workflow on a sample file (--sample), and print what it does.
    Check(crate::engine::cli::CheckArgs),
    /// Show or switch each workflow's mode: off, dry-run or on.
    Workflows(crate::workflows::cli::WorkflowsArgs),
    /// List the pushes to Linear, PagerDuty, the archive and Confluence; retry, drop or deliver them.
    #[command(subcommand)]
    Outbox(crate::outbox::cli::OutboxCommand),
    /// Replay historical events through all checks and print what would have fired.
    Replay(crate::replay::ReplayArgs),
    /// Maintain the local store (rebuild derived aggregates).
    #[command(subcommand)]
    Store(crate::store_cmd::StoreCommand),
    /// Walk through each service: write the config, store the secrets, then check them.
    Setup(crate::setup::cli::SetupArgs),
    /// Check every configured service with one harmless read and print the fix for each problem.
    Doctor(crate::setup::cli::DoctorArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.as_ref().is_some_and(Command::prints_and_exits) {
        crate::pipe::die_quietly_on_closed_stdout();
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Commands that print a result and exit, as opposed to the console,
    /// the demo, the wizard and the long-running servers.
    fn prints_and_exits(&self) -> bool {
        match self {
            Command::Demo(_) | Command::Daemon(_) | Command::Setup(_) => false,
            Command::Webhook(cmd) => !matches!(cmd, crate::webhook::WebhookCommand::Serve),
            _ => true,
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(cli.config, cli.data_dir)?;
    let Some(command) = cli.command else {
        return crate::console::session::run(&paths, cli.theme);
    };
    match command {
        Command::Demo(args) => crate::console::demo::run(args, &paths, cli.theme),
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
        Command::Workflows(args) => {
            init_logging(&paths);
            crate::workflows::cli::run(args, &paths)
        }
        Command::Outbox(cmd) => {
            init_logging(&paths);
            crate::outbox::cli::run(cmd, &paths)
        }
        Command::Replay(args) => {
            init_logging(&paths);
            crate::replay::run(args, &paths)
        }
        Command::Store(cmd) => {
            init_logging(&paths);
            crate::store_cmd::run(cmd, &paths).map(|()| ExitCode::SUCCESS)
        }
        Command::Setup(args) => {
            init_logging(&paths);
            crate::setup::cli::run_setup(args, &paths)
        }
        Command::Doctor(args) => {
            init_logging(&paths);
            crate::setup::cli::run_doctor(args, &paths)
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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn no_subcommand_is_the_console_and_help_lists_every_subcommand() {
        let cli = Cli::try_parse_from(["soc-tui"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["soc-tui", "--theme", "high-contrast"]).unwrap();
        assert_eq!(cli.theme.as_deref(), Some("high-contrast"));
        let cli = Cli::try_parse_from(["soc-tui", "demo", "--speed", "10", "--keep"]).unwrap();
        let Some(Command::Demo(demo)) = cli.command else {
            panic!("demo expected");
        };
        assert!(demo.keep);
        assert_eq!(demo.demo.speed.get(), 10.0);

        let err = Cli::try_parse_from(["soc-tui", "--theme", "../../etc/x"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a theme name is"), "{err}");

        let help = Cli::command().render_help().to_string();
        for sub in Cli::command().get_subcommands() {
            assert!(
                help.contains(sub.get_name()),
                "{} missing from {help}",
                sub.get_name()
            );
        }
        assert!(help.contains("demo") && help.contains("daemon"), "{help}");
    }
}
