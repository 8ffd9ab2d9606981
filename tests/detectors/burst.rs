//! Datadog burst check: thresholds, grouping, windows, allow-lists, captured payloads.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use soc_tui::detect::burst::{BurstState, CheckWindow, check_bursts};
use soc_tui::detect::{PagerDutySeverity, Severity, SuppressedBy, Workflow};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

use crate::common::{defaults, hour, pagerduty, rules_with, specs_dir};

/// 2026-11-21 12:`m`:`s` UTC.
fn t(m: i64, s: i64) -> DateTime<Utc> {
    hour(21, 12) + Duration::minutes(m) + Duration::seconds(s)
}

fn window(from_min: i64, to_min: i64) -> CheckWindow {
    CheckWindow {
        start: t(from_min, 0),
        end: t(to_min, 0),
    }
}

/// A Datadog audit event in the API's `data[]` shape.
fn dd(
    id: &str,
    time: DateTime<Utc>,
    email: &str,
    evt: &str,
    asset: &str,
    action: &str,
) -> AuditEvent {
    let raw = json!({
        "id": id, "type": "audit",
        "attributes": {"timestamp": time.to_rfc3339(), "service": "datadog", "attributes": {
            "evt": {"name": evt, "actor": {"type": "USER"}},
            "asset": {"type": asset, "name": format!("{asset}-{id}")},
            "action": action, "usr": {"email": email}}}
    });
    datadog_event(raw, time, email)
}

fn datadog_event(raw: Value, time: DateTime<Utc>, email: &str) -> AuditEvent {
    let inner = &raw["attributes"]["attributes"];
    let verb = inner["action"].as_str().unwrap_or("").to_string();
    AuditEvent {
        source: Source::Datadog,
        id: raw["id"].as_str().unwrap().to_string(),
        time,
        actor: Actor {
            email: Some(email.into()),
            ..Actor::default()
        },
        action: Action {
            kind: ActionKind::classify(&verb),
            verb,
            description: None,
        },
        resource: Resource {
            kind: inner["asset"]["type"].as_str().map(str::to_string),
            name: inner["asset"]["name"].as_str().map(str::to_string),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: None,
        raw: raw.to_string(),
    }
}

fn role_grant(id: &str, time: DateTime<Utc>, email: &str) -> AuditEvent {
    dd(id, time, email, "Access Management", "role", "modified")
}

#[test]
fn burst_role_grants_reaching_the_threshold_page() {
    let rules = defaults();
    let events = [
        role_grant("g1", t(1, 0), "mallory.ops@example.com"),
        role_grant("g2", t(1, 40), "mallory.ops@example.com"),
        role_grant("g3", t(2, 30), "mallory.ops@example.com"),
        // Other actors' and other services' events do not count.
        role_grant("x1", t(2, 0), "bob@example.com"),
        dd(
            "r1",
            t(2, 0),
            "mallory.ops@example.com",
            "Request",
            "",
            "accessed",
        ),
    ];
    let out = check_bursts(
        &rules,
        &BurstState::default(),
        &events,
        window(0, 5),
        t(5, 0),
    );
    assert_eq!(out.findings.len(), 1);
    let f = &out.findings[0];
    assert_eq!(f.workflow, Workflow::Burst);
    assert_eq!(
        f.dedup_key,
        "burst:mallory.ops@example.com:role_grant:2026-11-21T12:01:00Z"
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.rules, ["burst.role_grant"]);
    assert_eq!(f.event_ids, ["g1", "g2", "g3"]);
    assert_eq!((f.window_start, f.window_end), (t(1, 0), t(2, 30)));
    assert_eq!(f.evidence["count"], 3);
    assert_eq!(f.evidence["threshold"], 3);
    assert_eq!(f.evidence["first"], "2026-11-21T12:01:00Z");
    assert_eq!(f.evidence["last"], "2026-11-21T12:02:30Z");
    assert_eq!(f.evidence["window_action_counts"], json!({"role_grant": 3}));
    let (summary, severity, details) = pagerduty(f);
    assert_eq!(severity, PagerDutySeverity::Error);
    assert!(summary.contains("role_grant x3"), "{summary}");
    assert_eq!(details["count"], 3);
    assert_eq!(details["event_ids"], json!(["g1", "g2", "g3"]));
    assert!(out.unreadable.is_empty());
}

#[test]
fn burst_thresholds_per_action() {
    let rules = defaults();
    let m = "mallory.ops@example.com";
    let events = [
        // Below threshold: 2 role grants (3), 1 API key (2), 1 app key (2).
        role_grant("g1", t(0, 10), m),
        role_grant("g2", t(0, 20), m),
        dd("k1", t(0, 30), m, "Authentication", "api_key", "created"),
        dd(
            "a1",
            t(0, 35),
            m,
            "Access Management",
            "application_key",
            "created",
        ),
        // Threshold 1: any monitor deletion, user invite, org setting change.
        dd("m1", t(1, 0), m, "Monitor", "monitor", "deleted"),
        dd("u1", t(1, 10), m, "Access Management", "user", "created"),
        dd(
            "o1",
            t(1, 20),
            m,
            "Organization Management",
            "audit_logs_settings",
            "modified",
        ),
        // Not in any rule: monitor modified, API key listed.
        dd("m2", t(1, 30), m, "Monitor", "monitor", "modified"),
        dd("k2", t(1, 40), m, "Authentication", "api_key", "accessed"),
    ];
    let out = check_bursts(
        &rules,
        &BurstState::default(),
        &events,
        window(0, 5),
        t(5, 0),
    );
    let got: Vec<(&str, Severity, u64)> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.dedup_key.as_str(),
                f.severity,
                f.evidence["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "burst:mallory.ops@example.com:monitor_delete:2026-11-21T12:01:00Z",
                Severity::Medium,
                1
            ),
            (
                "burst:mallory.ops@example.com:org_setting_change:2026-11-21T12:01:20Z",
                Severity::High,
                1
            ),
            (
                "burst:mallory.ops@example.com:user_invite:2026-11-21T12:01:10Z",
                Severity::Medium,
                1
            ),
        ]
    );
    // Each finding shows everything the actor did in the window.
    assert_eq!(
        out.findings[0].evidence["window_action_counts"],
        json!({"api_key_create": 1, "app_key_create": 1, "monitor_delete": 1,
               "org_setting_change": 1, "role_grant": 2, "user_invite": 1})
    );

    // The second API key inside the window makes a burst.
    let more = [dd("k3", t(6, 0), m, "Authentication", "api_key", "created")];
    let out = check_bursts(&rules, &out.state, &more, window(5, 10), t(10, 0));
    assert_eq!(
        out.findings.len(),
        0,
        "12:00:30 and 12:06:00 are more than 5 minutes apart"
    );
    let close = [dd(
        "k4",
        t(5, 20),
        m,
        "Authentication",
        "api_key",
        "created",
    )];
    let out2 = check_bursts(&rules, &out.state, &close, window(10, 15), t(15, 0));
    assert!(
        out2.findings.is_empty(),
        "12:05:20 is outside [12:10, 12:15): ignored"
    );
}

#[test]
fn burst_counts_are_per_actor() {
    let rules = defaults();
    let events = [
        role_grant("a1", t(0, 10), "a@example.com"),
        role_grant("a2", t(0, 20), "a@example.com"),
        role_grant("b1", t(0, 30), "b@example.com"),
        role_grant("b2", t(0, 40), "b@example.com"),
    ];
    let out = check_bursts(
        &rules,
        &BurstState::default(),
        &events,
        window(0, 5),
        t(5, 0),
    );
    assert!(out.findings.is_empty());
}

#[test]
fn burst_spanning_two_windows_updates_the_same_finding() {
    let rules = defaults();
    let m = "mallory.ops@example.com";
    let w1 = [
        role_grant("g1", t(3, 0), m),
        role_grant("g2", t(3, 30), m),
        role_grant("g3", t(4, 0), m),
    ];
    let out1 = check_bursts(&rules, &BurstState::default(), &w1, window(0, 5), t(5, 0));
    assert_eq!(out1.findings.len(), 1);
    let key = "burst:mallory.ops@example.com:role_grant:2026-11-21T12:03:00Z";
    assert_eq!(out1.findings[0].dedup_key, key);
    assert_eq!(out1.findings[0].evidence["open"], true);

    let w2 = [role_grant("g4", t(6, 0), m), role_grant("g5", t(8, 0), m)];
    let out2 = check_bursts(&rules, &out1.state, &w2, window(5, 10), t(10, 0));
    assert_eq!(out2.findings.len(), 1);
    let f = &out2.findings[0];
    assert_eq!(f.dedup_key, key, "same burst, same key");
    assert_eq!(f.evidence["count"], 5);
    assert_eq!(f.evidence["added_this_check"], 2);
    assert_eq!(f.evidence["first"], "2026-11-21T12:03:00Z");
    assert_eq!(f.evidence["last"], "2026-11-21T12:08:00Z");
    assert_eq!(f.event_ids, ["g1", "g2", "g3", "g4", "g5"]);
    assert_eq!(f.evidence["window_action_counts"], json!({"role_grant": 2}));

    // A quiet window: no update; 12:08 is over 5 minutes before 12:15, so it closes.
    let out3 = check_bursts(&rules, &out2.state, &[], window(10, 15), t(15, 0));
    assert!(out3.findings.is_empty());
    assert_eq!(out3.state, BurstState::default());

    // Grants after the pause are a new burst with a new key.
    let w4 = [
        role_grant("g6", t(16, 0), m),
        role_grant("g7", t(16, 10), m),
        role_grant("g8", t(16, 20), m),
    ];
    let out4 = check_bursts(&rules, &out3.state, &w4, window(15, 20), t(20, 0));
    assert_eq!(out4.findings.len(), 1);
    assert_eq!(
        out4.findings[0].dedup_key,
        "burst:mallory.ops@example.com:role_grant:2026-11-21T12:16:00Z"
    );
    assert_eq!(out4.findings[0].evidence["count"], 3);
}

#[test]
fn burst_split_by_a_window_boundary_is_still_caught() {
    let rules = defaults();
    let m = "mallory.ops@example.com";
    let w1 = [role_grant("g1", t(4, 0), m), role_grant("g2", t(4, 30), m)];
    let out1 = check_bursts(&rules, &BurstState::default(), &w1, window(0, 5), t(5, 0));
    assert!(out1.findings.is_empty());
    let w2 = [role_grant("g3", t(5, 10), m)];
    let out2 = check_bursts(&rules, &out1.state, &w2, window(5, 10), t(10, 0));
    assert_eq!(out2.findings.len(), 1);
    let f = &out2.findings[0];
    assert_eq!(
        f.dedup_key,
        "burst:mallory.ops@example.com:role_grant:2026-11-21T12:04:00Z"
    );
    assert_eq!(f.evidence["count"], 3);
    assert_eq!(f.event_ids, ["g1", "g2", "g3"]);

    // The state survives a round trip through JSON (the caller persists it).
    let text = serde_json::to_string(&out1.state).unwrap();
    let restored: BurstState = serde_json::from_str(&text).unwrap();
    assert_eq!(
        check_bursts(&rules, &restored, &w2, window(5, 10), t(10, 0)),
        out2
    );
}

#[test]
fn burst_allow_lists_and_suppressions() {
    let rules = rules_with(
        "[allow.\"burst.monitor_delete\"]\nactors = [\"janitor@example.com\"]\nresources = [\"monitor-synthetics-*\"]\n\n\
         [[suppressions]]\nactor = \"*@example.com\"\nrule = \"burst.user_invite\"\nuntil = 2026-11-21T12:30:00Z\nreason = \"onboarding day\"\n",
    );
    let events = [
        dd(
            "m1",
            t(0, 10),
            "janitor@example.com",
            "Monitor",
            "monitor",
            "deleted",
        ),
        // Resource allow-listed: `asset.name` is "monitor-synthetics-1".
        dd(
            "synthetics-1",
            t(0, 20),
            "alice@example.com",
            "Monitor",
            "monitor",
            "deleted",
        ),
        dd(
            "u1",
            t(0, 30),
            "alice@example.com",
            "Access Management",
            "user",
            "created",
        ),
    ];
    let out = check_bursts(
        &rules,
        &BurstState::default(),
        &events,
        window(0, 5),
        t(5, 0),
    );
    let keys: Vec<&str> = out.findings.iter().map(|f| f.dedup_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "burst:alice@example.com:user_invite:2026-11-21T12:00:30Z",
            "burst:janitor@example.com:monitor_delete:2026-11-21T12:00:10Z",
        ]
    );
    for f in &out.findings {
        assert!(f.is_suppressed(), "{f:#?}");
        assert!(f.requests.is_empty());
    }
    assert_eq!(
        out.findings[1].suppressed[0].by,
        SuppressedBy::AllowList {
            pattern: "burst.monitor_delete".into()
        }
    );
    // After the suppression's end the same invite pages.
    let later = check_bursts(
        &rules,
        &BurstState::default(),
        &events[2..],
        window(0, 5),
        t(30, 0),
    );
    assert_eq!(later.findings.len(), 1);
    assert_eq!(pagerduty(&later.findings[0]).1, PagerDutySeverity::Warning);
}

#[test]
fn burst_on_the_captured_datadog_payloads() {
    let Some(specs) = specs_dir() else { return };
    let rules = defaults();
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            specs.join("datadog/examples/audit_event_api_key_created.SYNTHESIZED.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let entry = &doc["data"][0];
    let time: DateTime<Utc> = entry["attributes"]["timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let email = entry["attributes"]["attributes"]["usr"]["email"]
        .as_str()
        .unwrap();
    let first = datadog_event(entry.clone(), time, email);
    let mut second_raw = entry.clone();
    second_raw["id"] = json!("AQAAAZSYNTHETICEXAMPLE0000000000000000000000000001");
    let second = datadog_event(second_raw, time + Duration::seconds(40), email);

    let w = CheckWindow {
        start: time - Duration::minutes(1),
        end: time + Duration::minutes(4),
    };
    let out = check_bursts(&rules, &BurstState::default(), &[first, second], w, w.end);
    assert_eq!(out.findings.len(), 1);
    assert_eq!(
        out.findings[0].dedup_key,
        "burst:alice@example.com:api_key_create:2026-01-15T10:30:00Z"
    );
    assert_eq!(out.findings[0].severity, Severity::High);

    // The recorded API Request events match no action.
    let page: Value = serde_json::from_str(
        &std::fs::read_to_string(
            specs.join("datadog/examples/search_audit_events.page1.cassette.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let events: Vec<AuditEvent> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let ts: DateTime<Utc> = e["attributes"]["timestamp"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let email = e["attributes"]["attributes"]["usr"]["email"]
                .as_str()
                .unwrap()
                .to_string();
            datadog_event(e.clone(), ts, &email)
        })
        .collect();
    assert!(!events.is_empty());
    let w = CheckWindow {
        start: events[0].time - Duration::minutes(1),
        end: events[0].time + Duration::minutes(4),
    };
    let out = check_bursts(&rules, &BurstState::default(), &events, w, w.end);
    assert!(out.findings.is_empty());
    assert!(out.unreadable.is_empty());
}
