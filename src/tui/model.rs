//! The seam between the console and the data side: view models the panes
//! draw, the [`DataEvent`]s the engine bridge sends in, the [`Command`]s the
//! console sends out, and the [`TimelineSource`] the actor view reads from.
//!
//! Every string that can hold attacker text is a [`SafeText`] (or an id type
//! whose shown form is one), so sanitizing happens once, when the bridge
//! builds a view model, and the type system keeps raw text off the screen.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use super::safe_text::SafeText;
pub use crate::config::{WorkflowMode, workflow_key};
pub use crate::detect::finding::{Severity, Workflow};
pub use crate::model::Source;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Keeps the exact value for lookups and commands, and a sanitized
        /// form for display; only the sanitized form can reach the screen.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            raw: String,
            shown: SafeText,
        }

        impl $name {
            pub fn new(raw: impl Into<String>) -> $name {
                let raw = raw.into();
                let shown = SafeText::with_limit(&raw, 256);
                $name { raw, shown }
            }

            /// The exact value, for the data side. Never draw it.
            pub fn raw(&self) -> &str {
                &self.raw
            }

            pub fn shown(&self) -> &SafeText {
                &self.shown
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.shown)
            }
        }
    };
}

id_type!(
    /// An actor as the store keys it ([`crate::model::actor_key`]).
    ActorKey
);
id_type!(
    /// A finding's dedup key.
    FindingId
);
id_type!(
    /// An investigation draft / report id.
    DraftId
);
id_type!(
    /// A stored audit event id.
    EventId
);

/// What the analyst has done with a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum TriageState {
    Open,
    Acknowledged {
        by: SafeText,
        at: DateTime<Utc>,
    },
    Snoozed {
        until: DateTime<Utc>,
        by: SafeText,
        reason: SafeText,
    },
    Resolved {
        by: SafeText,
        at: DateTime<Utc>,
    },
    Investigating,
}

impl TriageState {
    pub fn label(&self) -> &'static str {
        match self {
            TriageState::Open => "open",
            TriageState::Acknowledged { .. } => "ack",
            TriageState::Snoozed { .. } => "snoozed",
            TriageState::Resolved { .. } => "resolved",
            TriageState::Investigating => "investigating",
        }
    }
}

/// Where the outbox delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sink {
    Linear,
    PagerDuty,
    Confluence,
    Archive,
}

impl Sink {
    pub fn short(self) -> &'static str {
        match self {
            Sink::Linear => "LIN",
            Sink::PagerDuty => "PD",
            Sink::Confluence => "page",
            Sink::Archive => "s3",
        }
    }
}

/// An outbox row's state as the TUI shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryState {
    Queued,
    Retrying {
        attempt: u32,
        next_at: DateTime<Utc>,
    },
    Delivered,
    DeadLetter {
        error: SafeText,
    },
    /// Recorded by a workflow in dry-run: shown, never sent.
    DryRun,
}

/// A link to what a sink created (Linear issue, PagerDuty incident, page).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteLink {
    pub label: SafeText,
    pub url: SafeText,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub sink: Sink,
    /// For PagerDuty: which event (trigger/acknowledge/resolve) this row is.
    pub what: Option<PagerDutyAction>,
    pub state: DeliveryState,
    pub link: Option<RemoteLink>,
}

/// Fields every finding row shares.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingMeta {
    pub id: FindingId,
    pub actor: ActorKey,
    pub severity: Severity,
    pub state: TriageState,
    pub detected_at: DateTime<Utc>,
    /// Last change (new window, state change, delivery): drives the "new" marker.
    pub updated_at: DateTime<Utc>,
    pub deliveries: Vec<Delivery>,
}

impl FindingMeta {
    pub fn delivery(&self, sink: Sink) -> Option<&Delivery> {
        self.deliveries.iter().rev().find(|d| d.sink == sink)
    }
}

/// A baseline finding: an actor far above its usual hourly change count.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedActorRow {
    pub meta: FindingMeta,
    pub hour: DateTime<Utc>,
    pub count: u32,
    pub baseline: f64,
    pub factor: f64,
    pub new_resource_types: Vec<SafeText>,
}

/// A burst finding: many sensitive Datadog actions in a short window.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstRow {
    pub meta: FindingMeta,
    /// (action, count), most frequent first.
    pub actions: Vec<(SafeText, u32)>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

/// How much a new token can do, as the token detector judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScopeRisk {
    Read,
    Write,
    Broad,
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub meta: FindingMeta,
    pub token_name: SafeText,
    pub scope: SafeText,
    pub risk: ScopeRisk,
    /// Object key of the archived creation event, once the archive has it.
    pub archive_key: Option<SafeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Malicious,
    LikelyMalicious,
    Suspicious,
    Misconfiguration,
    Benign,
    Inconclusive,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Malicious,
        Verdict::LikelyMalicious,
        Verdict::Suspicious,
        Verdict::Misconfiguration,
        Verdict::Benign,
        Verdict::Inconclusive,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Malicious => "malicious",
            Verdict::LikelyMalicious => "likely malicious",
            Verdict::Suspicious => "suspicious",
            Verdict::Misconfiguration => "misconfiguration",
            Verdict::Benign => "benign",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// How a verdict is coloured: the worse, the hotter.
    pub fn severity(self) -> Severity {
        match self {
            Verdict::Malicious => Severity::Critical,
            Verdict::LikelyMalicious => Severity::High,
            Verdict::Suspicious => Severity::Medium,
            Verdict::Misconfiguration => Severity::Low,
            Verdict::Benign | Verdict::Inconclusive => Severity::Info,
        }
    }

    /// The verdicts an analyst can give a report: a draft's verdict is one of
    /// these, and offering "malicious" or "inconclusive" in the editor would
    /// only lead to an approval the store refuses.
    pub const EDITABLE: [Verdict; 4] = [
        Verdict::LikelyMalicious,
        Verdict::Suspicious,
        Verdict::Misconfiguration,
        Verdict::Benign,
    ];

    /// The next verdict in [`Verdict::EDITABLE`], wrapping; `back` goes the
    /// other way. A verdict outside that list moves to its first entry.
    pub fn cycle(self, back: bool) -> Verdict {
        let list = Verdict::EDITABLE;
        let n = list.len();
        match list.iter().position(|v| *v == self) {
            Some(i) => list[if back { (i + n - 1) % n } else { (i + 1) % n }],
            None => list[0],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvestigationStatus {
    Running,
    Draft,
    Approved,
    Published,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvestigationRow {
    pub id: DraftId,
    /// Short human label (`INV-12`).
    pub label: SafeText,
    pub actor: ActorKey,
    pub verdict: Verdict,
    pub confidence: f32,
    pub status: InvestigationStatus,
    pub finding: Option<FindingId>,
    pub updated_at: DateTime<Utc>,
    pub deliveries: Vec<Delivery>,
}

/// One scheduled check as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckStatus {
    pub workflow: Workflow,
    pub last_run: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
    pub last_error: Option<SafeText>,
}

/// A service the HTTP layer is waiting on after a 429.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitWait {
    pub service: SafeText,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum KeychainStatus {
    Available,
    /// Secrets come from environment variables only.
    EnvironmentOnly,
    Unavailable(SafeText),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeaseStatus {
    /// Which engine runs the scheduled checks (`host:pid`), if any.
    pub holder: Option<SafeText>,
    /// Whether that engine is this process.
    pub ours: bool,
}

/// A workflow's mode in force, as the status bar and the switch popup show it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStatus {
    pub workflow: Workflow,
    pub mode: WorkflowMode,
    /// `config`, `set by alice 2026-11-21 12:03 UTC`, ...
    pub origin: SafeText,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusSnapshot {
    pub checks: Vec<CheckStatus>,
    /// All four workflows, in [`crate::config::WORKFLOWS`] order.
    pub workflows: Vec<WorkflowStatus>,
    pub rate_limits: Vec<RateLimitWait>,
    pub outbox_queued: u32,
    pub outbox_dead: u32,
    pub lease: LeaseStatus,
    pub keychain: KeychainStatus,
}

impl Default for StatusSnapshot {
    fn default() -> StatusSnapshot {
        StatusSnapshot {
            checks: Vec::new(),
            workflows: Vec::new(),
            rate_limits: Vec::new(),
            outbox_queued: 0,
            outbox_dead: 0,
            lease: LeaseStatus {
                holder: None,
                ours: false,
            },
            keychain: KeychainStatus::EnvironmentOnly,
        }
    }
}

/// What the investigation derived about one event, drawn in the timeline gutter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    Credential,
    Privilege,
    Destructive,
    NewIp,
    NewResourceType,
    Burst,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub kind: MarkerKind,
    pub label: SafeText,
}

/// One event in an actor's correlated timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub event_id: EventId,
    pub time: DateTime<Utc>,
    pub source: Source,
    pub verb: SafeText,
    pub resource: SafeText,
    pub markers: Vec<Marker>,
    /// Events this one is linked to (token created -> token used).
    pub linked_event_ids: Vec<EventId>,
}

/// The header of an actor view.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineSummary {
    pub actor: ActorKey,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub sources: Vec<Source>,
    pub total: usize,
}

/// The raw JSON of one event, pretty-printed and sanitized.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetail {
    pub event_id: EventId,
    pub text: SafeText,
}

impl EventDetail {
    /// Pretty-prints `raw` when it is JSON (kept verbatim otherwise), then
    /// sanitizes it as multi-line text.
    pub fn from_raw_json(event_id: EventId, raw: &str) -> EventDetail {
        let pretty = serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok());
        EventDetail {
            event_id,
            text: SafeText::multiline(pretty.as_deref().unwrap_or(raw)),
        }
    }
}

/// Failure reading a timeline; the pane shows it in place of rows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot read the timeline: {0}")]
pub struct TimelineError(pub SafeText);

/// An actor's timeline, read a window at a time so a million events cost no
/// more to draw than a thousand. Implementations must be cheap, bounded,
/// side-effect-free reads (an indexed store query, an in-memory slice): the
/// timeline pane calls `window` on every frame.
pub trait TimelineSource: Send + Sync {
    fn summary(&self) -> TimelineSummary;
    /// Number of events; rows are indexed `0..len()` in time order.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Rows `offset..offset + limit` (fewer at the end).
    fn window(&self, offset: usize, limit: usize) -> Result<Vec<TimelineRow>, TimelineError>;
    /// The index of an event, for jumping to a linked one.
    fn position_of(&self, event_id: &EventId) -> Option<usize>;
    fn detail(&self, event_id: &EventId) -> Result<Option<EventDetail>, TimelineError>;
}

/// The fields an analyst can edit on a draft.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftFields {
    pub verdict: Verdict,
    /// 0.0 - 1.0.
    pub confidence: f32,
    pub summary: SafeText,
    pub next_step: SafeText,
    pub free_text: SafeText,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub label: SafeText,
    pub kind: MarkerKind,
    pub event_ids: Vec<EventId>,
}

/// What each publish target will send, as the report renderer built it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPreview {
    pub confluence_title: SafeText,
    pub confluence_body: SafeText,
    pub linear_title: SafeText,
    pub linear_body: SafeText,
    pub pagerduty_summary: SafeText,
}

/// An investigation draft, with the AI's original for the diff.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftView {
    pub id: DraftId,
    pub label: SafeText,
    pub actor: ActorKey,
    pub fields: DraftFields,
    pub ai_original: DraftFields,
    pub indicators: Vec<Indicator>,
    /// Which engine wrote it (`heuristic`, `openai:gpt-…`) and why, when it fell back.
    pub generated_by: SafeText,
    pub status: InvestigationStatus,
    /// Present once the draft is approved and the report is rendered.
    pub preview: Option<PublishPreview>,
    pub deliveries: Vec<Delivery>,
}

/// What `Enter` or a delivery update points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemRef {
    Finding(FindingId),
    Draft(DraftId),
}

/// One outbox row in the outbox view; its preview is loaded on demand
/// ([`super::ConsoleData::outbox_preview`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub sink: Sink,
    /// `ticket`, `trigger`, `object`, `page`, ...
    pub kind: SafeText,
    pub state: DeliveryState,
    /// The row's dedup key: what it is about (finding key, report label).
    pub subject: SafeText,
    pub updated_at: DateTime<Utc>,
}

/// Everything the main screen shows, sent whole at start and on resync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsoleSnapshot {
    pub flagged: Vec<FlaggedActorRow>,
    pub bursts: Vec<BurstRow>,
    pub tokens: Vec<TokenRow>,
    pub investigations: Vec<InvestigationRow>,
    pub drafts: Vec<DraftView>,
    pub status: StatusSnapshot,
    /// The newest outbox rows, newest first.
    pub outbox: Vec<OutboxRow>,
}

/// Inbound: what the engine bridge tells the console. Rows are upserts keyed
/// by their id.
#[derive(Debug, Clone, PartialEq)]
pub enum DataEvent {
    Snapshot(Box<ConsoleSnapshot>),
    Flagged(FlaggedActorRow),
    Burst(BurstRow),
    Token(TokenRow),
    Investigation(InvestigationRow),
    Draft(Box<DraftView>),
    /// A finding no longer shown (expired, merged).
    Removed(FindingId),
    Delivery {
        item: ItemRef,
        delivery: Delivery,
    },
    Status(StatusSnapshot),
    Check(CheckStatus),
    /// The newest outbox rows changed (the whole list, newest first).
    Outbox(Vec<OutboxRow>),
    /// A command could not be carried out.
    CommandFailed {
        what: SafeText,
        error: SafeText,
    },
    /// A command was carried out (recorded in the analyst log).
    CommandDone {
        what: SafeText,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PagerDutyAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl PagerDutyAction {
    pub fn label(self) -> &'static str {
        match self {
            PagerDutyAction::Trigger => "trigger",
            PagerDutyAction::Acknowledge => "acknowledge",
            PagerDutyAction::Resolve => "resolve",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublishTarget {
    Confluence,
    Linear,
    PagerDuty(PagerDutyAction),
}

impl PublishTarget {
    pub const ALL: [PublishTarget; 5] = [
        PublishTarget::Confluence,
        PublishTarget::Linear,
        PublishTarget::PagerDuty(PagerDutyAction::Trigger),
        PublishTarget::PagerDuty(PagerDutyAction::Acknowledge),
        PublishTarget::PagerDuty(PagerDutyAction::Resolve),
    ];

    pub fn sink(self) -> Sink {
        match self {
            PublishTarget::Confluence => Sink::Confluence,
            PublishTarget::Linear => Sink::Linear,
            PublishTarget::PagerDuty(_) => Sink::PagerDuty,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PublishTarget::Confluence => "Confluence page",
            PublishTarget::Linear => "Linear ticket",
            PublishTarget::PagerDuty(PagerDutyAction::Trigger) => "PagerDuty trigger",
            PublishTarget::PagerDuty(PagerDutyAction::Acknowledge) => "PagerDuty acknowledge",
            PublishTarget::PagerDuty(PagerDutyAction::Resolve) => "PagerDuty resolve",
        }
    }
}

/// One changed field of a draft, for the analyst log's before/after.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldEdit {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// Outbound: what the console asks the engine to do. Every command names the
/// analyst, for the analyst log.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Acknowledge {
        finding: FindingId,
        analyst: String,
    },
    Resolve {
        finding: FindingId,
        analyst: String,
    },
    Snooze {
        finding: FindingId,
        duration: Duration,
        reason: String,
        analyst: String,
    },
    StartInvestigation {
        actor: ActorKey,
        finding: Option<FindingId>,
        analyst: String,
    },
    Approve {
        draft: DraftId,
        fields: DraftFields,
        edits: Vec<FieldEdit>,
        analyst: String,
    },
    Publish {
        draft: DraftId,
        target: PublishTarget,
        analyst: String,
    },
    /// Switch a workflow off, to dry-run or on, for every process on the
    /// store (recorded in the analyst log).
    SetWorkflowMode {
        workflow: Workflow,
        mode: WorkflowMode,
        analyst: String,
    },
}

impl Command {
    /// A short description for notices (`acknowledge`, `publish Linear ticket`).
    pub fn describe(&self) -> String {
        match self {
            Command::Acknowledge { .. } => "acknowledge".into(),
            Command::Resolve { .. } => "resolve".into(),
            Command::Snooze { duration, .. } => {
                format!("snooze {}", super::format::duration(*duration))
            }
            Command::StartInvestigation { .. } => "start investigation".into(),
            Command::Approve { .. } => "approve draft".into(),
            Command::Publish { target, .. } => format!("publish {}", target.label()),
            Command::SetWorkflowMode { workflow, mode, .. } => {
                format!("switch {} to {mode}", workflow_key(*workflow))
            }
        }
    }
}

/// Where drafts are looked up by id.
pub type DraftMap = HashMap<DraftId, DraftView>;
