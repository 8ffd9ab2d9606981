//! `outbox deliver` holds the engine lease while it delivers. Only the
//! lease holder delivers (see `engine::Engine::start_with_store`), so while
//! we hold it nobody else has deliveries in flight, and every `in_flight`
//! row we find was cut off by a stopped process: it can be requeued at once
//! instead of after a staleness timeout. A holder that was killed on this
//! host is recognised as gone (`engine::holder_gone`) and taken over
//! without waiting for its heartbeat to go stale.

use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::engine::{
    DEFAULT_HEARTBEAT_EVERY, DEFAULT_STALE_AFTER, EngineClock, LeaseAttempt, StoreHandle,
    StoreTaskError, acquire_lease, engine_id, heartbeat_age,
};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryLeaseError {
    #[error(
        "a soc-tui engine (daemon or console) holds the lease on {store} and delivers the outbox \
         itself: held by {holder} (last heartbeat {age}); stop it first (a crashed process on \
         this host is taken over at once; on another host, run again once its lease goes stale, \
         {stale}s without a heartbeat)"
    )]
    Held {
        store: String,
        holder: String,
        age: String,
        stale: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    StoreTask(#[from] StoreTaskError),
}

/// The engine lease, held by this process until [`DeliveryLease::release`].
pub struct DeliveryLease {
    store: StoreHandle,
    holder: String,
    heartbeat: JoinHandle<()>,
}

impl DeliveryLease {
    /// Takes the lease if it is free, stale, or held by a process of this
    /// host that is gone; otherwise says who holds it.
    pub async fn acquire(
        store: &StoreHandle,
        clock: Arc<dyn EngineClock>,
    ) -> Result<DeliveryLease, DeliveryLeaseError> {
        let holder = engine_id();
        let now = clock.now();
        let id = holder.clone();
        let attempt = store
            .call(move |s| acquire_lease(s, &id, now, DEFAULT_STALE_AFTER))
            .await??;
        if let LeaseAttempt::Held(lease) = attempt {
            return Err(DeliveryLeaseError::Held {
                store: store.path().to_string(),
                age: heartbeat_age(lease.heartbeat_at, now),
                holder: lease.holder,
                stale: DEFAULT_STALE_AFTER.as_secs(),
            });
        }
        let heartbeat = tokio::spawn(keep(store.clone(), holder.clone(), clock));
        Ok(DeliveryLease {
            store: store.clone(),
            holder,
            heartbeat,
        })
    }

    /// Gives the lease back, so an engine can start without waiting.
    pub async fn release(self) -> Result<(), DeliveryLeaseError> {
        self.heartbeat.abort();
        let holder = self.holder;
        self.store.call(move |s| s.release_lease(&holder)).await??;
        Ok(())
    }
}

/// Refreshes the heartbeat until aborted. A failed beat is only logged:
/// nothing in the delivery depends on the lease once it is held.
async fn keep(store: StoreHandle, holder: String, clock: Arc<dyn EngineClock>) {
    let mut ticker = tokio::time::interval(DEFAULT_HEARTBEAT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let (id, now) = (holder.clone(), clock.now());
        match store.call(move |s| s.heartbeat_lease(&id, now)).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                tracing::warn!("outbox: the engine lease was taken over while delivering");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "outbox: refreshing the lease"),
            Err(e) => tracing::warn!(error = %e, "outbox: refreshing the lease"),
        }
    }
}
