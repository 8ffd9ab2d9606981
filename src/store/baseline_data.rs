//! The baseline check's figures, read from the store's aggregates.
//!
//! Per actor and hour this reads `actor_hour` (change counts),
//! `actor_hour_change_type` (resource types changed) and, for the checked
//! hour only, that actor's own events (their ids and types): the cost is
//! O(active actors x window hours), independent of how many events the
//! window holds. The actor's first event is one seek on the
//! `(actor_key, time)` index.
//!
//! `actor_hour_change_type` is folded in from new events on demand (see
//! migration 3 for why not on insert), so the baseline reads through
//! [`StoreBaseline`], which only [`Store::baseline_data`] hands out, after
//! folding: a stale aggregate cannot be read by mistake.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{TransactionBehavior, params};

use super::{Result, Store, StoreError, from_ms, sql_err, to_count, to_ms};
use crate::detect::baseline::{BaselineData, HourActivity, HourCount, hour_start};

/// Action kinds stored for events that change nothing; must stay the
/// complement of `ActionKind::is_change` (a test checks it).
pub(super) const NON_CHANGE_KINDS_SQL: &str = "('read', 'login')";

pub(super) const CHANGE_TYPES_MARK: &str = "actor_hour_change_type";

/// The store as the baseline check's data, with its change-type aggregate
/// up to date as of [`Store::baseline_data`].
#[derive(Debug, Clone, Copy)]
pub struct StoreBaseline<'a> {
    store: &'a Store,
}

impl Store {
    /// Folds events stored since the last fold into the change-type
    /// aggregate and returns the store as baseline data.
    pub fn baseline_data(&mut self) -> Result<StoreBaseline<'_>> {
        self.refresh_change_types()?;
        Ok(StoreBaseline { store: self })
    }

    /// Folds events with a rowid above the mark into
    /// `actor_hour_change_type` and moves the mark, in one transaction;
    /// returns how many events were looked at. Events are only ever
    /// appended, and SQLite serializes writers, so rowids at or below the
    /// newest committed one never appear later.
    pub fn refresh_change_types(&mut self) -> Result<u64> {
        const OP: &str = "updating the change-type aggregate";
        let path = self.path.as_str();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let (done, newest): (i64, i64) = tx
            .query_row(
                "SELECT (SELECT rowid_done FROM derived_marks WHERE name = ?1),
                        (SELECT coalesce(max(rowid), 0) FROM events)",
                [CHANGE_TYPES_MARK],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err(path, OP))?;
        if newest <= done {
            return Ok(0);
        }
        let fold = format!(
            "INSERT INTO actor_hour_change_type (actor_key, hour, resource_type, changes)
             SELECT actor_key, time - (((time % 3600000) + 3600000) % 3600000), resource_type,
                    count(*)
             FROM events
             WHERE rowid > ?1 AND rowid <= ?2 AND kind NOT IN {NON_CHANGE_KINDS_SQL}
               AND resource_type IS NOT NULL AND resource_type <> ''
             GROUP BY 1, 2, 3
             ON CONFLICT (actor_key, hour, resource_type) DO UPDATE SET
                 changes = changes + excluded.changes"
        );
        tx.execute(&fold, params![done, newest])
            .map_err(sql_err(path, OP))?;
        tx.execute(
            "UPDATE derived_marks SET rowid_done = ?2 WHERE name = ?1",
            params![CHANGE_TYPES_MARK, newest],
        )
        .map_err(sql_err(path, OP))?;
        tx.commit().map_err(sql_err(path, OP))?;
        to_count(path, OP, newest - done)
    }
}

impl BaselineData for StoreBaseline<'_> {
    type Error = StoreError;

    fn active_actors(&self, hour: DateTime<Utc>) -> Result<Vec<String>> {
        let hour = to_ms(hour_start(hour));
        self.store
            .conn
            .prepare_cached(
                "SELECT DISTINCT actor_key FROM actor_hour
                 WHERE hour = ?1 AND changes > 0 ORDER BY actor_key",
            )
            .and_then(|mut s| {
                s.query_map([hour], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(
                &self.store.path,
                "reading the hour's active actors",
            ))
    }

    fn hour_activity(&self, actor: &str, hour: DateTime<Utc>) -> Result<HourActivity> {
        let from = hour_start(hour);
        let to = from + Duration::hours(1);
        let sql = format!(
            "SELECT id, resource_type FROM events
             WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
               AND kind NOT IN {NON_CHANGE_KINDS_SQL}
             ORDER BY time, rowid"
        );
        let rows = self
            .store
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![actor, to_ms(from), to_ms(to)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(
                &self.store.path,
                "reading an actor's changes in the hour",
            ))?;
        let mut activity = HourActivity {
            changes: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            ..HourActivity::default()
        };
        for (id, resource_type) in rows {
            if let Some(t) = resource_type.filter(|t| !t.is_empty()) {
                activity.resource_types.insert(t);
            }
            activity.event_ids.push(id);
        }
        Ok(activity)
    }

    fn hourly_counts(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourCount>> {
        const OP: &str = "reading an actor's hourly change counts";
        let path = self.store.path.as_str();
        let rows = self
            .store
            .conn
            .prepare_cached(
                "SELECT hour, sum(changes) FROM actor_hour
                 WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3
                 GROUP BY hour HAVING sum(changes) > 0 ORDER BY hour",
            )
            .and_then(|mut s| {
                s.query_map(params![actor, to_ms(from), to_ms(to)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(path, OP))?;
        rows.into_iter()
            .map(|(hour, changes)| {
                Ok(HourCount {
                    hour: from_ms(path, OP, hour)?,
                    changes: u32::try_from(changes).map_err(|_| StoreError::Corrupt {
                        path: path.to_string(),
                        operation: OP,
                        detail: format!("change count {changes} for {actor} is out of range"),
                    })?,
                })
            })
            .collect()
    }

    fn types_seen(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeSet<String>> {
        self.store
            .conn
            .prepare_cached(
                "SELECT DISTINCT resource_type FROM actor_hour_change_type
                 WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3",
            )
            .and_then(|mut s| {
                s.query_map(params![actor, to_ms(from), to_ms(to)], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<BTreeSet<_>>>()
            })
            .map_err(sql_err(
                &self.store.path,
                "reading resource types an actor changed",
            ))
    }

    fn first_seen(&self, actor: &str) -> Result<Option<DateTime<Utc>>> {
        const OP: &str = "reading an actor's first event";
        let ms: Option<i64> = self
            .store
            .conn
            .prepare_cached("SELECT min(time) FROM events WHERE actor_key = ?1")
            .and_then(|mut s| s.query_row([actor], |r| r.get(0)))
            .map_err(sql_err(&self.store.path, OP))?;
        ms.map(|ms| from_ms(&self.store.path, OP, ms)).transpose()
    }
}

impl Store {
    /// The times of the oldest and newest stored events (two index seeks).
    pub fn event_time_range(&self) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        const OP: &str = "reading the events' time range";
        let (lo, hi): (Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT (SELECT min(time) FROM events), (SELECT max(time) FROM events)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err(&self.path, OP))?;
        match (lo, hi) {
            (Some(lo), Some(hi)) => Ok(Some((
                from_ms(&self.path, OP, lo)?,
                from_ms(&self.path, OP, hi)?,
            ))),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;

    #[test]
    fn non_change_kinds_match_the_model() {
        let mut non_change: Vec<String> = ActionKind::ALL
            .into_iter()
            .filter(|k| !k.is_change())
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        non_change.sort_by(|a, b| b.cmp(a));
        assert_eq!(format!("({})", non_change.join(", ")), NON_CHANGE_KINDS_SQL);
    }

    #[test]
    fn change_types_fold_in_new_events_once() {
        let mut store = Store::open_in_memory().unwrap();
        let insert = |store: &Store, rows: &[(&str, i64, &str, Option<&str>)]| {
            for (id, time, kind, rtype) in rows {
                store
                    .conn
                    .execute(
                        "INSERT INTO events (source, id, time, actor_key, verb, kind,
                         resource_type, outcome, raw)
                         VALUES ('cloudflare', ?1, ?2, 'a', 'v', ?3, ?4, 'success', '{}')",
                        rusqlite::params![id, time, kind, rtype],
                    )
                    .unwrap();
            }
        };
        let table = |store: &Store| -> Vec<(i64, String, i64)> {
            store
                .conn
                .prepare(
                    "SELECT hour, resource_type, changes FROM actor_hour_change_type
                     ORDER BY hour, resource_type",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        // -1 ms is in the hour before the epoch: hours floor, not truncate.
        insert(
            &store,
            &[
                ("1", 3_600_000 + 5, "update", Some("dns")),
                ("2", 3_600_000 + 9, "delete", Some("dns")),
                ("3", 3_600_000 + 9, "read", Some("monitor")),
                ("4", -1, "create", Some("waf")),
                ("5", 7, "create", None),
            ],
        );
        assert_eq!(store.refresh_change_types().unwrap(), 5);
        assert_eq!(
            table(&store),
            vec![(-3_600_000, "waf".into(), 1), (3_600_000, "dns".into(), 2)]
        );
        assert_eq!(store.refresh_change_types().unwrap(), 0, "folded once");
        insert(&store, &[("6", 3_600_000 + 60, "update", Some("dns"))]);
        let data = store.baseline_data().unwrap();
        let seen = data
            .types_seen(
                "a",
                DateTime::from_timestamp_millis(-3_600_000).unwrap(),
                DateTime::from_timestamp_millis(7_200_000).unwrap(),
            )
            .unwrap();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["dns", "waf"]);
        assert_eq!(table(&store)[1], (3_600_000, "dns".into(), 3));
    }
}
