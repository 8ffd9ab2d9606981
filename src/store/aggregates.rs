//! Per-actor hourly aggregates and first-seen resource types: maintained on
//! insert (accumulated per batch, one upsert per key), read by the baseline
//! checks in O(actors x hours).
//!
//! Windows are hour-granular: an aggregate query over `[from, to)` covers
//! every hour that overlaps it. Events without a resource type count in
//! `actor_hour` but have no type to record.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{
    HourlyAggregate, Result, Store, from_ms, hour_ceil, hour_floor, sql_err, to_count, to_ms,
};
use crate::model::{AuditEvent, Source};

/// What one batch adds to the aggregate tables. Actor keys and resource
/// types are interned so each event costs hash lookups, not allocations.
#[derive(Default)]
pub(super) struct BatchAggregates {
    actor_ids: HashMap<String, usize>,
    actors: Vec<String>,
    type_ids: HashMap<String, usize>,
    types: Vec<String>,
    /// (actor, hour, source) -> (events, changes)
    hours: HashMap<(usize, i64, Source), (i64, i64)>,
    /// (actor, hour, type) -> events
    hour_types: HashMap<(usize, i64, usize), i64>,
    /// (actor, type) -> earliest event time
    first_seen: HashMap<(usize, usize), i64>,
}

impl BatchAggregates {
    /// Counts one newly stored event (`time` in unix ms).
    pub(super) fn add(&mut self, actor_key: String, time: i64, event: &AuditEvent) {
        let actor = intern(&mut self.actor_ids, &mut self.actors, actor_key);
        let hour = hour_floor(time);
        let counts = self
            .hours
            .entry((actor, hour, event.source))
            .or_insert((0, 0));
        counts.0 += 1;
        if event.action.kind.is_change() {
            counts.1 += 1;
        }
        let Some(resource_type) = event.resource.kind.as_deref().filter(|t| !t.is_empty()) else {
            return;
        };
        let rtype = match self.type_ids.get(resource_type) {
            Some(&id) => id,
            None => intern(
                &mut self.type_ids,
                &mut self.types,
                resource_type.to_string(),
            ),
        };
        *self.hour_types.entry((actor, hour, rtype)).or_insert(0) += 1;
        let first = self.first_seen.entry((actor, rtype)).or_insert(time);
        *first = (*first).min(time);
    }

    /// Upserts the batch's totals; runs inside the caller's transaction.
    /// Keys go in primary-key order so consecutive upserts hit the same
    /// B-tree pages.
    pub(super) fn flush(&self, conn: &Connection, path: &str) -> Result<()> {
        const OP: &str = "updating aggregates";
        let actor = |id: usize| self.actors[id].as_str();
        let rtype = |id: usize| self.types[id].as_str();

        let mut hours: Vec<_> = self.hours.iter().collect();
        hours.sort_unstable_by_key(|&(&(a, hour, source), _)| (actor(a), hour, source.as_str()));
        let mut upsert = conn
            .prepare_cached(
                "INSERT INTO actor_hour (actor_key, hour, source, events, changes)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (actor_key, hour, source) DO UPDATE SET
                     events = events + excluded.events,
                     changes = changes + excluded.changes",
            )
            .map_err(sql_err(path, OP))?;
        for (&(a, hour, source), &(events, changes)) in hours {
            upsert
                .execute(params![actor(a), hour, source.as_str(), events, changes])
                .map_err(sql_err(path, OP))?;
        }

        let mut hour_types: Vec<_> = self.hour_types.iter().collect();
        hour_types.sort_unstable_by_key(|&(&(a, hour, t), _)| (actor(a), hour, rtype(t)));
        let mut upsert = conn
            .prepare_cached(
                "INSERT INTO actor_hour_type (actor_key, hour, resource_type, count)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (actor_key, hour, resource_type) DO UPDATE SET
                     count = count + excluded.count",
            )
            .map_err(sql_err(path, OP))?;
        for (&(a, hour, t), &count) in hour_types {
            upsert
                .execute(params![actor(a), hour, rtype(t), count])
                .map_err(sql_err(path, OP))?;
        }

        let mut first_seen: Vec<_> = self.first_seen.iter().collect();
        first_seen.sort_unstable_by_key(|&(&(a, t), _)| (actor(a), rtype(t)));
        let mut upsert = conn
            .prepare_cached(
                "INSERT INTO actor_first_seen (actor_key, resource_type, first_seen)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (actor_key, resource_type) DO UPDATE SET
                     first_seen = min(first_seen, excluded.first_seen)",
            )
            .map_err(sql_err(path, OP))?;
        for (&(a, t), &time) in first_seen {
            upsert
                .execute(params![actor(a), rtype(t), time])
                .map_err(sql_err(path, OP))?;
        }
        Ok(())
    }
}

fn intern(ids: &mut HashMap<String, usize>, names: &mut Vec<String>, name: String) -> usize {
    if let Some(&id) = ids.get(&name) {
        return id;
    }
    let id = names.len();
    names.push(name.clone());
    ids.insert(name, id);
    id
}

impl Store {
    /// Hourly totals (all sources together) for one actor or, with `None`,
    /// every actor, over the hours overlapping `[from, to)`; ordered by actor
    /// then hour. Hours without events have no row.
    pub fn hourly_aggregates(
        &self,
        actor: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourlyAggregate>> {
        const OP: &str = "reading hourly aggregates";
        let path = self.path.as_str();
        let (lo, hi) = (hour_floor(to_ms(from)), to_ms(to));
        let sql_for_actor = "SELECT actor_key, hour, sum(events), sum(changes) FROM actor_hour
             WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3
             GROUP BY actor_key, hour ORDER BY actor_key, hour";
        let sql_for_all = "SELECT actor_key, hour, sum(events), sum(changes) FROM actor_hour
             WHERE hour >= ?1 AND hour < ?2
             GROUP BY actor_key, hour ORDER BY actor_key, hour";
        let read = |row: &rusqlite::Row<'_>| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        };
        let rows = match actor {
            Some(actor) => self.conn.prepare_cached(sql_for_actor).and_then(|mut s| {
                s.query_map(params![actor, lo, hi], read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }),
            None => self.conn.prepare_cached(sql_for_all).and_then(|mut s| {
                s.query_map(params![lo, hi], read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }),
        }
        .map_err(sql_err(path, OP))?;
        rows.into_iter()
            .map(|(actor, hour, events, changes)| {
                Ok(HourlyAggregate {
                    actor,
                    hour: from_ms(path, OP, hour)?,
                    events: to_count(path, OP, events)?,
                    changes: to_count(path, OP, changes)?,
                })
            })
            .collect()
    }

    /// Resource types touched in the hours overlapping `[from, to)` by one
    /// actor (or by anyone, with `None`), with event counts; most used first.
    pub fn resource_types(
        &self,
        actor: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>> {
        const OP: &str = "reading resource types";
        let path = self.path.as_str();
        let (lo, hi) = (hour_floor(to_ms(from)), to_ms(to));
        let sql_for_actor = "SELECT resource_type, sum(count) FROM actor_hour_type
             WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3
             GROUP BY resource_type ORDER BY sum(count) DESC, resource_type";
        let sql_for_all = "SELECT resource_type, sum(count) FROM actor_hour_type
             WHERE hour >= ?1 AND hour < ?2
             GROUP BY resource_type ORDER BY sum(count) DESC, resource_type";
        let read = |row: &rusqlite::Row<'_>| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?));
        let rows = match actor {
            Some(actor) => self.conn.prepare_cached(sql_for_actor).and_then(|mut s| {
                s.query_map(params![actor, lo, hi], read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }),
            None => self.conn.prepare_cached(sql_for_all).and_then(|mut s| {
                s.query_map(params![lo, hi], read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }),
        }
        .map_err(sql_err(path, OP))?;
        rows.into_iter()
            .map(|(rtype, n)| Ok((rtype, to_count(path, OP, n)?)))
            .collect()
    }

    /// Every resource type the actor has ever touched, with the time of the
    /// earliest such event; oldest first.
    pub fn first_seen_types(&self, actor: &str) -> Result<Vec<(String, DateTime<Utc>)>> {
        const OP: &str = "reading first-seen resource types";
        let path = self.path.as_str();
        let rows = self
            .conn
            .prepare_cached(
                "SELECT resource_type, first_seen FROM actor_first_seen
                 WHERE actor_key = ?1 ORDER BY first_seen, resource_type",
            )
            .and_then(|mut s| {
                s.query_map([actor], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(path, OP))?;
        rows.into_iter()
            .map(|(rtype, ms)| Ok((rtype, from_ms(path, OP, ms)?)))
            .collect()
    }

    /// Actors with at least one event in `[from, to)` (exact, not
    /// hour-granular), sorted. Whole hours are read from `actor_hour`; only
    /// the partial hours at either edge look at events.
    pub fn actors_active_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        const OP: &str = "reading active actors";
        let (from, to) = (to_ms(from), to_ms(to));
        if from >= to {
            return Ok(Vec::new());
        }
        // [from, to) = [from, first_full) + full hours [first_full, end_full) + [end_full, to),
        // where the edge pieces may overlap when both ends are in one hour.
        let first_full = hour_ceil(from);
        let end_full = hour_floor(to);
        let head_end = first_full.min(to);
        let tail_start = end_full.max(from);
        self.conn
            .prepare_cached(
                "SELECT actor_key FROM actor_hour WHERE hour >= ?1 AND hour < ?2
                 UNION
                 SELECT actor_key FROM events WHERE time >= ?3 AND time < ?4
                 UNION
                 SELECT actor_key FROM events WHERE time >= ?5 AND time < ?6
                 ORDER BY actor_key",
            )
            .and_then(|mut s| {
                s.query_map(
                    params![first_full, end_full, from, head_end, tail_start, to],
                    |row| row.get::<_, String>(0),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))
    }
}
