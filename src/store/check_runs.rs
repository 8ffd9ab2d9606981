//! Per-check bookkeeping for the scheduler: when each check last ran, how
//! it went, when it runs next, and how far its windows have covered, plus
//! the burst detector's carried state.
//!
//! A window's findings, its outbox requests, the coverage mark and (for
//! bursts) the state that follows the window are written in one
//! transaction: after a crash a window is either wholly recorded or will be
//! checked again, and re-checking it only refreshes the same findings.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::findings::{RecordedFinding, record_in};
use super::outbox::Delivery;
use super::{Result, Store, StoreError, from_ms, sql_err, to_count, to_ms};
use crate::detect::Finding;
use crate::detect::burst::BurstState;

/// The scheduled checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Baseline,
    Bursts,
    Tokens,
}

impl CheckKind {
    pub const ALL: [CheckKind; 3] = [CheckKind::Baseline, CheckKind::Bursts, CheckKind::Tokens];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Baseline => "baseline",
            CheckKind::Bursts => "bursts",
            CheckKind::Tokens => "tokens",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CheckKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        CheckKind::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown check {s:?} (expected baseline, bursts or tokens)"))
    }
}

/// What the store knows about one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRun {
    pub check: CheckKind,
    pub last_run_start: Option<DateTime<Utc>>,
    pub last_duration_ms: Option<u64>,
    /// End of the last run that succeeded.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Why the last run failed; `None` when it succeeded.
    pub last_error: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
    /// Exclusive end of the windows checked so far.
    pub covered_until: Option<DateTime<Utc>>,
    pub runs: u64,
    pub failures: u64,
}

/// How a run ended, for [`Store::record_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub started: DateTime<Utc>,
    pub duration_ms: u64,
    /// `None` for success.
    pub error: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
}

/// One checked window, recorded atomically by [`Store::record_window`].
#[derive(Debug, Clone, Copy)]
pub struct WindowRecord<'a> {
    pub check: CheckKind,
    /// Exclusive end of the window, to move the check's coverage to
    /// (coverage only moves forward); `None` records findings only.
    pub covered_until: Option<DateTime<Utc>>,
    pub findings: &'a [Finding],
    /// For bursts: the state that follows the window (needs `covered_until`).
    pub burst_state: Option<&'a BurstState>,
    /// The check's time.
    pub now: DateTime<Utc>,
    pub delivery: Delivery,
}

/// The saved burst state and the window end it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedBurstState {
    pub state: BurstState,
    pub valid_at: DateTime<Utc>,
}

impl Store {
    /// Records a window's findings (upsert + outbox), moves the check's
    /// coverage to `covered_until` and saves the burst state, in one
    /// transaction. Returns what happened to each finding, in order.
    pub fn record_window(&mut self, w: &WindowRecord<'_>) -> Result<Vec<RecordedFinding>> {
        const OP: &str = "recording a checked window";
        let path = self.path.as_str();
        let state_json = w
            .burst_state
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::InvalidInput {
                path: path.to_string(),
                operation: OP,
                detail: format!("burst state is not serializable: {e}"),
            })?;
        if state_json.is_some() && w.covered_until.is_none() {
            return Err(StoreError::InvalidInput {
                path: path.to_string(),
                operation: OP,
                detail: "a burst state needs the window end it follows".into(),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let recorded = w
            .findings
            .iter()
            .map(|f| record_in(&tx, path, f, w.now, w.delivery))
            .collect::<Result<Vec<_>>>()?;
        if let Some(covered_until) = w.covered_until {
            tx.prepare_cached(
                "INSERT INTO check_runs (check_name, covered_until) VALUES (?1, ?2)
                 ON CONFLICT (check_name) DO UPDATE SET
                     covered_until = max(coalesce(covered_until, excluded.covered_until),
                                         excluded.covered_until)",
            )
            .and_then(|mut s| s.execute(params![w.check.as_str(), to_ms(covered_until)]))
            .map_err(sql_err(path, OP))?;
        }
        if let (Some(state), Some(valid_at)) = (state_json, w.covered_until) {
            tx.prepare_cached(
                "INSERT INTO burst_state (id, state, valid_at, updated_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state,
                     valid_at = excluded.valid_at, updated_at = excluded.updated_at",
            )
            .and_then(|mut s| s.execute(params![state, to_ms(valid_at), to_ms(w.now)]))
            .map_err(sql_err(path, OP))?;
        }
        tx.commit().map_err(sql_err(path, OP))?;
        Ok(recorded)
    }

    /// Records how a run ended (health: last run, duration, error, next run).
    pub fn record_run(&mut self, check: CheckKind, outcome: &RunOutcome) -> Result<()> {
        const OP: &str = "recording a check run";
        let failed = outcome.error.is_some();
        let ended = outcome.started
            + chrono::Duration::milliseconds(i64::try_from(outcome.duration_ms).unwrap_or(0));
        self.conn
            .prepare_cached(
                "INSERT INTO check_runs (check_name, last_run_start, last_duration_ms, last_ok_at,
                                         last_error, next_run, runs, failures)
                 VALUES (?1, ?2, ?3, CASE WHEN ?5 IS NULL THEN ?4 END, ?5, ?6, 1, ?7)
                 ON CONFLICT (check_name) DO UPDATE SET
                     last_run_start = excluded.last_run_start,
                     last_duration_ms = excluded.last_duration_ms,
                     last_ok_at = coalesce(excluded.last_ok_at, last_ok_at),
                     last_error = excluded.last_error,
                     next_run = excluded.next_run,
                     runs = runs + 1,
                     failures = failures + excluded.failures",
            )
            .and_then(|mut s| {
                s.execute(params![
                    check.as_str(),
                    to_ms(outcome.started),
                    i64::try_from(outcome.duration_ms).unwrap_or(i64::MAX),
                    to_ms(ended),
                    outcome.error,
                    outcome.next_run.map(to_ms),
                    i64::from(failed),
                ])
            })
            .map_err(sql_err(&self.path, OP))?;
        Ok(())
    }

    /// Sets when `check` runs next (the scheduler announces it ahead).
    pub fn set_next_run(&mut self, check: CheckKind, next_run: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO check_runs (check_name, next_run) VALUES (?1, ?2)
                 ON CONFLICT (check_name) DO UPDATE SET next_run = excluded.next_run",
            )
            .and_then(|mut s| s.execute(params![check.as_str(), to_ms(next_run)]))
            .map_err(sql_err(&self.path, "setting a check's next run"))?;
        Ok(())
    }

    pub fn check_run(&self, check: CheckKind) -> Result<Option<CheckRun>> {
        Ok(self.check_runs()?.into_iter().find(|r| r.check == check))
    }

    /// Every check that has run or been scheduled, in check order.
    pub fn check_runs(&self) -> Result<Vec<CheckRun>> {
        const OP: &str = "reading check runs";
        let path = self.path.as_str();
        type RawRun = (
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
        );
        let rows: Vec<RawRun> = self
            .conn
            .prepare_cached(
                "SELECT check_name, last_run_start, last_duration_ms, last_ok_at, last_error,
                        next_run, covered_until, runs, failures FROM check_runs",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(path, OP))?;
        let time = |ms: Option<i64>| ms.map(|ms| from_ms(path, OP, ms)).transpose();
        let mut runs = rows
            .into_iter()
            .map(
                |(name, start, dur, ok, error, next, covered, runs, failures)| {
                    Ok(CheckRun {
                        check: name.parse().map_err(|detail| StoreError::Corrupt {
                            path: path.to_string(),
                            operation: OP,
                            detail,
                        })?,
                        last_run_start: time(start)?,
                        last_duration_ms: dur.map(|d| to_count(path, OP, d)).transpose()?,
                        last_ok_at: time(ok)?,
                        last_error: error,
                        next_run: time(next)?,
                        covered_until: time(covered)?,
                        runs: to_count(path, OP, runs)?,
                        failures: to_count(path, OP, failures)?,
                    })
                },
            )
            .collect::<Result<Vec<_>>>()?;
        runs.sort_by_key(|r| r.check);
        Ok(runs)
    }

    /// The burst state saved with the last recorded bursts window.
    pub fn burst_state(&self) -> Result<Option<SavedBurstState>> {
        const OP: &str = "reading the burst state";
        let path = self.path.as_str();
        let row = self
            .conn
            .prepare_cached("SELECT state, valid_at FROM burst_state WHERE id = 1")
            .and_then(|mut s| {
                s.query_row([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                    .optional()
            })
            .map_err(sql_err(path, OP))?;
        row.map(|(json, valid_at)| {
            Ok(SavedBurstState {
                state: serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    path: path.to_string(),
                    operation: OP,
                    detail: format!("saved burst state is not valid: {e}"),
                })?,
                valid_at: from_ms(path, OP, valid_at)?,
            })
        })
        .transpose()
    }
}
