//! Hourly baseline check: is this actor's hour unusual for this actor?
//!
//! # The statistic
//!
//! For the checked hour `h` and the trailing window `[h - window_days, h)`:
//!
//! - `hour_of_day_median`: the median of the actor's change counts at the
//!   same UTC hour of day on each day of the window it existed (days without
//!   activity count as 0). It captures schedules: a job that makes 30 changes
//!   every night at 02:00 has a median of 30 at 02:00. A median rather than a
//!   mean, so a few earlier spikes (an attacker's rehearsal, an incident) do
//!   not raise the bar.
//! - `active_hour_mean`: the mean count over the window's hours in which the
//!   actor changed anything. It captures intensity regardless of the clock,
//!   so someone who works at irregular hours is not flagged merely for
//!   working at an unusual hour, and legitimate occasional batches raise the
//!   bar for that actor only.
//! - `expected = max(hour_of_day_median, active_hour_mean, expected_floor)`;
//!   `factor = changes / expected`. The hour flags on volume when
//!   `changes >= min_changes` and `factor >= volume_factor`. Taking the
//!   maximum means an hour must be unusual both for the time of day and for
//!   the actor's working pace; the floor and the minimum keep 0 -> 3 changes
//!   from being "infinitely" unusual.
//!
//! Hours are UTC. A job scheduled in local time moves by an hour at a DST
//! change: its hour-of-day median misses for a while, but the active-hour
//! mean still covers it. Day-of-week is not modelled: 30 days give only four
//! samples per weekday, too few for a median.
//!
//! # New resource types
//!
//! Any resource type changed in the hour that the actor did not change
//! anywhere in the window (allow-listed types for `baseline.new_type` are
//! left out).
//!
//! # Cold start
//!
//! Actors first seen fewer than `cold_start.min_history_days` days before the
//! hour have no meaningful baseline; `cold_start.mode` decides: `skip`,
//! `new_types_only` (against the short history there is), or
//! `absolute_threshold` (volume only, at a fixed count).

pub mod axiom;
mod data;
mod report;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use super::finding::Finding;
use super::rules::{BASELINE_NEW_TYPE, ColdStartMode, Rules};
use super::suppress::Silencer;

pub use data::{BaselineData, MemoryBaseline, check_hour};

/// The actor's change count in one hour of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HourCount {
    /// Start of the hour (UTC, minutes and seconds zero).
    pub hour: DateTime<Utc>,
    pub changes: u32,
}

/// What the actor did in the checked hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HourActivity {
    /// Change events (see `ActionKind::is_change`).
    pub changes: u32,
    /// Resource types of those changes.
    pub resource_types: BTreeSet<String>,
    /// Source ids of those changes.
    pub event_ids: Vec<String>,
}

/// Everything the check needs about one actor and one hour.
#[derive(Debug, Clone, Copy)]
pub struct ActorWindow<'a> {
    /// [`crate::model::actor_key`].
    pub actor: &'a str,
    /// Start of the checked hour.
    pub hour: DateTime<Utc>,
    pub activity: &'a HourActivity,
    /// Hourly counts in `[hour - window, hour)`; hours left out count as 0,
    /// entries outside the window are ignored.
    pub history: &'a [HourCount],
    /// Resource types the actor changed in `[hour - window, hour)`.
    pub types_seen: &'a BTreeSet<String>,
    /// The actor's first event ever; `None` for an actor new in this hour.
    pub first_seen: Option<DateTime<Utc>>,
}

/// The baseline figures, reported whether or not the hour flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BaselineStats {
    pub hour_of_day_median: f64,
    pub active_hour_mean: f64,
    /// Hours in the window with at least one change.
    pub active_hours: u32,
    /// Days sampled for the hour-of-day median.
    pub days_sampled: u32,
    pub expected: f64,
    pub factor: f64,
}

/// Why the volume flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VolumeFlag {
    /// `factor >= volume_factor` and `changes >= min_changes`.
    Factor,
    /// A cold-start actor reached the absolute threshold.
    ColdStartThreshold { threshold: u32 },
}

/// A flagged actor-hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineHit {
    pub actor: String,
    pub hour: DateTime<Utc>,
    pub changes: u32,
    pub stats: BaselineStats,
    /// Whole days between the actor's first event and the hour (capped at the window).
    pub history_days: u32,
    pub cold_start: bool,
    pub volume: Option<VolumeFlag>,
    pub new_types: Vec<String>,
    pub event_ids: Vec<String>,
}

/// Start of the hour containing `t`.
pub fn hour_start(t: DateTime<Utc>) -> DateTime<Utc> {
    // Truncation to a whole hour cannot overflow for any representable instant
    // that is itself a whole number of hours away from the epoch; fall back to `t`.
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Computes the statistic; pure.
pub fn baseline_stats(rules: &Rules, w: &ActorWindow<'_>, history_days: u32) -> BaselineStats {
    let b = &rules.baseline;
    let hour = hour_start(w.hour);
    let window_start = hour - Duration::days(b.window_days.get().into());
    let in_window: BTreeMap<DateTime<Utc>, u32> = w
        .history
        .iter()
        .filter(|c| c.hour >= window_start && c.hour < hour)
        .fold(BTreeMap::new(), |mut m, c| {
            *m.entry(hour_start(c.hour)).or_insert(0) += c.changes;
            m
        });

    let days_sampled = history_days.min(b.window_days.get());
    let mut same_hour: Vec<f64> = (1..=days_sampled)
        .map(|d| {
            let at = hour - Duration::days(d.into());
            f64::from(in_window.get(&at).copied().unwrap_or(0))
        })
        .collect();
    let hour_of_day_median = median(&mut same_hour);

    let active: Vec<u32> = in_window.values().copied().filter(|&c| c > 0).collect();
    let active_hours = u32::try_from(active.len()).unwrap_or(u32::MAX);
    let active_hour_mean = if active.is_empty() {
        0.0
    } else {
        active.iter().map(|&c| f64::from(c)).sum::<f64>() / active.len() as f64
    };

    let expected = hour_of_day_median
        .max(active_hour_mean)
        .max(b.expected_floor.get());
    BaselineStats {
        hour_of_day_median,
        active_hour_mean,
        active_hours,
        days_sampled,
        expected,
        factor: f64::from(w.activity.changes) / expected,
    }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Whole days of history before `hour`, capped at the window.
fn history_days(rules: &Rules, hour: DateTime<Utc>, first_seen: Option<DateTime<Utc>>) -> u32 {
    let days = first_seen.map_or(0, |f| (hour - f).num_days().max(0));
    u32::try_from(days)
        .unwrap_or(u32::MAX)
        .min(rules.baseline.window_days.get())
}

/// The check for one actor and hour; `None` when nothing is unusual.
/// Suppressions are not applied here (see [`to_finding`]); allow-listed
/// resource types are, because they are never "new" by definition.
pub fn evaluate(
    rules: &Rules,
    silencer: &Silencer<'_>,
    w: &ActorWindow<'_>,
) -> Option<BaselineHit> {
    let b = &rules.baseline;
    let hour = hour_start(w.hour);
    let history_days = history_days(rules, hour, w.first_seen);
    let cold_start = history_days < b.cold_start.min_history_days.get();
    let stats = baseline_stats(rules, w, history_days);
    let changes = w.activity.changes;

    let (check_volume, check_types) = match (cold_start, b.cold_start.mode) {
        (false, _) => (true, b.new_resource_types),
        (true, ColdStartMode::Skip) => return None,
        (true, ColdStartMode::NewTypesOnly) => (false, b.new_resource_types),
        (true, ColdStartMode::AbsoluteThreshold) => (true, false),
    };

    let volume = if !check_volume {
        None
    } else if cold_start {
        let threshold = b.cold_start.absolute_threshold.get();
        (changes >= threshold).then_some(VolumeFlag::ColdStartThreshold { threshold })
    } else {
        (changes >= b.min_changes.get() && stats.factor >= b.volume_factor.get())
            .then_some(VolumeFlag::Factor)
    };

    let new_types: Vec<String> = if check_types {
        w.activity
            .resource_types
            .iter()
            .filter(|t| !w.types_seen.contains(*t))
            .filter(|t| !silencer.resource_allowed(BASELINE_NEW_TYPE, &[t.as_str()]))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };

    if volume.is_none() && new_types.is_empty() {
        return None;
    }
    Some(BaselineHit {
        actor: w.actor.to_string(),
        hour,
        changes,
        stats,
        history_days,
        cold_start,
        volume,
        new_types,
        event_ids: w.activity.event_ids.clone(),
    })
}

/// Turns a hit into a finding with its Linear ticket request, applying
/// suppressions and allow-listed actors.
pub fn to_finding(rules: &Rules, silencer: &Silencer<'_>, hit: &BaselineHit) -> Finding {
    report::finding(rules, silencer, hit)
}

#[cfg(test)]
mod tests;
