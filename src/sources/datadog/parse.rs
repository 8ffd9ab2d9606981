//! PLACEHOLDER: implemented by the parsers work item.

use crate::model::AuditEvent;
use serde_json::Value;

/// Parses one Datadog audit event (an element of `data[]`). `raw` is its verbatim text.
pub fn parse_entry(_v: &Value, _raw: &str) -> Result<AuditEvent, String> {
    Err("datadog parser not written yet".into())
}
