//! What one poll did, per target (a Cloudflare account, a Datadog site):
//! for the CLI summary (text or JSON) and the engine's status line.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::model::Source;
use crate::sanitize::sanitize;
use crate::sources::http::RateLimitSnapshot;

use super::error::PollError;
use super::window::Window;

/// Rejected entries listed with their reasons; beyond this only the count grows.
pub const MAX_LISTED_REJECTIONS: usize = 20;

#[derive(Debug, Serialize)]
pub struct PollReport {
    pub source: Source,
    pub dry_run: bool,
    /// Set for an actor-filtered read, which never moves a checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub targets: Vec<TargetReport>,
    pub rate_limit: RateLimitUse,
    pub elapsed_ms: u64,
}

impl PollReport {
    pub fn failed(&self) -> bool {
        self.targets.iter().any(|t| t.error.is_some())
    }

    pub fn pages(&self) -> u64 {
        self.targets.iter().map(|t| u64::from(t.pages)).sum()
    }
}

#[derive(Debug, Serialize)]
pub struct TargetReport {
    pub checkpoint_key: String,
    /// Which API was read (`cloudflare audit logs v2`, ...).
    pub api: &'static str,
    /// Why another API than the configured one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(serialize_with = "window_json")]
    pub window: Option<Window>,
    pub checkpoint_before: Option<DateTime<Utc>>,
    pub checkpoint_after: Option<DateTime<Utc>>,
    /// Chunks read completely (and stored, unless a dry run).
    pub chunks: u32,
    /// Chunks that held too many pages and were read again in halves.
    pub chunk_splits: u32,
    /// Pages received, including those of chunks that were split or failed.
    pub pages: u32,
    /// Events parsed from stored (or, in a dry run, completed) chunks.
    pub fetched: u64,
    pub new: u64,
    pub duplicate: u64,
    pub rejected: u64,
    /// The first rejected entries with their reasons.
    pub rejections: Vec<String>,
    pub token_scopes: ScopeCounts,
    #[serde(serialize_with = "error_json")]
    pub error: Option<PollError>,
}

impl TargetReport {
    pub(crate) fn new(checkpoint_key: String, api: &'static str) -> TargetReport {
        TargetReport {
            checkpoint_key,
            api,
            fallback: None,
            window: None,
            checkpoint_before: None,
            checkpoint_after: None,
            chunks: 0,
            chunk_splits: 0,
            pages: 0,
            fetched: 0,
            new: 0,
            duplicate: 0,
            rejected: 0,
            rejections: Vec::new(),
            token_scopes: ScopeCounts::default(),
            error: None,
        }
    }
}

/// Token-creation events enriched by this poll.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct ScopeCounts {
    pub known: u64,
    /// Scope could not be read; the watchdog reviews these.
    pub unknown: u64,
}

/// Rate limiting and retries during the poll.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RateLimitUse {
    /// Waits for a 429's `Retry-After` (or an exhausted quota) before a request.
    pub waits: u64,
    pub waited_ms: u64,
    /// Retries after transient failures (5xx, timeouts, resets).
    pub retries: u64,
    pub backoff_ms: u64,
    /// Still blocked until then when the poll ended.
    pub blocked_until: Option<DateTime<Utc>>,
}

impl RateLimitUse {
    pub fn between(before: &RateLimitSnapshot, after: &RateLimitSnapshot) -> RateLimitUse {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        RateLimitUse {
            waits: after
                .rate_limit_waits
                .saturating_sub(before.rate_limit_waits),
            waited_ms: ms(after
                .rate_limit_waited
                .saturating_sub(before.rate_limit_waited)),
            retries: after.retries.saturating_sub(before.retries),
            backoff_ms: ms(after.backoff_waited.saturating_sub(before.backoff_waited)),
            blocked_until: after.blocked_until.filter(|until| *until > Utc::now()),
        }
    }
}

fn window_json<S: Serializer>(window: &Option<Window>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Edges {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    }
    window
        .map(|w| Edges {
            from: w.from,
            to: w.to,
        })
        .serialize(s)
}

fn error_json<S: Serializer>(error: &Option<PollError>, s: S) -> Result<S::Ok, S::Error> {
    error.as_ref().map(ToString::to_string).serialize(s)
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "none".to_owned(),
        |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

impl fmt::Display for PollReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} poll", self.source)?;
        if self.dry_run {
            write!(f, " (dry run: nothing stored, checkpoints unchanged)")?;
        }
        if let Some(actor) = &self.actor {
            write!(f, " for actor {} (checkpoints unchanged)", sanitize(actor))?;
        }
        writeln!(f)?;
        for target in &self.targets {
            write!(f, "{target}")?;
        }
        let rl = &self.rate_limit;
        writeln!(
            f,
            "  rate limits    {} wait{} ({:.1}s), {} retr{} ({:.1}s backoff){}",
            rl.waits,
            if rl.waits == 1 { "" } else { "s" },
            rl.waited_ms as f64 / 1000.0,
            rl.retries,
            if rl.retries == 1 { "y" } else { "ies" },
            rl.backoff_ms as f64 / 1000.0,
            rl.blocked_until
                .map(|until| format!("; blocked until {}", time(Some(until))))
                .unwrap_or_default()
        )?;
        writeln!(
            f,
            "  took           {:.1}s",
            self.elapsed_ms as f64 / 1000.0
        )
    }
}

impl fmt::Display for TargetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {}  ({})", self.checkpoint_key, self.api)?;
        if let Some(fallback) = &self.fallback {
            writeln!(f, "    fallback     {}", sanitize(fallback))?;
        }
        match &self.window {
            Some(window) if window.is_empty() => writeln!(f, "    window       nothing to read")?,
            Some(window) => writeln!(f, "    window       {window}")?,
            None => {}
        }
        write!(f, "    pages        {} ({} chunk", self.pages, self.chunks)?;
        write!(f, "{}", if self.chunks == 1 { "" } else { "s" })?;
        if self.chunk_splits > 0 {
            write!(f, ", {} split for size", self.chunk_splits)?;
        }
        writeln!(f, ")")?;
        writeln!(
            f,
            "    events       {} fetched, {} new, {} duplicate, {} rejected",
            self.fetched, self.new, self.duplicate, self.rejected
        )?;
        for rejection in &self.rejections {
            writeln!(f, "      rejected   {}", sanitize(rejection))?;
        }
        if self.rejected > self.rejections.len() as u64 {
            writeln!(
                f,
                "      ...        {} more",
                self.rejected - self.rejections.len() as u64
            )?;
        }
        let moved = if self.checkpoint_after == self.checkpoint_before {
            " (unchanged)"
        } else {
            ""
        };
        writeln!(
            f,
            "    checkpoint   {} -> {}{moved}",
            time(self.checkpoint_before),
            time(self.checkpoint_after)
        )?;
        let scopes = self.token_scopes;
        if scopes.known + scopes.unknown > 0 {
            writeln!(
                f,
                "    token scopes {} known, {} unknown (to review)",
                scopes.known, scopes.unknown
            )?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "    error        {}", sanitize(&error.to_string()))?;
        }
        Ok(())
    }
}
