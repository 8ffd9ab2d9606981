//! What an analyst does with a finding (acknowledge, resolve, snooze): the
//! new state and its analyst-log entry are written in one transaction, so
//! the log never misses a change nor records one that did not happen.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::analyst_log::{NewLogEntry, insert_log_entry};
use super::findings::FindingState;
use super::{Result, Store, StoreError, from_ms, sql_err, to_ms};

/// A state change an analyst asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage<'a> {
    pub dedup_key: &'a str,
    pub state: FindingState,
    /// Required for [`FindingState::Snoozed`], refused otherwise.
    pub snoozed_until: Option<DateTime<Utc>>,
    pub analyst: &'a str,
    /// Why (a snooze reason); goes into the analyst log.
    pub note: Option<&'a str>,
}

impl Store {
    /// Moves a finding to `triage.state` and records who did it, from
    /// which state, in the analyst log (action = the new state's verb).
    pub fn triage_finding(&mut self, triage: &Triage<'_>, now: DateTime<Utc>) -> Result<()> {
        const OP: &str = "changing a finding's state";
        let path = self.path.clone();
        let refuse = |detail: String| StoreError::InvalidInput {
            path: path.clone(),
            operation: OP,
            detail,
        };
        match (triage.state, triage.snoozed_until) {
            (FindingState::Snoozed, None) => {
                return Err(refuse(format!(
                    "snoozing finding {} needs an end time",
                    triage.dedup_key
                )));
            }
            (FindingState::Snoozed, Some(until)) if until <= now => {
                return Err(refuse(format!(
                    "snoozing finding {} until {until}, which is not in the future",
                    triage.dedup_key
                )));
            }
            (FindingState::Snoozed, Some(_)) | (_, None) => {}
            (state, Some(_)) => {
                return Err(refuse(format!(
                    "finding {} cannot be {state} with a snooze end time",
                    triage.dedup_key
                )));
            }
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let before: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT state, snoozed_until FROM findings WHERE dedup_key = ?1",
                [triage.dedup_key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql_err(&path, OP))?;
        let Some((before_state, before_until)) = before else {
            return Err(refuse(format!(
                "finding {} does not exist",
                triage.dedup_key
            )));
        };
        let before_until = before_until.map(|ms| from_ms(&path, OP, ms)).transpose()?;
        tx.execute(
            "UPDATE findings SET state = ?2, snoozed_until = ?3 WHERE dedup_key = ?1",
            params![
                triage.dedup_key,
                triage.state.as_str(),
                triage.snoozed_until.map(to_ms)
            ],
        )
        .map_err(sql_err(&path, OP))?;
        let before = json!({ "state": before_state, "snoozed_until": before_until });
        let after =
            json!({ "state": triage.state.as_str(), "snoozed_until": triage.snoozed_until });
        insert_log_entry(
            &tx,
            &path,
            &NewLogEntry {
                analyst: triage.analyst,
                action: action_of(triage.state),
                subject: triage.dedup_key,
                before: Some(&before.to_string()),
                after: Some(&after.to_string()),
                note: triage.note,
            },
            now,
        )?;
        tx.commit().map_err(sql_err(&path, OP))
    }
}

/// The analyst-log action for moving a finding to `state`.
fn action_of(state: FindingState) -> &'static str {
    match state {
        FindingState::New => "reopen",
        FindingState::Acknowledged => "acknowledge",
        FindingState::Resolved => "resolve",
        FindingState::Snoozed => "snooze",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::detect::{Finding, Severity, Workflow};
    use crate::store::Delivery;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap()
    }

    fn store_with_finding() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let finding = Finding {
            workflow: Workflow::Token,
            dedup_key: "token:e1".into(),
            actor: "mallory@example.com".into(),
            severity: Severity::High,
            title: "t".into(),
            window_start: t(1),
            window_end: t(1),
            summary: "s".into(),
            evidence: json!({}),
            event_ids: vec!["e1".into()],
            rules: vec!["token.broad".into()],
            suppressed: Vec::new(),
            requests: Vec::new(),
        };
        store
            .record_finding(&finding, t(2), Delivery::Live)
            .unwrap();
        store
    }

    #[test]
    fn a_snooze_changes_the_state_and_logs_before_and_after() {
        let mut store = store_with_finding();
        let until = t(3) + Duration::hours(4);
        store
            .triage_finding(
                &Triage {
                    dedup_key: "token:e1",
                    state: FindingState::Snoozed,
                    snoozed_until: Some(until),
                    analyst: "alice",
                    note: Some("change window"),
                },
                t(3),
            )
            .unwrap();
        let finding = store.finding("token:e1").unwrap().unwrap();
        assert_eq!(finding.state, FindingState::Snoozed);
        assert_eq!(finding.snoozed_until, Some(until));
        let log = store.analyst_log(Some("token:e1"), 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "snooze");
        assert_eq!(log[0].analyst, "alice");
        assert_eq!(log[0].note.as_deref(), Some("change window"));
        assert!(log[0].before.as_deref().unwrap().contains("\"new\""));
        assert!(log[0].after.as_deref().unwrap().contains("\"snoozed\""));

        // Acknowledging clears the snooze.
        store
            .triage_finding(
                &Triage {
                    dedup_key: "token:e1",
                    state: FindingState::Acknowledged,
                    snoozed_until: None,
                    analyst: "bob",
                    note: None,
                },
                t(4),
            )
            .unwrap();
        let finding = store.finding("token:e1").unwrap().unwrap();
        assert_eq!(
            (finding.state, finding.snoozed_until),
            (FindingState::Acknowledged, None)
        );
        assert_eq!(store.analyst_log(Some("token:e1"), 10).unwrap().len(), 2);
    }

    #[test]
    fn bad_requests_change_nothing_and_name_the_finding() {
        let mut store = store_with_finding();
        let cases = [
            (
                "token:nope",
                FindingState::Resolved,
                None,
                "finding token:nope does not exist",
            ),
            (
                "token:e1",
                FindingState::Snoozed,
                None,
                "snoozing finding token:e1 needs an end time",
            ),
            (
                "token:e1",
                FindingState::Snoozed,
                Some(t(1)),
                "not in the future",
            ),
            (
                "token:e1",
                FindingState::Resolved,
                Some(t(9)),
                "cannot be resolved with a snooze end time",
            ),
        ];
        for (key, state, until, message) in cases {
            let err = store
                .triage_finding(
                    &Triage {
                        dedup_key: key,
                        state,
                        snoozed_until: until,
                        analyst: "alice",
                        note: None,
                    },
                    t(3),
                )
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{err}");
        }
        assert_eq!(
            store.finding("token:e1").unwrap().unwrap().state,
            FindingState::New
        );
        assert!(store.analyst_log(None, 10).unwrap().is_empty());
    }
}
