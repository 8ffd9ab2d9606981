//! The anomaly a detector reports, read from the sender's JSON through the
//! configured field map (`[webhook.fields]`).
//!
//! Documented schema (the defaults also accept common detector shapes):
//!
//! ```json
//! {
//!   "actor": "mallory@example.com",        // required: email, Cloudflare actor id or Datadog uuid
//!   "action": "api_token_created",         // required: what the detector saw
//!   "timestamp": "2026-11-21T03:02:00Z",   // required: RFC 3339, or unix seconds / milliseconds
//!   "source": "cloudflare",                // optional
//!   "detector": "siem-rule-42",            // optional
//!   "details": { "any": "json" }           // optional, kept verbatim (bounded by the body limit)
//! }
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::WebhookFieldMap;
use crate::sanitize::sanitize_with_limit;

/// Longest actor, action, source or detector accepted.
const MAX_FIELD_CHARS: usize = 512;
/// Unix times above this are milliseconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub actor: String,
    pub action: String,
    pub timestamp: DateTime<Utc>,
    pub source: Option<String>,
    pub detector: Option<String>,
    pub details: Option<Value>,
}

/// Why a body is not an anomaly; the message is returned to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("`{field}` is missing (looked at {})", .tried.join(", "))]
    Missing {
        field: &'static str,
        tried: Vec<String>,
    },
    #[error("`{field}` at {pointer} is invalid: {problem}")]
    Invalid {
        field: &'static str,
        pointer: String,
        problem: String,
    },
}

/// Parses `body` into an anomaly using `fields`.
pub fn parse(body: &[u8], fields: &WebhookFieldMap) -> Result<Anomaly, PayloadError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        PayloadError::NotJson(sanitize_with_limit(&e.to_string(), 200).into_owned())
    })?;
    if !value.is_object() {
        return Err(PayloadError::NotAnObject);
    }
    let (pointer, raw) = required(&value, "actor", &fields.actor)?;
    let actor = text("actor", pointer, raw)?;
    let (pointer, raw) = required(&value, "action", &fields.action)?;
    let action = text("action", pointer, raw)?;
    let (pointer, raw) = required(&value, "timestamp", &fields.timestamp)?;
    let timestamp = time(pointer, raw)?;
    let source = scalar(&value, &fields.source)
        .map(|(p, v)| text("source", p, v))
        .transpose()?;
    let detector = scalar(&value, &fields.detector)
        .map(|(p, v)| text("detector", p, v))
        .transpose()?;
    let details = optional(&value, &fields.details).map(|(_, v)| v.clone());
    Ok(Anomaly {
        actor,
        action,
        timestamp,
        source,
        detector,
        details,
    })
}

/// The first pointer that holds a non-null value; for scalar fields, the
/// first that holds a string or a number (so `/actor` holding an object
/// falls through to `/actor/email`).
fn optional<'a, 'p>(value: &'a Value, pointers: &'p [String]) -> Option<(&'p str, &'a Value)> {
    find(value, pointers, |v| !v.is_null())
}

fn scalar<'a, 'p>(value: &'a Value, pointers: &'p [String]) -> Option<(&'p str, &'a Value)> {
    find(value, pointers, |v| v.is_string() || v.is_number())
}

fn find<'a, 'p>(
    value: &'a Value,
    pointers: &'p [String],
    usable: impl Fn(&Value) -> bool,
) -> Option<(&'p str, &'a Value)> {
    pointers.iter().find_map(|p| {
        value
            .pointer(p)
            .filter(|v| usable(v))
            .map(|v| (p.as_str(), v))
    })
}

fn required<'a, 'p>(
    value: &'a Value,
    field: &'static str,
    pointers: &'p [String],
) -> Result<(&'p str, &'a Value), PayloadError> {
    scalar(value, pointers).ok_or_else(|| PayloadError::Missing {
        field,
        tried: pointers.to_vec(),
    })
}

fn text(field: &'static str, pointer: &str, value: &Value) -> Result<String, PayloadError> {
    let invalid = |problem: &str| PayloadError::Invalid {
        field,
        pointer: pointer.to_owned(),
        problem: problem.to_owned(),
    };
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid("expected a string")),
    };
    if text.is_empty() {
        return Err(invalid("is empty"));
    }
    if text.chars().count() > MAX_FIELD_CHARS {
        return Err(invalid(&format!(
            "longer than {MAX_FIELD_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid("contains control characters"));
    }
    Ok(text)
}

fn time(pointer: &str, value: &Value) -> Result<DateTime<Utc>, PayloadError> {
    let invalid = |problem: String| PayloadError::Invalid {
        field: "timestamp",
        pointer: pointer.to_owned(),
        problem,
    };
    let parsed = match value {
        Value::String(s) => match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            // Some senders quote their unix times.
            Err(e) => match s.trim().parse::<i64>() {
                Ok(n) => unix(n),
                Err(_) => return Err(invalid(format!("not an RFC 3339 time ({e})"))),
            },
        },
        Value::Number(n) => n.as_i64().and_then(unix),
        _ => {
            return Err(invalid(
                "expected an RFC 3339 string or unix seconds".into(),
            ));
        }
    };
    parsed.ok_or_else(|| invalid("out of range".into()))
}

fn unix(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() >= MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> WebhookFieldMap {
        WebhookFieldMap::default()
    }

    #[test]
    fn the_documented_schema_parses() {
        let body = br#"{"actor":"m@example.com","action":"token_create","timestamp":"2026-11-21T03:02:00Z",
                        "source":"cloudflare","detector":"rule-1","details":{"ip":"203.0.113.9"}}"#;
        let a = parse(body, &fields()).unwrap();
        assert_eq!(a.actor, "m@example.com");
        assert_eq!(a.timestamp.to_rfc3339(), "2026-11-21T03:02:00+00:00");
        assert_eq!(a.source.as_deref(), Some("cloudflare"));
        assert_eq!(a.details.unwrap()["ip"], "203.0.113.9");
    }

    #[test]
    fn a_datadog_style_body_maps_through_the_defaults() {
        // Datadog webhook template with $USER-like fields and $DATE in ms.
        let body =
            br#"{"actor":{"email":"a@example.com"},"title":"Monitor deleted","date":1795230000000,
                        "id":"7000","body":"text"}"#;
        let a = parse(body, &fields()).unwrap();
        assert_eq!(a.actor, "a@example.com");
        assert_eq!(a.action, "Monitor deleted");
        assert_eq!(a.timestamp.timestamp(), 1_795_230_000);
        assert_eq!(a.detector.as_deref(), Some("7000"));
    }

    #[test]
    fn problems_name_the_field_and_where_it_was_looked_for() {
        let err = parse(br#"{"action":"x","timestamp":1}"#, &fields()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`actor` is missing (looked at /actor, /actor/email"),
            "{err}"
        );
        let err = parse(
            br#"{"actor":"a","action":"x","timestamp":"yesterday"}"#,
            &fields(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`timestamp` at /timestamp is invalid"),
            "{err}"
        );
        let err = parse(
            br#"{"actor":"a\u001b[31m","action":"x","timestamp":1}"#,
            &fields(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("control characters"), "{err}");
        assert_eq!(
            parse(b"[1]", &fields()).unwrap_err(),
            PayloadError::NotAnObject
        );
        assert!(matches!(
            parse(b"{", &fields()).unwrap_err(),
            PayloadError::NotJson(_)
        ));
    }

    /// `[webhook.fields]` in the config decides where each field is read.
    #[test]
    fn a_configured_field_map_changes_what_is_read() {
        let config = crate::config::Config::from_toml_str(
            "[webhook.fields]\nactor = [\"/who/login\"]\naction = [\"/what\"]\ntimestamp = [\"/at\"]\n",
            "t.toml",
        )
        .unwrap();
        let body = br#"{"who":{"login":"eve@example.com"},"what":"key_leak","at":1700000000,
                        "actor":"decoy@example.com","action":"decoy","timestamp":1}"#;
        let a = parse(body, &config.webhook.fields).unwrap();
        assert_eq!(
            (a.actor.as_str(), a.action.as_str()),
            ("eve@example.com", "key_leak")
        );
        assert_eq!(a.timestamp.timestamp(), 1_700_000_000);
        let default = parse(body, &fields()).unwrap();
        assert_eq!(default.actor, "decoy@example.com");
    }
}
