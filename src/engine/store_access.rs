//! The engine's single writer: one `Store` behind a mutex, used only from
//! `spawn_blocking`.
//!
//! Why this rather than a dedicated writer thread fed by a channel: it is
//! the same serialization (one connection, one operation at a time, so our
//! own tasks never meet SQLITE_BUSY, and `Store`'s `&mut self` writes stay
//! the one-writer rule), SQLite never blocks an async worker, and tokio
//! knows blocking work is in flight, which keeps paused-time tests exact (a
//! private thread would let the paused clock jump while a write is pending).
//! Other processes (the TUI, `ingest`) use their own connections; WAL and
//! the busy timeout arbitrate between processes.

use std::sync::{Arc, Mutex, PoisonError};

use crate::store::Store;

#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<Mutex<Store>>,
    path: Arc<str>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle")
            .field("path", &self.path)
            .finish()
    }
}

/// The blocking task running a store operation panicked or was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("store {path}: the store task failed: {detail}")]
pub struct StoreTaskError {
    pub path: String,
    pub detail: String,
}

impl StoreHandle {
    pub fn new(store: Store) -> StoreHandle {
        let path = Arc::from(store.path());
        StoreHandle {
            store: Arc::new(Mutex::new(store)),
            path,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` with exclusive access to the store on tokio's blocking pool.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreTaskError>
    where
        F: FnOnce(&mut Store) -> R + Send + 'static,
        R: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` rolled its transaction back as it unwound,
            // so the store behind a poisoned lock is still consistent.
            let mut guard = store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreTaskError {
            path: self.path.to_string(),
            detail: e.to_string(),
        })
    }
}
