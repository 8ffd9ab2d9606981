//! Paged reads of one actor's events in a window, for the console's
//! timeline: a count, a page by position, and the position of one event.
//! All three walk only the `(actor_key, time)` index range of the window
//! (which carries the rowid), so their cost does not grow with the store,
//! only with the actor's events in the window.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::events::{EVENT_COLUMNS, query_events, sql_limit};
use super::{Result, Store, StoreError, from_ms, hour_floor, sql_err, to_count, to_ms};
use crate::model::{AuditEvent, Source};

impl Store {
    /// How many events `actor_key` has with `from <= time < to`.
    pub fn actor_event_count(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64> {
        const OP: &str = "counting an actor's events";
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM events WHERE actor_key = ?1 AND time >= ?2 AND time < ?3",
            )
            .and_then(|mut s| s.query_row(params![actor_key, to_ms(from), to_ms(to)], |r| r.get(0)))
            .map_err(sql_err(&self.path, OP))?;
        to_count(&self.path, OP, n)
    }

    /// The times of the actor's first and last event in the window.
    pub fn actor_event_span(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        const OP: &str = "reading the span of an actor's events";
        // Two queries: SQLite answers a lone min() or max() with one index
        // probe, but not the pair together.
        let edge = |sql: &str| -> Result<Option<i64>> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut s| {
                    s.query_row(params![actor_key, to_ms(from), to_ms(to)], |r| r.get(0))
                })
                .map_err(sql_err(&self.path, OP))
        };
        let first =
            edge("SELECT min(time) FROM events WHERE actor_key = ?1 AND time >= ?2 AND time < ?3")?;
        let last =
            edge("SELECT max(time) FROM events WHERE actor_key = ?1 AND time >= ?2 AND time < ?3")?;
        match (first, last) {
            (Some(a), Some(b)) => Ok(Some((
                from_ms(&self.path, OP, a)?,
                from_ms(&self.path, OP, b)?,
            ))),
            _ => Ok(None),
        }
    }

    /// The sources the actor has events from in the hours the window
    /// touches, read from the hourly aggregates (not the events).
    pub fn actor_sources(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Source>> {
        const OP: &str = "reading an actor's sources";
        let names: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT source FROM actor_hour
                 WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3 ORDER BY source",
            )
            .and_then(|mut s| {
                s.query_map(
                    params![actor_key, hour_floor(to_ms(from)), to_ms(to)],
                    |r| r.get(0),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        names
            .iter()
            .map(|n| {
                n.parse().map_err(|detail| StoreError::Corrupt {
                    path: self.path.clone(),
                    operation: OP,
                    detail,
                })
            })
            .collect()
    }

    /// The actor's events at positions `offset..offset + limit` of the
    /// window, in the order of [`Store::events_for_actor`] (time, then arrival).
    pub fn actor_events_page(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
             ORDER BY time, rowid LIMIT ?4 OFFSET ?5"
        );
        query_events(
            &self.conn,
            &self.path,
            "reading a page of an actor's events",
            &sql,
            params![
                actor_key,
                to_ms(from),
                to_ms(to),
                sql_limit(limit),
                sql_limit(offset)
            ],
        )
    }

    /// As [`Store::actor_events_page`], counting `skip` back from the
    /// window's last event: the page ending `skip` events before the end,
    /// still oldest first. SQLite walks an OFFSET one index entry at a time,
    /// so a page near the end is read from the end.
    pub fn actor_events_page_from_end(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
             ORDER BY time DESC, rowid DESC LIMIT ?4 OFFSET ?5"
        );
        let mut events = query_events(
            &self.conn,
            &self.path,
            "reading a page of an actor's events from the end",
            &sql,
            params![
                actor_key,
                to_ms(from),
                to_ms(to),
                sql_limit(limit),
                sql_limit(skip)
            ],
        )?;
        events.reverse();
        Ok(events)
    }

    /// The position (as in [`Store::actor_events_page`]) of the event
    /// `(source, id)` of this actor in the window, if it is there.
    pub fn actor_event_position(
        &self,
        actor_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        source: Source,
        id: &str,
    ) -> Result<Option<u64>> {
        const OP: &str = "locating an event in an actor's timeline";
        let (from, to) = (to_ms(from), to_ms(to));
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT time, rowid FROM events
                 WHERE actor_key = ?1 AND time >= ?2 AND time < ?3 AND source = ?4 AND id = ?5
                 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![actor_key, from, to, source.as_str(), id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(sql_err(&self.path, OP))?;
        let Some((time, rowid)) = found else {
            return Ok(None);
        };
        let before: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM events
                 WHERE actor_key = ?1 AND time >= ?2 AND time <= ?3
                   AND (time < ?3 OR rowid < ?4)",
            )
            .and_then(|mut s| s.query_row(params![actor_key, from, time, rowid], |r| r.get(0)))
            .map_err(sql_err(&self.path, OP))?;
        Ok(Some(to_count(&self.path, OP, before)?))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::model::{Action, ActionKind, Actor, Outcome, Resource};

    fn event(n: u32, who: &str, minute: i64) -> AuditEvent {
        AuditEvent {
            source: if n.is_multiple_of(2) {
                Source::Cloudflare
            } else {
                Source::Datadog
            },
            id: format!("e{n}"),
            time: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + Duration::minutes(minute),
            actor: Actor {
                email: Some(who.into()),
                ..Actor::default()
            },
            action: Action {
                verb: "update".into(),
                kind: ActionKind::Update,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: format!("{{\"n\":{n}}}"),
        }
    }

    #[test]
    fn pages_counts_and_positions_agree_with_the_full_read() {
        let mut store = Store::open_in_memory().unwrap();
        // Same-minute ties, another actor interleaved, one event outside the window.
        let mut events: Vec<AuditEvent> = (0..40)
            .map(|n| event(n, "a@x.io", i64::from(n / 3)))
            .collect();
        events.extend((40..50).map(|n| event(n, "b@x.io", i64::from(n - 40))));
        events.push(event(50, "a@x.io", 600));
        store.insert_events(&events).unwrap();
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let to = from + Duration::hours(1);

        let all = store.events_for_actor("a@x.io", from, to, 1000).unwrap();
        assert_eq!(all.len(), 40);
        assert_eq!(store.actor_event_count("a@x.io", from, to).unwrap(), 40);
        let mut paged = Vec::new();
        for offset in (0..45).step_by(7) {
            paged.extend(
                store
                    .actor_events_page("a@x.io", from, to, offset, 7)
                    .unwrap(),
            );
        }
        assert_eq!(paged, all);
        let tail = store
            .actor_events_page_from_end("a@x.io", from, to, 5, 10)
            .unwrap();
        assert_eq!(tail, all[25..35].to_vec());
        let head = store
            .actor_events_page_from_end("a@x.io", from, to, 35, 10)
            .unwrap();
        assert_eq!(head, all[..5].to_vec(), "cut at the start");
        for (i, e) in all.iter().enumerate() {
            let pos = store
                .actor_event_position("a@x.io", from, to, e.source, &e.id)
                .unwrap();
            assert_eq!(pos, Some(i as u64), "{}", e.id);
        }
        assert_eq!(
            store
                .actor_event_position("a@x.io", from, to, Source::Cloudflare, "e50")
                .unwrap(),
            None,
            "outside the window"
        );
        let (first, last) = store.actor_event_span("a@x.io", from, to).unwrap().unwrap();
        assert_eq!((first, last), (all[0].time, all[39].time));
        assert_eq!(store.actor_event_span("nobody", from, to).unwrap(), None);
        assert_eq!(
            store.actor_sources("a@x.io", from, to).unwrap(),
            [Source::Cloudflare, Source::Datadog]
        );
        assert!(store.actor_sources("nobody", from, to).unwrap().is_empty());
        assert_eq!(
            store
                .actor_event_position("a@x.io", from, to, Source::Cloudflare, "e40")
                .unwrap(),
            None,
            "another actor's event"
        );
    }
}
