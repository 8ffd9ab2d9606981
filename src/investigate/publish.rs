//! What an approved report publishes: its Confluence page as an outbox row.
//! One place builds it, so the CLI and the console queue the same request.

use crate::sinks::DeliveryRequest;
use crate::sinks::confluence::{StatusLabel, report_title};
use crate::store::{NewOutboxItem, Sink, draft_label};

use super::render::to_storage_doc;
use super::report::Report;
use super::verdict::Verdict;

/// The outbox dedup key of a draft's page: one page per investigation.
pub fn confluence_page_key(draft_id: i64) -> String {
    format!("confluence:{}:page", draft_label(draft_id))
}

/// The page's deterministic title (`[SOC] 2026-11-20 actor - verdict
/// (INV-12)`), which the Confluence sink looks up before a retry creates.
pub fn confluence_page_title(draft_id: i64, report: &Report) -> String {
    report_title(
        report.window.at.date_naive(),
        &report.actor,
        status_label(report.assessment.verdict),
        &draft_label(draft_id),
    )
}

/// The page request for an approved report: its title
/// ([`confluence_page_title`]) and the report as storage XHTML.
pub fn confluence_page_item(
    draft_id: i64,
    report: &Report,
) -> Result<NewOutboxItem, serde_json::Error> {
    let key = confluence_page_key(draft_id);
    let title = confluence_page_title(draft_id, report);
    let body = to_storage_doc(&report.document("approved"));
    let request = DeliveryRequest::confluence_page(key.clone(), title, body);
    Ok(NewOutboxItem {
        dedup_key: key,
        finding_id: None,
        sink: Sink::Confluence,
        kind: "page".to_owned(),
        payload: serde_json::to_value(&request)?,
    })
}

fn status_label(verdict: Verdict) -> StatusLabel {
    match verdict {
        Verdict::Benign => StatusLabel::Benign,
        Verdict::Misconfiguration => StatusLabel::Misconfiguration,
        Verdict::Suspicious => StatusLabel::Suspicious,
        Verdict::LikelyMalicious => StatusLabel::LikelyMalicious,
    }
}
