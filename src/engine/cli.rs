//! `soc-tui daemon` (the engine without a terminal) and
//! `soc-tui check <check> --once` (one check, now, on the store).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use clap::{Args, ValueEnum};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::checks::{Mode, run_window};
use super::poll_intake::REUSE_WITHIN;
use super::{
    BaselineSource, Cadences, CoveredWindow, Engine, EngineEvent, EngineOptions, Intake, NoIntake,
    PollIntake, StoreHandle, axiom_window,
};
use crate::config::{BaselineEngine, Config, WorkflowMode};
use crate::detect::Workflow;
use crate::detect::baseline::axiom::AxiomEngine;
use crate::detect::baseline::hour_start;
use crate::detect::{Finding, rules};
use crate::paths::Paths;
use crate::sanitize::sanitize_with_limit;
use crate::secrets::{Credential, Resolver};
use crate::sources::poll;
use crate::store::{CheckKind, Store};
use crate::workflows::ModePolicy;

#[derive(Debug, Args)]
#[command(
    after_help = "Runs the scheduled checks (baseline hourly, bursts and tokens every few minutes; see \
    [checks] in the config) on the store in the data dir until Ctrl-C or SIGTERM, logging to the \
    data dir's logs/ and printing one status line per check run on stderr. Before each check it \
    polls the sources the check reads when they are configured ([cloudflare], [datadog]; \
    credentials as `soc-tui auth` stores them), and checks only up to where the polled data is \
    complete. Only one engine runs per store: a second daemon refuses to start while the first \
    one's lease is live. After downtime each check catches up on the windows it missed. \
    Each workflow runs in its mode ([workflows] in the config, or as switched with `soc-tui \
    workflows set` or w in the console; read from the store at every run): off is skipped, dry-run \
    records every request as a dry-run item (`soc-tui outbox list`, `outbox show ID`) and sends \
    nothing, on queues requests for the outbox worker."
)]
pub struct DaemonArgs {
    /// Hold every workflow that is on in dry-run: its requests are recorded as dry-run
    /// items, never sent (workflows that are off stay off).
    #[arg(long)]
    pub dry_run: bool,
}

/// The workflows, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckName {
    Baseline,
    Bursts,
    Tokens,
    /// Only with --sample (on the store: `soc-tui investigate`).
    Investigation,
}

impl CheckName {
    /// The scheduled check; `None` for the investigation.
    pub fn check(self) -> Option<CheckKind> {
        crate::workflows::check_of(self.workflow())
    }

    pub fn workflow(self) -> Workflow {
        match self {
            CheckName::Baseline => Workflow::Baseline,
            CheckName::Bursts => Workflow::Burst,
            CheckName::Tokens => Workflow::Token,
            CheckName::Investigation => Workflow::Investigation,
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
With --once (on the store): baseline checks the last complete hour before --at; bursts and tokens check \
the span of one cadence ([checks] in the config) ending at --at. Findings are recorded in the store and \
their requests recorded as the workflow's mode says ([workflows], `soc-tui workflows`): queued when on, \
dry-run items when in dry-run (or with --dry-run), not queued at all when off (it says so). The \
scheduler's coverage and burst state are left alone.

With --sample FILE: the workflow runs on the raw events of FILE (any format `soc-tui ingest` reads) in a \
throwaway in-memory store; your store is not read or written and nothing is sent. It prints the findings \
with their evidence and every request the workflow would send, rendered as `soc-tui outbox show` does. \
baseline takes its history from the sample: give it the 30-day window (rules.toml baseline window_days) \
plus the hour to judge; the hour judged is the UTC hour of the sample's last event, or the last complete \
hour before --at. bursts and tokens check the whole sample in cadence-long windows, or the one window \
ending at --at. investigation investigates --actor at --at (default: the actor and time of the sample's \
last event) and previews the Confluence page its approval would queue.")]
pub struct CheckArgs {
    #[arg(value_enum)]
    pub check: CheckName,
    /// Run the check once on the store and exit (scheduled runs: `soc-tui daemon`).
    #[arg(long, required_unless_present = "sample", conflicts_with = "sample")]
    pub once: bool,
    /// Run the workflow on this file of raw events instead, in a throwaway store.
    #[arg(long, value_name = "FILE")]
    pub sample: Option<PathBuf>,
    /// With --sample investigation: the actor (default: the sample's last event's).
    #[arg(long, value_name = "EMAIL", requires = "sample")]
    pub actor: Option<String>,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// The check's time instead of now: RFC 3339, or YYYY-MM-DD[THH:MM[:SS]] in UTC.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    /// Record the requests as dry-run items even if the workflow is on.
    #[arg(long, conflicts_with = "sample")]
    pub dry_run: bool,
}

/// RFC 3339, or a UTC date / date and time without an offset.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!(
        "{:?} is not a time: use RFC 3339 (2026-11-21T12:00:00Z) or YYYY-MM-DD[THH:MM[:SS]] (UTC)",
        sanitize_with_limit(text, 60)
    ))
}

fn load_config_and_rules(paths: &Paths) -> Result<(Config, rules::Rules)> {
    let config = Config::load_or_default(&paths.config_file)?;
    let rules = rules::load(paths)?.rules;
    Ok((config, rules))
}

pub fn run_daemon(args: DaemonArgs, paths: &Paths) -> Result<ExitCode> {
    let (config, rules) = load_config_and_rules(paths)?;
    paths.ensure_data_dir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let secrets = Resolver::system();
        let (intake, sources) =
            intake_from_config(&config, &rules, &paths.store_file(), &secrets)?;
        let options = EngineOptions {
            dry_run: args.dry_run,
            intake,
            baseline: baseline_source(&config, &secrets)?,
            outbox: Some((
                std::sync::Arc::new(
                    crate::sinks::Sinks::from_config(&config, &secrets, &paths.data_dir)
                        .map_err(|e| anyhow::anyhow!("setting up the sinks for the outbox: {e}"))?,
                ),
                crate::outbox::WorkerSettings::from_config(&config.outbox),
            )),
            ..EngineOptions::default()
        };
        let mut engine = Engine::start(&config, rules, paths, options).await?;
        // Both subscribe before anything else can await: the follower gets
        // every event since the start (findings of the first runs included),
        // the status lines every run from now on.
        let follower_events = engine.subscribe();
        let printer = tokio::spawn(print_status_lines(engine.subscribe()));
        let cadences = Cadences::from(&config.checks);
        eprintln!(
            "soc-tui daemon: engine {} on {}; baseline every {}s, bursts every {}s, tokens every {}s{}",
            engine.engine_id(),
            paths.store_file().display(),
            cadences.baseline.as_secs(),
            cadences.bursts.as_secs(),
            cadences.tokens.as_secs(),
            if args.dry_run {
                " (dry run: workflows that are on run in dry-run; nothing is sent)"
            } else {
                ""
            }
        );
        eprintln!(
            "soc-tui daemon: {sources}; baseline engine {}",
            config.checks.baseline_engine
        );
        // Workflow 4 runs in the daemon too: the anomaly receiver and
        // investigations of new findings (when configured).
        let store = crate::store::Store::open(&paths.store_file())?;
        let modes = ModePolicy::from_config(&config).forcing_dry_run(args.dry_run);
        eprintln!("soc-tui daemon: {}", modes_line(&modes.all(&store)?));
        let shared = Arc::new(std::sync::Mutex::new(store));
        let investigator = crate::investigate::setup::investigator(&config, &paths.config_dir, shared, &secrets)
            .map_err(|e| anyhow::anyhow!("setting up investigations: {e}"))?;
        let auto = crate::console::auto_investigate::AutoInvestigator::new(
            investigator.clone(),
            config.investigation.clone(),
            modes,
        );
        let follower = tokio::spawn(auto.follow(follower_events));
        let receiver = if config.webhook.enabled {
            let receiver =
                crate::console::session::start_receiver(&config, &secrets, investigator, modes)
                    .await?;
            eprintln!("soc-tui daemon: anomaly webhook at {}", receiver.url());
            Some(receiver)
        } else {
            None
        };
        let signal = wait_for_stop_signal().await;
        eprintln!("soc-tui daemon: stopping");
        if let Some(receiver) = receiver {
            receiver.stop().await;
        }
        follower.abort();
        engine.shutdown().await;
        let _ = printer.await;
        signal?;
        eprintln!("soc-tui daemon: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `workflows: baseline dry-run (config), ...`, for the daemon's first lines.
pub fn modes_line(modes: &[crate::workflows::EffectiveMode]) -> String {
    let parts: Vec<String> = modes
        .iter()
        .map(|m| {
            format!(
                "{} {} ({})",
                crate::config::workflow_key(m.workflow),
                m.mode,
                m.origin()
            )
        })
        .collect();
    format!(
        "workflows {}; switch with `soc-tui workflows set` or w in the console (followed from each \
         check's next run)",
        parts.join(", ")
    )
}

/// Pollers for the sources the config names (credentials through
/// `secrets`), and a line saying what is polled.
pub fn intake_from_config(
    config: &Config,
    rules: &rules::Rules,
    store_path: &Path,
    secrets: &Resolver<'_>,
) -> Result<(Arc<dyn Intake>, String)> {
    let cloudflare = if config.cloudflare.is_configured() {
        Some(poll::cloudflare_poller(config, rules.clone(), || {
            Ok(secrets.require(Credential::CloudflareToken)?.0)
        })?)
    } else {
        None
    };
    let datadog = if config.datadog.is_configured() {
        Some(poll::datadog_poller(config, || {
            Ok((
                secrets.require(Credential::DatadogApiKey)?.0,
                secrets.require(Credential::DatadogAppKey)?.0,
            ))
        })?)
    } else {
        None
    };
    if cloudflare.is_none() && datadog.is_none() {
        return Ok((
            Arc::new(NoIntake),
            "no source configured: the checks read what `soc-tui ingest` stores".into(),
        ));
    }
    // Reuse a poll only within half the shortest cadence: checks every few
    // seconds (the demo) must not run on a poll half a minute old.
    let cadences = Cadences::from(&config.checks);
    let shortest = cadences.baseline.min(cadences.bursts).min(cadences.tokens);
    let intake = PollIntake::new(store_path, cloudflare, datadog)
        .context("opening the store for the pollers")?
        .reuse_within(REUSE_WITHIN.min(shortest / 2));
    let polled: Vec<&str> = intake.sources().iter().map(|s| s.as_str()).collect();
    let line = format!("polling {} before each check", polled.join(" and "));
    Ok((Arc::new(intake), line))
}

/// The configured baseline engine (`[checks] baseline_engine`); Axiom's
/// token comes through `secrets`.
pub fn baseline_source(config: &Config, secrets: &Resolver<'_>) -> Result<BaselineSource> {
    match config.checks.baseline_engine {
        BaselineEngine::Local => Ok(BaselineSource::Local),
        BaselineEngine::Axiom => {
            let token = secrets.require(Credential::AxiomToken)?.0;
            let proxy = config.http.proxy.as_ref().map(|p| p.as_str());
            let engine = AxiomEngine::from_config(
                &config.axiom,
                poll::http_policy(&config.http),
                proxy,
                token,
            )
            .context("setting up the Axiom baseline engine")?;
            Ok(BaselineSource::Axiom(Arc::new(engine)))
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix (what service managers send).
async fn wait_for_stop_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("listening for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("listening for Ctrl-C")?;
    Ok(())
}

async fn print_status_lines(mut events: tokio::sync::broadcast::Receiver<EngineEvent>) {
    loop {
        match events.recv().await {
            Ok(EngineEvent::Stopped) | Err(RecvError::Closed) => break,
            Ok(event) => {
                if let Some(line) = status_line(&event, Utc::now()) {
                    eprintln!("{line}");
                }
            }
            Err(RecvError::Lagged(n)) => eprintln!("({n} engine events skipped)"),
        }
    }
}

/// The daemon's one line per check run (and lease change).
pub fn status_line(event: &EngineEvent, now: DateTime<Utc>) -> Option<String> {
    let stamp = now.format("%Y-%m-%dT%H:%M:%SZ");
    match event {
        EngineEvent::CheckFinished {
            check,
            windows,
            findings,
            duration,
            mode,
        } => {
            let span = match (windows.first(), windows.last()) {
                (Some(first), Some(last)) => format!(
                    "{} window(s) {} to {}",
                    windows.len(),
                    first.start.format("%Y-%m-%dT%H:%M:%SZ"),
                    last.end.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                _ => "nothing new to check".to_string(),
            };
            let requests = match mode {
                WorkflowMode::On => "queued",
                _ => "recorded as dry-run (not sent)",
            };
            Some(format!(
                "{stamp} {check} ok ({mode}): {span}; {} new, {} updated finding(s), {} request(s) {requests} ({} ms)",
                findings.new,
                findings.updated,
                findings.enqueued,
                duration.as_millis()
            ))
        }
        EngineEvent::CheckSkipped { check, reason } => Some(format!(
            "{stamp} {check} skipped: {}",
            sanitize_with_limit(reason, 300)
        )),
        EngineEvent::CheckFailed {
            check,
            error,
            duration,
        } => Some(format!(
            "{stamp} {check} FAILED after {} ms: {}",
            duration.as_millis(),
            sanitize_with_limit(error, 500)
        )),
        EngineEvent::LeaseChanged {
            holder: Some(holder),
            ours: false,
        } => Some(format!(
            "{stamp} lease held by {}: standing by",
            sanitize_with_limit(holder, 120)
        )),
        _ => None,
    }
}

/// The window `check --once` covers at `at`.
pub fn once_window(check: CheckKind, at: DateTime<Utc>, cadences: &Cadences) -> CoveredWindow {
    match check {
        CheckKind::Baseline => {
            let end = hour_start(at);
            CoveredWindow {
                start: end - Duration::hours(1),
                end,
            }
        }
        CheckKind::Bursts | CheckKind::Tokens => CoveredWindow {
            start: at - Duration::from_std(cadences.get(check)).unwrap_or(Duration::hours(1)),
            end: at,
        },
    }
}

pub fn run_check(args: CheckArgs, paths: &Paths) -> Result<ExitCode> {
    if args.sample.is_some() {
        return crate::sample::cli::run(args, paths);
    }
    let Some(check) = args.check.check() else {
        anyhow::bail!(
            "`check investigation` runs on a sample only (--sample FILE); to investigate an actor \
             in your store use `soc-tui investigate --actor EMAIL --at TIME`"
        );
    };
    let (config, rules) = load_config_and_rules(paths)?;
    paths.ensure_data_dir()?;
    let store_path = paths.store_file();
    let mut store = Store::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    let at = args.at.unwrap_or_else(Utc::now);
    let window = once_window(check, at, &Cadences::from(&config.checks));
    let mode = ModePolicy::from_config(&config)
        .forcing_dry_run(args.dry_run)
        .effective(&store, args.check.workflow())?;
    let delivery = mode.delivery();
    // Only the baseline check has an engine choice (and needs Axiom's token).
    let source = match check {
        CheckKind::Baseline => baseline_source(&config, &Resolver::system())?,
        CheckKind::Bursts | CheckKind::Tokens => BaselineSource::Local,
    };
    let result = match source {
        BaselineSource::Axiom(engine) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let store = StoreHandle::new(store);
            let rules = Arc::new(rules);
            let mode = Mode::OneOff;
            runtime
                .block_on(axiom_window(
                    &store, &engine, &rules, window, at, delivery, mode,
                ))
                .map_err(|e| anyhow::anyhow!("running the baseline check on Axiom: {e}"))?
        }
        _ => run_window(
            &mut store,
            &rules,
            check,
            window,
            at,
            delivery,
            Mode::OneOff,
        )
        .with_context(|| format!("running the {check} check"))?,
    };
    let counts = result.counts();
    tracing::info!(%check, new = counts.new, updated = counts.updated, "check --once");
    if args.json {
        let findings: Vec<serde_json::Value> = result
            .findings
            .iter()
            .zip(&result.recorded)
            .map(|(f, r)| {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("id".into(), json!(r.id));
                    obj.insert("inserted".into(), json!(r.inserted));
                    obj.insert("enqueued".into(), json!(r.enqueued));
                }
                v
            })
            .collect();
        let doc = json!({
            "check": check,
            "at": at,
            "window": result.window,
            "mode": mode.mode,
            "counts": counts,
            "not_queued_workflow_off": result.held,
            "findings": findings,
        });
        println!("{}", crate::terminal_json::to_terminal_json(&doc)?);
    } else {
        let requests = match mode.mode {
            WorkflowMode::On => format!("{} request(s) queued", counts.enqueued),
            WorkflowMode::DryRun => format!(
                "{} request(s) recorded as dry-run items, never sent (`soc-tui outbox list`)",
                counts.enqueued
            ),
            WorkflowMode::Off => format!("{} request(s) not queued", result.held),
        };
        println!(
            "{check} check at {} over {} to {}: {} finding(s), {} new, {} updated; {requests}",
            at.format("%Y-%m-%dT%H:%M:%SZ"),
            window.start.format("%Y-%m-%dT%H:%M:%SZ"),
            window.end.format("%Y-%m-%dT%H:%M:%SZ"),
            result.findings.len(),
            counts.new,
            counts.updated,
        );
        if mode.is_off() {
            println!("{}", mode.off_message());
        }
        let rows: Vec<TableRow<'_>> = result.findings.iter().map(TableRow::from).collect();
        print!("{}", findings_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of a findings table.
pub struct TableRow<'a> {
    pub time: DateTime<Utc>,
    pub workflow: &'a str,
    pub actor: &'a str,
    pub severity: &'a str,
    pub title: &'a str,
    pub suppressed: bool,
}

impl<'a> From<&'a Finding> for TableRow<'a> {
    fn from(f: &'a Finding) -> TableRow<'a> {
        TableRow {
            time: f.window_start,
            workflow: f.workflow.as_str(),
            actor: &f.actor,
            severity: f.severity.as_str(),
            title: &f.title,
            suppressed: f.is_suppressed(),
        }
    }
}

/// time, workflow, actor, severity, title; attacker text made terminal-safe.
pub fn findings_table(rows: &[TableRow<'_>]) -> String {
    if rows.is_empty() {
        return "no findings\n".to_string();
    }
    let actors: Vec<String> = rows
        .iter()
        .map(|r| sanitize_with_limit(r.actor, 40).into_owned())
        .collect();
    let width = actors
        .iter()
        .map(|a| a.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<20} {:<9} {:<width$} {:<8} TITLE\n",
        "TIME", "WORKFLOW", "ACTOR", "SEVERITY"
    );
    for (row, actor) in rows.iter().zip(&actors) {
        out.push_str(&format!(
            "{:<20} {:<9} {:<width$} {:<8} {}{}\n",
            row.time.format("%Y-%m-%dT%H:%M:%SZ"),
            row.workflow,
            actor,
            row.severity,
            sanitize_with_limit(row.title, 160),
            if row.suppressed { " (suppressed)" } else { "" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_parse_in_the_documented_forms() {
        let noon = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        assert_eq!(parse_time("2026-11-21T12:00:00Z"), Ok(noon));
        assert_eq!(parse_time("2026-11-21T13:00:00+01:00"), Ok(noon));
        assert_eq!(parse_time("2026-11-21T12:00"), Ok(noon));
        assert_eq!(parse_time("2026-11-21"), Ok(noon - Duration::hours(12)));
        let err = parse_time("yesterday\u{1b}[2J").unwrap_err();
        assert!(
            err.contains("not a time") && !err.contains('\u{1b}'),
            "{err}"
        );
    }

    #[test]
    fn once_windows_end_at_the_check_time() {
        let cadences = Cadences {
            baseline: std::time::Duration::from_secs(3600),
            bursts: std::time::Duration::from_secs(300),
            tokens: std::time::Duration::from_secs(600),
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 12, 7, 0).unwrap();
        let b = once_window(CheckKind::Baseline, at, &cadences);
        assert_eq!(
            (b.start.to_rfc3339(), b.end.to_rfc3339()),
            (
                "2026-11-21T11:00:00+00:00".into(),
                "2026-11-21T12:00:00+00:00".into()
            )
        );
        let t = once_window(CheckKind::Tokens, at, &cadences);
        assert_eq!((t.end - t.start).num_minutes(), 10);
        assert_eq!(t.end, at);
    }
}
