//! Schema migrations: an ordered list of SQL scripts. Script `i` brings the
//! store to version `i + 1`, recorded in `PRAGMA user_version` in the same
//! transaction as the script, so a crash leaves either the old or the new
//! schema. Never edit a released script; append a new one.
//!
//! Each feature's tables arrive in the migration written together
//! with the code that uses them.

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

/// Version 4: investigation drafts, the analyst log and webhook deliveries.
///
/// A draft is created (status `running`) in the same transaction as the
/// delivery that asked for it, so a crash never leaves an accepted webhook
/// without its investigation, nor a replay window without its record.
/// `(trigger_kind, trigger_ref)` is unique: one finding or one delivery
/// starts at most one investigation (CLI runs have no ref).
/// Deliveries are unique by id and by signature, so a captured request
/// cannot be replayed under a new delivery id either.
const V4_INVESTIGATIONS: &str = "
CREATE TABLE drafts (
    id               INTEGER PRIMARY KEY,
    actor            TEXT    NOT NULL,
    at               INTEGER NOT NULL, -- unix ms: when the anomaly happened
    trigger_kind     TEXT    NOT NULL, -- webhook | finding | cli
    trigger_ref      TEXT,             -- delivery id, finding dedup key
    trigger_json     TEXT    NOT NULL,
    status           TEXT    NOT NULL, -- running | draft | failed | approved
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    verdict          TEXT,
    confidence       REAL,
    untrusted_output INTEGER NOT NULL DEFAULT 0,
    report_json      TEXT,
    error            TEXT,
    approved_by      TEXT,
    approved_at      INTEGER,
    publish_to       TEXT,
    UNIQUE (trigger_kind, trigger_ref)
);
CREATE INDEX drafts_by_status ON drafts (status, id);

CREATE TABLE analyst_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    analyst   TEXT    NOT NULL,
    action    TEXT    NOT NULL, -- approve | edit | publish | ...
    subject   TEXT    NOT NULL, -- e.g. INV-12
    before    TEXT,             -- JSON of what changed, as it was
    after     TEXT,             -- JSON of what changed, as it is now
    note      TEXT
);
CREATE INDEX analyst_log_by_subject ON analyst_log (subject, id);

CREATE TABLE webhook_deliveries (
    delivery_id TEXT    PRIMARY KEY NOT NULL CHECK (delivery_id <> ''),
    signature   TEXT    UNIQUE,    -- SHA-256 of the presented signature header
    received_at INTEGER NOT NULL,
    draft_id    INTEGER REFERENCES drafts (id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);
";

/// Version 3: what the scheduled checks need.
///
/// - `actor_hour_change_type`: resource types each actor *changed* per hour.
///   `actor_hour_type` counts every event, reads and logins included, but
///   the baseline's "new resource type" compares changes with changes: an
///   actor who only ever viewed monitors and now deletes one has changed a
///   type it never changed before. Folded in from `events` by
///   `Store::refresh_change_types` (new rows since `derived_marks`' rowid
///   mark, in one grouped upsert) before the baseline reads it, rather than
///   by a trigger on insert: a per-row trigger measured 60-85% slower bulk
///   ingest, while the fold costs one pass over each event, once.
/// - `findings`: one row per dedup key; a condition seen again updates it.
/// - `outbox`: one row per sink request, unique by
///   `{sink}:{finding dedup key}:{request kind}`, written in the finding's
///   transaction. The delivery worker claims rows by `(state, next_attempt_at)`.
/// - `engine_lease`: a single row, present from the start with an empty
///   holder and a zero heartbeat (always stale), so taking the lease is one
///   conditional UPDATE.
/// - `check_runs`: per check, the last run and how far it has covered.
/// - `burst_state`: the burst detector's carried state, saved with the
///   window it is valid after.
const V3_FINDINGS_OUTBOX_ENGINE: &str = "
CREATE TABLE actor_hour_change_type (
    actor_key     TEXT    NOT NULL,
    hour          INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    changes       INTEGER NOT NULL,
    PRIMARY KEY (actor_key, hour, resource_type)
) WITHOUT ROWID;

-- How far (events rowid) each derived table has been folded in.
CREATE TABLE derived_marks (
    name       TEXT    PRIMARY KEY NOT NULL,
    rowid_done INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO derived_marks (name, rowid_done) VALUES ('actor_hour_change_type', 0);

CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    dedup_key     TEXT    NOT NULL UNIQUE CHECK (dedup_key <> ''),
    workflow      TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    window_start  INTEGER NOT NULL, -- unix ms
    window_end    INTEGER NOT NULL, -- unix ms
    summary       TEXT    NOT NULL,
    evidence      TEXT    NOT NULL, -- JSON
    event_ids     TEXT    NOT NULL, -- JSON array
    rules         TEXT    NOT NULL, -- JSON array
    suppressed    TEXT    NOT NULL, -- JSON array
    state         TEXT    NOT NULL DEFAULT 'new'
                  CHECK (state IN ('new', 'acknowledged', 'resolved', 'snoozed')),
    snoozed_until INTEGER,          -- unix ms
    first_seen    INTEGER NOT NULL, -- unix ms: the check that first reported it
    last_seen     INTEGER NOT NULL, -- unix ms: the latest check that reported it
    times_seen    INTEGER NOT NULL DEFAULT 1
);
-- The panes list findings per workflow, newest first.
CREATE INDEX findings_by_workflow ON findings (workflow, last_seen);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dedup_key       TEXT    NOT NULL UNIQUE,
    finding_id      INTEGER REFERENCES findings (id),
    sink            TEXT    NOT NULL
                    CHECK (sink IN ('linear', 'pagerduty', 'archive', 'confluence')),
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL, -- JSON
    state           TEXT    NOT NULL
                    CHECK (state IN ('queued', 'in_flight', 'delivered', 'dead', 'dry_run')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, -- unix ms
    last_error      TEXT,
    remote_id       TEXT,
    remote_url      TEXT,
    created_at      INTEGER NOT NULL, -- unix ms
    updated_at      INTEGER NOT NULL  -- unix ms
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_finding ON outbox (finding_id);

CREATE TABLE engine_lease (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    holder       TEXT    NOT NULL,
    acquired_at  INTEGER NOT NULL, -- unix ms
    heartbeat_at INTEGER NOT NULL  -- unix ms
);
INSERT INTO engine_lease (id, holder, acquired_at, heartbeat_at) VALUES (1, '', 0, 0);

CREATE TABLE check_runs (
    check_name     TEXT    PRIMARY KEY NOT NULL,
    last_run_start INTEGER,          -- unix ms
    last_duration_ms INTEGER,
    last_ok_at     INTEGER,          -- unix ms: end of the last successful run
    last_error     TEXT,             -- NULL when the last run succeeded
    next_run       INTEGER,          -- unix ms
    covered_until  INTEGER,          -- unix ms: exclusive end of the windows checked
    runs           INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE burst_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    state      TEXT    NOT NULL, -- JSON BurstState
    valid_at   INTEGER NOT NULL, -- unix ms: the window end the state follows
    updated_at INTEGER NOT NULL  -- unix ms
);
";

/// Version 5: per-workflow modes set from the console or `soc-tui
/// workflows set`, overriding `[workflows]` in the config. One row per
/// workflow that was switched; no row: the config decides. Who and when
/// are kept here for display; the change itself is in the analyst log.
const V5_WORKFLOW_MODES: &str = "
CREATE TABLE workflow_modes (
    workflow   TEXT    PRIMARY KEY
               CHECK (workflow IN ('baseline', 'burst', 'token', 'investigation')),
    mode       TEXT    NOT NULL CHECK (mode IN ('off', 'dry-run', 'on')),
    changed_by TEXT    NOT NULL,
    changed_at INTEGER NOT NULL  -- unix ms
) WITHOUT ROWID;
";

/// Version 6: rate-limit blocks per sink (a 429's `Retry-After`), kept so
/// a restarted process does not call a service that asked to be left alone.
const V6_SINK_BLOCKS: &str = "
CREATE TABLE sink_blocks (
    sink          TEXT    PRIMARY KEY NOT NULL,
    blocked_until INTEGER NOT NULL -- unix ms, rounded up
) WITHOUT ROWID;
";

const MIGRATIONS: &[&str] = &[
    V1_EVENTS_AGGREGATES_CHECKPOINTS,
    V2_TOKEN_SCOPES,
    V3_FINDINGS_OUTBOX_ENGINE,
    V4_INVESTIGATIONS,
    V5_WORKFLOW_MODES,
    V6_SINK_BLOCKS,
];

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
