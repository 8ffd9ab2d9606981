//! Events API v2: `POST {events_base}/enqueue`, deduplicated by `dedup_key`.
//!
//! A trigger with a dedup key that already has an open alert is merged into
//! it, so resending is harmless; acknowledge and resolve are idempotent too.

use serde_json::{Map, Value, json};
use url::Url;

use crate::detect::finding::key_time;
use crate::sinks::idempotency::pagerduty_key;
use crate::sources::http::Fetched;

use super::super::call::{Auth, Call};
use super::super::request::{DeliveryRequest, PagerDutyAction};
use super::super::{Delivered, SinkError, SinkKind};

/// PagerDuty cuts `payload.summary` at 1024 characters; cutting it here
/// keeps the preview honest.
const MAX_SUMMARY_CHARS: usize = 1024;
/// `payload.source`: what is reporting.
const SOURCE: &str = "soc-tui";

pub(super) fn enqueue_call(
    enqueue: Url,
    request: &DeliveryRequest,
    routing_key: &str,
) -> Result<Call, SinkError> {
    let DeliveryRequest::PagerDutyEvent {
        dedup_key,
        action,
        summary,
        severity,
        timestamp,
        custom_details,
        links,
        ..
    } = request
    else {
        return Err(SinkError::permanent(
            SinkKind::PagerDuty,
            "not a PagerDuty request",
        ));
    };
    let mut body = Map::new();
    body.insert("routing_key".into(), routing_key.into());
    body.insert("event_action".into(), action.as_str().into());
    body.insert("dedup_key".into(), pagerduty_key(dedup_key).into());
    if *action == PagerDutyAction::Trigger {
        body.insert(
            "payload".into(),
            json!({
                "summary": summary.chars().take(MAX_SUMMARY_CHARS).collect::<String>(),
                "source": SOURCE,
                "severity": severity,
                "timestamp": key_time(*timestamp),
                "custom_details": details_object(custom_details),
            }),
        );
        body.insert("client".into(), SOURCE.into());
        let links: Vec<Value> = links
            .iter()
            .filter(|l| l.href.starts_with("https://") || l.href.starts_with("http://"))
            .map(|l| json!({"href": l.href, "text": l.text}))
            .collect();
        if !links.is_empty() {
            body.insert("links".into(), Value::Array(links));
        }
    }
    Ok(Call::post(
        format!("{} the alert", action.as_str()),
        enqueue,
        Value::Object(body),
        Auth::InBody,
    ))
}

/// `custom_details` must be an object.
fn details_object(details: &Value) -> Value {
    match details {
        Value::Object(_) => details.clone(),
        Value::Null => json!({}),
        other => json!({ "details": other }),
    }
}

/// A 2xx whose body says `"status": "success"`. Anything else is not the
/// documented answer and is not retried blindly.
pub(super) fn accepted(response: &Fetched, dedup_key: &str) -> Result<Delivered, SinkError> {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    if body["status"] != "success" {
        return Err(SinkError::permanent(
            SinkKind::PagerDuty,
            format!(
                "POST /enqueue: HTTP {} without \"status\": \"success\" in the answer",
                response.status.as_u16()
            ),
        ));
    }
    // Our key, not the echo: it is what acknowledge and resolve must name.
    let mut delivered = Delivered::created(pagerduty_key(dedup_key), None);
    if response.status.as_u16() != 202 {
        delivered.note = Some(format!(
            "PagerDuty answered HTTP {} (202 expected)",
            response.status.as_u16()
        ));
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::detect::finding::PagerDutySeverity;
    use crate::sinks::request::EventLink;

    fn trigger(summary: &str) -> DeliveryRequest {
        DeliveryRequest::PagerDutyEvent {
            dedup_key: "token:e1".into(),
            action: PagerDutyAction::Trigger,
            summary: summary.into(),
            severity: PagerDutySeverity::Critical,
            timestamp: chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 11, 2, 0)
                .unwrap(),
            custom_details: json!({"actor": "m@example.com"}),
            links: vec![
                EventLink {
                    href: "https://linear.app/x/issue/SEC-1".into(),
                    text: "SEC-1".into(),
                },
                EventLink {
                    href: "javascript:alert(1)".into(),
                    text: "bad".into(),
                },
            ],
            rule_severity: None,
        }
    }

    fn url() -> Url {
        Url::parse("https://events.pagerduty.com/v2/enqueue").expect("url")
    }

    #[test]
    fn trigger_body_has_payload_client_and_only_web_links() {
        let call = enqueue_call(url(), &trigger("s"), "RK").unwrap();
        let body = call.body.expect("body");
        assert_eq!(body["routing_key"], "RK");
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["dedup_key"], "token:e1");
        assert_eq!(body["payload"]["severity"], "critical");
        assert_eq!(body["payload"]["timestamp"], "2026-11-20T11:02:00Z");
        assert_eq!(body["payload"]["source"], "soc-tui");
        assert_eq!(body["links"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn long_summaries_are_cut_at_pagerdutys_limit() {
        let call = enqueue_call(url(), &trigger(&"é".repeat(2000)), "RK").unwrap();
        let summary = call.body.expect("body")["payload"]["summary"]
            .as_str()
            .map(|s| s.chars().count());
        assert_eq!(summary, Some(MAX_SUMMARY_CHARS));
    }

    #[test]
    fn acknowledge_and_resolve_send_only_the_key() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
            .unwrap();
        let req = DeliveryRequest::pagerduty_update("token:e1", PagerDutyAction::Resolve, t);
        let body = enqueue_call(url(), &req, "RK").unwrap().body.expect("body");
        assert_eq!(
            body,
            json!({"routing_key": "RK", "event_action": "resolve", "dedup_key": "token:e1"})
        );
    }
}
