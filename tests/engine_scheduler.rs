//! The engine on tokio's paused clock: cadences, catch-up over windows
//! missed during downtime, a failing check reported in health while the
//! others (and its own task) carry on, commands, the lease between two
//! engines, and shutdown releasing it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::activity::{role_grants, token_creation};
use soc_tui::detect::rules::parse;
use soc_tui::engine::{
    Cadences, CheckKind, CoveredWindow, Engine, EngineCommand, EngineError, EngineEvent,
    EngineOptions, Freshness, Intake, IntakeError, IntakeFuture, LeaseMode, StoreHandle,
    TokioClock,
};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::{Delivery, OutboxFilter, Store, WindowRecord};
use tokio::sync::broadcast;

/// The engine's "now" at start: 12:00:30 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 30).unwrap()
}

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

const SETTLE: Duration = Duration::from_secs(30);

fn cadences() -> Cadences {
    Cadences {
        baseline: Duration::from_secs(3600),
        bursts: Duration::from_secs(300),
        tokens: Duration::from_secs(600),
    }
}

fn options(id: &str, intake: Arc<dyn Intake>) -> EngineOptions {
    EngineOptions {
        settle: SETTLE,
        heartbeat_every: Duration::from_secs(10),
        stale_after: Duration::from_secs(60),
        clock: Arc::new(TokioClock::starting_at(t0())),
        intake,
        engine_id: Some(id.to_string()),
        ..EngineOptions::default()
    }
}

fn rules() -> soc_tui::detect::rules::Rules {
    parse(None).unwrap().rules
}

/// Fails for one check while `failing` is set.
struct FlakyIntake {
    check: CheckKind,
    failing: AtomicBool,
}

impl Intake for FlakyIntake {
    fn refresh<'a>(&'a self, check: CheckKind, _store: &'a StoreHandle) -> IntakeFuture<'a> {
        let fail = check == self.check && self.failing.load(Ordering::SeqCst);
        Box::pin(async move {
            if fail {
                Err(IntakeError(
                    "datadog: HTTP 503 from /api/v2/audit/events".into(),
                ))
            } else {
                Ok(Freshness::Current)
            }
        })
    }
}

fn no_intake() -> Arc<dyn Intake> {
    Arc::new(soc_tui::engine::NoIntake)
}

fn drain(rx: &mut broadcast::Receiver<EngineEvent>) -> Vec<EngineEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn finished(events: &[EngineEvent], check: CheckKind) -> Vec<Vec<CoveredWindow>> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::CheckFinished {
                check: c, windows, ..
            } if *c == check => Some(windows.clone()),
            _ => None,
        })
        .collect()
}

fn failures(events: &[EngineEvent], check: CheckKind) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::CheckFailed {
                check: c, error, ..
            } if *c == check => Some(error.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn each_check_runs_at_once_then_on_its_cadence_over_contiguous_windows() {
    let store = Store::open_in_memory().unwrap();
    let mut engine =
        Engine::start_with_store(store, cadences(), rules(), options("e:1:a", no_intake()))
            .await
            .unwrap();
    let mut rx = engine.subscribe();
    tokio::time::sleep(Duration::from_secs(31 * 60)).await;
    let events = drain(&mut rx);
    assert!(matches!(
        events.first(),
        Some(EngineEvent::LeaseChanged { holder: Some(h), ours: true }) if h == "e:1:a"
    ));

    // 0, 5, ..., 30 minutes; 0, 10, 20, 30; 0.
    let bursts = finished(&events, CheckKind::Bursts);
    assert_eq!(bursts.len(), 7);
    assert_eq!(finished(&events, CheckKind::Tokens).len(), 4);
    let baseline = finished(&events, CheckKind::Baseline);
    assert_eq!(baseline.len(), 1);
    // The first baseline run checks the last complete hour.
    assert_eq!(
        baseline[0],
        vec![CoveredWindow {
            start: Utc.with_ymd_and_hms(2026, 11, 21, 11, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
        }]
    );
    // Bursts: one cadence first, then each run picks up where the last ended,
    // always `settle` behind the clock.
    let windows: Vec<CoveredWindow> = bursts.into_iter().flatten().collect();
    let horizon = t0() - chrono::Duration::from_std(SETTLE).unwrap();
    assert_eq!(windows[0].start, horizon - minutes(5));
    for (i, pair) in windows.windows(2).enumerate() {
        assert_eq!(pair[0].end, pair[1].start);
        assert_eq!(pair[1].end, horizon + minutes(5 * (i as i64 + 1)));
    }

    let health = engine.health();
    assert!(health.lease_held);
    let b = health.check(CheckKind::Bursts).unwrap();
    assert!(b.is_ok());
    assert_eq!(b.runs, 7);
    assert_eq!(b.covered_until, Some(horizon + minutes(30)));
    assert_eq!(b.next_run, Some(t0() + minutes(35)));
    assert_eq!(b.cadence, Duration::from_secs(300));
    engine.shutdown().await;
}

/// A new actor's 45 changes at 08:xx (cold start, absolute threshold 40),
/// a token creation at 10:20, and a Datadog role-grant burst at 11:10.
fn missed_activity() -> Vec<AuditEvent> {
    let eight = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
    let mut events: Vec<AuditEvent> = (0..45)
        .map(|k| AuditEvent {
            source: Source::Cloudflare,
            id: format!("dns-{k}"),
            time: eight + chrono::Duration::seconds(k * 60),
            actor: Actor {
                email: Some("eve@example.com".into()),
                ..Actor::default()
            },
            action: Action {
                verb: "update".into(),
                kind: ActionKind::Update,
                description: None,
            },
            resource: Resource {
                kind: Some("dns_record".into()),
                ..Resource::default()
            },
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        })
        .collect();
    events.push(token_creation(
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 20, 0).unwrap(),
    ));
    events.extend(role_grants(
        Utc.with_ymd_and_hms(2026, 11, 21, 11, 10, 0).unwrap(),
        3,
    ));
    events
}

#[tokio::test(start_paused = true)]
async fn after_downtime_every_check_catches_up_on_what_it_missed() {
    let mut store = Store::open_in_memory().unwrap();
    store.insert_events(&missed_activity()).unwrap();
    // The previous engine stopped at 07:00 (baseline) and 09:00 (bursts, tokens).
    let seven = Utc.with_ymd_and_hms(2026, 11, 21, 7, 0, 0).unwrap();
    let nine = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    for (check, covered) in [
        (CheckKind::Baseline, seven),
        (CheckKind::Bursts, nine),
        (CheckKind::Tokens, nine),
    ] {
        store
            .record_window(&WindowRecord {
                check,
                covered_until: Some(covered),
                findings: &[],
                burst_state: None,
                now: covered,
                delivery: Delivery::Live,
            })
            .unwrap();
    }
    let mut engine =
        Engine::start_with_store(store, cadences(), rules(), options("e:1:a", no_intake()))
            .await
            .unwrap();
    let mut rx = engine.subscribe();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = drain(&mut rx);

    let baseline = finished(&events, CheckKind::Baseline);
    let hours: Vec<u32> = baseline[0]
        .iter()
        .map(|w| chrono::Timelike::hour(&w.start))
        .collect();
    assert_eq!(hours, vec![7, 8, 9, 10, 11], "every missed hour, in order");
    let horizon = t0() - chrono::Duration::from_std(SETTLE).unwrap();
    for check in [CheckKind::Bursts, CheckKind::Tokens] {
        let windows = &finished(&events, check)[0];
        assert_eq!(windows.first().unwrap().start, nine);
        assert_eq!(windows.last().unwrap().end, horizon);
        assert_eq!(
            windows.len(),
            3,
            "{check}: hours 09, 10 and 11 (12:00 is the horizon)"
        );
    }

    let mut keys: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::FindingRecorded {
                dedup_key,
                inserted: true,
                ..
            } => Some(dedup_key.clone()),
            _ => None,
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "baseline:eve@example.com:2026-11-21T08:00:00Z",
            "burst:mallory@example.com:role_grant:2026-11-21T11:10:00Z",
            "token:tok-1",
        ]
    );
    let store = engine.store();
    let outbox = store
        .call(|s| s.outbox_list(&OutboxFilter::default()))
        .await
        .unwrap()
        .unwrap();
    let mut queued: Vec<&str> = outbox.iter().map(|o| o.dedup_key.as_str()).collect();
    queued.sort();
    assert_eq!(
        queued,
        vec![
            "archive:token:tok-1:object",
            "linear:baseline:eve@example.com:2026-11-21T08:00:00Z:ticket",
            "linear:token:tok-1:ticket",
            "pagerduty:burst:mallory@example.com:role_grant:2026-11-21T11:10:00Z:trigger",
        ]
    );
    engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_check_shows_in_health_and_the_engine_keeps_going() {
    let intake = Arc::new(FlakyIntake {
        check: CheckKind::Bursts,
        failing: AtomicBool::new(true),
    });
    let store = Store::open_in_memory().unwrap();
    let mut engine =
        Engine::start_with_store(store, cadences(), rules(), options("e:1:a", intake.clone()))
            .await
            .unwrap();
    let mut rx = engine.subscribe();
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let events = drain(&mut rx);
    let errors = failures(&events, CheckKind::Bursts);
    assert_eq!(errors.len(), 2, "it failed twice and its task lives on");
    assert!(
        errors[0].contains("intake: datadog: HTTP 503"),
        "{}",
        errors[0]
    );
    assert_eq!(finished(&events, CheckKind::Tokens).len(), 1);
    assert_eq!(finished(&events, CheckKind::Baseline).len(), 1);

    let health = engine.health();
    let bursts = health.check(CheckKind::Bursts).unwrap();
    assert!(!bursts.is_ok());
    assert_eq!((bursts.runs, bursts.failures), (2, 2));
    assert!(bursts.last_error.as_deref().unwrap().contains("HTTP 503"));
    assert_eq!(bursts.covered_until, None, "a failed run covers nothing");
    assert!(health.check(CheckKind::Tokens).unwrap().is_ok());
    let last_published = events.iter().rev().find_map(|e| match e {
        EngineEvent::Health(h) => Some(h.clone()),
        _ => None,
    });
    assert_eq!(
        last_published.unwrap().check(CheckKind::Bursts),
        Some(bursts)
    );

    // The source recovers: the next run succeeds and clears the error.
    intake.failing.store(false, Ordering::SeqCst);
    engine.run_now(CheckKind::Bursts).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = drain(&mut rx);
    assert_eq!(finished(&events, CheckKind::Bursts).len(), 1);
    let bursts = engine.health().check(CheckKind::Bursts).unwrap().clone();
    assert!(bursts.is_ok());
    assert_eq!((bursts.runs, bursts.failures), (3, 2));
    engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_second_engine_is_refused_or_stands_by_until_the_lease_frees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut first = Engine::start_with_store(
        Store::open(&path).unwrap(),
        cadences(),
        rules(),
        options("host-a:1:aa", no_intake()),
    )
    .await
    .unwrap();
    let mut first_rx = first.subscribe();

    let err = Engine::start_with_store(
        Store::open(&path).unwrap(),
        cadences(),
        rules(),
        options("host-b:2:bb", no_intake()),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, EngineError::LeaseHeld { .. }));
    let message = err.to_string();
    assert!(message.contains("held by host-a:1:aa"), "{message}");
    assert!(message.contains("last heartbeat 0s ago"), "{message}");

    let standby_options = EngineOptions {
        lease: LeaseMode::Standby,
        ..options("host-b:2:bb", no_intake())
    };
    let mut second = Engine::start_with_store(
        Store::open(&path).unwrap(),
        cadences(),
        rules(),
        standby_options,
    )
    .await
    .unwrap();
    let mut second_rx = second.subscribe();
    assert!(!second.holds_lease());
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let events = drain(&mut second_rx);
    assert!(
        finished(&events, CheckKind::Bursts).is_empty(),
        "standby runs nothing"
    );
    assert_eq!(finished(&drain(&mut first_rx), CheckKind::Bursts).len(), 2);

    // The first engine shuts down and releases: the second takes over at its
    // next heartbeat, without waiting for staleness, and runs every check at
    // once rather than at its next tick.
    first.shutdown().await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(second.holds_lease());
    let events = drain(&mut second_rx);
    assert!(events.iter().any(|e| matches!(e,
        EngineEvent::LeaseChanged { holder: Some(h), ours: true } if h == "host-b:2:bb")));
    for check in CheckKind::ALL {
        assert_eq!(finished(&events, check).len(), 1, "{check} after takeover");
    }

    let store = second.store();
    second.shutdown().await;
    assert_eq!(store.call(|s| s.lease()).await.unwrap().unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn a_crashed_engines_stale_lease_is_taken_over_and_a_live_one_is_not() {
    let clock_now = t0();
    let mut store = Store::open_in_memory().unwrap();
    // A live holder (heartbeat 20 s ago) blocks; a stale one (2 min) does not.
    store
        .try_acquire_lease(
            "crashed:9:cc",
            clock_now - chrono::Duration::seconds(20),
            chrono::Duration::seconds(60),
        )
        .unwrap();
    let store = Arc::new(std::sync::Mutex::new(Some(store)));
    let take = || store.lock().unwrap().take().unwrap();
    let s = take();
    let err = Engine::start_with_store(s, cadences(), rules(), options("e:1:a", no_intake()))
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("held by crashed:9:cc (last heartbeat 20s ago)"),
        "{err}"
    );

    let mut s = Store::open_in_memory().unwrap();
    s.try_acquire_lease(
        "crashed:9:cc",
        clock_now - chrono::Duration::seconds(120),
        chrono::Duration::seconds(60),
    )
    .unwrap();
    let mut engine =
        Engine::start_with_store(s, cadences(), rules(), options("e:1:a", no_intake()))
            .await
            .unwrap();
    assert!(engine.holds_lease());
    let lease = engine
        .store()
        .call(|s| s.lease())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(lease.holder, "e:1:a");
    assert_eq!(lease.acquired_at, clock_now);

    // Shutdown by command: the engine stops, says so, and frees the lease.
    let mut rx = engine.subscribe();
    engine
        .commands()
        .send(EngineCommand::Shutdown)
        .await
        .unwrap();
    let store = engine.store();
    engine.wait().await;
    let events = drain(&mut rx);
    assert!(matches!(events.last(), Some(EngineEvent::Stopped)));
    assert!(events.iter().any(|e| matches!(
        e,
        EngineEvent::LeaseChanged {
            holder: None,
            ours: false
        }
    )));
    assert_eq!(store.call(|s| s.lease()).await.unwrap().unwrap(), None);
}
