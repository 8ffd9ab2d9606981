//! The Prism harness end to end: Prism serving PagerDuty Events v2, driven
//! through `HttpClient`, accepts a valid event and rejects an invalid one
//! with a typed permanent error that carries Prism's reason.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use soc_tui::sources::http::{HttpClient, HttpError, HttpPolicy, Service};

use common::prism::Prism;

fn event(severity: &str) -> Value {
    json!({
        "routing_key": "e93facc04764012d7bfb002500d5d1a6",
        "event_action": "trigger",
        "dedup_key": "soc-tui/harness-smoke",
        "payload": {
            "summary": "soc-tui harness smoke test",
            "source": "soc-tui",
            "severity": severity,
            "timestamp": "2026-11-21T08:42:58.315+00:00"
        }
    })
}

#[tokio::test]
async fn pagerduty_events_v2_accepts_valid_and_rejects_invalid() {
    let Some(prism) = Prism::start("pagerduty/events-v2-openapiv3.json") else {
        return;
    };
    let client = HttpClient::builder(Service::PagerDuty, prism.base_url())
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(20),
            max_retries: 1,
            ..HttpPolicy::default()
        })
        .build()
        .expect("client");
    // Prism drops the spec's `/v2` server prefix.
    let enqueue = client.url(&["enqueue"]);

    let valid = event("critical");
    let accepted = client
        .fetch(|http| http.post(enqueue.clone()).json(&valid))
        .await
        .unwrap_or_else(|e| panic!("valid event rejected: {e}\n{}", prism.output()));
    assert_eq!(accepted.status.as_u16(), 202);
    let body: Value = serde_json::from_slice(&accepted.body).expect("JSON body");
    assert_eq!(body["status"], "success", "{body}");

    let invalid = event("urgent");
    let error = client
        .send(|http| http.post(enqueue.clone()).json(&invalid))
        .await
        .expect_err("severity \"urgent\" is not in the spec's enum");
    match &error {
        HttpError::Status {
            context,
            status,
            message,
            attempts,
        } => {
            assert_eq!(status.as_u16(), 400, "{error}");
            assert_eq!(context.service, Service::PagerDuty);
            assert_eq!(context.path, "/enqueue");
            assert_eq!(*attempts, 1, "a 400 must not be retried");
            let message = message.as_deref().unwrap_or_default();
            assert!(
                message.contains("payload.severity") && message.contains("critical"),
                "Prism's reason should name the field and the allowed values: {error}"
            );
        }
        other => panic!("expected a 400 status error, got {other:?}"),
    }
    assert!(error.is_permanent());
    assert_eq!(client.rate_limit().snapshot().retries, 0);
}
