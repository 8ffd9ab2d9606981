//! Shipping events to the dataset: the flattened row shape, batching, and
//! the `{ingested, failed, failures[]}` answer folded into one report.
//!
//! A row carries what the baseline query reads plus a few fields useful for
//! ad-hoc APL; the raw entry, IP addresses, user agents, token ids and
//! resource names stay in the local store (a third-party copy is kept small).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::model::AuditEvent;
use crate::sanitize::sanitize_with_limit;

/// Events per ingest request. Axiom takes up to 10,000 per batch; smaller
/// requests keep a retried batch cheap.
pub const INGEST_BATCH_EVENTS: usize = 1000;

/// Failures kept in a report (the counts are always complete).
const MAX_FAILURES_KEPT: usize = 100;
/// Failures quoted in a report's one-line text.
const FAILURES_QUOTED: usize = 3;

/// One event as an Axiom row. `_time` is the event time (sent with
/// `timestamp-field=_time`); optional fields are left out when absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestRow<'a> {
    #[serde(rename = "_time")]
    pub time: String,
    pub source: &'static str,
    pub id: &'a str,
    pub actor_key: String,
    pub kind: &'static str,
    pub is_change: bool,
    pub verb: &'a str,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_product: Option<&'a str>,
    /// Absent, never "", when the event has no resource type: the query
    /// treats "" as "no type".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
}

impl<'a> IngestRow<'a> {
    pub fn from_event(e: &'a AuditEvent) -> IngestRow<'a> {
        let non_empty = |s: &'a Option<String>| s.as_deref().filter(|s| !s.is_empty());
        IngestRow {
            time: e.time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            source: e.source.as_str(),
            id: &e.id,
            actor_key: e.actor_key(),
            kind: e.action.kind.as_str(),
            is_change: e.action.kind.is_change(),
            verb: &e.action.verb,
            outcome: e.outcome.as_str(),
            resource_product: non_empty(&e.resource.product),
            resource_type: non_empty(&e.resource.kind),
            account: non_empty(&e.account),
        }
    }
}

/// Axiom's answer to one ingest request (`IngestStatus`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IngestStatus {
    pub ingested: u64,
    pub failed: u64,
    #[serde(default)]
    pub failures: Option<Vec<IngestFailureWire>>,
    #[serde(default)]
    pub processed_bytes: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct IngestFailureWire {
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// One event Axiom refused, in its words (cleaned: the text may quote the event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestFailure {
    /// The refused event's timestamp, as Axiom reports it.
    pub timestamp: Option<DateTime<Utc>>,
    pub error: String,
}

/// The outcome of [`super::AxiomEngine::ingest_hour`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub dataset: String,
    /// Events sent.
    pub sent: u64,
    pub ingested: u64,
    pub failed: u64,
    /// The first refusals (at most 100; `failed` has the count).
    pub failures: Vec<IngestFailure>,
    pub processed_bytes: u64,
    /// Requests made.
    pub requests: usize,
}

impl IngestReport {
    pub(super) fn new(dataset: &str, sent: usize) -> IngestReport {
        IngestReport {
            dataset: dataset.to_owned(),
            sent: sent as u64,
            ..IngestReport::default()
        }
    }

    /// Axiom refused nothing and accounted for every event sent.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.ingested >= self.sent
    }

    pub(super) fn add(&mut self, status: IngestStatus) {
        self.requests += 1;
        self.ingested += status.ingested;
        self.failed += status.failed;
        self.processed_bytes += status.processed_bytes.unwrap_or(0);
        for f in status.failures.unwrap_or_default() {
            if self.failures.len() >= MAX_FAILURES_KEPT {
                break;
            }
            self.failures.push(IngestFailure {
                timestamp: f
                    .timestamp
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
                error: sanitize_with_limit(f.error.as_deref().unwrap_or("no reason given"), 200)
                    .into_owned(),
            });
        }
    }
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} events ingested into dataset {}",
            self.ingested, self.sent, self.dataset
        )?;
        if self.failed > 0 {
            write!(f, "; {} failed", self.failed)?;
        }
        let unaccounted = self.sent.saturating_sub(self.ingested + self.failed);
        if unaccounted > 0 {
            write!(f, "; {unaccounted} not accounted for by Axiom")?;
        }
        if !self.failures.is_empty() {
            let quoted: Vec<String> = self
                .failures
                .iter()
                .take(FAILURES_QUOTED)
                .map(|x| match x.timestamp {
                    Some(t) => format!(
                        "event at {}: {}",
                        t.to_rfc3339_opts(SecondsFormat::Secs, true),
                        x.error
                    ),
                    None => x.error.clone(),
                })
                .collect();
            write!(f, " (first failures: {}", quoted.join("; "))?;
            if self.failures.len() > FAILURES_QUOTED || self.failed > self.failures.len() as u64 {
                write!(f, "; ...")?;
            }
            write!(f, ")")?;
        }
        if !self.is_complete() {
            write!(
                f,
                "; re-sending the hour is safe: the baseline query counts each event once"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::model::{Action, ActionKind, Actor, Outcome, Resource, Source};

    fn event(kind: ActionKind, resource_type: Option<&str>) -> AuditEvent {
        AuditEvent {
            source: Source::Datadog,
            id: "ev-1".into(),
            time: Utc.with_ymd_and_hms(2026, 11, 21, 3, 4, 5).unwrap()
                + chrono::Duration::milliseconds(120),
            actor: Actor {
                email: Some(" Mallory@Example.com ".into()),
                ip: Some("203.0.113.9".into()),
                ..Actor::default()
            },
            action: Action {
                verb: "Modified role".into(),
                kind,
                description: None,
            },
            resource: Resource {
                product: Some("roles".into()),
                kind: resource_type.map(str::to_owned),
                id: Some("r1".into()),
                name: Some("Admin".into()),
            },
            outcome: Outcome::Success,
            account: None,
            raw: r#"{"secret":"raw"}"#.into(),
        }
    }

    #[test]
    fn rows_are_flat_and_leave_out_absent_and_private_fields() {
        let e = event(ActionKind::Update, Some("role"));
        let row = serde_json::to_value(IngestRow::from_event(&e)).unwrap();
        assert_eq!(
            row,
            json!({
                "_time": "2026-11-21T03:04:05.120Z",
                "source": "datadog",
                "id": "ev-1",
                "actor_key": "mallory@example.com",
                "kind": "update",
                "is_change": true,
                "verb": "Modified role",
                "outcome": "success",
                "resource_product": "roles",
                "resource_type": "role",
            })
        );
        let read = event(ActionKind::Read, Some(""));
        let row = serde_json::to_value(IngestRow::from_event(&read)).unwrap();
        assert_eq!(row["is_change"], false);
        assert!(
            row.get("resource_type").is_none(),
            "an empty type is no type: {row}"
        );
    }

    #[test]
    fn reports_count_every_batch_and_quote_the_first_failures() {
        let mut r = IngestReport::new("audit", 5);
        r.add(IngestStatus {
            ingested: 2,
            failed: 0,
            failures: Some(vec![]),
            processed_bytes: Some(100),
        });
        assert_eq!(
            r.to_string(),
            "2 of 5 events ingested into dataset audit; 3 not accounted for by Axiom; re-sending the hour is safe: the baseline query counts each event once"
        );
        r.add(IngestStatus {
            ingested: 1,
            failed: 2,
            failures: Some(vec![
                IngestFailureWire {
                    timestamp: Some("2026-11-21T03:04:05Z".into()),
                    error: Some("field \"is_change\": type mismatch\u{1b}[2J".into()),
                },
                IngestFailureWire {
                    timestamp: None,
                    error: None,
                },
            ]),
            processed_bytes: None,
        });
        assert!(!r.is_complete());
        assert_eq!(r.requests, 2);
        assert_eq!(r.processed_bytes, 100);
        let text = r.to_string();
        assert!(text.starts_with("3 of 5 events ingested into dataset audit; 2 failed (first failures: event at 2026-11-21T03:04:05Z: field \"is_change\": type mismatch"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.contains("; no reason given)"), "{text}");
    }
}
