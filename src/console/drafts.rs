//! Investigation drafts as the console shows them: the row of pane 4, the
//! review view (fields, indicators, preview) and what the draft's report
//! says about the actor's timeline (its window, markers and linked events).
//!
//! Parsing a report costs; [`DraftCache`] keeps the result per draft until
//! its stamp moves.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::publish::{self, PublishContent};
use super::store_view::DraftRecord;
use crate::config::InvestigationConfig;
use crate::investigate::context::Window;
use crate::investigate::markers::MarkerKind as ReportMarker;
use crate::investigate::report::Report;
use crate::investigate::verdict::{Assessment, Verdict as ReportVerdict};
use crate::store::{DraftRow, DraftStatus, OutboxState, Sink as StoreSink, draft_label};
use crate::tui::model::{
    ActorKey, Delivery, DraftFields, DraftId, DraftView, EventId, Indicator, InvestigationRow,
    InvestigationStatus, Marker, MarkerKind, PublishPreview, SafeText, Verdict,
};

/// Notes the console adds to a report when the analyst edits the free
/// fields the report has no place for; read back into the fields.
pub const ANALYST_NEXT_STEP: &str = "Analyst's next step: ";
pub const ANALYST_NOTE: &str = "Analyst's note: ";

/// What a report says about its actor's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotations {
    pub actor: String,
    pub window: Window,
    /// Markers by event reference (`cf:<id>`).
    pub markers: HashMap<String, Vec<Marker>>,
    /// Events linked by a sequence (credential created, then used), by reference.
    pub links: HashMap<String, Vec<EventId>>,
}

impl Annotations {
    /// A window around `at` with nothing known about its events.
    pub fn bare(actor: &str, at: DateTime<Utc>, config: &InvestigationConfig) -> Annotations {
        Annotations {
            actor: actor.to_owned(),
            window: Window::around(at, config),
            markers: HashMap::new(),
            links: HashMap::new(),
        }
    }
}

/// A draft as the console shows it, deliveries not yet attached.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftParts {
    pub row: InvestigationRow,
    pub view: DraftView,
    pub annotations: Arc<Annotations>,
}

/// Parsed drafts by id, with the stamp they were parsed at.
#[derive(Debug, Default)]
pub struct DraftCache {
    parts: HashMap<i64, (DateTime<Utc>, DraftParts)>,
}

impl DraftCache {
    /// The console's view of each record (newest first), deliveries attached.
    pub fn build(
        &mut self,
        records: &[DraftRecord],
        config: &InvestigationConfig,
    ) -> Vec<DraftParts> {
        let mut fresh = HashMap::with_capacity(records.len());
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let row = &record.row;
            let parts = match self.parts.remove(&row.id) {
                Some((stamp, parts)) if stamp == row.updated_at => parts,
                _ => parts_of(row, config),
            };
            fresh.insert(row.id, (row.updated_at, parts.clone()));
            out.push(with_deliveries(parts, record));
        }
        self.parts = fresh;
        out
    }
}

fn with_deliveries(mut parts: DraftParts, record: &DraftRecord) -> DraftParts {
    let deliveries: Vec<Delivery> = record.outbox.iter().map(super::rows::delivery).collect();
    let published = record
        .outbox
        .iter()
        .any(|o| o.sink == StoreSink::Confluence && o.state == OutboxState::Delivered);
    if published && parts.row.status == InvestigationStatus::Approved {
        parts.row.status = InvestigationStatus::Published;
        parts.view.status = InvestigationStatus::Published;
    }
    if let Some(latest) = record.outbox.iter().map(|o| o.updated_at).max() {
        parts.row.updated_at = parts.row.updated_at.max(latest);
    }
    parts.row.deliveries.clone_from(&deliveries);
    parts.view.deliveries = deliveries;
    parts
}

/// Parses one draft (its report, when it has one).
pub fn parts_of(row: &DraftRow, config: &InvestigationConfig) -> DraftParts {
    let label = draft_label(row.id);
    let id = DraftId::new(label.clone());
    let actor = ActorKey::new(row.actor.clone());
    let status = match row.status {
        DraftStatus::Running => InvestigationStatus::Running,
        // A failed run stays listed as a draft: its summary says what failed,
        // and approving it is refused by the store with the reason.
        DraftStatus::Draft | DraftStatus::Failed => InvestigationStatus::Draft,
        DraftStatus::Approved => InvestigationStatus::Approved,
    };
    let report: Option<Report> = row
        .report_json
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    let (fields, ai_original, indicators, generated_by, annotations, preview) = match &report {
        Some(report) => {
            let fields = fields_of(&report.assessment, &report.notes);
            let original = original_fields(report);
            let preview = (row.status == DraftStatus::Approved)
                .then(|| preview(&publish::content(report, row)));
            (
                fields,
                original,
                indicators_of(report),
                generated_by(report),
                annotations_of(report),
                preview,
            )
        }
        None => {
            let summary = match (row.status, row.error.as_deref()) {
                (DraftStatus::Failed, error) => format!(
                    "The investigation failed: {}",
                    error.unwrap_or("no reason recorded")
                ),
                (DraftStatus::Running, _) => "The investigation is running.".to_owned(),
                _ => "The stored report cannot be read.".to_owned(),
            };
            let fields = DraftFields {
                verdict: Verdict::Inconclusive,
                confidence: 0.0,
                summary: SafeText::multiline(&summary),
                next_step: SafeText::new(""),
                free_text: SafeText::new(""),
            };
            let generated_by = if row.status == DraftStatus::Failed {
                "failed"
            } else {
                "not yet"
            };
            (
                fields.clone(),
                fields,
                Vec::new(),
                SafeText::new(generated_by),
                Annotations::bare(&row.actor, row.at, config),
                None,
            )
        }
    };
    let verdict = fields.verdict;
    let confidence = fields.confidence;
    DraftParts {
        row: InvestigationRow {
            id: id.clone(),
            label: SafeText::new(&label),
            actor: actor.clone(),
            verdict,
            confidence,
            status,
            finding: finding_of(row),
            updated_at: row.updated_at,
            deliveries: Vec::new(),
        },
        view: DraftView {
            id,
            label: SafeText::new(&label),
            actor,
            fields,
            ai_original,
            indicators,
            generated_by,
            status,
            preview,
            deliveries: Vec::new(),
        },
        annotations: Arc::new(annotations),
    }
}

/// The finding that started the investigation, when one did.
fn finding_of(row: &DraftRow) -> Option<crate::tui::model::FindingId> {
    (row.trigger_kind == crate::store::TriggerKind::Finding)
        .then(|| row.trigger_ref.clone())
        .flatten()
        .map(crate::tui::model::FindingId::new)
}

pub fn verdict_to_console(v: ReportVerdict) -> Verdict {
    match v {
        ReportVerdict::Benign => Verdict::Benign,
        ReportVerdict::Misconfiguration => Verdict::Misconfiguration,
        ReportVerdict::Suspicious => Verdict::Suspicious,
        ReportVerdict::LikelyMalicious => Verdict::LikelyMalicious,
    }
}

/// The report's verdict for a console verdict; reports have no
/// "malicious" or "inconclusive".
pub fn verdict_from_console(v: Verdict) -> Result<ReportVerdict, String> {
    match v {
        Verdict::Benign => Ok(ReportVerdict::Benign),
        Verdict::Misconfiguration => Ok(ReportVerdict::Misconfiguration),
        Verdict::Suspicious => Ok(ReportVerdict::Suspicious),
        Verdict::LikelyMalicious => Ok(ReportVerdict::LikelyMalicious),
        Verdict::Malicious | Verdict::Inconclusive => Err(format!(
            "a report's verdict is benign, misconfiguration, suspicious or likely malicious, \
             not {}",
            v.label()
        )),
    }
}

pub fn fields_of(assessment: &Assessment, notes: &[String]) -> DraftFields {
    let analyst = |prefix: &str| -> Vec<&str> {
        notes
            .iter()
            .filter_map(|n| n.strip_prefix(prefix))
            .collect()
    };
    let next_steps = analyst(ANALYST_NEXT_STEP);
    let next_step = match next_steps.last() {
        Some(step) => (*step).to_owned(),
        None => assessment
            .next_steps
            .iter()
            .map(|s| s.describe())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    DraftFields {
        verdict: verdict_to_console(assessment.verdict),
        confidence: assessment.confidence as f32,
        summary: SafeText::multiline(&assessment.summary),
        next_step: SafeText::multiline(&next_step),
        free_text: SafeText::multiline(&analyst(ANALYST_NOTE).join("\n")),
    }
}

/// What the engine wrote before any analyst edit: the heuristic's own
/// assessment, or the model's verdict when it stood.
fn original_fields(report: &Report) -> DraftFields {
    if report.engine.verdict_from == "heuristic" {
        return fields_of(&report.heuristic, &[]);
    }
    let mut fields = fields_of(&report.assessment, &[]);
    if let (Some(v), Some(c)) = (report.engine.model_verdict, report.engine.model_confidence) {
        fields.verdict = verdict_to_console(v);
        fields.confidence = c as f32;
    }
    fields
}

fn indicators_of(report: &Report) -> Vec<Indicator> {
    let kinds: HashMap<&str, &[ReportMarker]> = report
        .timeline
        .iter()
        .map(|r| (r.event_ref.as_str(), r.markers.as_slice()))
        .collect();
    report
        .assessment
        .indicators
        .iter()
        .map(|i| {
            let kind = i
                .event_refs
                .iter()
                .filter_map(|r| kinds.get(r.as_str()))
                .flat_map(|m| m.iter())
                .map(|m| marker_kind(*m))
                .find(|k| *k != MarkerKind::Other)
                .unwrap_or(MarkerKind::Other);
            Indicator {
                label: SafeText::with_limit(&i.title, 200),
                kind,
                event_ids: i.event_refs.iter().cloned().map(EventId::new).collect(),
            }
        })
        .collect()
}

fn generated_by(report: &Report) -> SafeText {
    let e = &report.engine;
    let mut text = match &e.agent {
        Some(agent) if e.verdict_from != "heuristic" => {
            format!("{}:{}", agent.provider, agent.model)
        }
        _ => e.verdict_from.clone(),
    };
    if let Some(reason) = &e.fallback {
        text.push_str(&format!(" (model answer not used: {reason})"));
    }
    SafeText::with_limit(&text, 300)
}

fn annotations_of(report: &Report) -> Annotations {
    let mut markers: HashMap<String, Vec<Marker>> = HashMap::new();
    for row in &report.timeline {
        let list = markers.entry(row.event_ref.clone()).or_default();
        for kind in &row.markers {
            list.push(Marker {
                kind: marker_kind(*kind),
                label: SafeText::new(kind.label()),
            });
        }
    }
    let mut links: HashMap<String, Vec<EventId>> = HashMap::new();
    for sequence in &report.sequences {
        for from in &sequence.event_refs {
            let linked = links.entry(from.clone()).or_default();
            for to in sequence.event_refs.iter().filter(|to| *to != from) {
                let id = EventId::new(to.clone());
                if !linked.contains(&id) {
                    linked.push(id);
                }
            }
        }
    }
    Annotations {
        actor: report.actor.clone(),
        window: report.window,
        markers,
        links,
    }
}

pub fn marker_kind(kind: ReportMarker) -> MarkerKind {
    match kind {
        ReportMarker::NewIp => MarkerKind::NewIp,
        ReportMarker::PrivilegeChange => MarkerKind::Privilege,
        ReportMarker::CredentialCreated | ReportMarker::BroadScope => MarkerKind::Credential,
        ReportMarker::Destructive => MarkerKind::Destructive,
        ReportMarker::NewUserAgent
        | ReportMarker::OffHours
        | ReportMarker::Failed
        | ReportMarker::InstructionText
        | ReportMarker::RoutineChange => MarkerKind::Other,
    }
}

fn preview(content: &PublishContent) -> PublishPreview {
    PublishPreview {
        confluence_title: SafeText::with_limit(&content.confluence_title, 300),
        confluence_body: SafeText::multiline(&content.text),
        linear_title: SafeText::with_limit(&content.linear_title, 300),
        linear_body: SafeText::multiline(&content.markdown),
        pagerduty_summary: SafeText::with_limit(&content.pagerduty_summary, 1024),
    }
}
