//! What the engine tells its viewers (the TUI, the daemon's status lines)
//! and what they can ask of it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::health::HealthSnapshot;
use crate::config::WorkflowMode;
use crate::detect::{Severity, Workflow};
use crate::store::{CheckKind, OutboxCounts, Sink};

/// Events broadcast by the engine. Every string that can carry
/// attacker-controlled text (actor, title, error) is raw: sanitize before
/// drawing it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineEvent {
    CheckStarted {
        check: CheckKind,
        at: DateTime<Utc>,
    },
    /// A run finished: every planned window was checked and recorded.
    CheckFinished {
        check: CheckKind,
        /// The windows the run covered, oldest first (empty when there was
        /// nothing new to check).
        windows: Vec<CoveredWindow>,
        findings: FindingCounts,
        duration: Duration,
        /// The workflow's mode for this run: `dry-run` recorded its
        /// requests as dry-run items, `on` queued them.
        mode: WorkflowMode,
    },
    /// The check's workflow is off: the run was skipped (nothing polled,
    /// checked or recorded; coverage stays where it was, so switching the
    /// workflow back on catches up like after downtime).
    CheckSkipped {
        check: CheckKind,
        /// Why, and how to switch it back on.
        reason: String,
    },
    /// A run stopped on an error; windows recorded before it stay recorded
    /// and the rest are retried by the next run.
    CheckFailed {
        check: CheckKind,
        error: String,
        duration: Duration,
    },
    /// A finding was inserted or refreshed.
    FindingRecorded {
        id: i64,
        dedup_key: String,
        workflow: Workflow,
        severity: Severity,
        actor: String,
        title: String,
        /// False when it refreshed an existing finding.
        inserted: bool,
        /// Outbox requests this sighting queued.
        enqueued: u32,
    },
    Health(HealthSnapshot),
    /// The lease changed hands: `ours` says whether this engine now runs
    /// the scheduled checks; `holder` is who does (`None`: nobody).
    LeaseChanged {
        holder: Option<String>,
        ours: bool,
    },
    /// Outbox rows per state changed (a delivery finished, rows were claimed).
    OutboxChanged {
        counts: OutboxCounts,
    },
    /// A request reached its sink (`url`: where to open it, when known).
    Delivered {
        outbox_id: i64,
        sink: Sink,
        finding_id: Option<i64>,
        remote_id: String,
        url: Option<String>,
        /// An earlier attempt had got through; this one found it.
        already_delivered: bool,
    },
    /// An attempt failed: retried later, or dead-lettered when `dead`.
    /// `error` may quote the service (raw: sanitize before drawing).
    DeliveryFailed {
        outbox_id: i64,
        sink: Sink,
        error: String,
        dead: bool,
    },
    /// The engine stopped (shutdown requested); no more events follow.
    Stopped,
}

/// A window a check covered: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CoveredWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Findings a run recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingCounts {
    /// Conditions seen for the first time.
    pub new: u32,
    /// Conditions seen before (a continuing burst, a re-checked hour).
    pub updated: u32,
    /// Of all these, how many had every rule silenced.
    pub suppressed: u32,
    /// Outbox requests queued.
    pub enqueued: u32,
}

/// What a viewer can ask of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineCommand {
    /// Run this check now (in addition to its cadence). Ignored while a
    /// run of it is already pending.
    RunNow(CheckKind),
    /// Stop every task, release the lease and emit `Stopped`.
    Shutdown,
}
