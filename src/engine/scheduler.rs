//! One task per check: tick on the check's cadence (late ticks are delayed,
//! never bunched: `MissedTickBehavior::Delay`), or run when asked; each run
//! refreshes the intake, plans its windows from the stored coverage (so a
//! restart after downtime catches up), checks and records them one by one,
//! and reports how it went on the bus and in the store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::axiom_baseline::{BaselineSource, axiom_window};
use super::bus::{CoveredWindow, EngineEvent, FindingCounts};
use super::checks::{Mode, Plan, plan_windows, run_window};
use super::clock::EngineClock;
use super::health::{HealthSnapshot, LiveState, StoredHealth, snapshot};
use super::intake::{Freshness, Intake};
use super::lease::chrono_duration;
use super::store_access::StoreHandle;
use crate::config::WorkflowMode;
use crate::detect::rules::Rules;
use crate::store::{CheckKind, Delivery, RunOutcome, StoreError};
use crate::workflows::{EffectiveMode, ModePolicy, of_check};

/// Timing the scheduler runs by.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cadences: Vec<(CheckKind, Duration)>,
    /// Windows end this long before "now", so events still in flight at
    /// the sources (audit logs lag by seconds to minutes) are not skipped.
    pub settle: Duration,
    pub heartbeat_every: Duration,
    pub stale_after: Duration,
    /// The most hours the baseline catches up after downtime.
    pub max_baseline_hours: u32,
    /// Each check's mode is read from the store at the start of each run.
    pub modes: ModePolicy,
    pub baseline: BaselineSource,
}

impl Settings {
    pub fn cadence(&self, check: CheckKind) -> Duration {
        self.cadences
            .iter()
            .find(|(c, _)| *c == check)
            .map_or(Duration::from_secs(3600), |(_, d)| *d)
    }
}

/// What every engine task shares.
pub(super) struct Shared {
    pub store: StoreHandle,
    pub rules: Arc<Rules>,
    pub clock: Arc<dyn EngineClock>,
    pub intake: Arc<dyn Intake>,
    pub events: broadcast::Sender<EngineEvent>,
    pub health: watch::Sender<HealthSnapshot>,
    pub shutdown: watch::Sender<bool>,
    pub engine_id: String,
    pub settings: Settings,
    pub lease_held: AtomicBool,
    /// Follows `lease_held`, so check tasks can run as soon as a standby
    /// engine takes over instead of at their next tick.
    lease_watch: watch::Sender<bool>,
    running: Mutex<Vec<CheckKind>>,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: StoreHandle,
        rules: Arc<Rules>,
        clock: Arc<dyn EngineClock>,
        intake: Arc<dyn Intake>,
        events: broadcast::Sender<EngineEvent>,
        health: watch::Sender<HealthSnapshot>,
        engine_id: String,
        settings: Settings,
        lease_held: bool,
    ) -> Shared {
        Shared {
            store,
            rules,
            clock,
            intake,
            events,
            health,
            shutdown: watch::channel(false).0,
            engine_id,
            settings,
            lease_held: AtomicBool::new(lease_held),
            lease_watch: watch::channel(lease_held).0,
            running: Mutex::new(Vec::new()),
        }
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn set_lease(&self, held: bool, holder: Option<String>) {
        self.lease_held.store(held, Ordering::SeqCst);
        self.lease_watch.send_replace(held);
        let _ = self
            .events
            .send(EngineEvent::LeaseChanged { holder, ours: held });
    }

    fn set_running(&self, check: CheckKind, running: bool) {
        let mut list = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|c| *c != check);
        if running {
            list.push(check);
        }
    }

    /// Reads the stored health figures and publishes a snapshot on the
    /// health watch and the bus.
    pub async fn publish_health(&self) {
        let stored = self
            .store
            .call(|s| {
                Ok::<_, StoreError>(StoredHealth {
                    runs: s.check_runs()?,
                    lease: s.lease()?,
                    outbox: s.outbox_counts()?,
                })
            })
            .await;
        let stored = match stored {
            Ok(Ok(stored)) => stored,
            Ok(Err(err)) => return tracing::warn!(error = %err, "reading health"),
            Err(err) => return tracing::warn!(error = %err, "reading health"),
        };
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let snap = snapshot(
            self.clock.now(),
            &stored,
            LiveState {
                engine_id: &self.engine_id,
                lease_held: self.lease_held.load(Ordering::SeqCst),
                dry_run: self.settings.modes.forces_dry_run(),
                cadences: &self.settings.cadences,
                running: &running,
            },
        );
        self.health.send_replace(snap.clone());
        let _ = self.events.send(EngineEvent::Health(snap));
    }
}

/// The task of one check: runs at once, then on its cadence, on request,
/// and when this engine takes the lease over; only while it holds the lease.
pub(super) async fn check_task(
    shared: Arc<Shared>,
    check: CheckKind,
    mut run_now: mpsc::Receiver<()>,
) {
    let cadence = shared.settings.cadence(check);
    let mut shutdown = shared.shutdown_signal();
    let mut ticker = tokio::time::interval(cadence);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut lease = shared.lease_watch.subscribe();
    let mut next_tick = Instant::now();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            tick = ticker.tick() => next_tick = tick + cadence,
            Some(()) = run_now.recv() => {}
            Ok(()) = lease.changed() => {
                if !*lease.borrow_and_update() {
                    continue;
                }
            }
        }
        if !shared.lease_held.load(Ordering::SeqCst) {
            continue;
        }
        run_once(&shared, check, next_tick).await;
    }
}

/// The check's workflow mode in force, from the store (a switch made by
/// another process counts from this run on).
async fn current_mode(shared: &Shared, check: CheckKind) -> Result<EffectiveMode, String> {
    let policy = shared.settings.modes;
    shared
        .store
        .call(move |s| policy.effective(s, of_check(check)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("reading the {check} workflow's mode: {e}"))
}

/// One run: announce, check every due window, record the outcome, report.
/// A workflow that is off is skipped, and says so.
async fn run_once(shared: &Shared, check: CheckKind, next_tick: Instant) {
    let started = shared.clock.now();
    let clock_start = Instant::now();
    let (delivery, mode) = match current_mode(shared, check).await {
        Ok(mode) => match mode.delivery() {
            Some(delivery) => (Ok(delivery), mode.mode),
            None => {
                let reason = mode.off_message();
                tracing::info!(%check, %reason, "check skipped");
                let _ = shared
                    .events
                    .send(EngineEvent::CheckSkipped { check, reason });
                shared.publish_health().await;
                return;
            }
        },
        // Reported as a failed run; the mode shown is the safe one.
        Err(e) => (Err(e), WorkflowMode::DryRun),
    };
    shared.set_running(check, true);
    let _ = shared
        .events
        .send(EngineEvent::CheckStarted { check, at: started });
    let result = match delivery {
        Ok(delivery) => check_due_windows(shared, check, delivery).await,
        Err(e) => Err(e),
    };
    let duration = clock_start.elapsed();
    shared.set_running(check, false);

    // With `Delay`, a tick missed during a long run fires at once.
    let until_next = next_tick.saturating_duration_since(Instant::now());
    let next_run = shared.clock.now() + chrono_duration(until_next);
    let error = result.as_ref().err().cloned();
    let outcome = RunOutcome {
        started,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        error: error.clone(),
        next_run: Some(next_run),
    };
    match shared
        .store
        .call(move |s| s.record_run(check, &outcome))
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!(%check, error = %err, "recording the run"),
        Err(err) => tracing::warn!(%check, error = %err, "recording the run"),
    }
    let event = match result {
        Ok((windows, findings)) => {
            tracing::info!(%check, windows = windows.len(), new = findings.new,
                updated = findings.updated, enqueued = findings.enqueued,
                ms = duration.as_millis() as u64, "check finished");
            EngineEvent::CheckFinished {
                check,
                windows,
                findings,
                duration,
                mode,
            }
        }
        Err(error) => {
            tracing::warn!(%check, %error, ms = duration.as_millis() as u64, "check failed");
            EngineEvent::CheckFailed {
                check,
                error,
                duration,
            }
        }
    };
    let _ = shared.events.send(event);
    shared.publish_health().await;
}

type RunResult = Result<(Vec<CoveredWindow>, FindingCounts), String>;

async fn check_due_windows(shared: &Shared, check: CheckKind, delivery: Delivery) -> RunResult {
    let freshness = shared
        .intake
        .refresh(check, &shared.store)
        .await
        .map_err(|e| e.to_string())?;
    let now = shared.clock.now();
    let mut horizon = now - chrono_duration(shared.settings.settle);
    if let Freshness::Until(complete) = freshness {
        horizon = horizon.min(complete);
    }
    let covered_until = shared
        .store
        .call(move |s| s.check_run(check))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
        .and_then(|run| run.covered_until);
    let windows = plan_windows(&Plan {
        check,
        covered_until,
        horizon,
        cadence: shared.settings.cadence(check),
        max_baseline_hours: shared.settings.max_baseline_hours,
    });

    let mut covered = Vec::new();
    let mut counts = FindingCounts::default();
    for window in windows {
        // Each window is recorded on its own: stopping between two loses nothing.
        if shared.stopping() || !shared.lease_held.load(Ordering::SeqCst) {
            break;
        }
        let rules = Arc::clone(&shared.rules);
        let result = match (&shared.settings.baseline, check) {
            (BaselineSource::Axiom(engine), CheckKind::Baseline) => {
                let mode = Mode::Scheduled;
                axiom_window(
                    &shared.store,
                    engine,
                    &rules,
                    window,
                    now,
                    Some(delivery),
                    mode,
                )
                .await?
            }
            _ => shared
                .store
                .call(move |s| {
                    run_window(
                        s,
                        &rules,
                        check,
                        window,
                        now,
                        Some(delivery),
                        Mode::Scheduled,
                    )
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{check} window from {}: {e}", window.start))?,
        };
        let window_counts = result.counts();
        counts.new += window_counts.new;
        counts.updated += window_counts.updated;
        counts.suppressed += window_counts.suppressed;
        counts.enqueued += window_counts.enqueued;
        for (finding, recorded) in result.findings.iter().zip(&result.recorded) {
            let _ = shared.events.send(EngineEvent::FindingRecorded {
                id: recorded.id,
                dedup_key: finding.dedup_key.clone(),
                workflow: finding.workflow,
                severity: finding.severity,
                actor: finding.actor.clone(),
                title: finding.title.clone(),
                inserted: recorded.inserted,
                enqueued: recorded.enqueued,
            });
        }
        covered.push(window);
    }
    Ok((covered, counts))
}
