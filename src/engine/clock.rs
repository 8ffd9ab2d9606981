//! The engine's "now". Windows, findings and the lease are stamped with
//! wall-clock UTC; tests (and the demo) run the engine on tokio's paused
//! clock instead, so a simulated day takes milliseconds.

use chrono::{DateTime, Utc};

pub trait EngineClock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// `chrono::Utc::now`. Wall-clock rather than a monotonic clock on purpose:
/// after a laptop sleeps, the next run must see the real gap and catch up.
#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl EngineClock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A fixed UTC start plus the time elapsed on tokio's clock, so
/// `tokio::time::pause()` / `advance()` move it.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// "Now" is `base` at the moment of the call. Needs a tokio runtime
    /// with the time driver.
    pub fn starting_at(base: DateTime<Utc>) -> TokioClock {
        TokioClock {
            base,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl EngineClock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().duration_since(self.origin);
        self.base + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}
