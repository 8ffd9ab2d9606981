//! Datadog burst check (every few minutes): one actor doing a sensitive
//! action many times in a short span.
//!
//! # What a burst is
//!
//! For each actor and named action (rule id `burst.<name>`), a burst starts
//! when `threshold` matching events fall within `window_minutes` of each
//! other (first to last). It stays open while each next matching event
//! follows the previous one within `window_minutes`, and closes at the first
//! longer pause. Its start (first event) never changes, so its dedup key
//! `burst:{actor}:{rule}:{start}` is the same in every check it spans: a
//! burst continuing into the next window updates its finding.
//!
//! # Carrying state across checks
//!
//! [`check_bursts`] is pure: it takes the [`BurstState`] returned by the
//! previous check and returns the next one. The state holds, per actor and
//! action, the open burst (start, last, count, the first event ids) and the
//! recent matching events that have not yet reached the threshold (fewer than
//! `threshold`), so a burst split across a window boundary is still seen.
//! It is serde-serializable for the caller to keep. Windows must be
//! contiguous (`[start, end)`, each starting where the previous ended);
//! events outside the window are ignored, so overlapping fetches cannot
//! double-count. Lost state (a restart without it) costs continuity only:
//! a burst still in progress is then reported again under a new start.

mod report;
mod vocab;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::rules::Rules;
use super::suppress::Silencer;
use super::ticket::MAX_EVENT_IDS;
use crate::model::{AuditEvent, Source};

pub use vocab::DatadogVocab;

/// The span of one check: events with `start <= time < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An event reference kept between checks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventRef {
    pub time: DateTime<Utc>,
    pub id: String,
}

/// A burst that has reached its threshold and may still continue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBurst {
    pub start: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub count: u64,
    /// The first 200 event ids; `count` has the total.
    pub event_ids: Vec<String>,
}

/// Per actor and action: what the next check needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub actor: String,
    /// Action name (without the `burst.` prefix).
    pub action: String,
    /// Recent matching events below the threshold, oldest first.
    pub pending: Vec<EventRef>,
    pub open: Option<OpenBurst>,
}

/// State carried from one check to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstState {
    pub tracks: Vec<Track>,
}

/// A burst that gained events in this check, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BurstHit {
    pub actor: String,
    pub action: String,
    pub burst: OpenBurst,
    /// Matching events this check added to the burst.
    pub added: u64,
    /// Whether a later event can still continue it.
    pub open: bool,
    /// Every named action's matching events by this actor in this check.
    pub window_counts: BTreeMap<String, u64>,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstOutcome {
    /// Pass to the next check.
    pub state: BurstState,
    /// One finding per burst that gained events, in actor then action order.
    pub findings: Vec<Finding>,
    /// Ids of Datadog events in the window whose raw JSON could not be read.
    pub unreadable: Vec<String>,
}

/// Runs one burst check over the events of `window`. `now` is the check's
/// time, against which suppressions expire.
pub fn check_bursts(
    rules: &Rules,
    previous: &BurstState,
    events: &[AuditEvent],
    window: CheckWindow,
    now: DateTime<Utc>,
) -> BurstOutcome {
    let silencer = Silencer::new(rules, now);
    let (matched, window_counts, unreadable) = match_events(rules, &silencer, events, window);
    let (state, hits) = advance(rules, previous, matched, &window_counts, window);
    let findings = hits
        .iter()
        .map(|hit| report::finding(rules, &silencer, hit))
        .collect();
    BurstOutcome {
        state,
        findings,
        unreadable,
    }
}

type Key = (String, String);

/// Matching events per (actor, action), oldest first, and per-actor counts.
#[allow(clippy::type_complexity)]
fn match_events(
    rules: &Rules,
    silencer: &Silencer<'_>,
    events: &[AuditEvent],
    window: CheckWindow,
) -> (
    BTreeMap<Key, Vec<EventRef>>,
    BTreeMap<String, BTreeMap<String, u64>>,
    Vec<String>,
) {
    let mut seen = BTreeSet::new();
    let mut in_window: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.source == Source::Datadog)
        .filter(|e| e.time >= window.start && e.time < window.end)
        .filter(|e| seen.insert(e.id.as_str()))
        .collect();
    in_window.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));

    let mut matched: BTreeMap<Key, Vec<EventRef>> = BTreeMap::new();
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for event in in_window {
        let Some(vocab) = DatadogVocab::of(event) else {
            unreadable.push(event.id.clone());
            continue;
        };
        let actor = event.actor_key();
        for (name, action) in &rules.burst.actions {
            if !action.enabled || !vocab.matches(action) {
                continue;
            }
            let rule_id = Rules::burst_rule_id(name);
            let names: Vec<&str> = [
                vocab.asset_type.as_deref(),
                event.resource.id.as_deref(),
                event.resource.name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            if silencer.resource_allowed(&rule_id, &names) {
                continue;
            }
            *counts
                .entry(actor.clone())
                .or_default()
                .entry(name.to_string())
                .or_default() += 1;
            matched
                .entry((actor.clone(), name.to_string()))
                .or_default()
                .push(EventRef {
                    time: event.time,
                    id: event.id.clone(),
                });
        }
    }
    (matched, counts, unreadable)
}

/// Feeds the new events through each track and closes what can no longer continue.
fn advance(
    rules: &Rules,
    previous: &BurstState,
    mut matched: BTreeMap<Key, Vec<EventRef>>,
    window_counts: &BTreeMap<String, BTreeMap<String, u64>>,
    window: CheckWindow,
) -> (BurstState, Vec<BurstHit>) {
    let gap = rules.burst.window_minutes.duration();
    let mut tracks: BTreeMap<Key, Track> = previous
        .tracks
        .iter()
        // Actions removed from the rules since the last check are dropped.
        .filter(|t| rules.burst.actions.keys().any(|n| n.as_str() == t.action))
        .map(|t| ((t.actor.clone(), t.action.clone()), t.clone()))
        .collect();
    for key in matched.keys() {
        tracks.entry(key.clone()).or_insert_with(|| Track {
            actor: key.0.clone(),
            action: key.1.clone(),
            pending: Vec::new(),
            open: None,
        });
    }

    let mut hits = Vec::new();
    let horizon = window.end - gap;
    let mut next = Vec::new();
    for (key, mut track) in tracks {
        let threshold = rules
            .burst
            .actions
            .iter()
            .find(|(n, _)| n.as_str() == key.1)
            .map_or(u64::MAX, |(_, a)| u64::from(a.threshold.get()));
        let counts = window_counts.get(&key.0).cloned().unwrap_or_default();
        let report = |burst: &OpenBurst, added: u64, open: bool| BurstHit {
            actor: key.0.clone(),
            action: key.1.clone(),
            burst: burst.clone(),
            added,
            open,
            window_counts: counts.clone(),
        };
        let mut added = 0u64;
        for ev in matched.remove(&key).unwrap_or_default() {
            if let Some(open) = track.open.as_mut() {
                if ev.time - open.last <= gap {
                    open.count += 1;
                    open.last = ev.time;
                    if open.event_ids.len() < MAX_EVENT_IDS {
                        open.event_ids.push(ev.id);
                    }
                    added += 1;
                    continue;
                }
                // A longer pause ends the burst; report it if this check fed it.
                if added > 0 {
                    hits.push(report(open, added, false));
                }
                track.open = None;
                added = 0;
            }
            let t = ev.time;
            track.pending.push(ev);
            track.pending.retain(|p| t - p.time <= gap);
            if track.pending.len() as u64 >= threshold {
                let pending = std::mem::take(&mut track.pending);
                added = pending.len() as u64;
                track.open = Some(OpenBurst {
                    start: pending.first().map_or(t, |p| p.time),
                    last: t,
                    count: added,
                    event_ids: pending
                        .into_iter()
                        .take(MAX_EVENT_IDS)
                        .map(|p| p.id)
                        .collect(),
                });
            }
        }
        let still_open = track.open.as_ref().is_some_and(|o| o.last >= horizon);
        if let Some(open) = track.open.as_ref().filter(|_| added > 0) {
            hits.push(report(open, added, still_open));
        }
        if !still_open {
            track.open = None;
        }
        track.pending.retain(|p| p.time >= horizon);
        if track.open.is_some() || !track.pending.is_empty() {
            next.push(track);
        }
    }
    hits.sort_by(|a, b| {
        (&a.actor, &a.action, a.burst.start).cmp(&(&b.actor, &b.action, b.burst.start))
    });
    (BurstState { tracks: next }, hits)
}

/// How long a burst has lasted so far.
pub fn burst_duration(b: &OpenBurst) -> Duration {
    b.last - b.start
}

#[cfg(test)]
mod tests;
