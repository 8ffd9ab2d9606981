//! The baseline check on the Axiom engine (`[checks] baseline_engine =
//! "axiom"`): before an hour is checked, the events Axiom has not been sent
//! are shipped from the store (the first time, the query's whole lookback),
//! then one APL query gives the figures, and the findings are recorded in
//! the store exactly as the local engine's are.
//!
//! What was shipped is a checkpoint (`axiom:<dataset>`) that moves after
//! each shipped day. Each run also re-sends the last [`RESHIP_MARGIN`]
//! before it, so events that reached the store late (a poll's overlap, a
//! slow source) still reach Axiom; re-sent rows are harmless because the
//! query deduplicates by `(source, id)`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::bus::CoveredWindow;
use super::checks::{Mode, WindowResult, recordable};
use super::store_access::StoreHandle;
use crate::detect::baseline::axiom::AxiomEngine;
use crate::detect::baseline::hour_start;
use crate::detect::rules::Rules;
use crate::store::{CheckKind, Delivery, WindowRecord};

/// Re-sent before each run: covers late arrivals into shipped hours.
pub const RESHIP_MARGIN: Duration = Duration::hours(2);
/// Shipped per store read and ingest call (the engine batches it further).
const SHIP_SLICE: Duration = Duration::days(1);

/// Where the baseline check gets its figures.
#[derive(Clone, Default)]
pub enum BaselineSource {
    /// The store's hourly aggregates.
    #[default]
    Local,
    /// An Axiom dataset (events shipped from the store).
    Axiom(Arc<AxiomEngine>),
}

impl std::fmt::Debug for BaselineSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineSource::Local => f.write_str("Local"),
            BaselineSource::Axiom(engine) => write!(f, "Axiom({})", engine.dataset()),
        }
    }
}

/// The checkpoint that says how far events were shipped to `engine`'s dataset.
pub fn shipped_key(engine: &AxiomEngine) -> String {
    format!("axiom:{}", engine.dataset())
}

/// Ships what is due, checks the hour `window` starts, records the findings.
pub async fn axiom_window(
    store: &StoreHandle,
    engine: &AxiomEngine,
    rules: &Arc<Rules>,
    window: CoveredWindow,
    now: DateTime<Utc>,
    delivery: Option<Delivery>,
    mode: Mode,
) -> Result<WindowResult, String> {
    ship_until(store, engine, rules, window.end).await?;
    let findings = engine
        .check_hour(rules, window.start, now)
        .await
        .map_err(|e| format!("axiom baseline of {}: {e}", window.start))?;
    let (to_record, delivery, held) = recordable(&findings, delivery);
    let to_record = to_record.into_owned();
    let recorded = store
        .call(move |s| {
            s.record_window(&WindowRecord {
                check: CheckKind::Baseline,
                covered_until: (mode == Mode::Scheduled).then_some(window.end),
                findings: &to_record,
                burst_state: None,
                now,
                delivery,
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(WindowResult {
        window,
        findings,
        recorded,
        unreadable: 0,
        held,
    })
}

/// Sends the store's events up to `until` that the dataset may lack: from
/// the shipped checkpoint minus the margin, or (first time) from the
/// earliest time the query reads (two windows back: first-seen lookback).
async fn ship_until(
    store: &StoreHandle,
    engine: &AxiomEngine,
    rules: &Rules,
    until: DateTime<Utc>,
) -> Result<(), String> {
    let key = shipped_key(engine);
    let window = Duration::days(rules.baseline.window_days.get().into());
    let earliest = hour_start(until) - window - window;
    let lookup = key.clone();
    let shipped = store
        .call(move |s| s.checkpoint(&lookup))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
        .map(|c| c.position);
    let mut from = shipped.map_or(earliest, |p| (p - RESHIP_MARGIN).max(earliest));
    while from < until {
        let to = (from + SHIP_SLICE).min(until);
        let events = store
            .call(move |s| s.events_between(from, to, usize::MAX))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if !events.is_empty() {
            engine
                .ingest_hour(&events)
                .await
                .map_err(|e| format!("shipping {from} to {to} to axiom: {e}"))?;
        }
        let key = key.clone();
        store
            .call(move |s| s.set_checkpoint(&key, to))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        from = to;
    }
    Ok(())
}
