//! Schema migrations: an ordered list of SQL scripts. Script `i` brings the
//! store to version `i + 1`, recorded in `PRAGMA user_version` in the same
//! transaction as the script, so a crash leaves either the old or the new
//! schema. Never edit a released script; append a new one.
//!
//! Findings, drafts, outbox and the analyst log are left to later migrations
//! written together with the code that uses them.

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError, sql_err};

/// Version 1: events, per-actor aggregates, checkpoints.
///
/// Indexes are what the known queries need and no more: each one is paid on
/// every insert. Anything else (by IP, by token) waits for the query that
/// needs it.
///
/// The dedup key is `UNIQUE (time, source, id)`, not `(source, id)`: an
/// entry's time is part of the entry and parsed deterministically, so the two
/// are the same key, but this one is ordered by time. Source ids are random
/// (Cloudflare), so a `(source, id)` index takes every insert at a random
/// page, and a batch rewrites most of the index into the WAL; that halved
/// bulk-ingest throughput at 1M events and gets worse as the store grows.
/// Keyed by time, inserts land near the end of the index, and the same index
/// serves time-window queries (the timeline, the edges of
/// `actors_active_between`), so no separate `(time)` index is needed.
/// `(actor_key, time)` serves the investigation view. `raw` is last so reading
/// the other columns never touches its overflow pages.
const V1_EVENTS_AGGREGATES_CHECKPOINTS: &str = "
CREATE TABLE events (
    source           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    time             INTEGER NOT NULL, -- unix ms
    actor_key        TEXT    NOT NULL,
    actor_id         TEXT,
    actor_email      TEXT,
    actor_type       TEXT,
    actor_ip         TEXT,
    actor_user_agent TEXT,
    token_id         TEXT,
    token_name       TEXT,
    verb             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    description      TEXT,
    product          TEXT,
    resource_type    TEXT,
    resource_id      TEXT,
    resource_name    TEXT,
    outcome          TEXT    NOT NULL,
    account          TEXT,
    raw              TEXT    NOT NULL,
    UNIQUE (time, source, id)
);
CREATE INDEX events_by_actor_time ON events (actor_key, time);

-- One row per actor, UTC hour (unix ms of its start) and source.
CREATE TABLE actor_hour (
    actor_key TEXT    NOT NULL,
    hour      INTEGER NOT NULL,
    source    TEXT    NOT NULL,
    events    INTEGER NOT NULL,
    changes   INTEGER NOT NULL,
    PRIMARY KEY (actor_key, hour, source)
) WITHOUT ROWID;
-- 'Who was active in this window' across all actors.
CREATE INDEX actor_hour_by_hour ON actor_hour (hour);

-- The resource-type set of each actor hour, with counts.
CREATE TABLE actor_hour_type (
    actor_key     TEXT    NOT NULL,
    hour          INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (actor_key, hour, resource_type)
) WITHOUT ROWID;

-- When each actor first touched each resource type (min event time, so
-- late-arriving older events move it back).
CREATE TABLE actor_first_seen (
    actor_key     TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    first_seen    INTEGER NOT NULL,
    PRIMARY KEY (actor_key, resource_type)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    key        TEXT    PRIMARY KEY NOT NULL CHECK (key <> ''),
    position   INTEGER NOT NULL, -- unix ms
    updated_at INTEGER NOT NULL  -- unix ms
) WITHOUT ROWID;
";

/// Version 2: the scope of each Cloudflare API token a creation event made,
/// as the poller fetched it (`sources::token_scope::TokenScope` as JSON).
/// Keyed by the event's id (Cloudflare only) and deliberately without a
/// foreign key: the poller records the scope before the event's chunk is
/// committed, so a crash in between leaves a scope waiting for its event,
/// never an event without its scope.
const V2_TOKEN_SCOPES: &str = "
CREATE TABLE token_scopes (
    event_id    TEXT    PRIMARY KEY NOT NULL CHECK (event_id <> ''),
    scope       TEXT    NOT NULL, -- JSON: state known + policies, or unknown + reason
    recorded_at INTEGER NOT NULL  -- unix ms
) WITHOUT ROWID;
";

const MIGRATIONS: &[&str] = &[V1_EVENTS_AGGREGATES_CHECKPOINTS, V2_TOKEN_SCOPES];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the store up to [`SCHEMA_VERSION`]; refuses a store written by a
/// newer binary rather than guessing at its schema.
pub(super) fn apply(conn: &mut Connection, path: &str) -> Result<()> {
    let found = user_version(conn, path)?;
    check_known(found, path)?;
    for (index, script) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= found {
            continue;
        }
        // IMMEDIATE takes the write lock up front: two processes opening a
        // fresh store at once serialize here instead of both migrating.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, "starting migration"))?;
        let now = user_version(&tx, path)?;
        check_known(now, path)?;
        if now >= version {
            // Another process migrated while we waited for the lock.
            continue;
        }
        tx.execute_batch(script)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .and_then(|()| tx.commit())
            .map_err(|source| StoreError::Migration {
                path: path.to_string(),
                version,
                source,
            })?;
        tracing::info!(store = %path, version, "store schema migrated");
    }
    Ok(())
}

fn user_version(conn: &Connection, path: &str) -> Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql_err(path, "reading schema version"))
}

fn check_known(found: i64, path: &str) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::Open {
            path: path.to_string(),
            message: format!("schema version {found} is negative: not a soc-tui store"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_reaches_current_version_and_reapplying_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn, ":memory:").unwrap(), SCHEMA_VERSION);
        apply(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn, ":memory:").unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused_naming_both_versions() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
            .unwrap();
        let err = apply(&mut conn, "x.db").unwrap_err().to_string();
        assert!(
            err.contains(&format!("version {}", SCHEMA_VERSION + 5)),
            "{err}"
        );
        assert!(err.contains(&format!("up to {SCHEMA_VERSION}")), "{err}");
    }
}
