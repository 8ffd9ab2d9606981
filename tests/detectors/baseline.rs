//! Baseline check: nightly job, 0 -> few, spikes, new types, cold start, suppression expiry.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use soc_tui::detect::baseline::{MemoryBaseline, check_hour};
use soc_tui::detect::{Severity, SuppressedBy, Workflow};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

use crate::common::{defaults, hour, linear, rules_with};

/// An actor who works 09:00-16:59 UTC, 2 changes an hour on DNS records,
/// every day of the 30-day window before 2026-11-21.
fn office_worker(m: &mut MemoryBaseline, actor: &str) {
    for d in 1..=30 {
        for h in 9..17 {
            m.record_hour(actor, hour(21, h) - Duration::days(d), 2, &["dns_record"]);
        }
    }
}

fn changes(m: &mut MemoryBaseline, actor: &str, at: DateTime<Utc>, n: u32, kind: &str) {
    for i in 0..n {
        let t = at + Duration::seconds(i64::from(i));
        m.record_change(
            actor,
            t,
            &format!("{actor}-{}-{i}", at.timestamp()),
            Some(kind),
        );
    }
}

#[test]
fn baseline_stable_nightly_job_is_not_flagged() {
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    for d in 1..=30 {
        m.record_hour(
            "backup-job",
            hour(21, 2) - Duration::days(d),
            30,
            &["dns_record"],
        );
    }
    changes(&mut m, "backup-job", hour(21, 2), 30, "dns_record");
    assert_eq!(
        check_hour(&m, &rules, hour(21, 2), hour(21, 3)).unwrap(),
        vec![]
    );

    // A somewhat bigger night (x1.5) is still the job's normal.
    let mut m2 = m.clone();
    changes(
        &mut m2,
        "backup-job",
        hour(21, 2) + Duration::minutes(10),
        15,
        "dns_record",
    );
    assert_eq!(
        check_hour(&m2, &rules, hour(21, 2), hour(21, 3)).unwrap(),
        vec![]
    );

    // A job that also writes a heartbeat every hour: its mean per active hour
    // is about (23 x 1 + 200) / 24 = 9.4, so 200 changes are 21x that. The
    // median at 02:00 (200) is what keeps its night normal, while the same
    // 200 changes at 14:00 stand out.
    let mut m3 = MemoryBaseline::new();
    for d in 1..=30 {
        for h in 0..24 {
            let n = if h == 2 { 200 } else { 1 };
            m3.record_hour("sync-job", hour(21, h) - Duration::days(d), n, &["kv_pair"]);
        }
    }
    changes(&mut m3, "sync-job", hour(21, 2), 200, "kv_pair");
    changes(&mut m3, "sync-job", hour(21, 14), 200, "kv_pair");
    assert_eq!(
        check_hour(&m3, &rules, hour(21, 2), hour(21, 3)).unwrap(),
        vec![]
    );
    let day = check_hour(&m3, &rules, hour(21, 14), hour(21, 15)).unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].dedup_key, "baseline:sync-job:2026-11-21T14:00:00Z");
    assert_eq!(day[0].evidence["hour_of_day_median"], 1.0);
    // 707 active hours in [Oct 22 14:00, Nov 21 14:00) holding 6677 changes.
    assert_eq!(day[0].evidence["active_hours"], 707);
    assert_eq!(day[0].evidence["active_hour_mean"], 9.44);
    assert_eq!(day[0].evidence["factor"], 21.18);
}

#[test]
fn baseline_zero_to_few_changes_is_not_flagged() {
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    // Known for 40 days, one DNS change a day at 10:00 on five days.
    m.saw("quiet@example.com", hour(21, 0) - Duration::days(40));
    for d in 1..=5 {
        m.record_hour(
            "quiet@example.com",
            hour(21, 10) - Duration::days(d),
            1,
            &["dns_record"],
        );
    }
    // Mean per active hour is 1: without the floor, 12 changes would be 12x.
    changes(&mut m, "quiet@example.com", hour(21, 15), 12, "dns_record");
    // Known for 40 days but idle in the window: 0 -> 3 (changes without a
    // resource type, so only the volume rule is in play).
    m.saw("dormant@example.com", hour(21, 0) - Duration::days(40));
    for i in 0..3 {
        m.record_change("dormant@example.com", hour(21, 15), &format!("d{i}"), None);
    }

    assert_eq!(
        check_hour(&m, &rules, hour(21, 15), hour(21, 16)).unwrap(),
        vec![]
    );
}

#[test]
fn baseline_volume_spike_flags_with_exact_figures() {
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    office_worker(&mut m, "mallory.ops@example.com");
    changes(
        &mut m,
        "mallory.ops@example.com",
        hour(21, 3),
        47,
        "dns_record",
    );

    let found = check_hour(&m, &rules, hour(21, 3) + Duration::minutes(59), hour(21, 4)).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.workflow, Workflow::Baseline);
    assert_eq!(
        f.dedup_key,
        "baseline:mallory.ops@example.com:2026-11-21T03:00:00Z"
    );
    assert_eq!(f.actor, "mallory.ops@example.com");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.rules, ["baseline.volume"]);
    assert!(f.suppressed.is_empty());
    assert_eq!((f.window_start, f.window_end), (hour(21, 3), hour(21, 4)));
    assert_eq!(f.event_ids.len(), 47);
    let e = &f.evidence;
    assert_eq!(e["changes"], 47);
    // expected = max(median at 03:00 = 0, mean per active hour = 2, floor 3) = 3
    assert_eq!(e["hour_of_day_median"], 0.0);
    assert_eq!(e["active_hour_mean"], 2.0);
    assert_eq!(e["active_hours"], 240);
    assert_eq!(e["expected"], 3.0);
    assert_eq!(e["factor"], 15.67);
    // First seen 2026-10-22 09:00: 29 whole days before the hour.
    assert_eq!(e["history_days"], 29);
    assert_eq!(e["cold_start"], false);
    assert_eq!(e["volume"], json!({"kind": "factor"}));
    assert_eq!(e["new_types"], json!([]));
    let (title, body, priority) = linear(f);
    assert_eq!(priority, 3);
    assert!(title.contains("mallory\\.ops\\@example\\.com"), "{title}");
    assert!(body.contains("| Changes this hour | 47 |"), "{body}");
    assert!(body.contains("15.7x the expected 3.0"), "{body}");
}

#[test]
fn baseline_never_seen_type_flags_even_at_normal_volume() {
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    office_worker(&mut m, "alice@example.com");
    // WAF rules were last touched 31 days ago: outside the window, so new.
    m.record_hour(
        "alice@example.com",
        hour(21, 10) - Duration::days(31),
        1,
        &["waf_rule"],
    );
    changes(&mut m, "alice@example.com", hour(21, 10), 1, "dns_record");
    changes(
        &mut m,
        "alice@example.com",
        hour(21, 10) + Duration::minutes(5),
        1,
        "waf_rule",
    );
    changes(
        &mut m,
        "alice@example.com",
        hour(21, 10) + Duration::minutes(9),
        1,
        "access_app",
    );

    let found = check_hour(&m, &rules, hour(21, 10), hour(21, 11)).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(
        f.dedup_key,
        "baseline:alice@example.com:2026-11-21T10:00:00Z"
    );
    assert_eq!(f.rules, ["baseline.new_type"]);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.evidence["new_types"], json!(["access_app", "waf_rule"]));
    assert_eq!(f.evidence["volume"], Value::Null);
    assert_eq!(f.evidence["factor"], 1.0);
    let (_, body, priority) = linear(f);
    assert_eq!(priority, 4);
    assert!(body.contains("- access\\_app\n- waf\\_rule\n"), "{body}");
}

#[test]
fn baseline_volume_and_new_type_together_take_the_higher_severity() {
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    office_worker(&mut m, "mallory.ops@example.com");
    changes(
        &mut m,
        "mallory.ops@example.com",
        hour(21, 3),
        40,
        "dns_record",
    );
    changes(
        &mut m,
        "mallory.ops@example.com",
        hour(21, 3) + Duration::minutes(30),
        7,
        "waf_rule",
    );
    let found = check_hour(&m, &rules, hour(21, 3), hour(21, 4)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rules, ["baseline.volume", "baseline.new_type"]);
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[0].evidence["changes"], 47);
    assert_eq!(found[0].evidence["new_types"], json!(["waf_rule"]));
}

#[test]
fn baseline_allow_listed_resource_type_is_never_new() {
    let rules = rules_with("[allow.\"baseline.new_type\"]\nresources = [\"waf_*\"]\n");
    let mut m = MemoryBaseline::new();
    office_worker(&mut m, "alice@example.com");
    changes(&mut m, "alice@example.com", hour(21, 10), 2, "waf_rule");
    assert_eq!(
        check_hour(&m, &rules, hour(21, 10), hour(21, 11)).unwrap(),
        vec![]
    );
}

#[test]
fn baseline_cold_start_modes() {
    // First seen three days ago: below the 7-day minimum.
    let cold = |m: &mut MemoryBaseline, n: u32| {
        m.record_hour("newbie@example.com", hour(18, 12), 5, &["dns_record"]);
        changes(m, "newbie@example.com", hour(21, 12), n, "worker_script");
    };

    // Default: absolute threshold 40, new types not checked.
    let rules = defaults();
    let mut m = MemoryBaseline::new();
    cold(&mut m, 45);
    let found = check_hour(&m, &rules, hour(21, 12), hour(21, 13)).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.rules, ["baseline.volume"]);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["cold_start"], true);
    assert_eq!(f.evidence["history_days"], 3);
    assert_eq!(
        f.evidence["volume"],
        json!({"kind": "cold_start_threshold", "threshold": 40})
    );
    assert_eq!(f.evidence["new_types"], json!([]));

    let mut m = MemoryBaseline::new();
    cold(&mut m, 39);
    assert_eq!(
        check_hour(&m, &rules, hour(21, 12), hour(21, 13)).unwrap(),
        vec![]
    );

    // skip: nothing at all.
    let skip = rules_with("[baseline.cold_start]\nmode = \"skip\"\n");
    let mut m = MemoryBaseline::new();
    cold(&mut m, 500);
    assert_eq!(
        check_hour(&m, &skip, hour(21, 12), hour(21, 13)).unwrap(),
        vec![]
    );

    // new_types_only: the new type against the short history, no volume.
    let types_only = rules_with("[baseline.cold_start]\nmode = \"new_types_only\"\n");
    let found = check_hour(&m, &types_only, hour(21, 12), hour(21, 13)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rules, ["baseline.new_type"]);
    assert_eq!(found[0].evidence["new_types"], json!(["worker_script"]));
    assert_eq!(found[0].evidence["volume"], Value::Null);

    // A brand-new actor (first event in this very hour) is cold too.
    let mut m = MemoryBaseline::new();
    changes(&mut m, "fresh@example.com", hour(21, 12), 41, "dns_record");
    let found = check_hour(&m, &rules, hour(21, 12), hour(21, 13)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].evidence["history_days"], 0);
}

#[test]
fn baseline_suppression_applies_until_it_expires() {
    let rules = rules_with(
        "[[suppressions]]\nactor = \"mallory.ops@example.com\"\nrule = \"baseline.*\"\nuntil = 2026-11-21T05:00:00Z\nreason = \"CHG-42 DNS migration\"\n",
    );
    let mut m = MemoryBaseline::new();
    office_worker(&mut m, "mallory.ops@example.com");
    changes(
        &mut m,
        "mallory.ops@example.com",
        hour(21, 3),
        47,
        "dns_record",
    );

    let before = check_hour(&m, &rules, hour(21, 3), hour(21, 4)).unwrap();
    assert_eq!(before.len(), 1, "a suppressed hit is still reported");
    let f = &before[0];
    assert!(f.is_suppressed());
    assert!(f.rules.is_empty());
    assert!(f.requests.is_empty());
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.suppressed.len(), 1);
    assert_eq!(f.suppressed[0].rule, "baseline.volume");
    assert_eq!(
        f.suppressed[0].by,
        SuppressedBy::Suppression {
            pattern: "baseline.*".into(),
            until: hour(21, 5),
            reason: "CHG-42 DNS migration".into()
        }
    );

    // Re-run after expiry (a late check of the same hour): it alarms again.
    let after = check_hour(&m, &rules, hour(21, 3), hour(21, 5)).unwrap();
    assert_eq!(after.len(), 1);
    assert!(!after[0].is_suppressed());
    assert_eq!(after[0].rules, ["baseline.volume"]);
    assert_eq!(after[0].dedup_key, f.dedup_key);
    linear(&after[0]);
}

#[test]
fn baseline_from_events_counts_only_changes() {
    let rules = defaults();
    let base = hour(21, 3);
    let mut events = Vec::new();
    for i in 0..50 {
        let kind = if i < 45 {
            ActionKind::Read
        } else {
            ActionKind::Update
        };
        events.push(cf_event(
            &format!("e{i}"),
            base + Duration::seconds(i),
            "reader@example.com",
            kind,
        ));
    }
    let m = MemoryBaseline::from_events(&events);
    // 5 changes from an actor first seen in this hour: cold, under 40.
    assert_eq!(check_hour(&m, &rules, base, base).unwrap(), vec![]);
}

fn cf_event(id: &str, time: DateTime<Utc>, email: &str, kind: ActionKind) -> AuditEvent {
    AuditEvent {
        source: Source::Cloudflare,
        id: id.into(),
        time,
        actor: Actor {
            email: Some(email.into()),
            ..Actor::default()
        },
        action: Action {
            verb: kind.as_str().into(),
            kind,
            description: None,
        },
        resource: Resource {
            kind: Some("dns_record".into()),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: Some("acct".into()),
        raw: "{}".into(),
    }
}
