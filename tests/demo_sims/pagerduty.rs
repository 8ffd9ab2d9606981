use serde_json::{Value, json};
use soc_tui::demo::sim::IncidentState;

use crate::support::{World, body, keys, spec_example, world};

fn enqueue_url(w: &World) -> String {
    format!("{}/enqueue", w.sims.pagerduty.base_url())
}

async fn send(w: &World, event: &Value) -> (u16, Value) {
    body(
        w.http
            .post(enqueue_url(w))
            .json(event)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn trigger(w: &World, dedup: &str, severity: &str) -> Value {
    json!({"routing_key": w.creds.pagerduty_routing_key.expose(), "event_action": "trigger", "dedup_key": dedup,
           "payload": {"summary": "Broad API token minted at night", "source": "soc-tui", "severity": severity}})
}

fn assert_invalid(status: u16, v: &Value, contains: &str) {
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["status"], "invalid event", "{v}");
    assert_eq!(v["message"], "Event object is invalid");
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        errors.iter().any(|e| e.contains(contains)),
        "{errors:?} lack {contains:?}"
    );
}

#[tokio::test]
async fn events_are_validated_like_the_events_api() {
    let w = world().await;
    let key = w.creds.pagerduty_routing_key.expose();
    let mut cases: Vec<(Value, &str)> = vec![
        (trigger(&w, "k", "urgent"), "'payload.severity' is invalid"),
        (
            json!({"event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info"}}),
            "'routing_key' is missing",
        ),
        (
            json!({"routing_key": "short", "event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info"}}),
            "Length of 'routing_key' is incorrect",
        ),
        (
            json!({"routing_key": "f".repeat(32), "event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info"}}),
            "Invalid routing key",
        ),
        (
            json!({"routing_key": key, "payload": {"summary": "s", "source": "x", "severity": "info"}}),
            "'event_action' is missing",
        ),
        (
            json!({"routing_key": key, "event_action": "escalate"}),
            "Event type 'escalate' is not supported",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger"}),
            "'payload' is missing",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger", "payload": {"source": "x", "severity": "info"}}),
            "'payload.summary' is missing",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger", "payload": {"summary": "s", "severity": "info"}}),
            "'payload.source' is missing",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger", "payload": {"summary": "x".repeat(1025), "source": "x", "severity": "info"}}),
            "'payload.summary' is too long",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info", "timestamp": "yesterday"}}),
            "'payload.timestamp'",
        ),
        (
            json!({"routing_key": key, "event_action": "acknowledge"}),
            "'dedup_key' is missing",
        ),
        (
            json!({"routing_key": key, "event_action": "resolve", "dedup_key": 7}),
            "'dedup_key' must be a string",
        ),
    ];
    let mut long = trigger(&w, "k", "info");
    long["dedup_key"] = json!("k".repeat(256));
    cases.push((long, "'dedup_key' is too long"));
    for (event, contains) in cases {
        let (s, v) = send(&w, &event).await;
        assert_invalid(s, &v, contains);
    }
    let r = w
        .http
        .post(enqueue_url(&w))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (400, Some("Unrecognized object"))
    );
    if let Some(example) = spec_example("pagerduty/examples/events_v2_error.spec-example.json") {
        assert_eq!(keys(&v), keys(&example));
    }
    assert!(w.sims.pagerduty.events().is_empty());
    assert!(w.sims.pagerduty.incidents().is_empty());
    // The routing key never reaches the request log.
    for r in w.sims.pagerduty.requests() {
        assert!(!r.body.contains(key), "{}", r.body);
    }
}

#[tokio::test]
async fn incidents_follow_trigger_acknowledge_resolve_by_dedup_key() {
    let w = world().await;
    let key = w.creds.pagerduty_routing_key.expose();
    let (s, v) = send(&w, &trigger(&w, "soc-tui/token/abc", "critical")).await;
    assert_eq!(
        (s, &v),
        (
            202,
            &json!({"status": "success", "message": "Event processed", "dedup_key": "soc-tui/token/abc"})
        )
    );
    if let Some(example) =
        spec_example("pagerduty/examples/events_v2_enqueue.202.spec-example.json")
    {
        assert_eq!(keys(&v), keys(&example));
    }
    // A repeat trigger merges into the open incident.
    assert_eq!(
        send(&w, &trigger(&w, "soc-tui/token/abc", "critical"))
            .await
            .0,
        202
    );
    let incidents = w.sims.pagerduty.incidents();
    assert_eq!(incidents.len(), 1);
    assert_eq!(
        (incidents[0].state, incidents[0].triggers),
        (IncidentState::Triggered, 2)
    );
    for (action, state) in [
        ("acknowledge", IncidentState::Acknowledged),
        ("resolve", IncidentState::Resolved),
    ] {
        let (s, _) = send(
            &w,
            &json!({"routing_key": key, "event_action": action, "dedup_key": "soc-tui/token/abc"}),
        )
        .await;
        assert_eq!(s, 202);
        assert_eq!(w.sims.pagerduty.incidents()[0].state, state);
    }
    // After resolve, a trigger opens a new incident.
    send(&w, &trigger(&w, "soc-tui/token/abc", "warning")).await;
    assert_eq!(w.sims.pagerduty.incidents().len(), 2);
    // Without a dedup key PagerDuty makes one up.
    let mut anonymous = trigger(&w, "", "info");
    anonymous.as_object_mut().unwrap().remove("dedup_key");
    let (s, v) = send(&w, &anonymous).await;
    assert_eq!(s, 202);
    assert_eq!(v["dedup_key"].as_str().unwrap().len(), 32);
    assert_eq!(w.sims.pagerduty.events().len(), 6);
}

#[tokio::test]
async fn the_spec_example_event_is_accepted() {
    let w = world().await;
    let Some(mut event) =
        spec_example("pagerduty/examples/events_v2_enqueue.request.spec-example.json")
    else {
        return;
    };
    event["routing_key"] = json!(w.creds.pagerduty_routing_key.expose());
    let (s, v) = send(&w, &event).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["dedup_key"], "srv01/mysql");
    assert_eq!(w.sims.pagerduty.incidents()[0].severity, "critical");
}
