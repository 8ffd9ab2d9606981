//! What the outbox stores per row: one remote effect, with everything needed
//! to perform it again identically. Volatile inputs (the clock, the soc-tui
//! version) stay out, so a retry renders the same request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::detect::finding::{
    Finding, PagerDutySeverity, Severity, SinkRequest, Workflow, key_time,
};

use super::SinkKind;

/// `event_action` of a PagerDuty Events v2 call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PagerDutyAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl PagerDutyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PagerDutyAction::Trigger => "trigger",
            PagerDutyAction::Acknowledge => "acknowledge",
            PagerDutyAction::Resolve => "resolve",
        }
    }
}

/// A link shown on a PagerDuty alert (to the Linear issue, the report, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLink {
    pub href: String,
    pub text: String,
}

/// soc-tui's own facts stored next to an archived raw event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveMetadata {
    /// The finding that asked for the archive.
    pub finding_key: String,
    pub actor: String,
    pub rules: Vec<String>,
    pub severity: String,
}

/// One remote effect. Serialized as the outbox row's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeliveryRequest {
    /// A Linear issue; its id is derived from `dedup_key`.
    LinearIssue {
        dedup_key: String,
        title: String,
        body_markdown: String,
        /// 1 urgent .. 4 low: the built-in scale's priority for
        /// `rule_severity`, sent as it is only when that is absent (rows
        /// stored before it existed).
        priority: u8,
        /// Label names; resolved to ids in the configured team at delivery.
        labels: Vec<String>,
        /// Selects the `[linear.labels]` list added at delivery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workflow: Option<Workflow>,
        /// The finding's (or verdict's) severity; the sink turns it into a
        /// priority through `[linear.priorities]` at delivery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_severity: Option<Severity>,
    },
    /// A comment on an issue created earlier; its id is derived from `dedup_key`.
    LinearComment {
        dedup_key: String,
        /// The issue's UUID ([`super::Delivered::remote_id`] of its `LinearIssue`).
        issue_id: String,
        body_markdown: String,
    },
    /// A PagerDuty Events v2 call (or a REST incident, when so configured).
    PagerDutyEvent {
        dedup_key: String,
        action: PagerDutyAction,
        summary: String,
        /// The built-in scale's severity for `rule_severity`, sent as it is
        /// only when that is absent (rows stored before it existed).
        severity: PagerDutySeverity,
        /// When the condition was seen (sent as `payload.timestamp`).
        timestamp: DateTime<Utc>,
        custom_details: Value,
        #[serde(default)]
        links: Vec<EventLink>,
        /// The finding's (or verdict's) severity; the sink maps it through
        /// `[pagerduty.severities]` at delivery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_severity: Option<Severity>,
    },
    /// The verbatim source event, archived write-once.
    ArchiveObject {
        event_id: String,
        account: Option<String>,
        time: DateTime<Utc>,
        /// The entry exactly as the source sent it.
        raw_event: String,
        metadata: ArchiveMetadata,
    },
    /// A Confluence page in storage format under a deterministic title.
    ConfluencePage {
        dedup_key: String,
        title: String,
        storage_body: String,
    },
}

/// Looks up an event's verbatim JSON by its source id (the store does this).
pub type RawEventLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConversionError {
    #[error("finding {finding}: raw event {event_id} to archive is not in the store")]
    RawEventMissing { finding: String, event_id: String },
}

/// Event ids copied into PagerDuty's custom details; the count says how many there were.
const PAGERDUTY_EVENT_IDS: usize = 10;

impl DeliveryRequest {
    pub fn sink(&self) -> SinkKind {
        match self {
            DeliveryRequest::LinearIssue { .. } | DeliveryRequest::LinearComment { .. } => {
                SinkKind::Linear
            }
            DeliveryRequest::PagerDutyEvent { .. } => SinkKind::PagerDuty,
            DeliveryRequest::ArchiveObject { .. } => SinkKind::Archive,
            DeliveryRequest::ConfluencePage { .. } => SinkKind::Confluence,
        }
    }

    /// The row payload for one of a finding's requests. `raw_event` finds the
    /// verbatim JSON of an event to archive.
    pub fn from_sink_request(
        finding: &Finding,
        request: &SinkRequest,
        raw_event: &RawEventLookup<'_>,
    ) -> Result<DeliveryRequest, ConversionError> {
        Ok(match request {
            SinkRequest::LinearTicket {
                title,
                body_markdown,
                priority,
                labels,
            } => DeliveryRequest::LinearIssue {
                dedup_key: finding.dedup_key.clone(),
                title: title.clone(),
                body_markdown: body_markdown.clone(),
                priority: *priority,
                labels: labels.clone(),
                workflow: Some(finding.workflow),
                rule_severity: Some(finding.severity),
            },
            SinkRequest::PagerDutyTrigger {
                summary,
                severity,
                custom_details,
            } => DeliveryRequest::PagerDutyEvent {
                dedup_key: finding.dedup_key.clone(),
                action: PagerDutyAction::Trigger,
                summary: summary.clone(),
                severity: *severity,
                timestamp: finding.window_end,
                custom_details: pagerduty_details(finding, custom_details),
                links: Vec::new(),
                rule_severity: Some(finding.severity),
            },
            SinkRequest::ArchiveObject {
                event_id,
                account,
                time,
            } => DeliveryRequest::ArchiveObject {
                event_id: event_id.clone(),
                account: account.clone(),
                time: *time,
                raw_event: raw_event(event_id).ok_or_else(|| ConversionError::RawEventMissing {
                    finding: finding.dedup_key.clone(),
                    event_id: event_id.clone(),
                })?,
                metadata: ArchiveMetadata {
                    finding_key: finding.dedup_key.clone(),
                    actor: finding.actor.clone(),
                    rules: finding.rules.clone(),
                    severity: finding.severity.as_str().to_owned(),
                },
            },
        })
    }

    /// Acknowledge or resolve the PagerDuty alert of a finding (the analyst
    /// did so in the TUI). Events v2 needs nothing but the dedup key.
    pub fn pagerduty_update(
        dedup_key: impl Into<String>,
        action: PagerDutyAction,
        at: DateTime<Utc>,
    ) -> DeliveryRequest {
        DeliveryRequest::PagerDutyEvent {
            dedup_key: dedup_key.into(),
            action,
            summary: String::new(),
            severity: PagerDutySeverity::Info,
            timestamp: at,
            custom_details: Value::Object(Map::new()),
            links: Vec::new(),
            rule_severity: None,
        }
    }

    /// An approved report as a Confluence page; `title` is its idempotency
    /// key (see [`super::confluence::report_title`]).
    pub fn confluence_page(
        dedup_key: impl Into<String>,
        title: impl Into<String>,
        body: super::confluence::StorageDoc,
    ) -> DeliveryRequest {
        DeliveryRequest::ConfluencePage {
            dedup_key: dedup_key.into(),
            title: title.into(),
            storage_body: body.finish(),
        }
    }

    /// Adds links (to the Linear issue, the Confluence report) to a PagerDuty event.
    pub fn with_links(mut self, extra: Vec<EventLink>) -> DeliveryRequest {
        if let DeliveryRequest::PagerDutyEvent { links, .. } = &mut self {
            links.extend(extra);
        }
        self
    }
}

/// The detector's details plus who, how many and when, so the responder
/// does not have to open soc-tui to see them. The detector's own keys win.
fn pagerduty_details(finding: &Finding, details: &Value) -> Value {
    let mut out = match details {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => Map::from_iter([("details".to_owned(), other.clone())]),
    };
    let ids: Vec<Value> = finding
        .event_ids
        .iter()
        .take(PAGERDUTY_EVENT_IDS)
        .map(|id| Value::String(id.clone()))
        .collect();
    let ours = [
        ("actor", Value::String(finding.actor.clone())),
        (
            "workflow",
            Value::String(finding.workflow.as_str().to_owned()),
        ),
        ("finding", Value::String(finding.dedup_key.clone())),
        ("rules", Value::from(finding.rules.clone())),
        (
            "window_start",
            Value::String(key_time(finding.window_start)),
        ),
        ("window_end", Value::String(key_time(finding.window_end))),
        ("event_count", Value::from(finding.event_ids.len())),
        ("event_ids", Value::Array(ids)),
    ];
    for (key, value) in ours {
        out.entry(key.to_owned()).or_insert(value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::detect::finding::Severity;

    fn finding(requests: Vec<SinkRequest>) -> Finding {
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap();
        Finding {
            workflow: Workflow::Token,
            dedup_key: "token:e1".into(),
            actor: "mallory@example.com".into(),
            severity: Severity::High,
            title: "t".into(),
            window_start: t,
            window_end: t,
            summary: "s".into(),
            evidence: json!({}),
            event_ids: vec!["e1".into()],
            rules: vec!["token.write".into()],
            suppressed: vec![],
            requests,
        }
    }

    #[test]
    fn pagerduty_trigger_gets_actor_counts_and_times_without_losing_detector_keys() {
        let req = SinkRequest::PagerDutyTrigger {
            summary: "s".into(),
            severity: PagerDutySeverity::Error,
            custom_details: json!({"token_name": "deploy-all", "actor": "detector wins"}),
        };
        let f = finding(vec![req.clone()]);
        let out = DeliveryRequest::from_sink_request(&f, &req, &|_| None).unwrap();
        let DeliveryRequest::PagerDutyEvent {
            dedup_key,
            action,
            custom_details,
            ..
        } = &out
        else {
            panic!("{out:?}")
        };
        assert_eq!(dedup_key, "token:e1");
        assert_eq!(*action, PagerDutyAction::Trigger);
        assert_eq!(custom_details["token_name"], "deploy-all");
        assert_eq!(custom_details["actor"], "detector wins");
        assert_eq!(custom_details["event_count"], 1);
        assert_eq!(custom_details["window_start"], "2026-11-20T11:02:00Z");
        assert_eq!(custom_details["event_ids"], json!(["e1"]));
    }

    #[test]
    fn archive_needs_the_raw_event_and_keeps_it_verbatim() {
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap();
        let req = SinkRequest::ArchiveObject {
            event_id: "e1".into(),
            account: Some("acc".into()),
            time: t,
        };
        let f = finding(vec![req.clone()]);
        let missing = DeliveryRequest::from_sink_request(&f, &req, &|_| None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "finding token:e1: raw event e1 to archive is not in the store"
        );
        let raw = "{ \"id\" : \"e1\" }";
        let out =
            DeliveryRequest::from_sink_request(&f, &req, &|id| (id == "e1").then(|| raw.into()))
                .unwrap();
        match out {
            DeliveryRequest::ArchiveObject {
                raw_event,
                metadata,
                ..
            } => {
                assert_eq!(raw_event, raw);
                assert_eq!(metadata.rules, vec!["token.write".to_owned()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_round_trip_through_json_with_a_kind_tag() {
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap();
        let req = DeliveryRequest::pagerduty_update("token:e1", PagerDutyAction::Resolve, t)
            .with_links(vec![EventLink {
                href: "https://linear.app/x/issue/SEC-1".into(),
                text: "Linear SEC-1".into(),
            }]);
        let text = serde_json::to_string(&req).unwrap();
        assert!(text.starts_with(r#"{"kind":"pager_duty_event""#), "{text}");
        assert_eq!(serde_json::from_str::<DeliveryRequest>(&text).unwrap(), req);
        assert_eq!(req.sink(), SinkKind::PagerDuty);
    }
}
