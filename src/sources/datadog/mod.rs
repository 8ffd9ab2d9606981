//! Datadog audit events (`/api/v2/audit/events`).

pub mod client;
pub mod parse;
