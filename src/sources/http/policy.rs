//! How patient a client is: timeouts, retry budget, backoff shape, and the
//! longest rate-limit wait it sits through before handing the wait back to
//! the scheduler as an error.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPolicy {
    /// TCP + TLS handshake limit.
    pub connect_timeout: Duration,
    /// Whole-request limit, from connecting until the body is read.
    pub request_timeout: Duration,
    /// Retries after the first attempt; rate-limit waits and backoffs share it.
    pub max_retries: u32,
    /// Backoff ceiling before the first retry; doubles on each further retry.
    pub backoff_base: Duration,
    /// Upper bound of any backoff ceiling.
    pub backoff_cap: Duration,
    /// A 429 asking for a longer wait than this is returned as
    /// `HttpError::RateLimited` instead of being waited out in place.
    pub max_rate_limit_wait: Duration,
    /// Largest response body `HttpClient::fetch` reads into memory.
    pub max_body_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

impl HttpPolicy {
    /// Why this policy cannot drive a client, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        if self.connect_timeout.is_zero() {
            Some("connect_timeout must be above zero")
        } else if self.request_timeout.is_zero() {
            Some("request_timeout must be above zero")
        } else if self.backoff_base > self.backoff_cap {
            Some("backoff_base must not exceed backoff_cap")
        } else if self.max_body_bytes == 0 {
            Some("max_body_bytes must be above zero")
        } else {
            None
        }
    }

    /// The longest backoff before retry number `retry` (0 = first retry):
    /// `backoff_base * 2^retry`, capped at `backoff_cap`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_cap)
    }

    /// "Full jitter" (uniform in `[0, ceiling]`): spreads clients that failed
    /// together so they do not retry together.
    pub fn jittered_backoff(&self, retry: u32) -> Duration {
        let ceiling_ms = u64::try_from(self.backoff_ceiling(retry).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=ceiling_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let policy = HttpPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(1000),
            ..HttpPolicy::default()
        };
        let ceilings: Vec<u128> = (0..6)
            .map(|r| policy.backoff_ceiling(r).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(
            policy.backoff_ceiling(u32::MAX),
            Duration::from_millis(1000)
        );
    }

    #[test]
    fn jitter_stays_within_ceiling() {
        let policy = HttpPolicy {
            backoff_base: Duration::from_millis(50),
            backoff_cap: Duration::from_millis(300),
            ..HttpPolicy::default()
        };
        for retry in 0..8 {
            for _ in 0..200 {
                assert!(policy.jittered_backoff(retry) <= policy.backoff_ceiling(retry));
            }
        }
    }

    #[test]
    fn problems_are_named() {
        let zero_timeout = HttpPolicy {
            request_timeout: Duration::ZERO,
            ..HttpPolicy::default()
        };
        assert_eq!(
            zero_timeout.problem(),
            Some("request_timeout must be above zero")
        );
        let inverted = HttpPolicy {
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(1),
            ..HttpPolicy::default()
        };
        assert_eq!(
            inverted.problem(),
            Some("backoff_base must not exceed backoff_cap")
        );
        assert_eq!(HttpPolicy::default().problem(), None);
    }
}
