//! The table and the one-line JSON summary.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::duckdb::DuckRun;
use super::figures::{Agreement, FigureAgreement, Figures};
use super::{ColdRun, Config, Flagged, median};

const TARGET_INCREMENTAL: f64 = 0.05;
const TARGET_COLD: f64 = 1.0;

pub struct Report<'a> {
    pub config: &'a Config,
    pub hour: DateTime<Utc>,
    pub checked_hour_lines: u64,
    pub events_in_store: u64,
    pub folded: u64,
    pub fold: Duration,
    pub check_median: Duration,
    pub check_times: Vec<Duration>,
    pub incremental: Flagged,
    pub figures: BTreeMap<String, Figures>,
    pub cold_runs: Vec<ColdRun>,
    pub duck_runs: Vec<DuckRun>,
    pub duck_skipped: Option<String>,
    /// Flagged actors under `SENSITIVE_RULES`: ours, DuckDB's.
    pub sensitive: (BTreeSet<String>, Option<BTreeSet<String>>),
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

pub fn report(r: &Report<'_>) {
    let incremental = r.fold + r.check_median;
    let mut cold_totals: Vec<Duration> = r.cold_runs.iter().map(|c| c.total).collect();
    let cold = median(&mut cold_totals);
    let mut rebuilds: Vec<Duration> = r.cold_runs.iter().map(|c| c.rebuild).collect();
    let rebuild = median(&mut rebuilds);
    let mut cold_cpus: Vec<Duration> = r.cold_runs.iter().map(|c| c.cpu).collect();
    let cold_cpu = median(&mut cold_cpus);
    let cold_same = r.cold_runs.iter().all(|c| c.flagged == r.incremental);
    let duck = (!r.duck_runs.is_empty()).then(|| {
        let pick = |f: fn(&DuckRun) -> Duration| {
            let mut v: Vec<Duration> = r.duck_runs.iter().map(f).collect();
            median(&mut v)
        };
        (
            pick(|d| d.total),
            pick(|d| d.load),
            pick(|d| d.compute),
            pick(|d| d.cpu),
        )
    });
    let (min_check, max_check) = (
        r.check_times.iter().min().copied().unwrap_or_default(),
        r.check_times.iter().max().copied().unwrap_or_default(),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!();
    println!(
        "checked hour {} ({} events in it, {} actors with a change); store holds {} events",
        r.hour.format("%Y-%m-%dT%H:%MZ"),
        r.checked_hour_lines,
        r.incremental.active_actors,
        r.events_in_store
    );
    println!("{:<44} {:>10} {:>10}  target", "phase", "wall ms", "cpu ms");
    let row = |name: &str, wall: Duration, cpu: Option<Duration>, target: String| {
        println!(
            "{:<44} {:>10.1} {:>10}  {}",
            name,
            ms(wall),
            cpu.map_or("-".to_string(), |c| format!("{:.0}", ms(c))),
            target
        );
    };
    row(
        &format!("  fold of H's {} new events", r.folded),
        r.fold,
        None,
        String::new(),
    );
    row(
        &format!("  check_hour (median of {})", r.check_times.len()),
        r.check_median,
        None,
        format!("min {:.1} max {:.1}", ms(min_check), ms(max_check)),
    );
    let incremental_target = match duck {
        Some((d, ..)) => {
            let ratio = incremental.as_secs_f64() / d.as_secs_f64().max(1e-9);
            format!(
                "{ratio:.4}x DuckDB (<= {TARGET_INCREMENTAL}x) {}",
                verdict(ratio <= TARGET_INCREMENTAL)
            )
        }
        None => "no DuckDB figure".into(),
    };
    row(
        "incremental check (fold + check)",
        incremental,
        None,
        incremental_target,
    );
    row(
        &format!("  rebuild_aggregates (median of {})", r.cold_runs.len()),
        rebuild,
        None,
        String::new(),
    );
    let cold_target = match duck {
        Some((d, ..)) => {
            let ratio = cold.as_secs_f64() / d.as_secs_f64().max(1e-9);
            format!(
                "{ratio:.3}x DuckDB (<= {TARGET_COLD}x) {}",
                verdict(ratio <= TARGET_COLD)
            )
        }
        None => "no DuckDB figure".into(),
    };
    row(
        "cold recompute (rebuild + check)",
        cold,
        Some(cold_cpu),
        cold_target,
    );
    match (duck, r.duck_runs.first()) {
        (Some((total, load, compute, cpu)), Some(first)) => {
            row(
                "  DuckDB read_ndjson + normalise",
                load,
                None,
                String::new(),
            );
            row("  DuckDB statistic", compute, None, String::new());
            row(
                &format!(
                    "DuckDB {} full recompute ({} threads)",
                    first.version, first.threads
                ),
                total,
                Some(cpu),
                format!("{} events loaded", first.events),
            );
        }
        _ => println!(
            "DuckDB: skipped ({})",
            r.duck_skipped.as_deref().unwrap_or("no run")
        ),
    }

    println!();
    println!(
        "flagged actors: incremental {} of {} active; cold recompute {} ({})",
        r.incremental.actors.len(),
        r.incremental.active_actors,
        r.cold_runs.first().map_or(0, |c| c.flagged.actors.len()),
        if cold_same {
            "same actors"
        } else {
            "DIFFERENT from incremental"
        }
    );
    let figures = r.duck_runs.first().map(|d| {
        let f = FigureAgreement::of(&r.figures, &d.figures);
        println!(
            "per-actor figures (changes, expected, cold start, new types) agree for {} of {} actors active in either{}",
            f.agree,
            f.actors,
            preview(&f.differ)
        );
        f
    });
    let agreement = r.duck_runs.first().map(|d| {
        let a = Agreement::of(&r.incremental.actors, &d.flagged.actors);
        println!(
            "DuckDB flagged {} of {} active; agreement {:.1}% ({} both, {} only ours{}, {} only DuckDB{})",
            d.flagged.actors.len(),
            d.flagged.active_actors,
            a.ratio() * 100.0,
            a.both,
            a.only_ours.len(),
            preview(&a.only_ours),
            a.only_theirs.len(),
            preview(&a.only_theirs)
        );
        a
    });
    let sensitive = r.sensitive.1.as_ref().map(|theirs| {
        let a = Agreement::of(&r.sensitive.0, theirs);
        println!(
            "with sensitive rules (volume_factor 1.01, floor 1, min_changes 2; cold start < 29 days, at 3): ours {} flagged, DuckDB {}; agreement {:.1}% ({} both, {} only ours{}, {} only DuckDB{})",
            r.sensitive.0.len(),
            theirs.len(),
            a.ratio() * 100.0,
            a.both,
            a.only_ours.len(),
            preview(&a.only_ours),
            a.only_theirs.len(),
            preview(&a.only_theirs)
        );
        a
    });
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    println!("load average {load} on {cores} cores");

    let ratio =
        |a: Duration| duck.map(|(d, ..)| round4(a.as_secs_f64() / d.as_secs_f64().max(1e-9)));
    let summary = json!({
        "full": r.config.full,
        "events": r.config.events,
        "actors": r.config.actors,
        "days": r.config.days,
        "seed": r.config.seed,
        "checked_hour": r.hour.to_rfc3339(),
        "checked_hour_events": r.checked_hour_lines,
        "active_actors": r.incremental.active_actors,
        "fold_ms": round1(ms(r.fold)),
        "check_ms": round1(ms(r.check_median)),
        "incremental_ms": round1(ms(incremental)),
        "rebuild_ms": round1(ms(rebuild)),
        "cold_ms": round1(ms(cold)),
        "cold_cpu_ms": round1(ms(cold_cpu)),
        "duckdb_ms": duck.map(|(d, ..)| round1(ms(d))),
        "duckdb_load_ms": duck.map(|(_, l, ..)| round1(ms(l))),
        "duckdb_compute_ms": duck.map(|(_, _, c, _)| round1(ms(c))),
        "duckdb_cpu_ms": duck.map(|(.., c)| round1(ms(c))),
        "duckdb_version": r.duck_runs.first().map(|d| d.version.clone()),
        "duckdb_threads": r.duck_runs.first().map(|d| d.threads.clone()),
        "incremental_vs_duckdb": ratio(incremental),
        "incremental_pass": ratio(incremental).map(|x| x <= TARGET_INCREMENTAL),
        "cold_vs_duckdb": ratio(cold),
        "cold_pass": ratio(cold).map(|x| x <= TARGET_COLD),
        "flagged": r.incremental.actors.len(),
        "cold_flagged_same": cold_same,
        "duckdb_flagged": r.duck_runs.first().map(|d| d.flagged.actors.len()),
        "duckdb_agreement": agreement.as_ref().map(|a| round4(a.ratio())),
        "sensitive_flagged": r.sensitive.0.len(),
        "sensitive_duckdb_flagged": r.sensitive.1.as_ref().map(BTreeSet::len),
        "sensitive_agreement": sensitive.as_ref().map(|a| round4(a.ratio())),
        "duckdb_figures_agree": figures.as_ref().map(|f| f.agree),
        "duckdb_figures_actors": figures.as_ref().map(|f| f.actors),
        "duckdb_skipped": r.duck_skipped,
        "load_avg": load,
        "cores": cores,
    });
    println!();
    println!("summary {summary}");
}

fn preview(actors: &[String]) -> String {
    if actors.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = actors.iter().take(3).map(String::as_str).collect();
    let more = if actors.len() > 3 { ", ..." } else { "" };
    format!(": {}{more}", shown.join(", "))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
