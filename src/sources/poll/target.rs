//! One target's poll (a Cloudflare account, a Datadog site): plan the
//! window, read it chunk by chunk, store each chunk with its checkpoint in
//! one transaction.
//!
//! A chunk is held in memory until all of its pages are in; a failure
//! anywhere in it stores nothing of it and leaves the checkpoint at the end
//! of the previous chunk. Chunks are at most `chunk_span` long and at most
//! `max_pages_per_chunk` pages big (a crowded chunk is read again in
//! halves), so memory stays bounded and a long catch-up after downtime
//! commits progress as it goes.

use chrono::{DateTime, TimeDelta, Utc};

use crate::detect::Rules;
use crate::model::AuditEvent;
use crate::sources::cloudflare::client::CloudflareClient;
use crate::sources::token_scope::{self, TokenScope};
use crate::store::{Store, StoreError};

use super::error::PollError;
use super::report::{MAX_LISTED_REJECTIONS, TargetReport};
use super::walk::{Feed, WalkError, WalkLimits, WalkStats, Walked, walk};
use super::window::{Chunker, Overrides, Plan, Window, WindowPolicy};

/// How much one chunk may hold and how pages are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollLimits {
    /// Entries per page (both services allow up to 1000).
    pub page_size: u32,
    /// Longest chunk; chunks shrink (halving) when crowded.
    pub chunk_span: TimeDelta,
    /// Shortest chunk; a chunk this short that still exceeds the page cap
    /// stops the poll with an error.
    pub min_chunk_span: TimeDelta,
    /// The page cap per chunk: bounds memory, and stops a server whose
    /// pagination never ends even when each cursor is new.
    pub max_pages_per_chunk: u32,
}

impl Default for PollLimits {
    fn default() -> Self {
        PollLimits {
            page_size: 1000,
            chunk_span: TimeDelta::hours(1),
            min_chunk_span: TimeDelta::minutes(1),
            max_pages_per_chunk: 25,
        }
    }
}

/// What the caller wants from one poll.
#[derive(Debug, Clone, Default)]
pub struct PollOptions {
    /// "Now", for the window (`now - settle_delay`); `Utc::now()` in production.
    pub now: DateTime<Utc>,
    /// Read from here instead of `checkpoint - overlap`.
    pub since: Option<DateTime<Utc>>,
    /// Read up to here instead of `now - settle_delay`.
    pub until: Option<DateTime<Utc>>,
    /// Only this actor's entries (an investigation); never moves a checkpoint.
    pub actor: Option<String>,
    /// Fetch and parse, store nothing, move no checkpoint.
    pub dry_run: bool,
}

impl PollOptions {
    pub fn at(now: DateTime<Utc>) -> PollOptions {
        PollOptions {
            now,
            ..PollOptions::default()
        }
    }
}

/// One target to poll.
pub(crate) struct Target<'a> {
    pub key: String,
    pub feed: Feed<'a>,
    /// Read instead when `feed` is refused (403/404) before any page came back.
    pub fallback: Option<Feed<'a>>,
    /// Enrich token creations of this Cloudflare account.
    pub tokens: Option<Enrichment<'a>>,
}

/// What the token-scope lookup needs: the API, the account polled, and the
/// watchdog's rules for what a token creation is.
#[derive(Clone, Copy)]
pub(crate) struct Enrichment<'a> {
    pub client: &'a CloudflareClient,
    pub account: &'a str,
    pub rules: &'a Rules,
}

pub(crate) struct Settings<'a> {
    pub policy: WindowPolicy,
    pub limits: PollLimits,
    pub options: &'a PollOptions,
}

pub(crate) async fn poll_target(
    target: Target<'_>,
    store: &mut Store,
    settings: &Settings<'_>,
) -> TargetReport {
    let Target {
        key,
        mut feed,
        mut fallback,
        tokens,
    } = target;
    let options = settings.options;
    let mut report = TargetReport::new(key.clone(), feed.label());

    let checkpoint = match store.checkpoint(&key) {
        Ok(found) => found.map(|c| c.position),
        Err(error) => {
            report.error = Some(PollError::Checkpoint { error });
            return report;
        }
    };
    report.checkpoint_before = checkpoint;
    report.checkpoint_after = checkpoint;
    let overrides = Overrides {
        since: options.since,
        until: options.until,
        filtered: options.actor.is_some(),
    };
    let plan = Plan::new(&settings.policy, checkpoint, options.now, overrides);
    report.window = Some(plan.window);

    if let Some(start) = plan.starts_checkpoint_without_reading() {
        if !options.dry_run {
            match store.set_checkpoint(&key, start) {
                Ok(stored) => report.checkpoint_after = Some(stored.position),
                Err(error) => {
                    report.error = Some(PollError::Store {
                        window: plan.window,
                        error,
                    })
                }
            }
        }
        return report;
    }

    let limits = settings.limits;
    let walk_limits = WalkLimits {
        page_size: limits.page_size,
        max_pages: limits.max_pages_per_chunk,
    };
    let mut chunker = Chunker::new(plan.window, limits.chunk_span, limits.min_chunk_span);
    let mut sink = ChunkSink {
        store,
        key: &key,
        plan: &plan,
        options,
        tokens,
    };
    let mut feed_answered = false;
    while let Some(chunk) = chunker.current() {
        let mut stats = WalkStats::default();
        let outcome = walk(
            &feed,
            &chunk,
            options.actor.as_deref(),
            &walk_limits,
            &mut stats,
        )
        .await;
        report.pages += stats.pages;
        feed_answered |= stats.pages > 0;
        match outcome {
            Ok(walked) => {
                let crowded = stats.pages.saturating_mul(2) > limits.max_pages_per_chunk;
                if let Err(error) = sink.store_chunk(&chunk, walked, &mut report).await {
                    report.error = Some(error);
                    break;
                }
                chunker.done(&chunk, crowded);
                report.chunks += 1;
            }
            Err(WalkError::PageCap { cap }) => {
                if chunker.shrink(&chunk) {
                    report.chunk_splits += 1;
                } else {
                    report.error = Some(PollError::PageCap {
                        api: feed.label(),
                        window: chunk,
                        cap,
                        min_span: chunker.min_span(),
                    });
                    break;
                }
            }
            Err(WalkError::Fetch { page: 1, error })
                if !feed_answered
                    && fallback.is_some()
                    && matches!(error.status(), Some(403 | 404)) =>
            {
                if let Some(next) = fallback.take() {
                    report.fallback = Some(format!(
                        "{} refused ({error}); read {} instead (v1_fallback)",
                        feed.label(),
                        next.label()
                    ));
                    tracing::warn!(target_key = %key, "{}", report.fallback.as_deref().unwrap_or(""));
                    feed = next;
                    report.api = feed.label();
                }
            }
            Err(error) => {
                report.error = Some(PollError::Walk {
                    api: feed.label(),
                    window: chunk,
                    error,
                });
                break;
            }
        }
    }
    if let Some(error) = &report.error {
        tracing::warn!(target_key = %key, %error, "poll stopped");
    }
    report
}

/// Where finished chunks go.
struct ChunkSink<'s, 'a> {
    store: &'s mut Store,
    key: &'a str,
    plan: &'a Plan,
    options: &'a PollOptions,
    tokens: Option<Enrichment<'a>>,
}

impl ChunkSink<'_, '_> {
    /// Enriches the chunk's token creations, then stores its events and
    /// moves the checkpoint in one transaction (nothing is written in a dry run).
    async fn store_chunk(
        &mut self,
        chunk: &Window,
        walked: Walked,
        report: &mut TargetReport,
    ) -> Result<(), PollError> {
        let store_error = |error| PollError::Store {
            window: *chunk,
            error,
        };
        report.fetched += walked.events.len() as u64;
        report.rejected += walked.rejected.len() as u64;
        for rejection in &walked.rejected {
            tracing::warn!(target_key = %self.key, window = %chunk, %rejection, "entry rejected");
            if report.rejections.len() < MAX_LISTED_REJECTIONS {
                report.rejections.push(format!("{chunk}: {rejection}"));
            }
        }
        self.enrich(&walked.events, report)
            .await
            .map_err(store_error)?;
        if self.options.dry_run {
            return Ok(());
        }
        let position = self.plan.checkpoint_after(chunk, report.checkpoint_after);
        let summary = self
            .store
            .insert_events_with_checkpoint(&walked.events, position.map(|at| (self.key, at)))
            .map_err(store_error)?;
        report.new += summary.new;
        report.duplicate += summary.duplicate;
        if position.is_some() {
            report.checkpoint_after = position;
        }
        Ok(())
    }

    /// Fetches and records the scope of each API-token creation that needs it.
    async fn enrich(
        &mut self,
        events: &[AuditEvent],
        report: &mut TargetReport,
    ) -> Result<(), StoreError> {
        let Some(enrichment) = self.tokens else {
            return Ok(());
        };
        let dry_run = self.options.dry_run;
        let lookups = events
            .iter()
            .filter_map(|event| token_scope::lookup_needed(enrichment.rules, event));
        for lookup in lookups {
            if !dry_run && scope_recorded(self.store, &lookup.event_id)? {
                continue;
            }
            let scope =
                token_scope::fetch_scope(enrichment.client, &lookup, enrichment.account).await;
            match &scope {
                TokenScope::Known { .. } => report.token_scopes.known += 1,
                TokenScope::Unknown { reason } => {
                    tracing::warn!(event_id = %lookup.event_id, %reason, "token scope unknown");
                    report.token_scopes.unknown += 1;
                }
            }
            if !dry_run {
                // Recorded before the event itself: a crash in between leaves
                // a scope the re-read event finds, never an event without one.
                self.store.set_token_scope(&lookup.event_id, &scope)?;
            }
        }
        Ok(())
    }
}

/// Whether a known scope is already recorded; an unknown one is looked up
/// again whenever the overlap re-reads its event (the failure may have passed).
fn scope_recorded(store: &Store, event_id: &str) -> Result<bool, StoreError> {
    Ok(store
        .token_scope(event_id)?
        .is_some_and(|scope| scope.is_known()))
}
