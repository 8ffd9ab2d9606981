//! The engine: the scheduled checks (baseline, bursts, tokens), each on its
//! own tokio task and cadence, over one store; an event bus for viewers; a
//! command channel; the lease that keeps one engine per store.
//!
//! ```text
//!   Engine::start ──> lease task (heartbeat / takeover / release)
//!                 ├─> check task x3 ── intake.refresh ─> plan windows ─> check + record (store)
//!                 └─> command task (RunNow, Shutdown)
//!   all tasks ──(EngineEvent)──> broadcast bus ──> TUI panes, daemon status lines
//! ```
//!
//! The store is reached only through [`StoreHandle`] (one connection, used
//! on the blocking pool; see `store_access` for why). Shutdown (a command,
//! Ctrl-C or SIGTERM in the daemon) stops the tasks between windows and
//! releases the lease.

mod axiom_baseline;
mod bus;
pub mod checks;
pub mod cli;
mod clock;
mod health;
mod intake;
mod lease;
mod poll_intake;
mod scheduler;
mod store_access;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use axiom_baseline::{BaselineSource, RESHIP_MARGIN, axiom_window, shipped_key};
pub use bus::{CoveredWindow, EngineCommand, EngineEvent, FindingCounts};
pub use clock::{EngineClock, TokioClock, WallClock};
pub use health::{CheckHealth, HealthSnapshot};
pub use intake::{Freshness, Intake, IntakeError, IntakeFuture, NoIntake};
pub use lease::{
    DEFAULT_HEARTBEAT_EVERY, DEFAULT_STALE_AFTER, LeaseAttempt, acquire_lease, engine_id,
    heartbeat_age, holder_gone,
};
pub use poll_intake::PollIntake;
pub use store_access::{StoreHandle, StoreTaskError};

pub use crate::store::CheckKind;

use crate::config::{ChecksConfig, Config, WorkflowsConfig};
use crate::detect::rules::Rules;
use crate::paths::Paths;
use crate::store::{Lease, Store, StoreError};
use crate::workflows::ModePolicy;
use scheduler::{Settings, Shared};

/// Events a slow viewer may fall behind by before it misses some (it is
/// told how many with `RecvError::Lagged`, and the health watch still has
/// the latest state).
const BUS_CAPACITY: usize = 1024;

/// Default delay between "now" and the end of the windows checked.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(60);

/// What to do when another live engine holds the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseMode {
    /// Refuse to start ([`EngineError::LeaseHeld`]): `soc-tui daemon`.
    Exclusive,
    /// Start without running checks, and take over once the holder's
    /// heartbeat goes stale: a TUI beside a daemon.
    Standby,
}

/// How the engine runs. `Default` is the production setup.
#[derive(Clone)]
pub struct EngineOptions {
    /// Hold every workflow that is on in dry-run (`--dry-run`): requests
    /// are recorded as `dry_run`, visible, never sent. Off stays off.
    pub dry_run: bool,
    /// Each workflow's configured mode, overridden per check run by the
    /// store's switches. [`Engine::start`] takes the config's `[workflows]`.
    pub workflows: WorkflowsConfig,
    pub lease: LeaseMode,
    pub settle: Duration,
    pub heartbeat_every: Duration,
    pub stale_after: Duration,
    pub clock: Arc<dyn EngineClock>,
    pub intake: Arc<dyn Intake>,
    /// The lease holder id; `None`: `hostname:pid:random`.
    pub engine_id: Option<String>,
    /// Where the baseline check gets its figures (`[checks] baseline_engine`).
    pub baseline: BaselineSource,
    /// The sinks and retry settings of the outbox worker; `None`: no worker
    /// (rows stay queued for `soc-tui outbox deliver`). Never started in a dry run.
    pub outbox: Option<(Arc<crate::sinks::Sinks>, crate::outbox::WorkerSettings)>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            dry_run: false,
            workflows: WorkflowsConfig::default(),
            lease: LeaseMode::Exclusive,
            settle: DEFAULT_SETTLE,
            heartbeat_every: DEFAULT_HEARTBEAT_EVERY,
            stale_after: DEFAULT_STALE_AFTER,
            clock: Arc::new(WallClock),
            intake: Arc::new(NoIntake),
            engine_id: None,
            baseline: BaselineSource::Local,
            outbox: None,
        }
    }
}

impl fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineOptions")
            .field("dry_run", &self.dry_run)
            .field("workflows", &self.workflows)
            .field("lease", &self.lease)
            .field("settle", &self.settle)
            .field("heartbeat_every", &self.heartbeat_every)
            .field("stale_after", &self.stale_after)
            .field("engine_id", &self.engine_id)
            .field("baseline", &self.baseline)
            .finish_non_exhaustive()
    }
}

/// Each check's cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadences {
    pub baseline: Duration,
    pub bursts: Duration,
    pub tokens: Duration,
}

/// Zero would make tokio's interval panic; config validation refuses it,
/// this keeps a hand-built config from crashing the engine.
const MIN_CADENCE: Duration = Duration::from_secs(1);

impl From<&ChecksConfig> for Cadences {
    fn from(c: &ChecksConfig) -> Cadences {
        Cadences {
            baseline: c.baseline_cadence.get().max(MIN_CADENCE),
            bursts: c.bursts_cadence.get().max(MIN_CADENCE),
            tokens: c.tokens_cadence.get().max(MIN_CADENCE),
        }
    }
}

impl Cadences {
    pub fn get(&self, check: CheckKind) -> Duration {
        match check {
            CheckKind::Baseline => self.baseline,
            CheckKind::Bursts => self.bursts,
            CheckKind::Tokens => self.tokens,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    StoreTask(#[from] StoreTaskError),
    #[error(
        "another engine is running the scheduled checks on {store}: held by {} (last heartbeat {}); \
         stop it first (a crashed process on this host is taken over at once; on another host, \
         start again once its lease goes stale, {}s without a heartbeat)",
        lease.holder, age, stale_after.as_secs()
    )]
    LeaseHeld {
        store: String,
        lease: Lease,
        age: String,
        stale_after: Duration,
    },
}

/// Starts engines; see [`EngineHandle`] for running ones.
pub struct Engine;

impl Engine {
    /// Opens the store in `paths` and starts the engine on it with the
    /// config's cadences. Must be called inside a tokio runtime.
    pub async fn start(
        config: &Config,
        rules: Rules,
        paths: &Paths,
        options: EngineOptions,
    ) -> Result<EngineHandle, EngineError> {
        let path = paths.store_file();
        let store = tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .map_err(|e| StoreTaskError {
                path: paths.store_file().display().to_string(),
                detail: e.to_string(),
            })??;
        let options = EngineOptions {
            workflows: config.workflows,
            ..options
        };
        Engine::start_with_store(store, Cadences::from(&config.checks), rules, options).await
    }

    /// Starts the engine on an open store.
    pub async fn start_with_store(
        store: Store,
        cadences: Cadences,
        rules: Rules,
        options: EngineOptions,
    ) -> Result<EngineHandle, EngineError> {
        let engine_id = options.engine_id.clone().unwrap_or_else(engine_id);
        let store = StoreHandle::new(store);
        let now = options.clock.now();
        let (id, stale_after) = (engine_id.clone(), options.stale_after);
        let attempt = store
            .call(move |s| lease::acquire_lease(s, &id, now, stale_after))
            .await??;
        let holder = match &attempt {
            LeaseAttempt::Acquired => engine_id.clone(),
            LeaseAttempt::Held(lease) => lease.holder.clone(),
        };
        let acquired = attempt == LeaseAttempt::Acquired;
        if let (LeaseAttempt::Held(lease), LeaseMode::Exclusive) = (attempt, options.lease) {
            return Err(EngineError::LeaseHeld {
                store: store.path().to_string(),
                age: lease::heartbeat_age(lease.heartbeat_at, now),
                lease,
                stale_after: options.stale_after,
            });
        }

        let settings = Settings {
            cadences: CheckKind::ALL
                .iter()
                .map(|&c| (c, cadences.get(c)))
                .collect(),
            settle: options.settle,
            heartbeat_every: options.heartbeat_every.max(MIN_CADENCE),
            stale_after: options.stale_after,
            max_baseline_hours: rules.baseline.window_days.get().saturating_mul(24),
            modes: ModePolicy::new(options.workflows).forcing_dry_run(options.dry_run),
            baseline: options.baseline,
        };
        let (events, first_events) = broadcast::channel(BUS_CAPACITY);
        let (health, health_rx) =
            watch::channel(HealthSnapshot::initial(&engine_id, options.dry_run, now));
        let shared = Arc::new(Shared::new(
            store,
            Arc::new(rules),
            options.clock,
            options.intake,
            events,
            health,
            engine_id.clone(),
            settings,
            acquired,
        ));
        let _ = shared.events.send(EngineEvent::LeaseChanged {
            holder: Some(holder),
            ours: acquired,
        });
        tracing::info!(engine = %engine_id, lease = acquired, dry_run = options.dry_run, "engine started");
        shared.publish_health().await;

        let mut tasks = vec![tokio::spawn(lease::keep_lease(Arc::clone(&shared)))];
        let mut run_now = Vec::new();
        for check in CheckKind::ALL {
            let (tx, rx) = mpsc::channel(1);
            run_now.push((check, tx));
            tasks.push(tokio::spawn(scheduler::check_task(
                Arc::clone(&shared),
                check,
                rx,
            )));
        }
        // Only the lease holder delivers: a standby engine's recovery would
        // take the holder's deliveries in flight.
        if let (Some((sinks, settings)), false, true) = (options.outbox, options.dry_run, acquired)
        {
            tasks.push(tokio::spawn(outbox_task(
                Arc::clone(&shared),
                sinks,
                settings,
            )));
        }
        let (commands, command_rx) = mpsc::channel(16);
        tasks.push(tokio::spawn(dispatch_commands(
            Arc::clone(&shared),
            command_rx,
            run_now,
        )));
        Ok(EngineHandle {
            shared,
            commands,
            first_events: Some(first_events),
            health: health_rx,
            tasks,
        })
    }
}

/// The outbox worker until shutdown. Rows left `in_flight` were cut off by a
/// stop of an earlier engine (this one holds the lease): requeue them first.
async fn outbox_task(
    shared: Arc<Shared>,
    sinks: Arc<crate::sinks::Sinks>,
    settings: crate::outbox::WorkerSettings,
) {
    let worker = crate::outbox::OutboxWorker::new(
        shared.store.clone(),
        sinks,
        settings,
        Arc::clone(&shared.clock),
    )
    .with_events(shared.events.clone());
    let started = shared.clock.now();
    let run = async {
        worker.recover(started).await?;
        worker
            .run(crate::outbox::RunMode::UntilShutdown(
                shared.shutdown_signal(),
            ))
            .await
    };
    if let Err(err) = run.await {
        tracing::error!(error = %err, "outbox worker stopped");
    }
}

async fn dispatch_commands(
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<EngineCommand>,
    run_now: Vec<(CheckKind, mpsc::Sender<()>)>,
) {
    let mut shutdown = shared.shutdown_signal();
    loop {
        let command = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            command = commands.recv() => command,
        };
        match command {
            Some(EngineCommand::RunNow(check)) => {
                if let Some((_, tx)) = run_now.iter().find(|(c, _)| *c == check) {
                    // Full means a run is already pending: one is enough.
                    let _ = tx.try_send(());
                }
            }
            Some(EngineCommand::Shutdown) | None => {
                shared.shutdown.send_replace(true);
                break;
            }
        }
    }
}

/// A running engine. Dropping it without [`EngineHandle::shutdown`] leaves
/// the tasks running until the runtime stops (and the lease to go stale).
pub struct EngineHandle {
    shared: Arc<Shared>,
    commands: mpsc::Sender<EngineCommand>,
    first_events: Option<broadcast::Receiver<EngineEvent>>,
    health: watch::Receiver<HealthSnapshot>,
    tasks: Vec<JoinHandle<()>>,
}

impl EngineHandle {
    /// This engine's lease holder id.
    pub fn engine_id(&self) -> &str {
        &self.shared.engine_id
    }

    /// The event bus. The first call returns a receiver that has every
    /// event since the engine started; later calls see events from then on.
    pub fn subscribe(&mut self) -> broadcast::Receiver<EngineEvent> {
        self.first_events
            .take()
            .unwrap_or_else(|| self.shared.events.subscribe())
    }

    /// The latest health snapshot.
    pub fn health(&self) -> HealthSnapshot {
        self.health.borrow().clone()
    }

    /// Follows health snapshots as they are published.
    pub fn health_watch(&self) -> watch::Receiver<HealthSnapshot> {
        self.health.clone()
    }

    /// Whether this engine holds the lease right now.
    pub fn holds_lease(&self) -> bool {
        self.shared.lease_held.load(Ordering::SeqCst)
    }

    /// The command channel, for viewers that outlive a borrow of the handle.
    pub fn commands(&self) -> mpsc::Sender<EngineCommand> {
        self.commands.clone()
    }

    pub async fn run_now(&self, check: CheckKind) {
        let _ = self.commands.send(EngineCommand::RunNow(check)).await;
    }

    /// The engine's store (one writer: use it for short operations).
    pub fn store(&self) -> StoreHandle {
        self.shared.store.clone()
    }

    /// Stops every task (a run in progress stops after its current window),
    /// releases the lease and emits `Stopped`.
    pub async fn shutdown(self) {
        self.shared.shutdown.send_replace(true);
        self.wait().await;
    }

    /// Waits until the engine stops (after `EngineCommand::Shutdown`).
    pub async fn wait(self) {
        let mut shutdown = self.shared.shutdown_signal();
        let _ = shutdown.wait_for(|stop| *stop).await;
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::warn!(error = %err, "engine task ended abnormally");
            }
        }
        self.shared.publish_health().await;
        let _ = self.shared.events.send(EngineEvent::Stopped);
        tracing::info!(engine = %self.shared.engine_id, "engine stopped");
    }
}
