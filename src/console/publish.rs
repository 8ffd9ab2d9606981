//! Publishing an approved report: what each target is sent (one place, so
//! the publish popup's preview is what goes out) and the outbox row that
//! carries it. Rows are keyed `{sink}:INV-12:{kind}`, so publishing the
//! same report to the same target twice queues it once.

use serde_json::json;

use super::drafts::verdict_to_console as console_verdict;
use crate::config::Config;
use crate::detect::Workflow;
use crate::investigate::publish::{confluence_page_item, confluence_page_title};
use crate::investigate::render::{to_markdown, to_text};
use crate::investigate::report::Report;
use crate::sinks::{DeliveryRequest, PagerDutyAction as SinkPagerDutyAction};
use crate::store::{DraftRow, NewOutboxItem, Sink, TriggerKind, draft_label};
use crate::tui::model::{PagerDutyAction, PublishTarget};

/// Every target, as the dedup-key triple `(sink, kind)`.
const TARGET_KEYS: [(PublishTarget, &str, &str); 5] = [
    (PublishTarget::Confluence, "confluence", "page"),
    (PublishTarget::Linear, "linear", "ticket"),
    (
        PublishTarget::PagerDuty(PagerDutyAction::Trigger),
        "pagerduty",
        "trigger",
    ),
    (
        PublishTarget::PagerDuty(PagerDutyAction::Acknowledge),
        "pagerduty",
        "acknowledge",
    ),
    (
        PublishTarget::PagerDuty(PagerDutyAction::Resolve),
        "pagerduty",
        "resolve",
    ),
];

/// The outbox dedup key of publishing draft `label` to `target`.
pub fn outbox_key(target: PublishTarget, label: &str) -> String {
    let (_, sink, kind) = TARGET_KEYS
        .iter()
        .find(|(t, _, _)| *t == target)
        .copied()
        .unwrap_or((target, "confluence", "page"));
    format!("{sink}:{label}:{kind}")
}

/// The outbox kind of `target` (`page`, `ticket`, `trigger`, ...).
pub fn outbox_kind(target: PublishTarget) -> &'static str {
    TARGET_KEYS
        .iter()
        .find(|(t, _, _)| *t == target)
        .map_or("page", |(_, _, kind)| kind)
}

/// The dedup keys of every target of draft `label`.
pub fn publish_keys(label: &str) -> Vec<String> {
    TARGET_KEYS
        .iter()
        .map(|(t, _, _)| outbox_key(*t, label))
        .collect()
}

/// What the targets are sent for one approved report.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishContent {
    pub confluence_title: String,
    /// The document in Markdown: Linear's body.
    pub markdown: String,
    /// And as plain text: the Confluence preview in the terminal.
    pub text: String,
    pub linear_title: String,
    pub pagerduty_summary: String,
}

/// PagerDuty refuses longer summaries.
const PAGERDUTY_SUMMARY_CHARS: usize = 1024;

pub fn content(report: &Report, row: &DraftRow) -> PublishContent {
    let doc = report.document(row.status.as_str());
    let label = draft_label(row.id);
    let verdict = report.assessment.verdict.label();
    let actor = crate::sanitize::sanitize_with_limit(report.actor.trim(), 120);
    let confluence_title = confluence_page_title(row.id, report);
    let pagerduty_summary: String = format!(
        "soc-tui {label}: {actor} - {verdict} ({:.2})",
        report.assessment.confidence
    )
    .chars()
    .take(PAGERDUTY_SUMMARY_CHARS)
    .collect();
    PublishContent {
        markdown: to_markdown(&doc),
        text: to_text(&doc),
        linear_title: format!("Investigation {label}: {actor} - {verdict}"),
        confluence_title,
        pagerduty_summary,
    }
}

/// The outbox row that publishes `report` (of draft `row`) to `target`;
/// refused when the target is not configured, naming the keys to set.
pub fn outbox_item(
    target: PublishTarget,
    row: &DraftRow,
    report: &Report,
    config: &Config,
) -> Result<NewOutboxItem, String> {
    let label = draft_label(row.id);
    let dedup_key = outbox_key(target, &label);
    let content = content(report, row);
    let severity = console_verdict(report.assessment.verdict).severity();
    let request = match target {
        PublishTarget::Confluence => {
            if !config.confluence.is_configured() {
                return Err(
                    "Confluence is not configured: set [confluence] base_url, space_key and email"
                        .into(),
                );
            }
            // One builder with `soc-tui report approve --publish confluence`.
            return confluence_page_item(row.id, report)
                .map_err(|e| format!("the Confluence page cannot be stored: {e}"));
        }
        PublishTarget::Linear => {
            if !config.linear.is_configured() {
                return Err("Linear is not configured: set [linear] team_id".into());
            }
            DeliveryRequest::LinearIssue {
                dedup_key: dedup_key.clone(),
                title: content.linear_title,
                body_markdown: content.markdown,
                priority: severity.linear_priority(),
                labels: vec![
                    "soc-tui".into(),
                    "investigation".into(),
                    report.assessment.verdict.as_str().into(),
                ],
                workflow: Some(Workflow::Investigation),
                rule_severity: Some(severity),
            }
        }
        PublishTarget::PagerDuty(action) => {
            if !config.pagerduty.enabled {
                return Err("PagerDuty is not configured: set [pagerduty] enabled = true".into());
            }
            DeliveryRequest::PagerDutyEvent {
                dedup_key: pagerduty_key(row),
                action: match action {
                    PagerDutyAction::Trigger => SinkPagerDutyAction::Trigger,
                    PagerDutyAction::Acknowledge => SinkPagerDutyAction::Acknowledge,
                    PagerDutyAction::Resolve => SinkPagerDutyAction::Resolve,
                },
                summary: content.pagerduty_summary,
                severity: severity.pagerduty(),
                timestamp: report.window.at,
                custom_details: json!({
                    "investigation": label,
                    "actor": report.actor,
                    "verdict": report.assessment.verdict.as_str(),
                    "confidence": report.assessment.confidence,
                    "approved_by": row.approved_by,
                }),
                links: Vec::new(),
                rule_severity: Some(severity),
            }
        }
    };
    let payload = serde_json::to_value(&request)
        .map_err(|e| format!("the {} request cannot be stored: {e}", target.label()))?;
    Ok(NewOutboxItem {
        dedup_key,
        finding_id: None,
        sink: store_sink(target),
        kind: outbox_kind(target).to_owned(),
        payload,
    })
}

/// One PagerDuty alert per investigation: the alert of the finding that
/// started it when there is one (so acknowledging the report acknowledges
/// the page the finding raised), else one keyed by the report.
fn pagerduty_key(row: &DraftRow) -> String {
    match (&row.trigger_kind, &row.trigger_ref) {
        (TriggerKind::Finding, Some(finding)) => finding.clone(),
        _ => format!("soc-tui:{}", draft_label(row.id)),
    }
}

fn store_sink(target: PublishTarget) -> Sink {
    match target {
        PublishTarget::Confluence => Sink::Confluence,
        PublishTarget::Linear => Sink::Linear,
        PublishTarget::PagerDuty(_) => Sink::PagerDuty,
    }
}
