//! Cloudflare audit logs (v2 `/logs/audit` and v1 `/audit_logs`).

pub mod client;
pub mod parse;
