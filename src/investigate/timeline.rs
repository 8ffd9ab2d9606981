//! One ordered, deduplicated timeline of both sources, with the markers and
//! sequences derived from it (see `markers`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::markers::{Marker, Sequence};
use crate::model::AuditEvent;

/// How evidence names an event: `cf:<id>` or `dd:<id>`. Unique, because the
/// store is unique by `(source, id)`.
pub fn event_ref(event: &AuditEvent) -> String {
    format!("{}:{}", event.source.short().to_ascii_lowercase(), event.id)
}

#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub event_ref: String,
    pub event: AuditEvent,
    pub markers: Vec<Marker>,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Oldest first; ties by source, then id, so the order is reproducible.
    pub entries: Vec<TimelineEntry>,
    pub sequences: Vec<Sequence>,
    /// Events that arrived twice (store and live query) and were dropped.
    pub duplicates: usize,
}

/// Summary counts for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineStats {
    pub events: usize,
    pub cloudflare: usize,
    pub datadog: usize,
    pub marked: usize,
    pub duplicates: usize,
}

impl Timeline {
    /// Orders and deduplicates `events` by `(source, id)`. Markers are added
    /// by [`super::markers::annotate`].
    pub fn build(events: Vec<AuditEvent>) -> Timeline {
        let total = events.len();
        let mut seen = HashSet::with_capacity(total);
        let mut entries: Vec<TimelineEntry> = events
            .into_iter()
            .filter(|e| seen.insert((e.source, e.id.clone())))
            .map(|event| TimelineEntry {
                event_ref: event_ref(&event),
                event,
                markers: Vec::new(),
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.event.time, a.event.source, &a.event.id).cmp(&(
                b.event.time,
                b.event.source,
                &b.event.id,
            ))
        });
        let duplicates = total - entries.len();
        Timeline {
            entries,
            sequences: Vec::new(),
            duplicates,
        }
    }

    pub fn contains_ref(&self, event_ref: &str) -> bool {
        self.entries.iter().any(|e| e.event_ref == event_ref)
    }

    pub fn refs(&self) -> HashSet<&str> {
        self.entries.iter().map(|e| e.event_ref.as_str()).collect()
    }

    pub fn stats(&self) -> TimelineStats {
        let count = |source| {
            self.entries
                .iter()
                .filter(|e| e.event.source == source)
                .count()
        };
        TimelineStats {
            events: self.entries.len(),
            cloudflare: count(crate::model::Source::Cloudflare),
            datadog: count(crate::model::Source::Datadog),
            marked: self
                .entries
                .iter()
                .filter(|e| !e.markers.is_empty())
                .count(),
            duplicates: self.duplicates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, ActionKind, Actor, Outcome, Resource, Source};
    use chrono::{TimeZone, Utc};

    fn event(source: Source, id: &str, minute: u32) -> AuditEvent {
        AuditEvent {
            source,
            id: id.into(),
            time: Utc.with_ymd_and_hms(2026, 11, 21, 3, minute, 0).unwrap(),
            actor: Actor::default(),
            action: Action {
                verb: "x".into(),
                kind: ActionKind::Other,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        }
    }

    #[test]
    fn both_sources_merge_in_time_order_without_duplicates() {
        let timeline = Timeline::build(vec![
            event(Source::Datadog, "d1", 5),
            event(Source::Cloudflare, "c1", 1),
            event(Source::Datadog, "d1", 5),
            event(Source::Cloudflare, "same", 3),
            event(Source::Datadog, "same", 3),
        ]);
        let refs: Vec<&str> = timeline
            .entries
            .iter()
            .map(|e| e.event_ref.as_str())
            .collect();
        assert_eq!(refs, ["cf:c1", "cf:same", "dd:same", "dd:d1"]);
        assert_eq!(timeline.duplicates, 1);
        let stats = timeline.stats();
        assert_eq!((stats.cloudflare, stats.datadog), (2, 2));
    }
}
