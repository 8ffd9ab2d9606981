//! Sequences across timeline events: a credential created then used from a
//! new IP, a privilege change then destruction, failures then a success, a
//! resource deleted then created again.

use std::collections::{HashMap, HashSet};

use chrono::TimeDelta;

use super::super::timeline::TimelineEntry;
use super::{MarkerKind, Sequence, SequenceKind, created_token, nonblank, resource_label};
use crate::model::{ActionKind, AuditEvent, Outcome};

const PRIVILEGE_TO_DESTRUCTIVE: TimeDelta = TimeDelta::hours(6);
const FAILURE_BURST: TimeDelta = TimeDelta::minutes(30);
const FAILURES_BEFORE_SUCCESS: usize = 3;
const RECREATE_WITHIN: TimeDelta = TimeDelta::hours(2);
/// Refs listed per sequence; the detail says how many there were.
const MAX_SEQUENCE_REFS: usize = 12;

/// Every sequence in `entries` (marked, oldest first); `new_ips` are the IPs
/// not seen before the window.
pub(super) fn find(entries: &[TimelineEntry], new_ips: &HashSet<String>) -> Vec<Sequence> {
    let mut sequences = credential_then_new_ip(entries, new_ips);
    sequences.extend(privilege_then_destructive(entries));
    sequences.extend(failures_then_success(entries));
    sequences.extend(delete_then_recreate(entries));
    sequences
}

fn has_marker(entry: &TimelineEntry, kind: MarkerKind) -> bool {
    entry.markers.iter().any(|m| m.kind == kind)
}

fn capped(refs: Vec<String>) -> Vec<String> {
    refs.into_iter().take(MAX_SEQUENCE_REFS).collect()
}

fn credential_then_new_ip(entries: &[TimelineEntry], new_ips: &HashSet<String>) -> Vec<Sequence> {
    let mut out = Vec::new();
    for (i, created) in entries.iter().enumerate() {
        if !has_marker(created, MarkerKind::CredentialCreated) {
            continue;
        }
        let token = created_token(&created.event);
        let from_new_ip = nonblank(&created.event.actor.ip).filter(|ip| new_ips.contains(*ip));
        let later = &entries[i + 1..];
        let by_token: Vec<&TimelineEntry> = later
            .iter()
            .filter(|e| {
                let actor = &e.event.actor;
                let same_id = token.id.is_some() && actor.token_id == token.id;
                let same_name = token.name.is_some() && actor.token_name == token.name;
                (same_id || same_name) && nonblank(&actor.ip).is_some_and(|ip| new_ips.contains(ip))
            })
            .collect();
        if let Some(first) = by_token.first() {
            let ip = nonblank(&first.event.actor.ip).unwrap_or_default();
            let mut refs = vec![created.event_ref.clone()];
            refs.extend(by_token.iter().map(|e| e.event_ref.clone()));
            out.push(Sequence {
                kind: SequenceKind::CredentialThenNewIpUse,
                detail: format!(
                    "{} was created, then used {} time(s) from new IP {ip}",
                    token.label(),
                    by_token.len()
                ),
                event_refs: capped(refs),
            });
        } else if let Some(ip) = from_new_ip {
            let followers: Vec<&TimelineEntry> = later
                .iter()
                .filter(|e| {
                    nonblank(&e.event.actor.ip) == Some(ip) && e.event.action.kind.is_change()
                })
                .collect();
            if followers.is_empty() {
                continue;
            }
            let mut refs = vec![created.event_ref.clone()];
            refs.extend(followers.iter().map(|e| e.event_ref.clone()));
            out.push(Sequence {
                kind: SequenceKind::CredentialThenNewIpUse,
                detail: format!(
                    "{} was created from new IP {ip}, followed by {} change(s) from the same IP",
                    token.label(),
                    followers.len()
                ),
                event_refs: capped(refs),
            });
        }
    }
    out
}

fn privilege_then_destructive(entries: &[TimelineEntry]) -> Option<Sequence> {
    let first = entries
        .iter()
        .position(|e| has_marker(e, MarkerKind::PrivilegeChange))?;
    let start = entries[first].event.time;
    let grants: Vec<&TimelineEntry> = entries[first..]
        .iter()
        .filter(|e| has_marker(e, MarkerKind::PrivilegeChange))
        .collect();
    let deletions: Vec<&TimelineEntry> = entries[first..]
        .iter()
        .filter(|e| {
            has_marker(e, MarkerKind::Destructive)
                && e.event.time - start <= PRIVILEGE_TO_DESTRUCTIVE
        })
        .collect();
    if deletions.is_empty() {
        return None;
    }
    let refs: Vec<String> = grants
        .iter()
        .take(MAX_SEQUENCE_REFS / 2)
        .chain(deletions.iter().take(MAX_SEQUENCE_REFS / 2))
        .map(|e| e.event_ref.clone())
        .collect();
    Some(Sequence {
        kind: SequenceKind::PrivilegeThenDestructive,
        detail: format!(
            "{} privilege change(s), then {} destructive action(s) within {}h",
            grants.len(),
            deletions.len(),
            PRIVILEGE_TO_DESTRUCTIVE.num_hours()
        ),
        event_refs: refs,
    })
}

fn failures_then_success(entries: &[TimelineEntry]) -> Vec<Sequence> {
    let mut out = Vec::new();
    let mut failures: Vec<&TimelineEntry> = Vec::new();
    for entry in entries {
        let event = &entry.event;
        failures.retain(|f| event.time - f.event.time <= FAILURE_BURST);
        match event.outcome {
            Outcome::Failure => failures.push(entry),
            Outcome::Success if failures.len() >= FAILURES_BEFORE_SUCCESS => {
                let same_kind = failures
                    .iter()
                    .any(|f| f.event.action.kind == event.action.kind);
                if same_kind {
                    let mut refs: Vec<String> =
                        failures.iter().map(|f| f.event_ref.clone()).collect();
                    refs.push(entry.event_ref.clone());
                    out.push(Sequence {
                        kind: SequenceKind::FailuresThenSuccess,
                        detail: format!(
                            "{} failed attempt(s), then {} succeeded",
                            failures.len(),
                            event.action.verb
                        ),
                        event_refs: capped(refs),
                    });
                    failures.clear();
                }
            }
            _ => {}
        }
    }
    out
}

fn delete_then_recreate(entries: &[TimelineEntry]) -> Vec<Sequence> {
    let mut out = Vec::new();
    // (type, name-or-id) -> index of the latest unmatched deletion.
    let mut deleted: HashMap<(String, String), usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let event = &entry.event;
        let Some(key) = resource_key(event) else {
            continue;
        };
        if has_marker(entry, MarkerKind::Destructive) {
            deleted.insert(key, i);
        } else if event.action.kind == ActionKind::Create
            && event.outcome != Outcome::Failure
            && let Some(d) = deleted.remove(&key)
            && event.time - entries[d].event.time <= RECREATE_WITHIN
        {
            out.push(Sequence {
                kind: SequenceKind::DeleteThenRecreate,
                detail: format!(
                    "{} deleted, then created again {} min later",
                    resource_label(&entries[d].event),
                    (event.time - entries[d].event.time).num_minutes()
                ),
                event_refs: vec![entries[d].event_ref.clone(), entry.event_ref.clone()],
            });
        }
    }
    out
}

/// A resource is the same across a delete and a create when its type and
/// name match (ids change on re-creation).
fn resource_key(event: &AuditEvent) -> Option<(String, String)> {
    let kind = nonblank(&event.resource.kind).or(nonblank(&event.resource.product))?;
    let name = nonblank(&event.resource.name).or(nonblank(&event.resource.id))?;
    Some((kind.to_lowercase(), name.to_owned()))
}
