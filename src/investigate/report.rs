//! The draft report: what an investigation found, as stored in the draft
//! (JSON) and as laid out for people ([`Report::document`], rendered by
//! `render` as terminal text, Markdown or Confluence storage XHTML).
//!
//! Every string that came from an event or a sender is kept raw here; the
//! renderers escape it for their medium.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::Window;
use super::identity::Identity;
use super::markers::{MarkerKind, Sequence, resource_label};
use super::render::{Block, Cell};
use super::timeline::{Timeline, TimelineStats};
use super::verdict::{Assessment, Verdict};
use crate::store::draft_label;

/// Rows of the timeline table; the full timeline is in the store.
pub const MAX_REPORT_ROWS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: i64,
    pub actor: String,
    pub identity: IdentitySummary,
    pub window: Window,
    pub trigger: TriggerInfo,
    pub generated_at: DateTime<Utc>,
    /// The verdict the draft stands on (the model's when it was accepted).
    pub assessment: Assessment,
    /// The heuristic engine's own verdict, always kept for comparison.
    pub heuristic: Assessment,
    pub engine: EngineInfo,
    pub stats: TimelineStats,
    pub timeline: Vec<TimelineRow>,
    /// Events of the window not in `timeline` (the table is capped).
    pub timeline_omitted: usize,
    pub sequences: Vec<Sequence>,
    pub source_findings: Vec<FindingLink>,
    /// Things the analyst should know about the material (failed live queries, truncation).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentitySummary {
    pub emails: Vec<String>,
    pub cloudflare_ids: Vec<String>,
    pub datadog_ids: Vec<String>,
    pub other_ids: Vec<String>,
    pub provenance: Vec<String>,
}

impl From<&Identity> for IdentitySummary {
    fn from(identity: &Identity) -> Self {
        IdentitySummary {
            emails: identity.emails.iter().cloned().collect(),
            cloudflare_ids: identity.cloudflare_ids.iter().cloned().collect(),
            datadog_ids: identity.datadog_ids.iter().cloned().collect(),
            other_ids: identity.other_ids.iter().cloned().collect(),
            provenance: identity.provenance.clone(),
        }
    }
}

/// What started the investigation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerInfo {
    /// `webhook`, `finding` or `cli`.
    pub kind: String,
    /// Delivery id or finding dedup key.
    pub reference: Option<String>,
    pub detector: Option<String>,
    pub source: Option<String>,
    pub action: Option<String>,
    pub details: Option<Value>,
}

/// Which engine produced the verdict, and what happened to the model's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// `heuristic`, or `openai` / `anthropic` when the model's answer stands.
    pub verdict_from: String,
    /// The configured agent, when one was asked.
    pub agent: Option<AgentInfo>,
    /// Why the model's answer does not stand (the heuristic verdict does).
    pub fallback: Option<String>,
    /// The model's answer looked steered by text in the data.
    pub untrusted_output: bool,
    pub untrusted_reason: Option<String>,
    /// What the model said, when it said something valid.
    pub model_verdict: Option<Verdict>,
    pub model_confidence: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub provider: String,
    pub model: String,
}

/// A finding of the scheduled checks this investigation relates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingLink {
    pub workflow: String,
    pub dedup_key: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    pub event_ref: String,
    pub time: DateTime<Utc>,
    pub source: String,
    pub action: String,
    pub resource: String,
    pub ip: Option<String>,
    pub outcome: String,
    pub markers: Vec<MarkerKind>,
}

/// The rows of the report's table: all events when they fit, else the
/// marked ones (earliest first) up to the cap.
pub fn timeline_rows(timeline: &Timeline) -> (Vec<TimelineRow>, usize) {
    let all = timeline.entries.len();
    let fits = all <= MAX_REPORT_ROWS;
    let rows: Vec<TimelineRow> = timeline
        .entries
        .iter()
        .filter(|e| fits || !e.markers.is_empty())
        .take(MAX_REPORT_ROWS)
        .map(|e| {
            let mut markers: Vec<MarkerKind> = e.markers.iter().map(|m| m.kind).collect();
            markers.dedup();
            TimelineRow {
                event_ref: e.event_ref.clone(),
                time: e.event.time,
                source: e.event.source.short().to_owned(),
                action: e.event.action.verb.clone(),
                resource: resource_label(&e.event),
                ip: e.event.actor.ip.clone(),
                outcome: e.event.outcome.as_str().to_owned(),
                markers,
            }
        })
        .collect();
    let omitted = all - rows.len();
    (rows, omitted)
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Report {
    pub fn label(&self) -> String {
        draft_label(self.id)
    }

    /// The report laid out for people; `status` is the draft's current status.
    pub fn document(&self, status: &str) -> Vec<Block> {
        let a = &self.assessment;
        let mut doc = vec![
            Block::Title(format!(
                "{}: {} \u{2014} {} ({:.2})",
                self.label(),
                self.actor,
                a.verdict,
                a.confidence
            )),
            Block::Fields(vec![
                ("Status".into(), status_text(status)),
                ("Actor".into(), self.actor.clone()),
                ("Anomaly time".into(), time_text(self.window.at)),
                (
                    "Window".into(),
                    format!(
                        "{} to {}",
                        time_text(self.window.from),
                        time_text(self.window.to)
                    ),
                ),
                ("Trigger".into(), self.trigger_text()),
                ("Verdict from".into(), self.engine.verdict_from.clone()),
            ]),
        ];
        if self.engine.untrusted_output {
            doc.push(Block::Warning(format!(
                "untrusted_output: the model's answer was discarded: {}",
                self.engine
                    .untrusted_reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            )));
        } else if let Some(fallback) = &self.engine.fallback {
            doc.push(Block::Warning(format!(
                "The heuristic verdict stands: {fallback}"
            )));
        }
        doc.push(Block::Heading("Summary".into()));
        doc.push(Block::Paragraph(a.summary.clone()));
        doc.push(Block::Heading("Verdict".into()));
        let mut verdict_lines = vec![format!("{} with confidence {:.2}", a.verdict, a.confidence)];
        if self.engine.verdict_from != "heuristic" {
            verdict_lines.push(format!(
                "Heuristic engine: {} with confidence {:.2}",
                self.heuristic.verdict, self.heuristic.confidence
            ));
        }
        if let (Some(v), Some(c)) = (self.engine.model_verdict, self.engine.model_confidence)
            && self.engine.verdict_from == "heuristic"
        {
            verdict_lines.push(format!(
                "Model answer (not used): {v} with confidence {c:.2}"
            ));
        }
        doc.push(Block::List(verdict_lines));
        if !self.heuristic.factors.is_empty() {
            doc.push(Block::Table {
                headers: vec!["Factor".into(), "Weight".into(), "Events".into()],
                rows: self
                    .heuristic
                    .factors
                    .iter()
                    .map(|f| {
                        vec![
                            Cell::Text(f.name.clone()),
                            Cell::Mono(format!("{:+.2}", f.weight)),
                            Cell::Mono(refs_text(&f.event_refs)),
                        ]
                    })
                    .collect(),
            });
        }
        doc.push(Block::Heading("Recommended next step".into()));
        doc.push(Block::Numbered(
            a.next_steps.iter().map(|s| s.describe()).collect(),
        ));
        doc.push(Block::Heading("Indicators".into()));
        if a.indicators.is_empty() {
            doc.push(Block::Paragraph("None.".into()));
        } else {
            doc.push(Block::Table {
                headers: vec!["Severity".into(), "Indicator".into(), "Events".into()],
                rows: a
                    .indicators
                    .iter()
                    .map(|i| {
                        vec![
                            Cell::Mono(format!("{:?}", i.severity).to_lowercase()),
                            Cell::Text(i.title.clone()),
                            Cell::Mono(refs_text(&i.event_refs)),
                        ]
                    })
                    .collect(),
            });
        }
        if !self.sequences.is_empty() {
            doc.push(Block::Heading("Sequences".into()));
            doc.push(Block::List(
                self.sequences
                    .iter()
                    .map(|s| format!("{} [{}]", s.detail, s.event_refs.join(", ")))
                    .collect(),
            ));
        }
        doc.push(Block::Heading(format!(
            "Timeline ({} events: {} Cloudflare, {} Datadog)",
            self.stats.events, self.stats.cloudflare, self.stats.datadog
        )));
        if self.timeline_omitted > 0 {
            doc.push(Block::Paragraph(format!(
                "Showing {} marked events; {} unmarked events are omitted (all are in the store).",
                self.timeline.len(),
                self.timeline_omitted
            )));
        }
        doc.push(Block::Table {
            headers: [
                "Time (UTC)",
                "Src",
                "Action",
                "Resource",
                "IP",
                "Outcome",
                "Markers",
                "Event",
            ]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
            rows: self.timeline.iter().map(row_cells).collect(),
        });
        doc.push(Block::Heading("Source findings".into()));
        if self.source_findings.is_empty() {
            doc.push(Block::Paragraph("None linked.".into()));
        } else {
            doc.push(Block::List(
                self.source_findings
                    .iter()
                    .map(|f| format!("{} finding {}: {}", f.workflow, f.dedup_key, f.title))
                    .collect(),
            ));
        }
        let identity_lines = self.identity_lines();
        if !identity_lines.is_empty() {
            doc.push(Block::Heading("Identity".into()));
            doc.push(Block::List(identity_lines));
        }
        if !self.notes.is_empty() {
            doc.push(Block::Heading("Notes".into()));
            doc.push(Block::List(self.notes.clone()));
        }
        doc
    }

    fn trigger_text(&self) -> String {
        let t = &self.trigger;
        let mut parts = vec![t.kind.clone()];
        if let Some(detector) = &t.detector {
            parts.push(format!("detector {detector}"));
        }
        if let Some(action) = &t.action {
            parts.push(format!("action {action}"));
        }
        if let Some(reference) = &t.reference {
            parts.push(format!("ref {reference}"));
        }
        parts.join(", ")
    }

    fn identity_lines(&self) -> Vec<String> {
        let i = &self.identity;
        let mut lines = Vec::new();
        for (label, names) in [
            ("Emails", &i.emails),
            ("Cloudflare actor ids", &i.cloudflare_ids),
            ("Datadog user ids", &i.datadog_ids),
            ("Other names from the alias map", &i.other_ids),
        ] {
            if !names.is_empty() {
                lines.push(format!("{label}: {}", names.join(", ")));
            }
        }
        lines.extend(i.provenance.iter().cloned());
        lines
    }
}

fn status_text(status: &str) -> String {
    match status {
        "draft" => "draft, awaiting approval".to_owned(),
        other => other.to_owned(),
    }
}

fn refs_text(refs: &[String]) -> String {
    refs.join(", ")
}

fn row_cells(row: &TimelineRow) -> Vec<Cell> {
    vec![
        Cell::Mono(row.time.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::Mono(row.source.clone()),
        Cell::Text(row.action.clone()),
        Cell::Text(row.resource.clone()),
        Cell::Text(row.ip.clone().unwrap_or_default()),
        Cell::Mono(row.outcome.clone()),
        Cell::Mono(
            row.markers
                .iter()
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Cell::Mono(row.event_ref.clone()),
    ]
}
