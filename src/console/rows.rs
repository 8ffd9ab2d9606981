//! Findings and outbox rows as the panes show them. Every string that can
//! carry audit-log text becomes a [`SafeText`] here, once.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::store_view::FindingRecord;
use crate::detect::rules::{TOKEN_BROAD, TOKEN_UNKNOWN_SCOPE, TOKEN_WRITE};
use crate::store::{FindingState, OutboxItem, OutboxState, Sink as StoreSink};
use crate::tui::model::{
    ActorKey, BurstRow, Delivery, DeliveryState, FindingId, FindingMeta, FlaggedActorRow,
    OutboxRow, PagerDutyAction, RemoteLink, SafeText, ScopeRisk, Sink, TokenRow, TriageState,
};

/// Longest list item (an action name, a resource type) shown in a row.
const ITEM_CHARS: usize = 80;

/// The fields every finding row shares.
pub fn meta(record: &FindingRecord) -> FindingMeta {
    let f = &record.finding;
    let deliveries: Vec<Delivery> = record.outbox.iter().map(delivery).collect();
    let updated_at = record
        .outbox
        .iter()
        .map(|o| o.updated_at)
        .chain(record.last_triage.as_ref().map(|e| e.at))
        .fold(f.last_seen, DateTime::max);
    FindingMeta {
        id: FindingId::new(f.dedup_key.clone()),
        actor: ActorKey::new(f.actor.clone()),
        severity: f.severity,
        state: triage_state(record),
        detected_at: f.first_seen,
        updated_at,
        deliveries,
    }
}

fn triage_state(record: &FindingRecord) -> TriageState {
    let f = &record.finding;
    let by = || {
        SafeText::with_limit(
            record
                .last_triage
                .as_ref()
                .map_or("?", |e| e.analyst.as_str()),
            ITEM_CHARS,
        )
    };
    let at = record.last_triage.as_ref().map_or(f.last_seen, |e| e.at);
    match f.state {
        FindingState::New if record.investigating => TriageState::Investigating,
        FindingState::New => TriageState::Open,
        FindingState::Acknowledged => TriageState::Acknowledged { by: by(), at },
        FindingState::Resolved => TriageState::Resolved { by: by(), at },
        FindingState::Snoozed => TriageState::Snoozed {
            until: f.snoozed_until.unwrap_or(at),
            by: by(),
            reason: SafeText::with_limit(
                record
                    .last_triage
                    .as_ref()
                    .and_then(|e| e.note.as_deref())
                    .unwrap_or(""),
                200,
            ),
        },
    }
}

pub fn flagged(record: &FindingRecord) -> FlaggedActorRow {
    let f = &record.finding;
    let e = &f.evidence;
    FlaggedActorRow {
        meta: meta(record),
        hour: time_at(e, "hour").unwrap_or(f.window_start),
        count: u32_at(e, "changes"),
        baseline: e.get("expected").and_then(Value::as_f64).unwrap_or(0.0),
        factor: e.get("factor").and_then(Value::as_f64).unwrap_or(0.0),
        new_resource_types: strings_at(e, "new_types"),
    }
}

pub fn burst(record: &FindingRecord) -> BurstRow {
    let f = &record.finding;
    let mut actions: Vec<(SafeText, u32)> = f
        .evidence
        .get("window_action_counts")
        .and_then(Value::as_object)
        .map(|counts| {
            counts
                .iter()
                .map(|(action, n)| {
                    (
                        SafeText::with_limit(action, ITEM_CHARS),
                        n.as_u64().map_or(0, saturate),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if actions.is_empty()
        && let Some(action) = f.evidence.get("action").and_then(Value::as_str)
    {
        actions.push((
            SafeText::with_limit(action, ITEM_CHARS),
            u32_at(&f.evidence, "count"),
        ));
    }
    // Most frequent first; equal counts keep the detector's (alphabetical) order.
    actions.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    BurstRow {
        meta: meta(record),
        actions,
        window_start: f.window_start,
        window_end: f.window_end,
    }
}

pub fn token(record: &FindingRecord) -> TokenRow {
    let f = &record.finding;
    let e = &f.evidence;
    let fired: Vec<&str> = f
        .rules
        .iter()
        .map(String::as_str)
        .chain(f.suppressed.iter().map(|s| s.rule.as_str()))
        .collect();
    let risk = if fired.contains(&TOKEN_BROAD) {
        ScopeRisk::Broad
    } else if fired.contains(&TOKEN_WRITE) {
        ScopeRisk::Write
    } else if fired.contains(&TOKEN_UNKNOWN_SCOPE) {
        ScopeRisk::Unknown
    } else {
        ScopeRisk::Read
    };
    let archive_key = record
        .outbox
        .iter()
        .find(|o| o.sink == StoreSink::Archive && o.state == OutboxState::Delivered)
        .and_then(|o| o.remote_id.as_deref())
        .map(|key| SafeText::with_limit(key, 200));
    TokenRow {
        meta: meta(record),
        token_name: SafeText::with_limit(
            e.get("token_name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)"),
            ITEM_CHARS,
        ),
        scope: SafeText::with_limit(&scope_text(e.get("scope")), 120),
        risk,
        archive_key,
    }
}

/// `Zone Write, DNS Write on all zones` from the token detector's scope
/// evidence (`{"scope": "known", "policies": [...]}` or `{"scope": "unknown"}`).
fn scope_text(scope: Option<&Value>) -> String {
    let Some(policies) = scope
        .and_then(|s| s.get("policies"))
        .and_then(Value::as_array)
    else {
        return "scope unknown".to_owned();
    };
    let mut groups: Vec<&str> = Vec::new();
    let mut everywhere = false;
    for policy in policies {
        if policy.get("effect").and_then(Value::as_str) == Some("deny") {
            continue;
        }
        for group in policy
            .get("permission_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        everywhere |= policy
            .get("resources")
            .and_then(Value::as_object)
            .is_some_and(|r| r.keys().any(|k| k.ends_with(".*")));
    }
    if groups.is_empty() {
        return "no permissions".to_owned();
    }
    let mut text = groups.join(", ");
    if everywhere {
        text.push_str(" on all zones");
    }
    text
}

fn sink_of(item: &OutboxItem) -> Sink {
    match item.sink {
        StoreSink::Linear => Sink::Linear,
        StoreSink::PagerDuty => Sink::PagerDuty,
        StoreSink::Archive => Sink::Archive,
        StoreSink::Confluence => Sink::Confluence,
    }
}

/// One outbox row as the outbox view lists it.
pub fn outbox_row(item: &OutboxItem) -> OutboxRow {
    OutboxRow {
        id: item.id,
        sink: sink_of(item),
        kind: SafeText::with_limit(&item.kind, 40),
        state: delivery_state(item),
        subject: SafeText::with_limit(&item.dedup_key, 200),
        updated_at: item.updated_at,
    }
}

/// One outbox row as a delivery badge.
pub fn delivery(item: &OutboxItem) -> Delivery {
    let sink = sink_of(item);
    let what = (item.sink == StoreSink::PagerDuty).then_some(match item.kind.as_str() {
        "acknowledge" => PagerDutyAction::Acknowledge,
        "resolve" => PagerDutyAction::Resolve,
        _ => PagerDutyAction::Trigger,
    });
    let state = delivery_state(item);
    let link = item.remote_url.as_deref().map(|url| RemoteLink {
        label: SafeText::with_limit(&link_label(sink, item.remote_id.as_deref()), 60),
        url: SafeText::with_limit(url, 500),
    });
    Delivery {
        sink,
        what,
        state,
        link,
    }
}

fn delivery_state(item: &OutboxItem) -> DeliveryState {
    match item.state {
        OutboxState::Queued | OutboxState::InFlight if item.attempts == 0 => DeliveryState::Queued,
        OutboxState::Queued | OutboxState::InFlight => DeliveryState::Retrying {
            attempt: saturate(item.attempts),
            next_at: item.next_attempt_at,
        },
        OutboxState::Delivered => DeliveryState::Delivered,
        OutboxState::Dead => DeliveryState::DeadLetter {
            error: SafeText::with_limit(
                item.last_error
                    .as_deref()
                    .unwrap_or("gave up (no error recorded)"),
                300,
            ),
        },
        OutboxState::DryRun => DeliveryState::DryRun,
    }
}

fn link_label(sink: Sink, remote_id: Option<&str>) -> String {
    let id = remote_id.unwrap_or("link");
    match sink {
        Sink::Confluence => format!("page {id}"),
        Sink::Linear | Sink::PagerDuty | Sink::Archive => id.to_owned(),
    }
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn u32_at(evidence: &Value, key: &str) -> u32 {
    evidence
        .get(key)
        .and_then(Value::as_u64)
        .map_or(0, saturate)
}

fn time_at(evidence: &Value, key: &str) -> Option<DateTime<Utc>> {
    evidence
        .get(key)
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn strings_at(evidence: &Value, key: &str) -> Vec<SafeText> {
    evidence
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| SafeText::with_limit(s, ITEM_CHARS))
        .collect()
}
