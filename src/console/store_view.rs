//! One read of everything the main screen shows, from the console's own
//! store connection: the newest findings of each pane with their outbox
//! rows and last triage entry, the newest drafts (re-read only when their
//! stamp moved) with their publish rows, and the outbox counts.
//!
//! Bounded: at most `Limits` rows per pane, whatever the store holds.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::publish::publish_keys;
use crate::detect::Workflow;
use crate::store::{
    AnalystLogEntry, DraftRow, DraftStatus, FindingFilter, FindingState, OutboxCounts,
    OutboxFilter, OutboxItem, Store, StoreError, StoredFinding, draft_label,
};
use crate::workflows::{EffectiveMode, ModePolicy};

/// How much of the store the main screen reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub findings_per_pane: usize,
    pub drafts: usize,
    /// Newest outbox rows in the outbox view.
    pub outbox_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            findings_per_pane: 200,
            drafts: 100,
            outbox_rows: 200,
        }
    }
}

/// A finding with what the panes show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    pub finding: StoredFinding,
    pub outbox: Vec<OutboxItem>,
    /// The analyst-log entry of the last state change, when not `new`.
    pub last_triage: Option<AnalystLogEntry>,
    /// An investigation it started is still running.
    pub investigating: bool,
}

/// A draft with the outbox rows its publishing queued.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    /// Shared with the cache: a report can be large.
    pub row: Arc<DraftRow>,
    pub outbox: Vec<OutboxItem>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreView {
    pub flagged: Vec<FindingRecord>,
    pub bursts: Vec<FindingRecord>,
    pub tokens: Vec<FindingRecord>,
    /// Newest first.
    pub drafts: Vec<DraftRecord>,
    pub outbox: OutboxCounts,
    /// The newest outbox rows, newest first, without their payloads.
    pub outbox_rows: Vec<OutboxItem>,
    /// Each workflow's mode in force.
    pub modes: Vec<EffectiveMode>,
}

/// Drafts already read, by id, with the stamp they were read at: a draft's
/// report can be large, so unchanged ones are not read again.
#[derive(Debug, Default)]
pub struct DraftRows {
    rows: HashMap<i64, (DateTime<Utc>, Arc<DraftRow>)>,
}

impl StoreView {
    pub fn read(
        store: &Store,
        limits: Limits,
        modes: &ModePolicy,
        known: &mut DraftRows,
    ) -> Result<StoreView, StoreError> {
        let drafts = read_drafts(store, limits.drafts, known)?;
        let running: Vec<&str> = drafts
            .iter()
            .filter(|d| d.row.status == DraftStatus::Running)
            .filter_map(|d| d.row.trigger_ref.as_deref())
            .collect();
        let pane = |workflow| read_findings(store, workflow, limits.findings_per_pane, &running);
        Ok(StoreView {
            flagged: pane(Workflow::Baseline)?,
            bursts: pane(Workflow::Burst)?,
            tokens: pane(Workflow::Token)?,
            outbox: store.outbox_counts()?,
            outbox_rows: store.outbox_newest(limits.outbox_rows)?,
            modes: modes.all(store)?,
            drafts,
        })
    }
}

fn read_findings(
    store: &Store,
    workflow: Workflow,
    limit: usize,
    running_refs: &[&str],
) -> Result<Vec<FindingRecord>, StoreError> {
    let findings = store.findings(&FindingFilter {
        workflow: Some(workflow),
        seen_since: None,
        limit: Some(limit),
    })?;
    findings
        .into_iter()
        .map(|finding| {
            let outbox = store.outbox_list(&OutboxFilter {
                finding_id: Some(finding.id),
                ..OutboxFilter::default()
            })?;
            let last_triage = if finding.state == FindingState::New {
                None
            } else {
                store.analyst_log(Some(&finding.dedup_key), 1)?.pop()
            };
            let investigating = running_refs.contains(&finding.dedup_key.as_str());
            Ok(FindingRecord {
                finding,
                outbox,
                last_triage,
                investigating,
            })
        })
        .collect()
}

fn read_drafts(
    store: &Store,
    limit: usize,
    known: &mut DraftRows,
) -> Result<Vec<DraftRecord>, StoreError> {
    let versions = store.draft_versions(limit)?;
    let mut fresh = HashMap::with_capacity(versions.len());
    let mut records = Vec::with_capacity(versions.len());
    for (id, stamp) in versions {
        let row = match known.rows.remove(&id) {
            Some((seen, row)) if seen == stamp => row,
            _ => match store.draft(id)? {
                Some(row) => Arc::new(row),
                // Deleted between the two reads: gone from the list too.
                None => continue,
            },
        };
        let mut outbox = Vec::new();
        for key in publish_keys(&draft_label(id)) {
            outbox.extend(store.outbox_item_by_key(&key)?);
        }
        records.push(DraftRecord {
            row: Arc::clone(&row),
            outbox,
        });
        fresh.insert(id, (stamp, row));
    }
    known.rows = fresh;
    Ok(records)
}
