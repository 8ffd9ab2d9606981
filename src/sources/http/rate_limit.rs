//! Per-service rate-limit state shared by every clone of a client, and
//! visible to the engine (the TUI status bar shows it; poll summaries read
//! the wait counters).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::limit_headers::LimitHeaders;
use super::service::Service;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    pub service: Service,
    /// No request is sent before this instant (a 429, or a quota at zero).
    pub blocked_until: Option<DateTime<Utc>>,
    pub last_429_at: Option<DateTime<Utc>>,
    /// Quota left in the current window, when the service says.
    pub remaining: Option<u64>,
    pub limit: Option<u64>,
    /// When the quota window resets, when the service says.
    pub resets_at: Option<DateTime<Utc>>,
    /// Rate-limit waits sat through, and their total length.
    pub rate_limit_waits: u64,
    pub rate_limit_waited: Duration,
    /// Retries after transient failures, and the total backoff before them.
    pub retries: u64,
    pub backoff_waited: Duration,
}

impl RateLimitSnapshot {
    fn new(service: Service) -> Self {
        Self {
            service,
            blocked_until: None,
            last_429_at: None,
            remaining: None,
            limit: None,
            resets_at: None,
            rate_limit_waits: 0,
            rate_limit_waited: Duration::ZERO,
            retries: 0,
            backoff_waited: Duration::ZERO,
        }
    }

    /// How much longer the service is blocked at `now`, if it is.
    pub fn blocked_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        let until = self.blocked_until?;
        until
            .signed_duration_since(now)
            .to_std()
            .ok()
            .filter(|left| !left.is_zero())
    }
}

/// Cheap to clone; every clone sees and updates the same state.
#[derive(Debug, Clone)]
pub struct RateLimitState {
    tx: Arc<watch::Sender<RateLimitSnapshot>>,
}

impl RateLimitState {
    pub fn new(service: Service) -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(RateLimitSnapshot::new(service))),
        }
    }

    pub fn snapshot(&self) -> RateLimitSnapshot {
        self.tx.borrow().clone()
    }

    /// A receiver that wakes on every change (for the engine's event bus).
    pub fn subscribe(&self) -> watch::Receiver<RateLimitSnapshot> {
        self.tx.subscribe()
    }

    /// Takes in what a response's headers say about the quota. A quota at zero
    /// with a known reset blocks until then: the next call would only earn a
    /// 429 (and at Cloudflare, a five-minute block).
    pub(crate) fn observe(&self, headers: &LimitHeaders, now: DateTime<Utc>) {
        self.tx.send_if_modified(|state| {
            let before = state.clone();
            if headers.remaining.is_some() {
                state.remaining = headers.remaining;
            }
            if headers.limit.is_some() {
                state.limit = headers.limit;
            }
            if let Some(reset_after) = headers.reset_after {
                let resets_at = now + reset_after;
                state.resets_at = Some(resets_at);
                if headers.remaining == Some(0) {
                    extend_block(state, resets_at);
                }
            }
            *state != before
        });
    }

    pub(crate) fn record_429(&self, now: DateTime<Utc>, blocked_until: DateTime<Utc>) {
        self.tx.send_modify(|state| {
            state.last_429_at = Some(now);
            extend_block(state, blocked_until);
        });
    }

    /// Puts back a block recorded before a restart (the outbox keeps them in
    /// the store): requests wait it out as if the 429 had just come.
    pub fn restore_block(&self, until: DateTime<Utc>) {
        self.tx.send_if_modified(|state| {
            let before = state.blocked_until;
            extend_block(state, until);
            state.blocked_until != before
        });
    }

    pub(crate) fn record_rate_limit_wait(&self, waited: Duration) {
        self.tx.send_modify(|state| {
            state.rate_limit_waits += 1;
            state.rate_limit_waited += waited;
        });
    }

    pub(crate) fn record_backoff(&self, waited: Duration) {
        self.tx.send_modify(|state| {
            state.retries += 1;
            state.backoff_waited += waited;
        });
    }
}

/// A block only ever grows: a shorter hint never lets a request out earlier.
fn extend_block(state: &mut RateLimitSnapshot, until: DateTime<Utc>) {
    if state.blocked_until.is_none_or(|current| current < until) {
        state.blocked_until = Some(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("valid time")
    }

    #[test]
    fn block_never_shrinks() {
        let state = RateLimitState::new(Service::Datadog);
        state.record_429(at(0), at(300));
        state.record_429(at(1), at(10));
        let snap = state.snapshot();
        assert_eq!(snap.blocked_until, Some(at(300)));
        assert_eq!(snap.last_429_at, Some(at(1)));
        assert_eq!(snap.blocked_for(at(100)), Some(Duration::from_secs(200)));
        assert_eq!(snap.blocked_for(at(300)), None);
    }

    #[test]
    fn a_restored_block_holds_and_never_shortens_one_in_force() {
        let state = RateLimitState::new(Service::Linear);
        state.restore_block(at(30));
        assert_eq!(
            state.snapshot().blocked_for(at(10)),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            state.snapshot().last_429_at,
            None,
            "no 429 was seen by this process"
        );
        state.restore_block(at(5));
        assert_eq!(state.snapshot().blocked_until, Some(at(30)));
    }

    #[test]
    fn exhausted_quota_blocks_until_reset() {
        let state = RateLimitState::new(Service::Datadog);
        let mut headers = LimitHeaders {
            remaining: Some(5),
            limit: Some(100),
            reset_after: Some(Duration::from_secs(20)),
            ..LimitHeaders::default()
        };
        state.observe(&headers, at(0));
        assert_eq!(state.snapshot().blocked_until, None);
        assert_eq!(state.snapshot().resets_at, Some(at(20)));
        headers.remaining = Some(0);
        state.observe(&headers, at(1));
        let snap = state.snapshot();
        assert_eq!((snap.remaining, snap.limit), (Some(0), Some(100)));
        assert_eq!(snap.blocked_until, Some(at(21)));
    }

    #[test]
    fn subscribers_see_changes() {
        let state = RateLimitState::new(Service::Axiom);
        let mut rx = state.subscribe();
        state.record_rate_limit_wait(Duration::from_secs(2));
        assert!(rx.has_changed().expect("sender alive"));
        let seen = rx.borrow_and_update().clone();
        assert_eq!(
            (seen.rate_limit_waits, seen.rate_limit_waited),
            (1, Duration::from_secs(2))
        );
        state.record_backoff(Duration::from_millis(300));
        assert_eq!(state.snapshot().retries, 1);
    }
}
