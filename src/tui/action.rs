//! Everything that can happen to the console, as one typed enum.
//!
//! Keys are resolved to actions by the keymap inside `App::update`, so a
//! test can drive the app with either; data arrives as [`Action::Data`];
//! what the app wants done outside itself leaves as an [`Effect`].

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::keys::KeyInput;
use super::model::{ActorKey, Command, DataEvent, SafeText, TimelineSource};

/// The four main-screen panes, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Flagged,
    Bursts,
    Tokens,
    Investigations,
}

impl PaneId {
    pub const ALL: [PaneId; 4] = [
        PaneId::Flagged,
        PaneId::Bursts,
        PaneId::Tokens,
        PaneId::Investigations,
    ];

    pub fn index(self) -> usize {
        match self {
            PaneId::Flagged => 0,
            PaneId::Bursts => 1,
            PaneId::Tokens => 2,
            PaneId::Investigations => 3,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Flagged => "Flagged actors (baseline)",
            PaneId::Bursts => "Datadog bursts",
            PaneId::Tokens => "New tokens",
            PaneId::Investigations => "Investigations",
        }
    }

    pub fn next(self, back: bool) -> PaneId {
        let i = self.index();
        PaneId::ALL[if back { (i + 3) % 4 } else { (i + 1) % 4 }]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    // Process.
    Quit,
    ToggleHelp,

    // Movement in whatever list has focus (pane, timeline, popup).
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Mouse wheel: scrolls the view under focus by a few rows.
    ScrollUp,
    ScrollDown,

    // Main screen.
    FocusNext,
    FocusPrev,
    FocusPane(PaneId),
    Open,
    StartFilter,
    ClearFilter,
    CycleSort,
    MarkSeen,
    Acknowledge,
    Resolve,
    Snooze,
    Investigate,
    /// Open the workflow switches (off / dry-run / on).
    OpenWorkflows,
    /// Open the outbox view.
    OpenOutbox,
    /// Pause the console and run the setup wizard on the plain terminal.
    RunSetup,

    // Actor view.
    Back,
    NextLinked,
    PrevLinked,
    SwitchActorPane,
    EditDraft,
    Approve,
    Publish,

    // Editor and forms.
    NextField,
    PrevField,
    SaveDraft,
    ToggleDiff,
    VerdictNext,
    VerdictPrev,
    /// In the workflow switches: the selected workflow's next / previous mode.
    ModeNext,
    ModePrev,
    Longer,
    Shorter,
    Submit,
    Cancel,
    ConfirmYes,
    ConfirmNo,

    // Input the keymap did not claim: typed into the focused text field.
    Key(KeyInput),
    Paste(String),

    // Environment.
    Resize {
        width: u16,
        height: u16,
    },
    Tick(DateTime<Utc>),

    // Data side.
    Data(DataEvent),
    TimelineOpened(TimelineHandle),
    /// The preview of outbox row `id`, for the outbox view.
    OutboxPreview {
        id: i64,
        text: SafeText,
    },

    /// Hand a command to the engine (what a confirm dialog carries).
    Send(Command),
}

/// Work the app asks the loop to do; `App::update` itself never does I/O.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    OpenTimeline(ActorKey),
    /// Load the preview of an outbox row (answered with `Action::OutboxPreview`).
    LoadOutboxPreview(i64),
    /// Hand the terminal to `task` until it ends, then resume the console.
    RunInForeground(ForegroundTask),
}

/// Interactive work that needs the plain terminal (line prompts, hidden
/// password input), run while the console is suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForegroundTask {
    /// `soc-tui setup`: service settings, credentials, then the doctor's report.
    Setup,
}

impl ForegroundTask {
    pub fn describe(self) -> &'static str {
        match self {
            ForegroundTask::Setup => "setup wizard",
        }
    }
}

/// A shared timeline source, compared by identity.
#[derive(Clone)]
pub struct TimelineHandle(pub Arc<dyn TimelineSource>);

impl fmt::Debug for TimelineHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimelineHandle({} events)", self.0.len())
    }
}

impl PartialEq for TimelineHandle {
    fn eq(&self, other: &TimelineHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
