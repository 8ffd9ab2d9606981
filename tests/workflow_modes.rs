//! Per-workflow modes in the running engine, with its outbox worker and
//! real sinks pointed at loopback fakes that count what reaches them:
//! dry-run records every request and sends none, on delivers, off skips
//! the check (coverage untouched), and a switch made through another store
//! connection (another process) is followed from the check's next run.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::activity::{role_grants, token_creation};
use common::fake_server::{FakeServer, reply};
use soc_tui::config::{Config, WorkflowMode, WorkflowsConfig};
use soc_tui::detect::Workflow;
use soc_tui::detect::rules::parse;
use soc_tui::engine::{
    Cadences, CheckKind, Engine, EngineEvent, EngineHandle, EngineOptions, NoIntake, TokioClock,
};
use soc_tui::model::AuditEvent;
use soc_tui::outbox::WorkerSettings;
use soc_tui::outbox::preview::{preview_sinks, render_item};
use soc_tui::secrets::{NoKeychain, Resolver};
use soc_tui::sinks::Sinks;
use soc_tui::store::{Delivery, OutboxFilter, OutboxItem, OutboxState, Sink, Store, WindowRecord};
use soc_tui::workflows::ModePolicy;
use tokio::sync::broadcast;

/// No keychain: every credential comes from `env`.
const NO_KEYCHAIN: NoKeychain = NoKeychain::new("test");

fn env(name: &str) -> Option<OsString> {
    (name == "SOC_TUI_PAGERDUTY_ROUTING_KEY").then(|| OsString::from("routing-key-sentinel"))
}

/// The engine's "now" at start: 12:00:30 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 30).unwrap()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0).unwrap()
}

/// A token creation at 10:20 (an archive object and a Linear ticket) and a
/// Datadog role-grant burst at 11:10 (a PagerDuty trigger).
fn activity() -> Vec<AuditEvent> {
    let mut events = vec![token_creation(at(10, 20))];
    events.extend(role_grants(at(11, 10), 3));
    events
}

/// PagerDuty at the fake; Linear not configured (its rows wait, never
/// sent); the archive in `data/archive`.
fn config(pagerduty: &FakeServer, workflows: WorkflowsConfig) -> Config {
    let mut config = Config::from_toml_str(
        &format!(
            "[pagerduty]\nenabled = true\nevents_base = \"{}\"\n[http]\nmax_retries = 0\n\
             request_timeout = \"2s\"\n[outbox]\nbase_backoff = \"50ms\"\nmax_backoff = \"100ms\"\n",
            pagerduty.url("/v2")
        ),
        "test.toml",
    )
    .unwrap();
    config.workflows = workflows;
    config
}

/// A store with the activity, checked up to 09:00 (bursts, tokens) and
/// 11:00 (baseline), so the first runs cover the activity.
fn store(path: &Path) -> Store {
    let mut store = Store::open(path).unwrap();
    store.insert_events(&activity()).unwrap();
    for (check, covered) in [
        (CheckKind::Baseline, at(11, 0)),
        (CheckKind::Bursts, at(9, 0)),
        (CheckKind::Tokens, at(9, 0)),
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
    store
}

async fn start(config: &Config, data: &Path) -> EngineHandle {
    let resolver = Resolver::new(&env, &NO_KEYCHAIN);
    let sinks = Sinks::from_config(config, &resolver, data).unwrap();
    let mut settings = WorkerSettings::from_config(&config.outbox);
    settings.idle_poll = Duration::from_millis(50);
    Engine::start_with_store(
        store(&data.join("soc-tui.db")),
        Cadences::from(&config.checks),
        parse(None).unwrap().rules,
        EngineOptions {
            workflows: config.workflows,
            settle: Duration::from_secs(30),
            clock: Arc::new(TokioClock::starting_at(t0())),
            intake: Arc::new(NoIntake),
            engine_id: Some("test:1".into()),
            outbox: Some((Arc::new(sinks), settings)),
            ..EngineOptions::default()
        },
    )
    .await
    .unwrap()
}

/// Events until bursts and tokens have each finished or been skipped once.
async fn first_runs(rx: &mut broadcast::Receiver<EngineEvent>) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    let mut done = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while done.len() < 2 {
            let event = rx.recv().await.unwrap();
            if let EngineEvent::CheckFinished { check, .. }
            | EngineEvent::CheckSkipped { check, .. }
            | EngineEvent::CheckFailed { check, .. } = &event
                && matches!(check, CheckKind::Bursts | CheckKind::Tokens)
                && !done.contains(check)
            {
                done.push(*check);
            }
            seen.push(event);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no first runs in 30 s: {seen:#?}"));
    seen
}

async fn outbox(engine: &EngineHandle) -> Vec<OutboxItem> {
    engine
        .store()
        .call(|s| s.outbox_list(&OutboxFilter::default()))
        .await
        .unwrap()
        .unwrap()
}

fn archived_files(data: &Path) -> usize {
    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { walk(&path) } else { 1 }
                })
                .sum()
        })
    }
    walk(&data.join("archive"))
}

fn keys(rows: &[OutboxItem]) -> Vec<(String, OutboxState)> {
    let mut keys: Vec<_> = rows
        .iter()
        .map(|r| (r.dedup_key.clone(), r.state))
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_records_every_request_and_nothing_reaches_a_destination() {
    let dir = tempfile::tempdir().unwrap();
    let pagerduty = FakeServer::serve(|_| reply(202, &[], r#"{"status":"success"}"#)).await;
    // The default: a config without [workflows] is all dry-run.
    let config = config(&pagerduty, WorkflowsConfig::default());
    let mut engine = start(&config, dir.path()).await;
    let mut rx = engine.subscribe();
    let events = first_runs(&mut rx).await;
    let modes: Vec<WorkflowMode> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::CheckFinished { mode, .. } => Some(*mode),
            _ => None,
        })
        .collect();
    assert!(
        modes.iter().all(|m| *m == WorkflowMode::DryRun),
        "{modes:?}"
    );
    // Give the worker time to (not) send anything.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let rows = outbox(&engine).await;
    assert_eq!(
        keys(&rows),
        [
            ("archive:token:tok-1:object".to_owned(), OutboxState::DryRun),
            ("linear:token:tok-1:ticket".to_owned(), OutboxState::DryRun),
            (
                "pagerduty:burst:mallory@example.com:role_grant:2026-11-21T11:10:00Z:trigger"
                    .to_owned(),
                OutboxState::DryRun
            ),
        ]
    );
    assert_eq!(pagerduty.count(), 0, "a request reached PagerDuty");
    assert_eq!(
        archived_files(dir.path()),
        0,
        "an object reached the archive"
    );

    // Each is visible exactly as it would be sent, credentials redacted.
    let sinks = preview_sinks(&config, dir.path()).unwrap();
    let store = Store::open(&dir.path().join("soc-tui.db")).unwrap();
    let pd = rows.iter().find(|r| r.sink == Sink::PagerDuty).unwrap();
    let text = render_item(&store, pd.id, &sinks, &config.s3.prefix)
        .unwrap()
        .unwrap();
    assert!(
        text.contains(&format!("POST {}", pagerduty.url("/v2/enqueue"))),
        "{text}"
    );
    assert!(text.contains("\"event_action\": \"trigger\""), "{text}");
    assert!(!text.contains("routing-key-sentinel"), "{text}");
    let archive = rows.iter().find(|r| r.sink == Sink::Archive).unwrap();
    let text = render_item(&store, archive.id, &sinks, &config.s3.prefix)
        .unwrap()
        .unwrap();
    assert!(
        text.contains("Archive object key: soc-tui/acct/2026/11/21/tok-1.json"),
        "{text}"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_delivers_what_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let pagerduty = FakeServer::serve(|_| reply(202, &[], r#"{"status":"success"}"#)).await;
    let config = config(&pagerduty, WorkflowsConfig::all(WorkflowMode::On));
    let mut engine = start(&config, dir.path()).await;
    let mut rx = engine.subscribe();
    first_runs(&mut rx).await;
    let delivered = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let rows = outbox(&engine).await;
            let done = |sink| {
                rows.iter()
                    .any(|r| r.sink == sink && r.state == OutboxState::Delivered)
            };
            if done(Sink::PagerDuty) && done(Sink::Archive) {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the trigger and the archive object are delivered");
    assert_eq!(pagerduty.count(), 1);
    assert_eq!(
        pagerduty.received()[0].json()["routing_key"],
        "routing-key-sentinel"
    );
    assert_eq!(archived_files(dir.path()), 1);
    let linear = delivered.iter().find(|r| r.sink == Sink::Linear).unwrap();
    assert_eq!(
        linear.state,
        OutboxState::Queued,
        "Linear is not configured: queued, waiting"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_skips_the_check_and_a_switch_elsewhere_counts_from_its_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let pagerduty = FakeServer::serve(|_| reply(202, &[], r#"{"status":"success"}"#)).await;
    let workflows = WorkflowsConfig {
        tokens: WorkflowMode::Off,
        ..WorkflowsConfig::default()
    };
    let config = config(&pagerduty, workflows);
    let mut engine = start(&config, dir.path()).await;
    let mut rx = engine.subscribe();
    let events = first_runs(&mut rx).await;
    let reason = events
        .iter()
        .find_map(|e| match e {
            EngineEvent::CheckSkipped {
                check: CheckKind::Tokens,
                reason,
            } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("tokens not skipped: {events:#?}"));
    assert!(
        reason.starts_with("the tokens workflow is off (workflows.tokens = \"off\" in the config)"),
        "{reason}"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            EngineEvent::CheckStarted {
                check: CheckKind::Tokens,
                ..
            }
        )),
        "an off check does not start"
    );
    let store = engine.store();
    let tokens_run = store
        .call(|s| s.check_run(CheckKind::Tokens))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        tokens_run.covered_until,
        Some(at(9, 0)),
        "coverage stays for a catch-up when it is back on"
    );
    assert!(
        outbox(&engine)
            .await
            .iter()
            .all(|r| !r.dedup_key.contains("token:")),
        "no token request while off"
    );

    // Another process switches tokens on: the next run follows it.
    let mut other = Store::open(&dir.path().join("soc-tui.db")).unwrap();
    ModePolicy::from_config(&config)
        .switch(
            &mut other,
            Workflow::Token,
            Some(WorkflowMode::On),
            "bob",
            Utc::now(),
        )
        .unwrap();
    engine.run_now(CheckKind::Tokens).await;
    let finished = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let EngineEvent::CheckFinished {
                check: CheckKind::Tokens,
                mode,
                windows,
                ..
            } = rx.recv().await.unwrap()
            {
                return (mode, windows);
            }
        }
    })
    .await
    .expect("tokens run after the switch");
    assert_eq!(finished.0, WorkflowMode::On);
    assert_eq!(
        finished.1.first().map(|w| w.start),
        Some(at(9, 0)),
        "caught up from where it stopped"
    );
    let rows = outbox(&engine).await;
    let ticket = rows
        .iter()
        .find(|r| r.dedup_key == "linear:token:tok-1:ticket")
        .expect("the token's ticket");
    assert_eq!(ticket.state, OutboxState::Queued);
    engine.shutdown().await;
}
