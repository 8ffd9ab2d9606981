//! A scripted data side for tests, snapshots and benchmarks: the scenario of
//! DESIGN section 9 (mallory.ops creating a broad token, granting roles and
//! deleting monitors), answering commands the way the engine will (row state
//! changes, approval with a report preview, outbox deliveries with links).
//!
//! [`FakeData::hostile`] fills every field with escape sequences, OSC 52,
//! BiDi overrides and a 1 MB value, to prove they render inert.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

mod scenario;

use super::data::{ConsoleData, DataError, DataSink};
use super::model::*;
use scenario::{Names, Scenario};

/// An actor's timeline held in memory.
#[derive(Debug, Clone)]
pub struct VecTimeline {
    pub actor: ActorKey,
    pub rows: Vec<TimelineRow>,
    /// Raw JSON by event id.
    pub raw: HashMap<String, String>,
}

impl TimelineSource for VecTimeline {
    fn summary(&self) -> TimelineSummary {
        let mut sources: Vec<Source> = self.rows.iter().map(|r| r.source).collect();
        sources.sort();
        sources.dedup();
        TimelineSummary {
            actor: self.actor.clone(),
            from: self.rows.first().map(|r| r.time),
            to: self.rows.last().map(|r| r.time),
            sources,
            total: self.rows.len(),
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn window(&self, offset: usize, limit: usize) -> Result<Vec<TimelineRow>, TimelineError> {
        let start = offset.min(self.rows.len());
        let end = offset.saturating_add(limit).min(self.rows.len());
        Ok(self.rows[start..end].to_vec())
    }

    fn position_of(&self, event_id: &EventId) -> Option<usize> {
        self.rows.iter().position(|r| &r.event_id == event_id)
    }

    fn detail(&self, event_id: &EventId) -> Result<Option<EventDetail>, TimelineError> {
        Ok(self
            .raw
            .get(event_id.raw())
            .map(|raw| EventDetail::from_raw_json(event_id.clone(), raw)))
    }
}

/// The scripted data side.
pub struct FakeData {
    now: DateTime<Utc>,
    snapshot: ConsoleSnapshot,
    timelines: HashMap<String, Arc<VecTimeline>>,
    sink: Option<DataSink>,
    /// Every command received, for tests to inspect.
    pub commands: Arc<Mutex<Vec<Command>>>,
}

/// Attacker text used by [`FakeData::hostile`].
pub mod hostile {
    /// Clears the screen, sets a title, writes the clipboard (OSC 52), rings.
    pub const ESCAPES: &str =
        "evil\x1b[2J\x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07\u{9b}31m";
    /// Right-to-left override hiding the real extension, plus invisible joiners.
    pub const BIDI: &str = "admin\u{202e}gpj.exe\u{200b}\u{2066}x\u{2069}";
    pub fn megabyte() -> String {
        format!("A{}", "\x1b[31mX".repeat(1 << 18))
    }
}

impl FakeData {
    pub fn demo(now: DateTime<Utc>) -> FakeData {
        Scenario::new(now, Names::demo()).build()
    }

    pub fn hostile(now: DateTime<Utc>) -> FakeData {
        Scenario::new(now, Names::hostile()).build()
    }

    /// No findings, no drafts, a quiet status.
    pub fn empty(now: DateTime<Utc>) -> FakeData {
        FakeData {
            now,
            snapshot: ConsoleSnapshot::default(),
            timelines: HashMap::new(),
            sink: None,
            commands: Arc::default(),
        }
    }

    pub fn snapshot(&self) -> &ConsoleSnapshot {
        &self.snapshot
    }

    /// Adds (or replaces) an actor's timeline.
    pub fn with_timeline(mut self, timeline: VecTimeline) -> FakeData {
        self.timelines
            .insert(timeline.actor.raw().to_owned(), Arc::new(timeline));
        self
    }

    fn emit(&self, event: DataEvent) {
        if let Some(sink) = &self.sink {
            // The console may have closed; the fake has nobody else to tell.
            let _ = sink.send(event);
        }
    }

    fn update_meta(&mut self, id: &FindingId, f: impl Fn(&mut FindingMeta)) {
        let now = self.now;
        let s = &mut self.snapshot;
        for row in s.flagged.iter_mut().filter(|r| &r.meta.id == id) {
            f(&mut row.meta);
            row.meta.updated_at = now;
            let row = row.clone();
            if let Some(sink) = &self.sink {
                let _ = sink.send(DataEvent::Flagged(row));
            }
        }
        for row in s.bursts.iter_mut().filter(|r| &r.meta.id == id) {
            f(&mut row.meta);
            row.meta.updated_at = now;
            let row = row.clone();
            if let Some(sink) = &self.sink {
                let _ = sink.send(DataEvent::Burst(row));
            }
        }
        for row in s.tokens.iter_mut().filter(|r| &r.meta.id == id) {
            f(&mut row.meta);
            row.meta.updated_at = now;
            let row = row.clone();
            if let Some(sink) = &self.sink {
                let _ = sink.send(DataEvent::Token(row));
            }
        }
    }
}

impl ConsoleData for FakeData {
    fn connect(&mut self, sink: DataSink) -> Result<(), DataError> {
        sink.send(DataEvent::Snapshot(Box::new(self.snapshot.clone())))
            .map_err(|e| DataError(e.to_string()))?;
        self.sink = Some(sink);
        Ok(())
    }

    fn execute(&mut self, command: Command) -> Result<(), DataError> {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(command.clone());
        let what = SafeText::new(&command.describe());
        let now = self.now;
        match &command {
            Command::Acknowledge { finding, analyst } => {
                let by = SafeText::new(analyst);
                self.update_meta(finding, |m| {
                    m.state = TriageState::Acknowledged {
                        by: by.clone(),
                        at: now,
                    }
                });
            }
            Command::Resolve { finding, analyst } => {
                let by = SafeText::new(analyst);
                self.update_meta(finding, |m| {
                    m.state = TriageState::Resolved {
                        by: by.clone(),
                        at: now,
                    }
                });
            }
            Command::Snooze {
                finding,
                duration,
                reason,
                analyst,
            } => {
                let until = now + Duration::from_std(*duration).unwrap_or(Duration::hours(1));
                let (by, reason) = (SafeText::new(analyst), SafeText::new(reason));
                self.update_meta(finding, |m| {
                    m.state = TriageState::Snoozed {
                        until,
                        by: by.clone(),
                        reason: reason.clone(),
                    }
                });
            }
            Command::StartInvestigation { actor, finding, .. } => {
                if let Some(f) = finding {
                    self.update_meta(f, |m| m.state = TriageState::Investigating);
                }
                let n = self.snapshot.investigations.len() + 20;
                let row = InvestigationRow {
                    id: DraftId::new(format!("inv-{n}")),
                    label: SafeText::new(&format!("INV-{n}")),
                    actor: actor.clone(),
                    verdict: Verdict::Inconclusive,
                    confidence: 0.0,
                    status: InvestigationStatus::Running,
                    finding: finding.clone(),
                    updated_at: now,
                    deliveries: Vec::new(),
                };
                self.snapshot.investigations.push(row.clone());
                self.emit(DataEvent::Investigation(row));
            }
            Command::Approve { draft, fields, .. } => {
                let Some(d) = self.snapshot.drafts.iter_mut().find(|d| &d.id == draft) else {
                    return Err(DataError(format!(
                        "no draft {} in the store",
                        draft.shown()
                    )));
                };
                d.fields = fields.clone();
                d.status = InvestigationStatus::Approved;
                d.preview = Some(preview(d));
                let d = d.clone();
                for row in self
                    .snapshot
                    .investigations
                    .iter_mut()
                    .filter(|r| &r.id == draft)
                {
                    row.status = InvestigationStatus::Approved;
                    row.verdict = fields.verdict;
                    row.confidence = fields.confidence;
                    row.updated_at = now;
                    let row = row.clone();
                    if let Some(sink) = &self.sink {
                        let _ = sink.send(DataEvent::Investigation(row));
                    }
                }
                self.emit(DataEvent::Draft(Box::new(d)));
            }
            Command::Publish { draft, target, .. } => {
                let what_pd = match target {
                    PublishTarget::PagerDuty(a) => Some(*a),
                    _ => None,
                };
                let queued = Delivery {
                    sink: target.sink(),
                    what: what_pd,
                    state: DeliveryState::Queued,
                    link: None,
                };
                let item = ItemRef::Draft(draft.clone());
                self.emit(DataEvent::Delivery {
                    item: item.clone(),
                    delivery: queued.clone(),
                });
                let link = match target {
                    PublishTarget::Confluence => RemoteLink {
                        label: SafeText::new("SOC-REPORT"),
                        url: SafeText::new("https://wiki.example.com/pages/4242"),
                    },
                    PublishTarget::Linear => RemoteLink {
                        label: SafeText::new("SEC-101"),
                        url: SafeText::new("https://linear.app/acme/issue/SEC-101"),
                    },
                    PublishTarget::PagerDuty(_) => RemoteLink {
                        label: SafeText::new("Q1ABC"),
                        url: SafeText::new("https://acme.pagerduty.com/incidents/Q1ABC"),
                    },
                };
                self.emit(DataEvent::Delivery {
                    item,
                    delivery: Delivery {
                        state: DeliveryState::Delivered,
                        link: Some(link),
                        ..queued
                    },
                });
            }
            Command::SetWorkflowMode {
                workflow,
                mode,
                analyst,
            } => {
                let status = &mut self.snapshot.status;
                if let Some(w) = status
                    .workflows
                    .iter_mut()
                    .find(|w| w.workflow == *workflow)
                {
                    w.mode = *mode;
                    w.origin = SafeText::new(&format!(
                        "set by {analyst} {}",
                        now.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
                let status = status.clone();
                self.emit(DataEvent::Status(status));
            }
        }
        self.emit(DataEvent::CommandDone { what });
        Ok(())
    }

    fn outbox_preview(&mut self, id: i64) -> Result<SafeText, DataError> {
        let row = self
            .snapshot
            .outbox
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| DataError(format!("outbox request {id} is gone")))?;
        // Shaped like `soc-tui outbox show`; the subject is already sanitized.
        let text = format!(
            "outbox #{id}  {} {}\ndedup key: {}\n\n== What it sends ==\nTitle: Review {}\n\n\
             == HTTP calls (credentials redacted) ==\n# create the issue\n\
             POST https://api.linear.app/graphql\nAuthorization: [redacted]\n",
            row.sink.short(),
            row.kind,
            row.subject,
            row.subject,
        );
        Ok(SafeText::multiline(&text))
    }

    fn timeline(&mut self, actor: &ActorKey) -> Result<Arc<dyn TimelineSource>, DataError> {
        match self.timelines.get(actor.raw()) {
            Some(t) => Ok(t.clone()),
            None => Ok(Arc::new(VecTimeline {
                actor: actor.clone(),
                rows: Vec::new(),
                raw: HashMap::new(),
            })),
        }
    }
}

pub(crate) fn preview(d: &DraftView) -> PublishPreview {
    let title = format!(
        "[{}] {} — {}",
        d.label,
        d.actor.shown(),
        d.fields.verdict.label()
    );
    let body = format!(
        "Verdict: {} ({:.2})\n\nSummary\n{}\n\nNext step\n{}\n\nNotes\n{}",
        d.fields.verdict.label(),
        d.fields.confidence,
        d.fields.summary,
        d.fields.next_step,
        d.fields.free_text
    );
    PublishPreview {
        confluence_title: SafeText::new(&title),
        confluence_body: SafeText::multiline(&body),
        linear_title: SafeText::new(&title),
        linear_body: SafeText::multiline(&body),
        pagerduty_summary: SafeText::new(&title),
    }
}
