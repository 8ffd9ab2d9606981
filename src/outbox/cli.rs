//! `soc-tui outbox`: list the outbox, retry or drop a request, and deliver
//! now without the daemon.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Subcommand, ValueEnum};

use super::{DeliveryLease, OutboxWorker, RunMode, WorkerSettings, preview};
use crate::config::Config;
use crate::engine::{EngineClock, StoreHandle, WallClock};
use crate::paths::Paths;
use crate::sanitize::{sanitize, sanitize_multiline, sanitize_with_limit};
use crate::secrets::Resolver;
use crate::sinks::Sinks;
use crate::store::{OutboxFilter, OutboxItem, OutboxState, Store};

/// A preview longer than this (a page of megabytes of attacker text) is cut.
const PREVIEW_MAX_CHARS: usize = 1 << 20;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List outbox requests, oldest first: state, attempts, next attempt, link or last error.
    /// Dry-run items (recorded by a workflow in dry-run, never sent) are marked DRY-RUN.
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Print one request exactly as it would be sent: what it carries (ticket Markdown, page
    /// XHTML, incident JSON, archive key) and every HTTP call, credentials redacted.
    Show {
        id: i64,
        /// The row and its request as JSON (the payload; no HTTP rendering).
        #[arg(long)]
        json: bool,
    },
    /// Queue a dead (or waiting) request again, due now, with its attempts reset.
    /// Dry-run items cannot be queued: switch their workflow on instead.
    Retry { id: i64 },
    /// Give up on a queued or dead request: it is dead-lettered as "dropped by analyst".
    Drop { id: i64 },
    /// Deliver queued requests now (without the daemon); waits through
    /// retries until every request is delivered or dead, unless --once.
    /// Holds the engine lease meanwhile, so it refuses to run beside a
    /// daemon or console (they deliver themselves), and requeues deliveries
    /// a stopped process left in flight.
    Deliver {
        /// One attempt for each request due now, then exit.
        #[arg(long)]
        once: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StateArg {
    Queued,
    InFlight,
    Delivered,
    Dead,
    DryRun,
}

impl From<StateArg> for OutboxState {
    fn from(s: StateArg) -> OutboxState {
        match s {
            StateArg::Queued => OutboxState::Queued,
            StateArg::InFlight => OutboxState::InFlight,
            StateArg::Delivered => OutboxState::Delivered,
            StateArg::Dead => OutboxState::Dead,
            StateArg::DryRun => OutboxState::DryRun,
        }
    }
}

pub fn run(cmd: OutboxCommand, paths: &Paths) -> Result<ExitCode> {
    match cmd {
        OutboxCommand::List { state, limit, json } => {
            list(paths, state.map(Into::into), limit, json)
        }
        OutboxCommand::Show { id, json } => show(paths, id, json),
        OutboxCommand::Retry { id } => change(paths, id, Change::Retry),
        OutboxCommand::Drop { id } => change(paths, id, Change::Drop),
        OutboxCommand::Deliver { once } => deliver(paths, once),
    }
}

fn open_store(paths: &Paths) -> Result<Store> {
    paths.ensure_data_dir()?;
    let path = paths.store_file();
    Store::open(&path).with_context(|| format!("opening the store {}", path.display()))
}

/// The remote link when delivered, else why it is not (yet).
pub fn status_text(item: &OutboxItem) -> String {
    if item.state == OutboxState::DryRun {
        return format!(
            "DRY-RUN never sent: {}",
            sanitize_with_limit(&item.dedup_key, 120)
        );
    }
    match (&item.remote_url, &item.remote_id, &item.last_error) {
        (Some(url), _, _) if item.state == OutboxState::Delivered => sanitize(url).into_owned(),
        (None, Some(id), _) if item.state == OutboxState::Delivered => sanitize(id).into_owned(),
        (_, _, Some(error)) => sanitize(error).into_owned(),
        _ => "-".to_owned(),
    }
}

fn list(paths: &Paths, state: Option<OutboxState>, limit: usize, json: bool) -> Result<ExitCode> {
    let store = open_store(paths)?;
    let items = store.outbox_list(&OutboxFilter {
        state,
        limit: Some(limit),
        ..OutboxFilter::default()
    })?;
    if json {
        let rows: Vec<_> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "id": i.id, "sink": i.sink, "kind": i.kind, "state": i.state,
                    "attempts": i.attempts, "next_attempt_at": i.next_attempt_at,
                    "finding_id": i.finding_id, "dedup_key": i.dedup_key,
                    "remote_id": i.remote_id, "remote_url": i.remote_url,
                    "last_error": i.last_error,
                })
            })
            .collect();
        println!("{}", crate::terminal_json::to_terminal_json(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("The outbox is empty.");
    }
    let dry = items
        .iter()
        .filter(|i| i.state == OutboxState::DryRun)
        .count();
    for i in &items {
        let next = if i.state == OutboxState::Queued {
            i.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            "-".to_owned()
        };
        println!(
            "{:<6} {:<10} {:<9} {:>3} {:<19} {}",
            i.id,
            i.sink.as_str(),
            i.state.as_str(),
            i.attempts,
            next,
            status_text(i)
        );
    }
    if dry > 0 {
        println!(
            "\n{dry} dry-run item(s): recorded by workflows in dry-run, never sent. \
             `soc-tui outbox show ID` prints what one would send; `soc-tui workflows` shows the modes."
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(paths: &Paths, id: i64, json: bool) -> Result<ExitCode> {
    let store = open_store(paths)?;
    let item = store.outbox_item(id)?.with_context(|| {
        format!("outbox request {id} does not exist (see `soc-tui outbox list`)")
    })?;
    let request = preview::item_request(&store, &item)?;
    if json {
        let doc = serde_json::json!({
            "item": item,
            "request": request.as_ref().ok(),
            "request_error": request.as_ref().err(),
        });
        println!("{}", crate::terminal_json::to_terminal_json(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load_or_default(&paths.config_file)?;
    let sinks = preview::preview_sinks(&config, &paths.data_dir)
        .context("setting up the sinks for the preview")?;
    let rendered = request.map(|r| preview::render_request(&r, &sinks, &config.s3.prefix));
    print!(
        "{}",
        sanitize_multiline(&preview::to_text(&item, &rendered), PREVIEW_MAX_CHARS)
    );
    Ok(ExitCode::SUCCESS)
}

enum Change {
    Retry,
    Drop,
}

fn change(paths: &Paths, id: i64, change: Change) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    let analyst = config.analyst.resolved_name();
    let mut store = open_store(paths)?;
    let now = Utc::now();
    let item = match change {
        Change::Retry => store.retry_outbox_item(id, &analyst, now)?,
        Change::Drop => store.drop_outbox_item(id, &analyst, now)?,
    };
    let what = match change {
        Change::Retry => "queued again, due now",
        Change::Drop => "dropped (dead-lettered)",
    };
    println!(
        "Outbox request {id} ({} {}) {what}.",
        item.sink,
        sanitize(&item.dedup_key)
    );
    Ok(ExitCode::SUCCESS)
}

fn deliver(paths: &Paths, once: bool) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    paths.ensure_data_dir()?;
    let sinks = Sinks::from_config(&config, &Resolver::system(), &paths.data_dir)
        .context("setting up the sinks")?;
    let store = open_store(paths)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = runtime.block_on(async {
        let store = StoreHandle::new(store);
        let clock: Arc<dyn EngineClock> = Arc::new(WallClock);
        let lease = DeliveryLease::acquire(&store, Arc::clone(&clock)).await?;
        let worker = OutboxWorker::new(
            store,
            Arc::new(sinks),
            WorkerSettings::from_config(&config.outbox),
            Arc::clone(&clock),
        );
        let delivered = async {
            // We hold the lease: whatever is in flight was cut off by a stop.
            worker.recover(clock.now()).await?;
            worker
                .run(if once {
                    RunMode::Once
                } else {
                    RunMode::UntilIdle
                })
                .await
        }
        .await;
        lease.release().await?;
        Ok::<_, anyhow::Error>(delivered?)
    })?;
    println!(
        "Delivered {} ({} found already done), retrying {}, dead {}, waiting for config {}.",
        summary.delivered,
        summary.already_delivered,
        summary.retried,
        summary.dead,
        summary.waiting_unconfigured
    );
    Ok(ExitCode::SUCCESS)
}
