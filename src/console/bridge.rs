//! [`ConsoleBridge`]: the console's data side over the store and a running
//! engine. `connect` starts the feed (snapshot, then changes); `execute`
//! runs a command on the runtime and reports `CommandDone` or
//! `CommandFailed`; `timeline` opens an actor's events in the window of
//! their newest draft (or finding).
//!
//! Three store connections of its own, so that nothing the UI thread waits
//! on (a timeline page) queues behind a long read (the feed) or a write
//! (a command, an investigation).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use tokio::runtime::Handle;
use tokio::sync::{Notify, broadcast, watch};

use super::commands::{self, CommandContext};
use super::drafts::Annotations;
use super::feed::{ActorHints, Feed, FeedSources, SharedHints};
use super::store_view::Limits;
use super::timeline::StoreTimeline;
use crate::config::InvestigationConfig;
use crate::engine::{EngineEvent, HealthSnapshot};
use crate::outbox::preview::{preview_sinks, render_item};
use crate::paths::Paths;
use crate::sinks::Sinks;
use crate::store::{Store, StoreError};
use crate::tui::action::ForegroundTask;
use crate::tui::model::{ActorKey, Command, DataEvent, KeychainStatus, SafeText, TimelineSource};
use crate::tui::{ConsoleData, DataError, DataSink};

/// What the bridge follows.
pub struct EngineFeeds {
    pub events: broadcast::Receiver<EngineEvent>,
    pub health: watch::Receiver<HealthSnapshot>,
    /// Filled in once the keychain has been probed (it can block).
    pub keychain: watch::Receiver<KeychainStatus>,
}

/// The parts of the feed kept until `connect`.
struct Pending {
    store: Store,
    feeds: EngineFeeds,
}

pub struct ConsoleBridge {
    runtime: Handle,
    pending: Option<Pending>,
    commands: CommandContext,
    timeline_store: Arc<Mutex<Store>>,
    hints: SharedHints,
    nudge: Arc<Notify>,
    sink: Option<DataSink>,
    investigation: InvestigationConfig,
    limits: Limits,
    notices: Vec<DataEvent>,
    /// Built on the first preview asked for.
    preview_sinks: Option<Sinks>,
    /// The install the setup wizard edits; `None` in the demo, whose
    /// services are simulated.
    setup: Option<Paths>,
}

impl ConsoleBridge {
    /// Opens the feed's and the timeline's connections to the store at
    /// `store_path`; commands use `commands.store`.
    pub fn new(
        runtime: Handle,
        store_path: &Path,
        feeds: EngineFeeds,
        commands: CommandContext,
    ) -> Result<ConsoleBridge, StoreError> {
        let investigation = commands.config.investigation.clone();
        Ok(ConsoleBridge {
            runtime,
            pending: Some(Pending {
                store: Store::open(store_path)?,
                feeds,
            }),
            commands,
            timeline_store: Arc::new(Mutex::new(Store::open(store_path)?)),
            hints: Arc::new(Mutex::new(ActorHints::default())),
            nudge: Arc::new(Notify::new()),
            sink: None,
            investigation,
            limits: Limits::default(),
            notices: Vec::new(),
            preview_sinks: None,
            setup: None,
        })
    }

    /// Lets the analyst run the setup wizard on `paths` from the console.
    pub fn with_setup(mut self, paths: Paths) -> ConsoleBridge {
        self.setup = Some(paths);
        self
    }

    /// Something that did not start, shown once the console is up.
    pub fn notice(&mut self, what: &str, error: &str) {
        self.notices.push(DataEvent::CommandFailed {
            what: SafeText::with_limit(what, 100),
            error: SafeText::with_limit(error, 400),
        });
    }
}

impl ConsoleData for ConsoleBridge {
    fn connect(&mut self, sink: DataSink) -> Result<(), DataError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| DataError("the console is already connected".into()))?;
        let feed = Feed::new(
            pending.store,
            FeedSources {
                sink: sink.clone(),
                events: pending.feeds.events,
                health: pending.feeds.health,
                keychain: pending.feeds.keychain,
                nudge: Arc::clone(&self.nudge),
                hints: Arc::clone(&self.hints),
                investigation: self.investigation.clone(),
                modes: self.commands.modes,
                limits: self.limits,
                notices: std::mem::take(&mut self.notices),
            },
        );
        self.runtime.spawn(feed.run());
        self.sink = Some(sink);
        Ok(())
    }

    fn execute(&mut self, command: Command) -> Result<(), DataError> {
        let sink = self
            .sink
            .clone()
            .ok_or_else(|| DataError("the console is not connected yet".into()))?;
        let ctx = self.commands.clone();
        let nudge = Arc::clone(&self.nudge);
        let what = SafeText::new(&command.describe());
        self.runtime.spawn(async move {
            let event = match commands::execute(&ctx, command).await {
                Ok(done) => {
                    tracing::info!(%done, "command carried out");
                    DataEvent::CommandDone {
                        what: SafeText::with_limit(&done, 200),
                    }
                }
                Err(error) => {
                    tracing::warn!(what = %what, %error, "command failed");
                    DataEvent::CommandFailed {
                        what,
                        error: SafeText::with_limit(&error, 300),
                    }
                }
            };
            // The console may have closed meanwhile; nobody else to tell.
            let _ = sink.send(event);
            nudge.notify_one();
        });
        Ok(())
    }

    fn outbox_preview(&mut self, id: i64) -> Result<SafeText, DataError> {
        let sinks = match &mut self.preview_sinks {
            Some(sinks) => sinks,
            empty => empty.insert(
                preview_sinks(&self.commands.config, &self.commands.data_dir)
                    .map_err(|e| DataError(format!("setting up the sinks for previews: {e}")))?,
            ),
        };
        // The timeline's connection: reads the UI thread waits on stay short.
        let store = self
            .timeline_store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let prefix = &self.commands.config.s3.prefix;
        match render_item(&store, id, sinks, prefix) {
            Ok(Some(text)) => Ok(SafeText::multiline(&text)),
            Ok(None) => Err(DataError(format!("outbox request {id} is gone"))),
            Err(e) => Err(DataError(e.to_string())),
        }
    }

    fn run_in_foreground(&mut self, task: ForegroundTask) -> Result<String, DataError> {
        match task {
            ForegroundTask::Setup => {
                let Some(paths) = &self.setup else {
                    return Err(DataError(
                        "the demo's services are simulated: quit it and run `soc-tui setup`".into(),
                    ));
                };
                let outcome =
                    crate::setup::run_wizard(paths).map_err(|e| DataError(e.to_string()))?;
                // The engine keeps the settings it started with; the wizard
                // only says what it changed and how the services answered.
                let saved = if outcome.config_written {
                    "settings saved (restart soc-tui to use them)"
                } else {
                    "no settings changed"
                };
                Ok(format!(
                    "setup: {saved}; {} credential(s) stored; doctor: {} of {} check(s) failed",
                    outcome.stored.len(),
                    outcome.report.failed,
                    outcome.report.checks.len()
                ))
            }
        }
    }

    fn timeline(&mut self, actor: &ActorKey) -> Result<Arc<dyn TimelineSource>, DataError> {
        let hint = self
            .hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(actor.raw());
        let annotations = hint.unwrap_or_else(|| {
            Arc::new(Annotations::bare(
                actor.raw(),
                Utc::now(),
                &self.investigation,
            ))
        });
        let timeline =
            StoreTimeline::open(Arc::clone(&self.timeline_store), actor.clone(), annotations)
                .map_err(|e| DataError(e.to_string()))?;
        Ok(Arc::new(timeline))
    }
}
