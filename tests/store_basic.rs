//! The store on a real file and in memory: idempotent ingest, aggregates
//! that match the events, checkpoints that move with their events, reopen,
//! and the schema version guard.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::{HourlyAggregate, SCHEMA_VERSION, Store, StoreError};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn event(
    source: Source,
    id: &str,
    time: DateTime<Utc>,
    email: &str,
    verb: &str,
    resource_type: Option<&str>,
) -> AuditEvent {
    AuditEvent {
        source,
        id: id.to_string(),
        time,
        actor: Actor {
            id: Some(format!("uid-{email}")),
            email: Some(email.to_string()),
            kind: Some("user".into()),
            ip: Some("198.51.100.7".into()),
            user_agent: Some("curl/8.5".into()),
            token_id: None,
            token_name: None,
        },
        action: Action {
            verb: verb.to_string(),
            kind: ActionKind::classify(verb),
            description: Some(format!("{verb} on {resource_type:?}")),
        },
        resource: Resource {
            product: Some("dns".into()),
            kind: resource_type.map(str::to_string),
            id: Some(format!("res-{id}")),
            name: None,
        },
        outcome: Outcome::Success,
        account: Some("acct-1".into()),
        raw: format!(r#"{{"id":"{id}","note":"verbatim \"quoted\" ünïcode ☃"}}"#),
    }
}

/// A varied history: 6 actors, 3 sources x kinds x types, spread over ~30 hours
/// with minute offsets that are not hour-aligned.
fn history(n: usize) -> Vec<AuditEvent> {
    let actors = [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "eve@example.com",
        "mallory@example.com",
    ];
    let verbs = [
        "create",
        "delete",
        "login",
        "view",
        "update",
        "token_create",
    ];
    let types = [Some("dns_record"), Some("api_token"), None, Some("monitor")];
    (0..n)
        .map(|i| {
            let source = if i % 3 == 0 {
                Source::Datadog
            } else {
                Source::Cloudflare
            };
            // Not monotonic: every 7th event arrives "late".
            let minutes = (i as i64 * 37) % (30 * 60) - if i % 7 == 0 { 90 } else { 0 };
            event(
                source,
                &format!("ev-{i}"),
                t0() + Duration::minutes(minutes) + Duration::milliseconds(i as i64 % 1000),
                actors[i % actors.len()],
                verbs[i % verbs.len()],
                types[(i / 2) % types.len()],
            )
        })
        .collect()
}

fn all_aggregates(store: &Store) -> Vec<HourlyAggregate> {
    store
        .hourly_aggregates(None, t0() - Duration::days(10), t0() + Duration::days(10))
        .unwrap()
}

fn far_past() -> DateTime<Utc> {
    t0() - Duration::days(365)
}

fn far_future() -> DateTime<Utc> {
    t0() + Duration::days(365)
}

#[test]
fn reinserting_the_same_batch_changes_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let events = history(500);
    let first = store.insert_events(&events).unwrap();
    assert_eq!((first.new, first.duplicate), (500, 0));
    let aggregates = all_aggregates(&store);
    let first_seen = store.first_seen_types("alice@example.com").unwrap();

    let again = store.insert_events(&events).unwrap();
    assert_eq!((again.new, again.duplicate), (0, 500));
    assert_eq!(store.event_count().unwrap(), 500);
    assert_eq!(all_aggregates(&store), aggregates);
    assert_eq!(
        store.first_seen_types("alice@example.com").unwrap(),
        first_seen
    );

    // Duplicates inside one batch count once too.
    let mut fresh = history(1).remove(0);
    fresh.id = "fresh".into();
    let mixed = store
        .insert_events(&[fresh.clone(), fresh, events[1].clone()])
        .unwrap();
    assert_eq!((mixed.new, mixed.duplicate), (1, 2));
    assert_eq!(store.event_count().unwrap(), 501);
}

#[test]
fn events_read_back_exactly_as_stored() {
    let mut store = Store::open_in_memory().unwrap();
    let mut events = history(40);
    events[3].actor = Actor::default();
    events[3].resource = Resource::default();
    events[3].action.description = None;
    events[3].account = None;
    events[3].outcome = Outcome::Unknown;
    events[5].actor.token_id = Some("tok-1".into());
    events[5].actor.token_name = Some("deploy".into());
    store.insert_events(&events).unwrap();

    let mut expected = events.clone();
    expected.sort_by_key(|e| e.time);
    let stored = store
        .events_between(far_past(), far_future(), 1000)
        .unwrap();
    assert_eq!(stored.len(), expected.len());
    for (got, want) in stored.iter().zip(&expected) {
        assert_eq!(got, want);
    }

    let alice: Vec<_> = expected
        .iter()
        .filter(|e| e.actor_key() == "alice@example.com")
        .cloned()
        .collect();
    let got = store
        .events_for_actor("alice@example.com", far_past(), far_future(), 1000)
        .unwrap();
    assert_eq!(got, alice);
    let limited = store
        .events_for_actor("alice@example.com", far_past(), far_future(), 2)
        .unwrap();
    assert_eq!(limited, alice[..2].to_vec());

    // [from, to) is half-open.
    let at = alice[1].time;
    let window = store
        .events_for_actor("alice@example.com", at, at + Duration::milliseconds(1), 10)
        .unwrap();
    assert!(window.iter().all(|e| e.time == at) && !window.is_empty());
    assert!(
        store
            .events_for_actor("alice@example.com", at, at, 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn first_seen_moves_back_for_late_events_and_never_forward() {
    let mut store = Store::open_in_memory().unwrap();
    let actor = "alice@example.com";
    let t = |h| t0() + Duration::hours(h);
    store
        .insert_events(&[event(
            Source::Cloudflare,
            "a",
            t(5),
            actor,
            "create",
            Some("zone"),
        )])
        .unwrap();
    store
        .insert_events(&[event(
            Source::Datadog,
            "b",
            t(2),
            actor,
            "view",
            Some("zone"),
        )])
        .unwrap();
    store
        .insert_events(&[event(
            Source::Cloudflare,
            "c",
            t(9),
            actor,
            "update",
            Some("zone"),
        )])
        .unwrap();
    // Out of order inside one batch as well.
    store
        .insert_events(&[
            event(
                Source::Cloudflare,
                "d",
                t(8),
                actor,
                "create",
                Some("worker"),
            ),
            event(
                Source::Cloudflare,
                "e",
                t(7),
                actor,
                "create",
                Some("worker"),
            ),
            event(Source::Cloudflare, "f", t(1), actor, "login", None),
        ])
        .unwrap();
    assert_eq!(
        store.first_seen_types(actor).unwrap(),
        vec![("zone".to_string(), t(2)), ("worker".to_string(), t(7))]
    );
    assert!(store.first_seen_types("nobody").unwrap().is_empty());
}

#[test]
fn hourly_aggregates_match_a_count_of_the_events() {
    let mut store = Store::open_in_memory().unwrap();
    let events = history(3000);
    for chunk in events.chunks(700) {
        store.insert_events(chunk).unwrap();
    }
    let hour_of = |t: DateTime<Utc>| {
        DateTime::from_timestamp(t.timestamp().div_euclid(3600) * 3600, 0).unwrap()
    };

    let mut expected: BTreeMap<(String, DateTime<Utc>), (u64, u64)> = BTreeMap::new();
    for e in &events {
        let slot = expected
            .entry((e.actor_key(), hour_of(e.time)))
            .or_default();
        slot.0 += 1;
        slot.1 += u64::from(e.action.kind.is_change());
    }
    let got: BTreeMap<_, _> = all_aggregates(&store)
        .into_iter()
        .map(|a| ((a.actor, a.hour), (a.events, a.changes)))
        .collect();
    assert_eq!(got, expected);
    let total: u64 = got.values().map(|v| v.0).sum();
    assert_eq!(total, store.event_count().unwrap());

    let by_source = store.event_count_by_source().unwrap();
    assert_eq!(
        by_source,
        vec![(Source::Cloudflare, 2000), (Source::Datadog, 1000)]
    );

    // One actor, a window that starts mid-hour: every overlapping hour counts.
    let from = t0() + Duration::minutes(150);
    let to = t0() + Duration::hours(9);
    let bob: Vec<_> = store
        .hourly_aggregates(Some("bob@example.com"), from, to)
        .unwrap();
    let want: Vec<_> = expected
        .iter()
        .filter(|((a, h), _)| a == "bob@example.com" && *h >= t0() + Duration::hours(2) && *h < to)
        .map(|((_, h), v)| (*h, *v))
        .collect();
    assert_eq!(
        bob.iter()
            .map(|a| (a.hour, (a.events, a.changes)))
            .collect::<Vec<_>>(),
        want
    );
    assert!(!want.is_empty());

    // Resource types over the same hours, counted by hand.
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        let h = hour_of(e.time);
        let in_window = h >= t0() + Duration::hours(2) && h < to;
        if let (true, Some(t)) = (
            e.actor_key() == "bob@example.com" && in_window,
            &e.resource.kind,
        ) {
            *types.entry(t.clone()).or_default() += 1;
        }
    }
    let mut got_types = store
        .resource_types(Some("bob@example.com"), from, to)
        .unwrap();
    let counts: Vec<u64> = got_types.iter().map(|(_, n)| *n).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most used first");
    got_types.sort();
    assert_eq!(got_types, types.into_iter().collect::<Vec<_>>());
}

#[test]
fn active_actors_are_exact_at_partial_hour_edges() {
    let mut store = Store::open_in_memory().unwrap();
    let events = history(2000);
    store.insert_events(&events).unwrap();
    let windows = [
        (Duration::minutes(61), Duration::minutes(63)),
        (Duration::minutes(17), Duration::minutes(200)),
        (Duration::hours(3), Duration::hours(5)),
        (Duration::minutes(-95), Duration::minutes(-80)),
        (Duration::minutes(10), Duration::minutes(10)),
    ];
    for (a, b) in windows {
        let (from, to) = (t0() + a, t0() + b);
        let want: BTreeSet<String> = events
            .iter()
            .filter(|e| e.time >= from && e.time < to)
            .map(AuditEvent::actor_key)
            .collect();
        let got = store.actors_active_between(from, to).unwrap();
        assert_eq!(
            got,
            want.into_iter().collect::<Vec<_>>(),
            "window {a} .. {b}"
        );
    }
}

#[test]
fn checkpoint_moves_with_its_events_and_never_backwards() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(store.checkpoint("cloudflare").unwrap(), None);
    let events = history(10);
    let late = t0() + Duration::hours(3);
    store
        .insert_events_with_checkpoint(&events, Some(("cloudflare", late)))
        .unwrap();
    assert_eq!(
        store.checkpoint("cloudflare").unwrap().unwrap().position,
        late
    );

    // An older position (a replayed poll) does not move it back.
    let summary = store
        .insert_events_with_checkpoint(&events, Some(("cloudflare", t0())))
        .unwrap();
    assert_eq!(summary.new, 0);
    assert_eq!(
        store.checkpoint("cloudflare").unwrap().unwrap().position,
        late
    );
    let stored = store.set_checkpoint("cloudflare", t0()).unwrap();
    assert_eq!(stored.position, late);
    let later = late + Duration::minutes(5);
    assert_eq!(
        store.set_checkpoint("cloudflare", later).unwrap().position,
        later
    );
    assert_eq!(
        store.set_checkpoint("datadog", t0()).unwrap().position,
        t0()
    );
    let keys: Vec<_> = store
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(keys, ["cloudflare", "datadog"]);

    let err = store.set_checkpoint("", later).unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
}

#[test]
fn a_failing_batch_stores_nothing_and_leaves_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let before_pos = t0();
    store
        .insert_events_with_checkpoint(&history(100), Some(("cloudflare", before_pos)))
        .unwrap();
    let aggregates = all_aggregates(&store);

    // Inject a failure in the middle of the next batch: a trigger that
    // aborts on one particular event, after others were already inserted.
    let side = rusqlite::Connection::open(&path).unwrap();
    side.execute_batch(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'ev-150'
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    let batch = history(200);
    let err = store
        .insert_events_with_checkpoint(&batch, Some(("cloudflare", t0() + Duration::days(1))))
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("injected failure"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("inserting events"), "{message}");
    assert_eq!(store.event_count().unwrap(), 100);
    assert_eq!(
        store.checkpoint("cloudflare").unwrap().unwrap().position,
        before_pos
    );
    assert_eq!(all_aggregates(&store), aggregates);

    // Input the store refuses is refused before anything is written.
    let mut bad = history(3);
    bad[2].id.clear();
    let err = store.insert_events(&bad).unwrap_err().to_string();
    assert!(err.contains("event 2 of the batch"), "{err}");
    let err = store
        .insert_events_with_checkpoint(&history(120), Some(("", t0())))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    assert_eq!(store.event_count().unwrap(), 100);

    side.execute_batch("DROP TRIGGER poison").unwrap();
    let summary = store
        .insert_events_with_checkpoint(&batch, Some(("cloudflare", t0() + Duration::days(1))))
        .unwrap();
    assert_eq!((summary.new, summary.duplicate), (100, 100));
    assert_eq!(
        store.checkpoint("cloudflare").unwrap().unwrap().position,
        t0() + Duration::days(1)
    );
}

#[test]
fn a_store_file_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data/soc-tui.db");
    {
        let mut store = Store::open(&path).unwrap();
        store
            .insert_events_with_checkpoint(&history(250), Some(("datadog", t0())))
            .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    store.integrity_check().unwrap();
    assert_eq!(store.event_count().unwrap(), 250);
    assert_eq!(store.checkpoint("datadog").unwrap().unwrap().position, t0());
    assert_eq!(store.insert_events(&history(250)).unwrap().new, 0);

    let side = rusqlite::Connection::open(&path).unwrap();
    let mode: String = side
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = side
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_owner_only(&path);
    // SQLite gives the WAL the store file's mode.
    assert_owner_only(&path.with_file_name("soc-tui.db-wal"));
}

#[test]
fn a_writer_waits_out_a_short_lock_held_by_another_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut store = Store::open(&path).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    let began = Instant::now();
    let summary = store.insert_events(&history(10)).unwrap();
    assert_eq!(summary.new, 10);
    assert!(began.elapsed() >= std::time::Duration::from_millis(250));
    release.join().unwrap();
}

#[cfg(unix)]
fn assert_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
}

#[cfg(not(unix))]
fn assert_owner_only(_path: &Path) {}

#[test]
fn a_store_from_a_newer_binary_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE something_new (x); PRAGMA user_version = 999;")
            .unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("999"), "{message}");
    assert!(
        message.contains(&format!("up to {SCHEMA_VERSION}")),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not sqlite, just text long enough to fill a header.......",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
}

/// Realistic Cloudflare-v2-shaped raw entries, ~700-800 bytes each.
fn realistic_batch(start: usize, len: usize, rng: &mut fastrand::Rng) -> Vec<AuditEvent> {
    const TYPES: [&str; 12] = [
        "dns_record",
        "api_token",
        "member",
        "zone",
        "worker",
        "waf_rule",
        "page_rule",
        "certificate",
        "load_balancer",
        "firewall_rule",
        "access_app",
        "r2_bucket",
    ];
    const VERBS: [&str; 8] = [
        "create",
        "update",
        "delete",
        "view",
        "login",
        "token_create",
        "grant",
        "list",
    ];
    (start..start + len)
        .map(|i| {
            let id = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
            // Skewed like real audit logs: a few automation accounts do most of it.
            let actor = (rng.f64().powi(3) * 300.0) as usize;
            let email = format!("user{actor}@example.com");
            let rtype = TYPES[rng.usize(..TYPES.len())];
            let verb = VERBS[rng.usize(..VERBS.len())];
            let time = t0() + Duration::milliseconds(i as i64 * 2_600 + rng.i64(-60_000..60_000));
            let ip = format!("198.51.{}.{}", rng.u8(..), rng.u8(..));
            let raw = format!(
                r#"{{"id":"{id}","account":{{"id":"4bb334f7c94c4a29a045f03944f072e5","name":"Example Account"}},"action":{{"description":"{verb} {rtype}","result":"success","time":"{time}","type":"{verb}"}},"actor":{{"id":"f6b5de0326bb5182b8a4840ee01e{actor:04}","context":"dash","email":"{email}","ip_address":"{ip}","token_id":null,"token_name":null,"type":"user"}},"raw":{{"cf_ray_id":"{ray:016x}","method":"POST","status_code":200,"uri":"/accounts/4bb334f7c94c4a29a045f03944f072e5/{rtype}s/{rid:08x}","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15"}},"resource":{{"id":"{rid:08x}","product":"{rtype}s","request":{{}},"response":{{}},"scope":{{}},"type":"{rtype}"}},"zone":{{"id":"023e105f4ecef8ad9ca31a8372d0c353","name":"example.com"}}}}"#,
                time = time.to_rfc3339(),
                ray = rng.u64(..),
                rid = rng.u32(..),
            );
            AuditEvent {
                source: Source::Cloudflare,
                id,
                time,
                actor: Actor {
                    id: Some(format!("f6b5de0326bb5182b8a4840ee01e{actor:04}")),
                    email: Some(email),
                    kind: Some("user".into()),
                    ip: Some(ip),
                    user_agent: Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)".into()),
                    token_id: None,
                    token_name: None,
                },
                action: Action {
                    verb: verb.into(),
                    kind: ActionKind::classify(verb),
                    description: Some(format!("{verb} {rtype}")),
                },
                resource: Resource {
                    product: Some(format!("{rtype}s")),
                    kind: Some(rtype.into()),
                    id: Some(format!("{:08x}", rng.u32(..))),
                    name: None,
                },
                outcome: Outcome::Success,
                account: Some("4bb334f7c94c4a29a045f03944f072e5".into()),
                raw,
            }
        })
        .collect()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Write-path throughput on a real file. Run explicitly:
/// `cargo test --profile bench --test store_basic -- --ignored --nocapture`
/// (`STORE_BENCH_EVENTS` and `STORE_BENCH_BATCH` override the defaults).
#[test]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
fn bench_insert_throughput() {
    let total: usize = std::env::var("STORE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let batch: usize = std::env::var("STORE_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let mut store = Store::open(&path).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let (mut inserting, mut raw_bytes, mut start) = (std::time::Duration::ZERO, 0usize, 0);
    while start < total {
        let len = batch.min(total - start);
        let events = realistic_batch(start, len, &mut rng);
        raw_bytes += events.iter().map(|e| e.raw.len()).sum::<usize>();
        let last = events.last().map(|e| e.time);
        let began = Instant::now();
        let summary = store
            .insert_events_with_checkpoint(&events, last.map(|t| ("cloudflare", t)))
            .unwrap();
        inserting += began.elapsed();
        assert_eq!(summary.new as usize, len);
        start += len;
    }
    assert_eq!(store.event_count().unwrap(), total as u64);
    drop(store);
    let on_disk: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            std::fs::metadata(format!("{}{suffix}", path.display()))
                .ok()
                .map(|m| m.len())
        })
        .sum();
    let secs = inserting.as_secs_f64();
    println!(
        "store bench: {total} events in batches of {batch}: {secs:.2}s inserting = {:.0} events/s; \
         raw avg {} B; on disk {:.1} MB = {} B/event; peak RSS {} MiB",
        total as f64 / secs,
        raw_bytes / total,
        on_disk as f64 / 1e6,
        on_disk / total as u64,
        peak_rss_kib().map_or("?".to_string(), |k| (k / 1024).to_string()),
    );
}
