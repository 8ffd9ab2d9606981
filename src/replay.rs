//! `soc-tui replay`: what the scheduled checks would have raised over
//! historical events. This is how an analyst tests a rules change.
//!
//! The files are ingested into a private temporary store (never the
//! user's), then the three checks run over it exactly as the scheduler
//! runs them, at the virtual time each run would have happened: bursts on
//! each bursts-cadence window (carrying their state across windows), tokens
//! on each tokens-cadence window, baseline for each hour once it is over.
//! Findings are recorded in the temporary store the scheduler's way (so a
//! burst spanning windows is one finding) and printed; requests are
//! recorded as dry runs and listed per finding, never sent.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use serde::Serialize;

use crate::config::Config;
use crate::detect::baseline::hour_start;
use crate::detect::rules::{self, Rules};
use crate::engine::checks::{Mode, run_window};
use crate::engine::cli::{TableRow, findings_table, parse_time};
use crate::engine::{Cadences, CoveredWindow};
use crate::ingest::ingest_path_with;
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::sources::action_kinds::ActionKindMap;
use crate::store::{CheckKind, Delivery, FindingFilter, OutboxFilter, Sink, Store, StoredFinding};

#[derive(Debug, Args)]
#[command(
    after_help = "The span is whole UTC hours, from the first to the last event (or --from / --to). Rules come \
    from <config dir>/rules.toml over the built-in defaults, or from --rules. Suppressions \
    expire against the time each check would have run. The baseline runs on the local engine \
    whatever [checks] baseline_engine says. Nothing is sent and your store is not touched: the \
    events go into a temporary store that is deleted on exit."
)]
pub struct ReplayArgs {
    /// Audit data files (as `soc-tui ingest` reads them); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Start of the span: RFC 3339, or YYYY-MM-DD[THH:MM[:SS]] in UTC.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// End of the span (exclusive), same forms as --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// A rules file to replay with, merged over the built-in defaults.
    #[arg(long, value_name = "PATH")]
    pub rules: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A request a finding would have queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRef {
    pub sink: Sink,
    pub kind: String,
}

/// A finding as replay reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayFinding {
    #[serde(flatten)]
    pub finding: StoredFinding,
    pub requests: Vec<RequestRef>,
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub events: u64,
    /// Oldest first (window start, then workflow, then dedup key).
    pub findings: Vec<ReplayFinding>,
}

/// Runs the three checks over `[from, to)` of `store` as the scheduler
/// would have. `from` and `to` are rounded out to whole hours.
pub fn replay_store(
    store: &mut Store,
    rules: &Rules,
    cadences: &Cadences,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<ReplayReport> {
    let start = hour_start(from);
    let end = {
        let floor = hour_start(to);
        if floor < to {
            floor + Duration::hours(1)
        } else {
            floor
        }
    };
    for check in [CheckKind::Bursts, CheckKind::Tokens, CheckKind::Baseline] {
        let step = match check {
            CheckKind::Baseline => Duration::hours(1),
            _ => Duration::from_std(cadences.get(check)).unwrap_or(Duration::hours(1)),
        };
        for window in windows(start, end, step) {
            // The run happens when the window is over.
            run_window(
                store,
                rules,
                check,
                window,
                window.end,
                Some(Delivery::DryRun),
                Mode::Scheduled,
            )
            .with_context(|| format!("{check} check of {} to {}", window.start, window.end))?;
        }
    }
    let mut findings = Vec::new();
    for finding in store.findings(&FindingFilter::default())? {
        let requests = store
            .outbox_list(&OutboxFilter {
                finding_id: Some(finding.id),
                ..OutboxFilter::default()
            })?
            .into_iter()
            .map(|item| RequestRef {
                sink: item.sink,
                kind: item.kind,
            })
            .collect();
        findings.push(ReplayFinding { finding, requests });
    }
    findings.sort_by(|a, b| {
        (
            a.finding.window_start,
            a.finding.workflow.as_str(),
            &a.finding.dedup_key,
        )
            .cmp(&(
                b.finding.window_start,
                b.finding.workflow.as_str(),
                &b.finding.dedup_key,
            ))
    });
    Ok(ReplayReport {
        from: start,
        to: end,
        events: store.event_count()?,
        findings,
    })
}

/// Contiguous windows of `step` covering `[start, end)`; the last may be shorter.
pub(crate) fn windows(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Duration,
) -> Vec<CoveredWindow> {
    let step = step.max(Duration::seconds(1));
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + step).min(end);
        out.push(CoveredWindow {
            start: from,
            end: to,
        });
        from = to;
    }
    out
}

pub fn run(args: ReplayArgs, paths: &Paths) -> Result<ExitCode> {
    if args
        .files
        .iter()
        .filter(|p| p.as_path() == Path::new("-"))
        .count()
        > 1
    {
        bail!("`-` (standard input) can be given only once");
    }
    let rules = match &args.rules {
        Some(path) => {
            if !path.is_file() {
                bail!("rules file {} does not exist", path.display());
            }
            rules::load_file(Some(path))?.rules
        }
        None => rules::load(paths)?.rules,
    };
    let config = Config::load_or_default(&paths.config_file)?;
    let kinds = ActionKindMap::from_config(&config);
    let temp = TempStore::create()?;
    let mut store = Store::open(&temp.file()).context("creating the replay's temporary store")?;
    let mut rejected = 0;
    for file in &args.files {
        let summary = ingest_path_with(&mut store, file, &kinds, &|_| {})?;
        rejected += summary.rejected_total;
        for r in summary.rejected.iter().take(5) {
            eprintln!(
                "warning: skipped {} {}: {}",
                sanitize(&r.file),
                sanitize(&r.position),
                sanitize(&r.reason)
            );
        }
    }
    let Some((first, last)) = store.event_time_range()? else {
        bail!("no events in the given files ({rejected} entries rejected)");
    };
    let from = args.from.unwrap_or(first);
    let to = args.to.unwrap_or(last + Duration::milliseconds(1));
    if from >= to {
        bail!("--from ({from}) must be before --to ({to})");
    }
    let report = replay_store(
        &mut store,
        &rules,
        &Cadences::from(&config.checks),
        from,
        to,
    )?;
    if args.json {
        println!("{}", crate::terminal_json::to_terminal_json(&report)?);
    } else {
        eprintln!(
            "replayed {} event(s) ({} rejected) from {} to {}: {} finding(s)",
            report.events,
            rejected,
            report.from.format("%Y-%m-%dT%H:%MZ"),
            report.to.format("%Y-%m-%dT%H:%MZ"),
            report.findings.len()
        );
        let rows: Vec<TableRow<'_>> = report
            .findings
            .iter()
            .map(|f| TableRow {
                time: f.finding.window_start,
                workflow: f.finding.workflow.as_str(),
                actor: &f.finding.actor,
                severity: f.finding.severity.as_str(),
                title: &f.finding.title,
                suppressed: f.finding.rules.is_empty() && !f.finding.suppressed.is_empty(),
            })
            .collect();
        print!("{}", findings_table(&rows));
    }
    Ok(if rejected > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// A private directory for the replay's store, removed when dropped.
struct TempStore {
    dir: PathBuf,
}

impl TempStore {
    fn create() -> Result<TempStore> {
        let dir = std::env::temp_dir().join(format!(
            "soc-tui-replay-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            // The store holds raw audit entries: owner only.
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .with_context(|| format!("creating the temporary directory {}", dir.display()))?;
        Ok(TempStore { dir })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("replay.db")
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %err, "removing the replay's temporary store");
        }
    }
}
