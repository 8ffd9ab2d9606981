//! What changed between two snapshots, as the row upserts and removals the
//! console applies: only changed rows cross the channel after the first
//! snapshot.

use std::collections::HashSet;

use crate::tui::model::{ConsoleSnapshot, DataEvent, FindingMeta};

pub fn changes(old: &ConsoleSnapshot, new: &ConsoleSnapshot) -> Vec<DataEvent> {
    let mut out = Vec::new();
    upserts(
        &old.flagged,
        &new.flagged,
        |r| &r.meta,
        &mut out,
        |r| DataEvent::Flagged(r.clone()),
    );
    upserts(
        &old.bursts,
        &new.bursts,
        |r| &r.meta,
        &mut out,
        |r| DataEvent::Burst(r.clone()),
    );
    upserts(
        &old.tokens,
        &new.tokens,
        |r| &r.meta,
        &mut out,
        |r| DataEvent::Token(r.clone()),
    );
    for row in &new.investigations {
        if !old.investigations.contains(row) {
            out.push(DataEvent::Investigation(row.clone()));
        }
    }
    for draft in &new.drafts {
        if !old.drafts.contains(draft) {
            out.push(DataEvent::Draft(Box::new(draft.clone())));
        }
    }
    if old.status != new.status {
        out.push(DataEvent::Status(new.status.clone()));
    }
    if old.outbox != new.outbox {
        out.push(DataEvent::Outbox(new.outbox.clone()));
    }
    out
}

/// Upserts for new or changed rows, removals for rows no longer listed
/// (fallen out of the pane's newest rows).
fn upserts<T: PartialEq>(
    old: &[T],
    new: &[T],
    meta: impl Fn(&T) -> &FindingMeta,
    out: &mut Vec<DataEvent>,
    event: impl Fn(&T) -> DataEvent,
) {
    for row in new {
        if !old.contains(row) {
            out.push(event(row));
        }
    }
    let kept: HashSet<&str> = new.iter().map(|r| meta(r).id.raw()).collect();
    for row in old {
        let id = &meta(row).id;
        if !kept.contains(id.raw()) {
            out.push(DataEvent::Removed(id.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::tui::model::{
        ActorKey, FindingId, FlaggedActorRow, Severity, StatusSnapshot, TriageState,
    };

    fn row(id: &str, count: u32) -> FlaggedActorRow {
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap();
        FlaggedActorRow {
            meta: FindingMeta {
                id: FindingId::new(id),
                actor: ActorKey::new("a@x.io"),
                severity: Severity::High,
                state: TriageState::Open,
                detected_at: t,
                updated_at: t,
                deliveries: Vec::new(),
            },
            hour: t,
            count,
            baseline: 1.0,
            factor: 2.0,
            new_resource_types: Vec::new(),
        }
    }

    #[test]
    fn only_changed_rows_removals_and_status_are_sent() {
        let old = ConsoleSnapshot {
            flagged: vec![row("a", 1), row("b", 1)],
            ..ConsoleSnapshot::default()
        };
        assert!(changes(&old, &old).is_empty());
        let new = ConsoleSnapshot {
            flagged: vec![row("a", 2), row("c", 1)],
            status: StatusSnapshot {
                outbox_queued: 1,
                ..StatusSnapshot::default()
            },
            ..ConsoleSnapshot::default()
        };
        let sent = changes(&old, &new);
        assert_eq!(
            sent,
            [
                DataEvent::Flagged(row("a", 2)),
                DataEvent::Flagged(row("c", 1)),
                DataEvent::Removed(FindingId::new("b")),
                DataEvent::Status(new.status.clone()),
            ]
        );
    }
}
