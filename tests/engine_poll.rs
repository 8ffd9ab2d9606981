//! The engine with the poll intake against a fake Cloudflare audit API on
//! loopback: the tokens check polls first, the poller stores the events and
//! the created token's scope, and the check assesses the token with that
//! scope; windows end where the polled data is complete. A failing poll
//! fails the check without moving its coverage.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::json;
use soc_tui::config::CloudflareApiVersion;
use soc_tui::engine::{Cadences, CheckKind, Engine, EngineEvent, EngineOptions, PollIntake};
use soc_tui::secrets::Secret;
use soc_tui::sources::cloudflare::client::CloudflareClient;
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};
use soc_tui::sources::poll::{CloudflarePoller, CloudflareSettings, WindowPolicy};
use soc_tui::store::Store;
use tokio::sync::broadcast;

use common::audit_fake::{AuditFake, CF_TOKEN, FakeEvent, Fault, Kind, spread};

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";

fn poller(fake: &AuditFake) -> CloudflarePoller {
    let http = HttpClient::builder(Service::Cloudflare, fake.base())
        .policy(HttpPolicy {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(20),
            max_retries: 0,
            ..HttpPolicy::default()
        })
        .build()
        .unwrap();
    let settings = CloudflareSettings {
        accounts: vec![ACCOUNT.into()],
        version: CloudflareApiVersion::V2,
        v1_fallback: false,
        window: WindowPolicy {
            overlap: TimeDelta::minutes(5),
            settle_delay: TimeDelta::minutes(1),
            initial_lookback: TimeDelta::hours(1),
        },
        token_rules: soc_tui::detect::rules::parse(None).unwrap().rules,
    };
    CloudflarePoller::new(
        CloudflareClient::new(http, Secret::new(CF_TOKEN.into())),
        settings,
    )
}

fn hourly() -> Cadences {
    let hour = Duration::from_secs(3600);
    Cadences {
        baseline: hour,
        bursts: hour,
        tokens: hour,
    }
}

/// Events until the first run of `check` ends.
async fn until_run(
    rx: &mut broadcast::Receiver<EngineEvent>,
    check: CheckKind,
) -> Vec<EngineEvent> {
    let mut events = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let event = rx.recv().await.unwrap();
            let done = matches!(&event,
                EngineEvent::CheckFinished { check: c, .. } | EngineEvent::CheckFailed { check: c, .. }
                if *c == check);
            events.push(event);
            if done {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {check} run within 60 s: {events:#?}"));
    events
}

#[tokio::test]
async fn tokens_check_polls_first_and_uses_the_fetched_scope() {
    let now = Utc::now();
    let mut events = spread(
        "e",
        20,
        now - TimeDelta::minutes(50),
        now - TimeDelta::minutes(5),
    );
    events.push(FakeEvent {
        id: "tok-broad".into(),
        time: now - TimeDelta::minutes(20),
        actor: "mallory@example.com".into(),
        kind: Kind::TokenCreate {
            token_id: "t-broad".into(),
            uri: format!("/client/v4/accounts/{ACCOUNT}/tokens"),
        },
    });
    let fake = AuditFake::start(events).await;
    fake.token(
        Some(ACCOUNT),
        "t-broad",
        json!([{"id": "p1", "effect": "allow",
            "permission_groups": [{"id": "g1", "name": "Zone Write", "meta": {}}],
            "resources": {"com.cloudflare.api.account.zone.*": "*"}}]),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let intake = PollIntake::new(&path, Some(poller(&fake)), None).unwrap();
    let options = EngineOptions {
        intake: Arc::new(intake),
        engine_id: Some("poll-test:1:a".into()),
        ..EngineOptions::default()
    };
    let rules = soc_tui::detect::rules::parse(None).unwrap().rules;
    let mut engine =
        Engine::start_with_store(Store::open(&path).unwrap(), hourly(), rules, options)
            .await
            .unwrap();
    let mut rx = engine.subscribe();
    let events = until_run(&mut rx, CheckKind::Tokens).await;
    let windows = events
        .iter()
        .find_map(|e| match e {
            EngineEvent::CheckFinished {
                check: CheckKind::Tokens,
                windows,
                ..
            } => Some(windows.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{events:#?}"));
    // The data is complete up to the poller's checkpoint (now - settle_delay),
    // which is earlier than the engine's own settle horizon here.
    let store = engine.store();
    let checkpoint = store
        .call(|s| s.checkpoint(&CloudflarePoller::checkpoint_key(ACCOUNT)))
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .position;
    assert_eq!(windows.last().unwrap().end, checkpoint);
    assert!(checkpoint <= Utc::now() - TimeDelta::minutes(1));

    let finding = store
        .call(|s| s.finding("token:tok-broad"))
        .await
        .unwrap()
        .unwrap()
        .expect("the token finding");
    assert_eq!(
        finding.rules,
        ["token.broad", "token.write", "token.unapproved_issuer"],
        "assessed with the scope the poller fetched"
    );
    assert_eq!(store.call(|s| s.event_count()).await.unwrap().unwrap(), 21);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_failed_poll_fails_the_check_and_keeps_its_coverage() {
    let now = Utc::now();
    let fake = AuditFake::start(spread(
        "e",
        5,
        now - TimeDelta::minutes(30),
        now - TimeDelta::minutes(5),
    ))
    .await;
    fake.fault_at(0, Fault::Status(403));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let intake = PollIntake::new(&path, Some(poller(&fake)), None).unwrap();
    let options = EngineOptions {
        intake: Arc::new(intake),
        engine_id: Some("poll-test:1:b".into()),
        ..EngineOptions::default()
    };
    let rules = soc_tui::detect::rules::parse(None).unwrap().rules;
    let mut engine =
        Engine::start_with_store(Store::open(&path).unwrap(), hourly(), rules, options)
            .await
            .unwrap();
    let mut rx = engine.subscribe();
    let events = until_run(&mut rx, CheckKind::Tokens).await;
    let error = events
        .iter()
        .find_map(|e| match e {
            EngineEvent::CheckFailed {
                check: CheckKind::Tokens,
                error,
                ..
            } => Some(error.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert!(error.contains("intake: cloudflare poll failed"), "{error}");
    assert!(error.contains("403"), "{error}");
    let run = engine
        .store()
        .call(|s| s.check_run(CheckKind::Tokens))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(run.covered_until, None);
    assert_eq!(run.failures, 1);
    engine.shutdown().await;
}
