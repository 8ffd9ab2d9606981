//! Kill -9 in the middle of ingest, many times, and check the store every time.
//!
//! The test re-executes its own binary as a child that ingests synthetic
//! batches forever (each with its checkpoint), SIGKILLs it after a random
//! short delay, reopens the store and checks: SQLite integrity, aggregates
//! equal to a recount of the events, and each checkpoint exactly at the end
//! of the last batch whose events are present (all of them, none of the next).
//! The synthetic data makes that checkable: batch `k` of a stream holds
//! `BATCH` events inside its own time slot, and its checkpoint is the slot's
//! last millisecond, which is also the batch's latest event.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::Store;

const CHILD_ENV: &str = "SOC_TUI_STORE_CRASH_CHILD";
const CHILD_TEST: &str = "crash_child_writer_loop";
const PROGRESS: &str = "crash-child:";
const ROUNDS: usize = 15;
/// Events per batch, and the old events re-sent with each batch (pollers
/// re-read the edge of the previous window).
const BATCH: i64 = 1500;
const OVERLAP: usize = 100;
/// Each batch covers its own slot of this many ms; deliberately not a
/// divisor of an hour, so batches straddle hour boundaries.
const SLOT_MS: i64 = 433_000;
const STREAMS: [Source; 2] = [Source::Cloudflare, Source::Datadog];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The last millisecond of batch `k`'s slot: its latest event and its checkpoint.
fn batch_end(k: i64) -> DateTime<Utc> {
    base() + Duration::milliseconds(k * SLOT_MS + SLOT_MS - 1)
}

/// Which batch a checkpoint position closes; panics if it closes none.
fn batch_of_checkpoint(position: DateTime<Utc>) -> i64 {
    let offset = (position - base()).num_milliseconds() - (SLOT_MS - 1);
    assert!(
        offset >= 0 && offset % SLOT_MS == 0,
        "checkpoint {position} is not the end of any batch"
    );
    offset / SLOT_MS
}

/// Batch `k` of `source`: `BATCH` events in shuffled time order, the first
/// one at the slot's last millisecond.
fn batch(source: Source, k: i64) -> Vec<AuditEvent> {
    const ACTORS: [&str; 7] = [
        "alice@example.com",
        "bob@example.com",
        "ci-bot@example.com",
        "Carol@Example.com",
        "dave@example.com",
        "eve@example.com",
        "mallory@example.com",
    ];
    const VERBS: [&str; 6] = ["create", "view", "delete", "login", "update", "grant"];
    const TYPES: [Option<&str>; 5] = [
        Some("dns_record"),
        Some("api_token"),
        None,
        Some("monitor"),
        Some("role"),
    ];
    let step = SLOT_MS / BATCH;
    (0..BATCH)
        .map(|i| {
            // 7 is coprime with BATCH: `slot_index` is a permutation of 0..BATCH.
            let slot_index = (i * 7) % BATCH;
            let time =
                base() + Duration::milliseconds(k * SLOT_MS + SLOT_MS - 1 - slot_index * step);
            let n = (k * BATCH + i) as usize;
            let id = format!("{}-{k}-{i}", source.short());
            let verb = VERBS[n % VERBS.len()];
            let resource_type = TYPES[(n / 3) % TYPES.len()];
            AuditEvent {
                source,
                raw: format!(
                    r#"{{"id":"{id}","time":"{}","actor":"{}","action":"{verb}","pad":"{}"}}"#,
                    time.to_rfc3339(),
                    ACTORS[n % ACTORS.len()],
                    "x".repeat(500)
                ),
                id,
                time,
                actor: Actor {
                    id: Some(format!("uid-{}", n % ACTORS.len())),
                    email: Some(ACTORS[n % ACTORS.len()].to_string()),
                    kind: Some("user".into()),
                    ip: Some(format!("203.0.113.{}", n % 250)),
                    ..Actor::default()
                },
                action: Action {
                    verb: verb.to_string(),
                    kind: ActionKind::classify(verb),
                    description: None,
                },
                resource: Resource {
                    product: Some("synthetic".into()),
                    kind: resource_type.map(str::to_string),
                    id: Some(format!("r{}", n % 97)),
                    name: None,
                },
                outcome: Outcome::Success,
                account: Some("acct".into()),
            }
        })
        .collect()
}

/// The child: ingests the next batch of each stream in turn, forever,
/// resuming from the checkpoints, and reports each step on stdout.
#[test]
#[ignore = "child process of kill_mid_ingest_leaves_a_consistent_store"]
fn crash_child_writer_loop() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        println!(
            "{CHILD_TEST} only runs as the child of kill_mid_ingest_leaves_a_consistent_store"
        );
        return;
    };
    let mut store = Store::open(Path::new(&path)).unwrap();
    let mut next: BTreeMap<Source, i64> = STREAMS
        .iter()
        .map(|&s| {
            let k = store
                .checkpoint(s.as_str())
                .unwrap()
                .map_or(0, |c| batch_of_checkpoint(c.position) + 1);
            (s, k)
        })
        .collect();
    loop {
        for source in STREAMS {
            let k = next[&source];
            let mut events = if k > 0 {
                let previous = batch(source, k - 1);
                previous[previous.len() - OVERLAP..].to_vec()
            } else {
                Vec::new()
            };
            events.extend(batch(source, k));
            println!("{PROGRESS} attempt {source} {k}");
            let summary = store
                .insert_events_with_checkpoint(&events, Some((source.as_str(), batch_end(k))))
                .unwrap();
            assert_eq!(summary.new, BATCH as u64, "batch {source} {k}");
            println!("{PROGRESS} committed {source} {k}");
            next.insert(source, k + 1);
        }
    }
}

/// What the child said it did, per stream: the last batch it started and
/// the last one it saw committed.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    attempted: Option<i64>,
    committed: Option<i64>,
}

fn read_progress(file: &Path) -> BTreeMap<Source, Progress> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut progress: BTreeMap<Source, Progress> = BTreeMap::new();
    // Not `strip_prefix`: the harness prints `test <name> ... ` without a
    // newline before the child's first line.
    let reports = text
        .lines()
        .filter_map(|l| l.find(PROGRESS).map(|at| &l[at + PROGRESS.len()..]));
    for line in reports {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [what, source, k] = words[..] else {
            panic!("bad progress line {line:?}");
        };
        let entry = progress.entry(source.parse().unwrap()).or_default();
        let k = Some(k.parse().unwrap());
        match what {
            "attempt" => entry.attempted = k,
            "committed" => entry.committed = k,
            other => panic!("bad progress word {other:?}"),
        }
    }
    progress
}

fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let width = stmt.column_count();
    stmt.query_map([], |row| (0..width).map(|i| row.get(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Everything that must hold after any crash; returns the committed batch
/// count per stream (from the checkpoints).
fn check_consistent(store: &Store, path: &Path) -> BTreeMap<Source, i64> {
    store.integrity_check().unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();

    // Aggregates equal a recount of the events they were maintained from.
    let recount = [
        (
            "SELECT actor_key, hour, source, events, changes FROM actor_hour ORDER BY 1, 2, 3",
            "SELECT actor_key, time / 3600000 * 3600000, source, count(*),
                    sum(kind NOT IN ('read', 'login'))
             FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
        (
            "SELECT actor_key, hour, resource_type, count FROM actor_hour_type ORDER BY 1, 2, 3",
            "SELECT actor_key, time / 3600000 * 3600000, resource_type, count(*) FROM events
             WHERE resource_type <> '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
        (
            "SELECT actor_key, resource_type, first_seen FROM actor_first_seen ORDER BY 1, 2",
            "SELECT actor_key, resource_type, min(time) FROM events
             WHERE resource_type <> '' GROUP BY 1, 2 ORDER BY 1, 2",
        ),
    ];
    for (maintained, from_events) in recount {
        let (kept, recounted) = (rows(&conn, maintained), rows(&conn, from_events));
        if kept != recounted {
            let at = (0..kept.len().max(recounted.len()))
                .find(|&i| kept.get(i) != recounted.get(i))
                .unwrap_or(0);
            panic!(
                "{maintained}: {} maintained rows vs {} recounted from events; \
                 first difference at row {at}: {:?} vs {:?}",
                kept.len(),
                recounted.len(),
                kept.get(at),
                recounted.get(at)
            );
        }
    }
    let hourly_total: u64 = store
        .hourly_aggregates(
            None,
            base() - Duration::days(1),
            base() + Duration::days(3650),
        )
        .unwrap()
        .iter()
        .map(|a| a.events)
        .sum();
    assert_eq!(store.event_count().unwrap(), hourly_total);

    // Each checkpoint closes exactly the batches that are stored.
    let counts: BTreeMap<Source, u64> =
        store.event_count_by_source().unwrap().into_iter().collect();
    let mut committed = BTreeMap::new();
    for source in STREAMS {
        let stored = counts.get(&source).copied().unwrap_or(0);
        let batches = match store.checkpoint(source.as_str()).unwrap() {
            None => 0,
            Some(c) => {
                let max_time: i64 = conn
                    .query_row(
                        "SELECT time FROM events WHERE source = ?1 ORDER BY time DESC LIMIT 1",
                        [source.as_str()],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(
                    c.position.timestamp_millis(),
                    max_time,
                    "{source}: checkpoint must be the latest committed event time"
                );
                batch_of_checkpoint(c.position) + 1
            }
        };
        assert_eq!(
            stored,
            (batches * BATCH) as u64,
            "{source}: stored events vs checkpoint"
        );
        committed.insert(source, batches);
    }
    committed
}

#[test]
fn kill_mid_ingest_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let seed = fastrand::u64(..);
    println!("kill delays seeded with {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    let mut committed: BTreeMap<Source, i64> = STREAMS.iter().map(|&s| (s, 0)).collect();
    let mut attempted: BTreeMap<Source, i64> = STREAMS.iter().map(|&s| (s, -1)).collect();
    let mut killed_mid_batch = 0;
    for round in 0..ROUNDS {
        let out = dir.path().join(format!("child-{round}.out"));
        let err = dir.path().join(format!("child-{round}.err"));
        let mut child = Command::new(&exe)
            .args([
                CHILD_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap())
            .spawn()
            .unwrap();
        std::thread::sleep(StdDuration::from_millis(rng.u64(20..350)));
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "round {round}: the writer exited by itself ({status}):\n{}\n{}",
                std::fs::read_to_string(&out).unwrap_or_default(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let progress = read_progress(&out);
        let store = Store::open(&path).unwrap();
        let now = check_consistent(&store, &path);
        drop(store);
        for source in STREAMS {
            let p = progress.get(&source).copied().unwrap_or_default();
            let batches = now[&source];
            // Never backwards; at least what the child saw committed; at most
            // the batch it was working on.
            assert!(
                batches >= committed[&source],
                "round {round} {source}: checkpoint went back"
            );
            if let Some(k) = p.committed {
                assert!(
                    batches > k,
                    "round {round} {source}: committed batch {k} lost"
                );
            }
            if let Some(k) = p.attempted {
                assert!(
                    batches <= k + 1,
                    "round {round} {source}: more than attempted"
                );
                if batches == k {
                    killed_mid_batch += 1;
                }
                attempted.insert(source, attempted[&source].max(k));
            } else {
                assert_eq!(
                    batches, committed[&source],
                    "round {round} {source}: moved unattempted"
                );
            }
            committed.insert(source, batches);
        }
        println!("round {round}: committed batches {committed:?}");
    }
    let total_committed: i64 = committed.values().sum();
    assert!(total_committed >= 2, "the writer barely ran: {committed:?}");
    assert!(
        killed_mid_batch >= 1,
        "no kill landed inside a batch; nothing was tested"
    );
    println!("{killed_mid_batch} kills landed inside a batch");

    // Re-ingest everything the child ever attempted: exactly the batches
    // that were lost come in, nothing is doubled.
    let mut store = Store::open(&path).unwrap();
    let mut expected_total = 0;
    for source in STREAMS {
        let before = store.event_count_by_source().unwrap();
        let stored_before = before
            .iter()
            .find(|(s, _)| *s == source)
            .map_or(0, |(_, n)| *n);
        let mut new = 0;
        let mut duplicate = 0;
        for k in 0..=attempted[&source] {
            let summary = store
                .insert_events_with_checkpoint(
                    &batch(source, k),
                    Some((source.as_str(), batch_end(k))),
                )
                .unwrap();
            new += summary.new;
            duplicate += summary.duplicate;
        }
        let attempted_events = ((attempted[&source] + 1) * BATCH) as u64;
        assert_eq!(duplicate, stored_before, "{source}");
        assert_eq!(new + duplicate, attempted_events, "{source}");
        expected_total += attempted_events;
    }
    assert_eq!(store.event_count().unwrap(), expected_total);
    check_consistent(&store, &path);
    for source in STREAMS {
        for k in 0..=attempted[&source] {
            assert_eq!(store.insert_events(&batch(source, k)).unwrap().new, 0);
        }
    }
    assert_eq!(store.event_count().unwrap(), expected_total);
}
