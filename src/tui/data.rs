//! What the console needs from the data side, as one trait. The lead's
//! bridge implements it over the store and the engine bus; [`FakeData`]
//! implements it for tests, snapshots and benchmarks.
//!
//! [`FakeData`]: super::fake::FakeData

use std::sync::Arc;
use std::sync::mpsc::Sender;

use chrono::{DateTime, Utc};

use super::action::ForegroundTask;
use super::model::{ActorKey, Command, DataEvent, SafeText, TimelineSource};

/// Everything the event loop waits on, on one channel.
#[derive(Debug)]
pub enum Incoming {
    /// A terminal event (key, paste, resize, mouse).
    Terminal(ratatui::crossterm::event::Event),
    /// Boxed: a snapshot or row is much larger than the other variants.
    Data(Box<DataEvent>),
    /// Clock tick: relative times and notices move on.
    Tick(DateTime<Utc>),
}

/// Where the data side sends [`DataEvent`]s. Cheap to clone; sending never
/// blocks.
#[derive(Debug, Clone)]
pub struct DataSink {
    tx: Sender<Incoming>,
}

/// The console has exited; stop sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the console has closed")]
pub struct ConsoleClosed;

impl DataSink {
    pub fn new(tx: Sender<Incoming>) -> DataSink {
        DataSink { tx }
    }

    pub fn send(&self, event: DataEvent) -> Result<(), ConsoleClosed> {
        self.tx
            .send(Incoming::Data(Box::new(event)))
            .map_err(|_| ConsoleClosed)
    }
}

/// Why the data side could not do what the console asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

pub trait ConsoleData: Send {
    /// Starts the flow of events into `sink`: a [`DataEvent::Snapshot`]
    /// first, then deltas as the engine publishes them. Must not block on
    /// the engine; the bridge forwards from its own task or thread.
    fn connect(&mut self, sink: DataSink) -> Result<(), DataError>;

    /// Hands a command to the engine (outbox, analyst log). Must return
    /// quickly: the result arrives later as `CommandDone`/`CommandFailed`.
    fn execute(&mut self, command: Command) -> Result<(), DataError>;

    /// The correlated timeline of one actor.
    fn timeline(&mut self, actor: &ActorKey) -> Result<Arc<dyn TimelineSource>, DataError>;

    /// What outbox row `id` sends (content and HTTP calls, credentials
    /// redacted), sanitized. One bounded store read and a render: called
    /// on the UI thread when the outbox view's selection moves.
    fn outbox_preview(&mut self, id: i64) -> Result<SafeText, DataError>;

    /// Runs `task` on the plain terminal while the console is suspended
    /// (it may prompt on stdin and print); `Ok` is the notice to show after.
    fn run_in_foreground(&mut self, task: ForegroundTask) -> Result<String, DataError> {
        Err(DataError(format!(
            "the {} is not available in this console",
            task.describe()
        )))
    }
}
