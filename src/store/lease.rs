//! The engine lease: one row saying which process runs the scheduled checks
//! on this store. The holder refreshes `heartbeat_at`; a lease whose
//! heartbeat is older than the caller's staleness limit can be taken over
//! (its holder crashed or was killed). Every change is one conditional
//! UPDATE, so two engines racing for the lease cannot both win.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, StoreError, from_ms, sql_err, to_ms};

/// Who holds the lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    /// `hostname:pid:random`, chosen by the holder.
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

impl Lease {
    /// Whether a takeover at `now` would succeed.
    pub fn is_stale(&self, now: DateTime<Utc>, stale_after: Duration) -> bool {
        self.heartbeat_at < now - stale_after
    }
}

impl Store {
    /// Takes the lease for `holder` if it is free, already `holder`'s, or
    /// stale (heartbeat before `now - stale_after`); refreshes the heartbeat
    /// when it succeeds. True when `holder` holds the lease afterwards.
    pub fn try_acquire_lease(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        stale_after: Duration,
    ) -> Result<bool> {
        const OP: &str = "taking the engine lease";
        check_holder(&self.path, OP, holder)?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE engine_lease SET
                     acquired_at = CASE WHEN holder = ?1 THEN acquired_at ELSE ?2 END,
                     holder = ?1,
                     heartbeat_at = ?2
                 WHERE id = 1 AND (holder = ?1 OR holder = '' OR heartbeat_at < ?3)",
            )
            .and_then(|mut s| s.execute(params![holder, to_ms(now), to_ms(now - stale_after)]))
            .map_err(sql_err(&self.path, OP))?;
        Ok(changed == 1)
    }

    /// Refreshes `holder`'s heartbeat; false when the lease is no longer
    /// `holder`'s (it was taken over after going stale).
    pub fn heartbeat_lease(&mut self, holder: &str, now: DateTime<Utc>) -> Result<bool> {
        const OP: &str = "refreshing the engine lease";
        check_holder(&self.path, OP, holder)?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE engine_lease SET heartbeat_at = max(heartbeat_at, ?2)
                 WHERE id = 1 AND holder = ?1",
            )
            .and_then(|mut s| s.execute(params![holder, to_ms(now)]))
            .map_err(sql_err(&self.path, OP))?;
        Ok(changed == 1)
    }

    /// Takes the lease from `gone`, a holder known to have died (see
    /// `engine::holder_gone`), without waiting for its heartbeat to go
    /// stale. False when `gone` no longer holds it (someone was faster).
    pub fn take_over_lease(
        &mut self,
        gone: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        const OP: &str = "taking over the engine lease";
        check_holder(&self.path, OP, gone)?;
        check_holder(&self.path, OP, holder)?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE engine_lease SET holder = ?2, acquired_at = ?3, heartbeat_at = ?3
                 WHERE id = 1 AND holder = ?1",
            )
            .and_then(|mut s| s.execute(params![gone, holder, to_ms(now)]))
            .map_err(sql_err(&self.path, OP))?;
        Ok(changed == 1)
    }

    /// Gives the lease up if `holder` has it, so the next engine need not
    /// wait for it to go stale. False when `holder` did not hold it.
    pub fn release_lease(&mut self, holder: &str) -> Result<bool> {
        const OP: &str = "releasing the engine lease";
        check_holder(&self.path, OP, holder)?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE engine_lease SET holder = '', acquired_at = 0, heartbeat_at = 0
                 WHERE id = 1 AND holder = ?1",
            )
            .and_then(|mut s| s.execute([holder]))
            .map_err(sql_err(&self.path, OP))?;
        Ok(changed == 1)
    }

    /// The current holder, or `None` when the lease is free.
    pub fn lease(&self) -> Result<Option<Lease>> {
        const OP: &str = "reading the engine lease";
        let path = self.path.as_str();
        let row = self
            .conn
            .prepare_cached(
                "SELECT holder, acquired_at, heartbeat_at FROM engine_lease
                 WHERE id = 1 AND holder <> ''",
            )
            .and_then(|mut s| {
                s.query_row([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(sql_err(path, OP))?;
        row.map(|(holder, acquired, heartbeat)| {
            Ok(Lease {
                holder,
                acquired_at: from_ms(path, OP, acquired)?,
                heartbeat_at: from_ms(path, OP, heartbeat)?,
            })
        })
        .transpose()
    }
}

/// An empty holder is how the table spells "free".
fn check_holder(path: &str, operation: &'static str, holder: &str) -> Result<()> {
    if holder.is_empty() {
        return Err(StoreError::InvalidInput {
            path: path.to_string(),
            operation,
            detail: "lease holder id is empty".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_taken_over_only_from_the_named_holder() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        assert!(
            store
                .try_acquire_lease("h:1:a", now, Duration::seconds(60))
                .unwrap()
        );
        assert!(!store.take_over_lease("h:2:b", "h:3:c", now).unwrap());
        assert_eq!(store.lease().unwrap().unwrap().holder, "h:1:a");
        assert!(store.take_over_lease("h:1:a", "h:3:c", now).unwrap());
        let lease = store.lease().unwrap().unwrap();
        assert_eq!(
            (lease.holder.as_str(), lease.heartbeat_at),
            ("h:3:c", lease.acquired_at)
        );
        assert!(store.take_over_lease("", "h:4:d", now).is_err());
    }
}
