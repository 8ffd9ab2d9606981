//! A token bucket for all senders together: a flood of requests (each one
//! costs a MAC and, when valid, an investigation) is answered with 429
//! before the body is read.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    /// `None`: unlimited.
    per_minute: Option<u32>,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// `per_minute` requests a minute, in bursts of up to that many; 0 means unlimited.
    pub fn new(per_minute: u32, now: Instant) -> RateLimiter {
        RateLimiter {
            per_minute: (per_minute > 0).then_some(per_minute),
            tokens: f64::from(per_minute),
            last: now,
        }
    }

    /// Takes one token, or says how long until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(per_minute) = self.per_minute else {
            return Ok(());
        };
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_drains_the_bucket_and_time_refills_it() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(60, start);
        for _ in 0..60 {
            assert!(limiter.take(start).is_ok());
        }
        let wait = limiter.take(start).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(limiter.take(start + Duration::from_secs(1)).is_ok());
        let mut unlimited = RateLimiter::new(0, start);
        assert!((0..10_000).all(|_| unlimited.take(start).is_ok()));
    }
}
