//! The demo's baseline of the hour in progress.
//!
//! The scheduled baseline judges complete hours only, so an attack played
//! in one minute would reach the flagged-actors pane when the hour ends.
//! The demo therefore also runs the baseline on the current hour, on the
//! baseline's own cadence, as `soc-tui check baseline --once` would for it:
//! findings are recorded (and later refreshed by the scheduled run of that
//! hour, same dedup key), coverage is left alone. It follows the baseline
//! workflow's mode like the scheduled check: nothing while it is off,
//! dry-run items while it is in dry-run.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::MissedTickBehavior;

use super::auto_investigate::AutoInvestigator;
use crate::detect::Workflow;
use crate::detect::baseline::hour_start;
use crate::detect::rules::Rules;
use crate::engine::checks::{Mode, run_window};
use crate::engine::{CoveredWindow, StoreHandle};
use crate::store::CheckKind;
use crate::workflows::ModePolicy;

/// Runs until the task is aborted.
pub async fn run(
    store: StoreHandle,
    rules: Arc<Rules>,
    every: Duration,
    modes: ModePolicy,
    auto: Option<AutoInvestigator>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Utc::now();
        let start = hour_start(now);
        let window = CoveredWindow {
            start,
            end: start + chrono::Duration::hours(1),
        };
        let rules = Arc::clone(&rules);
        let result = store
            .call(move |s| {
                let mode = modes.effective(s, Workflow::Baseline)?;
                if mode.is_off() {
                    return Ok(None);
                }
                let delivery = mode.delivery();
                let mode = Mode::OneOff;
                run_window(s, &rules, CheckKind::Baseline, window, now, delivery, mode).map(Some)
            })
            .await;
        let result = match result {
            Ok(Ok(Some(r))) => r,
            Ok(Ok(None)) => continue,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "baseline of the hour in progress");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "baseline of the hour in progress");
                continue;
            }
        };
        if let Some(auto) = &auto {
            for (finding, recorded) in result.findings.into_iter().zip(&result.recorded) {
                if recorded.inserted {
                    auto.consider(finding).await;
                }
            }
        }
    }
}
