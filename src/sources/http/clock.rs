//! Time as the HTTP layer sees it: wall-clock "now" (rate-limit headers speak
//! in dates and epoch seconds) and sleeping (backoff and rate-limit waits).
//! Injectable so tests can assert exact waits without sleeping for real.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// The real clock: `chrono::Utc::now` and `tokio::time::sleep` (so
/// `tokio::time::pause()` also works for code built on it).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}
