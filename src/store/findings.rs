//! Findings: one row per dedup key. Recording a finding upserts it and, in
//! the same transaction, enqueues its sink requests in the outbox, so a
//! crash can never leave a finding without its requests or the reverse.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::outbox::{self, Delivery};
use super::{Result, Store, StoreError, from_ms, sql_err, to_count, to_ms};
use crate::detect::finding::SuppressedHit;
use crate::detect::{Finding, Severity, Workflow};

/// Where an analyst has taken a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    New,
    Acknowledged,
    Resolved,
    Snoozed,
}

impl FindingState {
    pub const ALL: [FindingState; 4] = [
        FindingState::New,
        FindingState::Acknowledged,
        FindingState::Resolved,
        FindingState::Snoozed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::New => "new",
            FindingState::Acknowledged => "acknowledged",
            FindingState::Resolved => "resolved",
            FindingState::Snoozed => "snoozed",
        }
    }
}

super::text_enum!(FindingState, "finding state");

/// What recording one finding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordedFinding {
    pub id: i64,
    /// False when a finding with the same dedup key was already stored (it
    /// was updated: last seen, counts, evidence).
    pub inserted: bool,
    /// Outbox requests added (0 for requests already queued earlier).
    pub enqueued: u32,
}

/// A finding as stored, with its analyst state and sighting history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFinding {
    pub id: i64,
    pub dedup_key: String,
    pub workflow: Workflow,
    pub actor: String,
    pub severity: Severity,
    pub title: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub summary: String,
    pub evidence: serde_json::Value,
    pub event_ids: Vec<String>,
    pub rules: Vec<String>,
    pub suppressed: Vec<SuppressedHit>,
    pub state: FindingState,
    pub snoozed_until: Option<DateTime<Utc>>,
    /// When a check first reported it.
    pub first_seen: DateTime<Utc>,
    /// When a check last reported it.
    pub last_seen: DateTime<Utc>,
    pub times_seen: u64,
}

/// A stored finding as the detector reported it (its requests are already
/// in the outbox and are not needed again).
impl From<StoredFinding> for Finding {
    fn from(stored: StoredFinding) -> Finding {
        Finding {
            workflow: stored.workflow,
            dedup_key: stored.dedup_key,
            actor: stored.actor,
            severity: stored.severity,
            title: stored.title,
            window_start: stored.window_start,
            window_end: stored.window_end,
            summary: stored.summary,
            evidence: stored.evidence,
            event_ids: stored.event_ids,
            rules: stored.rules,
            suppressed: stored.suppressed,
            requests: Vec::new(),
        }
    }
}

/// Which findings to list; newest (by `last_seen`) first.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub workflow: Option<Workflow>,
    /// Only findings last seen at or after this time.
    pub seen_since: Option<DateTime<Utc>>,
    /// At most this many; `None` for all.
    pub limit: Option<usize>,
}

/// Insert, or refresh what a later sighting knows. The window only widens
/// (a continuing burst keeps its start and moves its end); the analyst's
/// state is never touched by a check.
const UPSERT_FINDING: &str = "
INSERT INTO findings (dedup_key, workflow, actor, severity, title, window_start, window_end,
                      summary, evidence, event_ids, rules, suppressed, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
ON CONFLICT (dedup_key) DO UPDATE SET
    severity = excluded.severity,
    title = excluded.title,
    window_start = min(window_start, excluded.window_start),
    window_end = max(window_end, excluded.window_end),
    summary = excluded.summary,
    evidence = excluded.evidence,
    event_ids = excluded.event_ids,
    rules = excluded.rules,
    suppressed = excluded.suppressed,
    last_seen = max(last_seen, excluded.last_seen),
    times_seen = times_seen + 1
RETURNING id, times_seen
";

const FINDING_COLUMNS: &str = "id, dedup_key, workflow, actor, severity, title, window_start,
    window_end, summary, evidence, event_ids, rules, suppressed, state, snoozed_until,
    first_seen, last_seen, times_seen";

impl Store {
    /// Upserts `finding` by its dedup key and enqueues its sink requests
    /// (each at most once, ever) in the same transaction. `now` is the
    /// check's time; `delivery` says whether requests are for sending.
    pub fn record_finding(
        &mut self,
        finding: &Finding,
        now: DateTime<Utc>,
        delivery: Delivery,
    ) -> Result<RecordedFinding> {
        const OP: &str = "recording a finding";
        let path = self.path.as_str();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let recorded = record_in(&tx, path, finding, now, delivery)?;
        tx.commit().map_err(sql_err(path, OP))?;
        Ok(recorded)
    }

    /// The finding with this dedup key, if stored.
    pub fn finding(&self, dedup_key: &str) -> Result<Option<StoredFinding>> {
        const OP: &str = "reading a finding";
        let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE dedup_key = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([dedup_key], RawFinding::from_row).optional())
            .map_err(sql_err(&self.path, OP))?;
        row.map(|r| r.into_finding(&self.path, OP)).transpose()
    }

    /// The finding with this row id, if stored.
    pub fn finding_by_id(&self, id: i64) -> Result<Option<StoredFinding>> {
        const OP: &str = "reading a finding";
        let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id], RawFinding::from_row).optional())
            .map_err(sql_err(&self.path, OP))?;
        row.map(|r| r.into_finding(&self.path, OP)).transpose()
    }

    /// Findings matching `filter`, most recently seen first.
    pub fn findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>> {
        const OP: &str = "listing findings";
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings
             WHERE (?1 IS NULL OR workflow = ?1) AND (?2 IS NULL OR last_seen >= ?2)
             ORDER BY last_seen DESC, id DESC LIMIT ?3"
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
                        filter.workflow.map(Workflow::as_str),
                        filter.seen_since.map(to_ms),
                        limit
                    ],
                    RawFinding::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|r| r.into_finding(&self.path, OP))
            .collect()
    }
}

/// Records one finding inside the caller's transaction.
pub(super) fn record_in(
    conn: &Connection,
    path: &str,
    finding: &Finding,
    now: DateTime<Utc>,
    delivery: Delivery,
) -> Result<RecordedFinding> {
    const OP: &str = "recording a finding";
    if finding.dedup_key.is_empty() {
        return Err(StoreError::InvalidInput {
            path: path.to_string(),
            operation: OP,
            detail: format!("finding {:?} has an empty dedup key", finding.title),
        });
    }
    let json = |value: serde_json::Result<String>, field: &str| {
        value.map_err(|e| StoreError::InvalidInput {
            path: path.to_string(),
            operation: OP,
            detail: format!(
                "finding {}: {field} is not serializable: {e}",
                finding.dedup_key
            ),
        })
    };
    let evidence = json(serde_json::to_string(&finding.evidence), "evidence")?;
    let event_ids = json(serde_json::to_string(&finding.event_ids), "event_ids")?;
    let rules = json(serde_json::to_string(&finding.rules), "rules")?;
    let suppressed = json(serde_json::to_string(&finding.suppressed), "suppressed")?;
    let (id, times_seen): (i64, i64) = conn
        .prepare_cached(UPSERT_FINDING)
        .and_then(|mut s| {
            s.query_row(
                params![
                    finding.dedup_key,
                    finding.workflow.as_str(),
                    finding.actor,
                    finding.severity.as_str(),
                    finding.title,
                    to_ms(finding.window_start),
                    to_ms(finding.window_end),
                    finding.summary,
                    evidence,
                    event_ids,
                    rules,
                    suppressed,
                    to_ms(now),
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
        .map_err(sql_err(path, OP))?;
    let mut enqueued = 0;
    for request in &finding.requests {
        if outbox::enqueue_request(conn, path, id, finding, request, now, delivery)? {
            enqueued += 1;
        }
    }
    Ok(RecordedFinding {
        id,
        inserted: times_seen == 1,
        enqueued,
    })
}

/// A row as stored; text columns are parsed in [`RawFinding::into_finding`]
/// so a damaged value is an error naming the row, not a panic.
struct RawFinding {
    id: i64,
    dedup_key: String,
    workflow: String,
    actor: String,
    severity: String,
    title: String,
    window_start: i64,
    window_end: i64,
    summary: String,
    evidence: String,
    event_ids: String,
    rules: String,
    suppressed: String,
    state: String,
    snoozed_until: Option<i64>,
    first_seen: i64,
    last_seen: i64,
    times_seen: i64,
}

impl RawFinding {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<RawFinding> {
        Ok(RawFinding {
            id: row.get(0)?,
            dedup_key: row.get(1)?,
            workflow: row.get(2)?,
            actor: row.get(3)?,
            severity: row.get(4)?,
            title: row.get(5)?,
            window_start: row.get(6)?,
            window_end: row.get(7)?,
            summary: row.get(8)?,
            evidence: row.get(9)?,
            event_ids: row.get(10)?,
            rules: row.get(11)?,
            suppressed: row.get(12)?,
            state: row.get(13)?,
            snoozed_until: row.get(14)?,
            first_seen: row.get(15)?,
            last_seen: row.get(16)?,
            times_seen: row.get(17)?,
        })
    }

    fn into_finding(self, path: &str, operation: &'static str) -> Result<StoredFinding> {
        let id = self.id;
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_string(),
            operation,
            detail: format!("findings row {id}: {detail}"),
        };
        fn parse_json<T: serde::de::DeserializeOwned>(
            text: &str,
            field: &str,
        ) -> std::result::Result<T, String> {
            serde_json::from_str(text).map_err(|e| format!("{field}: {e}"))
        }
        Ok(StoredFinding {
            id,
            workflow: parse_workflow(&self.workflow).map_err(&corrupt)?,
            severity: self.severity.parse().map_err(&corrupt)?,
            state: self.state.parse().map_err(&corrupt)?,
            evidence: parse_json(&self.evidence, "evidence").map_err(&corrupt)?,
            event_ids: parse_json(&self.event_ids, "event_ids").map_err(&corrupt)?,
            rules: parse_json(&self.rules, "rules").map_err(&corrupt)?,
            suppressed: parse_json(&self.suppressed, "suppressed").map_err(&corrupt)?,
            window_start: from_ms(path, operation, self.window_start)?,
            window_end: from_ms(path, operation, self.window_end)?,
            snoozed_until: self
                .snoozed_until
                .map(|ms| from_ms(path, operation, ms))
                .transpose()?,
            first_seen: from_ms(path, operation, self.first_seen)?,
            last_seen: from_ms(path, operation, self.last_seen)?,
            times_seen: to_count(path, operation, self.times_seen)?,
            dedup_key: self.dedup_key,
            actor: self.actor,
            title: self.title,
            summary: self.summary,
        })
    }
}

pub(super) fn parse_workflow(text: &str) -> std::result::Result<Workflow, String> {
    [
        Workflow::Baseline,
        Workflow::Burst,
        Workflow::Token,
        Workflow::Investigation,
    ]
    .into_iter()
    .find(|w| w.as_str() == text)
    .ok_or_else(|| format!("unknown workflow {text:?}"))
}
