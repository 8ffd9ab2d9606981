//! Source checkpoints: per-key high-water marks that only move forward.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Checkpoint, Result, Store, StoreError, from_ms, sql_err, to_ms};

impl Store {
    pub fn checkpoint(&self, key: &str) -> Result<Option<Checkpoint>> {
        const OP: &str = "reading a checkpoint";
        let path = self.path.as_str();
        let row = self
            .conn
            .prepare_cached("SELECT position, updated_at FROM checkpoints WHERE key = ?1")
            .and_then(|mut s| {
                s.query_row([key], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                })
                .optional()
            })
            .map_err(sql_err(path, OP))?;
        row.map(|(position, updated_at)| {
            checkpoint_from(path, OP, key.to_string(), position, updated_at)
        })
        .transpose()
    }

    /// Every checkpoint, by key.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        const OP: &str = "reading checkpoints";
        let path = self.path.as_str();
        let rows = self
            .conn
            .prepare_cached("SELECT key, position, updated_at FROM checkpoints ORDER BY key")
            .and_then(|mut s| {
                s.query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(path, OP))?;
        rows.into_iter()
            .map(|(key, position, updated_at)| checkpoint_from(path, OP, key, position, updated_at))
            .collect()
    }

    /// Moves checkpoint `key` to `position` unless it is already later (a
    /// checkpoint never moves backwards: a late or replayed poll must not
    /// make the next one re-read or skip a window). Returns what is stored.
    pub fn set_checkpoint(&mut self, key: &str, position: DateTime<Utc>) -> Result<Checkpoint> {
        const OP: &str = "setting a checkpoint";
        if key.is_empty() {
            return Err(StoreError::InvalidInput {
                path: self.path.clone(),
                operation: OP,
                detail: "checkpoint key is empty".into(),
            });
        }
        let path = self.path.as_str();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        advance(&tx, path, key, position, Utc::now())?;
        tx.commit().map_err(sql_err(path, OP))?;
        self.checkpoint(key)?.ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            operation: OP,
            detail: format!("checkpoint {key:?} missing right after it was written"),
        })
    }
}

/// Writes the checkpoint inside the caller's transaction, keeping the later
/// position. `updated_at` is always refreshed: it records the last poll that
/// confirmed the position, even one that found nothing new.
pub(super) fn advance(
    conn: &Connection,
    path: &str,
    key: &str,
    position: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO checkpoints (key, position, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET
             position = max(position, excluded.position),
             updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![key, to_ms(position), to_ms(now)]))
    .map_err(sql_err(path, "advancing a checkpoint"))?;
    Ok(())
}

fn checkpoint_from(
    path: &str,
    operation: &'static str,
    key: String,
    position: i64,
    updated_at: i64,
) -> Result<Checkpoint> {
    Ok(Checkpoint {
        position: from_ms(path, operation, position)?,
        updated_at: from_ms(path, operation, updated_at)?,
        key,
    })
}
