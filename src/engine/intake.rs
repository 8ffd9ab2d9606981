//! The hook through which fresh events reach the store before a check.
//!
//! The scheduler calls [`Intake::refresh`] at the start of every run,
//! before it plans windows, and never lets a window end past the time the
//! intake says its data is complete. [`super::PollIntake`] polls the
//! Cloudflare and Datadog audit APIs; [`NoIntake`] fetches nothing, for
//! stores fed by `soc-tui ingest` (or another process's polls).

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use super::store_access::StoreHandle;
use crate::store::CheckKind;

pub type IntakeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Freshness, IntakeError>> + Send + 'a>>;

/// How far the intake's data is complete after a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Up to the check's time (minus the engine's settle delay).
    Current,
    /// Only up to this time (a source is behind, or its poll failed part way).
    Until(DateTime<Utc>),
}

/// A refresh that failed: the run fails with it, and since coverage does
/// not move, the next run checks the same span.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("intake: {0}")]
pub struct IntakeError(pub String);

pub trait Intake: Send + Sync + 'static {
    /// Brings the store up to date for `check` (polls its sources, writing
    /// through `store`). Called by each check's task before each run; an
    /// implementation must tolerate concurrent calls for different checks.
    fn refresh<'a>(&'a self, check: CheckKind, store: &'a StoreHandle) -> IntakeFuture<'a>;
}

/// Fetches nothing: checks read what other writers have stored.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIntake;

impl Intake for NoIntake {
    fn refresh<'a>(&'a self, _check: CheckKind, _store: &'a StoreHandle) -> IntakeFuture<'a> {
        Box::pin(std::future::ready(Ok(Freshness::Current)))
    }
}
