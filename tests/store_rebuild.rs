//! `Store::rebuild_aggregates`: aggregates recomputed from the events alone
//! equal the ones maintained on insert (and folded before a baseline check),
//! whatever state the tables were in before, and the change-type fold goes
//! on correctly afterwards.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;
use soc_tui::detect::baseline::BaselineData;
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::{RebuildSummary, Store};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn event(i: usize, time: DateTime<Utc>) -> AuditEvent {
    // Mixed case emails and an id-only actor: the actor key is derived.
    let emails = [
        Some("Alice@Example.com"),
        Some("bob@example.com"),
        None,
        Some("carol@example.com"),
    ];
    let verbs = [
        "create",
        "login",
        "view",
        "rec_del",
        "Modified role",
        "frobnicate",
    ];
    // Empty and missing types are not types; the same type from both sources.
    let types = [
        Some("dns.record"),
        None,
        Some(""),
        Some("monitor"),
        Some("role"),
    ];
    let verb = verbs[i % verbs.len()];
    AuditEvent {
        source: if i.is_multiple_of(3) {
            Source::Datadog
        } else {
            Source::Cloudflare
        },
        id: format!("ev-{i}"),
        time,
        actor: Actor {
            id: Some(format!("uid-{}", i % 5)),
            email: emails[i % emails.len()].map(str::to_string),
            ..Actor::default()
        },
        action: Action {
            verb: verb.to_string(),
            kind: ActionKind::classify(verb),
            description: None,
        },
        resource: Resource {
            kind: types[(i / 2) % types.len()].map(str::to_string),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: None,
        raw: format!(r#"{{"id":"ev-{i}"}}"#),
    }
}

/// `n` events over ~3 days at uneven minutes, the first few before the
/// epoch (hours floor, not truncate) and out of time order.
fn history(from: usize, n: usize) -> Vec<AuditEvent> {
    (from..from + n)
        .map(|i| {
            let time = if i % 97 == 5 {
                DateTime::from_timestamp_millis(-1 - i as i64 * 1_000).unwrap()
            } else {
                t0() + Duration::minutes(((i * 37) % (72 * 60)) as i64)
                    + Duration::milliseconds((i % 7) as i64)
            };
            event(i, time)
        })
        .collect()
}

type Rows = Vec<(String, i64, String, i64, i64)>;

/// Every row of the four aggregate tables, as (table, hour or 0, key, a, b).
fn aggregates(db: &Path) -> Rows {
    let conn = Connection::open(db).unwrap();
    let sql = "
        SELECT 'actor_hour', hour, actor_key || '|' || source, events, changes FROM actor_hour
        UNION ALL
        SELECT 'actor_hour_type', hour, actor_key || '|' || resource_type, count, 0
          FROM actor_hour_type
        UNION ALL
        SELECT 'actor_hour_change_type', hour, actor_key || '|' || resource_type, changes, 0
          FROM actor_hour_change_type
        UNION ALL
        SELECT 'actor_first_seen', 0, actor_key || '|' || resource_type, first_seen, 0
          FROM actor_first_seen
        ORDER BY 1, 2, 3";
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn count(rows: &Rows, table: &str) -> u64 {
    rows.iter().filter(|r| r.0 == table).count() as u64
}

/// Damage every table: drop rows, inflate counts, add a row no event backs.
fn tamper(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "DELETE FROM actor_hour WHERE (actor_key, hour, source) IN
             (SELECT actor_key, hour, source FROM actor_hour LIMIT 3);
         UPDATE actor_hour SET changes = changes + 5;
         DELETE FROM actor_hour_type WHERE resource_type = 'monitor';
         UPDATE actor_hour_change_type SET changes = changes * 2;
         INSERT INTO actor_hour_change_type VALUES ('ghost', 0, 'waf', 1);
         UPDATE actor_first_seen SET first_seen = first_seen + 1;
         UPDATE derived_marks SET rowid_done = 0;",
    )
    .unwrap();
}

#[test]
fn rebuilt_aggregates_equal_the_ones_maintained_on_insert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db).unwrap();
    // Several batches, so late older events move first-seen times back,
    // within an hour too: dave touches `waf` only in this hour, the later
    // event stored first.
    let events = history(0, 600);
    let dave = |id: usize, minute: i64| {
        let mut e = event(id, t0() + Duration::hours(100) + Duration::minutes(minute));
        e.actor.email = Some("dave@example.com".into());
        e.resource.kind = Some("waf".into());
        e
    };
    store.insert_events(&[dave(9_001, 50)]).unwrap();
    for batch in events.chunks(170).rev() {
        store.insert_events(batch).unwrap();
    }
    store.insert_events(&[dave(9_002, 5)]).unwrap();
    store.refresh_change_types().unwrap();
    let maintained = aggregates(&db);
    assert!(
        count(&maintained, "actor_hour_change_type") > 10,
        "{maintained:?}"
    );

    tamper(&db);
    assert_ne!(aggregates(&db), maintained, "tampering changed nothing");

    let summary = store.rebuild_aggregates().unwrap();
    let rebuilt = aggregates(&db);
    assert_eq!(rebuilt, maintained);
    assert_eq!(
        summary,
        RebuildSummary {
            events: 602,
            actor_hours: count(&maintained, "actor_hour"),
            actor_hour_types: count(&maintained, "actor_hour_type"),
            actor_hour_change_types: count(&maintained, "actor_hour_change_type"),
            first_seen: count(&maintained, "actor_first_seen"),
        }
    );
    assert_eq!(
        store.refresh_change_types().unwrap(),
        0,
        "the rebuild moved the fold mark past every event"
    );
    store.integrity_check().unwrap();
}

#[test]
fn events_after_a_rebuild_are_folded_once() {
    let dir = tempfile::tempdir().unwrap();
    let rebuilt_db = dir.path().join("rebuilt.db");
    let reference_db = dir.path().join("reference.db");
    let (before, after) = (history(0, 300), history(300, 200));

    let mut rebuilt = Store::open(&rebuilt_db).unwrap();
    rebuilt.insert_events(&before).unwrap();
    rebuilt.rebuild_aggregates().unwrap();
    rebuilt.insert_events(&after).unwrap();
    assert_eq!(rebuilt.refresh_change_types().unwrap(), 200);

    let mut reference = Store::open(&reference_db).unwrap();
    reference.insert_events(&before).unwrap();
    reference.insert_events(&after).unwrap();
    reference.refresh_change_types().unwrap();

    assert_eq!(aggregates(&rebuilt_db), aggregates(&reference_db));
}

#[test]
fn rebuilding_an_empty_store_empties_the_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db).unwrap();
    tamper(&db);
    assert!(!aggregates(&db).is_empty());
    assert_eq!(
        store.rebuild_aggregates().unwrap(),
        RebuildSummary::default()
    );
    assert!(aggregates(&db).is_empty());
    // Twice in a row on the same connection (the temp table is gone).
    store.rebuild_aggregates().unwrap();
}

/// `soc-tui store rebuild-aggregates` through the real binary.
fn rebuild_command(root: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .env("HOME", root)
        .env("SOC_TUI_CONFIG", root.join("config.toml"))
        .arg("--data-dir")
        .arg(root.join("data"))
        .args(["store", "rebuild-aggregates"])
        .output()
        .unwrap()
}

#[test]
fn the_cli_command_rebuilds_the_data_dir_store() {
    let root = tempfile::tempdir().unwrap();
    let db = root.path().join("data").join("soc-tui.db");
    {
        let mut store = Store::open(&db).unwrap();
        store.insert_events(&history(0, 250)).unwrap();
        store.refresh_change_types().unwrap();
    }
    let maintained = aggregates(&db);
    tamper(&db);

    let out = rebuild_command(root.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("rebuilt the aggregates of 250 events"),
        "{stdout}"
    );
    assert_eq!(aggregates(&db), maintained);
}

#[test]
fn the_cli_command_refuses_to_create_a_store() {
    let root = tempfile::tempdir().unwrap();
    let out = rebuild_command(root.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no store at") && stderr.contains("nothing to rebuild"),
        "{stderr}"
    );
    assert!(!root.path().join("data").join("soc-tui.db").exists());
}

/// What the public reads see of the aggregates, for a store whose tables
/// the test cannot open directly (in memory).
fn public_view(store: &mut Store) -> String {
    let (from, to) = (
        DateTime::from_timestamp_millis(-10 * 3_600_000).unwrap(),
        t0() + Duration::days(10),
    );
    let mut view = format!(
        "{:?}\n{:?}\n",
        store.hourly_aggregates(None, from, to).unwrap(),
        store.resource_types(None, from, to).unwrap()
    );
    let actors = store.actors_active_between(from, to).unwrap();
    for actor in &actors {
        view += &format!("{actor} {:?}\n", store.first_seen_types(actor).unwrap());
    }
    let data = store.baseline_data().unwrap();
    for actor in &actors {
        view += &format!("{actor} {:?}\n", data.types_seen(actor, from, to).unwrap());
    }
    view
}

#[test]
fn an_in_memory_store_rebuilds_on_its_one_connection() {
    let mut store = Store::open_in_memory().unwrap();
    for batch in history(0, 400).chunks(90).rev() {
        store.insert_events(batch).unwrap();
    }
    let maintained = public_view(&mut store);
    assert!(maintained.lines().count() > 6, "{maintained}");
    let summary = store.rebuild_aggregates().unwrap();
    assert_eq!(summary.events, 400);
    assert_eq!(public_view(&mut store), maintained);
    assert_eq!(store.refresh_change_types().unwrap(), 0);
}
