//! The scheduler's baseline on the Axiom engine, against a loopback Axiom
//! (here: the shared fake does not keep bodies) that keeps what is ingested and answers the baseline query by emulating
//! `baseline.apl` over it (`axiom_behaviour/fixtures.rs`): the first run
//! ships the query's whole lookback from the store, later runs ship only
//! what is new plus the re-send margin, and the findings are the ones the
//! local engine raises on the same store.

#[path = "axiom_behaviour/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::Value;
use soc_tui::detect::baseline::axiom::{AplQuery, AxiomEngine, BaselineWindow};
use soc_tui::detect::baseline::check_hour;
use soc_tui::detect::rules::parse;
use soc_tui::engine::{
    BaselineSource, Cadences, CheckKind, Engine, EngineEvent, EngineOptions, RESHIP_MARGIN,
    TokioClock, shipped_key,
};
use soc_tui::secrets::Secret;
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};
use soc_tui::store::Store;

use fixtures::{checked, emulate_baseline_apl, scenario, tabular_body};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Rows ingested so far, and how many each ingest request carried.
#[derive(Default)]
struct Dataset {
    rows: Vec<Value>,
    ingests: Vec<usize>,
}

/// The answer to one request (path, JSON body).
fn answer(data: &mut Dataset, path: &str, body: Value) -> String {
    if path.ends_with("/ingest") {
        let rows = body.as_array().cloned().unwrap_or_default();
        data.ingests.push(rows.len());
        let n = rows.len();
        data.rows.extend(rows);
        return format!(
            r#"{{"ingested":{n},"failed":0,"failures":[],"processedBytes":1,"blocksCreated":0,"walLength":0}}"#
        );
    }
    let query: AplQuery = AplQuery {
        apl: body["apl"].as_str().unwrap().to_string(),
        start_time: body["startTime"].as_str().unwrap().to_string(),
        end_time: body["endTime"].as_str().unwrap().to_string(),
    };
    let hour_end: DateTime<Utc> = query.end_time.parse().unwrap();
    let window = BaselineWindow::new(hour_end - Span::hours(1), 30);
    tabular_body(emulate_baseline_apl(&data.rows, &window), false)
}

/// A loopback Axiom that keeps what it is sent. The shared `FakeServer`
/// does not keep request bodies, which this one needs.
async fn fake_axiom() -> (String, Arc<Mutex<Dataset>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let dataset = Arc::new(Mutex::new(Dataset::default()));
    let state = Arc::clone(&dataset);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let Some((path, body)) = read_request(&mut stream).await else {
                    return;
                };
                let reply = answer(&mut state.lock().unwrap(), &path, body);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, dataset)
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Value)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1)?.split('?').next()?.to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((path, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

fn axiom(base: &str) -> AxiomEngine {
    let client = HttpClient::builder(Service::Axiom, base)
        .policy(HttpPolicy {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            max_retries: 0,
            ..HttpPolicy::default()
        })
        .build()
        .unwrap();
    AxiomEngine::new(
        client,
        "audit-events",
        Secret::new("xaat-test".into()),
        None,
    )
    .unwrap()
}

async fn next_baseline_run(rx: &mut tokio::sync::broadcast::Receiver<EngineEvent>) -> EngineEvent {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let event = rx.recv().await.unwrap();
            if matches!(
                event,
                EngineEvent::CheckFinished {
                    check: CheckKind::Baseline,
                    ..
                } | EngineEvent::CheckFailed {
                    check: CheckKind::Baseline,
                    ..
                }
            ) {
                return event;
            }
        }
    })
    .await
    .expect("a baseline run within 60 s")
}

#[tokio::test]
async fn the_scheduler_ships_then_checks_on_axiom_and_records_the_local_findings() {
    let events = scenario();
    let hour = checked();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap();
    store.insert_events(&events).unwrap();
    let rules = parse(None).unwrap().rules;
    let local = check_hour(&store.baseline_data().unwrap(), &rules, hour, hour).unwrap();
    assert!(!local.is_empty(), "the scenario flags someone");

    let (base, dataset) = fake_axiom().await;
    let engine = Arc::new(axiom(&base));
    let key = shipped_key(&engine);
    // "Now" is 20 minutes into the next hour, so the checked hour is due.
    let options = EngineOptions {
        clock: Arc::new(TokioClock::starting_at(hour + Span::minutes(80))),
        baseline: BaselineSource::Axiom(Arc::clone(&engine)),
        engine_id: Some("axiom-test:1:a".into()),
        ..EngineOptions::default()
    };
    let hourly = Cadences {
        baseline: Duration::from_secs(3600),
        bursts: Duration::from_secs(3600),
        tokens: Duration::from_secs(3600),
    };
    let mut handle = Engine::start_with_store(store, hourly, rules, options)
        .await
        .unwrap();
    let mut rx = handle.subscribe();
    match next_baseline_run(&mut rx).await {
        EngineEvent::CheckFinished {
            windows, findings, ..
        } => {
            assert_eq!(windows.len(), 1);
            assert_eq!(windows[0].start, hour);
            assert_eq!(findings.new as usize, local.len());
        }
        failed => panic!("{failed:?}"),
    }
    // Everything the query reads was shipped: events in [hour - 60 days, hour end).
    let lookback = hour - Span::days(60);
    let expected_rows = events
        .iter()
        .filter(|e| e.time >= lookback && e.time < hour + Span::hours(1))
        .count();
    assert_eq!(dataset.lock().unwrap().rows.len(), expected_rows);
    let store = handle.store();
    let shipped = {
        let key = key.clone();
        store
            .call(move |s| s.checkpoint(&key))
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    assert_eq!(shipped.position, hour + Span::hours(1));
    for finding in &local {
        let key = finding.dedup_key.clone();
        let stored = store.call(move |s| s.finding(&key)).await.unwrap().unwrap();
        let stored = stored.unwrap_or_else(|| panic!("{} not recorded", finding.dedup_key));
        assert_eq!(stored.rules, finding.rules);
        assert_eq!(stored.evidence, finding.evidence);
    }

    handle.shutdown().await;

    // An hour later (a new engine on the same store): only what is new since
    // the shipped checkpoint is sent, plus the re-send margin before it, and
    // the re-sent rows change nothing in the figures.
    let before = dataset.lock().unwrap().rows.len();
    let next = hour + Span::hours(1);
    let options = EngineOptions {
        clock: Arc::new(TokioClock::starting_at(next + Span::minutes(80))),
        baseline: BaselineSource::Axiom(Arc::clone(&engine)),
        engine_id: Some("axiom-test:1:b".into()),
        ..EngineOptions::default()
    };
    let mut store = Store::open(&path).unwrap();
    let local_next = check_hour(
        &store.baseline_data().unwrap(),
        &parse(None).unwrap().rules,
        next,
        next,
    )
    .unwrap();
    let mut handle = Engine::start_with_store(store, hourly, parse(None).unwrap().rules, options)
        .await
        .unwrap();
    let mut rx = handle.subscribe();
    match next_baseline_run(&mut rx).await {
        EngineEvent::CheckFinished {
            windows, findings, ..
        } => {
            assert_eq!(windows.len(), 1);
            assert_eq!(windows[0].start, next);
            assert_eq!((findings.new + findings.updated) as usize, local_next.len());
        }
        failed => panic!("{failed:?}"),
    }
    let resent = events
        .iter()
        .filter(|e| e.time >= next - RESHIP_MARGIN && e.time < next + Span::hours(1))
        .count();
    assert!(resent > 0, "the margin holds the checked hour's events");
    assert_eq!(dataset.lock().unwrap().rows.len(), before + resent);
    handle.shutdown().await;
}
