//! The Axiom engine against a scripted loopback server: the column-major
//! tabular result read into findings (same findings as the local engine,
//! re-sent rows included), 429 waits from `X-RateLimit-Reset`, ingest
//! batches and partial failures, and Axiom's error messages.

mod common;
#[path = "axiom_behaviour/fixtures.rs"]
mod fixtures;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Span, TimeZone, Utc};
use serde_json::{Value, json};
use soc_tui::config::{AxiomConfig, BaseUrl};
use soc_tui::detect::baseline::axiom::{AxiomEngine, AxiomError, BaselineWindow, MAX_ROWS};
use soc_tui::detect::baseline::{MemoryBaseline, check_hour};
use soc_tui::detect::rules::{Rules, parse};
use soc_tui::detect::{Finding, SinkRequest};
use soc_tui::model::ActionKind;
use soc_tui::secrets::Secret;
use soc_tui::sources::http::{Clock, HttpClient, HttpError, HttpPolicy, Service};

use common::fake_server::{FakeServer, reply};
use common::virtual_clock::VirtualClock;
use fixtures::{
    HOSTILE, History, checked, emulate_baseline_apl, scenario, shipped_rows, tabular_body,
};

const TOKEN: &str = "xaat-behaviour-test-token";

fn rules() -> Rules {
    parse(None).unwrap().rules
}

fn engine(server: &FakeServer, clock: &Arc<VirtualClock>, max_retries: u32) -> AxiomEngine {
    let client = HttpClient::builder(Service::Axiom, server.url("/v1"))
        .policy(HttpPolicy {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_retries,
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(100),
            max_rate_limit_wait: Duration::from_secs(60),
            ..HttpPolicy::default()
        })
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .build()
        .expect("client");
    AxiomEngine::new(
        client,
        "audit-events",
        Secret::new(TOKEN.into()),
        Some("acme-1234"),
    )
    .expect("engine")
}

fn linear_ticket(f: &Finding) -> (&str, &str) {
    match f.requests.as_slice() {
        [
            SinkRequest::LinearTicket {
                title,
                body_markdown,
                ..
            },
        ] => (title, body_markdown),
        other => panic!("expected one Linear ticket, got {other:#?}"),
    }
}

// ------------------------------------------------------------------- tests

#[tokio::test]
async fn axiom_findings_equal_local_findings_even_with_rows_sent_twice() {
    let rules = rules();
    let events = scenario();
    let window = BaselineWindow::new(checked(), rules.baseline.window_days.get());

    // Every event shipped once, the checked hour and 300 older rows twice.
    let mut rows = shipped_rows(&events);
    let again: Vec<Value> = rows.iter().rev().take(300).cloned().collect();
    rows.extend(again);
    let body = tabular_body(emulate_baseline_apl(&rows, &window), false);

    let server = FakeServer::start(vec![reply(
        200,
        &[("content-type", "application/json")],
        &body,
    )])
    .await;
    let clock = VirtualClock::new();
    let axiom = engine(&server, &clock, 0);
    let now = checked() + Span::minutes(65);
    let remote = axiom
        .check_hour(&rules, checked(), now)
        .await
        .expect("axiom check");

    let local = check_hour(
        &MemoryBaseline::from_events(&events),
        &rules,
        checked(),
        now,
    )
    .unwrap();
    assert_eq!(remote, local);
    let flagged: Vec<&str> = remote.iter().map(|f| f.actor.as_str()).collect();
    let hostile_key = HOSTILE.to_lowercase();
    assert_eq!(
        flagged,
        [
            hostile_key.as_str(),
            "newbie@example.com",
            "ops@example.com"
        ]
    );

    // The office worker at night: volume and a new type, with the evidence.
    let ops = &remote[2];
    assert_eq!(
        ops.dedup_key,
        "baseline:ops@example.com:2026-11-21T03:00:00Z"
    );
    assert_eq!(ops.evidence["changes"], 47);
    assert_eq!(ops.evidence["expected"], 3.0);
    assert_eq!(ops.evidence["active_hour_mean"], 2.0);
    assert_eq!(ops.evidence["hour_of_day_median"], 0.0);
    assert_eq!(ops.evidence["new_types"], json!(["waf_rule"]));
    assert_eq!(ops.evidence["event_count"], 47);
    assert_eq!(ops.event_ids.len(), 47);
    assert_eq!(ops.rules, ["baseline.volume", "baseline.new_type"]);
    let (title, body) = linear_ticket(ops);
    assert_eq!(
        title,
        r"Unusual activity by ops\@example\.com at 2026-11-21 03:00 UTC: 47 changes (15.7x), 1 new resource type(s)"
    );
    assert!(body.contains("| Changes this hour | 47 |"), "{body}");

    // Cold start at the absolute threshold.
    assert_eq!(remote[1].evidence["cold_start"], true);
    assert_eq!(
        remote[1].evidence["volume"],
        json!({"kind": "cold_start_threshold", "threshold": 40})
    );

    // The request: one APL query, authenticated, to the tabular endpoint.
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].request_line,
        "POST /v1/datasets/_apl?format=tabular HTTP/1.1"
    );
    assert_eq!(
        received[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(received[0].header("x-axiom-org-id"), Some("acme-1234"));
    assert_eq!(received[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_docs_example_layout_is_read_column_major() {
    let Some(specs) = common::specs_dir() else {
        return;
    };
    // The docs' tabular result, with its table swapped for rows of ours:
    // everything else (status, sources, fieldsMetaMap, ...) as captured.
    let text =
        std::fs::read_to_string(specs.join("axiom/examples/apl_query_tabular.docs-example.json"))
            .expect("docs example");
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let table = &mut doc["tables"][0];
    assert!(
        table["columns"][0].is_array(),
        "the example is column-major"
    );
    table["fields"] = json!(
        [
            "ids",
            "types",
            "changes",
            "first_seen",
            "bucket",
            "actor_key"
        ]
        .map(|n| json!({"name": n, "type": "string"}))
    );
    table["columns"] = json!([
        [["e-9", "e-8"], [], null],
        [["api_token"], ["dns_record"], []],
        [2, 5, 0],
        [
            "2026-11-21T03:10:00Z",
            "2026-11-20T08:00:00Z",
            "2026-10-01T00:00:00Z"
        ],
        [
            "2026-11-21T03:00:00Z",
            "2026-11-20T08:00:00Z",
            "2026-09-22T03:00:00Z"
        ],
        ["amy@example.com", "amy@example.com", "amy@example.com"],
    ]);
    let server = FakeServer::start(vec![reply(200, &[], &doc.to_string())]).await;
    let clock = VirtualClock::new();
    let snapshot = engine(&server, &clock, 0)
        .snapshot(checked(), 30)
        .await
        .expect("snapshot");

    use soc_tui::detect::baseline::BaselineData;
    let w = snapshot.window();
    assert_eq!(
        snapshot.active_actors(checked()).unwrap(),
        ["amy@example.com"]
    );
    let now = snapshot
        .hour_activity("amy@example.com", checked())
        .unwrap();
    assert_eq!(
        (now.changes, now.event_ids.clone()),
        (2, vec!["e-8".to_owned(), "e-9".to_owned()])
    );
    assert_eq!(now.resource_types, BTreeSet::from(["api_token".to_owned()]));
    let history = snapshot
        .hourly_counts("amy@example.com", w.window_start, w.hour_start)
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].changes, 5);
    assert_eq!(
        snapshot.first_seen("amy@example.com").unwrap(),
        Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap())
    );
}

#[tokio::test]
async fn a_429_is_waited_out_until_x_ratelimit_reset() {
    let clock = VirtualClock::new();
    // The virtual clock starts at 1_800_000_000; Axiom asks for 7 s.
    let limited = reply(
        429,
        &[
            ("x-ratelimit-reset", "1800000007"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-limit", "120"),
            ("x-ratelimit-scope", "organization"),
        ],
        r#"{"message":"rate limit exceeded"}"#,
    );
    let empty = tabular_body(vec![Vec::new(); 6], false);
    let server = FakeServer::start(vec![limited, reply(200, &[], &empty)]).await;
    let axiom = engine(&server, &clock, 3);
    let snapshot = axiom
        .snapshot(checked(), 30)
        .await
        .expect("retried after the reset");
    assert_eq!(snapshot.actor_count(), 0);
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
    assert_eq!(server.count(), 2);
    assert_eq!(axiom.client().rate_limit().snapshot().limit, Some(120));
}

#[tokio::test]
async fn a_429_longer_than_the_policy_waits_is_handed_back_with_axioms_words() {
    let clock = VirtualClock::new();
    let server = FakeServer::start(vec![reply(
        429,
        &[("x-ratelimit-reset", "1800003600")],
        r#"{"message":"rate limit exceeded"}"#,
    )])
    .await;
    let error = engine(&server, &clock, 3)
        .snapshot(checked(), 30)
        .await
        .expect_err("an hour's wait is the scheduler's business");
    assert_eq!(
        error.to_string(),
        "axiom POST /v1/datasets/_apl: rate limited; the service asks to wait 3600s (until 09:00:00 UTC): rate limit exceeded"
    );
    assert!(error.is_transient());
    assert_eq!(
        error.http().and_then(HttpError::retry_after),
        Some(Duration::from_secs(3600))
    );
    assert!(clock.sleeps().is_empty());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn forbidden_names_axiom_the_endpoint_the_status_and_the_message() {
    let clock = VirtualClock::new();
    let server = FakeServer::start(vec![reply(
        403,
        &[],
        r#"{"code":403,"message":"Forbidden"}"#,
    )])
    .await;
    let error = engine(&server, &clock, 3)
        .snapshot(checked(), 30)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom POST /v1/datasets/_apl: HTTP 403 Forbidden: Forbidden (code 403)"
    );
    assert!(!error.is_transient());
    assert_eq!(server.count(), 1, "a 403 is not retried");
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn partial_and_truncated_results_are_refused() {
    let clock = VirtualClock::new();
    let partial = tabular_body(vec![Vec::new(); 6], true);
    let server = FakeServer::start(vec![reply(200, &[], &partial)]).await;
    let error = engine(&server, &clock, 0)
        .snapshot(checked(), 30)
        .await
        .unwrap_err();
    assert!(matches!(error, AxiomError::PartialResult { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("axiom POST /v1/datasets/_apl: Axiom returned a partial result"),
        "{error}"
    );

    let row = [
        json!("a"),
        json!("2026-09-22T03:00:00Z"),
        json!("2026-09-22T03:00:00Z"),
        json!(0),
        json!([]),
        json!([]),
    ];
    let columns: Vec<Vec<Value>> = row
        .iter()
        .map(|cell| vec![cell.clone(); MAX_ROWS])
        .collect();
    let server = FakeServer::start(vec![reply(200, &[], &tabular_body(columns, false))]).await;
    let error = engine(&server, &clock, 0)
        .snapshot(checked(), 30)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AxiomError::Truncated { rows: MAX_ROWS, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("returned 50000 rows, its cap"),
        "{error}"
    );

    let server = FakeServer::start(vec![reply(
        200,
        &[],
        r#"{"format":"tabular","status":{},"tables":[]}"#,
    )])
    .await;
    let error = engine(&server, &clock, 0)
        .snapshot(checked(), 30)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom POST /v1/datasets/_apl: unexpected response: the result has no table"
    );
}

#[tokio::test]
async fn ingest_partial_failures_are_reported_with_counts_and_reasons() {
    let clock = VirtualClock::new();
    let status = json!({
        "ingested": 1, "failed": 2, "processedBytes": 640, "blocksCreated": 0, "walLength": 1,
        "failures": [
            {"timestamp": "2026-11-21T03:01:00Z", "error": "field 'is_change' changed type from bool to string"},
            {"timestamp": "2026-11-21T03:02:00Z", "error": "event too large"}
        ]
    });
    let server = FakeServer::start(vec![reply(200, &[], &status.to_string())]).await;
    let mut h = History::new();
    h.add(
        "ops@example.com",
        checked(),
        3,
        ActionKind::Update,
        "dns_record",
    );
    let error = engine(&server, &clock, 0)
        .ingest_hour(&h.events)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom POST /v1/datasets/audit-events/ingest: 1 of 3 events ingested into dataset audit-events; 2 failed \
         (first failures: event at 2026-11-21T03:01:00Z: field 'is_change' changed type from bool to string; \
         event at 2026-11-21T03:02:00Z: event too large); re-sending the hour is safe: the baseline query counts each event once"
    );
    let AxiomError::PartialIngest { report, .. } = &error else {
        panic!("expected a partial ingest, got {error:?}");
    };
    assert_eq!(
        (
            report.sent,
            report.ingested,
            report.failed,
            report.processed_bytes
        ),
        (3, 1, 2, 640)
    );
    assert_eq!(report.failures.len(), 2);
    assert!(error.is_transient());
    let received = server.received();
    assert_eq!(
        received[0].request_line,
        "POST /v1/datasets/audit-events/ingest?timestamp-field=_time HTTP/1.1"
    );
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(
        received[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn ingest_is_batched_and_a_failed_batch_says_what_already_landed() {
    let clock = VirtualClock::new();
    let ok = |n: u32| {
        reply(
            200,
            &[],
            &json!({"ingested": n, "failed": 0, "failures": [], "processedBytes": n * 200})
                .to_string(),
        )
    };
    let mut h = History::new();
    h.add(
        "ops@example.com",
        checked(),
        2500,
        ActionKind::Update,
        "dns_record",
    );

    let server = FakeServer::start(vec![ok(1000), ok(1000), ok(500)]).await;
    let report = engine(&server, &clock, 0)
        .ingest_hour(&h.events)
        .await
        .expect("three batches");
    assert_eq!(
        (report.sent, report.ingested, report.requests),
        (2500, 2500, 3)
    );
    assert_eq!(report.processed_bytes, 500_000);
    assert_eq!(
        report.to_string(),
        "2500 of 2500 events ingested into dataset audit-events"
    );
    assert_eq!(server.count(), 3);

    let server = FakeServer::start(vec![
        ok(1000),
        ok(1000),
        reply(503, &[], r#"{"message":"ingest unavailable"}"#),
    ])
    .await;
    let error = engine(&server, &clock, 0)
        .ingest_hour(&h.events)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom POST /v1/datasets/audit-events/ingest: HTTP 503 Service Unavailable: ingest unavailable \
         (batch 3 of 3; 2000 of 2500 events were ingested before it; re-sending the hour is safe: the baseline query counts each event once)"
    );
    assert!(error.is_transient());

    let server = FakeServer::start(vec![]).await;
    let report = engine(&server, &clock, 0)
        .ingest_hour(&[])
        .await
        .expect("nothing to send");
    assert_eq!((report.sent, report.requests), (0, 0));
    assert_eq!(server.count(), 0, "no request for an empty hour");
}

#[tokio::test]
async fn engine_setup_refuses_bad_names_and_other_services_clients() {
    let server = FakeServer::start(vec![]).await;
    let token = || Secret::new(TOKEN.into());
    let client = |service| {
        HttpClient::builder(service, server.url("/v1"))
            .build()
            .unwrap()
    };
    let error =
        AxiomEngine::new(client(Service::Axiom), "audit'] | delete", token(), None).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("axiom: dataset name \"audit'] | delete\" is not usable"),
        "{error}"
    );
    let error = AxiomEngine::new(
        client(Service::Axiom),
        "audit",
        token(),
        Some("acme\r\nx: y"),
    )
    .unwrap_err();
    assert!(matches!(error, AxiomError::InvalidOrgId { .. }), "{error}");
    let error = AxiomEngine::new(client(Service::Datadog), "audit", token(), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom: the HTTP client given is set up for datadog, not axiom"
    );
    let engine = AxiomEngine::new(client(Service::Axiom), "audit", token(), None).unwrap();
    assert!(!format!("{engine:?}").contains(TOKEN));
    assert_eq!(
        soc_tui::detect::baseline::axiom::api_root("https://api.axiom.co"),
        "https://api.axiom.co/v1"
    );
    assert_eq!(
        soc_tui::detect::baseline::axiom::api_root("https://api.axiom.co/v1/"),
        "https://api.axiom.co/v1"
    );
}

#[tokio::test]
async fn from_config_talks_to_the_v1_root_of_api_base() {
    let empty = tabular_body(vec![Vec::new(); 6], false);
    let server = FakeServer::start(vec![reply(200, &[], &empty)]).await;
    let mut config = AxiomConfig {
        enabled: true,
        api_base: BaseUrl::try_from(server.base()).unwrap(),
        dataset: None,
        org_id: None,
    };
    let token = || Secret::new(TOKEN.into());
    let error =
        AxiomEngine::from_config(&config, HttpPolicy::default(), None, token()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "axiom: no dataset is configured; set `dataset` in [axiom]"
    );
    config.dataset = Some("audit".into());
    let axiom = AxiomEngine::from_config(&config, HttpPolicy::default(), None, token()).unwrap();
    assert_eq!(axiom.dataset(), "audit");
    axiom.snapshot(checked(), 30).await.expect("empty snapshot");
    let received = server.received();
    assert_eq!(
        received[0].request_line,
        "POST /v1/datasets/_apl?format=tabular HTTP/1.1"
    );
    assert_eq!(received[0].header("x-axiom-org-id"), None);
}
