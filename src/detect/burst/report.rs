//! A burst as a finding and a PagerDuty trigger.

use serde_json::json;

use super::BurstHit;
use crate::detect::finding::{Finding, Severity, SinkRequest, Workflow, key_time};
use crate::detect::rules::Rules;
use crate::detect::suppress::Silencer;
use crate::sanitize::sanitize_with_limit;

/// PagerDuty caps `payload.summary` at 1024 characters.
const PD_SUMMARY_CHARS: usize = 1024;
/// Event ids copied into the PagerDuty custom details.
const PD_EVENT_IDS: usize = 20;

pub(super) fn finding(rules: &Rules, silencer: &Silencer<'_>, hit: &BurstHit) -> Finding {
    let action = rules
        .burst
        .actions
        .iter()
        .find(|(n, _)| n.as_str() == hit.action);
    let severity = action.map_or(Severity::Medium, |(_, a)| a.severity);
    let threshold = action.map_or(0, |(_, a)| a.threshold.get());
    let description = action.map_or("", |(_, a)| a.description.as_str());
    let rule_id = format!("burst.{}", hit.action);
    let (live, suppressed) = silencer.partition(&hit.actor, vec![rule_id.clone()]);
    let b = &hit.burst;
    let minutes = rules.burst.window_minutes.get();

    let actor = sanitize_with_limit(&hit.actor, 120);
    let title = format!(
        "Burst: {actor} {} x{} ({} to {} UTC)",
        hit.action,
        b.count,
        b.start.format("%H:%M:%S"),
        b.last.format("%H:%M:%S")
    );
    let counts: Vec<String> = hit
        .window_counts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let summary = format!(
        "{actor}: {} matching '{}' events ({}) between {} and {}, threshold {threshold} within {minutes} min; {} added by this check{}. Actions by this actor in this check: {}.",
        b.count,
        hit.action,
        sanitize_with_limit(description, 200),
        key_time(b.start),
        key_time(b.last),
        hit.added,
        if hit.open { ", still open" } else { ", closed" },
        counts.join(", ")
    );
    let evidence = json!({
        "actor": hit.actor,
        "rule": rule_id,
        "action": hit.action,
        "description": description,
        "count": b.count,
        "threshold": threshold,
        "window_minutes": minutes,
        "first": key_time(b.start),
        "last": key_time(b.last),
        "added_this_check": hit.added,
        "open": hit.open,
        "window_action_counts": hit.window_counts,
    });

    let mut requests = Vec::new();
    if !live.is_empty() {
        requests.push(SinkRequest::PagerDutyTrigger {
            summary: sanitize_with_limit(
                &format!(
                    "soc-tui: Datadog burst by {} - {} x{} since {}",
                    hit.actor,
                    hit.action,
                    b.count,
                    key_time(b.start)
                ),
                PD_SUMMARY_CHARS,
            )
            .into_owned(),
            severity: severity.pagerduty(),
            custom_details: json!({
                "actor": hit.actor,
                "rule": rule_id,
                "count": b.count,
                "threshold": threshold,
                "first": key_time(b.start),
                "last": key_time(b.last),
                "window_action_counts": hit.window_counts,
                "event_ids": b.event_ids.iter().take(PD_EVENT_IDS).collect::<Vec<_>>(),
            }),
        });
    }

    Finding {
        workflow: Workflow::Burst,
        dedup_key: format!("burst:{}:{}:{}", hit.actor, hit.action, key_time(b.start)),
        actor: hit.actor.clone(),
        severity,
        title,
        window_start: b.start,
        window_end: b.last,
        summary,
        evidence,
        event_ids: b.event_ids.clone(),
        rules: live,
        suppressed,
        requests,
    }
}
