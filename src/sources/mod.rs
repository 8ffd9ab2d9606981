//! Audit-log sources: parsers from the services' entry shapes into
//! [`crate::model::AuditEvent`], and (later) the pollers.

pub mod cloudflare;
pub mod datadog;
pub mod http;
pub mod raw;
