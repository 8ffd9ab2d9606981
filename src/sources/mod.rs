//! Audit-log sources: parsers from the services' entry shapes into
//! [`crate::model::AuditEvent`], the API clients, and the pollers that keep
//! the store up to date.

pub mod action_kinds;
pub mod cloudflare;
pub mod datadog;
pub mod http;
pub mod page;
pub mod poll;
pub mod raw;
pub mod token_scope;
