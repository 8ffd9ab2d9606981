//! Rate-limit blocks outlive the process. A sink's HTTP client waits out a
//! 429's `Retry-After` in memory (for every delivery to that service); a
//! process killed during that wait would forget it, and its successor would
//! call the service at once. So while the worker runs, each block is written
//! to the store as it changes, and a starting worker gives the stored blocks
//! back to the clients.

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use crate::engine::StoreHandle;
use crate::sinks::Sinks;
use crate::store::{Sink, StoreError};

use super::worker::WorkerError;

/// Hands the blocks still in force at `now` to the sinks' clients.
pub(super) async fn restore(
    store: &StoreHandle,
    sinks: &Sinks,
    now: DateTime<Utc>,
) -> Result<usize, WorkerError> {
    let blocks = store.call(move |s| s.sink_blocks(now)).await??;
    let states = sinks.rate_limits();
    let mut restored = 0;
    for (sink, until) in blocks {
        for (kind, state) in &states {
            if Sink::from(*kind) == sink {
                state.restore_block(until);
                restored += 1;
                tracing::info!(%sink, %until, "outbox: a rate-limit block from before the restart is still in force");
            }
        }
    }
    Ok(restored)
}

/// `configured` without the sinks whose service asked us to wait at
/// `now`, and when the first of those blocks ends.
pub(super) fn open_sinks(
    configured: &[Sink],
    sinks: &Sinks,
    now: DateTime<Utc>,
) -> (Vec<Sink>, Option<DateTime<Utc>>) {
    let mut open = configured.to_vec();
    let mut first_end: Option<DateTime<Utc>> = None;
    for (kind, state) in sinks.rate_limits() {
        let snapshot = state.snapshot();
        if let (Some(until), Some(_)) = (snapshot.blocked_until, snapshot.blocked_for(now)) {
            open.retain(|s| *s != Sink::from(kind));
            first_end = Some(first_end.map_or(until, |e| e.min(until)));
        }
    }
    (open, first_end)
}

/// Writes each sink's block to the store whenever it grows, until the
/// returned set is dropped (which aborts the tasks).
pub(super) fn persist(store: &StoreHandle, sinks: &Sinks) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for (kind, state) in sinks.rate_limits() {
        let store = store.clone();
        let mut changes = state.subscribe();
        tasks.spawn(async move {
            let sink = Sink::from(kind);
            let mut saved: Option<DateTime<Utc>> = None;
            loop {
                let until = changes.borrow_and_update().blocked_until;
                if let Some(until) = until.filter(|u| saved < Some(*u)) {
                    write(&store, sink, until).await;
                    saved = Some(until);
                }
                if changes.changed().await.is_err() {
                    break;
                }
            }
        });
    }
    tasks
}

/// Writes every block in force now (a run that ends right after a 429
/// must not leave it to the background task, which stops with the run).
pub(super) async fn flush(store: &StoreHandle, sinks: &Sinks) {
    for (kind, state) in sinks.rate_limits() {
        if let Some(until) = state.snapshot().blocked_until {
            write(store, kind.into(), until).await;
        }
    }
}

async fn write(store: &StoreHandle, sink: Sink, until: DateTime<Utc>) {
    let written = match store.call(move |s| s.block_sink(sink, until)).await {
        Ok(result) => result.map_err(|e: StoreError| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = written {
        // The block still holds in this process; only a restart would miss it.
        tracing::warn!(%sink, %error, "outbox: could not record a rate-limit block");
    }
}
