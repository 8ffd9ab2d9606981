//! The intake that polls Cloudflare and Datadog before each check: the
//! bursts check needs Datadog, the tokens check Cloudflare, the baseline
//! both. A check's windows then end where the polled data is complete
//! (the lowest checkpoint among the sources it reads).
//!
//! Each poller owns its client and its own connection to the store file,
//! and polls at most once at a time (a tokio mutex: a second check that
//! needs the same source waits for the poll in flight and reuses its
//! result if it is fresh). The pollers write through their own
//! connection rather than the engine's [`StoreHandle`] because a poll holds
//! the store across network waits; SQLite's busy timeout serializes the
//! short chunk commits with the engine's writes.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::intake::{Freshness, Intake, IntakeError, IntakeFuture};
use super::store_access::StoreHandle;
use crate::model::Source;
use crate::sources::poll::{CloudflarePoller, DatadogPoller, PollOptions, PollReport};
use crate::store::{CheckKind, Store, StoreError};

/// A poll this recent is reused by the next check that needs the source
/// (the baseline and the tokens check often start together); see
/// [`PollIntake::reuse_within`] for checks more frequent than that.
pub const REUSE_WITHIN: Duration = Duration::from_secs(30);

enum Poller {
    Cloudflare(Box<CloudflarePoller>),
    Datadog(Box<DatadogPoller>),
}

impl Poller {
    async fn poll(&self, store: &mut Store, options: &PollOptions) -> PollReport {
        match self {
            Poller::Cloudflare(p) => p.poll(store, options).await,
            Poller::Datadog(p) => p.poll(store, options).await,
        }
    }
}

/// A poll's outcome: the lowest checkpoint reached, or the failed targets' errors.
type PollOutcome = Result<Option<DateTime<Utc>>, String>;

struct Polling {
    poller: Poller,
    store: Store,
    last: Option<(Instant, PollOutcome)>,
}

struct PolledSource {
    source: Source,
    state: Mutex<Polling>,
}

/// Polls the configured sources before each check.
pub struct PollIntake {
    sources: Vec<PolledSource>,
    reuse_within: Duration,
}

impl PollIntake {
    /// Opens one connection to `store_path` per poller given.
    pub fn new(
        store_path: &Path,
        cloudflare: Option<CloudflarePoller>,
        datadog: Option<DatadogPoller>,
    ) -> Result<PollIntake, StoreError> {
        let mut sources = Vec::new();
        let pollers = [
            cloudflare.map(|p| (Source::Cloudflare, Poller::Cloudflare(Box::new(p)))),
            datadog.map(|p| (Source::Datadog, Poller::Datadog(Box::new(p)))),
        ];
        for (source, poller) in pollers.into_iter().flatten() {
            sources.push(PolledSource {
                source,
                state: Mutex::new(Polling {
                    poller,
                    store: Store::open(store_path)?,
                    last: None,
                }),
            });
        }
        Ok(PollIntake {
            sources,
            reuse_within: REUSE_WITHIN,
        })
    }

    /// How recent a poll must be to be reused (default [`REUSE_WITHIN`]).
    /// Keep it under the shortest check cadence, or checks run on polls
    /// older than their own period.
    pub fn reuse_within(mut self, within: Duration) -> PollIntake {
        self.reuse_within = within;
        self
    }

    /// The sources this intake polls.
    pub fn sources(&self) -> Vec<Source> {
        self.sources.iter().map(|s| s.source).collect()
    }
}

/// The sources a check reads.
fn sources_of(check: CheckKind) -> &'static [Source] {
    match check {
        CheckKind::Baseline => &[Source::Cloudflare, Source::Datadog],
        CheckKind::Bursts => &[Source::Datadog],
        CheckKind::Tokens => &[Source::Cloudflare],
    }
}

/// Polls once (or reuses a fresh poll): the lowest checkpoint the targets
/// reached, or every failed target's error.
async fn poll_source(polled: &PolledSource, reuse_within: Duration) -> PollOutcome {
    let mut state = polled.state.lock().await;
    if let Some((at, result)) = &state.last
        && at.elapsed() < reuse_within
    {
        return result.clone();
    }
    let Polling { poller, store, .. } = &mut *state;
    let report = poller.poll(store, &PollOptions::at(Utc::now())).await;
    let errors: Vec<String> = report
        .targets
        .iter()
        .filter_map(|t| {
            t.error
                .as_ref()
                .map(|e| format!("{}: {e}", t.checkpoint_key))
        })
        .collect();
    let result = if errors.is_empty() {
        Ok(report
            .targets
            .iter()
            .filter_map(|t| t.checkpoint_after)
            .min())
    } else {
        Err(errors.join("; "))
    };
    tracing::info!(source = %polled.source, new = report.targets.iter().map(|t| t.new).sum::<u64>(),
        ok = result.is_ok(), ms = report.elapsed_ms, "intake poll");
    state.last = Some((Instant::now(), result.clone()));
    result
}

impl Intake for PollIntake {
    fn refresh<'a>(&'a self, check: CheckKind, _store: &'a StoreHandle) -> IntakeFuture<'a> {
        Box::pin(async move {
            let mut complete_until: Option<DateTime<Utc>> = None;
            let mut errors = Vec::new();
            for polled in self
                .sources
                .iter()
                .filter(|s| sources_of(check).contains(&s.source))
            {
                match poll_source(polled, self.reuse_within).await {
                    Ok(Some(until)) => {
                        complete_until = Some(complete_until.map_or(until, |u| u.min(until)));
                    }
                    Ok(None) => {}
                    Err(error) => errors.push(format!("{} poll failed: {error}", polled.source)),
                }
            }
            if !errors.is_empty() {
                return Err(IntakeError(errors.join("; ")));
            }
            Ok(complete_until.map_or(Freshness::Current, Freshness::Until))
        })
    }
}
