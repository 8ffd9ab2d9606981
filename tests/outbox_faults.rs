//! The outbox under fire: thousands of deliveries to Linear, PagerDuty, the
//! S3 archive and Confluence through proxies that fail ~30% of requests
//! (5xx, resets, hangs past the client timeout, 429 with `Retry-After`; half
//! of the 5xx/reset/hang strike after the destination applied the request),
//! refuse ~1% of the items for good with the service's own 4xx, while the
//! real `soc-tui outbox deliver` is killed with SIGKILL at its three crash
//! points (during the outbox write, after the remote 2xx before our commit,
//! during a backoff), restarted, and finally run to idle.
//!
//! Then: every row is delivered or dead, the dead ones are exactly the
//! refused items and carry the service's message, every remote object
//! exists once (Linear issue by id, PagerDuty incident by dedup key,
//! Confluence page by title, S3 object by key with one version), and no
//! request reached a destination while a `Retry-After` it had answered was
//! still running.
//!
//! `cargo test --test outbox_faults` runs 1,500 deliveries;
//! `SOC_TUI_FAULT_DELIVERIES=N` changes that, and the ignored
//! `ten_thousand_deliveries_survive_faults_and_kills` runs 10,000. Needs
//! moto's S3 server (see `tests/common/moto.rs`): skipped without it, a
//! failure under `CI=true`.

mod common;
#[path = "outbox_faults/destinations.rs"]
mod destinations;
#[path = "outbox_faults/driver.rs"]
mod driver;
#[path = "outbox_faults/ledger.rs"]
mod ledger;
#[path = "outbox_faults/seed.rs"]
mod seed;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::fault_proxy::{FaultKind, FaultPlan};
use destinations::{BUCKET, Destinations};
use driver::{Binary, KillPoint, RunEnd};
use ledger::{Item, Problems};
use soc_tui::store::{OutboxFilter, OutboxItem, OutboxState, Sink, Store};

const DEFAULT_DELIVERIES: usize = 1_500;
/// Worker concurrency of the binary under test.
const CONCURRENCY: u32 = 16;
/// The longest one `outbox deliver` may run.
const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);

fn fault_plan(seed: u64) -> FaultPlan {
    FaultPlan {
        rate: 0.30,
        weights: [
            (FaultKind::ServerError, 45),
            (FaultKind::Reset, 25),
            (FaultKind::Hang, 12),
            (FaultKind::RateLimited, 18),
        ],
        retry_after_secs: (2, 3),
        rate_limit_cooldown: Duration::from_secs(8),
        seed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_faults_and_kills() {
    let total = std::env::var("SOC_TUI_FAULT_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_DELIVERIES);
    fault_run(total, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about five minutes: cargo test --test outbox_faults -- --ignored"]
async fn ten_thousand_deliveries_survive_faults_and_kills() {
    fault_run(10_000, 5).await;
}

/// Kills at each point `rounds` times, spread over the first half of the work.
fn kill_loop(binary: &Binary, total: usize, rounds: usize, seed: u64) -> Vec<(KillPoint, Instant)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let hits = (total as u64 / (rounds as u64 * 3 * 2)).max(4);
    let mut kills = Vec::new();
    for _ in 0..rounds {
        for point in KillPoint::ALL {
            // Retries are rarer than attempts: stop at a backoff sooner.
            let base = if point == KillPoint::Backoff {
                (hits / 4).max(2)
            } else {
                hits
            };
            let skip = rng.u64(base / 2..=base * 3 / 2);
            let began = Instant::now();
            match binary.deliver(Some((point, skip)), RUN_LIMIT) {
                RunEnd::Killed { point, at } => {
                    eprintln!(
                        "killed at {} after {skip} hits, {:.1?}",
                        point.as_str(),
                        began.elapsed()
                    );
                    kills.push((point, at));
                }
                RunEnd::Exited {
                    status,
                    stdout,
                    stderr,
                } => {
                    assert!(
                        status.success(),
                        "outbox deliver failed ({status}):\n{stdout}\n{stderr}"
                    );
                    eprintln!("outbox deliver finished before {point:?} after {skip} hits");
                }
            }
        }
    }
    kills
}

async fn fault_run(total: usize, rounds: usize) {
    let seed = std::env::var("SOC_TUI_FAULT_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_261_121);
    let Some(dest) = Destinations::start(&fault_plan(seed)).await else {
        return;
    };
    dest.s3_admin()
        .create_bucket()
        .bucket(BUCKET)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket: {e:?}\n{}", dest.moto.output()));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, dest.config_toml(CONCURRENCY)).expect("config");
    let store_path = data.join("soc-tui.db");

    let per_sink = total / 4;
    let seeding = Instant::now();
    let counts = seed::seed(&store_path, per_sink).await;
    let rows = all_rows(&store_path);
    assert_eq!(
        (
            counts.token_findings,
            counts.burst_findings,
            counts.approved_drafts
        ),
        (per_sink, per_sink, per_sink),
        "findings and approvals seeded"
    );
    for sink in Sink::ALL {
        assert_eq!(
            rows.iter().filter(|r| r.sink == sink).count(),
            per_sink,
            "{sink} rows queued"
        );
    }
    let items = ledger::plan_items(&rows);
    for (sink, proxy) in [
        (Sink::Linear, &dest.proxies.linear),
        (Sink::PagerDuty, &dest.proxies.pagerduty),
        (Sink::Confluence, &dest.proxies.confluence),
        (Sink::Archive, &dest.proxies.s3),
    ] {
        proxy.refuse_permanently(
            items
                .iter()
                .filter(|i| i.sink == sink && i.doomed)
                .map(|i| i.key.clone()),
        );
    }
    eprintln!("seeded {} rows in {:.1?}", rows.len(), seeding.elapsed());

    let binary = Binary {
        config,
        data: data.clone(),
        env: Destinations::secret_env()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    let started = Instant::now();
    let (binary, kills) = tokio::task::spawn_blocking(move || {
        let kills = kill_loop(&binary, total, rounds, seed);
        (binary, kills)
    })
    .await
    .expect("kill loop");
    let (binary, last) = tokio::task::spawn_blocking(move || {
        let end = binary.deliver(None, RUN_LIMIT);
        (binary, end)
    })
    .await
    .expect("final run");
    let wall = started.elapsed();
    drop(binary);
    let summary = match last {
        RunEnd::Exited {
            status,
            stdout,
            stderr,
        } => {
            assert!(
                status.success(),
                "final outbox deliver failed ({status}):\n{stdout}\n{stderr}"
            );
            stdout
        }
        RunEnd::Killed { .. } => unreachable!("no fault point armed"),
    };

    let rows = all_rows(&store_path);
    let mut problems = Problems::default();
    ledger::check_rows(&items, &rows, &mut problems);
    let duplicates = check_remote_sides(&dest, &items, &rows, &mut problems).await;
    check_archive_bodies(&dest, &store_path, &items, &mut problems).await;

    let kill_times: Vec<Instant> = kills.iter().map(|(_, at)| *at).collect();
    let figures: Vec<_> = dest
        .proxies
        .all()
        .iter()
        .map(|p| ledger::figures(p, &kill_times))
        .collect();
    let mut per_kind: BTreeMap<FaultKind, (usize, usize)> = BTreeMap::new();
    for f in &figures {
        problems.check(f.early.same_item == 0 && f.early.destination == 0, || {
            format!(
                "{}: requests before Retry-After elapsed: {:?}",
                f.name, f.early
            )
        });
        problems.check(f.name == "pagerduty" || f.repeated_creates == 0, || {
            format!(
                "{}: {} creates carried out twice",
                f.name, f.repeated_creates
            )
        });
        for (kind, (n, after)) in &f.faults {
            let entry = per_kind.entry(*kind).or_default();
            entry.0 += n;
            entry.1 += after;
        }
    }
    for kind in [
        FaultKind::ServerError,
        FaultKind::Reset,
        FaultKind::Hang,
        FaultKind::RateLimited,
    ] {
        problems.check(per_kind.get(&kind).is_some_and(|(n, _)| *n > 0), || {
            format!("no {} fault was injected", kind.as_str())
        });
    }
    problems.check(
        per_kind.values().map(|(_, after)| after).sum::<usize>() > 0,
        || "no fault struck after an effect".into(),
    );
    let mut kills_per_point: BTreeMap<KillPoint, usize> = BTreeMap::new();
    for (point, _) in &kills {
        *kills_per_point.entry(*point).or_default() += 1;
    }
    for point in KillPoint::ALL {
        problems.check(kills_per_point.contains_key(&point), || {
            format!("never killed at {}", point.as_str())
        });
    }

    let delivered = rows
        .iter()
        .filter(|r| r.state == OutboxState::Delivered)
        .count();
    let dead = rows.iter().filter(|r| r.state == OutboxState::Dead).count();
    let attempts: u64 = rows.iter().map(|r| r.attempts).sum();
    eprintln!("--- outbox fault run: {} rows, seed {seed}", rows.len());
    eprintln!(
        "delivered {delivered}, dead {dead} (refused for good: {}), lost {}, created twice {duplicates}",
        items.iter().filter(|i| i.doomed).count(),
        rows.len() - delivered - dead
    );
    eprintln!(
        "attempts {attempts} = {} retries beyond the first; kills {:?}; wall {:.1?}",
        attempts.saturating_sub(rows.len() as u64),
        kills_per_point
            .iter()
            .map(|(p, n)| (p.as_str(), *n))
            .collect::<Vec<_>>(),
        wall
    );
    for f in &figures {
        eprintln!("{f}");
    }
    eprintln!("final run: {}", summary.trim());
    assert!(problems.is_empty(), "the fault run found:\n{problems}");
}

fn all_rows(store: &std::path::Path) -> Vec<OutboxItem> {
    Store::open(store)
        .expect("store")
        .outbox_list(&OutboxFilter::default())
        .expect("rows")
}

/// Compares each destination's objects with the rows; returns how many
/// keys were created more than once.
async fn check_remote_sides(
    dest: &Destinations,
    items: &[Item],
    rows: &[OutboxItem],
    problems: &mut Problems,
) -> usize {
    let issues: Vec<String> = dest.linear.issues().into_iter().map(|i| i.id).collect();
    let incidents = dest.pagerduty.incidents();
    let pages = dest.confluence.pages();
    let mut twice = ledger::check_remote(Sink::Linear, items, &issues, problems);
    let keys: Vec<String> = incidents.iter().map(|i| i.dedup_key.clone()).collect();
    twice += ledger::check_remote(Sink::PagerDuty, items, &keys, problems);
    let titles: Vec<String> = pages.iter().map(|p| p.title.clone()).collect();
    twice += ledger::check_remote(Sink::Confluence, items, &titles, problems);
    let objects = object_versions(dest).await;
    twice += ledger::check_remote(Sink::Archive, items, &objects, problems);

    // A delivered page row names the page that has its title.
    let page_ids: std::collections::HashMap<&str, &str> = pages
        .iter()
        .map(|p| (p.title.as_str(), p.id.as_str()))
        .collect();
    for item in items
        .iter()
        .filter(|i| i.sink == Sink::Confluence && !i.doomed)
    {
        let row = rows.iter().find(|r| r.id == item.row);
        let named = row.and_then(|r| r.remote_id.as_deref());
        problems.check(named == page_ids.get(item.key.as_str()).copied(), || {
            format!(
                "row {} names page {named:?}, the page titled {:?} is another",
                item.row, item.key
            )
        });
    }
    twice
}

/// Every version of every object in the bucket, by key.
async fn object_versions(dest: &Destinations) -> Vec<String> {
    let s3 = dest.s3_admin();
    let mut keys = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(BUCKET)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .expect("list versions");
        keys.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.key().map(str::to_owned)),
        );
        if !page.is_truncated().unwrap_or(false) {
            return keys;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

/// Archived objects hold the stored raw event verbatim (every 20th is read back).
async fn check_archive_bodies(
    dest: &Destinations,
    store_path: &std::path::Path,
    items: &[Item],
    problems: &mut Problems,
) {
    let store = Store::open(store_path).expect("store");
    let s3 = dest.s3_admin();
    let archived = items
        .iter()
        .filter(|i| i.sink == Sink::Archive && !i.doomed)
        .step_by(20);
    for item in archived {
        let row = store.outbox_item(item.row).expect("row").expect("exists");
        let payload: soc_tui::store::FindingRequestPayload =
            serde_json::from_value(row.payload).expect("payload");
        let soc_tui::detect::SinkRequest::ArchiveObject { event_id, time, .. } = payload.request
        else {
            panic!("row {} is not an archive request", item.row);
        };
        let raw = store
            .event_raw(&event_id, time)
            .expect("read event")
            .expect("stored event");
        let object = s3
            .get_object()
            .bucket(BUCKET)
            .key(&item.key)
            .send()
            .await
            .expect("get object");
        let body = object.body.collect().await.expect("body").into_bytes();
        problems.check(String::from_utf8_lossy(&body).contains(&raw), || {
            format!(
                "{} does not hold the raw event {event_id} verbatim",
                item.key
            )
        });
    }
}
