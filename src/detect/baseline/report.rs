//! A baseline hit as a finding and a Linear ticket.

use chrono::Duration;
use serde_json::json;

use super::{BaselineHit, VolumeFlag};
use crate::detect::finding::{Finding, Severity, SinkRequest, Workflow, key_time};
use crate::detect::markdown::markdown_escape;
use crate::detect::rules::{BASELINE_NEW_TYPE, BASELINE_VOLUME, Rules};
use crate::detect::suppress::Silencer;
use crate::detect::ticket::{self, MAX_EVENT_IDS};
use crate::sanitize::sanitize_with_limit;

pub(super) fn finding(rules: &Rules, silencer: &Silencer<'_>, hit: &BaselineHit) -> Finding {
    let b = &rules.baseline;
    let mut fired = Vec::new();
    if hit.volume.is_some() {
        fired.push(BASELINE_VOLUME.to_string());
    }
    if !hit.new_types.is_empty() {
        fired.push(BASELINE_NEW_TYPE.to_string());
    }
    let severity_of = |rule: &str| {
        if rule == BASELINE_VOLUME {
            b.volume_severity
        } else {
            b.new_type_severity
        }
    };
    let (live, suppressed) = silencer.partition(&hit.actor, fired.clone());
    // Severity follows what still alarms; a fully suppressed hit keeps the
    // severity it would have had, so the analyst sees what is being hidden.
    let rated = if live.is_empty() { &fired } else { &live };
    let severity = rated
        .iter()
        .map(|r| severity_of(r))
        .max()
        .unwrap_or(Severity::Info);

    let actor = sanitize_with_limit(&hit.actor, 120);
    let s = &hit.stats;
    let mut title = format!(
        "Baseline: {actor} made {} changes at {} UTC",
        hit.changes,
        hit.hour.format("%Y-%m-%d %H:00")
    );
    if hit.volume.is_some() {
        title.push_str(&format!(" ({:.1}x expected {:.1})", s.factor, s.expected));
    }
    if !hit.new_types.is_empty() {
        title.push_str(&format!(", {} new resource type(s)", hit.new_types.len()));
    }
    let summary = summary_text(hit, &actor);

    let evidence = json!({
        "actor": hit.actor,
        "hour": key_time(hit.hour),
        "changes": hit.changes,
        "expected": round2(s.expected),
        "factor": round2(s.factor),
        "hour_of_day_median": round2(s.hour_of_day_median),
        "active_hour_mean": round2(s.active_hour_mean),
        "active_hours": s.active_hours,
        "days_sampled": s.days_sampled,
        "volume_factor": b.volume_factor.get(),
        "expected_floor": b.expected_floor.get(),
        "min_changes": b.min_changes.get(),
        "window_days": b.window_days.get(),
        "history_days": hit.history_days,
        "cold_start": hit.cold_start,
        "volume": hit.volume,
        "new_types": hit.new_types,
        "event_count": hit.event_ids.len(),
    });

    let mut requests = Vec::new();
    if !live.is_empty() {
        requests.push(SinkRequest::LinearTicket {
            title: linear_title(hit, &live),
            body_markdown: ticket_body(rules, hit, &live, &suppressed),
            priority: severity.linear_priority(),
            labels: vec!["soc-tui".into(), "baseline".into(), severity.to_string()],
        });
    }

    Finding {
        workflow: Workflow::Baseline,
        dedup_key: format!("baseline:{}:{}", hit.actor, key_time(hit.hour)),
        actor: hit.actor.clone(),
        severity,
        title,
        window_start: hit.hour,
        window_end: hit.hour + Duration::hours(1),
        summary,
        evidence,
        event_ids: hit.event_ids.iter().take(MAX_EVENT_IDS).cloned().collect(),
        rules: live,
        suppressed,
        requests,
    }
}

fn summary_text(hit: &BaselineHit, actor: &str) -> String {
    let s = &hit.stats;
    let mut parts = vec![format!(
        "{actor} made {} changes in the hour; expected {:.1} (hour-of-day median {:.1}, active-hour mean {:.1}).",
        hit.changes, s.expected, s.hour_of_day_median, s.active_hour_mean
    )];
    match hit.volume {
        Some(VolumeFlag::Factor) => parts.push(format!("That is {:.1}x the expected count.", s.factor)),
        Some(VolumeFlag::ColdStartThreshold { threshold }) => parts.push(format!(
            "Only {} day(s) of history (cold start); at or above the absolute threshold of {threshold}.",
            hit.history_days
        )),
        None => {}
    }
    if !hit.new_types.is_empty() {
        let types: Vec<String> = hit
            .new_types
            .iter()
            .map(|t| sanitize_with_limit(t, 80).into_owned())
            .collect();
        parts.push(format!("New resource types: {}.", types.join(", ")));
    }
    parts.join(" ")
}

fn linear_title(hit: &BaselineHit, live: &[String]) -> String {
    let what: Vec<String> = live
        .iter()
        .map(|rule| {
            if rule == BASELINE_VOLUME {
                format!("{} changes ({:.1}x)", hit.changes, hit.stats.factor)
            } else {
                format!("{} new resource type(s)", hit.new_types.len())
            }
        })
        .collect();
    format!(
        "Unusual activity by {} at {} UTC: {}",
        markdown_escape(&hit.actor),
        hit.hour.format("%Y-%m-%d %H:00"),
        what.join(", ")
    )
}

fn ticket_body(
    rules: &Rules,
    hit: &BaselineHit,
    live: &[String],
    suppressed: &[crate::detect::finding::SuppressedHit],
) -> String {
    let b = &rules.baseline;
    let s = &hit.stats;
    let mut md = String::new();
    md.push_str(&format!(
        "**Actor:** {}  \n**Hour (UTC):** {} to {}\n\n",
        markdown_escape(&hit.actor),
        hit.hour.format("%Y-%m-%d %H:00"),
        (hit.hour + Duration::hours(1)).format("%H:00")
    ));
    md.push_str("### Why this was flagged\n\n");
    for rule in live {
        let line = match (rule.as_str(), hit.volume) {
            (BASELINE_VOLUME, Some(VolumeFlag::Factor)) => format!(
                "- `{BASELINE_VOLUME}`: {} changes is {:.1}x the expected {:.1} (flags at {}x with at least {} changes).",
                hit.changes,
                s.factor,
                s.expected,
                b.volume_factor.get(),
                b.min_changes.get()
            ),
            (BASELINE_VOLUME, Some(VolumeFlag::ColdStartThreshold { threshold })) => format!(
                "- `{BASELINE_VOLUME}`: {} changes with only {} day(s) of history (cold start threshold {threshold}).",
                hit.changes, hit.history_days
            ),
            _ => format!(
                "- `{BASELINE_NEW_TYPE}`: resource types not changed by this actor in the last {} days.",
                b.window_days.get()
            ),
        };
        md.push_str(&line);
        md.push('\n');
    }
    md.push_str("\n### Baseline\n\n| Figure | Value |\n|---|---|\n");
    let rows = [
        ("Changes this hour", hit.changes.to_string()),
        ("Expected", format!("{:.2}", s.expected)),
        ("Factor", format!("{:.2}x", s.factor)),
        (
            "Median at this hour of day",
            format!("{:.2} over {} day(s)", s.hour_of_day_median, s.days_sampled),
        ),
        (
            "Mean per active hour",
            format!("{:.2} over {} hour(s)", s.active_hour_mean, s.active_hours),
        ),
        ("Floor", format!("{:.2}", b.expected_floor.get())),
        ("History", format!("{} day(s)", hit.history_days)),
    ];
    for (k, v) in rows {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    if !hit.new_types.is_empty() {
        md.push_str("\n### New resource types\n\n");
        for t in &hit.new_types {
            md.push_str(&format!("- {}\n", markdown_escape(t)));
        }
    }
    ticket::push_suppressed(&mut md, suppressed);
    ticket::push_event_ids(&mut md, &hit.event_ids);
    md
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
