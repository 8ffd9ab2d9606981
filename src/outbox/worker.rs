//! The delivery worker: claims due outbox rows, turns each payload into a
//! [`DeliveryRequest`], delivers it through the configured sinks and records
//! the outcome (delivered with the remote link, retry later, or dead).
//!
//! Delivery is at-least-once; each sink makes a repeated call harmless (see
//! `crate::sinks`), which is what makes requeueing a row cut off by a crash
//! safe. Rows of a sink that is not configured are not claimed: they wait,
//! with `last_error` saying which key enables it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize as _, Serialize};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::backoff::Backoff;
use super::blocks;
use super::fault::{self, FaultPoint};
use crate::config::OutboxConfig;
use crate::detect::Finding;
use crate::engine::{EngineClock, EngineEvent, StoreHandle, StoreTaskError};
use crate::sinks::{DeliveryRequest, Sink as _, SinkError, Sinks};
use crate::store::{FindingRequestPayload, OutboxItem, Sink, Store, StoreError};

/// The longest the worker sleeps before looking for due rows again (rows
/// enqueued by another connection do not wake it).
const IDLE_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    pub backoff: Backoff,
    pub max_attempts: u64,
    pub concurrency: usize,
    pub idle_poll: Duration,
}

impl WorkerSettings {
    pub fn from_config(config: &OutboxConfig) -> WorkerSettings {
        WorkerSettings {
            backoff: Backoff::from_config(config),
            max_attempts: u64::from(config.max_attempts.max(1)),
            concurrency: usize::try_from(config.concurrency.max(1)).unwrap_or(1),
            idle_poll: IDLE_POLL,
        }
    }
}

/// How long [`OutboxWorker::run`] keeps going.
#[derive(Debug)]
pub enum RunMode {
    /// Deliver what is due now (one attempt each), then return.
    Once,
    /// Until nothing of a configured sink is queued or in flight: every row
    /// delivered or dead (waits through backoffs).
    UntilIdle,
    /// Until the watched flag turns true (the engine's shutdown).
    UntilShutdown(watch::Receiver<bool>),
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    StoreTask(#[from] StoreTaskError),
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub delivered: u64,
    /// Of the delivered, found already done on the remote side.
    pub already_delivered: u64,
    pub retried: u64,
    pub dead: u64,
    /// Queued rows of sinks that are not configured.
    pub waiting_unconfigured: u64,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Delivered {
        already: bool,
    },
    Retry,
    Dead,
    /// The row changed under us (dropped by the analyst): nothing recorded.
    Stale,
}

pub struct OutboxWorker {
    inner: Arc<Inner>,
}

struct Inner {
    store: StoreHandle,
    sinks: Arc<Sinks>,
    settings: WorkerSettings,
    clock: Arc<dyn EngineClock>,
    events: Option<broadcast::Sender<EngineEvent>>,
}

impl OutboxWorker {
    pub fn new(
        store: StoreHandle,
        sinks: Arc<Sinks>,
        settings: WorkerSettings,
        clock: Arc<dyn EngineClock>,
    ) -> OutboxWorker {
        OutboxWorker {
            inner: Arc::new(Inner {
                store,
                sinks,
                settings,
                clock,
                events: None,
            }),
        }
    }

    /// Emits `OutboxChanged` and `Delivered` / `DeliveryFailed` on `events`.
    pub fn with_events(self, events: broadcast::Sender<EngineEvent>) -> OutboxWorker {
        let shared = &self.inner;
        OutboxWorker {
            inner: Arc::new(Inner {
                store: shared.store.clone(),
                sinks: Arc::clone(&shared.sinks),
                settings: shared.settings,
                clock: Arc::clone(&shared.clock),
                events: Some(events),
            }),
        }
    }

    /// Requeues rows claimed before `claimed_before` by a worker that
    /// stopped mid-delivery (crash, kill -9). Returns how many.
    pub async fn recover(&self, claimed_before: DateTime<Utc>) -> Result<u64, WorkerError> {
        let now = self.inner.clock.now();
        let n = self
            .inner
            .store
            .call(move |s| s.requeue_stale_in_flight(claimed_before, now))
            .await??;
        if n > 0 {
            tracing::warn!(
                requeued = n,
                "outbox: requeued deliveries interrupted by a stop"
            );
        }
        Ok(n)
    }

    /// Delivers due rows until `mode` says stop. Rate-limit blocks recorded
    /// before a restart are waited out; new ones are recorded as they come.
    pub async fn run(&self, mode: RunMode) -> Result<RunSummary, WorkerError> {
        let inner = &self.inner;
        blocks::restore(&inner.store, &inner.sinks, inner.clock.now()).await?;
        // Aborted when dropped, at the end of the run.
        let _recording_blocks = blocks::persist(&inner.store, &inner.sinks);
        let sinks = configured(&inner.sinks);
        let mut summary = RunSummary {
            waiting_unconfigured: self.note_unconfigured().await?,
            ..RunSummary::default()
        };
        let mut shutdown = match &mode {
            RunMode::UntilShutdown(rx) => Some(rx.clone()),
            _ => None,
        };
        let once_until = inner.clock.now();
        let mut tasks: JoinSet<Result<Outcome, WorkerError>> = JoinSet::new();
        loop {
            if shutdown.as_ref().is_some_and(|rx| *rx.borrow()) {
                break;
            }
            let free = inner.settings.concurrency.saturating_sub(tasks.len());
            let due_by = match mode {
                RunMode::Once => once_until,
                _ => inner.clock.now(),
            };
            // A service that asked us to wait gets no new claims meanwhile:
            // its rows would only hold worker slots other sinks can use.
            // (`Once` gives every due row its attempt; those wait in place.)
            let (open, block_ends) = match mode {
                RunMode::Once => (sinks.clone(), None),
                _ => blocks::open_sinks(&sinks, &inner.sinks, due_by),
            };
            let claimed = if free > 0 {
                let list = open.clone();
                inner
                    .store
                    .call(move |s| s.claim_due(due_by, free, &list))
                    .await??
            } else {
                Vec::new()
            };
            let claimed_any = !claimed.is_empty();
            for item in claimed {
                tasks.spawn(deliver_one(Arc::clone(inner), item));
            }
            if claimed_any && tasks.len() < inner.settings.concurrency {
                continue;
            }
            let wait = if tasks.len() >= inner.settings.concurrency {
                inner.settings.idle_poll
            } else {
                let list = open.clone();
                let next = inner.store.call(move |s| s.next_due(&list)).await??;
                match (&mode, next) {
                    (RunMode::Once, _) | (RunMode::UntilIdle, None) if tasks.is_empty() => {
                        if matches!(mode, RunMode::Once) || self.idle(&sinks).await? {
                            break;
                        }
                        inner.settings.idle_poll
                    }
                    (_, Some(at)) => (at - inner.clock.now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(inner.settings.idle_poll),
                    (_, None) => inner.settings.idle_poll,
                }
            };
            let wait = match block_ends {
                Some(end) => wait.min((end - inner.clock.now()).to_std().unwrap_or(Duration::ZERO)),
                None => wait,
            };
            let stop = async {
                match shutdown.as_mut() {
                    Some(rx) => {
                        let _ = rx.wait_for(|stop| *stop).await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                joined = tasks.join_next(), if !tasks.is_empty() => {
                    if let Some(joined) = joined {
                        count(&mut summary, joined);
                        self.publish_counts().await;
                    }
                }
                () = tokio::time::sleep(wait) => {}
                () = stop => break,
            }
        }
        // In-flight deliveries finish (or the process dies and recovery requeues them).
        while let Some(joined) = tasks.join_next().await {
            count(&mut summary, joined);
        }
        blocks::flush(&inner.store, &inner.sinks).await;
        self.publish_counts().await;
        Ok(summary)
    }

    /// Nothing of a configured sink queued or in flight.
    async fn idle(&self, sinks: &[Sink]) -> Result<bool, WorkerError> {
        let list = sinks.to_vec();
        let busy = self
            .inner
            .store
            .call(move |s| {
                Ok::<_, StoreError>(
                    s.outbox_counts()?.in_flight > 0 || s.next_due(&list)?.is_some(),
                )
            })
            .await??;
        Ok(!busy)
    }

    async fn note_unconfigured(&self) -> Result<u64, WorkerError> {
        let now = self.inner.clock.now();
        let missing = unconfigured(&self.inner.sinks);
        let waiting = self
            .inner
            .store
            .call(move |s| {
                let mut waiting = 0;
                for (sink, message) in missing {
                    waiting += s.note_unconfigured(sink, message, now)?;
                }
                Ok::<_, StoreError>(waiting)
            })
            .await??;
        Ok(waiting)
    }

    async fn publish_counts(&self) {
        let Some(events) = &self.inner.events else {
            return;
        };
        if events.receiver_count() == 0 {
            return;
        }
        if let Ok(Ok(counts)) = self.inner.store.call(|s| s.outbox_counts()).await {
            let _ = events.send(EngineEvent::OutboxChanged { counts });
        }
    }
}

fn count(
    summary: &mut RunSummary,
    joined: Result<Result<Outcome, WorkerError>, tokio::task::JoinError>,
) {
    match joined {
        Ok(Ok(Outcome::Delivered { already })) => {
            summary.delivered += 1;
            summary.already_delivered += u64::from(already);
        }
        Ok(Ok(Outcome::Retry)) => summary.retried += 1,
        Ok(Ok(Outcome::Dead)) => summary.dead += 1,
        Ok(Ok(Outcome::Stale)) => {}
        // The row stays in flight; recovery at the next start requeues it.
        Ok(Err(err)) => tracing::error!(error = %err, "outbox: recording a delivery failed"),
        Err(err) => tracing::error!(error = %err, "outbox: a delivery task ended abnormally"),
    }
}

/// The sinks the worker may claim rows for.
pub fn configured(sinks: &Sinks) -> Vec<Sink> {
    let missing: Vec<Sink> = unconfigured(sinks).into_iter().map(|(s, _)| s).collect();
    Sink::ALL
        .into_iter()
        .filter(|s| !missing.contains(s))
        .collect()
}

/// Unconfigured sinks with what the analyst should set.
fn unconfigured(sinks: &Sinks) -> Vec<(Sink, &'static str)> {
    let mut out = Vec::new();
    if sinks.linear.is_none() {
        out.push((
            Sink::Linear,
            "linear not configured: set [linear] team_id and `soc-tui auth set linear-api-key`; \
             waiting until then",
        ));
    }
    if sinks.pagerduty.is_none() {
        out.push((
            Sink::PagerDuty,
            "pagerduty not configured: set [pagerduty] enabled = true and \
             `soc-tui auth set pagerduty-routing-key`; waiting until then",
        ));
    }
    if sinks.confluence.is_none() {
        out.push((
            Sink::Confluence,
            "confluence not configured: set [confluence] base_url, space_key and email and \
             `soc-tui auth set confluence-api-token`; waiting until then",
        ));
    }
    out
}

async fn deliver_one(inner: Arc<Inner>, item: OutboxItem) -> Result<Outcome, WorkerError> {
    let id = item.id;
    let payload = item.payload.clone();
    let finding_id = item.finding_id;
    let request = inner
        .store
        .call(move |s| to_request(s, finding_id, &payload))
        .await??;
    let result = match request {
        Ok(request) => inner.sinks.deliver(&request).await,
        Err(reason) => Err(SinkError::Permanent {
            sink: item.sink.into(),
            message: reason,
        }),
    };
    let now = inner.clock.now();
    let (outcome, event) = match result {
        Ok(done) => {
            fault::hit(FaultPoint::AfterRemoteOk);
            let (remote, url) = (done.remote_id.clone(), done.url.clone());
            let recorded = inner
                .store
                .call(move |s| s.mark_delivered(id, &remote, url.as_deref(), now))
                .await??;
            let event = EngineEvent::Delivered {
                outbox_id: id,
                sink: item.sink,
                finding_id: item.finding_id,
                remote_id: done.remote_id,
                url: done.url,
                already_delivered: done.already_delivered,
            };
            let already = done.already_delivered;
            (recorded.then_some(Outcome::Delivered { already }), event)
        }
        Err(error) => {
            let message = error.to_string();
            let give_up = error.is_permanent() || item.attempts >= inner.settings.max_attempts;
            let recorded = if give_up {
                let reason = if error.is_permanent() {
                    message.clone()
                } else {
                    format!("gave up after {} attempts: {message}", item.attempts)
                };
                inner
                    .store
                    .call(move |s| s.mark_dead(id, &reason, now))
                    .await??
                    .then_some(Outcome::Dead)
            } else {
                let delay = inner
                    .settings
                    .backoff
                    .random_delay(item.attempts, error.retry_after());
                let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                let text = message.clone();
                let recorded = inner
                    .store
                    .call(move |s| s.mark_retry(id, next, &text, now))
                    .await??;
                fault::hit(FaultPoint::Backoff);
                recorded.then_some(Outcome::Retry)
            };
            tracing::warn!(outbox = id, sink = %item.sink, dead = give_up, error = %message, "outbox delivery failed");
            let event = EngineEvent::DeliveryFailed {
                outbox_id: id,
                sink: item.sink,
                error: message,
                dead: give_up,
            };
            (recorded, event)
        }
    };
    if let Some(events) = &inner.events {
        let _ = events.send(event);
    }
    Ok(outcome.unwrap_or(Outcome::Stale))
}

/// The row's request: a finding's request (rebuilt from the stored finding,
/// with the raw event for an archive) or a ready [`DeliveryRequest`]
/// (approved reports, PagerDuty updates). `Err` is why it can never be sent.
pub(crate) fn to_request(
    store: &Store,
    finding_id: Option<i64>,
    payload: &serde_json::Value,
) -> Result<Result<DeliveryRequest, String>, StoreError> {
    if let Ok(request) = DeliveryRequest::deserialize(payload) {
        return Ok(Ok(request));
    }
    let parsed = match FindingRequestPayload::deserialize(payload) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Err(format!(
                "the stored payload is not a known request: {e}"
            )));
        }
    };
    let Some(stored) = finding_id
        .map(|id| store.finding_by_id(id))
        .transpose()?
        .flatten()
    else {
        return Ok(Err(format!(
            "finding {} of this request is not in the store",
            parsed.finding_dedup_key
        )));
    };
    let finding = Finding::from(stored);
    // A store error reading the event is worth retrying; a missing event is not.
    let raw = match &parsed.request {
        crate::detect::SinkRequest::ArchiveObject { event_id, time, .. } => {
            store.event_raw(event_id, *time)?
        }
        _ => None,
    };
    Ok(
        DeliveryRequest::from_sink_request(&finding, &parsed.request, &|_| raw.clone())
            .map_err(|e| e.to_string()),
    )
}
