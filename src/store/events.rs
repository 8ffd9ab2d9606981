//! Writing events (idempotent, with aggregates and checkpoint in the same
//! transaction) and reading them back as [`AuditEvent`]s.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, TransactionBehavior, params};

use super::aggregates::BatchAggregates;
use super::{InsertSummary, Result, Store, StoreError, checkpoints, sql_err, to_count, to_ms};
use crate::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

/// `ON CONFLICT (...) DO NOTHING` rather than `INSERT OR IGNORE`: only the
/// dedup key (see the schema for why it includes `time`) is ignored; any
/// other constraint failure aborts the batch instead of silently dropping a
/// row and calling it a duplicate.
const INSERT_EVENT: &str = "
INSERT INTO events (
    source, id, time, actor_key,
    actor_id, actor_email, actor_type, actor_ip, actor_user_agent, token_id, token_name,
    verb, kind, description,
    product, resource_type, resource_id, resource_name,
    outcome, account, raw
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
ON CONFLICT (time, source, id) DO NOTHING
";

/// Column order read by [`StoredEvent::from_row`].
pub(super) const EVENT_COLUMNS: &str = "rowid, source, id, time,
    actor_id, actor_email, actor_type, actor_ip, actor_user_agent, token_id, token_name,
    verb, kind, description,
    product, resource_type, resource_id, resource_name,
    outcome, account, raw";

impl Store {
    /// Stores events (idempotent on `(source, id)`) and maintains aggregates,
    /// all in one transaction.
    pub fn insert_events(&mut self, events: &[AuditEvent]) -> Result<InsertSummary> {
        self.insert_events_with_checkpoint(events, None)
    }

    /// As [`Store::insert_events`], and in the same transaction moves the
    /// checkpoint `key` to `position`: a crash never separates the two.
    /// A checkpoint never moves backwards: the stored position becomes the
    /// later of the old and the new one.
    ///
    /// Aggregates count only events stored for the first time, so
    /// re-ingesting a window changes nothing. On any error nothing of the
    /// batch is stored and the checkpoint is unchanged.
    pub fn insert_events_with_checkpoint(
        &mut self,
        events: &[AuditEvent],
        checkpoint: Option<(&str, DateTime<Utc>)>,
    ) -> Result<InsertSummary> {
        const OP: &str = "inserting events";
        validate_batch(&self.path, events, checkpoint)?;
        let path = self.path.as_str();
        // IMMEDIATE: take the write lock (waiting out another writer) before
        // reading anything, so the commit cannot fail on a lock upgrade.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let mut summary = InsertSummary::default();
        let mut aggregates = BatchAggregates::default();
        {
            let mut insert = tx.prepare_cached(INSERT_EVENT).map_err(sql_err(path, OP))?;
            for event in events {
                let actor_key = event.actor_key();
                let time = to_ms(event.time);
                let inserted = insert
                    .execute(params![
                        event.source.as_str(),
                        event.id,
                        time,
                        actor_key,
                        event.actor.id,
                        event.actor.email,
                        event.actor.kind,
                        event.actor.ip,
                        event.actor.user_agent,
                        event.actor.token_id,
                        event.actor.token_name,
                        event.action.verb,
                        event.action.kind.as_str(),
                        event.action.description,
                        event.resource.product,
                        event.resource.kind,
                        event.resource.id,
                        event.resource.name,
                        event.outcome.as_str(),
                        event.account,
                        event.raw,
                    ])
                    .map_err(sql_err(path, OP))?;
                if inserted == 0 {
                    summary.duplicate += 1;
                } else {
                    summary.new += 1;
                    aggregates.add(actor_key, time, event);
                }
            }
        }
        aggregates.flush(&tx, path)?;
        if let Some((key, position)) = checkpoint {
            checkpoints::advance(&tx, path, key, position, Utc::now())?;
        }
        tx.commit().map_err(sql_err(path, "committing events"))?;
        Ok(summary)
    }

    /// Counts the events table itself (a scan of its smallest index), so it
    /// is the ground truth the aggregates are checked against.
    pub fn event_count(&self) -> Result<u64> {
        const OP: &str = "counting events";
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .map_err(sql_err(&self.path, OP))?;
        to_count(&self.path, OP, n)
    }

    /// Stored events per source, in source order; sources without events are
    /// left out. Read from the hourly aggregates (kept in the same
    /// transactions as the events), so it costs O(actors x hours).
    pub fn event_count_by_source(&self) -> Result<Vec<(Source, u64)>> {
        const OP: &str = "counting events by source";
        let path = self.path.as_str();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT source, sum(events) FROM actor_hour GROUP BY source")
            .map_err(sql_err(path, OP))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(sql_err(path, OP))?;
        let mut counts = rows
            .into_iter()
            .map(|(source, n)| Ok((parse_source(path, OP, &source)?, to_count(path, OP, n)?)))
            .collect::<Result<Vec<_>>>()?;
        counts.sort();
        Ok(counts)
    }

    /// The verbatim JSON of the event with source id `id` at `time` (the
    /// outbox archives it). `time` lets the lookup use the `(time, source,
    /// id)` index instead of scanning every event.
    pub fn event_raw(&self, id: &str, time: DateTime<Utc>) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        const OP: &str = "reading an event's raw JSON";
        self.conn
            .prepare_cached("SELECT raw FROM events WHERE time = ?1 AND id = ?2 LIMIT 1")
            .and_then(|mut s| {
                s.query_row(params![to_ms(time), id], |r| r.get(0))
                    .optional()
            })
            .map_err(sql_err(&self.path, OP))
    }

    /// One actor's events with `from <= time < to`, oldest first (ties in
    /// arrival order), at most `limit`: the earliest ones are kept.
    pub fn events_for_actor(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
             ORDER BY time, rowid LIMIT ?4"
        );
        query_events(
            &self.conn,
            &self.path,
            "reading an actor's events",
            &sql,
            params![actor_key, to_ms(from), to_ms(to), sql_limit(limit)],
        )
    }

    /// All events with `from <= time < to`, oldest first (ties in arrival
    /// order), at most `limit`: the earliest ones are kept.
    pub fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE time >= ?1 AND time < ?2
             ORDER BY time, rowid LIMIT ?3"
        );
        query_events(
            &self.conn,
            &self.path,
            "reading events in a window",
            &sql,
            params![to_ms(from), to_ms(to), sql_limit(limit)],
        )
    }
}

/// Refuses what would corrupt the dedup key or the checkpoint table before
/// the transaction starts, naming the offending entry.
fn validate_batch(
    path: &str,
    events: &[AuditEvent],
    checkpoint: Option<(&str, DateTime<Utc>)>,
) -> Result<()> {
    const OP: &str = "inserting events";
    // An empty id would make every id-less entry of a source one "duplicate".
    if let Some(index) = events.iter().position(|e| e.id.is_empty()) {
        return Err(StoreError::InvalidInput {
            path: path.to_string(),
            operation: OP,
            detail: format!(
                "event {index} of the batch ({} at {}) has an empty id",
                events[index].source, events[index].time
            ),
        });
    }
    if let Some(("", _)) = checkpoint {
        return Err(StoreError::InvalidInput {
            path: path.to_string(),
            operation: OP,
            detail: "checkpoint key is empty".into(),
        });
    }
    Ok(())
}

pub(super) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(super) fn query_events(
    conn: &Connection,
    path: &str,
    operation: &'static str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err(path, operation))?;
    let rows = stmt
        .query_map(params, StoredEvent::from_row)
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(sql_err(path, operation))?;
    rows.into_iter()
        .map(|row| row.into_event(path, operation))
        .collect()
}

/// A row as stored; the enum columns are checked in [`StoredEvent::into_event`]
/// so a bad value becomes a store error naming the row, not a panic.
struct StoredEvent {
    rowid: i64,
    source: String,
    id: String,
    time: i64,
    actor: Actor,
    verb: String,
    kind: String,
    description: Option<String>,
    resource: Resource,
    outcome: String,
    account: Option<String>,
    raw: String,
}

impl StoredEvent {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
        Ok(StoredEvent {
            rowid: row.get(0)?,
            source: row.get(1)?,
            id: row.get(2)?,
            time: row.get(3)?,
            actor: Actor {
                id: row.get(4)?,
                email: row.get(5)?,
                kind: row.get(6)?,
                ip: row.get(7)?,
                user_agent: row.get(8)?,
                token_id: row.get(9)?,
                token_name: row.get(10)?,
            },
            verb: row.get(11)?,
            kind: row.get(12)?,
            description: row.get(13)?,
            resource: Resource {
                product: row.get(14)?,
                kind: row.get(15)?,
                id: row.get(16)?,
                name: row.get(17)?,
            },
            outcome: row.get(18)?,
            account: row.get(19)?,
            raw: row.get(20)?,
        })
    }

    fn into_event(self, path: &str, operation: &'static str) -> Result<AuditEvent> {
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_string(),
            operation,
            detail: format!("events row {}: {detail}", self.rowid),
        };
        let source = self.source.parse::<Source>().map_err(&corrupt)?;
        let kind = self.kind.parse::<ActionKind>().map_err(&corrupt)?;
        let outcome = self.outcome.parse::<Outcome>().map_err(&corrupt)?;
        let time = DateTime::from_timestamp_millis(self.time)
            .ok_or_else(|| corrupt(format!("time {} ms is out of range", self.time)))?;
        Ok(AuditEvent {
            source,
            id: self.id,
            time,
            actor: self.actor,
            action: Action {
                verb: self.verb,
                kind,
                description: self.description,
            },
            resource: self.resource,
            outcome,
            account: self.account,
            raw: self.raw,
        })
    }
}

fn parse_source(path: &str, operation: &'static str, text: &str) -> Result<Source> {
    text.parse().map_err(|detail| StoreError::Corrupt {
        path: path.to_string(),
        operation,
        detail,
    })
}
