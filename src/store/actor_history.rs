//! What an actor usually looks like before an investigation window: the IPs
//! and user agents it used and the hours of the day it is active. Read for
//! the investigation's "first seen" and "off hours" markers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::baseline_data::NON_CHANGE_KINDS_SQL;
use super::{HOUR_MS, Result, Store, sql_err, to_count, to_ms};

const DAY_MS: i64 = 24 * HOUR_MS;

/// An actor's history over `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorHistory {
    /// IP -> events.
    pub ips: HashMap<String, u64>,
    /// User agent -> events.
    pub user_agents: HashMap<String, u64>,
    /// Events per UTC hour of day (0-23).
    pub hour_of_day: [u64; 24],
    /// Distinct UTC days with activity.
    pub active_days: u64,
    /// Resource type -> distinct UTC days on which the actor successfully
    /// changed one (what is routine work for them).
    pub change_days_by_type: HashMap<String, u64>,
    pub events: u64,
}

impl Store {
    /// The history of every actor key in `keys` over `[from, to)`, merged.
    ///
    /// Hours come from the hourly aggregates (O(hours)); IPs and user agents
    /// from the events themselves through the `(actor_key, time)` index.
    pub fn actor_history(
        &self,
        keys: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ActorHistory> {
        const OP: &str = "reading an actor's history";
        let path = self.path.as_str();
        let mut history = ActorHistory::default();
        let mut days = std::collections::HashSet::new();
        let (from_ms, to_ms) = (to_ms(from), to_ms(to));
        let mut hours = self
            .conn
            .prepare_cached(
                "SELECT hour, sum(events) FROM actor_hour
                 WHERE actor_key = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY hour",
            )
            .map_err(sql_err(path, OP))?;
        let mut values = self
            .conn
            .prepare_cached(
                "SELECT actor_ip, actor_user_agent, count(*) FROM events
                 WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
                 GROUP BY actor_ip, actor_user_agent",
            )
            .map_err(sql_err(path, OP))?;
        let mut change_days = self
            .conn
            .prepare_cached(&format!(
                "SELECT resource_type, count(DISTINCT time / {DAY_MS}) FROM events
                 WHERE actor_key = ?1 AND time >= ?2 AND time < ?3
                   AND resource_type IS NOT NULL AND outcome != 'failure'
                   AND kind NOT IN {NON_CHANGE_KINDS_SQL}
                 GROUP BY resource_type"
            ))
            .map_err(sql_err(path, OP))?;
        for key in keys {
            let rows = change_days
                .query_map(params![key, from_ms, to_ms], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(sql_err(path, OP))?;
            for (kind, days) in rows {
                let days = to_count(path, OP, days)?;
                // Several keys of one person: their busiest key tells.
                let slot = history.change_days_by_type.entry(kind).or_default();
                *slot = (*slot).max(days);
            }
            let rows = hours
                .query_map(params![key, from_ms, to_ms], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(sql_err(path, OP))?;
            for (hour, count) in rows {
                let count = to_count(path, OP, count)?;
                let hour_of_day = hour.rem_euclid(24 * HOUR_MS) / HOUR_MS;
                // In 0..24 by construction.
                if let Some(slot) = usize::try_from(hour_of_day)
                    .ok()
                    .and_then(|h| history.hour_of_day.get_mut(h))
                {
                    *slot += count;
                }
                days.insert(hour.div_euclid(24 * HOUR_MS));
                history.events += count;
            }
            let rows = values
                .query_map(params![key, from_ms, to_ms], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(sql_err(path, OP))?;
            for (ip, agent, count) in rows {
                let count = to_count(path, OP, count)?;
                if let Some(ip) = ip {
                    *history.ips.entry(ip).or_default() += count;
                }
                if let Some(agent) = agent {
                    *history.user_agents.entry(agent).or_default() += count;
                }
            }
        }
        history.active_days = days.len() as u64;
        Ok(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
    use chrono::TimeZone;

    fn event(id: &str, day: u32, hour: u32, ip: &str) -> AuditEvent {
        AuditEvent {
            source: Source::Datadog,
            id: id.into(),
            time: Utc.with_ymd_and_hms(2026, 11, day, hour, 5, 0).unwrap(),
            actor: Actor {
                email: Some("a@example.com".into()),
                ip: Some(ip.into()),
                user_agent: Some("curl".into()),
                ..Actor::default()
            },
            action: Action {
                verb: "modified".into(),
                kind: ActionKind::Update,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        }
    }

    #[test]
    fn history_counts_hours_days_ips_and_agents_inside_the_range() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .insert_events(&[
                event("1", 10, 9, "10.0.0.1"),
                event("2", 10, 9, "10.0.0.1"),
                event("3", 11, 14, "10.0.0.2"),
                event("4", 20, 3, "203.0.113.9"),
            ])
            .unwrap();
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 15, 0, 0, 0).unwrap();
        let h = store
            .actor_history(&["a@example.com".into(), "nobody".into()], from, to)
            .unwrap();
        assert_eq!(h.events, 3);
        assert_eq!(h.active_days, 2);
        assert_eq!(h.hour_of_day[9], 2);
        assert_eq!(h.hour_of_day[14], 1);
        assert_eq!(h.hour_of_day[3], 0);
        assert_eq!(h.ips.get("10.0.0.1"), Some(&2));
        assert!(!h.ips.contains_key("203.0.113.9"));
        assert_eq!(h.user_agents.get("curl"), Some(&3));
    }
}
