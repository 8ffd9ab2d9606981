//! Format detection for raw audit data: a whole JSON document (an API
//! response page or an array of entries) or NDJSON, either source.
//! PLACEHOLDER: implemented by the parsers work item.

use crate::model::AuditEvent;

/// Why one entry was skipped, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Human position: `entry 3` (0-based index in the document's entry list)
    /// or `line 17` (1-based NDJSON line).
    pub position: String,
    pub reason: String,
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

/// Guesses the format from the first bytes of a file.
pub fn sniff(_prefix: &[u8]) -> Format {
    Format::Json
}

/// Parses a whole JSON document. Errors only when the document itself is
/// unreadable (syntax error, not an object/array); bad entries are rejections.
pub fn parse_document(_bytes: &[u8]) -> Result<Parsed, String> {
    Err("parser not written yet".into())
}

/// Parses one entry of any supported shape, detecting which it is.
pub fn parse_entry(_raw: &str) -> Result<AuditEvent, String> {
    Err("parser not written yet".into())
}

/// Parses one NDJSON line (1-based `line_no`); a blank line is `Ok(None)`.
pub fn parse_ndjson_line(_line: &[u8], line_no: usize) -> Result<Option<AuditEvent>, Rejection> {
    Err(Rejection {
        position: format!("line {line_no}"),
        reason: "parser not written yet".into(),
    })
}
