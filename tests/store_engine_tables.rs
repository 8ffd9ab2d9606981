//! Schema 3 tables the engine writes: findings upserted by dedup key with
//! their outbox requests in the same transaction, outbox dedup, the engine
//! lease (two holders, stale takeover), check runs and burst state, and the
//! store's `BaselineData` agreeing with the in-memory reference.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use soc_tui::detect::baseline::{BaselineData, MemoryBaseline, check_hour};
use soc_tui::detect::burst::{BurstState, Track};
use soc_tui::detect::rules::parse;
use soc_tui::detect::{Finding, PagerDutySeverity, Severity, SinkRequest, Workflow};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::{
    CheckKind, Delivery, FindingFilter, FindingState, NewOutboxItem, OutboxFilter, OutboxState,
    RunOutcome, Sink, Store, WindowRecord,
};

fn t(h: i64, m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap() + Duration::hours(h) + Duration::minutes(m)
}

fn burst_finding(count: u64, last: DateTime<Utc>) -> Finding {
    Finding {
        workflow: Workflow::Burst,
        dedup_key: "burst:mallory@example.com:role_grant:2026-11-21T12:01:00Z".into(),
        actor: "mallory@example.com".into(),
        severity: Severity::High,
        title: format!("Burst: mallory role_grant x{count}"),
        window_start: t(12, 1),
        window_end: last,
        summary: format!("{count} grants"),
        evidence: json!({"count": count}),
        event_ids: (0..count).map(|i| format!("e{i}")).collect(),
        rules: vec!["burst.role_grant".into()],
        suppressed: vec![],
        requests: vec![SinkRequest::PagerDutyTrigger {
            summary: format!("x{count}"),
            severity: PagerDutySeverity::Error,
            custom_details: json!({"count": count}),
        }],
    }
}

#[test]
fn a_continuing_burst_updates_one_finding_and_queues_one_request() {
    let mut store = Store::open_in_memory().unwrap();
    let first = store
        .record_finding(&burst_finding(3, t(12, 3)), t(12, 5), Delivery::Live)
        .unwrap();
    assert!(first.inserted);
    assert_eq!(first.enqueued, 1);
    let again = store
        .record_finding(&burst_finding(7, t(12, 8)), t(12, 10), Delivery::Live)
        .unwrap();
    assert_eq!(again.id, first.id);
    assert!(!again.inserted);
    assert_eq!(
        again.enqueued, 0,
        "the same request must not be queued twice"
    );

    let all = store.findings(&FindingFilter::default()).unwrap();
    assert_eq!(all.len(), 1);
    let f = &all[0];
    assert_eq!(f.times_seen, 2);
    assert_eq!(f.first_seen, t(12, 5));
    assert_eq!(f.last_seen, t(12, 10));
    assert_eq!(f.window_start, t(12, 1));
    assert_eq!(f.window_end, t(12, 8));
    assert_eq!(f.evidence, json!({"count": 7}));
    assert_eq!(f.event_ids.len(), 7);
    assert_eq!(f.state, FindingState::New);

    let outbox = store.outbox_list(&OutboxFilter::default()).unwrap();
    assert_eq!(outbox.len(), 1);
    let item = &outbox[0];
    assert_eq!(
        item.dedup_key,
        "pagerduty:burst:mallory@example.com:role_grant:2026-11-21T12:01:00Z:trigger"
    );
    assert_eq!(item.sink, Sink::PagerDuty);
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!(item.finding_id, Some(f.id));
    assert_eq!(item.attempts, 0);
    assert_eq!(item.next_attempt_at, t(12, 5));
    assert_eq!(
        item.payload["finding_dedup_key"],
        "burst:mallory@example.com:role_grant:2026-11-21T12:01:00Z"
    );
    assert_eq!(item.payload["request"]["sink"], "pager_duty_trigger");
    let counts = store.outbox_counts().unwrap();
    assert_eq!((counts.queued, counts.dead, counts.dry_run), (1, 0, 0));
}

#[test]
fn dry_run_requests_are_visible_and_become_live_when_a_live_engine_sees_them() {
    let mut store = Store::open_in_memory().unwrap();
    let f = burst_finding(3, t(12, 3));
    store
        .record_finding(&f, t(12, 5), Delivery::DryRun)
        .unwrap();
    assert_eq!(store.outbox_counts().unwrap().dry_run, 1);
    let live = store.record_finding(&f, t(12, 6), Delivery::Live).unwrap();
    assert_eq!(live.enqueued, 1);
    let counts = store.outbox_counts().unwrap();
    assert_eq!((counts.queued, counts.dry_run), (1, 0));
    // A live row never goes back to dry run.
    store
        .record_finding(&f, t(12, 7), Delivery::DryRun)
        .unwrap();
    assert_eq!(store.outbox_counts().unwrap().queued, 1);
    assert_eq!(
        store.outbox_list(&OutboxFilter::default()).unwrap().len(),
        1
    );
}

#[test]
fn enqueue_ignores_a_taken_dedup_key_and_lists_by_filter() {
    let mut store = Store::open_in_memory().unwrap();
    let item = NewOutboxItem {
        dedup_key: "confluence:INV-1:page".into(),
        finding_id: None,
        sink: Sink::Confluence,
        kind: "page".into(),
        payload: json!({"title": "INV-1"}),
    };
    let id = store.enqueue(&item, t(1, 0), Delivery::Live).unwrap();
    assert!(id.is_some());
    assert_eq!(store.enqueue(&item, t(2, 0), Delivery::Live).unwrap(), None);
    let filter = OutboxFilter {
        sink: Some(Sink::Confluence),
        ..OutboxFilter::default()
    };
    let rows = store.outbox_list(&filter).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id.unwrap());
    assert_eq!(rows[0].payload, json!({"title": "INV-1"}));
    let none = OutboxFilter {
        sink: Some(Sink::Linear),
        ..OutboxFilter::default()
    };
    assert!(store.outbox_list(&none).unwrap().is_empty());
    let bad = NewOutboxItem {
        dedup_key: String::new(),
        ..item
    };
    let err = store.enqueue(&bad, t(1, 0), Delivery::Live).unwrap_err();
    assert!(err.to_string().contains("empty dedup key"), "{err}");
}

#[test]
fn lease_has_one_holder_until_its_heartbeat_goes_stale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut a = Store::open(&path).unwrap();
    let mut b = Store::open(&path).unwrap();
    let stale = Duration::seconds(30);
    assert_eq!(a.lease().unwrap(), None);
    assert!(a.try_acquire_lease("host:1:aa", t(0, 0), stale).unwrap());
    assert!(!b.try_acquire_lease("host:2:bb", t(0, 0), stale).unwrap());
    // a keeps it alive; b still cannot take it.
    assert!(a.heartbeat_lease("host:1:aa", t(0, 1)).unwrap());
    assert!(
        !b.try_acquire_lease("host:2:bb", t(0, 1) + Duration::seconds(29), stale)
            .unwrap()
    );
    // Re-acquiring your own lease keeps the original acquisition time.
    assert!(a.try_acquire_lease("host:1:aa", t(0, 1), stale).unwrap());
    let lease = b.lease().unwrap().unwrap();
    assert_eq!(lease.holder, "host:1:aa");
    assert_eq!(lease.acquired_at, t(0, 0));
    // a stops heartbeating: after the staleness limit b takes over.
    assert!(b.try_acquire_lease("host:2:bb", t(0, 2), stale).unwrap());
    let lease = a.lease().unwrap().unwrap();
    assert_eq!(lease.holder, "host:2:bb");
    assert_eq!(lease.acquired_at, t(0, 2));
    // a notices on its next heartbeat and cannot release b's lease.
    assert!(!a.heartbeat_lease("host:1:aa", t(0, 3)).unwrap());
    assert!(!a.release_lease("host:1:aa").unwrap());
    assert!(b.release_lease("host:2:bb").unwrap());
    assert_eq!(a.lease().unwrap(), None);
    // Released means free at once, without waiting for staleness.
    assert!(a.try_acquire_lease("host:1:aa", t(0, 3), stale).unwrap());
    assert!(a.try_acquire_lease("", t(0, 3), stale).is_err());
}

#[test]
fn a_window_records_findings_coverage_and_burst_state_together() {
    let mut store = Store::open_in_memory().unwrap();
    let state = BurstState {
        tracks: vec![Track {
            actor: "mallory@example.com".into(),
            action: "role_grant".into(),
            pending: vec![],
            open: None,
        }],
    };
    let findings = [burst_finding(3, t(12, 3))];
    let recorded = store
        .record_window(&WindowRecord {
            check: CheckKind::Bursts,
            covered_until: Some(t(12, 5)),
            findings: &findings,
            burst_state: Some(&state),
            now: t(12, 5),
            delivery: Delivery::Live,
        })
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].inserted);
    let saved = store.burst_state().unwrap().unwrap();
    assert_eq!(saved.state, state);
    assert_eq!(saved.valid_at, t(12, 5));
    // Coverage never moves back.
    store
        .record_window(&WindowRecord {
            check: CheckKind::Bursts,
            covered_until: Some(t(11, 0)),
            findings: &[],
            burst_state: None,
            now: t(12, 6),
            delivery: Delivery::Live,
        })
        .unwrap();
    let run = store.check_run(CheckKind::Bursts).unwrap().unwrap();
    assert_eq!(run.covered_until, Some(t(12, 5)));

    store
        .record_run(
            CheckKind::Bursts,
            &RunOutcome {
                started: t(12, 5),
                duration_ms: 1500,
                error: Some("intake: datadog 503".into()),
                next_run: Some(t(12, 10)),
            },
        )
        .unwrap();
    let run = store.check_run(CheckKind::Bursts).unwrap().unwrap();
    assert_eq!(run.last_error.as_deref(), Some("intake: datadog 503"));
    assert_eq!(run.last_ok_at, None);
    assert_eq!((run.runs, run.failures), (1, 1));
    store
        .record_run(
            CheckKind::Bursts,
            &RunOutcome {
                started: t(12, 10),
                duration_ms: 2000,
                error: None,
                next_run: Some(t(12, 15)),
            },
        )
        .unwrap();
    let run = store.check_run(CheckKind::Bursts).unwrap().unwrap();
    assert_eq!(run.last_error, None);
    assert_eq!(run.last_ok_at, Some(t(12, 10) + Duration::seconds(2)));
    assert_eq!(run.last_duration_ms, Some(2000));
    assert_eq!(run.next_run, Some(t(12, 15)));
    assert_eq!((run.runs, run.failures), (2, 1));
    assert_eq!(store.check_run(CheckKind::Tokens).unwrap(), None);
}

fn event(id: &str, time: DateTime<Utc>, email: &str, verb: &str, rtype: &str) -> AuditEvent {
    AuditEvent {
        source: Source::Cloudflare,
        id: id.into(),
        time,
        actor: Actor {
            email: Some(email.into()),
            ..Actor::default()
        },
        action: Action {
            verb: verb.into(),
            kind: ActionKind::classify(verb),
            description: None,
        },
        resource: Resource {
            kind: Some(rtype.into()),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: None,
        raw: format!(r#"{{"id":"{id}"}}"#),
    }
}

/// 10 days of a steady actor (2 dns changes at 09:00, reads of monitors)
/// and a spike with a type it only ever read before.
fn history() -> Vec<AuditEvent> {
    let mut events = Vec::new();
    for day in 0..10 {
        let base = t(24 * day + 9, 0);
        for k in 0..2 {
            events.push(event(
                &format!("d{day}-{k}"),
                base + Duration::minutes(k),
                "bob@example.com",
                "update",
                "dns_record",
            ));
        }
        events.push(event(
            &format!("r{day}"),
            base + Duration::minutes(30),
            "bob@example.com",
            "view",
            "monitor",
        ));
    }
    let spike = t(24 * 10 + 9, 0);
    for k in 0..35 {
        let (verb, rtype) = if k % 5 == 0 {
            ("delete", "monitor")
        } else {
            ("update", "dns_record")
        };
        events.push(event(
            &format!("s{k}"),
            spike + Duration::seconds(k * 7),
            "Bob@Example.com",
            verb,
            rtype,
        ));
    }
    events.push(event("login", spike, "bob@example.com", "login", "session"));
    events
}

#[test]
fn store_baseline_data_matches_the_in_memory_reference() {
    let events = history();
    let mut store = Store::open_in_memory().unwrap();
    store.insert_events(&events).unwrap();
    store.refresh_change_types().unwrap();
    // Re-ingest after a fold: the change-type aggregate must not double.
    store.insert_events(&events).unwrap();
    let memory = MemoryBaseline::from_events(&events);
    let data = store.baseline_data().unwrap();
    let rules = parse(None).unwrap().rules;
    let spike = t(24 * 10 + 9, 0);
    let window_start = spike - Duration::days(30);

    let actor = "bob@example.com";
    assert_eq!(
        data.types_seen(actor, window_start, spike).unwrap(),
        memory.types_seen(actor, window_start, spike).unwrap(),
        "reads of monitors are not changes of monitors"
    );
    assert_eq!(
        data.hourly_counts(actor, window_start, spike).unwrap(),
        memory.hourly_counts(actor, window_start, spike).unwrap()
    );
    assert_eq!(
        data.hour_activity(actor, spike).unwrap(),
        memory.hour_activity(actor, spike).unwrap()
    );
    assert_eq!(
        data.first_seen(actor).unwrap(),
        memory.first_seen(actor).unwrap()
    );
    assert_eq!(data.active_actors(spike).unwrap(), vec![actor.to_string()]);
    assert!(
        data.active_actors(spike + Duration::hours(1))
            .unwrap()
            .is_empty()
    );

    for hour in [t(9, 0), t(24 * 8 + 9, 0), spike] {
        let from_store = check_hour(&data, &rules, hour, hour).unwrap();
        let from_memory = check_hour(&memory, &rules, hour, hour).unwrap();
        assert_eq!(from_store, from_memory, "hour {hour}");
    }
    let spike_findings = check_hour(&data, &rules, spike, spike).unwrap();
    assert_eq!(spike_findings.len(), 1);
    assert_eq!(
        spike_findings[0].dedup_key,
        "baseline:bob@example.com:2026-12-01T09:00:00Z"
    );
    assert_eq!(
        spike_findings[0].rules,
        vec!["baseline.volume", "baseline.new_type"]
    );
    assert_eq!(spike_findings[0].evidence["new_types"], json!(["monitor"]));
    assert_eq!(
        store.event_time_range().unwrap(),
        Some((t(9, 0), spike + Duration::seconds(34 * 7)))
    );
}
