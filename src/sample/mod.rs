//! `soc-tui check <workflow> --sample FILE`: one workflow over a file of raw
//! events, in a throwaway in-memory store, reporting what it would do: the
//! findings with their evidence (or the draft report) and every request it
//! would send, rendered exactly as `soc-tui outbox show` renders a row.
//!
//! Nothing leaves the process: the user's store is never opened, requests
//! are recorded as dry-run items in the throwaway store, the investigation
//! uses the embedded heuristic engine (no model is called, no live query is
//! made) and previews are built with placeholder credentials.
//!
//! What each workflow checks:
//! - baseline: the history is the sample's own, so the sample should span
//!   the baseline window (`window_days` in rules.toml, 30 by default) plus
//!   the hour to judge; that hour is the UTC hour of the sample's last event,
//!   or the last complete hour before `--at`;
//! - bursts and tokens: the whole sample in cadence-long windows, bursts
//!   carrying their state from one window to the next as the scheduler does;
//!   with `--at`, the one cadence window ending there;
//! - investigation: `--actor` around `--at`, by default the actor and time
//!   of the sample's last event.

pub mod cli;

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::detect::Workflow;
use crate::detect::baseline::hour_start;
use crate::detect::rules::Rules;
use crate::engine::checks::{Mode, run_window};
use crate::engine::cli::once_window;
use crate::engine::{Cadences, CoveredWindow};
use crate::ingest::ingest_path;
use crate::investigate::publish::confluence_page_item;
use crate::investigate::report::Report;
use crate::investigate::{InvestigationRequest, Investigator};
use crate::outbox::preview::{RenderedRequest, item_request, preview_sinks, render_request};
use crate::sinks::{DeliveryRequest, Sinks};
use crate::store::{
    CheckKind, Delivery, FindingFilter, OutboxFilter, OutboxItem, Sink, Store, StoredFinding,
    draft_label,
};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("reading the sample {path}: {detail}")]
    Read { path: String, detail: String },
    #[error(
        "the sample {path} holds no event this workflow can use ({rejected} entries rejected): \
         give a Cloudflare or Datadog audit log page, JSON array or NDJSON"
    )]
    Empty { path: String, rejected: u64 },
    #[error("the throwaway store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("setting up the sinks for the previews: {0}")]
    Sinks(#[from] crate::sinks::SinkSetupError),
    #[error("investigating {actor} at {at} on the sample: {detail}")]
    Investigation {
        actor: String,
        at: DateTime<Utc>,
        detail: String,
    },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub workflow: Workflow,
    /// Checks: the time of the check; investigation: the anomaly's time.
    pub at: Option<DateTime<Utc>>,
    /// Investigation only.
    pub actor: Option<String>,
}

/// A request the workflow would send, rendered.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    pub sink: Sink,
    pub kind: String,
    pub dedup_key: String,
    pub request: Result<DeliveryRequest, String>,
    pub rendered: Result<RenderedRequest, String>,
}

#[derive(Debug, Clone)]
pub struct SampleFinding {
    pub finding: StoredFinding,
    pub requests: Vec<SampleRequest>,
}

#[derive(Debug, Clone)]
pub struct SampleInvestigation {
    pub label: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub report: Report,
    /// The Confluence page its approval would queue.
    pub requests: Vec<SampleRequest>,
}

/// What a workflow did on a sample.
#[derive(Debug, Clone)]
pub struct SampleRun {
    pub workflow: Workflow,
    pub events: u64,
    pub rejected: u64,
    /// The first rejected entries: `file position: reason` (raw text).
    pub rejections: Vec<String>,
    pub first_event: DateTime<Utc>,
    pub last_event: DateTime<Utc>,
    /// The windows checked (empty for the investigation).
    pub windows: Vec<CoveredWindow>,
    pub findings: Vec<SampleFinding>,
    pub investigation: Option<SampleInvestigation>,
}

impl SampleRun {
    pub fn request_count(&self) -> usize {
        let findings: usize = self.findings.iter().map(|f| f.requests.len()).sum();
        findings + self.investigation.as_ref().map_or(0, |i| i.requests.len())
    }
}

/// Runs `options.workflow` over the events in `file`. `data_dir` is only
/// named in the local archive's preview paths; nothing is written there.
pub async fn run_sample(
    file: &Path,
    config: &Config,
    rules: &Rules,
    data_dir: &Path,
    options: &SampleOptions,
) -> Result<SampleRun, SampleError> {
    let shown = file.display().to_string();
    let mut store = Store::open_in_memory()?;
    let ingested = ingest_path(&mut store, file, &|_| {}).map_err(|e| SampleError::Read {
        path: shown.clone(),
        detail: format!("{e:#}"),
    })?;
    let rejected = ingested.rejected_total;
    let Some((first, last)) = store.event_time_range()? else {
        return Err(SampleError::Empty {
            path: shown,
            rejected,
        });
    };
    let sinks = preview_sinks(config, data_dir)?;
    let prefix = config.s3.prefix.clone();
    let events = store.event_count()?;
    let mut run = SampleRun {
        workflow: options.workflow,
        events,
        rejected,
        rejections: ingested
            .rejected
            .iter()
            .take(5)
            .map(|r| format!("{} {}: {}", r.file, r.position, r.reason))
            .collect(),
        first_event: first,
        last_event: last,
        windows: Vec::new(),
        findings: Vec::new(),
        investigation: None,
    };
    match crate::workflows::check_of(options.workflow) {
        Some(check) => {
            let cadences = Cadences::from(&config.checks);
            run.windows = windows_of(check, first, last, options.at, &cadences);
            for window in &run.windows {
                // Every request is a dry-run item: this store is thrown away.
                let delivery = Some(Delivery::DryRun);
                run_window(
                    &mut store,
                    rules,
                    check,
                    *window,
                    window.end,
                    delivery,
                    Mode::Scheduled,
                )?;
            }
            run.findings = findings_of(&store, &sinks, &prefix)?;
        }
        None => {
            run.investigation =
                Some(investigate(store, config, options, last, &sinks, &prefix).await?);
        }
    }
    Ok(run)
}

/// The windows a check covers on a sample spanning `[first, last]`.
pub fn windows_of(
    check: CheckKind,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    at: Option<DateTime<Utc>>,
    cadences: &Cadences,
) -> Vec<CoveredWindow> {
    match (check, at) {
        (_, Some(at)) => vec![once_window(check, at, cadences)],
        (CheckKind::Baseline, None) => {
            let start = hour_start(last);
            vec![CoveredWindow {
                start,
                end: start + Duration::hours(1),
            }]
        }
        (CheckKind::Bursts | CheckKind::Tokens, None) => {
            let step = Duration::from_std(cadences.get(check)).unwrap_or(Duration::hours(1));
            crate::replay::windows(hour_start(first), last + Duration::milliseconds(1), step)
        }
    }
}

fn findings_of(
    store: &Store,
    sinks: &Sinks,
    prefix: &str,
) -> Result<Vec<SampleFinding>, SampleError> {
    let mut findings = store.findings(&FindingFilter::default())?;
    findings.sort_by(|a, b| (a.window_start, &a.dedup_key).cmp(&(b.window_start, &b.dedup_key)));
    findings
        .into_iter()
        .map(|finding| {
            let rows = store.outbox_list(&OutboxFilter {
                finding_id: Some(finding.id),
                ..OutboxFilter::default()
            })?;
            let requests = rows
                .iter()
                .map(|item| sample_request(store, item, sinks, prefix))
                .collect::<Result<_, _>>()?;
            Ok(SampleFinding { finding, requests })
        })
        .collect()
}

fn sample_request(
    store: &Store,
    item: &OutboxItem,
    sinks: &Sinks,
    prefix: &str,
) -> Result<SampleRequest, SampleError> {
    let request = item_request(store, item)?;
    let rendered = request
        .as_ref()
        .map(|r| render_request(r, sinks, prefix))
        .map_err(Clone::clone);
    Ok(SampleRequest {
        sink: item.sink,
        kind: item.kind.clone(),
        dedup_key: item.dedup_key.clone(),
        request,
        rendered,
    })
}

/// The heuristic investigation of the actor around the time, and the page
/// its approval would publish.
async fn investigate(
    store: Store,
    config: &Config,
    options: &SampleOptions,
    last: DateTime<Utc>,
    sinks: &Sinks,
    prefix: &str,
) -> Result<SampleInvestigation, SampleError> {
    let last_event = store
        .events_between(last, last + Duration::milliseconds(1), 1)?
        .into_iter()
        .next();
    let actor = options
        .actor
        .clone()
        .or_else(|| last_event.as_ref().map(|e| e.actor_key()))
        .unwrap_or_default();
    let at = options.at.unwrap_or(last);
    let failed = |detail: String| SampleError::Investigation {
        actor: actor.clone(),
        at,
        detail,
    };
    if actor.trim().is_empty() {
        return Err(failed(
            "no actor: give --actor (the sample's last event names none)".into(),
        ));
    }
    let shared = Arc::new(Mutex::new(store));
    // No agent and no live sources: a sample run calls nothing outside.
    let investigator = Investigator::new(Arc::clone(&shared), config.investigation.clone());
    let request = InvestigationRequest::from_cli(&actor, at);
    let id = investigator
        .open(&request)
        .map_err(|e| failed(e.to_string()))?
        .id();
    let report = investigator
        .run(id)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let page = confluence_page_item(id, &report).map_err(|e| failed(e.to_string()))?;
    let request = serde_json::from_value::<DeliveryRequest>(page.payload.clone())
        .map_err(|e| format!("the page request cannot be read back: {e}"));
    let rendered = request
        .as_ref()
        .map(|r| render_request(r, sinks, prefix))
        .map_err(Clone::clone);
    Ok(SampleInvestigation {
        label: draft_label(id),
        actor,
        at,
        report,
        requests: vec![SampleRequest {
            sink: page.sink,
            kind: page.kind,
            dedup_key: page.dedup_key,
            request,
            rendered,
        }],
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0).unwrap()
    }

    #[test]
    fn windows_cover_the_last_events_hour_or_the_whole_sample() {
        let cadences = Cadences {
            baseline: std::time::Duration::from_secs(3600),
            bursts: std::time::Duration::from_secs(300),
            tokens: std::time::Duration::from_secs(600),
        };
        let baseline = windows_of(CheckKind::Baseline, t(1, 0), t(12, 34), None, &cadences);
        assert_eq!(
            baseline,
            [CoveredWindow {
                start: t(12, 0),
                end: t(13, 0)
            }]
        );
        let at = windows_of(
            CheckKind::Baseline,
            t(1, 0),
            t(12, 34),
            Some(t(12, 34)),
            &cadences,
        );
        assert_eq!(at[0].start, t(11, 0), "the last complete hour before --at");

        let tokens = windows_of(CheckKind::Tokens, t(10, 5), t(11, 2), None, &cadences);
        assert_eq!(tokens.first().map(|w| w.start), Some(t(10, 0)));
        assert_eq!(tokens.len(), 7);
        assert!(tokens.last().unwrap().end > t(11, 2));
        for pair in tokens.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
    }
}
