//! Where the baseline check gets its figures from.
//!
//! [`BaselineData`] is what the check reads: the lead implements it over the
//! store's hourly aggregates, an Axiom engine may follow, and
//! [`MemoryBaseline`] serves tests and the demo.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use chrono::{DateTime, Duration, Utc};

use super::{ActorWindow, HourActivity, HourCount, evaluate, hour_start, to_finding};
use crate::detect::finding::Finding;
use crate::detect::rules::Rules;
use crate::detect::suppress::Silencer;
use crate::model::AuditEvent;

/// Per-actor hourly aggregates of change events. All hours are hour starts
/// (UTC); ranges are half-open `[from, to)`; actors are
/// [`crate::model::actor_key`]s.
pub trait BaselineData {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Actors with at least one change in the hour starting at `hour`.
    fn active_actors(&self, hour: DateTime<Utc>) -> Result<Vec<String>, Self::Error>;

    /// The actor's changes in the hour: count, resource types, event ids.
    fn hour_activity(&self, actor: &str, hour: DateTime<Utc>) -> Result<HourActivity, Self::Error>;

    /// The actor's hourly change counts in `[from, to)`; hours without
    /// changes may be left out.
    fn hourly_counts(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourCount>, Self::Error>;

    /// Resource types the actor changed in `[from, to)`.
    fn types_seen(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, Self::Error>;

    /// Time of the actor's first event of any kind, if any.
    fn first_seen(&self, actor: &str) -> Result<Option<DateTime<Utc>>, Self::Error>;
}

/// Runs the baseline check for every actor active in the hour containing
/// `hour`. `now` is the check's time, against which suppressions expire.
/// Findings come out in actor order.
pub fn check_hour<D: BaselineData + ?Sized>(
    data: &D,
    rules: &Rules,
    hour: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Finding>, D::Error> {
    let hour = hour_start(hour);
    let window_start = hour - Duration::days(rules.baseline.window_days.get().into());
    let silencer = Silencer::new(rules, now);
    let mut actors = data.active_actors(hour)?;
    actors.sort();
    actors.dedup();
    let mut findings = Vec::new();
    for actor in &actors {
        let activity = data.hour_activity(actor, hour)?;
        if activity.changes == 0 {
            continue;
        }
        let history = data.hourly_counts(actor, window_start, hour)?;
        let types_seen = data.types_seen(actor, window_start, hour)?;
        let first_seen = data.first_seen(actor)?;
        let window = ActorWindow {
            actor,
            hour,
            activity: &activity,
            history: &history,
            types_seen: &types_seen,
            first_seen,
        };
        if let Some(hit) = evaluate(rules, &silencer, &window) {
            findings.push(to_finding(rules, &silencer, &hit));
        }
    }
    Ok(findings)
}

#[derive(Debug, Clone, Default)]
struct HourAggregate {
    changes: u32,
    types: BTreeSet<String>,
    event_ids: Vec<String>,
}

/// In-memory [`BaselineData`]: hourly aggregates per actor.
#[derive(Debug, Clone, Default)]
pub struct MemoryBaseline {
    hours: BTreeMap<String, BTreeMap<DateTime<Utc>, HourAggregate>>,
    first_seen: BTreeMap<String, DateTime<Utc>>,
}

impl MemoryBaseline {
    pub fn new() -> MemoryBaseline {
        MemoryBaseline::default()
    }

    /// Aggregates events the way the store does: every event moves the
    /// actor's first-seen time; only changes (`ActionKind::is_change`) count.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> MemoryBaseline {
        let mut m = MemoryBaseline::new();
        for e in events {
            let actor = e.actor_key();
            m.saw(&actor, e.time);
            if e.action.kind.is_change() {
                m.record_change(&actor, e.time, &e.id, e.resource.kind.as_deref());
            }
        }
        m
    }

    /// Notes that the actor did something (anything) at `time`.
    pub fn saw(&mut self, actor: &str, time: DateTime<Utc>) {
        self.first_seen
            .entry(actor.to_string())
            .and_modify(|t| *t = (*t).min(time))
            .or_insert(time);
    }

    /// One change event.
    pub fn record_change(
        &mut self,
        actor: &str,
        time: DateTime<Utc>,
        event_id: &str,
        resource_type: Option<&str>,
    ) {
        self.saw(actor, time);
        let agg = self.aggregate(actor, time);
        agg.changes += 1;
        agg.event_ids.push(event_id.to_string());
        if let Some(t) = resource_type {
            agg.types.insert(t.to_string());
        }
    }

    /// A whole hour at once, for synthetic histories: `changes` changes
    /// touching `types`, without event ids.
    pub fn record_hour(&mut self, actor: &str, hour: DateTime<Utc>, changes: u32, types: &[&str]) {
        self.saw(actor, hour_start(hour));
        let agg = self.aggregate(actor, hour);
        agg.changes += changes;
        agg.types.extend(types.iter().map(|t| t.to_string()));
    }

    fn aggregate(&mut self, actor: &str, time: DateTime<Utc>) -> &mut HourAggregate {
        self.hours
            .entry(actor.to_string())
            .or_default()
            .entry(hour_start(time))
            .or_default()
    }

    fn range(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = (&DateTime<Utc>, &HourAggregate)> {
        self.hours
            .get(actor)
            .into_iter()
            .flat_map(move |h| h.range(from..to))
    }
}

impl BaselineData for MemoryBaseline {
    type Error = Infallible;

    fn active_actors(&self, hour: DateTime<Utc>) -> Result<Vec<String>, Infallible> {
        let hour = hour_start(hour);
        Ok(self
            .hours
            .iter()
            .filter(|(_, h)| h.get(&hour).is_some_and(|a| a.changes > 0))
            .map(|(actor, _)| actor.clone())
            .collect())
    }

    fn hour_activity(&self, actor: &str, hour: DateTime<Utc>) -> Result<HourActivity, Infallible> {
        let agg = self
            .hours
            .get(actor)
            .and_then(|h| h.get(&hour_start(hour)))
            .cloned()
            .unwrap_or_default();
        Ok(HourActivity {
            changes: agg.changes,
            resource_types: agg.types,
            event_ids: agg.event_ids,
        })
    }

    fn hourly_counts(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourCount>, Infallible> {
        Ok(self
            .range(actor, from, to)
            .map(|(&hour, a)| HourCount {
                hour,
                changes: a.changes,
            })
            .collect())
    }

    fn types_seen(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, Infallible> {
        Ok(self
            .range(actor, from, to)
            .flat_map(|(_, a)| a.types.iter().cloned())
            .collect())
    }

    fn first_seen(&self, actor: &str) -> Result<Option<DateTime<Utc>>, Infallible> {
        Ok(self.first_seen.get(actor).copied())
    }
}
