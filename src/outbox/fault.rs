//! Crash points for the fault-injection test (`tests/outbox_faults.rs`):
//! with `SOC_TUI_FAULT_POINT=<name>` the process stops at that point, says
//! so on stderr and waits to be killed with SIGKILL by the test, so the test
//! exercises a real `kill -9` at a known place rather than a clean exit.
//! `SOC_TUI_FAULT_SKIP=<n>` lets the first `n` hits pass.
//!
//! Compiled only with `debug_assertions`: tests run debug builds, and a
//! release binary must not carry a switch that an environment variable can
//! flip to stop deliveries. (A cargo feature would keep the test from
//! running under a plain `cargo test`.)

/// Where the worker can be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Inside the transaction recording an attempt's outcome, before commit.
    OutboxWrite,
    /// The remote side answered 2xx; our record of it is not written yet.
    AfterRemoteOk,
    /// A retry is scheduled and the worker is waiting for it.
    Backoff,
}

impl FaultPoint {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultPoint::OutboxWrite => "outbox_write",
            FaultPoint::AfterRemoteOk => "after_remote_ok",
            FaultPoint::Backoff => "backoff",
        }
    }
}

/// Printed on stderr when a fault point stops the process.
pub const REACHED: &str = "soc-tui fault point reached: ";

#[cfg(debug_assertions)]
pub fn hit(point: FaultPoint) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Ok(wanted) = std::env::var("SOC_TUI_FAULT_POINT") else {
        return;
    };
    if wanted != point.as_str() {
        return;
    }
    let skip: u64 = std::env::var("SOC_TUI_FAULT_SKIP")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if HITS.fetch_add(1, Ordering::SeqCst) < skip {
        return;
    }
    eprintln!("{REACHED}{}", point.as_str());
    // Wait for the test's SIGKILL; if it never comes, abort (also no cleanup).
    std::thread::sleep(std::time::Duration::from_secs(60));
    std::process::abort();
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn hit(_point: FaultPoint) {}
