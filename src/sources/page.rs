//! One page of audit entries as an API client returns it, and the failure
//! of fetching one. Shared by the Cloudflare and Datadog clients.
//!
//! A page whose envelope is unusable (not JSON, no entry list, a cursor that
//! is not a string, a `success: false` inside a 200) is a [`FetchError::Malformed`]:
//! the poller stores nothing of the chunk it belongs to. One entry that does
//! not parse is only a [`Rejection`]: the rest of the page is still good.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::AuditEvent;
use crate::sources::http::HttpError;
use crate::sources::raw::Rejection;
use crate::sources::raw::error::excerpt;

/// Longest piece of a remote message or parser error quoted in an error.
const MAX_REASON_CHARS: usize = 200;

/// The entries of one page and where the next one starts.
#[derive(Debug, Default)]
pub struct Page {
    pub events: Vec<AuditEvent>,
    /// Entries that did not parse, positioned `entry <index>` within the page.
    pub rejected: Vec<Rejection>,
    /// Entries in the page, parsed or not.
    pub entries: usize,
    /// Cloudflare v2 `result_info.cursor`, Datadog `meta.page.after`; `None`
    /// on the last page. Cloudflare v1 pages have no cursor.
    pub cursor: Option<String>,
}

impl Page {
    /// The ids of the page's entries that parsed, in order (the v1 walk
    /// compares them to spot a server that ignores the page number).
    pub fn event_ids(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.id.as_str()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The service answered 2xx with something that is not a usable page.
    #[error("{endpoint}: unusable response: {reason}")]
    Malformed { endpoint: String, reason: String },
}

impl FetchError {
    pub(crate) fn malformed(endpoint: &str, reason: impl AsRef<str>) -> FetchError {
        FetchError::Malformed {
            endpoint: endpoint.to_owned(),
            reason: excerpt(reason.as_ref(), MAX_REASON_CHARS),
        }
    }

    /// The HTTP status when the service answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Http(e) => e.status().map(|s| s.as_u16()),
            FetchError::Malformed { .. } => None,
        }
    }
}

/// Which list key holds the entries and how the next page is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// `{success, errors, result: [...], result_info: {cursor}}`.
    CloudflareV2,
    /// `{success, errors, result: [...]}`, paged by number.
    CloudflareV1,
    /// `{data: [...], meta: {page: {after}}}`.
    Datadog,
}

#[derive(Deserialize)]
struct Outer<'a> {
    #[serde(borrow, default)]
    success: Option<&'a RawValue>,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    meta: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CursorHolder {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct DatadogMeta {
    #[serde(default)]
    page: Option<DatadogPageMeta>,
}

#[derive(Deserialize)]
struct DatadogPageMeta {
    #[serde(default)]
    after: Option<String>,
}

/// Parses a page body; `parse_entry` turns one entry's verbatim text into an
/// event. `endpoint` names the call in errors ("cloudflare GET /accounts/…").
pub(crate) fn parse_page(
    body: &[u8],
    envelope: Envelope,
    endpoint: &str,
    parse_entry: impl Fn(&str) -> Result<AuditEvent, String>,
) -> Result<Page, FetchError> {
    let malformed = |reason: String| FetchError::malformed(endpoint, reason);
    let outer: Outer<'_> = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "not a JSON object ({e}); first bytes: {}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        ))
    })?;

    if envelope != Envelope::Datadog && outer.success.is_some_and(|s| s.get().trim() != "true") {
        return Err(malformed(format!(
            "`success` is {} with errors {}",
            outer.success.map_or("", |s| s.get()),
            outer.errors.map_or("[]", |e| e.get())
        )));
    }
    let (key, list) = match envelope {
        Envelope::CloudflareV2 | Envelope::CloudflareV1 => ("result", outer.result),
        Envelope::Datadog => ("data", outer.data),
    };
    let list = list.ok_or_else(|| malformed(format!("no `{key}` list of entries")))?;
    let entries: Vec<&RawValue> = serde_json::from_str(list.get())
        .map_err(|_| malformed(format!("`{key}` is not an array of entries")))?;

    let cursor = match envelope {
        Envelope::CloudflareV2 => match outer.result_info {
            Some(info) if info.get().trim() != "null" => {
                serde_json::from_str::<CursorHolder>(info.get())
                    .map_err(|e| malformed(format!("`result_info` is unusable: {e}")))?
                    .cursor
            }
            _ => None,
        },
        Envelope::CloudflareV1 => None,
        Envelope::Datadog => match outer.meta {
            Some(meta) if meta.get().trim() != "null" => {
                serde_json::from_str::<DatadogMeta>(meta.get())
                    .map_err(|e| malformed(format!("`meta.page` is unusable: {e}")))?
                    .page
                    .and_then(|page| page.after)
            }
            _ => None,
        },
    }
    .filter(|cursor| !cursor.is_empty());

    let mut page = Page {
        events: Vec::with_capacity(entries.len()),
        rejected: Vec::new(),
        entries: entries.len(),
        cursor,
    };
    for (index, entry) in entries.iter().enumerate() {
        match parse_entry(entry.get()) {
            Ok(event) => page.events.push(event),
            Err(reason) => page.rejected.push(Rejection {
                position: format!("entry {index}"),
                reason,
            }),
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{cloudflare, datadog};

    fn cf_v2(body: &str) -> Result<Page, FetchError> {
        parse_page(
            body.as_bytes(),
            Envelope::CloudflareV2,
            "cloudflare GET /x",
            cloudflare::parse::parse_v2_entry,
        )
    }

    const V2_ENTRY: &str =
        r#"{"id":"e1","action":{"time":"2024-04-26T17:31:07Z","type":"create"}}"#;

    #[test]
    fn cloudflare_v2_page_with_cursor_and_a_bad_entry() {
        let body = format!(
            r#"{{"success":true,"errors":[],"result":[{V2_ENTRY},{{"id":"e2"}}],"result_info":{{"count":"2","cursor":"abc"}}}}"#
        );
        let page = cf_v2(&body).unwrap();
        assert_eq!(page.entries, 2);
        assert_eq!(page.event_ids(), ["e1"]);
        assert_eq!(page.events[0].raw, V2_ENTRY);
        assert_eq!(page.cursor.as_deref(), Some("abc"));
        assert_eq!(page.rejected[0].to_string(), "entry 1: action: missing");
    }

    #[test]
    fn an_empty_cursor_means_the_last_page() {
        let page = cf_v2(r#"{"success":true,"result":[],"result_info":{"cursor":""}}"#).unwrap();
        assert_eq!(page.cursor, None);
        let page = cf_v2(r#"{"success":true,"result":[],"result_info":null}"#).unwrap();
        assert_eq!(page.cursor, None);
    }

    #[test]
    fn unusable_envelopes_are_named() {
        let reason = |body: &str| match cf_v2(body).unwrap_err() {
            FetchError::Malformed { endpoint, reason } => {
                assert_eq!(endpoint, "cloudflare GET /x");
                reason
            }
            other => panic!("{other}"),
        };
        assert!(reason("<html>").starts_with("not a JSON object"));
        assert_eq!(reason(r#"{"success":true}"#), "no `result` list of entries");
        assert_eq!(
            reason(r#"{"success":true,"result":{}}"#),
            "`result` is not an array of entries"
        );
        assert!(
            reason(r#"{"success":true,"result":[],"result_info":{"cursor":7}}"#)
                .starts_with("`result_info` is unusable")
        );
        assert_eq!(
            reason(r#"{"success":false,"errors":[{"message":"no"}],"result":[]}"#),
            r#"`success` is false with errors [{"message":"no"}]"#
        );
    }

    #[test]
    fn remote_text_in_reasons_is_escaped_and_bounded() {
        let body = format!("\u{1b}[31m{}", "x".repeat(500));
        let error = cf_v2(&body).unwrap_err().to_string();
        assert!(!error.contains('\u{1b}'), "{error}");
        assert!(error.chars().count() < 320, "{error}");
    }

    #[test]
    fn datadog_cursor_comes_from_meta_page_after() {
        let body = r#"{"data":[{"id":"d1","type":"audit","attributes":{"timestamp":"2022-04-13T09:29:59Z"}}],"meta":{"page":{"after":"next"}},"links":{"next":"https://x"}}"#;
        let page = parse_page(
            body.as_bytes(),
            Envelope::Datadog,
            "datadog GET /api/v2/audit/events",
            datadog::parse::parse_entry,
        )
        .unwrap();
        assert_eq!(page.event_ids(), ["d1"]);
        assert_eq!(page.cursor.as_deref(), Some("next"));
        let last = parse_page(
            br#"{"data":[]}"#,
            Envelope::Datadog,
            "datadog GET /api/v2/audit/events",
            datadog::parse::parse_entry,
        )
        .unwrap();
        assert_eq!((last.entries, last.cursor), (0, None));
    }
}
