//! The demo's past: 30 days of generated audit history for ~200 actors,
//! written to the store in large batches and, for its most recent part, to
//! the simulators (what the pollers will ask for), with the scripted
//! entries set aside for the scenario to replay live.
//!
//! Generation, parsing and store writes are three pipelined stages on
//! their own threads, so the pre-fill costs about the slowest stage (on
//! two cores, about half their sum) rather than their sum.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::DemoError;
use super::cast::{ATTACK_BURST, BENIGN_BURST, BROAD_TOKEN};
use super::sim::{CloudflareFeed, DatadogFeed};
use crate::model::AuditEvent;
use crate::sources::raw::parse_entry;
use crate::store::Store;
use crate::synth::{Generator, Shape};

/// Events per store transaction (as `soc-tui ingest` uses).
const BATCH: usize = 8192;
/// Batches the generator may run ahead of the writer.
const PIPELINE_DEPTH: usize = 4;

/// What the pre-fill did and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefillReport {
    /// Events written to the store (scripted ones excluded).
    pub events: u64,
    /// Of those, how many the simulators also serve.
    pub in_simulators: u64,
    /// Wall time of the whole pre-fill.
    pub elapsed: Duration,
    /// Time spent inside store writes (overlaps generation).
    pub store_write: Duration,
}

/// The planted entries, in time order, for the scenario to replay.
#[derive(Debug, Clone)]
pub(crate) struct ScriptedEntries {
    /// Datadog events of the on-call admin's burst.
    pub benign_burst: Vec<String>,
    /// The Cloudflare v2 entry minting the broad token.
    pub broad_token: String,
    /// Datadog events of the attacker's burst.
    pub attack_burst: Vec<String>,
    /// The never-seen address the token was minted from.
    pub attacker_ip: String,
}

/// Where generated entries go.
pub(crate) struct Sinks<'a> {
    pub store_path: &'a Path,
    pub cloudflare: &'a CloudflareFeed,
    pub datadog: &'a DatadogFeed,
    /// Entries at or after this time are also loaded into the simulators.
    pub simulators_since: DateTime<Utc>,
}

pub(crate) fn prefill(
    generator: &Generator,
    sinks: &Sinks<'_>,
) -> Result<(PrefillReport, ScriptedEntries), DemoError> {
    let started = Instant::now();
    let scripted_ids: HashMap<&str, usize> = generator
        .planted()
        .iter()
        .flat_map(|p| p.event_ids.iter().map(move |id| (id.as_str(), p.index)))
        .collect();
    let mut store = Store::open(sinks.store_path)?;
    let (raw_sender, raw_receiver) = mpsc::sync_channel::<Vec<(String, String)>>(PIPELINE_DEPTH);
    let (event_sender, event_receiver) = mpsc::sync_channel::<Vec<AuditEvent>>(PIPELINE_DEPTH);
    let (produced, parsed, written) = std::thread::scope(|scope| {
        let producer = scope.spawn(|| produce(generator, sinks, &scripted_ids, raw_sender));
        let parser = scope.spawn(|| parse(raw_receiver, event_sender));
        let written = write(&mut store, event_receiver);
        let panicked = |stage: &str| DemoError::History(format!("the {stage} thread panicked"));
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(panicked("generator")));
        let parsed = parser.join().unwrap_or_else(|_| Err(panicked("parser")));
        (produced, parsed, written)
    });
    parsed?;
    let (scripted, in_simulators) = produced?;
    let (events, store_write) = written?;
    let report = PrefillReport {
        events,
        in_simulators,
        elapsed: started.elapsed(),
        store_write,
    };
    Ok((report, scripted_entries(generator, scripted)?))
}

/// Generates and routes every entry: scripted ones aside, recent ones to
/// the simulators, all others on to the parser as `(id, raw)`. Returns the
/// scripted raw entries by id and how many entries went to the simulators.
fn produce(
    generator: &Generator,
    sinks: &Sinks<'_>,
    scripted_ids: &HashMap<&str, usize>,
    sender: mpsc::SyncSender<Vec<(String, String)>>,
) -> Result<(HashMap<String, String>, u64), DemoError> {
    let mut scripted = HashMap::new();
    let mut in_simulators = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    for entry in generator.events() {
        if scripted_ids.contains_key(entry.id.as_str()) {
            scripted.insert(entry.id, entry.raw);
            continue;
        }
        if entry.time >= sinks.simulators_since {
            match entry.shape {
                Shape::CloudflareV2 => sinks.cloudflare.add_v2(&entry.raw)?,
                Shape::CloudflareV1 => sinks.cloudflare.add_v1(&entry.raw)?,
                Shape::Datadog => sinks.datadog.add(&entry.raw)?,
            };
            in_simulators += 1;
        }
        batch.push((entry.id, entry.raw));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.send(full).is_err() {
                // A later stage stopped on an error it reports itself.
                return Ok((scripted, in_simulators));
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
    Ok((scripted, in_simulators))
}

/// Parses raw batches into events for the writer.
fn parse(
    receiver: mpsc::Receiver<Vec<(String, String)>>,
    sender: mpsc::SyncSender<Vec<AuditEvent>>,
) -> Result<(), DemoError> {
    for batch in receiver {
        let events = batch
            .iter()
            .map(|(id, raw)| {
                parse_entry(raw).map_err(|reason| {
                    DemoError::History(format!("generated entry {id} does not parse: {reason}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sender.send(events).is_err() {
            break;
        }
    }
    Ok(())
}

/// Writes batches until the parser is done; returns the count and the
/// time spent writing.
fn write(
    store: &mut Store,
    receiver: mpsc::Receiver<Vec<AuditEvent>>,
) -> Result<(u64, Duration), DemoError> {
    let mut events = 0u64;
    let mut spent = Duration::ZERO;
    for batch in receiver {
        let started = Instant::now();
        let summary = store.insert_events(&batch)?;
        spent += started.elapsed();
        events += summary.new + summary.duplicate;
    }
    Ok((events, spent))
}

fn scripted_entries(
    generator: &Generator,
    mut raw_by_id: HashMap<String, String>,
) -> Result<ScriptedEntries, DemoError> {
    let mut take = |index: usize| -> Result<Vec<String>, DemoError> {
        let planted = generator.planted().get(index).ok_or_else(|| {
            DemoError::History(format!("scripted anomaly {index} was not planted"))
        })?;
        planted
            .event_ids
            .iter()
            .map(|id| {
                raw_by_id.remove(id).ok_or_else(|| {
                    DemoError::History(format!(
                        "scripted entry {id} ({}) was not generated",
                        planted.anomaly.kind()
                    ))
                })
            })
            .collect()
    };
    let benign_burst = take(BENIGN_BURST)?;
    let broad_token = take(BROAD_TOKEN)?
        .pop()
        .ok_or_else(|| DemoError::History("the broad token entry is missing".into()))?;
    let attack_burst = take(ATTACK_BURST)?;
    let attacker_ip = generator
        .planted()
        .get(BROAD_TOKEN)
        .and_then(|p| p.foreign_ip.clone())
        .ok_or_else(|| DemoError::History("the broad token has no foreign IP".into()))?;
    Ok(ScriptedEntries {
        benign_burst,
        broad_token,
        attack_burst,
        attacker_ip,
    })
}
