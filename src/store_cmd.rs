//! `soc-tui store ...`: maintenance of the local store.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::paths::Paths;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Recompute every per-actor aggregate (hourly counts, resource types,
    /// first-seen types) from the stored events, in one transaction. The
    /// events are not touched; findings and drafts are kept.
    RebuildAggregates,
}

pub fn run(command: StoreCommand, paths: &Paths) -> Result<()> {
    match command {
        StoreCommand::RebuildAggregates => rebuild_aggregates(paths),
    }
}

fn rebuild_aggregates(paths: &Paths) -> Result<()> {
    let path = paths.store_file();
    // Opening would create an empty store: say there is none instead.
    if !path.is_file() {
        bail!(
            "no store at {}: nothing to rebuild (pass --data-dir or set SOC_TUI_DATA to use another)",
            path.display()
        );
    }
    let mut store =
        Store::open(&path).with_context(|| format!("opening the store {}", path.display()))?;
    let started = Instant::now();
    let summary = store.rebuild_aggregates()?;
    println!(
        "rebuilt the aggregates of {} events in {:.2} s: {} actor-hours, {} actor-hour types, \
         {} actor-hour changed types, {} first-seen types ({})",
        summary.events,
        started.elapsed().as_secs_f64(),
        summary.actor_hours,
        summary.actor_hour_types,
        summary.actor_hour_change_types,
        summary.first_seen,
        path.display()
    );
    Ok(())
}
