//! `DemoEnvironment` end to end: start-up (timed), the pre-filled store,
//! the config and credentials it hands soc-tui, and the scripted scenario
//! at speed 100 producing the expected events in the simulators, in order,
//! ending with a correctly signed webhook.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use soc_tui::demo::{
    DemoEnvironment, Speed, StepKind, WEBHOOK_DELIVERY_HEADER, WEBHOOK_SIGNATURE_HEADER,
    sign_webhook,
};
use soc_tui::secrets::Credential;
use soc_tui::sources::raw::parse_entry;
use soc_tui::store::Store;

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// Each test starts full demo environments (120,000 events each): one at a
/// time, so they do not starve each other on small machines and the start-up
/// time printed is the real one.
static ONE_DEMO_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A stand-in for soc-tui's webhook receiver: records and answers 202.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/webhook/anomaly",
            post(
                |State(log): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    log.lock().unwrap().push((headers, body));
                    StatusCode::ACCEPTED
                },
            ),
        )
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook/anomaly", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_and_the_attack_unfolds_in_order() {
    let _turn = ONE_DEMO_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let demo = DemoEnvironment::start(7, Speed::new(100.0).unwrap(), dir.path())
        .await
        .unwrap();
    eprintln!(
        "DemoEnvironment::start: {:?} (pre-fill {} events in {:?}, {:?} of it in store writes; {} also in the simulators)",
        demo.startup,
        demo.prefill.events,
        demo.prefill.elapsed,
        demo.prefill.store_write,
        demo.prefill.in_simulators
    );

    // 30 days x ~200 actors x 20 events a day, all in the store.
    assert!(
        (110_000..130_000).contains(&demo.prefill.events),
        "{:?}",
        demo.prefill
    );
    let store = Store::open(&demo.store_path).unwrap();
    assert_eq!(store.event_count().unwrap(), demo.prefill.events);
    assert!(demo.prefill.in_simulators > 2_000, "{:?}", demo.prefill);

    // The config points every service at the simulators.
    let c = &demo.config;
    assert_eq!(c.cloudflare.api_base.as_str(), demo.cloudflare_url);
    assert_eq!(c.cloudflare.account_ids[0].as_str(), demo.account_id);
    assert_eq!(c.datadog.resolved_api_base().as_str(), demo.datadog_url);
    assert_eq!(
        c.confluence.base_url.as_ref().unwrap().as_str(),
        demo.confluence_url
    );
    assert_eq!(c.linear.api_url.as_str(), demo.linear_url);
    assert_eq!(
        c.linear.team_id.as_deref(),
        Some(demo.sims.linear.team_id())
    );
    assert!(c.pagerduty.enabled);
    assert_eq!(c.pagerduty.events_base.as_str(), demo.pagerduty_url);
    assert!(c.checks.bursts_cadence.get() <= Duration::from_millis(250));
    for url in [
        &demo.cloudflare_url,
        &demo.datadog_url,
        &demo.confluence_url,
        &demo.linear_url,
        &demo.pagerduty_url,
    ] {
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    }

    // Its credentials are the ones the simulators accept, and nothing comes from a keychain.
    let resolver = demo.resolver();
    let (token, origin) = resolver.require(Credential::CloudflareToken).unwrap();
    assert_eq!(origin.to_string(), "env SOC_TUI_CLOUDFLARE_TOKEN");
    assert!(resolver.resolve(Credential::LlmApiKey).unwrap().is_none());
    let debug = format!("{demo:?}");
    assert!(
        !debug.contains(token.expose()),
        "credentials leak into Debug: {debug}"
    );

    // The scenario, with the webhook aimed at a receiver.
    let (url, received) = receiver().await;
    demo.send_webhook_to(&url);
    let t0 = Utc::now();
    let started = Instant::now();
    assert!(demo.scenario.start());
    assert!(!demo.scenario.start(), "a second start does nothing");
    tokio::time::timeout(Duration::from_secs(30), demo.scenario.finished())
        .await
        .expect("the scenario finished");
    let took = started.elapsed();
    eprintln!("scenario at speed 100: {took:?}");
    assert!(
        took >= Duration::from_millis(440) && took < Duration::from_secs(5),
        "{took:?}"
    );

    let log = demo.scenario.log();
    let kinds: Vec<StepKind> = log.iter().map(|s| s.kind).collect();
    let mut expected = vec![StepKind::BenignBurst; 5];
    expected.push(StepKind::BroadToken);
    expected.extend([StepKind::AttackBurst; 7]);
    expected.push(StepKind::Webhook);
    assert_eq!(kinds, expected);
    assert!(
        log.windows(2)
            .all(|w| w[0].at <= w[1].at && w[0].script_at <= w[1].script_at)
    );
    for step in &log[..13] {
        assert_eq!(step.outcome, "appended", "{step:?}");
    }
    assert_eq!(log[13].outcome, "delivered: HTTP 202");

    let http = http();
    let attacker = &demo.cast.attacker;
    let on_call = &demo.cast.on_call;

    // Cloudflare: one live entry, the broad token, by the attacker from a new IP.
    let r = http
        .get(format!(
            "{}/accounts/{}/logs/audit",
            demo.cloudflare_url, demo.account_id
        ))
        .bearer_auth(token.expose())
        .query(&[
            ("since", rfc3339(t0 - chrono::Duration::seconds(1))),
            ("before", rfc3339(Utc::now())),
            ("direction", "asc".into()),
        ])
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    let live: Vec<&Value> = page["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"].as_str() == log[5].entry_id.as_deref())
        .collect();
    assert_eq!(live.len(), 1, "{page}");
    let entry = live[0];
    assert_eq!(entry["actor"]["email"], attacker.email.as_str());
    let ip = entry["actor"]["ip_address"].as_str().unwrap();
    assert!(
        ip.starts_with("185.220.101.") && !attacker.ips.iter().any(|i| i == ip),
        "{ip}"
    );
    assert_eq!(entry["resource"]["product"], "api_tokens");
    let time = DateTime::parse_from_rfc3339(entry["action"]["time"].as_str().unwrap()).unwrap();
    assert!(
        time >= t0 - chrono::Duration::seconds(1),
        "{time} is not live"
    );
    let event = parse_entry(&entry.to_string()).unwrap();
    assert_eq!(event.actor_key(), attacker.actor_key());

    // Its details: every zone, with Write groups.
    let token_id = entry["resource"]["id"].as_str().unwrap();
    let r = http
        .get(format!(
            "{}/accounts/{}/tokens/{token_id}",
            demo.cloudflare_url, demo.account_id
        ))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    let details: Value = r.json().await.unwrap();
    let policies = details["result"]["policies"].as_array().unwrap();
    assert!(
        policies.iter().any(|p| p["resources"]
            .get("com.cloudflare.api.account.zone.*")
            .is_some()),
        "{details}"
    );
    assert!(
        policies
            .iter()
            .flat_map(|p| p["permission_groups"].as_array().unwrap())
            .any(|g| g["name"].as_str().unwrap().ends_with("Write")),
        "{details}"
    );

    // Datadog: the benign burst from the admin's usual IP, then the attacker's from the new one.
    let (api, app) = (
        resolver.require(Credential::DatadogApiKey).unwrap().0,
        resolver.require(Credential::DatadogAppKey).unwrap().0,
    );
    let r = http
        .get(format!("{}/api/v2/audit/events", demo.datadog_url))
        .header("DD-API-KEY", api.expose())
        .header("DD-APPLICATION-KEY", app.expose())
        .query(&[
            ("filter[from]", rfc3339(t0 - chrono::Duration::seconds(1))),
            ("filter[to]", rfc3339(Utc::now())),
            ("sort", "timestamp".into()),
            ("page[limit]", "1000".into()),
        ])
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    let live_ids: Vec<&str> = log
        .iter()
        .filter(|s| matches!(s.kind, StepKind::BenignBurst | StepKind::AttackBurst))
        .filter_map(|s| s.entry_id.as_deref())
        .collect();
    let events: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| live_ids.contains(&e["id"].as_str().unwrap()))
        .collect();
    let order: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        order, live_ids,
        "the simulator serves the live events in the order they happened"
    );
    let count = |who: &str, action: &str, asset: &str| {
        events
            .iter()
            .filter(|e| {
                let a = &e["attributes"]["attributes"];
                a["usr"]["email"] == who && a["action"] == action && a["asset"]["type"] == asset
            })
            .count()
    };
    assert_eq!(
        (
            count(&on_call.email, "modified", "role"),
            count(&on_call.email, "deleted", "monitor")
        ),
        (3, 2)
    );
    assert_eq!(
        (
            count(&attacker.email, "modified", "role"),
            count(&attacker.email, "deleted", "monitor")
        ),
        (4, 3)
    );
    for e in &events {
        let a = &e["attributes"]["attributes"];
        let from = a["network"]["client"]["ip"].as_str().unwrap();
        if a["usr"]["email"] == attacker.email.as_str() {
            assert_eq!(from, ip);
        } else {
            assert!(
                on_call.ips.iter().any(|i| i == from),
                "{from} is not one of {:?}",
                on_call.ips
            );
        }
        parse_entry(&e.to_string()).unwrap();
    }

    // The webhook: signed over "<t>.<body>" with the demo secret, naming the attacker.
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let signature = headers[WEBHOOK_SIGNATURE_HEADER].to_str().unwrap();
    let timestamp: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((timestamp - Utc::now().timestamp()).abs() < 60);
    let secret = demo.webhook_secret().unwrap();
    assert_eq!(
        signature,
        sign_webhook(secret.expose().as_bytes(), timestamp, body)
    );
    assert!(
        headers[WEBHOOK_DELIVERY_HEADER]
            .to_str()
            .unwrap()
            .starts_with("demo-")
    );
    let alert: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(alert["actor"], attacker.email.as_str());
    assert!(alert["action"].is_string());
    DateTime::parse_from_rfc3339(alert["timestamp"].as_str().unwrap()).unwrap();
    assert_eq!(alert["details"]["ip"], ip);
    let evidence: Vec<&str> = alert["details"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(evidence.len(), 8);
    assert_eq!(evidence[0], token_id_entry(&log));
}

/// soc-tui's own pollers, built from the demo config and credentials, read
/// the live events from the simulators into the demo store, and enrich the
/// token creation with its scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_pollers_read_the_attack_from_the_simulators() {
    let _turn = ONE_DEMO_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let demo = DemoEnvironment::start(5, Speed::new(1000.0).unwrap(), dir.path())
        .await
        .unwrap();
    let (url, _received) = receiver().await;
    demo.send_webhook_to(url);
    demo.scenario.start();
    tokio::time::timeout(Duration::from_secs(30), demo.scenario.finished())
        .await
        .unwrap();

    let overlay = demo.cast.rules_overlay();
    let rules = soc_tui::detect::rules::parse(Some(("demo-rules.toml", &overlay)))
        .unwrap()
        .rules;
    let resolver = demo.resolver();
    let cloudflare = soc_tui::sources::poll::cloudflare_poller(&demo.config, rules, || {
        resolver
            .require(Credential::CloudflareToken)
            .map(|(s, _)| s)
    })
    .unwrap();
    let datadog = soc_tui::sources::poll::datadog_poller(&demo.config, || {
        Ok((
            resolver.require(Credential::DatadogApiKey)?.0,
            resolver.require(Credential::DatadogAppKey)?.0,
        ))
    })
    .unwrap();
    // Cloudflare times are whole seconds and a window's end is exclusive:
    // an entry from this very second is read by the next poll. Be that poll.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut store = Store::open(&demo.store_path).unwrap();
    let options = soc_tui::sources::poll::PollOptions::at(Utc::now());
    let cf = cloudflare.poll(&mut store, &options).await;
    let dd = datadog.poll(&mut store, &options).await;
    for report in [&cf, &dd] {
        assert!(!report.failed(), "{report:?}");
        let target = &report.targets[0];
        assert_eq!(target.rejected, 0, "{target:?}");
        assert!(target.new >= 1, "{target:?}");
    }
    assert_eq!(
        dd.targets[0].new, 12,
        "the live Datadog events are new; the history already stored"
    );
    assert_eq!(cf.targets[0].new, 1, "{:?}", cf.targets[0]);
    // The entry carries its policies, so no lookup was needed and none failed.
    assert_eq!(cf.targets[0].token_scopes.unknown, 0, "{:?}", cf.targets[0]);

    let attacker = demo.cast.attacker.actor_key();
    let stored = store
        .events_for_actor(
            &attacker,
            Utc::now() - chrono::Duration::minutes(5),
            Utc::now(),
            1000,
        )
        .unwrap();
    let token_event = token_id_entry(&demo.scenario.log()).to_owned();
    let minted = stored
        .iter()
        .find(|e| e.id == token_event)
        .expect("the token creation is stored");
    assert!(
        minted.raw.contains("com.cloudflare.api.account.zone.*"),
        "{}",
        minted.raw
    );
    assert_eq!(stored.len(), 8, "the token and seven Datadog changes");

    // The token details endpoint answers the real client (the lookup the
    // poller makes for entries without policies, such as v1's).
    let token_id = serde_json::from_str::<Value>(&minted.raw).unwrap()["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let details = cloudflare
        .client()
        .token(
            soc_tui::sources::cloudflare::client::TokenOwner::Account(&demo.account_id),
            &token_id,
        )
        .await
        .unwrap();
    let policies = serde_json::to_string(&details.policies).unwrap();
    assert!(
        policies.contains("com.cloudflare.api.account.zone.*") && policies.contains("Zone Write"),
        "{policies}"
    );
    assert_eq!(details.status.as_deref(), Some("active"));
}

fn token_id_entry(log: &[soc_tui::demo::StepRecord]) -> &str {
    log.iter()
        .find(|s| s.kind == StepKind::BroadToken)
        .and_then(|s| s.entry_id.as_deref())
        .unwrap()
}

#[tokio::test]
async fn the_webhook_waits_for_its_target_and_the_same_seed_gives_the_same_cast() {
    let _turn = ONE_DEMO_AT_A_TIME.lock().await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let speed = Speed::new(1000.0).unwrap();
    let first = DemoEnvironment::start(11, speed, a.path()).await.unwrap();
    let second = DemoEnvironment::start(11, speed, b.path()).await.unwrap();
    assert_eq!(first.account_id, second.account_id);
    assert_eq!(first.prefill.events, second.prefill.events);
    assert_eq!(first.cast.attacker.email, second.cast.attacker.email);
    assert_ne!(
        first
            .resolver()
            .require(Credential::CloudflareToken)
            .unwrap()
            .0
            .expose(),
        second
            .resolver()
            .require(Credential::CloudflareToken)
            .unwrap()
            .0
            .expose(),
        "credentials are fresh per run"
    );
    first.scenario.start();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Every event is in; the webhook waits for a receiver.
    assert_eq!(first.scenario.log().len(), 13);
    assert!(!first.scenario.is_finished());
    let (url, received) = receiver().await;
    first.send_webhook_to(url);
    tokio::time::timeout(Duration::from_secs(10), first.scenario.finished())
        .await
        .unwrap();
    assert_eq!(received.lock().unwrap().len(), 1);
}
