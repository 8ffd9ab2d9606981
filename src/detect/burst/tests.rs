use chrono::TimeZone;

use super::*;
use crate::detect::rules::parse;
use crate::model::{Action, ActionKind, Actor, Outcome, Resource};

fn at(m: i64, s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
        + Duration::minutes(m)
        + Duration::seconds(s)
}

fn dd(
    id: &str,
    time: DateTime<Utc>,
    email: &str,
    evt: &str,
    asset: &str,
    action: &str,
) -> AuditEvent {
    let raw = serde_json::json!({
        "id": id, "type": "audit",
        "attributes": {"timestamp": time.to_rfc3339(), "attributes": {
            "evt": {"name": evt}, "asset": {"type": asset}, "action": action,
            "usr": {"email": email}}}
    });
    AuditEvent {
        source: Source::Datadog,
        id: id.into(),
        time,
        actor: Actor {
            email: Some(email.into()),
            ..Actor::default()
        },
        action: Action {
            verb: action.into(),
            kind: ActionKind::classify(action),
            description: None,
        },
        resource: Resource {
            kind: Some(asset.into()),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: None,
        raw: raw.to_string(),
    }
}

#[test]
fn vocab_reads_api_entries_and_rejects_non_strings() {
    let e = dd(
        "a",
        at(0, 0),
        "m@x",
        "Access Management",
        "role",
        "modified",
    );
    assert_eq!(
        DatadogVocab::of(&e),
        Some(DatadogVocab {
            evt_name: Some("Access Management".into()),
            asset_type: Some("role".into()),
            action: Some("modified".into()),
        })
    );
    let mut odd = e.clone();
    odd.raw =
        r#"{"attributes":{"attributes":{"evt":{"name":["Access Management"]},"action":{"x":1}}}}"#
            .into();
    assert_eq!(DatadogVocab::of(&odd), Some(DatadogVocab::default()));
    odd.raw = "not json".into();
    assert_eq!(DatadogVocab::of(&odd), None);
    odd.source = Source::Cloudflare;
    assert_eq!(DatadogVocab::of(&odd), None);
}

#[test]
fn pending_events_expire_after_the_window() {
    let rules = parse(None).unwrap().rules;
    let w1 = CheckWindow {
        start: at(0, 0),
        end: at(5, 0),
    };
    let events = [dd(
        "a",
        at(0, 30),
        "m@x",
        "Access Management",
        "role",
        "modified",
    )];
    let out = check_bursts(&rules, &BurstState::default(), &events, w1, w1.end);
    assert!(out.findings.is_empty());
    assert_eq!(out.state.tracks.len(), 1);
    assert_eq!(out.state.tracks[0].pending.len(), 1);
    // Next window: nothing new, and 00:30 is more than 5 minutes before 10:00.
    let w2 = CheckWindow {
        start: at(5, 0),
        end: at(10, 0),
    };
    let out = check_bursts(&rules, &out.state, &[], w2, w2.end);
    assert_eq!(out.state, BurstState::default());
}

#[test]
fn unreadable_datadog_events_are_reported() {
    let rules = parse(None).unwrap().rules;
    let mut e = dd("bad", at(1, 0), "m@x", "Monitor", "monitor", "deleted");
    e.raw = "[1,2".into();
    let w = CheckWindow {
        start: at(0, 0),
        end: at(5, 0),
    };
    let out = check_bursts(&rules, &BurstState::default(), &[e], w, w.end);
    assert_eq!(out.unreadable, vec!["bad".to_string()]);
    assert!(out.findings.is_empty());
}
