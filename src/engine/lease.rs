//! Keeping the engine lease: who we are, taking the lease at start, the
//! heartbeat, noticing a takeover, taking over a stale lease while in
//! standby, and releasing it at shutdown.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use tokio::time::{Instant, MissedTickBehavior};

use super::bus::EngineEvent;
use super::scheduler::Shared;

/// How often the holder refreshes its heartbeat.
pub const DEFAULT_HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// A heartbeat older than this means the holder is gone; six missed beats.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(60);

/// `hostname:pid:random`: readable in "held by ..." messages, and unique
/// even when a pid is reused after a crash.
pub fn engine_id() -> String {
    format!(
        "{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        fastrand::u32(..)
    )
}

fn hostname() -> String {
    let from_file = |p: &str| std::fs::read_to_string(p).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| {
            // Keep the id one plain token whatever the file holds.
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .take(64)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Heartbeats while we hold the lease, tries to take it while we do not,
/// and releases it when the engine shuts down.
pub(super) async fn keep_lease(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_signal();
    let mut ticker = tokio::time::interval(shared.settings.heartbeat_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The lease was taken (or found held) just before this task started.
    ticker.tick().await;
    let mut last_confirmed = Instant::now();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            _ = ticker.tick() => {}
        }
        let held = shared.lease_held.load(Ordering::SeqCst);
        let id = shared.engine_id.clone();
        let now = shared.clock.now();
        let stale_after = chrono_duration(shared.settings.stale_after);
        let result = shared
            .store
            .call(move |store| {
                let ok = if held {
                    store.heartbeat_lease(&id, now)?
                } else {
                    store.try_acquire_lease(&id, now, stale_after)?
                };
                Ok::<_, crate::store::StoreError>((ok, store.lease()?))
            })
            .await;
        match result {
            Ok(Ok((true, _))) => {
                last_confirmed = Instant::now();
                if !held {
                    tracing::info!(engine = %shared.engine_id, "took over the engine lease");
                    shared.set_lease(true, Some(shared.engine_id.clone()));
                }
            }
            Ok(Ok((false, lease))) => {
                if held {
                    let other = lease.map(|l| l.holder);
                    tracing::warn!(engine = %shared.engine_id, holder = ?other,
                        "lost the engine lease; scheduled checks stop here");
                    shared.set_lease(false, other);
                }
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "engine lease: store error"),
            Err(err) => tracing::warn!(error = %err, "engine lease: store task failed"),
        }
        // Unable to confirm the lease for as long as another engine would
        // wait before taking it over: assume it has, and stop running checks.
        if held
            && shared.lease_held.load(Ordering::SeqCst)
            && last_confirmed.elapsed() > shared.settings.stale_after
        {
            tracing::warn!("engine lease unconfirmed past the staleness limit; standing by");
            shared.set_lease(false, None);
        }
    }
    release(&shared).await;
}

async fn release(shared: &Shared) {
    if !shared.lease_held.swap(false, Ordering::SeqCst) {
        return;
    }
    let id = shared.engine_id.clone();
    match shared.store.call(move |s| s.release_lease(&id)).await {
        Ok(Ok(_)) => {
            tracing::info!(engine = %shared.engine_id, "released the engine lease");
            let _ = shared.events.send(EngineEvent::LeaseChanged {
                holder: None,
                ours: false,
            });
        }
        Ok(Err(err)) => tracing::warn!(error = %err, "releasing the engine lease"),
        Err(err) => tracing::warn!(error = %err, "releasing the engine lease"),
    }
}

pub(super) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// "3s ago" for messages about another holder's heartbeat.
pub fn heartbeat_age(heartbeat_at: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let secs = (now - heartbeat_at).num_seconds();
    if secs < 0 {
        format!("{}s in the future (clock skew?)", -secs)
    } else {
        format!("{secs}s ago")
    }
}
