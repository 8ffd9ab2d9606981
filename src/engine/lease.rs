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
use crate::store::{Lease, Store, StoreError};

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

/// Takes the lease for `id` if it is free, stale (no heartbeat for
/// `stale_after`), or held by a process of this host that is gone
/// ([`holder_gone`]). Returns whether `id` holds it now, and otherwise the
/// lease in force (who to name in the refusal).
pub fn acquire_lease(
    store: &mut Store,
    id: &str,
    now: chrono::DateTime<Utc>,
    stale_after: Duration,
) -> Result<LeaseAttempt, StoreError> {
    if store.try_acquire_lease(id, now, chrono_duration(stale_after))? {
        return Ok(LeaseAttempt::Acquired);
    }
    match store.lease()? {
        Some(lease) if holder_gone(&lease.holder) => {
            if store.take_over_lease(&lease.holder, id, now)? {
                tracing::warn!(previous = %lease.holder, "took the lease of a process that is gone");
                Ok(LeaseAttempt::Acquired)
            } else {
                // Someone else was faster: they hold it now.
                Ok(LeaseAttempt::held(store.lease()?, now))
            }
        }
        other => Ok(LeaseAttempt::held(other, now)),
    }
}

/// What [`acquire_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAttempt {
    Acquired,
    /// Held by someone else (named in refusals).
    Held(Lease),
}

impl LeaseAttempt {
    /// `lease` as read; `None` means it was released between our attempt and
    /// the read: another process took or dropped it a moment ago.
    fn held(lease: Option<Lease>, now: chrono::DateTime<Utc>) -> LeaseAttempt {
        LeaseAttempt::Held(lease.unwrap_or(Lease {
            holder: "(another process, just now)".into(),
            acquired_at: now,
            heartbeat_at: now,
        }))
    }
}

/// True when `holder` (an [`engine_id`]) names a process on this host that
/// no longer runs: it was killed or crashed, so its lease can be taken at
/// once instead of after the staleness limit. False whenever that cannot be
/// told for sure (another host, an id in another form, no `/proc`): the
/// caller then waits for the heartbeat to go stale, the safe side.
pub fn holder_gone(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_random), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == hostname() && pid != std::process::id() && process_gone(pid)
}

/// Linux: no `/proc/<pid>`, or only its zombie (dead, not yet reaped).
#[cfg(target_os = "linux")]
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: u32) -> bool {
    false
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
        let stale_after = shared.settings.stale_after;
        let result = shared
            .store
            .call(move |store| {
                if !held {
                    return acquire_lease(store, &id, now, stale_after);
                }
                if store.heartbeat_lease(&id, now)? {
                    Ok(LeaseAttempt::Acquired)
                } else {
                    // Who took it over, for the warning.
                    Ok(LeaseAttempt::held(store.lease()?, now))
                }
            })
            .await;
        match result {
            Ok(Ok(LeaseAttempt::Acquired)) => {
                last_confirmed = Instant::now();
                if !held {
                    tracing::info!(engine = %shared.engine_id, "took over the engine lease");
                    shared.set_lease(true, Some(shared.engine_id.clone()));
                }
            }
            Ok(Ok(LeaseAttempt::Held(lease))) => {
                if held {
                    let other = Some(lease.holder);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_local_holder_is_gone_and_nothing_else_is() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let id = format!("{}:{}:0000abcd", hostname(), child.id());
        assert!(!holder_gone(&id), "a running process holds its lease");
        child.kill().expect("kill");
        child.wait().expect("reap");
        if cfg!(target_os = "linux") {
            assert!(holder_gone(&id), "a killed process is gone");
        }
        let elsewhere = format!("another-host.example:{}:0000abcd", child.id());
        assert!(
            !holder_gone(&elsewhere),
            "another host's process cannot be checked"
        );
        assert!(!holder_gone(&engine_id()), "we are not gone");
        assert!(!holder_gone("not an engine id"));
        assert!(!holder_gone(&format!("{}:pid:0000abcd", hostname())));
    }

    #[test]
    fn the_lease_of_a_dead_local_process_is_taken_at_once_a_live_one_is_not() {
        let now = Utc::now();
        let stale = Duration::from_secs(60);
        let mut store = Store::open_in_memory().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let crashed = format!("{}:{}:0000abcd", hostname(), child.id());
        assert!(
            store
                .try_acquire_lease(&crashed, now, chrono_duration(stale))
                .unwrap()
        );

        // Its heartbeat is fresh and it runs: we wait, and are told who holds it.
        let attempt = acquire_lease(&mut store, &engine_id(), now, stale).unwrap();
        assert!(
            matches!(&attempt, LeaseAttempt::Held(lease) if lease.holder == crashed),
            "{attempt:?}"
        );

        child.kill().expect("kill");
        child.wait().expect("reap");
        if cfg!(target_os = "linux") {
            // Killed: its fresh heartbeat no longer makes us wait a minute.
            let us = engine_id();
            let attempt = acquire_lease(&mut store, &us, now, stale).unwrap();
            assert_eq!(attempt, LeaseAttempt::Acquired);
            assert_eq!(store.lease().unwrap().map(|l| l.holder), Some(us));
        }
    }
}
