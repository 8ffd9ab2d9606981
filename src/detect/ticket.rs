//! Markdown pieces shared by the ticket bodies. Every string from an audit
//! log or a rules file goes through [`markdown_escape`]; code spans only ever
//! hold our own constants (a backslash escape would show inside one).

use super::finding::{SuppressedBy, SuppressedHit, key_time};
use super::markdown::markdown_escape;

/// Event ids carried by a finding and listed in a ticket; the full count is
/// in the evidence.
pub const MAX_EVENT_IDS: usize = 200;
/// Event ids listed in a ticket body.
const TICKET_EVENT_IDS: usize = 25;

pub(crate) fn push_event_ids(md: &mut String, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    md.push_str(&format!("\n### Events ({})\n\n", ids.len()));
    for id in ids.iter().take(TICKET_EVENT_IDS) {
        md.push_str(&format!("- {}\n", markdown_escape(id)));
    }
    if ids.len() > TICKET_EVENT_IDS {
        md.push_str(&format!(
            "- and {} more (see the finding's evidence)\n",
            ids.len() - TICKET_EVENT_IDS
        ));
    }
}

pub(crate) fn push_suppressed(md: &mut String, hits: &[SuppressedHit]) {
    if hits.is_empty() {
        return;
    }
    md.push_str("\n### Also matched, but suppressed\n\n");
    for hit in hits {
        let why = match &hit.by {
            SuppressedBy::Suppression {
                pattern,
                until,
                reason,
            } => format!(
                "suppression {} until {}: {}",
                markdown_escape(pattern),
                key_time(*until),
                markdown_escape(reason)
            ),
            SuppressedBy::AllowList { pattern } => {
                format!("allow-list {}", markdown_escape(pattern))
            }
        };
        md.push_str(&format!("- {}: {why}\n", markdown_escape(&hit.rule)));
    }
}
