//! Runs an investigation end to end: a `running` draft in the store becomes
//! a finished draft report awaiting approval (or `failed`, with the reason).
//!
//! Store work runs on the blocking pool; the store is shared with the
//! engine behind a mutex, held only for the reads and writes themselves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::context::{self, LiveSource, Window};
use super::heuristic;
use super::identity::{IdentityResolver, normalize_actor};
use super::llm::{LlmAgent, SecondOpinion, second_opinion};
use super::markers;
use super::report::{
    AgentInfo, EngineInfo, FindingLink, IdentitySummary, Report, TriggerInfo, timeline_rows,
};
use super::timeline::Timeline;
use crate::config::InvestigationConfig;
use crate::detect::Finding;
use crate::store::{
    DraftCreated, DraftResult, DraftStatus, NewDraft, Store, StoreError, TriggerKind, draft_label,
};

#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("draft {} does not exist", draft_label(*.0))]
    NoSuchDraft(i64),
    #[error("draft {} is {status}, not running", draft_label(*id))]
    NotRunning { id: i64, status: DraftStatus },
    #[error("draft {}: its trigger record cannot be read: {detail}", draft_label(*id))]
    BadTrigger { id: i64, detail: String },
    #[error("the store lock is poisoned (a thread panicked while writing)")]
    Poisoned,
    #[error("an investigation task stopped unexpectedly: {0}")]
    Task(String),
}

/// What asked for an investigation, as stored in the draft's `trigger_json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerRecord {
    pub trigger: TriggerInfo,
    pub findings: Vec<FindingLink>,
}

/// An investigation to open.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestigationRequest {
    pub actor: String,
    pub at: DateTime<Utc>,
    pub kind: TriggerKind,
    pub record: TriggerRecord,
}

impl InvestigationRequest {
    /// An investigation of a finding's actor around the end of its window.
    pub fn from_finding(finding: &Finding) -> InvestigationRequest {
        let link = FindingLink {
            workflow: finding.workflow.as_str().to_owned(),
            dedup_key: finding.dedup_key.clone(),
            title: finding.title.clone(),
        };
        InvestigationRequest {
            actor: finding.actor.clone(),
            at: finding.window_end,
            kind: TriggerKind::Finding,
            record: TriggerRecord {
                trigger: TriggerInfo {
                    kind: TriggerKind::Finding.as_str().to_owned(),
                    reference: Some(finding.dedup_key.clone()),
                    detector: Some(finding.workflow.as_str().to_owned()),
                    source: None,
                    action: Some(finding.title.clone()),
                    details: Some(finding.evidence.clone()),
                },
                findings: vec![link],
            },
        }
    }

    /// An investigation asked for on the command line.
    pub fn from_cli(actor: &str, at: DateTime<Utc>) -> InvestigationRequest {
        InvestigationRequest {
            actor: normalize_actor(actor),
            at,
            kind: TriggerKind::Cli,
            record: TriggerRecord {
                trigger: TriggerInfo {
                    kind: TriggerKind::Cli.as_str().to_owned(),
                    ..TriggerInfo::default()
                },
                findings: Vec::new(),
            },
        }
    }

    pub fn new_draft<'a>(&'a self, trigger_json: &'a str) -> NewDraft<'a> {
        NewDraft {
            actor: &self.actor,
            at: self.at,
            trigger_kind: self.kind,
            trigger_ref: self.record.trigger.reference.as_deref(),
            trigger_json,
        }
    }
}

pub type SharedStore = Arc<Mutex<Store>>;

/// Runs investigations against a shared store.
#[derive(Clone)]
pub struct Investigator {
    store: SharedStore,
    config: InvestigationConfig,
    resolver: IdentityResolver,
    agent: Option<Arc<LlmAgent>>,
    live: Vec<Arc<dyn LiveSource>>,
    live_timeout: Duration,
}

impl std::fmt::Debug for Investigator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Investigator")
            .field("agent", &self.agent)
            .field("live_sources", &self.live.len())
            .finish_non_exhaustive()
    }
}

impl Investigator {
    pub fn new(store: SharedStore, config: InvestigationConfig) -> Investigator {
        Investigator {
            resolver: IdentityResolver::new(&config),
            store,
            config,
            agent: None,
            live: Vec::new(),
            live_timeout: Duration::from_secs(30),
        }
    }

    pub fn with_agent(mut self, agent: Option<LlmAgent>) -> Investigator {
        self.agent = agent.map(Arc::new);
        self
    }

    /// Sources asked for the actor's events on top of the store (when
    /// `investigation.live_queries` is on), each given `timeout` to answer.
    pub fn with_live_sources(
        mut self,
        sources: Vec<Arc<dyn LiveSource>>,
        timeout: Duration,
    ) -> Investigator {
        self.live = sources;
        self.live_timeout = timeout;
        self
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Opens a `running` draft for `request` (or finds the one its trigger already has).
    pub fn open(&self, request: &InvestigationRequest) -> Result<DraftCreated, InvestigateError> {
        let trigger_json = serde_json::to_string(&request.record).unwrap_or_else(|_| "{}".into());
        let mut store = self.store.lock().map_err(|_| InvestigateError::Poisoned)?;
        Ok(store.create_draft(&request.new_draft(&trigger_json), Utc::now())?)
    }

    /// The engine calls this for every new finding: when
    /// `investigation.auto_investigate_findings` is on and the finding is not
    /// suppressed, its actor is investigated (once per finding dedup key).
    /// Returns the draft id when an investigation ran.
    pub async fn on_finding(&self, finding: &Finding) -> Result<Option<i64>, InvestigateError> {
        if !self.config.auto_investigate_findings || finding.is_suppressed() {
            return Ok(None);
        }
        match self.open(&InvestigationRequest::from_finding(finding))? {
            DraftCreated::New(id) => {
                self.run(id).await?;
                Ok(Some(id))
            }
            DraftCreated::Existing(_) => Ok(None),
        }
    }

    /// Runs the investigation of `running` draft `id` and stores its report.
    /// On failure the draft is marked `failed` with the reason.
    pub async fn run(&self, id: i64) -> Result<Report, InvestigateError> {
        match self.try_run(id).await {
            Ok(report) => Ok(report),
            Err(err) => {
                if !matches!(
                    err,
                    InvestigateError::NotRunning { .. } | InvestigateError::NoSuchDraft(_)
                ) {
                    let message = err.to_string();
                    let _ = self
                        .blocking(move |store| Ok(store.fail_draft(id, &message, Utc::now())?))
                        .await;
                }
                Err(err)
            }
        }
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, InvestigateError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, InvestigateError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| InvestigateError::Poisoned)?;
            work(&mut guard)
        })
        .await
        .map_err(|e| InvestigateError::Task(e.to_string()))?
    }

    async fn try_run(&self, id: i64) -> Result<Report, InvestigateError> {
        let row = self
            .blocking(move |store| store.draft(id)?.ok_or(InvestigateError::NoSuchDraft(id)))
            .await?;
        if row.status != DraftStatus::Running {
            return Err(InvestigateError::NotRunning {
                id,
                status: row.status,
            });
        }
        let record: TriggerRecord =
            serde_json::from_str(&row.trigger_json).map_err(|e| InvestigateError::BadTrigger {
                id,
                detail: e.to_string(),
            })?;
        let window = Window::around(row.at, &self.config);
        let mut identity = self.resolver.resolve(&row.actor);
        let config = self.config.clone();
        let (stored, identity_after) = self
            .blocking(move |store| {
                let stored = context::read_store(store, &mut identity, &window, &config)?;
                Ok((stored, identity))
            })
            .await?;
        let identity = identity_after;
        let mut notes = Vec::new();
        let mut events = stored.events;
        if stored.truncated {
            notes.push(format!(
                "More than {} events in the window: only the earliest {} were read \
                 (investigation.max_events).",
                self.config.max_events, self.config.max_events
            ));
        }
        if self.config.live_queries && !self.live.is_empty() {
            let (live, live_notes) =
                context::query_live(&self.live, &identity, &window, self.live_timeout).await;
            notes.extend(live_notes);
            if !live.is_empty() {
                let keep = live.clone();
                // Evidence fetched live is kept like polled events (idempotent).
                if let Err(err) = self
                    .blocking(move |store| Ok(store.insert_events(&keep)?))
                    .await
                {
                    notes.push(format!("live events could not be stored: {err}"));
                }
                events.extend(live);
            }
        }
        let mut timeline = Timeline::build(events);
        let baseline = markers::annotate(&mut timeline, &stored.history);
        if !baseline.history_known {
            notes.push(
                "No activity of this actor before the window: first-seen IP and user agent \
                 markers are not available."
                    .into(),
            );
        }
        let heuristic = heuristic::classify(&timeline, &baseline, &identity.primary);
        let (assessment, engine) = match &self.agent {
            None => (
                heuristic.clone(),
                EngineInfo {
                    verdict_from: "heuristic".into(),
                    ..EngineInfo::default()
                },
            ),
            Some(agent) => {
                let opinion =
                    second_opinion(agent, &identity.primary, &timeline, &baseline, &heuristic)
                        .await;
                engine_outcome(agent, opinion, &heuristic)
            }
        };
        let (rows, omitted) = timeline_rows(&timeline);
        let report = Report {
            id,
            actor: row.actor.clone(),
            identity: IdentitySummary::from(&identity),
            window,
            trigger: record.trigger,
            generated_at: Utc::now(),
            assessment,
            heuristic,
            engine,
            stats: timeline.stats(),
            timeline: rows,
            timeline_omitted: omitted,
            sequences: timeline.sequences.clone(),
            source_findings: record.findings,
            notes,
        };
        let json =
            serde_json::to_string(&report).map_err(|e| InvestigateError::Task(e.to_string()))?;
        let verdict = report.assessment.verdict.as_str();
        let confidence = report.assessment.confidence;
        let untrusted = report.engine.untrusted_output;
        self.blocking(move |store| {
            Ok(store.complete_draft(
                id,
                &DraftResult {
                    verdict,
                    confidence,
                    untrusted_output: untrusted,
                    report_json: &json,
                },
                Utc::now(),
            )?)
        })
        .await?;
        tracing::info!(draft = %draft_label(id), verdict, confidence, "investigation finished");
        Ok(report)
    }
}

fn engine_outcome(
    agent: &LlmAgent,
    opinion: SecondOpinion,
    heuristic: &super::verdict::Assessment,
) -> (super::verdict::Assessment, EngineInfo) {
    let info = AgentInfo {
        provider: agent.provider().to_string(),
        model: agent.model().to_owned(),
    };
    match opinion {
        SecondOpinion::Accepted(answer) => {
            let engine = EngineInfo {
                verdict_from: info.provider.clone(),
                agent: Some(info),
                model_verdict: Some(answer.assessment.verdict),
                model_confidence: Some(answer.assessment.confidence),
                ..EngineInfo::default()
            };
            (answer.assessment, engine)
        }
        SecondOpinion::Rejected {
            reason,
            untrusted,
            answer,
        } => {
            tracing::warn!(agent = %info.provider, untrusted, %reason, "model answer not used");
            let engine = EngineInfo {
                verdict_from: "heuristic".into(),
                agent: Some(info),
                fallback: Some(reason.clone()),
                untrusted_output: untrusted,
                untrusted_reason: untrusted.then_some(reason),
                model_verdict: answer.as_ref().map(|a| a.assessment.verdict),
                model_confidence: answer.as_ref().map(|a| a.assessment.confidence),
            };
            (heuristic.clone(), engine)
        }
    }
}
