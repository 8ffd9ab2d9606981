//! The outbox worker against a loopback PagerDuty fake: retries with
//! backoff, waits out `Retry-After`, dead-letters permanent errors with the
//! service's message and gives up after `max_attempts`, requeues a delivery
//! cut off by a stop, and the `soc-tui outbox` commands.

mod common;

use std::ffi::OsString;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::fake_server::{FakeServer, Reply, reply};
use soc_tui::config::Config;
use soc_tui::engine::{StoreHandle, WallClock};
use soc_tui::outbox::{OutboxWorker, RunMode, WorkerSettings};
use soc_tui::secrets::{NoKeychain, Resolver};
use soc_tui::sinks::{DeliveryRequest, PagerDutyAction, Sinks};
use soc_tui::store::{NewOutboxItem, OutboxFilter, OutboxState, Sink, Store};

/// No keychain: every credential comes from `env`.
const NO_KEYCHAIN: NoKeychain = NoKeychain::new("test");

fn env(name: &str) -> Option<OsString> {
    (name == "SOC_TUI_PAGERDUTY_ROUTING_KEY").then(|| OsString::from("routing-key"))
}

const ACCEPTED: &str = r#"{"status":"success","message":"Event processed","dedup_key":"k"}"#;

fn accepted() -> Reply {
    reply(202, &[("Content-Type", "application/json")], ACCEPTED)
}

fn config(server: &FakeServer, max_attempts: u32) -> Config {
    let text = format!(
        r#"
[pagerduty]
enabled = true
events_base = "{}"
[http]
max_retries = 0
request_timeout = "2s"
[outbox]
base_backoff = "50ms"
max_backoff = "200ms"
max_attempts = {max_attempts}
concurrency = 2
"#,
        server.url("/v2")
    );
    Config::from_toml_str(&text, "test.toml").expect("config")
}

fn enqueue(store: &mut Store, key: &str) -> i64 {
    let request = DeliveryRequest::pagerduty_update(key, PagerDutyAction::Resolve, Utc::now());
    store
        .enqueue(
            &NewOutboxItem {
                dedup_key: format!("pagerduty:{key}:resolve"),
                finding_id: None,
                sink: Sink::PagerDuty,
                kind: "resolve".into(),
                payload: serde_json::to_value(&request).unwrap(),
            },
            Utc::now(),
            Default::default(),
        )
        .unwrap()
        .expect("new row")
}

fn worker(store: Store, config: &Config, data: &std::path::Path) -> OutboxWorker {
    let resolver = Resolver::new(&env, &NO_KEYCHAIN);
    let sinks = Sinks::from_config(config, &resolver, data).expect("sinks");
    OutboxWorker::new(
        StoreHandle::new(store),
        Arc::new(sinks),
        WorkerSettings::from_config(&config.outbox),
        Arc::new(WallClock),
    )
}

fn item(path: &std::path::Path, id: i64) -> soc_tui::store::OutboxItem {
    Store::open(path).unwrap().outbox_item(id).unwrap().unwrap()
}

#[tokio::test]
async fn transient_failures_are_retried_until_delivered() {
    let server = FakeServer::start(vec![
        reply(503, &[], "busy"),
        Reply::Reset,
        reply(500, &[], "oops"),
        accepted(),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e1");
    let summary = worker(store, &config(&server, 10), dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    assert_eq!(
        (summary.delivered, summary.retried, summary.dead),
        (1, 3, 0)
    );
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Delivered);
    assert_eq!(row.attempts, 4);
    assert_eq!(row.remote_id.as_deref(), Some("token:e1"));
    assert_eq!(row.last_error, None);
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn a_429_is_not_retried_before_its_retry_after() {
    let server = FakeServer::start(vec![reply(429, &[("Retry-After", "1")], ""), accepted()]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e2");
    worker(store, &config(&server, 10), dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    let got = server.received();
    assert_eq!(got.len(), 2);
    let gap = got[1].at - got[0].at;
    // The backoff alone would be at most 50 ms.
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert_eq!(item(&path, id).state, OutboxState::Delivered);
}

#[tokio::test]
async fn a_permanent_error_is_dead_lettered_with_the_services_message() {
    let server = FakeServer::start(vec![reply(
        400,
        &[("Content-Type", "application/json")],
        r#"{"status":"invalid event","message":"Event object is invalid","errors":["'routing_key' is wrong"]}"#,
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e3");
    let summary = worker(store, &config(&server, 10), dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    assert_eq!((summary.delivered, summary.dead), (0, 1));
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Dead);
    assert_eq!(row.attempts, 1);
    let error = row.last_error.unwrap();
    assert!(error.contains("Event object is invalid"), "{error}");
    assert!(error.contains("HTTP 400"), "{error}");
}

#[tokio::test]
async fn transient_errors_past_max_attempts_are_dead_lettered_with_the_last_message() {
    let server = FakeServer::serve(|_| reply(502, &[], "bad gateway")).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e4");
    worker(store, &config(&server, 3), dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Dead);
    assert_eq!(row.attempts, 3);
    assert_eq!(server.count(), 3);
    let error = row.last_error.unwrap();
    assert!(error.starts_with("gave up after 3 attempts: "), "{error}");
    assert!(error.contains("502"), "{error}");
}

#[tokio::test]
async fn an_interrupted_delivery_is_requeued_and_delivered_on_restart() {
    let server = FakeServer::start(vec![accepted()]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e5");
    // A worker claims the row and dies before recording anything.
    let claimed = store.claim_due(Utc::now(), 10, &[Sink::PagerDuty]).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].state, OutboxState::InFlight);
    assert!(
        store
            .claim_due(Utc::now(), 10, &[Sink::PagerDuty])
            .unwrap()
            .is_empty()
    );
    drop(store);

    let worker = worker(
        Store::open(&path).unwrap(),
        &config(&server, 10),
        dir.path(),
    );
    assert_eq!(worker.recover(Utc::now()).await.unwrap(), 1);
    worker.run(RunMode::UntilIdle).await.unwrap();
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Delivered);
    assert_eq!(row.attempts, 2, "the interrupted attempt counts");
}

#[tokio::test]
async fn rows_of_an_unconfigured_sink_wait_with_the_key_that_enables_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:e6");
    let resolver = Resolver::new(&env, &NO_KEYCHAIN);
    let config = Config::default();
    let sinks = Sinks::from_config(&config, &resolver, dir.path()).unwrap();
    let summary = OutboxWorker::new(
        StoreHandle::new(store),
        Arc::new(sinks),
        WorkerSettings::from_config(&config.outbox),
        Arc::new(WallClock),
    )
    .run(RunMode::UntilIdle)
    .await
    .unwrap();
    assert_eq!(summary.waiting_unconfigured, 1);
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Queued);
    assert_eq!(row.attempts, 0);
    assert!(
        row.last_error
            .unwrap()
            .starts_with("pagerduty not configured: set [pagerduty] enabled = true")
    );
}

fn soc_tui(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .args(args)
        .env("SOC_TUI_DATA", data)
        .env("SOC_TUI_CONFIG", data.join("config.toml"))
        .env("SOC_TUI_ANALYST", "alice")
        .output()
        .expect("run soc-tui")
}

#[test]
fn cli_lists_retries_and_drops_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soc-tui.db");
    let mut store = Store::open(&path).unwrap();
    let a = enqueue(&mut store, "token:a");
    let b = enqueue(&mut store, "token:b");
    // `a` died after max attempts.
    store.claim_due(Utc::now(), 1, &[Sink::PagerDuty]).unwrap();
    store
        .mark_dead(
            a,
            "gave up after 1 attempts: pagerduty: HTTP 503",
            Utc::now(),
        )
        .unwrap();
    drop(store);

    let out = soc_tui(dir.path(), &["outbox", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dead") && text.contains("gave up after 1 attempts"),
        "{text}"
    );
    assert!(text.contains("queued"), "{text}");

    let out = soc_tui(dir.path(), &["outbox", "retry", &a.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = item(&path, a);
    assert_eq!((row.state, row.attempts), (OutboxState::Queued, 0));

    let out = soc_tui(dir.path(), &["outbox", "drop", &b.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = item(&path, b);
    assert_eq!(row.state, OutboxState::Dead);
    assert_eq!(row.last_error.as_deref(), Some("dropped by analyst"));

    let out = soc_tui(dir.path(), &["outbox", "list", "--state", "dead", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["id"], b);

    let log = Store::open(&path).unwrap().analyst_log(None, 10).unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| (e.action.as_str(), e.subject.clone()))
        .collect();
    assert_eq!(
        actions,
        [
            ("outbox-retry", format!("outbox:{a}")),
            ("outbox-drop", format!("outbox:{b}"))
        ]
    );

    let out = soc_tui(dir.path(), &["outbox", "drop", "999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outbox request 999 does not exist"));
    let all = Store::open(&path)
        .unwrap()
        .outbox_list(&OutboxFilter::default())
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn a_retry_after_outlives_a_restart() {
    let server = FakeServer::start(vec![
        reply(429, &[("Retry-After", "2")], ""),
        accepted(),
        accepted(),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    enqueue(&mut store, "token:r1");
    // `max_retries = 0`: the 429 goes back to the worker at once.
    worker(store, &config(&server, 10), dir.path())
        .run(RunMode::Once)
        .await
        .unwrap();
    assert_eq!(server.count(), 1);

    // A new process (new clients, no memory of the 429) with a new request due now.
    let mut store = Store::open(&path).unwrap();
    let second = enqueue(&mut store, "token:r2");
    worker(store, &config(&server, 10), dir.path())
        .run(RunMode::Once)
        .await
        .unwrap();
    let got = server.received();
    assert_eq!(got.len(), 2, "the second request waited for its turn");
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_secs(2),
        "a restarted worker called PagerDuty {gap:?} after a 429 asking for 2 s"
    );
    assert_eq!(item(&path, second).state, OutboxState::Delivered);
}

const RAW_TOKEN_EVENT: &str =
    r#"{"id":"EVENT", "action":{"type":"create"},  "note":"kept byte for byte"}"#;

/// Stores a Cloudflare token-creation event `id` and the token finding
/// whose archive request the token check would queue for it.
fn archive_finding(store: &mut Store, id: &str) {
    use soc_tui::detect::{Finding, Severity, SinkRequest, Workflow};
    use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

    let time = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 11, 2, 0).unwrap();
    let event = AuditEvent {
        source: Source::Cloudflare,
        id: id.into(),
        time,
        actor: Actor {
            email: Some("mallory@example.com".into()),
            ..Actor::default()
        },
        action: Action {
            verb: "create".into(),
            kind: ActionKind::Create,
            description: None,
        },
        resource: Resource::default(),
        outcome: Outcome::Success,
        account: Some("acc-1".into()),
        raw: RAW_TOKEN_EVENT.replace("EVENT", id),
    };
    store.insert_events(&[event]).unwrap();
    let finding = Finding {
        workflow: Workflow::Token,
        dedup_key: format!("token:{id}"),
        actor: "mallory@example.com".into(),
        severity: Severity::High,
        title: "Token: mallory created API token".into(),
        window_start: time,
        window_end: time,
        summary: "s".into(),
        evidence: serde_json::json!({}),
        event_ids: vec![id.into()],
        rules: vec!["token.broad".into()],
        suppressed: vec![],
        requests: vec![SinkRequest::ArchiveObject {
            event_id: id.into(),
            account: Some("acc-1".into()),
            time,
        }],
    };
    store
        .record_finding(&finding, Utc::now(), Default::default())
        .unwrap();
}

#[tokio::test]
async fn a_token_event_is_archived_from_its_stored_raw_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    archive_finding(&mut store, "ev-1");
    // No bucket configured: the local write-once archive under the data dir.
    let summary = worker(store, &Config::default(), dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    assert_eq!((summary.delivered, summary.dead), (1, 0));
    let file = dir
        .path()
        .join("archive/soc-tui/acc-1/2026/11/20/ev-1.json");
    let row = Store::open(&path)
        .unwrap()
        .outbox_list(&OutboxFilter::default())
        .unwrap()
        .remove(0);
    assert_eq!(row.state, OutboxState::Delivered);
    assert_eq!(row.remote_id, Some(file.display().to_string()));
    let body = std::fs::read_to_string(&file).unwrap();
    let raw = RAW_TOKEN_EVENT.replace("EVENT", "ev-1");
    assert!(
        body.contains(&raw),
        "the stored raw event, verbatim:\n{body}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["metadata"]["finding_key"], "token:ev-1");
    assert!(
        std::fs::metadata(&file).unwrap().permissions().readonly(),
        "archived files are write-once"
    );
}

#[tokio::test]
async fn a_rate_limited_service_does_not_hold_up_the_others() {
    let server = FakeServer::start(vec![
        reply(429, &[("Retry-After", "2")], ""),
        accepted(),
        accepted(),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    enqueue(&mut store, "token:p1");
    enqueue(&mut store, "token:p2");
    archive_finding(&mut store, "ev-2");
    let mut config = config(&server, 10);
    // One slot: a row waiting for PagerDuty would hold it.
    config.outbox.concurrency = 1;
    let started = (std::time::Instant::now(), Utc::now());
    worker(store, &config, dir.path())
        .run(RunMode::UntilIdle)
        .await
        .unwrap();
    let throttled_at = server.received()[0].at - started.0;
    let rows = Store::open(&path)
        .unwrap()
        .outbox_list(&OutboxFilter::default())
        .unwrap();
    assert!(
        rows.iter().all(|r| r.state == OutboxState::Delivered),
        "{rows:?}"
    );
    let archived_at = (rows[2].updated_at - started.1).to_std().unwrap();
    assert!(
        archived_at < throttled_at + Duration::from_secs(1),
        "the archive waited for PagerDuty's Retry-After: archived {archived_at:?} after the \
         start, the 429 came at {throttled_at:?}"
    );
    assert_eq!(server.count(), 3);
}

/// `soc-tui outbox deliver`, killed after `limit`.
fn deliver_within(data: &std::path::Path, limit: Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .args(["outbox", "deliver"])
        .env("SOC_TUI_DATA", data)
        .env("SOC_TUI_CONFIG", data.join("config.toml"))
        .env("SOC_TUI_PAGERDUTY_ROUTING_KEY", "routing-key")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run soc-tui");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "outbox deliver still running after {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// This host's name as engine ids spell it (`host:pid:random`).
fn host() -> String {
    let id = soc_tui::engine::engine_id();
    id.rsplitn(3, ':').nth(2).expect("host part").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_after_a_kill_requeues_what_the_dead_process_left_in_flight() {
    let server = FakeServer::start(vec![accepted()]).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    std::fs::write(
        data.join("config.toml"),
        format!(
            "[pagerduty]\nenabled = true\nevents_base = \"{}\"\n",
            server.url("/v2")
        ),
    )
    .unwrap();
    let path = data.join("soc-tui.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:k1");
    // A `deliver` claimed the row, holds the lease, and was killed.
    let mut dead = Command::new("sleep").arg("30").spawn().unwrap();
    let holder = format!("{}:{}:0badf00d", host(), dead.id());
    dead.kill().unwrap();
    dead.wait().unwrap();
    assert!(
        store
            .try_acquire_lease(&holder, Utc::now(), chrono::Duration::seconds(60))
            .unwrap()
    );
    assert_eq!(
        store
            .claim_due(Utc::now(), 10, &[Sink::PagerDuty])
            .unwrap()
            .len(),
        1
    );
    drop(store);

    let out = tokio::task::spawn_blocking(move || deliver_within(&data, Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = item(&path, id);
    assert_eq!(row.state, OutboxState::Delivered);
    assert_eq!(row.attempts, 2, "the interrupted attempt counts");
    assert_eq!(server.count(), 1);
    assert_eq!(
        Store::open(&path).unwrap().lease().unwrap(),
        None,
        "the lease is given back"
    );
}

#[test]
fn deliver_refuses_to_run_beside_a_live_engine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::write(data.join("config.toml"), "").unwrap();
    let path = data.join("soc-tui.db");
    let mut store = Store::open(&path).unwrap();
    let id = enqueue(&mut store, "token:k2");
    // This test process is alive: a daemon, as far as the store can tell.
    let holder = soc_tui::engine::engine_id();
    assert!(
        store
            .try_acquire_lease(&holder, Utc::now(), chrono::Duration::seconds(60))
            .unwrap()
    );
    drop(store);
    let out = deliver_within(data, Duration::from_secs(60));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("holds the lease") && stderr.contains(&holder),
        "{stderr}"
    );
    assert_eq!(item(&path, id).state, OutboxState::Queued);
}
