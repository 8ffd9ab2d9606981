//! The console's view of the store, kept current from a background task:
//! the first read goes out whole as a snapshot, later ones as the rows that
//! changed. A read happens when the engine publishes something, when a
//! command finished, or when the store changed under us (another process,
//! the delivery worker, an investigation), checked twice a second with a
//! cheap `data_version` probe; never more often than `MIN_GAP`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, broadcast, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::diff;
use super::drafts::{Annotations, DraftCache, DraftParts};
use super::snapshot;
use super::status::status;
use super::store_view::{DraftRows, Limits, StoreView};
use crate::config::InvestigationConfig;
use crate::engine::{EngineEvent, HealthSnapshot};
use crate::store::Store;
use crate::tui::model::{ConsoleSnapshot, DataEvent, KeychainStatus, SafeText};
use crate::tui::{DataSink, data::ConsoleClosed};
use crate::workflows::ModePolicy;

/// How often the store is probed for changes made elsewhere.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// Reads at most this often, however busy the engine is.
const MIN_GAP: Duration = Duration::from_millis(200);

/// What the timeline needs to know per actor, from the last read: the
/// newest draft's window and markers, or a window around the newest finding.
#[derive(Debug, Default)]
pub struct ActorHints {
    by_actor: std::collections::HashMap<String, Arc<Annotations>>,
}

impl ActorHints {
    pub fn get(&self, actor: &str) -> Option<Arc<Annotations>> {
        self.by_actor.get(actor).cloned()
    }
}

pub type SharedHints = Arc<Mutex<ActorHints>>;

/// What the feed reads from, and where it sends.
pub struct FeedSources {
    pub sink: DataSink,
    pub events: broadcast::Receiver<EngineEvent>,
    pub health: watch::Receiver<HealthSnapshot>,
    pub keychain: watch::Receiver<KeychainStatus>,
    /// Woken by finished commands.
    pub nudge: Arc<Notify>,
    pub hints: SharedHints,
    pub investigation: InvestigationConfig,
    /// The workflow modes shown in the status bar and the switches.
    pub modes: ModePolicy,
    pub limits: Limits,
    /// Sent after the first snapshot (what did not start, and why).
    pub notices: Vec<DataEvent>,
}

/// The feed task: its own store connection and its memory between reads.
pub struct Feed {
    src: FeedSources,
    /// Lent to the blocking pool during a read.
    store: Option<Store>,
    draft_rows: DraftRows,
    draft_parts: DraftCache,
    sent: Option<ConsoleSnapshot>,
    data_version: Option<i64>,
}

impl Feed {
    pub fn new(store: Store, src: FeedSources) -> Feed {
        Feed {
            src,
            store: Some(store),
            draft_rows: DraftRows::default(),
            draft_parts: DraftCache::default(),
            sent: None,
            data_version: None,
        }
    }

    /// Runs until the console closes or the engine stops.
    pub async fn run(mut self) {
        let mut probe = tokio::time::interval(PROBE_EVERY);
        probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_read: Option<Instant> = None;
        let mut force = true;
        // A watch whose sender is gone answers at once, forever: stop asking it.
        let (mut health_open, mut keychain_open) = (true, true);
        loop {
            if let Some(at) = last_read {
                tokio::time::sleep_until(at + MIN_GAP).await;
            }
            match self.read(force).await {
                Ok(()) => {}
                Err(Stop::Closed) => return,
                Err(Stop::Store(e)) => {
                    tracing::warn!(error = %e, "reading the store for the console");
                    let failed = DataEvent::CommandFailed {
                        what: SafeText::new("reading the store"),
                        error: SafeText::with_limit(&e, 300),
                    };
                    if self.src.sink.send(failed).is_err() {
                        return;
                    }
                }
            }
            last_read = Some(Instant::now());
            force = tokio::select! {
                event = self.src.events.recv() => match event {
                    Ok(EngineEvent::Stopped) | Err(broadcast::error::RecvError::Closed) => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                },
                r = self.src.health.changed(), if health_open => {
                    health_open = r.is_ok();
                    true
                }
                r = self.src.keychain.changed(), if keychain_open => {
                    keychain_open = r.is_ok();
                    true
                }
                _ = self.src.nudge.notified() => true,
                _ = probe.tick() => false,
            };
        }
    }

    /// One read: skipped when nothing changed (`force` off and the store's
    /// data version unmoved); sends the snapshot or the changes.
    async fn read(&mut self, force: bool) -> Result<(), Stop> {
        let Some(store) = self.store.take() else {
            return Err(Stop::Store("the store connection was lost".into()));
        };
        let limits = self.src.limits;
        let modes = self.src.modes;
        let mut rows = std::mem::take(&mut self.draft_rows);
        let last_version = self.data_version;
        let work = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let version = store.data_version();
            let unchanged = matches!((&version, last_version), (Ok(v), Some(l)) if *v == l);
            let view = if unchanged && !force {
                Ok(None)
            } else {
                let view = StoreView::read(&store, limits, &modes, &mut rows).map(Some);
                tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "console store read"
                );
                view
            };
            (store, rows, version.ok(), view)
        })
        .await;
        let (store, rows, version, view) = match work {
            Ok(done) => done,
            Err(e) => return Err(Stop::Store(format!("the store task stopped: {e}"))),
        };
        self.store = Some(store);
        self.draft_rows = rows;
        let view = match view {
            Ok(Some(view)) => view,
            Ok(None) => return Ok(()),
            Err(e) => return Err(Stop::Store(e.to_string())),
        };
        self.data_version = version;
        let drafts = self
            .draft_parts
            .build(&view.drafts, &self.src.investigation);
        self.update_hints(&view, &drafts);
        let health = self.src.health.borrow().clone();
        let keychain = self.src.keychain.borrow().clone();
        let next = snapshot::build(
            &view,
            &drafts,
            status(&health, view.outbox, &keychain, &view.modes),
        );
        let events = match &self.sent {
            None => {
                let mut first = vec![DataEvent::Snapshot(Box::new(next.clone()))];
                first.append(&mut self.src.notices);
                first
            }
            Some(sent) => diff::changes(sent, &next),
        };
        for event in events {
            self.src
                .sink
                .send(event)
                .map_err(|ConsoleClosed| Stop::Closed)?;
        }
        self.sent = Some(next);
        Ok(())
    }

    fn update_hints(&self, view: &StoreView, drafts: &[DraftParts]) {
        let mut hints = ActorHints::default();
        // Oldest first, so the newest finding's or draft's window wins.
        for record in view
            .flagged
            .iter()
            .chain(&view.bursts)
            .chain(&view.tokens)
            .rev()
        {
            let f = &record.finding;
            hints.by_actor.insert(
                f.actor.clone(),
                Arc::new(Annotations::bare(
                    &f.actor,
                    f.window_end,
                    &self.src.investigation,
                )),
            );
        }
        for draft in drafts.iter().rev() {
            hints.by_actor.insert(
                draft.row.actor.raw().to_owned(),
                Arc::clone(&draft.annotations),
            );
        }
        *self
            .src
            .hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = hints;
    }
}

enum Stop {
    Closed,
    Store(String),
}
