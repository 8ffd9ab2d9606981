//! What a detector reports, and what it asks the sinks to do.
//!
//! Findings are data: delivery (Linear, PagerDuty, S3) is the outbox's job.
//!
//! # Dedup keys
//!
//! The same condition seen twice must be one finding, so every key is built
//! from what identifies the condition, never from when the check ran:
//!
//! | workflow | key                                          | example |
//! |----------|----------------------------------------------|---------|
//! | baseline | `baseline:{actor}:{hour}`                    | `baseline:bob@example.com:2026-11-21T03:00:00Z` |
//! | burst    | `burst:{actor}:{rule}:{burst start}`         | `burst:bob@example.com:role_grant:2026-11-21T12:03:10Z` |
//! | token    | `token:{source event id}`                    | `token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425` |
//!
//! `{actor}` is [`crate::model::actor_key`]; timestamps are RFC 3339 UTC with
//! whole seconds (`Z` suffix). A burst that continues into the next window
//! keeps its start, hence its key: the second window updates the finding.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Which scheduled check produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Workflow {
    Baseline,
    Burst,
    Token,
    Investigation,
}

impl Workflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Baseline => "baseline",
            Workflow::Burst => "burst",
            Workflow::Token => "token",
            Workflow::Investigation => "investigation",
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered from least to most severe, so `max()` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Linear issue priority: 1 urgent, 2 high, 3 medium, 4 low.
    pub fn linear_priority(self) -> u8 {
        match self {
            Severity::Critical => 1,
            Severity::High => 2,
            Severity::Medium => 3,
            Severity::Low | Severity::Info => 4,
        }
    }

    /// PagerDuty Events v2 has four levels; `high` maps to `error`.
    pub fn pagerduty(self) -> PagerDutySeverity {
        match self {
            Severity::Critical => PagerDutySeverity::Critical,
            Severity::High => PagerDutySeverity::Error,
            Severity::Medium => PagerDutySeverity::Warning,
            Severity::Low | Severity::Info => PagerDutySeverity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity {s:?} (expected info, low, medium, high or critical)")
            })
    }
}

/// `payload.severity` of a PagerDuty Events v2 trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PagerDutySeverity {
    Critical,
    Error,
    Warning,
    Info,
}

/// Something a sink should do because of a finding. The outbox derives each
/// sink's idempotency key from the finding's dedup key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "sink", rename_all = "snake_case")]
pub enum SinkRequest {
    /// A Linear issue. `title` and `body_markdown` already have every
    /// attacker string passed through [`super::markdown::markdown_escape`].
    LinearTicket {
        title: String,
        body_markdown: String,
        /// 1 urgent .. 4 low (see [`Severity::linear_priority`]).
        priority: u8,
        labels: Vec<String>,
    },
    /// A PagerDuty Events v2 `trigger`; the dedup key is the finding's.
    PagerDutyTrigger {
        summary: String,
        severity: PagerDutySeverity,
        custom_details: serde_json::Value,
    },
    /// Archive the verbatim source event (S3 with object lock, or a local dir).
    ArchiveObject {
        event_id: String,
        account: Option<String>,
        time: DateTime<Utc>,
    },
}

/// Why a matching rule did not raise an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum SuppressedBy {
    /// An expiring `[[suppressions]]` entry.
    Suppression {
        /// The entry's rule pattern, as written.
        pattern: String,
        until: DateTime<Utc>,
        reason: String,
    },
    /// An `[allow]` entry naming the actor; `pattern` is its rule-id key.
    AllowList { pattern: String },
}

/// One rule that matched but was silenced. Reported, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedHit {
    /// The rule id that matched (`token.write`, `burst.role_grant`, ...).
    pub rule: String,
    #[serde(flatten)]
    pub by: SuppressedBy,
}

/// One detector result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub workflow: Workflow,
    /// Stable identity of the condition (see the module docs).
    pub dedup_key: String,
    /// [`crate::model::actor_key`] of who did it; raw attacker text, sanitize before drawing.
    pub actor: String,
    pub severity: Severity,
    /// One line for lists; terminal-safe (built with `sanitize`).
    pub title: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// A few plain sentences; terminal-safe.
    pub summary: String,
    /// Structured figures behind the finding (counts, baselines, scopes).
    pub evidence: serde_json::Value,
    /// Source ids of the events behind the finding (capped; the count is in `evidence`).
    pub event_ids: Vec<String>,
    /// Rule ids that fired and are not silenced.
    pub rules: Vec<String>,
    /// Rule ids that fired but are silenced by a suppression or allow-list.
    pub suppressed: Vec<SuppressedHit>,
    /// What to send. Empty when everything that fired is suppressed, except
    /// token archive requests, which are kept for every token creation.
    pub requests: Vec<SinkRequest>,
}

impl Finding {
    /// True when rules fired and every one of them is silenced.
    pub fn is_suppressed(&self) -> bool {
        self.rules.is_empty() && !self.suppressed.is_empty()
    }
}

/// RFC 3339, UTC, whole seconds: the timestamp form used in dedup keys.
pub fn key_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn severities_order_and_map_to_sinks() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(Severity::High.linear_priority(), 2);
        assert_eq!(Severity::High.pagerduty(), PagerDutySeverity::Error);
        assert_eq!("medium".parse::<Severity>(), Ok(Severity::Medium));
        assert!("urgent".parse::<Severity>().is_err());
    }

    #[test]
    fn key_time_is_whole_seconds_utc() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
            + chrono::Duration::milliseconds(250);
        assert_eq!(key_time(t), "2026-11-21T03:00:00Z");
    }

    #[test]
    fn findings_round_trip_through_json() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();
        let f = Finding {
            workflow: Workflow::Token,
            dedup_key: "token:e1".into(),
            actor: "a@example.com".into(),
            severity: Severity::High,
            title: "t".into(),
            window_start: t,
            window_end: t,
            summary: "s".into(),
            evidence: serde_json::json!({"k": 1}),
            event_ids: vec!["e1".into()],
            rules: vec!["token.write".into()],
            suppressed: vec![SuppressedHit {
                rule: "token.broad".into(),
                by: SuppressedBy::Suppression {
                    pattern: "token.*".into(),
                    until: t,
                    reason: "r".into(),
                },
            }],
            requests: vec![SinkRequest::ArchiveObject {
                event_id: "e1".into(),
                account: None,
                time: t,
            }],
        };
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Finding>(&text).unwrap(), f);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["suppressed"][0],
            serde_json::json!({"rule": "token.broad", "by": "suppression", "pattern": "token.*",
                               "until": "2026-11-21T03:00:00Z", "reason": "r"})
        );
    }

    #[test]
    fn sink_requests_serialize_with_a_sink_tag() {
        let r = SinkRequest::PagerDutyTrigger {
            summary: "s".into(),
            severity: PagerDutySeverity::Warning,
            custom_details: serde_json::json!({}),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["sink"], "pager_duty_trigger");
        assert_eq!(v["severity"], "warning");
    }
}
