//! Health: per check, when it last ran, how long it took, how it went and
//! when it runs next; plus who holds the lease and the outbox backlog. Built
//! from the store's `check_runs` (so a TUI beside a daemon sees the same
//! figures) and the engine's own view of what is running right now.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{CheckKind, CheckRun, Lease, OutboxCounts};

/// One check's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckHealth {
    pub check: CheckKind,
    pub cadence: Duration,
    /// A run is in progress in this engine.
    pub running: bool,
    pub last_run_start: Option<DateTime<Utc>>,
    pub last_duration_ms: Option<u64>,
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Why the last run failed; `None` when it succeeded (or never ran).
    pub last_error: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
    /// Exclusive end of the windows checked so far.
    pub covered_until: Option<DateTime<Utc>>,
    pub runs: u64,
    pub failures: u64,
}

impl CheckHealth {
    fn from_run(check: CheckKind, cadence: Duration, run: Option<&CheckRun>) -> CheckHealth {
        CheckHealth {
            check,
            cadence,
            running: false,
            last_run_start: run.and_then(|r| r.last_run_start),
            last_duration_ms: run.and_then(|r| r.last_duration_ms),
            last_ok_at: run.and_then(|r| r.last_ok_at),
            last_error: run.and_then(|r| r.last_error.clone()),
            next_run: run.and_then(|r| r.next_run),
            covered_until: run.and_then(|r| r.covered_until),
            runs: run.map_or(0, |r| r.runs),
            failures: run.map_or(0, |r| r.failures),
        }
    }

    /// True when the check has run and its last run succeeded.
    pub fn is_ok(&self) -> bool {
        self.runs > 0 && self.last_error.is_none()
    }
}

/// The engine's health at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    pub at: DateTime<Utc>,
    /// This engine's lease holder id.
    pub engine_id: String,
    /// Whether this engine holds the lease (runs the scheduled checks).
    pub lease_held: bool,
    /// Who holds the lease, if anyone.
    pub lease: Option<Lease>,
    pub dry_run: bool,
    pub checks: Vec<CheckHealth>,
    pub outbox: OutboxCounts,
}

impl HealthSnapshot {
    /// An empty snapshot (before the first read of the store).
    pub fn initial(engine_id: &str, dry_run: bool, at: DateTime<Utc>) -> HealthSnapshot {
        HealthSnapshot {
            at,
            engine_id: engine_id.to_string(),
            lease_held: false,
            lease: None,
            dry_run,
            checks: Vec::new(),
            outbox: OutboxCounts::default(),
        }
    }

    pub fn check(&self, check: CheckKind) -> Option<&CheckHealth> {
        self.checks.iter().find(|c| c.check == check)
    }
}

/// What the store says, read in one go by the engine.
#[derive(Debug, Clone)]
pub struct StoredHealth {
    pub runs: Vec<CheckRun>,
    pub lease: Option<Lease>,
    pub outbox: OutboxCounts,
}

/// What only the engine knows.
#[derive(Debug, Clone, Copy)]
pub struct LiveState<'a> {
    pub engine_id: &'a str,
    pub lease_held: bool,
    pub dry_run: bool,
    pub cadences: &'a [(CheckKind, Duration)],
    pub running: &'a [CheckKind],
}

pub fn snapshot(at: DateTime<Utc>, stored: &StoredHealth, live: LiveState<'_>) -> HealthSnapshot {
    let checks = live
        .cadences
        .iter()
        .map(|&(check, cadence)| {
            let run = stored.runs.iter().find(|r| r.check == check);
            let mut health = CheckHealth::from_run(check, cadence, run);
            health.running = live.running.contains(&check);
            health
        })
        .collect();
    HealthSnapshot {
        at,
        engine_id: live.engine_id.to_string(),
        lease_held: live.lease_held,
        lease: stored.lease.clone(),
        dry_run: live.dry_run,
        checks,
        outbox: stored.outbox,
    }
}
