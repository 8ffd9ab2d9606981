//! Rate-limit blocks per sink: until when a service asked not to be called
//! (a 429's `Retry-After`). The HTTP clients keep the block in memory; the
//! outbox worker writes it here as it changes and gives it back to the
//! clients when a process starts, so a restart right after a 429 (a crash,
//! `kill -9`) still waits it out.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Sink, Store, from_ms, sql_err};

/// Unix ms rounded up: a block read back never ends before it did.
pub(super) fn to_ms_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis() + i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1_000_000))
}

impl Store {
    /// Records that `sink` is blocked until `until`. A block only grows: an
    /// earlier `until` than the one stored changes nothing.
    pub fn block_sink(&mut self, sink: Sink, until: DateTime<Utc>) -> Result<()> {
        const OP: &str = "recording a sink's rate-limit block";
        self.conn
            .prepare_cached(
                "INSERT INTO sink_blocks (sink, blocked_until) VALUES (?1, ?2)
                 ON CONFLICT (sink) DO UPDATE
                 SET blocked_until = max(blocked_until, excluded.blocked_until)",
            )
            .and_then(|mut s| s.execute(params![sink.as_str(), to_ms_ceil(until)]))
            .map_err(sql_err(&self.path, OP))?;
        Ok(())
    }

    /// The blocks still in force at `now`.
    pub fn sink_blocks(&self, now: DateTime<Utc>) -> Result<Vec<(Sink, DateTime<Utc>)>> {
        const OP: &str = "reading the sinks' rate-limit blocks";
        let rows = self
            .conn
            .prepare_cached(
                "SELECT sink, blocked_until FROM sink_blocks WHERE blocked_until > ?1 ORDER BY sink",
            )
            .and_then(|mut s| {
                s.query_map([now.timestamp_millis()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|(sink, ms)| {
                let sink = sink.parse().map_err(|detail| super::StoreError::Corrupt {
                    path: self.path.clone(),
                    operation: OP,
                    detail,
                })?;
                Ok((sink, from_ms(&self.path, OP, ms)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn blocks_only_grow_round_up_and_expire() {
        let mut store = Store::open_in_memory().unwrap();
        let t = Utc.timestamp_opt(1_800_000_000, 1_500_000).unwrap(); // .0015 s
        store.block_sink(Sink::Linear, t).unwrap();
        store
            .block_sink(Sink::Linear, t - Duration::seconds(5))
            .unwrap();
        store
            .block_sink(Sink::Archive, t - Duration::seconds(5))
            .unwrap();
        let blocks = store.sink_blocks(t - Duration::seconds(10)).unwrap();
        assert_eq!(
            blocks,
            [
                (
                    Sink::Archive,
                    t - Duration::seconds(5) + Duration::microseconds(500)
                ),
                (Sink::Linear, t + Duration::microseconds(500)),
            ],
            "rounded up to the next millisecond, never down"
        );
        assert_eq!(
            store.sink_blocks(t - Duration::seconds(1)).unwrap(),
            [(Sink::Linear, t + Duration::microseconds(500))]
        );
        assert!(
            store
                .sink_blocks(t + Duration::seconds(1))
                .unwrap()
                .is_empty()
        );
    }
}
