//! The three checks over the store: which windows a run covers (catch-up
//! after downtime included), and checking and recording one window. Used by
//! the scheduler, `soc-tui check --once` and `soc-tui replay`, so all three
//! record findings the same way.
//!
//! Everything here is synchronous and takes the store directly: callers in
//! async code run it on the store's blocking thread.

use std::borrow::Cow;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::bus::{CoveredWindow, FindingCounts};
use crate::detect::Finding;
use crate::detect::baseline::{check_hour, hour_start};
use crate::detect::burst::{BurstState, CheckWindow, check_bursts};
use crate::detect::rules::Rules;
use crate::detect::tokens;
use crate::model::Source;
use crate::store::{CheckKind, Delivery, RecordedFinding, Store, StoreError, WindowRecord};

/// Bursts and tokens catch up in windows of at most this length, each
/// recorded on its own: a long gap never loads more than an hour of events
/// at once, and a crash mid-catch-up resumes where it stopped.
pub const MAX_EVENT_WINDOW: Duration = Duration::hours(1);

/// How a run's windows are planned.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub check: CheckKind,
    /// Exclusive end of what was already checked (`None`: never ran).
    pub covered_until: Option<DateTime<Utc>>,
    /// Data is complete up to here: windows end at or before it.
    pub horizon: DateTime<Utc>,
    /// The check's cadence: the first window of a check that never ran.
    pub cadence: StdDuration,
    /// The most hours the baseline catches up after downtime.
    pub max_baseline_hours: u32,
}

/// The windows to check, oldest first.
///
/// - baseline: every whole hour from the last covered one up to the last
///   complete hour before `horizon`, at most `max_baseline_hours` of them
///   (the most recent); a first run checks only the last complete hour;
/// - bursts and tokens: the whole gap `[covered_until, horizon)` in windows
///   of at most [`MAX_EVENT_WINDOW`]; a first run checks one cadence.
pub fn plan_windows(plan: &Plan) -> Vec<CoveredWindow> {
    match plan.check {
        CheckKind::Baseline => baseline_hours(plan),
        CheckKind::Bursts | CheckKind::Tokens => event_windows(plan),
    }
}

fn baseline_hours(plan: &Plan) -> Vec<CoveredWindow> {
    let hour = Duration::hours(1);
    let end = hour_start(plan.horizon);
    let oldest_allowed = end - hour * i32::try_from(plan.max_baseline_hours.max(1)).unwrap_or(1);
    let start = match plan.covered_until {
        Some(covered) => hour_start(covered).max(oldest_allowed),
        None => end - hour,
    };
    let mut windows = Vec::new();
    let mut h = start;
    while h + hour <= end {
        windows.push(CoveredWindow {
            start: h,
            end: h + hour,
        });
        h += hour;
    }
    windows
}

fn event_windows(plan: &Plan) -> Vec<CoveredWindow> {
    let cadence = Duration::from_std(plan.cadence).unwrap_or(MAX_EVENT_WINDOW);
    let start = plan.covered_until.unwrap_or(plan.horizon - cadence);
    let mut windows = Vec::new();
    let mut from = start;
    while from < plan.horizon {
        let to = (from + MAX_EVENT_WINDOW).min(plan.horizon);
        windows.push(CoveredWindow {
            start: from,
            end: to,
        });
        from = to;
    }
    windows
}

/// Whether a window moves the check's coverage and carried state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The scheduler (and replay): coverage and burst state advance with the window.
    Scheduled,
    /// `check --once`: findings are recorded, coverage and state are left alone.
    OneOff,
}

/// What checking one window did.
#[derive(Debug, Clone)]
pub struct WindowResult {
    pub window: CoveredWindow,
    pub findings: Vec<Finding>,
    pub recorded: Vec<RecordedFinding>,
    /// Datadog events whose raw JSON the burst check could not read.
    pub unreadable: usize,
    /// Requests the findings asked for that were not queued because the
    /// workflow is off (`check --once` on an off workflow).
    pub held: usize,
}

/// What a window records: the findings as found, or, when the workflow is
/// off (`delivery` is `None`), without their requests; and how many
/// requests that held back.
pub(crate) fn recordable(
    findings: &[Finding],
    delivery: Option<Delivery>,
) -> (Cow<'_, [Finding]>, Delivery, usize) {
    match delivery {
        Some(delivery) => (Cow::Borrowed(findings), delivery, 0),
        None => {
            let held = findings.iter().map(|f| f.requests.len()).sum();
            let bare = findings
                .iter()
                .map(|f| Finding {
                    requests: Vec::new(),
                    ..f.clone()
                })
                .collect();
            // No request is left to record, so the delivery is moot.
            (Cow::Owned(bare), Delivery::DryRun, held)
        }
    }
}

impl WindowResult {
    pub fn counts(&self) -> FindingCounts {
        let mut counts = FindingCounts::default();
        for (finding, recorded) in self.findings.iter().zip(&self.recorded) {
            if recorded.inserted {
                counts.new += 1;
            } else {
                counts.updated += 1;
            }
            if finding.is_suppressed() {
                counts.suppressed += 1;
            }
            counts.enqueued += recorded.enqueued;
        }
        counts
    }
}

/// Checks one window and records what it found (see [`Mode`]). `now` is
/// the check's time: suppressions expire against it and findings are
/// stamped with it. `delivery` is how the requests are recorded; `None`
/// (the workflow is off) records the findings and queues nothing.
pub fn run_window(
    store: &mut Store,
    rules: &Rules,
    check: CheckKind,
    window: CoveredWindow,
    now: DateTime<Utc>,
    delivery: Option<Delivery>,
    mode: Mode,
) -> Result<WindowResult, StoreError> {
    let mut unreadable = 0;
    let mut next_state = None;
    let findings = match check {
        CheckKind::Baseline => check_hour(&store.baseline_data()?, rules, window.start, now)?,
        CheckKind::Tokens => {
            let events = source_events(store, Source::Cloudflare, window)?;
            assess_tokens(store, rules, &events, now)?
        }
        CheckKind::Bursts => {
            let previous = match mode {
                Mode::Scheduled => carried_burst_state(store, window.start)?,
                Mode::OneOff => BurstState::default(),
            };
            let events = source_events(store, Source::Datadog, window)?;
            let span = CheckWindow {
                start: window.start,
                end: window.end,
            };
            let outcome = check_bursts(rules, &previous, &events, span, now);
            unreadable = outcome.unreadable.len();
            if unreadable > 0 {
                tracing::warn!(
                    unreadable,
                    start = %window.start,
                    "bursts: Datadog events whose raw JSON could not be read were skipped"
                );
            }
            next_state = Some(outcome.state);
            outcome.findings
        }
    };
    let (to_record, delivery, held) = recordable(&findings, delivery);
    let record = WindowRecord {
        check,
        covered_until: (mode == Mode::Scheduled).then_some(window.end),
        findings: &to_record,
        burst_state: match mode {
            Mode::Scheduled => next_state.as_ref(),
            Mode::OneOff => None,
        },
        now,
        delivery,
    };
    let recorded = store.record_window(&record)?;
    Ok(WindowResult {
        window,
        findings,
        recorded,
        unreadable,
        held,
    })
}

/// The burst state saved after the window ending at `start`. A state saved
/// for another point (the store was restored, or coverage was edited) is
/// not carried over: bursts still open then are reported again under a new
/// start rather than merged into the wrong window.
fn carried_burst_state(store: &Store, start: DateTime<Utc>) -> Result<BurstState, StoreError> {
    match store.burst_state()? {
        Some(saved) if saved.valid_at == start => Ok(saved.state),
        Some(saved) => {
            tracing::warn!(
                saved_for = %saved.valid_at,
                window_start = %start,
                "bursts: saved state does not follow this window; starting fresh"
            );
            Ok(BurstState::default())
        }
        None => Ok(BurstState::default()),
    }
}

/// Every token creation among `events`, assessed with the scope the poller
/// fetched for it when there is one (`token_scopes`), else the scope in the
/// entry itself, else unknown.
fn assess_tokens(
    store: &Store,
    rules: &Rules,
    events: &[crate::model::AuditEvent],
    now: DateTime<Utc>,
) -> Result<Vec<Finding>, StoreError> {
    let mut findings = Vec::new();
    for creation in events.iter().filter_map(|e| tokens::recognise(rules, e)) {
        let fetched =
            store.token_scope(&creation.event_id)?.map(|stored| {
                match serde_json::to_value(&stored) {
                    Ok(json) => tokens::scope_of(&json),
                    Err(_) => tokens::TokenScope::Unknown,
                }
            });
        findings.push(tokens::assess(rules, &creation, fetched.as_ref(), now));
    }
    Ok(findings)
}

fn source_events(
    store: &Store,
    source: Source,
    window: CoveredWindow,
) -> Result<Vec<crate::model::AuditEvent>, StoreError> {
    let mut events = store.events_between(window.start, window.end, usize::MAX)?;
    events.retain(|e| e.source == source);
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0).unwrap()
    }

    fn plan(check: CheckKind, covered: Option<DateTime<Utc>>, horizon: DateTime<Utc>) -> Plan {
        Plan {
            check,
            covered_until: covered,
            horizon,
            cadence: StdDuration::from_secs(300),
            max_baseline_hours: 24,
        }
    }

    fn starts(windows: &[CoveredWindow]) -> Vec<(u32, u32)> {
        use chrono::Timelike;
        windows
            .iter()
            .map(|w| (w.start.hour(), w.start.minute()))
            .collect()
    }

    #[test]
    fn baseline_checks_the_last_complete_hour_first_then_every_missed_one() {
        let first = plan_windows(&plan(CheckKind::Baseline, None, at(12, 30)));
        assert_eq!(starts(&first), vec![(11, 0)]);
        assert_eq!(first[0].end, at(12, 0));
        // Covered up to 08:00, now 12:30: 08, 09, 10 and 11 are due.
        let gap = plan_windows(&plan(CheckKind::Baseline, Some(at(8, 0)), at(12, 30)));
        assert_eq!(starts(&gap), vec![(8, 0), (9, 0), (10, 0), (11, 0)]);
        // Up to date: nothing.
        assert!(plan_windows(&plan(CheckKind::Baseline, Some(at(12, 0)), at(12, 59))).is_empty());
    }

    #[test]
    fn baseline_catch_up_is_bounded_to_the_most_recent_hours() {
        let mut p = plan(CheckKind::Baseline, Some(at(0, 0)), at(12, 0));
        p.max_baseline_hours = 3;
        assert_eq!(starts(&plan_windows(&p)), vec![(9, 0), (10, 0), (11, 0)]);
    }

    #[test]
    fn event_checks_cover_the_whole_gap_in_bounded_contiguous_windows() {
        let first = plan_windows(&plan(CheckKind::Bursts, None, at(12, 7)));
        assert_eq!(starts(&first), vec![(12, 2)]);
        let gap = plan_windows(&plan(CheckKind::Tokens, Some(at(9, 40)), at(12, 7)));
        assert_eq!(starts(&gap), vec![(9, 40), (10, 40), (11, 40)]);
        assert_eq!(gap.last().unwrap().end, at(12, 7));
        for pair in gap.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(plan_windows(&plan(CheckKind::Bursts, Some(at(12, 7)), at(12, 7))).is_empty());
    }

    #[test]
    fn tokens_use_the_scope_the_poller_stored() {
        use crate::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource};
        use crate::sources::token_scope::TokenScope as StoredScope;
        let rules = crate::detect::rules::parse(None).unwrap().rules;
        let mut store = Store::open_in_memory().unwrap();
        let creation = |id: &str| AuditEvent {
            source: Source::Cloudflare,
            id: id.into(),
            time: at(10, 20),
            actor: Actor {
                email: Some("mallory@example.com".into()),
                ..Actor::default()
            },
            action: Action {
                verb: "token_create".into(),
                kind: ActionKind::Create,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: format!(r#"{{"id":"{id}","metadata":{{"token_tag":"t-{id}"}}}}"#),
        };
        store
            .insert_events(&[creation("e1"), creation("e2")])
            .unwrap();
        let broad = StoredScope::Known {
            policies: vec![serde_json::json!({"effect": "allow",
                "permission_groups": [{"name": "DNS Write"}],
                "resources": {"com.cloudflare.api.account.zone.*": "*"}})],
        };
        store.set_token_scope("e1", &broad).unwrap();
        let window = CoveredWindow {
            start: at(10, 0),
            end: at(11, 0),
        };
        let result = run_window(
            &mut store,
            &rules,
            CheckKind::Tokens,
            window,
            at(11, 0),
            Some(Delivery::Live),
            Mode::Scheduled,
        )
        .unwrap();
        let rules_of = |key: &str| {
            result
                .findings
                .iter()
                .find(|f| f.dedup_key == key)
                .map(|f| f.rules.clone())
                .unwrap()
        };
        assert_eq!(
            rules_of("token:e1"),
            vec!["token.broad", "token.write", "token.unapproved_issuer"]
        );
        assert_eq!(
            rules_of("token:e2"),
            vec!["token.unknown_scope", "token.unapproved_issuer"]
        );
    }
}
