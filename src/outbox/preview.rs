//! An outbox row exactly as it would be sent: what it carries (the ticket's
//! Markdown, the page's XHTML, the incident's JSON, the archive object's
//! key and body) and every HTTP call the sink would make, credentials
//! redacted. `soc-tui outbox show`, the console's outbox view and
//! `soc-tui check --sample` all render through here.
//!
//! The text is raw: it carries audit-log fields. Callers sanitize it
//! before it reaches a terminal ([`to_text`] output goes through
//! `sanitize_multiline`; the console wraps it in `SafeText`).

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Config;
use crate::secrets::{NoKeychain, Resolver};
use crate::sinks::archive::ArchiveObject;
use crate::sinks::linear::LinearSink;
use crate::sinks::{DeliveryRequest, Preview, Sink as _, SinkSetupError, Sinks};
use crate::store::{OutboxItem, OutboxState, Store, StoreError};

/// What stands in for every credential in a preview. It never leaves the
/// process: every sink shows `[redacted]` where a credential goes.
const PLACEHOLDER: &str = "preview-placeholder";

/// A preview must never read a real secret.
const NO_KEYCHAIN: NoKeychain = NoKeychain::new("previews do not read the keychain");

fn placeholder_env(_: &str) -> Option<std::ffi::OsString> {
    Some(PLACEHOLDER.into())
}

/// The configured sinks, built for previews only: with placeholder
/// credentials (the previews redact them), so a request can be shown
/// before its service's credential is stored, and no secret is read.
pub fn preview_sinks(config: &Config, data_dir: &Path) -> Result<Sinks, SinkSetupError> {
    let resolver = Resolver::new(&placeholder_env, &NO_KEYCHAIN);
    Sinks::from_config(config, &resolver, data_dir)
}

/// A request rendered for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedRequest {
    /// `(label, text)` parts of what is sent, in reading order.
    pub content: Vec<(String, String)>,
    /// The HTTP calls, or why they cannot be shown (the sink is not
    /// configured, the request cannot be built).
    pub calls: Result<Preview, String>,
}

/// `request`'s content and the calls `sinks` would make for it. `archive_prefix`
/// is `[s3] prefix`, for the archive object's key.
pub fn render_request(
    request: &DeliveryRequest,
    sinks: &Sinks,
    archive_prefix: &str,
) -> RenderedRequest {
    RenderedRequest {
        content: content(request, archive_prefix),
        calls: sinks.preview(request).map_err(|e| e.to_string()),
    }
}

fn content(request: &DeliveryRequest, archive_prefix: &str) -> Vec<(String, String)> {
    let part = |label: &str, text: String| (label.to_owned(), text);
    match request {
        DeliveryRequest::LinearIssue {
            dedup_key,
            title,
            body_markdown,
            priority,
            labels,
            workflow,
            rule_severity,
        } => vec![
            part("Linear issue", title.clone()),
            part("Issue id", LinearSink::issue_id(dedup_key)),
            part(
                "Priority",
                match rule_severity {
                    // The sink maps the severity at delivery; the request
                    // below carries the number it would send.
                    Some(severity) => format!("from severity {severity} by [linear.priorities]"),
                    None => format!("{priority} (1 urgent .. 4 low)"),
                },
            ),
            part(
                "Labels",
                format!(
                    "{}{}",
                    labels.join(", "),
                    workflow
                        .map(|w| format!(" + [linear.labels] {w}"))
                        .unwrap_or_default()
                ),
            ),
            part("Description (Markdown)", body_markdown.clone()),
        ],
        DeliveryRequest::LinearComment {
            dedup_key,
            issue_id,
            body_markdown,
        } => vec![
            part("Linear comment on issue", issue_id.clone()),
            part("Comment id", LinearSink::comment_id(dedup_key)),
            part("Body (Markdown)", body_markdown.clone()),
        ],
        DeliveryRequest::PagerDutyEvent { .. } => vec![part(
            "PagerDuty event",
            serde_json::to_string_pretty(request).unwrap_or_default(),
        )],
        DeliveryRequest::ArchiveObject { event_id, .. } => {
            let key = ArchiveObject::of(archive_prefix, request)
                .map_or_else(|e| format!("(cannot be built: {e})"), |o| o.key);
            vec![
                part("Archive object key", key),
                part("Event", event_id.clone()),
            ]
        }
        DeliveryRequest::ConfluencePage {
            title,
            storage_body,
            ..
        } => vec![
            part("Confluence page", title.clone()),
            part("Body (storage XHTML)", storage_body.clone()),
        ],
    }
}

/// An outbox row's request, as the delivery worker would build it.
pub fn item_request(
    store: &Store,
    item: &OutboxItem,
) -> Result<Result<DeliveryRequest, String>, StoreError> {
    super::worker::to_request(store, item.finding_id, &item.payload)
}

/// What the row's state means for sending.
pub fn state_note(item: &OutboxItem) -> &'static str {
    match item.state {
        OutboxState::DryRun => "dry run: recorded by a workflow in dry-run, never sent",
        OutboxState::Queued => "queued: the delivery worker sends it",
        OutboxState::InFlight => "in flight: being sent now",
        OutboxState::Delivered => "delivered",
        OutboxState::Dead => "dead: given up (retry with `soc-tui outbox retry ID`)",
    }
}

/// The whole preview of a row as text (raw: sanitize before printing).
pub fn to_text(item: &OutboxItem, request: &Result<RenderedRequest, String>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "outbox #{}  {} {}  {}",
        item.id,
        item.sink,
        item.kind,
        state_note(item)
    );
    let _ = writeln!(out, "dedup key: {}", item.dedup_key);
    if let Some(finding) = item.finding_id {
        let _ = writeln!(out, "finding: #{finding}");
    }
    let _ = writeln!(
        out,
        "created {}, updated {}, attempts {}",
        item.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        item.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        item.attempts
    );
    if let Some(url) = item.remote_url.as_ref().or(item.remote_id.as_ref()) {
        let _ = writeln!(out, "remote: {url}");
    }
    if let Some(error) = &item.last_error {
        let _ = writeln!(out, "last error: {error}");
    }
    out.push('\n');
    match request {
        Ok(rendered) => out.push_str(&rendered_text(rendered)),
        Err(why) => {
            let _ = writeln!(out, "The request cannot be built: {why}");
        }
    }
    out
}

/// The content, then the calls.
pub fn rendered_text(rendered: &RenderedRequest) -> String {
    let mut out = String::from("== What it sends ==\n");
    for (label, text) in &rendered.content {
        if text.contains('\n') || text.len() > 100 {
            let _ = writeln!(out, "{label}:\n{text}");
        } else {
            let _ = writeln!(out, "{label}: {text}");
        }
    }
    out.push_str("\n== HTTP calls (credentials redacted) ==\n");
    match &rendered.calls {
        Ok(preview) => out.push_str(&preview.to_string()),
        Err(why) => {
            let _ = writeln!(out, "not shown: {why}");
        }
    }
    out
}

/// Renders the row `id` of `store`: `Ok(None)` when there is no such row.
pub fn render_item(
    store: &Store,
    id: i64,
    sinks: &Sinks,
    archive_prefix: &str,
) -> Result<Option<String>, StoreError> {
    let Some(item) = store.outbox_item(id)? else {
        return Ok(None);
    };
    let rendered = item_request(store, &item)?.map(|r| render_request(&r, sinks, archive_prefix));
    Ok(Some(to_text(&item, &rendered)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_sinks_need_no_credential_and_redact_the_placeholder() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.linear.team_id = Some("9cfb482a-81e3-4154-b5b9-2c805e70a02d".into());
        let sinks = preview_sinks(&config, dir.path()).unwrap();
        let request = DeliveryRequest::LinearIssue {
            dedup_key: "token:e1".into(),
            title: "Review token".into(),
            body_markdown: "# Token\n- revoke".into(),
            priority: 2,
            labels: vec!["soc-tui".into()],
            workflow: None,
            rule_severity: None,
        };
        let rendered = render_request(&request, &sinks, "soc-tui");
        let text = rendered_text(&rendered);
        assert!(
            text.contains("Description (Markdown):\n# Token\n- revoke"),
            "{text}"
        );
        assert!(text.contains("Authorization: [redacted]"), "{text}");
        assert!(!text.contains(PLACEHOLDER), "{text}");

        // Not configured: the content still shows, and what to set is named.
        let page = DeliveryRequest::ConfluencePage {
            dedup_key: "confluence:INV-1:page".into(),
            title: "[SOC] report".into(),
            storage_body: "<p>x</p>".into(),
        };
        let text = rendered_text(&render_request(&page, &sinks, "soc-tui"));
        assert!(text.contains("Body (storage XHTML): <p>x</p>"), "{text}");
        assert!(
            text.contains("not shown: confluence: confluence is not configured"),
            "{text}"
        );
    }
}
