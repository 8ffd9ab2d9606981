//! When to try a failed delivery again: exponential backoff with full
//! jitter (a uniform pick in `[0, min(cap, base * 2^(attempts-1))]`, so
//! many rows failing together do not retry in lockstep), never sooner than
//! the service's `Retry-After`.

use std::time::Duration;

use crate::config::OutboxConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn from_config(config: &OutboxConfig) -> Backoff {
        Backoff {
            base: config.base_backoff.get(),
            max: config.max_backoff.get(),
        }
    }

    /// The ceiling of the jittered wait after `attempts` failed attempts
    /// (the first failure waits up to `base`).
    pub fn ceiling(&self, attempts: u64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(32);
        self.base
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The wait before the next attempt. `pick(n)` returns a uniform value in
    /// `0..=n` (fastrand in production; fixed in tests).
    pub fn delay(
        &self,
        attempts: u64,
        retry_after: Option<Duration>,
        pick: impl FnOnce(u64) -> u64,
    ) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempts).as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(pick(ceiling).min(ceiling));
        jittered.max(retry_after.unwrap_or(Duration::ZERO))
    }

    /// [`Backoff::delay`] with a random pick.
    pub fn random_delay(&self, attempts: u64, retry_after: Option<Duration>) -> Duration {
        self.delay(attempts, retry_after, |n| fastrand::u64(0..=n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff {
        base: Duration::from_secs(2),
        max: Duration::from_secs(60),
    };

    #[test]
    fn the_ceiling_doubles_from_base_up_to_the_cap() {
        let ceilings: Vec<u64> = (1..=7).map(|n| B.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(B.ceiling(u64::MAX), Duration::from_secs(60));
        assert_eq!(B.ceiling(0), Duration::from_secs(2));
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling_and_retry_after_is_a_floor() {
        assert_eq!(B.delay(3, None, |_| 0), Duration::ZERO);
        assert_eq!(B.delay(3, None, |n| n), Duration::from_secs(8));
        assert_eq!(B.delay(3, None, |n| n * 10), Duration::from_secs(8));
        let wait = Some(Duration::from_secs(90));
        assert_eq!(B.delay(1, wait, |n| n), Duration::from_secs(90));
        for _ in 0..1000 {
            let d = B.random_delay(4, None);
            assert!(d <= Duration::from_secs(16), "{d:?}");
        }
    }
}
