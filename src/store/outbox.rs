//! The outbox: every push to a sink is a row, written in the same
//! transaction as the finding (or approval) that causes it, and delivered
//! later by the outbox worker.
//!
//! A row is unique by `{sink}:{finding dedup key}:{request kind}`: recording
//! the same finding again never queues the same request twice. This module
//! only writes and lists rows; claiming, retrying and marking delivered or
//! dead belong to the delivery worker, which works on the columns
//! `state`, `attempts`, `next_attempt_at`, `last_error`, `remote_id`,
//! `remote_url` and `updated_at` (claim `queued` rows with
//! `next_attempt_at <= now`, index `outbox_due`).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, from_ms, sql_err, to_count, to_ms};
use crate::detect::{Finding, Severity, SinkRequest, Workflow};

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sink {
    Linear,
    PagerDuty,
    Archive,
    Confluence,
}

impl Sink {
    pub const ALL: [Sink; 4] = [
        Sink::Linear,
        Sink::PagerDuty,
        Sink::Archive,
        Sink::Confluence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sink::Linear => "linear",
            Sink::PagerDuty => "pagerduty",
            Sink::Archive => "archive",
            Sink::Confluence => "confluence",
        }
    }
}

super::text_enum!(Sink, "sink");

/// Where a row is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for `next_attempt_at`.
    Queued,
    /// Claimed by a worker.
    InFlight,
    Delivered,
    /// Gave up: the TUI shows these.
    Dead,
    /// Recorded by an engine running with `--dry-run`: never sent.
    DryRun,
}

impl OutboxState {
    pub const ALL: [OutboxState; 5] = [
        OutboxState::Queued,
        OutboxState::InFlight,
        OutboxState::Delivered,
        OutboxState::Dead,
        OutboxState::DryRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::InFlight => "in_flight",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
            OutboxState::DryRun => "dry_run",
        }
    }
}

impl FromStr for OutboxState {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        OutboxState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown outbox state {s:?}"))
    }
}

/// Whether new requests are for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Queued for the worker.
    #[default]
    Live,
    /// Recorded as `dry_run`: visible, never sent.
    DryRun,
}

impl Delivery {
    fn initial_state(self) -> OutboxState {
        match self {
            Delivery::Live => OutboxState::Queued,
            Delivery::DryRun => OutboxState::DryRun,
        }
    }
}

/// What a worker needs to deliver a finding's request: the request itself
/// and the finding's identity (PagerDuty's `dedup_key` is the finding's;
/// Linear's issue id and the archive key derive from the row's dedup key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRequestPayload {
    pub finding_dedup_key: String,
    pub workflow: Workflow,
    pub actor: String,
    pub severity: Severity,
    pub title: String,
    pub request: SinkRequest,
}

/// A row to add, for producers other than [`Store::record_finding`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxItem {
    /// `{sink}:{subject}:{kind}`; the row is added only if no row has it.
    pub dedup_key: String,
    pub finding_id: Option<i64>,
    pub sink: Sink,
    /// What is being done (`ticket`, `trigger`, `object`, `page`).
    pub kind: String,
    pub payload: serde_json::Value,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub dedup_key: String,
    pub finding_id: Option<i64>,
    pub sink: Sink,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: OutboxState,
    pub attempts: u64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
    pub remote_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which rows to list; oldest first.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub state: Option<OutboxState>,
    pub sink: Option<Sink>,
    pub finding_id: Option<i64>,
    pub limit: Option<usize>,
}

/// Rows per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub queued: u64,
    pub in_flight: u64,
    pub delivered: u64,
    pub dead: u64,
    pub dry_run: u64,
}

/// Adds a row unless its dedup key exists. The one exception: a row a
/// dry run recorded becomes `queued` when a live engine asks for the same
/// request, since the dry run only said it *would* send it.
const INSERT_ITEM: &str = "
INSERT INTO outbox (dedup_key, finding_id, sink, kind, payload, state, next_attempt_at,
                    created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7)
ON CONFLICT (dedup_key) DO UPDATE SET state = 'queued', next_attempt_at = excluded.next_attempt_at,
    updated_at = excluded.updated_at
    WHERE outbox.state = 'dry_run' AND excluded.state = 'queued'
RETURNING id
";

pub(super) const ITEM_COLUMNS: &str =
    "id, dedup_key, finding_id, sink, kind, payload, state, attempts,
    next_attempt_at, last_error, remote_id, remote_url, created_at, updated_at";

impl Store {
    /// Adds `item` as `queued` (or `dry_run`) unless a row with its dedup
    /// key exists; returns the new row's id, `None` for a duplicate.
    pub fn enqueue(
        &mut self,
        item: &NewOutboxItem,
        now: DateTime<Utc>,
        delivery: Delivery,
    ) -> Result<Option<i64>> {
        const OP: &str = "enqueuing an outbox request";
        let path = self.path.as_str();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let id = insert_item(&tx, path, item, now, delivery)?;
        tx.commit().map_err(sql_err(path, OP))?;
        Ok(id)
    }

    /// Rows matching `filter`, oldest first.
    pub fn outbox_list(&self, filter: &OutboxFilter) -> Result<Vec<OutboxItem>> {
        const OP: &str = "listing the outbox";
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM outbox
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR sink = ?2)
               AND (?3 IS NULL OR finding_id = ?3)
             ORDER BY id LIMIT ?4"
        );
        let limit = filter
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![
                        filter.state.map(OutboxState::as_str),
                        filter.sink.map(Sink::as_str),
                        filter.finding_id,
                        limit
                    ],
                    RawItem::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|r| r.into_item(&self.path, OP))
            .collect()
    }

    /// The newest `limit` rows, newest first, with `payload` left out
    /// (`null`): a list for people, which must stay cheap however large
    /// the pages and archived events in the payloads are.
    pub fn outbox_newest(&self, limit: usize) -> Result<Vec<OutboxItem>> {
        const OP: &str = "listing the newest outbox rows";
        let columns = ITEM_COLUMNS.replace("payload", "'null'");
        let sql = format!("SELECT {columns} FROM outbox ORDER BY id DESC LIMIT ?1");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map([limit], RawItem::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|r| r.into_item(&self.path, OP))
            .collect()
    }

    /// How many rows are in each state.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        const OP: &str = "counting the outbox";
        let path = self.path.as_str();
        let rows = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")
            .and_then(|mut s| {
                s.query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(path, OP))?;
        let mut counts = OutboxCounts::default();
        for (state, n) in rows {
            let n = to_count(path, OP, n)?;
            let state: OutboxState = state.parse().map_err(|detail| StoreError::Corrupt {
                path: path.to_string(),
                operation: OP,
                detail,
            })?;
            match state {
                OutboxState::Queued => counts.queued = n,
                OutboxState::InFlight => counts.in_flight = n,
                OutboxState::Delivered => counts.delivered = n,
                OutboxState::Dead => counts.dead = n,
                OutboxState::DryRun => counts.dry_run = n,
            }
        }
        Ok(counts)
    }
}

/// The sink and request kind of a detector's request.
pub fn request_target(request: &SinkRequest) -> (Sink, &'static str) {
    match request {
        SinkRequest::LinearTicket { .. } => (Sink::Linear, "ticket"),
        SinkRequest::PagerDutyTrigger { .. } => (Sink::PagerDuty, "trigger"),
        SinkRequest::ArchiveObject { .. } => (Sink::Archive, "object"),
    }
}

/// Enqueues one of a finding's requests inside the caller's transaction;
/// true when a row was added (or a dry-run row became live).
pub(super) fn enqueue_request(
    conn: &Connection,
    path: &str,
    finding_id: i64,
    finding: &Finding,
    request: &SinkRequest,
    now: DateTime<Utc>,
    delivery: Delivery,
) -> Result<bool> {
    let (sink, kind) = request_target(request);
    let payload = FindingRequestPayload {
        finding_dedup_key: finding.dedup_key.clone(),
        workflow: finding.workflow,
        actor: finding.actor.clone(),
        severity: finding.severity,
        title: finding.title.clone(),
        request: request.clone(),
    };
    let payload = serde_json::to_string(&payload).map_err(|e| StoreError::InvalidInput {
        path: path.to_string(),
        operation: "enqueuing an outbox request",
        detail: format!(
            "{} request of finding {} is not serializable: {e}",
            sink, finding.dedup_key
        ),
    })?;
    let dedup_key = format!("{sink}:{}:{kind}", finding.dedup_key);
    let row = NewRow {
        dedup_key: &dedup_key,
        finding_id: Some(finding_id),
        sink,
        kind,
        payload: &payload,
    };
    Ok(insert(conn, path, &row, now, delivery)?.is_some())
}

/// A row about to be written, payload already serialized.
pub(super) struct NewRow<'a> {
    pub(super) dedup_key: &'a str,
    pub(super) finding_id: Option<i64>,
    pub(super) sink: Sink,
    pub(super) kind: &'a str,
    pub(super) payload: &'a str,
}

/// [`insert`] for a caller's [`NewOutboxItem`], inside its transaction.
pub(super) fn insert_item(
    conn: &Connection,
    path: &str,
    item: &NewOutboxItem,
    now: DateTime<Utc>,
    delivery: Delivery,
) -> Result<Option<i64>> {
    let payload = item.payload.to_string();
    insert(
        conn,
        path,
        &NewRow {
            dedup_key: &item.dedup_key,
            finding_id: item.finding_id,
            sink: item.sink,
            kind: &item.kind,
            payload: &payload,
        },
        now,
        delivery,
    )
}

/// The added (or revived) row's id; `None` when the dedup key was taken.
pub(super) fn insert(
    conn: &Connection,
    path: &str,
    row: &NewRow<'_>,
    now: DateTime<Utc>,
    delivery: Delivery,
) -> Result<Option<i64>> {
    const OP: &str = "enqueuing an outbox request";
    if row.dedup_key.is_empty() || row.kind.is_empty() {
        return Err(StoreError::InvalidInput {
            path: path.to_string(),
            operation: OP,
            detail: format!(
                "{} request has an empty dedup key or kind ({:?}, {:?})",
                row.sink, row.dedup_key, row.kind
            ),
        });
    }
    conn.prepare_cached(INSERT_ITEM)
        .and_then(|mut s| {
            s.query_row(
                params![
                    row.dedup_key,
                    row.finding_id,
                    row.sink.as_str(),
                    row.kind,
                    row.payload,
                    delivery.initial_state().as_str(),
                    to_ms(now),
                ],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(sql_err(path, OP))
}

pub(super) struct RawItem {
    id: i64,
    dedup_key: String,
    finding_id: Option<i64>,
    sink: String,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    remote_id: Option<String>,
    remote_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl RawItem {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<RawItem> {
        Ok(RawItem {
            id: row.get(0)?,
            dedup_key: row.get(1)?,
            finding_id: row.get(2)?,
            sink: row.get(3)?,
            kind: row.get(4)?,
            payload: row.get(5)?,
            state: row.get(6)?,
            attempts: row.get(7)?,
            next_attempt_at: row.get(8)?,
            last_error: row.get(9)?,
            remote_id: row.get(10)?,
            remote_url: row.get(11)?,
            created_at: row.get(12)?,
            updated_at: row.get(13)?,
        })
    }

    pub(super) fn into_item(self, path: &str, operation: &'static str) -> Result<OutboxItem> {
        let id = self.id;
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_string(),
            operation,
            detail: format!("outbox row {id}: {detail}"),
        };
        Ok(OutboxItem {
            id,
            sink: self.sink.parse().map_err(&corrupt)?,
            state: self.state.parse().map_err(&corrupt)?,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| corrupt(format!("payload: {e}")))?,
            attempts: to_count(path, operation, self.attempts)?,
            next_attempt_at: from_ms(path, operation, self.next_attempt_at)?,
            created_at: from_ms(path, operation, self.created_at)?,
            updated_at: from_ms(path, operation, self.updated_at)?,
            dedup_key: self.dedup_key,
            finding_id: self.finding_id,
            kind: self.kind,
            last_error: self.last_error,
            remote_id: self.remote_id,
            remote_url: self.remote_url,
        })
    }
}
