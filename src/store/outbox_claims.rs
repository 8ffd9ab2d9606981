//! The delivery worker's side of the outbox: claiming due rows, recording
//! each attempt's outcome, and the analyst's retry / drop.
//!
//! A claim moves `queued -> in_flight` and counts the attempt in the same
//! UPDATE, so two workers never claim one row and a crash mid-delivery still
//! counts towards `max_attempts` (a request that kills the process every
//! time cannot loop forever). `updated_at` of an `in_flight` row is its claim
//! time; [`Store::requeue_stale_in_flight`] puts rows claimed by a worker
//! that died back in the queue. Every outcome is a conditional UPDATE on
//! `state = 'in_flight'`: an outcome for a row the analyst dropped (or a
//! recovery requeued) in the meantime changes nothing and says so.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::analyst_log::insert_log_entry;
use super::outbox::{ITEM_COLUMNS, RawItem};
use super::sink_blocks::to_ms_ceil;
use super::{NewLogEntry, OutboxItem, OutboxState, Result, Sink, Store, StoreError, from_ms};
use super::{sql_err, to_count, to_ms};

/// `last_error` of a row the analyst dropped.
pub const DROPPED_BY_ANALYST: &str = "dropped by analyst";

/// Sinks as the SQL list parameter `claim_due` and `next_due` filter on
/// (`','`-joined names; names never contain a comma).
fn sink_list(sinks: &[Sink]) -> String {
    sinks
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// `sink` is in the list bound to parameter `?n`: membership without
/// building SQL text from values.
fn sink_in_list(n: u8) -> String {
    format!("instr(',' || ?{n} || ',', ',' || sink || ',') > 0")
}

impl Store {
    /// Claims up to `limit` `queued` rows due at `now` whose sink is in
    /// `sinks`, oldest due first: they become `in_flight` with one more attempt.
    pub fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
        sinks: &[Sink],
    ) -> Result<Vec<OutboxItem>> {
        const OP: &str = "claiming due outbox requests";
        let sql = format!(
            "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ?1
             WHERE id IN (SELECT id FROM outbox
                          WHERE state = 'queued' AND next_attempt_at <= ?1 AND {}
                          ORDER BY next_attempt_at, id LIMIT ?3)
             RETURNING {ITEM_COLUMNS}",
            sink_in_list(2)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let rows = tx
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![to_ms(now), sink_list(sinks), limit],
                    RawItem::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&path, OP))?;
        tx.commit().map_err(sql_err(&path, OP))?;
        let mut items = rows
            .into_iter()
            .map(|r| r.into_item(&path, OP))
            .collect::<Result<Vec<_>>>()?;
        items.sort_by_key(|i| (i.next_attempt_at, i.id));
        Ok(items)
    }

    /// When the earliest `queued` row of `sinks` is due, if any is queued.
    pub fn next_due(&self, sinks: &[Sink]) -> Result<Option<DateTime<Utc>>> {
        const OP: &str = "finding the next due outbox request";
        let sql = format!(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued' AND {}",
            sink_in_list(1)
        );
        let ms: Option<i64> = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([sink_list(sinks)], |r| r.get(0)))
            .map_err(sql_err(&self.path, OP))?;
        ms.map(|ms| from_ms(&self.path, OP, ms)).transpose()
    }

    /// The sink confirmed the effect: `in_flight -> delivered` with the
    /// remote object. False when the row was no longer in flight.
    pub fn mark_delivered(
        &mut self,
        id: i64,
        remote_id: &str,
        remote_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.finish_attempt(
            "recording an outbox delivery",
            "state = 'delivered', remote_id = ?2, remote_url = ?3, last_error = NULL, updated_at = ?4",
            params![id, remote_id, remote_url, to_ms(now)],
        )
    }

    /// A transient failure: `in_flight -> queued`, due at `next_attempt_at`
    /// (rounded up to the millisecond: a `Retry-After` is never cut short).
    pub fn mark_retry(
        &mut self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.finish_attempt(
            "scheduling an outbox retry",
            "state = 'queued', next_attempt_at = ?2, last_error = ?3, updated_at = ?4",
            params![id, to_ms_ceil(next_attempt_at), error, to_ms(now)],
        )
    }

    /// Gave up: `in_flight -> dead` with the reason.
    pub fn mark_dead(&mut self, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool> {
        self.finish_attempt(
            "dead-lettering an outbox request",
            "state = 'dead', last_error = ?2, updated_at = ?3",
            params![id, reason, to_ms(now)],
        )
    }

    /// One conditional UPDATE of an in-flight row (`?1` is its id).
    fn finish_attempt(
        &mut self,
        operation: &'static str,
        set: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<bool> {
        let sql = format!("UPDATE outbox SET {set} WHERE id = ?1 AND state = 'in_flight'");
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, operation))?;
        let changed = tx
            .execute(&sql, params)
            .map_err(sql_err(&path, operation))?;
        crate::outbox::fault::hit(crate::outbox::fault::FaultPoint::OutboxWrite);
        tx.commit().map_err(sql_err(&path, operation))?;
        Ok(changed == 1)
    }

    /// Puts rows claimed before `claimed_before` back in the queue, due now:
    /// their worker died mid-delivery. Each sink is idempotent, so delivering
    /// again is safe even if the first attempt got through.
    pub fn requeue_stale_in_flight(
        &mut self,
        claimed_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        const OP: &str = "requeueing interrupted outbox deliveries";
        let changed = self
            .conn
            .execute(
                "UPDATE outbox SET state = 'queued', next_attempt_at = ?2, updated_at = ?2,
                     last_error = 'interrupted: the delivering process stopped mid-attempt'
                 WHERE state = 'in_flight' AND updated_at < ?1",
                params![to_ms(claimed_before), to_ms(now)],
            )
            .map_err(sql_err(&self.path, OP))?;
        Ok(changed as u64)
    }

    /// Tells the analyst why rows of an unconfigured sink wait: sets
    /// `last_error` on its queued rows (they stay queued, and go once the
    /// sink is configured). Returns how many rows wait.
    pub fn note_unconfigured(
        &mut self,
        sink: Sink,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        const OP: &str = "noting an unconfigured sink";
        self.conn
            .execute(
                "UPDATE outbox SET last_error = ?2, updated_at = ?3
                 WHERE state = 'queued' AND sink = ?1 AND last_error IS NOT ?2",
                params![sink.as_str(), message, to_ms(now)],
            )
            .map_err(sql_err(&self.path, OP))?;
        let waiting: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE state = 'queued' AND sink = ?1",
                [sink.as_str()],
                |r| r.get(0),
            )
            .map_err(sql_err(&self.path, OP))?;
        to_count(&self.path, OP, waiting)
    }

    /// One row by id.
    pub fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>> {
        self.outbox_item_where("id = ?1", &id)
    }

    /// One row by dedup key (`confluence:INV-12:page`).
    pub fn outbox_item_by_key(&self, dedup_key: &str) -> Result<Option<OutboxItem>> {
        self.outbox_item_where("dedup_key = ?1", &dedup_key)
    }

    fn outbox_item_where(
        &self,
        condition: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<Option<OutboxItem>> {
        const OP: &str = "reading an outbox request";
        let sql = format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE {condition}");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([value], RawItem::from_row).optional())
            .map_err(sql_err(&self.path, OP))?;
        row.map(|r| r.into_item(&self.path, OP)).transpose()
    }

    /// The analyst asks for another try now: a `dead` or `queued` row
    /// becomes `queued`, due now, with its attempts reset (a dead-lettered
    /// row would otherwise die again after one attempt). Logged.
    pub fn retry_outbox_item(
        &mut self,
        id: i64,
        analyst: &str,
        now: DateTime<Utc>,
    ) -> Result<OutboxItem> {
        self.analyst_outbox_change(
            id,
            analyst,
            now,
            "outbox-retry",
            &[OutboxState::Dead, OutboxState::Queued],
            "state = 'queued', attempts = 0, next_attempt_at = ?2, updated_at = ?2",
        )
    }

    /// The analyst gives up on a `queued` or `dead` row: it becomes `dead`
    /// with [`DROPPED_BY_ANALYST`]; the row stays for the record (and can be
    /// retried). Logged. In-flight rows are refused: the outcome is coming.
    pub fn drop_outbox_item(
        &mut self,
        id: i64,
        analyst: &str,
        now: DateTime<Utc>,
    ) -> Result<OutboxItem> {
        self.analyst_outbox_change(
            id,
            analyst,
            now,
            "outbox-drop",
            &[OutboxState::Dead, OutboxState::Queued],
            &format!("state = 'dead', last_error = '{DROPPED_BY_ANALYST}', updated_at = ?2"),
        )
    }

    fn analyst_outbox_change(
        &mut self,
        id: i64,
        analyst: &str,
        now: DateTime<Utc>,
        action: &str,
        allowed: &[OutboxState],
        set: &str,
    ) -> Result<OutboxItem> {
        const OP: &str = "changing an outbox request";
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let read = |tx: &rusqlite::Transaction<'_>| {
            tx.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id], RawItem::from_row).optional())
                .map_err(sql_err(&path, OP))?
                .map(|r| r.into_item(&path, OP))
                .transpose()
        };
        let before = read(&tx)?.ok_or_else(|| StoreError::InvalidInput {
            path: path.clone(),
            operation: OP,
            detail: format!("outbox request {id} does not exist"),
        })?;
        if !allowed.contains(&before.state) {
            return Err(StoreError::InvalidInput {
                path: path.clone(),
                operation: OP,
                detail: format!(
                    "outbox request {id} is {}; only {} requests can be changed this way",
                    before.state.as_str(),
                    allowed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            });
        }
        tx.execute(
            &format!("UPDATE outbox SET {set} WHERE id = ?1"),
            params![id, to_ms(now)],
        )
        .map_err(sql_err(&path, OP))?;
        let after = read(&tx)?.ok_or_else(|| StoreError::Corrupt {
            path: path.clone(),
            operation: OP,
            detail: format!("outbox request {id} vanished while being changed"),
        })?;
        let subject = format!("outbox:{id}");
        insert_log_entry(
            &tx,
            &path,
            &NewLogEntry {
                analyst,
                action,
                subject: &subject,
                before: Some(before.state.as_str()),
                after: Some(after.state.as_str()),
                note: Some(&before.dedup_key),
            },
            now,
        )?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(after)
    }
}
