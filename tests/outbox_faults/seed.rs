//! Filling the outbox the way production does: raw Cloudflare token
//! creations and Datadog key-leak notifications are parsed by the real
//! parsers and stored, the token and burst checks run over them window by
//! window (token findings queue an archive object and a Linear ticket, burst
//! findings a PagerDuty trigger), and each burst finding is investigated and
//! approved with `--publish confluence` semantics (the approval and its page
//! request in one transaction).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use soc_tui::config::InvestigationConfig;
use soc_tui::detect::rules::{Rules, parse};
use soc_tui::engine::CoveredWindow;
use soc_tui::engine::checks::{Mode, run_window};
use soc_tui::investigate::publish::confluence_page_item;
use soc_tui::investigate::{InvestigationRequest, Investigator};
use soc_tui::sources::raw::parse_entry;
use soc_tui::store::{Approval, CheckKind, Delivery, DraftCreated, Store};

/// The Cloudflare account every token event belongs to.
pub const ACCOUNT: &str = "4bb334f7c94c4a29a045f03944f072e5";
/// Events are this far apart; a check window holds `WINDOW_EVENTS` of each kind.
const SPACING_SECS: i64 = 2;
const WINDOW_EVENTS: i64 = 50;

/// Midnight UTC, 2026-11-19: the day the events happen.
pub fn day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 19, 0, 0, 0).unwrap()
}

/// A v2 Cloudflare audit entry: `issuer` creates a token with zone-wide
/// write access. Names carry Markdown and control characters, as attacker
/// text may.
fn token_entry(i: usize, time: DateTime<Utc>) -> String {
    json!({
        "id": format!("cf-token-create-{i:05}"),
        "account": {"id": ACCOUNT, "name": "Example Account"},
        "action": {"description": "Create API token", "result": "success",
                   "time": time.to_rfc3339(), "type": "create"},
        "actor": {"id": format!("actor{i:05}"), "context": "dash",
                  "email": format!("issuer{i:05}@example.com"),
                  "ip_address": format!("198.51.100.{}", i % 250), "type": "user"},
        "raw": {"method": "POST", "status_code": 200, "uri": "/user/tokens",
                "user_agent": "python-requests/2.31"},
        "resource": {"id": format!("tok{i:05}"), "product": "api_tokens", "type": "api_token",
                     "response": {"result": {"id": format!("tok{i:05}"),
                        "name": format!("deploy-{i} *all* [zones]\u{1b}[31m"),
                        "policies": [{"effect": "allow",
                            "permission_groups": [{"name": "Zone Write"}, {"name": "DNS Write"}],
                            "resources": {"com.cloudflare.api.account.zone.*": "*"}}]}}},
    })
    .to_string()
}

/// A Datadog audit event: the platform reports a leaked API key of `owner`
/// (the `key_leak_notification` burst rule fires on one such event).
fn leak_entry(i: usize, time: DateTime<Utc>) -> String {
    let stamp = time.to_rfc3339();
    json!({
        "id": format!("dd-key-leak-{i:05}"),
        "type": "audit",
        "attributes": {
            "timestamp": stamp,
            "service": "datadog",
            "message": "An API key was found in a public repository",
            "tags": ["source:audit"],
            "attributes": {
                "timestamp": stamp,
                "evt": {"name": "Security Notification", "actor": {"type": "SYSTEM"}},
                "asset": {"type": "api_key", "name": format!("ci-key-{i}")},
                "action": "notification",
                "usr": {"email": format!("owner{i:05}@example.com"),
                        "id": format!("dd-user-{i:05}")},
            },
        },
    })
    .to_string()
}

/// What was queued.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedCounts {
    pub token_findings: usize,
    pub burst_findings: usize,
    pub approved_drafts: usize,
}

/// Stores `per_sink` token creations and key leaks, runs the checks over
/// them and approves one investigation per burst finding: `per_sink` rows
/// for each of the four sinks.
pub async fn seed(store_path: &std::path::Path, per_sink: usize) -> SeedCounts {
    let rules: Rules = parse(None).expect("default rules").rules;
    let store = Arc::new(Mutex::new(Store::open(store_path).expect("store")));
    let investigator = Investigator::new(Arc::clone(&store), InvestigationConfig::default());
    let mut counts = SeedCounts::default();
    let mut events = Vec::with_capacity(per_sink * 2);
    for i in 0..per_sink {
        let time = day() + Duration::seconds(i as i64 * SPACING_SECS);
        for raw in [token_entry(i, time), leak_entry(i, time)] {
            events.push(parse_entry(&raw).unwrap_or_else(|e| panic!("{raw}: {e}")));
        }
    }
    store
        .lock()
        .unwrap()
        .insert_events(&events)
        .expect("insert events");

    let windows = per_sink.div_ceil(WINDOW_EVENTS as usize);
    let now = Utc::now();
    for w in 0..windows as i64 {
        let start = day() + Duration::seconds(w * WINDOW_EVENTS * SPACING_SECS);
        let window = CoveredWindow {
            start,
            end: start + Duration::seconds(WINDOW_EVENTS * SPACING_SECS),
        };
        let (tokens, bursts) = {
            let mut store = store.lock().unwrap();
            let mut run = |check| {
                run_window(
                    &mut store,
                    &rules,
                    check,
                    window,
                    now,
                    Some(Delivery::Live),
                    Mode::Scheduled,
                )
                .expect("check window")
            };
            (run(CheckKind::Tokens), run(CheckKind::Bursts))
        };
        counts.token_findings += tokens.findings.len();
        counts.burst_findings += bursts.findings.len();
        // The analyst investigates each burst and approves the report for Confluence.
        for finding in &bursts.findings {
            let id = match investigator
                .open(&InvestigationRequest::from_finding(finding))
                .expect("open draft")
            {
                DraftCreated::New(id) | DraftCreated::Existing(id) => id,
            };
            let report = investigator.run(id).await.expect("investigation");
            let page = confluence_page_item(id, &report).expect("page item");
            let queued = store
                .lock()
                .unwrap()
                .approve_and_enqueue(
                    &Approval {
                        id,
                        analyst: "alice",
                        edit: None,
                        publish_to: Some("confluence"),
                        note: None,
                    },
                    Some(&page),
                    Utc::now(),
                    Delivery::Live,
                )
                .expect("approve");
            assert!(queued.is_some(), "draft {id} queued no page");
            counts.approved_drafts += 1;
        }
    }
    counts
}
