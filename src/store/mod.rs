//! The embedded store: SQLite (bundled), WAL, versioned migrations.
//! PLACEHOLDER: implemented by the store work item. The signatures below are
//! the contract other modules code against.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::model::AuditEvent;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store {path}: {message}")]
    Open { path: String, message: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What one insert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InsertSummary {
    /// Events stored for the first time.
    pub new: u64,
    /// Events already present (same source and id): nothing changed.
    pub duplicate: u64,
}

/// A source's high-water mark: everything up to `position` has been fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub key: String,
    pub position: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One actor's activity in one UTC hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyAggregate {
    pub actor: String,
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// All events in the hour.
    pub events: u64,
    /// Events whose action kind changes state (see `ActionKind::is_change`).
    pub changes: u64,
}

pub struct Store {
    _private: (),
}

impl Store {
    /// Opens (creating if needed) the store file and applies pending migrations.
    pub fn open(_path: &Path) -> Result<Store> {
        Err(StoreError::Open {
            path: String::new(),
            message: "store not written yet".into(),
        })
    }

    /// A private in-memory store (tests, dry runs, replay).
    pub fn open_in_memory() -> Result<Store> {
        Err(StoreError::Open {
            path: String::new(),
            message: "store not written yet".into(),
        })
    }

    /// Stores events (idempotent on `(source, id)`) and maintains aggregates,
    /// all in one transaction.
    pub fn insert_events(&mut self, events: &[AuditEvent]) -> Result<InsertSummary> {
        self.insert_events_with_checkpoint(events, None)
    }

    /// As [`Store::insert_events`], and in the same transaction moves the
    /// checkpoint `key` to `position`: a crash never separates the two.
    pub fn insert_events_with_checkpoint(
        &mut self,
        _events: &[AuditEvent],
        _checkpoint: Option<(&str, DateTime<Utc>)>,
    ) -> Result<InsertSummary> {
        Err(StoreError::Open {
            path: String::new(),
            message: "store not written yet".into(),
        })
    }

    pub fn checkpoint(&self, _key: &str) -> Result<Option<Checkpoint>> {
        Ok(None)
    }

    pub fn event_count(&self) -> Result<u64> {
        Ok(0)
    }
}
