//! Webhook -> stored draft with the heuristic engine, for an actor with
//! 10,000 events in the window and two weeks of history, on a file-backed
//! store. Prints min / median / max over the runs.
//!
//! Run: `cargo bench --bench investigate` (optimized), or
//! `cargo bench --bench investigate --profile dev` for a quick unoptimized figure.

#[path = "../tests/scenarios/mod.rs"]
mod scenarios;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use soc_tui::config::{InvestigationConfig, WebhookConfig, WorkflowsConfig};
use soc_tui::investigate::Investigator;
use soc_tui::secrets::Secret;
use soc_tui::store::{DraftStatus, Store, parse_draft_label};
use soc_tui::webhook::auth::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use soc_tui::webhook::{ANOMALY_PATH, WebhookState, serve};
use soc_tui::workflows::ModePolicy;

const SECRET: &str = "whsec-bench-0123456789abcdef";
const EVENTS: usize = 10_000;
const RUNS: usize = 15;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = scenarios::night();
    let actor = "busy@example.com";
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    store
        .insert_events(&scenarios::office_history(actor, at, 14))
        .expect("history");
    store
        .insert_events(&scenarios::busy_window(actor, at, EVENTS))
        .expect("window");
    let store = Arc::new(Mutex::new(store));
    let investigator = Investigator::new(Arc::clone(&store), InvestigationConfig::default());
    let config = WebhookConfig {
        rate_limit_per_minute: 0,
        ..WebhookConfig::default()
    };
    let state = Arc::new(WebhookState::new(
        config,
        Secret::new(SECRET.to_owned()),
        investigator,
        ModePolicy::new(WorkflowsConfig::default()),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}{ANOMALY_PATH}",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();

    let mut times = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let body = serde_json::to_vec(&json!({
            "actor": actor, "action": "bench", "timestamp": at.to_rfc3339(), "detector": format!("run-{run}")
        }))
        .expect("json");
        let started = Instant::now();
        let signature = sign(SECRET.as_bytes(), Utc::now().timestamp(), &body);
        let response = http
            .post(&url)
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, format!("bench-{run}"))
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status().as_u16(), 202);
        let value: serde_json::Value = response.json().await.expect("json");
        let id = value["investigation_id"]
            .as_str()
            .and_then(parse_draft_label)
            .expect("id");
        loop {
            let status = store
                .lock()
                .expect("lock")
                .draft(id)
                .expect("read")
                .expect("draft")
                .status;
            if status == DraftStatus::Draft {
                break;
            }
            assert_eq!(status, DraftStatus::Running, "investigation failed");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "webhook -> stored draft, {EVENTS} events in the window, {RUNS} runs ({}): \
         min {:.0} ms, median {:.0} ms, max {:.0} ms",
        if cfg!(debug_assertions) {
            "unoptimized"
        } else {
            "optimized"
        },
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1])
    );
}
