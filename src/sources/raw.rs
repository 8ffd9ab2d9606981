//! Raw audit data in, [`AuditEvent`]s out: format detection (a whole JSON
//! document or NDJSON), page splitting, and per-entry detection of the
//! source shape (Cloudflare v1, Cloudflare v2, Datadog).
//!
//! Every entry is parsed once into borrowed, lenient structs (`wire`,
//! `lenient`): unknown keys are skipped, wrong types on optional fields read
//! as absent, and only a missing or unusable `id` or timestamp rejects an
//! entry. A rejected entry never stops the others.

pub(crate) mod error;
pub(crate) mod lenient;
pub(crate) mod wire;

mod document;
mod sniff;
mod utf8;

use std::fmt;

use crate::model::AuditEvent;
use crate::sources::{cloudflare, datadog};

use self::error::EntryError;
use self::wire::{Entry, Shape};

/// Why one entry was skipped, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Human position: `entry 3` (0-based index in the document's entry list)
    /// or `line 17` (1-based NDJSON line).
    pub position: String,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.reason)
    }
}

/// The result of parsing one document: what loaded and what was skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<AuditEvent>,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON value: a page object (`{"result": [...]}`, `{"data": [...]}`),
    /// an array of entries, or a single entry.
    Json,
    /// One entry per line.
    Ndjson,
}

/// Guesses the format from the first bytes of a file (give it at least the
/// first two lines; 64 KiB is plenty). An object on the first line that is
/// complete and followed by more lines means NDJSON; an array, a pretty
/// printed object or a single value means one JSON document. Empty input is
/// NDJSON with no lines.
pub fn sniff(prefix: &[u8]) -> Format {
    sniff::sniff(prefix)
}

/// Parses a whole JSON document. Errors only when the document itself is
/// unreadable (syntax error, not an object/array); bad entries are rejections.
///
/// Also an error: a service error response (Cloudflare `success: false`,
/// Datadog `{"errors": [...]}`), named with the service's messages. Entries
/// holding invalid UTF-8 are rejected; the rest of the document loads.
pub fn parse_document(bytes: &[u8]) -> Result<Parsed, String> {
    document::parse(bytes).map_err(|e| e.to_string())
}

/// Parses one entry of any supported shape, detecting which it is.
pub fn parse_entry(raw: &str) -> Result<AuditEvent, String> {
    parse_any(raw).map_err(|e| e.to_string())
}

/// Parses one NDJSON line (`line_no` is 1-based, for the rejection).
/// A blank line is `Ok(None)`. The event's `raw` is the line without its
/// surrounding whitespace or line terminator.
pub fn parse_ndjson_line(line: &[u8], line_no: usize) -> Result<Option<AuditEvent>, Rejection> {
    let line = if line_no == 1 { strip_bom(line) } else { line };
    let leading = line.len() - line.trim_ascii_start().len();
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let reject = |error: EntryError| Rejection {
        position: format!("line {line_no}"),
        reason: error.to_string(),
    };
    let text = std::str::from_utf8(trimmed).map_err(|e| {
        reject(EntryError::InvalidUtf8 {
            offset: leading + e.valid_up_to(),
            within: "line",
        })
    })?;
    parse_any(text).map(Some).map_err(reject)
}

pub(crate) fn parse_any(raw: &str) -> Result<AuditEvent, EntryError> {
    let entry = Entry::from_json(raw)?;
    let shape = entry.shape()?;
    dispatch(shape, entry, raw)
}

pub(crate) fn dispatch(
    shape: Shape,
    entry: Entry<'_>,
    raw: &str,
) -> Result<AuditEvent, EntryError> {
    match shape {
        Shape::Datadog => datadog::parse::event(entry, raw),
        Shape::CloudflareV2 => cloudflare::parse::v2_event(entry, raw),
        Shape::CloudflareV1 => cloudflare::parse::v1_event(entry, raw),
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    #[test]
    fn entries_are_dispatched_by_shape() {
        let dd = r#"{"id":"d","type":"audit","attributes":{"timestamp":"2022-04-13T09:29:59Z"}}"#;
        let v2 = r#"{"id":"c2","action":{"time":"2024-04-26T17:31:07Z","type":"create"}}"#;
        let v1 =
            r#"{"id":"c1","when":"2021-11-30T20:19:48Z","action":{"type":"login","result":true}}"#;
        assert_eq!(parse_entry(dd).unwrap().source, Source::Datadog);
        let v2 = parse_entry(v2).unwrap();
        assert_eq!(
            (v2.source, v2.action.verb.as_str()),
            (Source::Cloudflare, "create")
        );
        let v1 = parse_entry(v1).unwrap();
        assert_eq!(
            (v1.source, v1.action.verb.as_str()),
            (Source::Cloudflare, "login")
        );
    }

    #[test]
    fn malformed_entries_are_reported_against_their_shape() {
        assert_eq!(
            parse_entry(r#"{"id":"x","account":{"id":"a"},"action":{"type":"create"}}"#)
                .unwrap_err(),
            "action.time: missing"
        );
        assert_eq!(
            parse_entry(r#"{"id":"x","owner":{"id":"a"},"action":{"result":true}}"#).unwrap_err(),
            "when: missing"
        );
        assert!(
            parse_entry(r#"{"id":"x"}"#)
                .unwrap_err()
                .starts_with("unrecognized entry")
        );
        assert!(parse_entry(r#"{"data":[]}"#).unwrap_err().contains("page"));
        assert_eq!(
            parse_entry("[1]").unwrap_err(),
            "entry is not a JSON object (got array)"
        );
    }

    #[test]
    fn ndjson_lines() {
        let line = b"  {\"id\":\"c1\",\"when\":\"2021-11-30T20:19:48Z\"}\r\n";
        let event = parse_ndjson_line(line, 3).unwrap().unwrap();
        assert_eq!(event.raw, r#"{"id":"c1","when":"2021-11-30T20:19:48Z"}"#);
        assert_eq!(parse_ndjson_line(b" \r\n", 4), Ok(None));
        let rejection = parse_ndjson_line(b" {\"id\":\"\xff\"}", 9).unwrap_err();
        assert_eq!(
            rejection.to_string(),
            "line 9: invalid UTF-8 at byte 8 of the line"
        );
        let bom = b"\xef\xbb\xbf{\"id\":\"c1\",\"when\":\"2021-11-30T20:19:48Z\"}";
        assert!(parse_ndjson_line(bom, 1).is_ok());
        assert!(parse_ndjson_line(bom, 2).is_err());
    }
}
