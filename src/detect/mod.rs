//! Detection: rules, and the scheduled checks as pure functions over plain data.
//!
//! Nothing here does I/O except loading rules files: the store, Axiom or a
//! test feeds the detectors, and the outbox delivers what they ask for.
//!
//! - [`rules`]: the thresholds, allow-lists and suppressions (`rules.toml`).
//! - [`baseline`]: hourly per-actor volume and new-resource-type check.
//! - [`burst`]: Datadog audit bursts, continued across windows.
//! - [`tokens`]: Cloudflare token creations, archived and reviewed.
//! - [`finding`]: what they report; [`suppress`]: what silences a hit.

pub mod baseline;
pub mod burst;
pub mod finding;
pub mod markdown;
pub mod pattern;
pub mod rules;
pub mod suppress;
mod ticket;
pub mod tokens;

pub use finding::{Finding, PagerDutySeverity, Severity, SinkRequest, SuppressedBy, Workflow};
pub use markdown::markdown_escape;
pub use rules::{Rules, RulesCommand};
