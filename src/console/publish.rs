//! Publishing an approved report: what each target is sent (one place, so
//! the publish popup's preview is what goes out) and the outbox row that
//! carries it. Rows are keyed `{sink}:INV-12:{kind}`, so publishing the
//! same report to the same target twice queues it once.

use crate::investigate::render::{to_markdown, to_storage};
use crate::investigate::report::Report;
use crate::store::{DraftRow, draft_label};
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
    /// Confluence storage format (XHTML), every string escaped.
    pub confluence_storage: String,
    /// The same document in Markdown: Linear's body and the preview.
    pub markdown: String,
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
    let confluence_title = format!(
        "[SOC] {} {actor} - {verdict} ({label})",
        report.window.at.format("%Y-%m-%d")
    );
    let pagerduty_summary: String = format!(
        "soc-tui {label}: {actor} - {verdict} ({:.2})",
        report.assessment.confidence
    )
    .chars()
    .take(PAGERDUTY_SUMMARY_CHARS)
    .collect();
    PublishContent {
        confluence_storage: to_storage(&doc),
        markdown: to_markdown(&doc),
        linear_title: format!("Investigation {label}: {actor} - {verdict}"),
        confluence_title,
        pagerduty_summary,
    }
}

/// TEMPORARY until the sinks land on main: the outbox row for publishing.
pub fn outbox_item(
    _store: &crate::store::Store,
    target: PublishTarget,
    _row: &DraftRow,
    _report: &Report,
    _config: &crate::config::Config,
) -> Result<crate::store::NewOutboxItem, String> {
    Err(format!("publishing to {} needs the sinks", target.label()))
}
