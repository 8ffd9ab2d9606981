//! PLACEHOLDER: implemented by the parsers work item.

use crate::model::AuditEvent;
use serde_json::Value;

/// Parses one Cloudflare v2 `/logs/audit` entry. `raw` is its verbatim text.
pub fn parse_v2_entry(_v: &Value, _raw: &str) -> Result<AuditEvent, String> {
    Err("cloudflare v2 parser not written yet".into())
}

/// Parses one Cloudflare v1 `/audit_logs` entry. `raw` is its verbatim text.
pub fn parse_v1_entry(_v: &Value, _raw: &str) -> Result<AuditEvent, String> {
    Err("cloudflare v1 parser not written yet".into())
}
