//! `soc-tui poll cloudflare|datadog`: one poll, then a summary.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::{Args, ValueEnum};

use crate::config::{Config, HumanDuration};
use crate::detect::Rules;
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::secrets::{Credential, require};
use crate::store::Store;

use super::{PollOptions, PollReport, cloudflare_poller, datadog_poller};

#[derive(Debug, Args)]
#[command(after_help = "\
Without --since/--until a poll reads from the last checkpoint minus `poll_overlap` (or, the first time,
`initial_lookback` back) up to now minus `settle_delay`, stores the events and moves the checkpoint in the
same transaction. TIME is RFC3339 (2026-11-21T08:00:00Z), a date (2026-11-21, midnight UTC) or a duration
ago (90m, 2h, 1d).

Exit status: 0 when every target was read, 1 when one failed (the summary says which and why; what was
stored before the failure stays stored, with its checkpoint).")]
pub struct PollArgs {
    /// Which audit log to read.
    #[arg(value_enum)]
    pub service: PollService,

    /// Read from this time instead of the checkpoint. Later than the
    /// checkpoint, the checkpoint does not move (that would skip the gap).
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub since: Option<TimeArg>,

    /// Read up to this time instead of now minus the settle delay.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub until: Option<TimeArg>,

    /// Only this actor's events (an investigation). Stored, but checkpoints do not move.
    #[arg(long, value_name = "EMAIL")]
    pub actor: Option<String>,

    /// Fetch and parse, but store nothing and leave checkpoints alone.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PollService {
    Cloudflare,
    Datadog,
}

/// A `--since`/`--until` value, resolved against "now" when the poll starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    At(DateTime<Utc>),
    Ago(TimeDelta),
}

impl TimeArg {
    fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimeArg::At(at) => at,
            TimeArg::Ago(ago) => now - ago,
        }
    }
}

fn parse_time_arg(text: &str) -> Result<TimeArg, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(TimeArg::At(at.with_timezone(&Utc)));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(TimeArg::At(day.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    HumanDuration::try_from(text.to_owned())
        .ok()
        .and_then(|ago| TimeDelta::from_std(ago.get()).ok())
        .map(TimeArg::Ago)
        .ok_or_else(|| {
            "expected an RFC3339 time (2026-11-21T08:00:00Z), a date (2026-11-21) or a duration \
             ago (90m, 2h, 1d)"
                .to_owned()
        })
}

pub fn run(args: PollArgs, paths: &Paths) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    let now = Utc::now();
    let options = PollOptions {
        now,
        since: args.since.map(|t| t.resolve(now)),
        until: args.until.map(|t| t.resolve(now)),
        actor: args.actor.clone(),
        dry_run: args.dry_run,
    };
    if let (Some(since), Some(until)) = (options.since, options.until)
        && since >= until
    {
        bail!("--since must be earlier than --until");
    }
    paths.ensure_data_dir()?;
    let store_file = paths.store_file();
    let mut store = Store::open(&store_file)
        .with_context(|| format!("opening the store {}", store_file.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    let report = match args.service {
        PollService::Cloudflare => {
            let rules = token_rules(paths)?;
            let poller = cloudflare_poller(&config, rules, || {
                Ok(require(Credential::CloudflareToken)?.0)
            })?;
            runtime.block_on(poller.poll(&mut store, &options))
        }
        PollService::Datadog => {
            let poller = datadog_poller(&config, || {
                let api_key = require(Credential::DatadogApiKey)?.0;
                let app_key = require(Credential::DatadogAppKey)?.0;
                Ok((api_key, app_key))
            })?;
            runtime.block_on(poller.poll(&mut store, &options))
        }
    };
    print_report(&report, args.json)?;
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The watchdog's rules decide which entries are token creations to enrich;
/// a broken rules file is the user's to fix, so it stops the poll.
fn token_rules(paths: &Paths) -> Result<Rules> {
    Ok(crate::detect::rules::load(paths)
        .context("loading the detection rules (they say which entries are token creations)")?
        .rules)
}

fn print_report(report: &PollReport, json: bool) -> Result<()> {
    if json {
        println!("{}", crate::terminal_json::to_terminal_json(report)?);
    } else {
        print!("{report}");
    }
    for target in &report.targets {
        if let Some(error) = &target.error {
            eprintln!(
                "error: {}: {}",
                target.checkpoint_key,
                sanitize(&error.to_string())
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_arguments_accept_rfc3339_dates_and_durations_ago() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let at = parse_time_arg("2026-11-21T08:00:00+01:00").unwrap();
        assert_eq!(at.resolve(now).to_rfc3339(), "2026-11-21T07:00:00+00:00");
        let day = parse_time_arg("2026-11-21").unwrap();
        assert_eq!(day.resolve(now).to_rfc3339(), "2026-11-21T00:00:00+00:00");
        let ago = parse_time_arg("90m").unwrap();
        assert_eq!(ago.resolve(now), now - TimeDelta::minutes(90));
        let error = parse_time_arg("yesterday").unwrap_err();
        assert!(error.contains("RFC3339"), "{error}");
    }
}
