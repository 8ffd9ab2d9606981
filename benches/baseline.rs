//! Baseline-check benchmark: one hourly baseline check on the store's
//! aggregates (incremental), the same check after rebuilding every aggregate
//! from the events table (cold), and the same statistic computed by DuckDB
//! from the raw NDJSON in SQL (`baseline/duckdb_check.py`), all on the same data in
//! one run.
//!
//! `cargo bench --bench baseline`: 30 days x 2,000 actors x 1M events
//! (`Params::baseline_benchmark`). Under `cargo test --benches` (no
//! `--bench` argument) it runs a smoke size and uses DuckDB only if it is
//! already installed. Knobs: `SOC_TUI_BENCH_SEED` (1), `SOC_TUI_BENCH_EVENTS`,
//! `SOC_TUI_BENCH_ACTORS`, `SOC_TUI_BENCH_DAYS`, `SOC_TUI_BENCH_REPS`
//! (incremental repetitions, 9), `SOC_TUI_BENCH_COLD_REPS` (cold and DuckDB
//! repetitions, 3), `SOC_TUI_BENCH_DIR` (keep the files there),
//! `SOC_TUI_BENCH_PYTHON` (a Python with `duckdb` to use as is).
//!
//! DuckDB comes from PyPI: when no Python at hand imports it, the full run
//! installs it into a venv under the target dir (`target/bench-venv`); if
//! that is impossible the DuckDB column is skipped with the reason.
//!
//! How the hours are set up: the store first receives every event before the
//! checked hour `H` and folds them (what earlier hourly checks did), then the
//! events of `H` arrive. The incremental check is then what the scheduler
//! runs: fold the new events into the change-type aggregate, read the
//! aggregates, evaluate every actor active in `H`. The rest of the file
//! (after `H`) is ingested afterwards, so the cold rebuild and DuckDB see the
//! whole file; events after `H` do not change the check of `H`.
//!
//! Both sides read warm data: the store's pages and the NDJSON file are in
//! the OS page cache. DuckDB uses every core; the store's path uses one, so
//! CPU time is shown beside wall time.
//!
//! Agreement, untimed: every active actor's figures (changes, expected,
//! cold start, new types) from the store against DuckDB's, the flagged
//! sets under the default rules, and the flagged sets under
//! `SENSITIVE_RULES`, low enough that many actors flag.
//!
//! Targets (incremental <= 0.05x DuckDB, cold <= 1.0x DuckDB) and a missing
//! or failing DuckDB never change the exit status; a broken setup (the file
//! or the store cannot be written) does.

#[path = "baseline/duckdb.rs"]
mod duckdb;
#[path = "baseline/figures.rs"]
mod figures;
#[path = "baseline/report.rs"]
mod report;
#[path = "baseline/setup.rs"]
mod setup;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::json;
use soc_tui::detect::baseline::{BaselineData, check_hour};
use soc_tui::detect::rules::{Rules, parse as parse_rules};
use soc_tui::store::Store;
use soc_tui::synth::{Params, Volume};

use duckdb::{find_duckdb, rules_for_duckdb, run_duckdb};
use figures::our_figures;
use report::{Report, report};
use setup::{Ingested, generate, ingest_range, remove_store};

const HOUR_MS: i64 = 3_600_000;
/// The scheduler runs the check for `H` a few minutes after `H` closes.
const CHECK_DELAY_MS: i64 = 5 * 60_000;

/// Merged over the default rules for the flagged-set comparison: low enough
/// that volume, cold-start and new-type flags all occur.
const SENSITIVE_RULES: &str = "
[baseline]
volume_factor = 1.01
expected_floor = 1.0
min_changes = 2

[baseline.cold_start]
min_history_days = 29
absolute_threshold = 3
";

fn main() -> Result<()> {
    let config = Config::from_env()?;
    let temp = tempfile::tempdir().context("creating a temp dir")?;
    let dir = match std::env::var_os("SOC_TUI_BENCH_DIR").map(PathBuf::from) {
        Some(d) => {
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => temp.path().to_path_buf(),
    };
    run(&config, &dir)
}

struct Config {
    /// `cargo bench`; otherwise a smoke run under `cargo test --benches`.
    full: bool,
    seed: u64,
    actors: u32,
    days: u32,
    events: u64,
    reps: usize,
    cold_reps: usize,
}

impl Config {
    fn from_env() -> Result<Config> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(v) => v
                    .replace('_', "")
                    .parse()
                    .with_context(|| format!("{name}={v:?} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        // `cargo bench` passes `--bench`; `cargo test --benches` does not.
        let full = std::env::args().any(|a| a == "--bench");
        let base = Params::baseline_benchmark(0);
        let (actors, events) = match (full, base.volume) {
            (true, Volume::Total(n)) => (u64::from(base.actors), n),
            _ => (60, 20_000),
        };
        let small = |n: u64| usize::try_from(n).context("repetitions out of range");
        Ok(Config {
            full,
            seed: number("SOC_TUI_BENCH_SEED", 1)?,
            actors: u32::try_from(number("SOC_TUI_BENCH_ACTORS", actors)?)
                .context("SOC_TUI_BENCH_ACTORS is too large")?,
            days: u32::try_from(number("SOC_TUI_BENCH_DAYS", u64::from(base.days))?)
                .context("SOC_TUI_BENCH_DAYS is too large")?,
            events: number("SOC_TUI_BENCH_EVENTS", events)?,
            reps: small(number("SOC_TUI_BENCH_REPS", if full { 9 } else { 3 })?.max(1))?,
            cold_reps: small(number("SOC_TUI_BENCH_COLD_REPS", if full { 3 } else { 1 })?.max(1))?,
        })
    }

    fn params(&self) -> Params {
        Params {
            actors: self.actors,
            days: self.days,
            volume: Volume::Total(self.events),
            ..Params::baseline_benchmark(self.seed)
        }
    }
}

fn run(config: &Config, dir: &Path) -> Result<()> {
    let rules = parse_rules(None)
        .context("loading the default rules")?
        .rules;
    println!(
        "baseline bench ({}): {} events, {} actors x {} days, seed {}, files in {}",
        if config.full { "full" } else { "smoke" },
        config.events,
        config.actors,
        config.days,
        config.seed,
        dir.display()
    );

    // 1. Setup: the NDJSON file, then the store up to the checked hour.
    let file = dir.join("events.ndjson");
    let clock = Instant::now();
    let generated = generate(&config.params(), &file)?;
    let generate_time = clock.elapsed();
    let checked = generated.busiest_recent_hour()?;
    let hour = time_of(checked.start_ms)?;
    println!(
        "generated {} lines, {:.1} MB in {:.1} s (cf v2 {}, cf v1 {}, datadog {}); checked hour {} ({} events in it)",
        generated.lines,
        generated.bytes as f64 / 1e6,
        generate_time.as_secs_f64(),
        generated.shapes[0],
        generated.shapes[1],
        generated.shapes[2],
        hour.format("%Y-%m-%dT%H:%MZ"),
        checked.lines
    );

    let db = dir.join("store.db");
    remove_store(&db)?;
    let mut store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let clock = Instant::now();
    let mut ingested = Ingested::default();
    ingested.add(ingest_range(
        &mut store,
        &file,
        0,
        checked.first_offset,
        "before H",
    )?);
    store.refresh_change_types()?;
    let before_time = clock.elapsed();
    let clock = Instant::now();
    ingested.add(ingest_range(
        &mut store,
        &file,
        checked.first_offset,
        checked.end_offset,
        "H",
    )?);
    let hour_ingest_time = clock.elapsed();

    // 2. Incremental: the scheduler's hourly check.
    let now = time_of(checked.start_ms + HOUR_MS + CHECK_DELAY_MS)?;
    let clock = Instant::now();
    let folded = store.refresh_change_types()?;
    let fold = clock.elapsed();
    let mut check_times = Vec::with_capacity(config.reps);
    let mut flagged = BTreeSet::new();
    for _ in 0..config.reps {
        let clock = Instant::now();
        flagged = run_check(&mut store, &rules, hour, now)?;
        check_times.push(clock.elapsed());
    }
    let incremental = Flagged {
        active_actors: active_actors(&mut store, hour)?,
        actors: flagged,
    };
    let figures = our_figures(&mut store, &rules, hour)?;
    let check_median = median(&mut check_times);

    // The rest of the file, so the cold side rebuilds from all of it.
    let clock = Instant::now();
    ingested.add(ingest_range(
        &mut store,
        &file,
        checked.end_offset,
        generated.bytes,
        "after H",
    )?);
    let after_time = clock.elapsed();
    let ingest_time = before_time + hour_ingest_time + after_time;
    println!(
        "ingested {} lines ({} new, {} duplicate, {} rejected) in {:.1} s: {:.1} s before H (and the fold of earlier checks), {:.2} s for H, {:.1} s after",
        ingested.read,
        ingested.new,
        ingested.duplicate,
        ingested.rejected_total,
        ingest_time.as_secs_f64(),
        before_time.as_secs_f64(),
        hour_ingest_time.as_secs_f64(),
        after_time.as_secs_f64()
    );
    if ingested.rejected_total > 0 || ingested.new != generated.lines {
        println!(
            "WARNING: the store holds {} of {} lines; first rejection: {}",
            ingested.new,
            generated.lines,
            ingested.first_rejection.as_deref().unwrap_or("-")
        );
    }

    // 3. Cold recompute, alternating with 4. DuckDB so both meet the same machine load.
    let python = find_duckdb(config.full, dir);
    if let Err(reason) = &python {
        println!("DuckDB skipped: {reason}");
    }
    let script = dir.join("duckdb_check.py");
    std::fs::write(&script, duckdb::SCRIPT)
        .with_context(|| format!("writing {}", script.display()))?;
    let duck_config = json!({
        "file": file,
        "hour_ms": checked.start_ms,
        "rules": rules_for_duckdb(&rules),
    });
    let mut cold_runs = Vec::with_capacity(config.cold_reps);
    let mut duck_runs = Vec::with_capacity(config.cold_reps);
    let mut duck_error = None;
    for _ in 0..config.cold_reps {
        cold_runs.push(cold_recompute(&mut store, &rules, hour, now)?);
        if let (Ok(python), None) = (&python, &duck_error) {
            match run_duckdb(python, &script, &duck_config) {
                Ok(run) => duck_runs.push(run),
                Err(e) => duck_error = Some(format!("{e:#}")),
            }
        }
    }
    if let Some(e) = &duck_error {
        println!("DuckDB failed: {e}");
    }

    // 5. Untimed: the flagged sets under thresholds low enough that many
    // actors flag, since the default rules flag few or none in an ordinary
    // synthetic hour.
    let sensitive_rules = parse_rules(Some(("bench-sensitive-rules.toml", SENSITIVE_RULES)))
        .context("loading the sensitive rules")?
        .rules;
    let ours = run_check(&mut store, &sensitive_rules, hour, now)?;
    let theirs = match (&python, &duck_error) {
        (Ok(python), None) => {
            let config = json!({
                "file": file,
                "hour_ms": checked.start_ms,
                "rules": rules_for_duckdb(&sensitive_rules),
            });
            match run_duckdb(python, &script, &config) {
                Ok(run) => Some(run.flagged.actors),
                Err(e) => {
                    println!("DuckDB failed with the sensitive rules: {e:#}");
                    None
                }
            }
        }
        _ => None,
    };

    report(&Report {
        config,
        hour,
        checked_hour_lines: checked.lines,
        events_in_store: store.event_count()?,
        folded,
        fold,
        check_median,
        check_times,
        incremental,
        figures,
        cold_runs,
        duck_runs,
        duck_skipped: python.err().or(duck_error),
        sensitive: (ours, theirs),
    });
    Ok(())
}

/// What one baseline check reported.
#[derive(Debug, Clone, PartialEq)]
struct Flagged {
    /// Actors with a change in the hour (every one the check evaluated).
    active_actors: usize,
    actors: BTreeSet<String>,
}

/// The real path, as the scheduler runs it: fold new events into the
/// change-type aggregate, read the aggregates, check every active actor.
fn run_check(
    store: &mut Store,
    rules: &Rules,
    hour: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<BTreeSet<String>> {
    let data = store.baseline_data()?;
    let findings = check_hour(&data, rules, hour, now)?;
    Ok(findings.into_iter().map(|f| f.actor).collect())
}

/// Not timed: how many actors the check evaluated.
fn active_actors(store: &mut Store, hour: DateTime<Utc>) -> Result<usize> {
    Ok(store.baseline_data()?.active_actors(hour)?.len())
}

struct ColdRun {
    rebuild: Duration,
    total: Duration,
    cpu: Duration,
    flagged: Flagged,
}

fn cold_recompute(
    store: &mut Store,
    rules: &Rules,
    hour: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ColdRun> {
    let cpu = process_cpu_time();
    let clock = Instant::now();
    store.rebuild_aggregates()?;
    let rebuild = clock.elapsed();
    let actors = run_check(store, rules, hour, now)?;
    let (total, cpu) = (clock.elapsed(), process_cpu_time().saturating_sub(cpu));
    Ok(ColdRun {
        rebuild,
        total,
        cpu,
        flagged: Flagged {
            active_actors: active_actors(store, hour)?,
            actors,
        },
    })
}

fn time_of(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).with_context(|| format!("time {ms} ms is out of range"))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    match times.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// User + system CPU time of this process so far (`/proc/self/stat`, in
/// 10 ms ticks); zero where unavailable.
fn process_cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
