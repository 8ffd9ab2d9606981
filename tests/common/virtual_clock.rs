//! A virtual clock for `HttpClient`: "now" starts at a fixed whole second
//! and moves only when someone sleeps; every sleep is recorded and returns
//! at once, so tests assert exact waits without waiting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use soc_tui::sources::http::{Clock, SleepFuture};

pub struct VirtualClock {
    start: DateTime<Utc>,
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl VirtualClock {
    pub fn new() -> Arc<VirtualClock> {
        Arc::new(VirtualClock {
            start: DateTime::from_timestamp(1_800_000_000, 0).expect("valid time"),
            state: Mutex::new((Duration::ZERO, Vec::new())),
        })
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().expect("lock").1.clone()
    }

    /// The virtual start plus `offset_secs`.
    pub fn at(&self, offset_secs: i64) -> DateTime<Utc> {
        self.start + TimeDelta::seconds(offset_secs)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.state.lock().expect("lock").0;
        self.start + TimeDelta::from_std(elapsed).expect("small")
    }

    fn sleep(&self, duration: Duration) -> SleepFuture {
        let mut state = self.state.lock().expect("lock");
        state.0 += duration;
        state.1.push(duration);
        Box::pin(std::future::ready(()))
    }
}
