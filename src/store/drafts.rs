//! Investigation drafts: created when an investigation is asked for
//! (`running`), completed with the report (`draft`, awaiting approval) or
//! marked `failed`, then `approved` by an analyst. Nothing here publishes:
//! approval records who approved, what they changed and where it should go.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::analyst_log::{NewLogEntry, insert_log_entry};
use super::{Result, Store, StoreError, from_ms, sql_err, to_ms};

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftStatus {
    /// Accepted; the investigation is being run.
    Running,
    /// Finished and awaiting an analyst's approval.
    Draft,
    /// The investigation could not be run; `error` says why.
    Failed,
    Approved,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 4] = [
        DraftStatus::Running,
        DraftStatus::Draft,
        DraftStatus::Failed,
        DraftStatus::Approved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Running => "running",
            DraftStatus::Draft => "draft",
            DraftStatus::Failed => "failed",
            DraftStatus::Approved => "approved",
        }
    }
}

super::text_enum!(DraftStatus, "draft status");

/// What asked for the investigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    Webhook,
    Finding,
    Cli,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Webhook => "webhook",
            TriggerKind::Finding => "finding",
            TriggerKind::Cli => "cli",
        }
    }
}

impl FromStr for TriggerKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        [TriggerKind::Webhook, TriggerKind::Finding, TriggerKind::Cli]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown trigger kind {s:?}"))
    }
}

/// A draft to create.
#[derive(Debug, Clone)]
pub struct NewDraft<'a> {
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    pub trigger_kind: TriggerKind,
    /// Delivery id or finding dedup key; `None` for CLI runs.
    pub trigger_ref: Option<&'a str>,
    /// The trigger as JSON (the anomaly payload, the finding summary).
    pub trigger_json: &'a str,
}

/// Result of [`Store::create_draft`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftCreated {
    New(i64),
    /// The same trigger already has this draft; nothing was written.
    Existing(i64),
}

impl DraftCreated {
    pub fn id(self) -> i64 {
        match self {
            DraftCreated::New(id) | DraftCreated::Existing(id) => id,
        }
    }
}

/// A stored draft. `report_json` holds the report (attacker text inside is
/// raw: sanitize or escape when showing it).
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRow {
    pub id: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub trigger_kind: TriggerKind,
    pub trigger_ref: Option<String>,
    pub trigger_json: String,
    pub status: DraftStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verdict: Option<String>,
    pub confidence: Option<f64>,
    pub untrusted_output: bool,
    pub report_json: Option<String>,
    pub error: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub publish_to: Option<String>,
}

/// The finished investigation written into a running draft.
#[derive(Debug, Clone)]
pub struct DraftResult<'a> {
    pub verdict: &'a str,
    pub confidence: f64,
    pub untrusted_output: bool,
    pub report_json: &'a str,
}

/// An analyst's approval, with the edited report when they changed it.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub id: i64,
    pub analyst: &'a str,
    /// `Some` when the analyst edited the report: the new report, verdict and
    /// confidence, and JSON of the changed fields before and after.
    pub edit: Option<DraftEdit<'a>>,
    /// Where the approved report should go (`confluence`), if anywhere.
    pub publish_to: Option<&'a str>,
    pub note: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct DraftEdit<'a> {
    pub report_json: &'a str,
    pub verdict: &'a str,
    pub confidence: f64,
    pub before_json: &'a str,
    pub after_json: &'a str,
}

const DRAFT_COLUMNS: &str = "id, actor, at, trigger_kind, trigger_ref, trigger_json, status, \
     created_at, updated_at, verdict, confidence, untrusted_output, report_json, error, \
     approved_by, approved_at, publish_to";

impl Store {
    /// Creates a `running` draft, or returns the one the same trigger already has.
    pub fn create_draft(&mut self, new: &NewDraft<'_>, now: DateTime<Utc>) -> Result<DraftCreated> {
        const OP: &str = "creating a draft";
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let created = create_draft_in(&tx, &path, new, now)?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(created)
    }

    /// Writes the report into a `running` draft and makes it a `draft`.
    pub fn complete_draft(
        &mut self,
        id: i64,
        result: &DraftResult<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const OP: &str = "storing a draft report";
        let changed = self
            .conn
            .execute(
                "UPDATE drafts SET status = 'draft', verdict = ?2, confidence = ?3,
                     untrusted_output = ?4, report_json = ?5, error = NULL, updated_at = ?6
                 WHERE id = ?1 AND status = 'running'",
                params![
                    id,
                    result.verdict,
                    result.confidence,
                    result.untrusted_output,
                    result.report_json,
                    to_ms(now)
                ],
            )
            .map_err(sql_err(&self.path, OP))?;
        self.expect_one(changed, id, OP, "is not running")
    }

    /// Marks a `running` draft `failed` with the reason.
    pub fn fail_draft(&mut self, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        const OP: &str = "marking a draft failed";
        let changed = self
            .conn
            .execute(
                "UPDATE drafts SET status = 'failed', error = ?2, updated_at = ?3
                 WHERE id = ?1 AND status = 'running'",
                params![id, error, to_ms(now)],
            )
            .map_err(sql_err(&self.path, OP))?;
        self.expect_one(changed, id, OP, "is not running")
    }

    pub fn draft(&self, id: i64) -> Result<Option<DraftRow>> {
        const OP: &str = "reading a draft";
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id], RawDraft::from_row).optional())
            .map_err(sql_err(&self.path, OP))?;
        row.map(|raw| raw.into_row(&self.path, OP)).transpose()
    }

    /// The newest drafts first, optionally only those in `status`.
    pub fn drafts(&self, status: Option<DraftStatus>, limit: usize) -> Result<Vec<DraftRow>> {
        const OP: &str = "listing drafts";
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE ?1 IS NULL OR status = ?1
             ORDER BY id DESC LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![status.map(DraftStatus::as_str), limit], |row| {
                    RawDraft::from_row(row)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|raw| raw.into_row(&self.path, OP))
            .collect()
    }

    /// `(id, updated_at)` of the newest drafts, newest first: a viewer
    /// re-reads (and re-parses) only the drafts whose stamp moved.
    pub fn draft_versions(&self, limit: usize) -> Result<Vec<(i64, DateTime<Utc>)>> {
        const OP: &str = "listing draft versions";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .conn
            .prepare_cached("SELECT id, updated_at FROM drafts ORDER BY id DESC LIMIT ?1")
            .and_then(|mut s| {
                s.query_map([limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|(id, ms)| Ok((id, from_ms(&self.path, OP, ms)?)))
            .collect()
    }

    /// Approves a `draft` and records the approval (and the edit, if any)
    /// in the analyst log, all in one transaction.
    pub fn approve_draft(&mut self, approval: &Approval<'_>, now: DateTime<Utc>) -> Result<()> {
        // Nothing is queued, so the delivery is moot.
        self.approve_and_enqueue(approval, None, now, super::Delivery::DryRun)
            .map(|_| ())
    }

    /// Approves a draft and, in the same transaction, queues what the
    /// approval publishes (the Confluence page): an approval is never
    /// recorded without its request, nor a request without its approval.
    /// Returns the outbox row's id (`None` when nothing is queued, or when
    /// the same request is already queued). `delivery` is how the request
    /// is recorded (the investigation workflow's mode).
    pub fn approve_and_enqueue(
        &mut self,
        approval: &Approval<'_>,
        publish: Option<&super::NewOutboxItem>,
        now: DateTime<Utc>,
        delivery: super::Delivery,
    ) -> Result<Option<i64>> {
        const OP: &str = "approving a draft";
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        approve_in(&tx, &path, approval, now)?;
        let queued = match publish {
            Some(item) => super::outbox::insert_item(&tx, &path, item, now, delivery)?,
            None => None,
        };
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(queued)
    }

    fn expect_one(
        &self,
        changed: usize,
        id: i64,
        operation: &'static str,
        why: &str,
    ) -> Result<()> {
        if changed == 1 {
            return Ok(());
        }
        let status = self
            .draft(id)?
            .map(|d| format!("it is {}", d.status))
            .unwrap_or_else(|| "it does not exist".to_owned());
        Err(StoreError::InvalidInput {
            path: self.path.clone(),
            operation,
            detail: format!("draft {} {why} ({status})", draft_label(id)),
        })
    }
}

/// The id analysts see: `INV-12`.
pub fn draft_label(id: i64) -> String {
    format!("INV-{id}")
}

/// Reads `INV-12` or `12`.
pub fn parse_draft_label(text: &str) -> Option<i64> {
    let digits = text
        .strip_prefix("INV-")
        .or_else(|| text.strip_prefix("inv-"))
        .unwrap_or(text);
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}

pub(super) fn create_draft_in(
    conn: &Connection,
    path: &str,
    new: &NewDraft<'_>,
    now: DateTime<Utc>,
) -> Result<DraftCreated> {
    const OP: &str = "creating a draft";
    if new.actor.trim().is_empty() {
        return Err(StoreError::InvalidInput {
            path: path.to_owned(),
            operation: OP,
            detail: "the actor is empty".into(),
        });
    }
    if let Some(reference) = new.trigger_ref {
        let existing = conn
            .prepare_cached("SELECT id FROM drafts WHERE trigger_kind = ?1 AND trigger_ref = ?2")
            .and_then(|mut s| {
                s.query_row(params![new.trigger_kind.as_str(), reference], |r| r.get(0))
                    .optional()
            })
            .map_err(sql_err(path, OP))?;
        if let Some(id) = existing {
            return Ok(DraftCreated::Existing(id));
        }
    }
    let now = to_ms(now);
    conn.prepare_cached(
        "INSERT INTO drafts (actor, at, trigger_kind, trigger_ref, trigger_json, status,
                             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            new.actor,
            to_ms(new.at),
            new.trigger_kind.as_str(),
            new.trigger_ref,
            new.trigger_json,
            now
        ])
    })
    .map_err(sql_err(path, OP))?;
    Ok(DraftCreated::New(conn.last_insert_rowid()))
}

fn approve_in(
    tx: &Transaction<'_>,
    path: &str,
    approval: &Approval<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    const OP: &str = "approving a draft";
    let label = draft_label(approval.id);
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM drafts WHERE id = ?1",
            [approval.id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(path, OP))?;
    let refuse = |detail: String| StoreError::InvalidInput {
        path: path.to_owned(),
        operation: OP,
        detail,
    };
    match status.as_deref() {
        None => return Err(refuse(format!("draft {label} does not exist"))),
        Some("draft") => {}
        Some(other) => {
            return Err(refuse(format!(
                "draft {label} is {other}; only a finished draft can be approved"
            )));
        }
    }
    let at = to_ms(now);
    if let Some(edit) = &approval.edit {
        tx.execute(
            "UPDATE drafts SET report_json = ?2, verdict = ?3, confidence = ?4 WHERE id = ?1",
            params![approval.id, edit.report_json, edit.verdict, edit.confidence],
        )
        .map_err(sql_err(path, OP))?;
        insert_log_entry(
            tx,
            path,
            &NewLogEntry {
                analyst: approval.analyst,
                action: "edit",
                subject: &label,
                before: Some(edit.before_json),
                after: Some(edit.after_json),
                note: approval.note,
            },
            now,
        )?;
    }
    tx.execute(
        "UPDATE drafts SET status = 'approved', approved_by = ?2, approved_at = ?3,
             publish_to = ?4, updated_at = ?3
         WHERE id = ?1",
        params![approval.id, approval.analyst, at, approval.publish_to],
    )
    .map_err(sql_err(path, OP))?;
    let after = serde_json::json!({ "status": "approved", "publish_to": approval.publish_to });
    insert_log_entry(
        tx,
        path,
        &NewLogEntry {
            analyst: approval.analyst,
            action: "approve",
            subject: &label,
            before: Some(r#"{"status":"draft"}"#),
            after: Some(&after.to_string()),
            note: approval.note,
        },
        now,
    )?;
    Ok(())
}

/// A row as stored; enum and time columns are checked in [`RawDraft::into_row`].
struct RawDraft {
    id: i64,
    actor: String,
    at: i64,
    trigger_kind: String,
    trigger_ref: Option<String>,
    trigger_json: String,
    status: String,
    created_at: i64,
    updated_at: i64,
    verdict: Option<String>,
    confidence: Option<f64>,
    untrusted_output: bool,
    report_json: Option<String>,
    error: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<i64>,
    publish_to: Option<String>,
}

impl RawDraft {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<RawDraft> {
        Ok(RawDraft {
            id: row.get(0)?,
            actor: row.get(1)?,
            at: row.get(2)?,
            trigger_kind: row.get(3)?,
            trigger_ref: row.get(4)?,
            trigger_json: row.get(5)?,
            status: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            verdict: row.get(9)?,
            confidence: row.get(10)?,
            untrusted_output: row.get(11)?,
            report_json: row.get(12)?,
            error: row.get(13)?,
            approved_by: row.get(14)?,
            approved_at: row.get(15)?,
            publish_to: row.get(16)?,
        })
    }

    fn into_row(self, path: &str, operation: &'static str) -> Result<DraftRow> {
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_owned(),
            operation,
            detail: format!("drafts row {}: {detail}", self.id),
        };
        Ok(DraftRow {
            id: self.id,
            actor: self.actor,
            at: from_ms(path, operation, self.at)?,
            trigger_kind: self.trigger_kind.parse().map_err(&corrupt)?,
            trigger_ref: self.trigger_ref,
            trigger_json: self.trigger_json,
            status: self.status.parse().map_err(&corrupt)?,
            created_at: from_ms(path, operation, self.created_at)?,
            updated_at: from_ms(path, operation, self.updated_at)?,
            verdict: self.verdict,
            confidence: self.confidence,
            untrusted_output: self.untrusted_output,
            report_json: self.report_json,
            error: self.error,
            approved_by: self.approved_by,
            approved_at: self
                .approved_at
                .map(|ms| from_ms(path, operation, ms))
                .transpose()?,
            publish_to: self.publish_to,
        })
    }
}

#[cfg(test)]
mod tests;
