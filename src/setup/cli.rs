//! `soc-tui setup` and `soc-tui doctor [--json]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::report::DoctorReport;
use crate::config::{Config, ConfigError};
use crate::paths::Paths;
use crate::secrets::Resolver;

/// Exit code when a configured service fails its check.
pub const EXIT_CHECK_FAILED: u8 = 2;

#[derive(Debug, Args)]
#[command(after_help = "\
Statuses: ok, not configured (the service is not used; the fix names the keys to set), \
unreachable (DNS, connection, TLS or timeout; the URL is shown), not authenticated (no \
credential, or the service refused it: `soc-tui auth set <name>` or its environment variable), \
permission missing (the credential lacks a permission the service names), misconfigured (the \
account, space, team, bucket, dataset or model in the config does not exist), failed (5xx, rate \
limit, malformed answer).

What is read: Cloudflare audit logs of the last minute per account (1 entry), Datadog audit \
events of the last minute (1 event), the Confluence space by key (and the parent page), Linear \
`teams`, S3 HeadBucket (or a test write in the local archive directory), the Axiom dataset's \
description, PagerDuty GET /services/{id} with a REST key; an Events v2 routing key has no read \
request, so only its presence and shape are checked. Remote LLM agents get a tiny fixed prompt \
and their answer is validated like an investigation's.

Exit status: 0 when every configured service works, 2 when one does not, 1 when the checks \
could not run (unreadable or invalid config).")]
pub struct DoctorArgs {
    /// Print a JSON document instead of the table: {schema, config, failed,
    /// checks: [{service, target, status, detail, fix}]}, status being one of
    /// ok, not_configured, unreachable, not_authenticated, permission_missing,
    /// misconfigured, failed.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Asks, per service: Cloudflare account ids; Datadog site (or API base URL); Confluence base \
URL, space key, parent page and account email; Linear team (its key such as SEC is looked up \
and stored as the team's id); PagerDuty on/off and the routing key name; S3 bucket, region and \
endpoint; Axiom dataset. Then each service's secrets, without echo (read as lines from stdin when \
it is not a terminal), stored in the OS keychain like `soc-tui auth set`.

Enter keeps the value shown in [brackets], `-` clears an optional value, `skip` leaves the whole \
service as it is, so re-running it on a configured install is safe. The config file keeps its \
comments and other keys; it is written once at the end, validated, atomically and readable by \
you only (a missing file starts from the `soc-tui config init` example). Finally the doctor's \
checks run and their report is printed.

Exit status: 0 when every configured service works afterwards, 2 when one does not, 1 when the \
wizard stopped (input ended, invalid existing config, unwritable file).")]
pub struct SetupArgs {}

pub fn run_doctor(args: DoctorArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let (config, missing) = match Config::load(&paths.config_file) {
        Ok(config) => (config, false),
        Err(ConfigError::NotFound { .. }) => (Config::default(), true),
        Err(other) => return Err(other.into()),
    };
    let report = super::doctor(
        &config,
        &paths.config_file,
        &Resolver::system(),
        &paths.data_dir,
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        let text = crate::terminal_json::to_terminal_json(&report.json())
            .context("rendering the report as JSON")?;
        writeln!(out, "{text}").context("writing the report")?;
    } else {
        if missing {
            writeln!(
                out,
                "config: {} does not exist, so nothing is configured; `soc-tui setup` creates it\n",
                paths.config_file.display()
            )?;
        } else {
            writeln!(out, "config: {}\n", paths.config_file.display())?;
        }
        write!(out, "{}", report.table()).context("writing the report")?;
    }
    Ok(exit_code(&report))
}

pub fn run_setup(_args: SetupArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let outcome = super::run_wizard(paths)?;
    Ok(exit_code(&outcome.report))
}

fn exit_code(report: &DoctorReport) -> ExitCode {
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CHECK_FAILED)
    }
}
