//! What the run must prove, checked against the store, the remote sides and
//! the proxies' records: nothing lost, nothing created twice, nothing sent
//! before a `Retry-After` elapsed, dead letters exactly for the permanently
//! refused items (with the service's message). Also the figures reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use soc_tui::detect::SinkRequest;
use soc_tui::sinks::DeliveryRequest;
use soc_tui::sinks::archive::object_key;
use soc_tui::sinks::idempotency::pagerduty_key;
use soc_tui::sinks::linear::LinearSink;
use soc_tui::store::{FindingRequestPayload, OutboxItem, OutboxState, Sink};

use crate::common::fault_proxy::{Exchange, FaultKind, FaultProxy};
use crate::destinations::{
    CONFLUENCE_REFUSAL, LINEAR_REFUSAL, PAGERDUTY_REFUSAL, PREFIX, S3_REFUSAL,
};

/// A request may still arrive this long after the client had read a 429
/// (closed its connection) without breaking the rule: it was sent before
/// the client could act on the 429 (other deliveries were in flight, and a
/// loaded machine delays the proxy's accepting).
pub const RACE_GRACE: Duration = Duration::from_millis(500);
/// A 429 answered this shortly before a kill may have died with the
/// process before it was recorded in the store (the process is stopped at a
/// crash point while other deliveries run): the next process cannot know it.
pub const KILL_GRACE: Duration = Duration::from_millis(300);

/// One outbox row and the remote key its delivery creates.
#[derive(Debug, Clone)]
pub struct Item {
    pub row: i64,
    pub sink: Sink,
    pub key: String,
    /// Refused for good by the destination: must end dead.
    pub doomed: bool,
}

/// The idempotency key of a row, as the destination sees it.
pub fn remote_key(row: &OutboxItem) -> String {
    match row.sink {
        Sink::Confluence => match serde_json::from_value::<DeliveryRequest>(row.payload.clone()) {
            Ok(DeliveryRequest::ConfluencePage { title, .. }) => title,
            other => panic!("row {} is not a page request: {other:?}", row.id),
        },
        _ => {
            let payload: FindingRequestPayload =
                serde_json::from_value(row.payload.clone()).expect("finding payload");
            match (&payload.request, row.sink) {
                (SinkRequest::LinearTicket { .. }, Sink::Linear) => {
                    LinearSink::issue_id(&payload.finding_dedup_key)
                }
                (SinkRequest::PagerDutyTrigger { .. }, Sink::PagerDuty) => {
                    pagerduty_key(&payload.finding_dedup_key)
                }
                (
                    SinkRequest::ArchiveObject {
                        event_id,
                        account,
                        time,
                    },
                    Sink::Archive,
                ) => object_key(PREFIX, account.as_deref(), *time, event_id),
                (request, sink) => panic!("row {}: {sink} row holds {request:?}", row.id),
            }
        }
    }
}

/// About 1% of each sink's rows (at least one) are refused for good.
pub fn plan_items(rows: &[OutboxItem]) -> Vec<Item> {
    let mut seen: HashMap<Sink, usize> = HashMap::new();
    rows.iter()
        .map(|row| {
            let n = seen.entry(row.sink).or_default();
            *n += 1;
            Item {
                row: row.id,
                sink: row.sink,
                key: remote_key(row),
                doomed: *n % 97 == 13,
            }
        })
        .collect()
}

pub fn refusal_text(sink: Sink) -> &'static str {
    match sink {
        Sink::Linear => LINEAR_REFUSAL,
        Sink::PagerDuty => PAGERDUTY_REFUSAL,
        Sink::Confluence => CONFLUENCE_REFUSAL,
        Sink::Archive => S3_REFUSAL,
    }
}

/// Everything wrong found; empty means the run proved its point.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate().take(40) {
            writeln!(f, "{}. {p}", i + 1)?;
        }
        if self.0.len() > 40 {
            writeln!(f, "... and {} more", self.0.len() - 40)?;
        }
        Ok(())
    }
}

/// Rows end delivered (with the remote object they name) or dead for a
/// permanent refusal, the one expected.
pub fn check_rows(items: &[Item], rows: &[OutboxItem], problems: &mut Problems) {
    let by_id: HashMap<i64, &OutboxItem> = rows.iter().map(|r| (r.id, r)).collect();
    problems.check(rows.len() == items.len(), || {
        format!("{} rows now, {} seeded", rows.len(), items.len())
    });
    for item in items {
        let Some(row) = by_id.get(&item.row) else {
            problems.check(false, || format!("row {} vanished", item.row));
            continue;
        };
        if item.doomed {
            let reason = row.last_error.as_deref().unwrap_or_default();
            problems.check(
                row.state == OutboxState::Dead && reason.contains(refusal_text(item.sink)),
                || {
                    format!(
                        "row {} ({} {}) refused for good, but it is {} ({reason})",
                        row.id,
                        item.sink,
                        item.key,
                        row.state.as_str()
                    )
                },
            );
            continue;
        }
        problems.check(row.state == OutboxState::Delivered, || {
            format!(
                "row {} ({} {}) is {} after the run: {:?}",
                row.id,
                item.sink,
                item.key,
                row.state.as_str(),
                row.last_error
            )
        });
        let remote = row.remote_id.as_deref().unwrap_or_default();
        let expected = match item.sink {
            Sink::Archive => format!("s3://{}/{}", crate::destinations::BUCKET, item.key),
            // Page ids are the service's; the title was checked by the caller.
            Sink::Confluence => remote.to_owned(),
            _ => item.key.clone(),
        };
        problems.check(remote.eq_ignore_ascii_case(&expected), || {
            format!(
                "row {} ({}) names remote {remote:?}, expected {expected:?}",
                row.id, item.sink
            )
        });
    }
}

/// The remote side holds exactly one object per delivered row and none for
/// a refused one: `remote` lists every object the destination holds, by key.
pub fn check_remote(
    sink: Sink,
    items: &[Item],
    remote: &[String],
    problems: &mut Problems,
) -> usize {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in remote {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    problems.check(twice.is_empty(), || {
        format!("{sink}: created more than once: {twice:?}")
    });
    let expected: HashSet<&str> = items
        .iter()
        .filter(|i| i.sink == sink && !i.doomed)
        .map(|i| i.key.as_str())
        .collect();
    let held: HashSet<&str> = counts.keys().copied().collect();
    let missing: Vec<_> = expected.difference(&held).take(5).collect();
    let extra: Vec<_> = held.difference(&expected).take(5).collect();
    problems.check(missing.is_empty(), || {
        format!(
            "{sink}: {} delivered rows have no remote object, e.g. {missing:?}",
            expected.difference(&held).count()
        )
    });
    problems.check(extra.is_empty(), || {
        format!(
            "{sink}: {} remote objects no row asked for (or a refused one), e.g. {extra:?}",
            held.difference(&expected).count()
        )
    });
    twice.len()
}

/// Requests that arrived while a `Retry-After` was still running.
#[derive(Debug, Default, Clone, Copy)]
pub struct EarlyCount {
    /// A request for the very item that was told to wait: never allowed.
    pub same_item: usize,
    /// Any request to the destination after [`RACE_GRACE`].
    pub destination: usize,
    /// Within [`RACE_GRACE`] of the 429: in flight before it could be read.
    pub raced: usize,
    /// After a kill that came within [`KILL_GRACE`] of the 429.
    pub after_kill: usize,
}

pub fn early_requests(exchanges: &[Exchange], kills: &[Instant]) -> EarlyCount {
    let mut count = EarlyCount::default();
    for limited in exchanges {
        let Some((sent, wait)) = limited.rate_limit else {
            continue;
        };
        let end = sent + wait;
        // Requests the client sent before it could act on the 429: up to
        // RACE_GRACE after it had read the answer (on a loaded machine the
        // client may read it well after the proxy wrote it).
        let read = limited.read_by_client.map_or(sent, |read| read.max(sent));
        let race_end = read + RACE_GRACE;
        let unrecorded_kill = kills
            .iter()
            .copied()
            .filter(|k| *k >= sent && *k < sent + KILL_GRACE)
            .min();
        for later in exchanges {
            if later.arrived < sent || later.arrived >= end || std::ptr::eq(later, limited) {
                continue;
            }
            if unrecorded_kill.is_some_and(|k| later.arrived >= k) {
                count.after_kill += 1;
                continue;
            }
            let same = later.subject.key.is_some() && later.subject.key == limited.subject.key;
            if same {
                count.same_item += 1;
            } else if later.arrived < race_end {
                count.raced += 1;
            } else {
                count.destination += 1;
            }
        }
    }
    count
}

/// Per destination: requests, faults injected by kind (and how many struck
/// after the upstream applied the request), refusals, early requests.
pub struct DestinationFigures {
    pub name: &'static str,
    pub requests: usize,
    pub faults: BTreeMap<FaultKind, (usize, usize)>,
    pub refused: usize,
    pub early: EarlyCount,
    /// Creates the upstream carried out per key beyond the first: only
    /// PagerDuty may have any (triggers merged into the open incident).
    pub repeated_creates: usize,
}

pub fn figures(proxy: &FaultProxy, kills: &[Instant]) -> DestinationFigures {
    let exchanges = proxy.exchanges();
    let mut faults: BTreeMap<FaultKind, (usize, usize)> = BTreeMap::new();
    let mut created: HashMap<&str, usize> = HashMap::new();
    for e in &exchanges {
        if let Some((kind, after)) = e.fault {
            let entry = faults.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(after);
        }
        if let (true, Some(key)) = (e.created, e.subject.key.as_deref()) {
            *created.entry(key).or_default() += 1;
        }
    }
    DestinationFigures {
        name: proxy.name(),
        requests: exchanges.len(),
        faults,
        refused: exchanges.iter().filter(|e| e.refused).count(),
        early: early_requests(&exchanges, kills),
        repeated_creates: created.values().map(|n| n.saturating_sub(1)).sum(),
    }
}

impl fmt::Display for DestinationFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let injected: usize = self.faults.values().map(|(n, _)| n).sum();
        write!(
            f,
            "{:<10} {:>6} requests, {:>5} faults ({:.1}%):",
            self.name,
            self.requests,
            injected,
            100.0 * injected as f64 / self.requests.max(1) as f64
        )?;
        for (kind, (n, after)) in &self.faults {
            write!(f, " {} {n}", kind.as_str())?;
            if *after > 0 {
                write!(f, " ({after} after the effect)")?;
            }
            write!(f, ",")?;
        }
        write!(
            f,
            " {} refused for good; early: {} same item, {} destination ({} raced the 429, \
             {} after a kill that lost it); repeated creates {}",
            self.refused,
            self.early.same_item,
            self.early.destination,
            self.early.raced,
            self.early.after_kill,
            self.repeated_creates
        )
    }
}
