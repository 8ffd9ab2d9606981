//! `[outbox]`: how the delivery worker retries pushes to the sinks.

use serde::{Deserialize, Serialize};

use super::values::HumanDuration;

/// `[outbox]`: backoff after a transient failure is `base_backoff * 2^n`
/// capped at `max_backoff`, fully jittered, and never sooner than a
/// service's `Retry-After`; after `max_attempts` the request is dead-lettered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [outbox] table")]
pub struct OutboxConfig {
    pub base_backoff: HumanDuration,
    pub max_backoff: HumanDuration,
    pub max_attempts: u32,
    /// Deliveries in flight at once, across all sinks.
    pub concurrency: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            base_backoff: HumanDuration::from_secs(5),
            max_backoff: HumanDuration::from_secs(15 * 60),
            max_attempts: 20,
            concurrency: 4,
        }
    }
}
