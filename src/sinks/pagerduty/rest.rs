//! REST API: `POST /incidents` with an `incident_key`, for setups that have
//! a REST API key instead of an Events integration.
//!
//! PagerDuty rejects a second open incident with the same key on the same
//! service, and `GET /incidents?incident_key=` finds the first one, so the
//! sink looks before it creates and looks again when the create is refused.

use serde_json::{Value, json};
use url::Url;

use crate::detect::finding::PagerDutySeverity;
use crate::sinks::idempotency::pagerduty_key;

use super::super::call::{Auth, Call};
use super::super::request::{DeliveryRequest, PagerDutyAction};
use super::super::{Delivered, SinkError, SinkKind};

/// PagerDuty's REST versioning header; the spec marks it required.
pub(super) const ACCEPT: &str = "application/vnd.pagerduty+json;version=2";
/// The REST key goes in `Authorization: Token token=<key>`.
pub(super) const AUTH: Auth = Auth::Header("Authorization");
const MAX_TITLE_CHARS: usize = 1024;

pub(super) struct RestTarget<'a> {
    pub incidents: Url,
    pub from_email: &'a str,
    pub service_id: &'a str,
}

pub(super) fn lookup_call(mut incidents: Url, dedup_key: &str) -> Call {
    incidents
        .query_pairs_mut()
        .append_pair("incident_key", &pagerduty_key(dedup_key))
        .append_pair("date_range", "all");
    Call::get("look for an incident with this key", incidents, AUTH)
        .header("Accept", ACCEPT)
        .header("Content-Type", "application/json")
}

pub(super) fn create_call(
    target: &RestTarget<'_>,
    request: &DeliveryRequest,
) -> Result<Call, SinkError> {
    let DeliveryRequest::PagerDutyEvent {
        dedup_key,
        action,
        summary,
        severity,
        custom_details,
        ..
    } = request
    else {
        return Err(SinkError::permanent(
            SinkKind::PagerDuty,
            "not a PagerDuty request",
        ));
    };
    if *action != PagerDutyAction::Trigger {
        return Err(SinkError::permanent(
            SinkKind::PagerDuty,
            format!(
                "cannot {} through the REST API (soc-tui only opens incidents there); \
                 set pagerduty.routing_key_name to an Events API v2 routing key",
                action.as_str()
            ),
        ));
    }
    let details = match custom_details {
        Value::Object(_) => custom_details.clone(),
        other => json!({ "details": other }),
    };
    let body = json!({
        "incident": {
            "type": "incident",
            "title": summary.chars().take(MAX_TITLE_CHARS).collect::<String>(),
            "service": {"id": target.service_id, "type": "service_reference"},
            "urgency": urgency(*severity),
            "incident_key": pagerduty_key(dedup_key),
            "body": {"type": "incident_body", "details": details},
        }
    });
    Ok(
        Call::post("open the incident", target.incidents.clone(), body, AUTH)
            .header("Accept", ACCEPT)
            .header("From", target.from_email),
    )
}

fn urgency(severity: PagerDutySeverity) -> &'static str {
    match severity {
        PagerDutySeverity::Critical | PagerDutySeverity::Error => "high",
        PagerDutySeverity::Warning | PagerDutySeverity::Info => "low",
    }
}

/// The first incident in a `GET /incidents` answer, if any.
pub(super) fn found_incident(body: &[u8]) -> Option<Delivered> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let incident = value["incidents"].as_array()?.first()?;
    incident_delivered(incident, true)
}

/// The incident of a `POST /incidents` answer.
pub(super) fn created_incident(body: &[u8]) -> Result<Delivered, SinkError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| incident_delivered(&value["incident"], false))
        .ok_or_else(|| {
            SinkError::permanent(
                SinkKind::PagerDuty,
                "POST /incidents: the answer has no incident id",
            )
        })
}

fn incident_delivered(incident: &Value, found: bool) -> Option<Delivered> {
    let id = incident["id"].as_str()?;
    let url = incident["html_url"].as_str().map(str::to_owned);
    Some(if found {
        Delivered::found(id, url)
    } else {
        Delivered::created(id, url)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn trigger() -> DeliveryRequest {
        DeliveryRequest::PagerDutyEvent {
            dedup_key: "burst:m@example.com:role_grant:2026-11-20T11:00:00Z".into(),
            action: PagerDutyAction::Trigger,
            summary: "4 role grants".into(),
            severity: PagerDutySeverity::Error,
            timestamp: chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 11, 2, 0)
                .unwrap(),
            custom_details: json!({"count": 4}),
            links: vec![],
            rule_severity: None,
        }
    }

    fn target() -> RestTarget<'static> {
        RestTarget {
            incidents: Url::parse("https://api.pagerduty.com/incidents").expect("url"),
            from_email: "oncall@example.com",
            service_id: "PWIXJZS",
        }
    }

    #[test]
    fn create_call_carries_from_accept_key_and_object_details() {
        let call = create_call(&target(), &trigger()).unwrap();
        assert!(
            call.headers
                .contains(&("From", "oncall@example.com".into()))
        );
        assert!(call.headers.contains(&("Accept", ACCEPT.into())));
        let body = call.body.expect("body");
        assert_eq!(
            body["incident"]["incident_key"],
            "burst:m@example.com:role_grant:2026-11-20T11:00:00Z"
        );
        assert_eq!(body["incident"]["urgency"], "high");
        assert_eq!(body["incident"]["body"]["details"]["count"], 4);
    }

    #[test]
    fn lookup_encodes_the_key_in_the_query() {
        let call = lookup_call(target().incidents, "a b&c");
        assert_eq!(
            call.url.as_str(),
            "https://api.pagerduty.com/incidents?incident_key=a+b%26c&date_range=all"
        );
    }

    #[test]
    fn resolve_through_rest_is_refused_with_the_fix() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
            .unwrap();
        let req = DeliveryRequest::pagerduty_update("k", PagerDutyAction::Resolve, t);
        let err = create_call(&target(), &req).unwrap_err();
        assert!(err.is_permanent());
        assert!(err.message().contains("routing_key_name"), "{err}");
    }

    #[test]
    fn answers_are_read_for_id_and_link() {
        let found = found_incident(
            br#"{"incidents":[{"id":"PT4KHLK","html_url":"https://x.pagerduty.com/incidents/PT4KHLK"}],"limit":25}"#,
        )
        .expect("found");
        assert_eq!(found.remote_id, "PT4KHLK");
        assert!(found.already_delivered);
        assert!(found_incident(br#"{"incidents":[]}"#).is_none());
        let created = created_incident(br#"{"incident":{"id":"PX"}}"#).unwrap();
        assert_eq!((created.remote_id.as_str(), created.url), ("PX", None));
        assert!(created_incident(b"{}").is_err());
    }
}
