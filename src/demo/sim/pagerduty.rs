//! PagerDuty Events API v2 simulator: `POST /v2/enqueue` (the real base is
//! `https://events.pagerduty.com/v2`, the path `/enqueue`).
//!
//! As the real API: the body is JSON with a 32-character `routing_key`, an
//! `event_action` of trigger/acknowledge/resolve, a `dedup_key` for
//! acknowledge and resolve (generated for a trigger without one), and for a
//! trigger a `payload` with `summary` (at most 1024 characters), `source`
//! and `severity` (critical, error, warning or info). Invalid events get 400
//! `{status:"invalid event", message:"Event object is invalid", errors[]}`,
//! unparseable ones `{status:"Unrecognized object", …}`; accepted ones 202
//! `{status:"success", message:"Event processed", dedup_key}`. Incidents are
//! kept by dedup key with their trigger/acknowledge/resolve state. The
//! routing key is never recorded.

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::server::{
    REDACTED, RecordedRequest, ServiceProfile, SimServer, json, lock_read, lock_write, utf8,
};
use super::{SimError, random_text, same_secret};
use crate::secrets::Secret;

const SERVICE: &str = "pagerduty";
/// PagerDuty refuses events over 512 KB.
const MAX_BODY_BYTES: usize = 512 * 1024;
const MAX_SUMMARY_CHARS: usize = 1024;
const MAX_DEDUP_KEY_CHARS: usize = 255;
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentState {
    Triggered,
    Acknowledged,
    Resolved,
}

/// An incident, by dedup key: the latest trigger's details and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub dedup_key: String,
    pub state: IncidentState,
    pub summary: String,
    pub source: String,
    pub severity: String,
    /// Triggers merged into the incident while it was open.
    pub triggers: u32,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One accepted event, without its routing key.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    pub at: DateTime<Utc>,
    pub event_action: String,
    pub dedup_key: String,
    /// The `payload` object as sent (trigger events).
    pub payload: Value,
}

#[derive(Debug, Default)]
struct Account {
    events: Vec<ReceivedEvent>,
    incidents: Vec<Incident>,
}

#[derive(Debug)]
struct PagerDutyState {
    routing_key: Secret,
    account: RwLock<Account>,
}

/// The running PagerDuty Events simulator.
#[derive(Debug)]
pub struct PagerDutySim {
    server: SimServer,
    state: Arc<PagerDutyState>,
}

impl PagerDutySim {
    pub async fn start(routing_key: Secret) -> Result<PagerDutySim, SimError> {
        let state = Arc::new(PagerDutyState {
            routing_key,
            account: RwLock::default(),
        });
        let router = Router::new()
            .route("/v2/enqueue", post(enqueue))
            .with_state(Arc::clone(&state));
        let profile = ServiceProfile {
            throttled: |_, _| {
                json(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later.", "errors": []}),
                )
            },
            limit_headers: ServiceProfile::no_limit_headers,
            redact_body,
        };
        let server = SimServer::start(SERVICE, router, profile, None).await?;
        Ok(PagerDutySim { server, state })
    }

    /// `http://127.0.0.1:<port>/v2`, the `pagerduty.events_base`.
    pub fn base_url(&self) -> String {
        format!("{}/v2", self.server.origin())
    }

    /// Accepted events, oldest first.
    pub fn events(&self) -> Vec<ReceivedEvent> {
        lock_read(&self.state.account).events.clone()
    }

    /// Incidents, in the order they were opened.
    pub fn incidents(&self) -> Vec<Incident> {
        lock_read(&self.state.account).incidents.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

/// The recorded body without the routing key (it is the credential).
fn redact_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            if let Some(key) = value.get_mut("routing_key") {
                *key = json!(REDACTED);
            }
            value.to_string()
        }
        Err(_) if body.contains("routing_key") => {
            format!("{REDACTED} (unparseable body naming routing_key)")
        }
        Err(_) => body.to_owned(),
    }
}

fn invalid(errors: Vec<String>) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors}),
    )
}

fn unrecognized(reason: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"status": "Unrecognized object", "message": "Event object format is unrecognized", "errors": [reason]}),
    )
}

/// Every problem with the event, as PagerDuty lists them.
fn problems(state: &PagerDutyState, event: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    let text = |name: &str| event.get(name).and_then(Value::as_str);
    match text("routing_key") {
        None => errors.push("'routing_key' is missing or blank".to_owned()),
        Some(key) if key.chars().count() != 32 => {
            errors
                .push("Length of 'routing_key' is incorrect (should be 32 characters)".to_owned());
        }
        Some(key) if !same_secret(key, &state.routing_key) => {
            errors.push("Invalid routing key: no integration has this key".to_owned());
        }
        Some(_) => {}
    }
    if let Some(key) = event.get("dedup_key").filter(|v| !v.is_null()) {
        match key.as_str() {
            Some(k) if k.chars().count() > MAX_DEDUP_KEY_CHARS => errors.push(format!(
                "'dedup_key' is too long (at most {MAX_DEDUP_KEY_CHARS} characters)"
            )),
            Some(_) => {}
            None => errors.push("'dedup_key' must be a string".to_owned()),
        }
    }
    match text("event_action") {
        None => errors.push("'event_action' is missing or blank".to_owned()),
        Some("trigger") => payload_problems(event.get("payload"), &mut errors),
        Some("acknowledge" | "resolve") => {
            if text("dedup_key").is_none_or(str::is_empty) {
                errors.push("'dedup_key' is missing or blank".to_owned());
            }
        }
        Some(other) => errors.push(format!(
            "Event type '{other}' is not supported (must be one of trigger, acknowledge, resolve)"
        )),
    }
    errors
}

fn payload_problems(payload: Option<&Value>, errors: &mut Vec<String>) {
    let Some(payload) = payload.and_then(Value::as_object) else {
        errors.push("'payload' is missing or is not an object".to_owned());
        return;
    };
    let text = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    match text("summary") {
        None => errors.push("'payload.summary' is missing or blank".to_owned()),
        Some(s) if s.chars().count() > MAX_SUMMARY_CHARS => errors.push(format!(
            "'payload.summary' is too long (at most {MAX_SUMMARY_CHARS} characters)"
        )),
        Some(_) => {}
    }
    if text("source").is_none() {
        errors.push("'payload.source' is missing or blank".to_owned());
    }
    match text("severity") {
        Some(s) if SEVERITIES.contains(&s) => {}
        Some(_) => errors.push(
            "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
                .to_owned(),
        ),
        None => errors.push("'payload.severity' is missing or blank".to_owned()),
    }
    if let Some(timestamp) = payload.get("timestamp").filter(|v| !v.is_null()) {
        let valid = timestamp.as_str().is_some_and(|t| {
            // ISO 8601 as PagerDuty's own example writes it (`+0000`) or RFC3339.
            DateTime::parse_from_rfc3339(t).is_ok()
                || DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
        });
        if !valid {
            errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp".to_owned());
        }
    }
    if let Some(details) = payload.get("custom_details").filter(|v| !v.is_null())
        && !details.is_object()
        && !details.is_string()
    {
        errors.push("'payload.custom_details' must be an object".to_owned());
    }
}

async fn enqueue(State(state): State<Arc<PagerDutyState>>, body: Bytes) -> Response {
    if body.len() > MAX_BODY_BYTES {
        return invalid(vec!["Event object is larger than 512 KB".to_owned()]);
    }
    let Some(text) = utf8(&body) else {
        return unrecognized("JSON parse error");
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return unrecognized("JSON parse error");
    };
    let Some(event) = value.as_object() else {
        return unrecognized("Event object must be a JSON object");
    };
    let errors = problems(&state, event);
    if !errors.is_empty() {
        return invalid(errors);
    }
    let action = event
        .get("event_action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let dedup_key = event
        .get("dedup_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map_or_else(
            || random_text(&mut fastrand::Rng::new(), b"0123456789abcdef", 32),
            str::to_owned,
        );
    let payload = event.get("payload").cloned().unwrap_or(Value::Null);
    let now = Utc::now();
    let mut account = lock_write(&state.account);
    let open = account
        .incidents
        .iter_mut()
        .rev()
        .find(|i| i.dedup_key == dedup_key && i.state != IncidentState::Resolved);
    match (action.as_str(), open) {
        ("trigger", Some(incident)) => {
            incident.triggers += 1;
            incident.updated_at = now;
        }
        ("trigger", None) => {
            let field = |name: &str| {
                payload
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            account.incidents.push(Incident {
                dedup_key: dedup_key.clone(),
                state: IncidentState::Triggered,
                summary: field("summary"),
                source: field("source"),
                severity: field("severity"),
                triggers: 1,
                opened_at: now,
                updated_at: now,
            });
        }
        ("acknowledge", Some(incident)) => {
            incident.state = IncidentState::Acknowledged;
            incident.updated_at = now;
        }
        ("resolve", Some(incident)) => {
            incident.state = IncidentState::Resolved;
            incident.updated_at = now;
        }
        // Acknowledging or resolving nothing open is accepted and changes nothing.
        _ => {}
    }
    account.events.push(ReceivedEvent {
        at: now,
        event_action: action,
        dedup_key: dedup_key.clone(),
        payload,
    });
    json(
        StatusCode::ACCEPTED,
        &json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
    )
}
