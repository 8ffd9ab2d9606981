//! Workflow modes switched by an analyst (the console, `soc-tui workflows
//! set`): stored per store so every process on it (a daemon beside the
//! console) follows the switch, and overriding `[workflows]` in the config
//! until reset. Each switch is written with its analyst-log entry in one
//! transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::analyst_log::{NewLogEntry, insert_log_entry};
use super::{Result, Store, StoreError, from_ms, sql_err, to_ms};
use crate::config::{WORKFLOWS, WorkflowMode, workflow_key};
use crate::detect::Workflow;

/// The analyst-log action of a switch.
pub const SWITCH_ACTION: &str = "switch_workflow";

/// A mode an analyst set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowModeOverride {
    pub workflow: Workflow,
    pub mode: WorkflowMode,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A switch to record.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowSwitch<'a> {
    pub workflow: Workflow,
    /// `None`: drop the override, back to `config_mode`.
    pub to: Option<WorkflowMode>,
    /// What `[workflows]` says, the mode in force when no override exists.
    pub config_mode: WorkflowMode,
    pub analyst: &'a str,
}

/// What a switch changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchOutcome {
    pub from: WorkflowMode,
    pub to: WorkflowMode,
    /// False when the workflow was already in that state: nothing written.
    pub changed: bool,
}

/// The analyst-log subject of a workflow's switches (`workflow:tokens`).
pub fn switch_subject(workflow: Workflow) -> String {
    format!("workflow:{}", workflow_key(workflow))
}

impl Store {
    /// Every stored override, in [`WORKFLOWS`] order.
    pub fn workflow_mode_overrides(&self) -> Result<Vec<WorkflowModeOverride>> {
        let mut out = Vec::new();
        for workflow in WORKFLOWS {
            if let Some(o) = read_override(&self.conn, &self.path, workflow)? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// The stored override of one workflow.
    pub fn workflow_mode_override(
        &self,
        workflow: Workflow,
    ) -> Result<Option<WorkflowModeOverride>> {
        read_override(&self.conn, &self.path, workflow)
    }

    /// Sets (or drops) a workflow's override and logs who switched it
    /// from what to what. A switch to the mode already in force writes
    /// nothing.
    pub fn switch_workflow(
        &mut self,
        switch: &WorkflowSwitch<'_>,
        now: DateTime<Utc>,
    ) -> Result<SwitchOutcome> {
        const OP: &str = "switching a workflow";
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let current = read_override(&tx, &path, switch.workflow)?;
        let from = current.as_ref().map_or(switch.config_mode, |o| o.mode);
        let to = switch.to.unwrap_or(switch.config_mode);
        let from_source = if current.is_some() { "store" } else { "config" };
        let changed = match switch.to {
            Some(mode) if mode == from => false,
            Some(mode) => {
                tx.prepare_cached(
                    "INSERT INTO workflow_modes (workflow, mode, changed_by, changed_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (workflow) DO UPDATE SET mode = excluded.mode,
                         changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        switch.workflow.as_str(),
                        mode.as_str(),
                        switch.analyst,
                        to_ms(now)
                    ])
                })
                .map_err(sql_err(&path, OP))?;
                true
            }
            None if current.is_none() => false,
            None => {
                tx.execute(
                    "DELETE FROM workflow_modes WHERE workflow = ?1",
                    [switch.workflow.as_str()],
                )
                .map_err(sql_err(&path, OP))?;
                true
            }
        };
        if !changed {
            return Ok(SwitchOutcome {
                from,
                to,
                changed: false,
            });
        }
        let before = json!({"mode": from.as_str(), "source": from_source});
        let after = json!({
            "mode": to.as_str(),
            "source": if switch.to.is_some() { "store" } else { "config" },
        });
        insert_log_entry(
            &tx,
            &path,
            &NewLogEntry {
                analyst: switch.analyst,
                action: SWITCH_ACTION,
                subject: &switch_subject(switch.workflow),
                before: Some(&before.to_string()),
                after: Some(&after.to_string()),
                note: None,
            },
            now,
        )?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(SwitchOutcome {
            from,
            to,
            changed: true,
        })
    }
}

fn read_override(
    conn: &Connection,
    path: &str,
    workflow: Workflow,
) -> Result<Option<WorkflowModeOverride>> {
    const OP: &str = "reading a workflow's mode";
    let row: Option<(String, String, i64)> = conn
        .prepare_cached(
            "SELECT mode, changed_by, changed_at FROM workflow_modes WHERE workflow = ?1",
        )
        .and_then(|mut s| {
            s.query_row([workflow.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(sql_err(path, OP))?;
    row.map(|(mode, changed_by, at)| {
        Ok(WorkflowModeOverride {
            workflow,
            mode: mode.parse().map_err(|detail| StoreError::Corrupt {
                path: path.to_owned(),
                operation: OP,
                detail,
            })?,
            changed_by,
            changed_at: from_ms(path, OP, at)?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, minute, 0).unwrap()
    }

    fn switch(to: Option<WorkflowMode>, analyst: &str) -> WorkflowSwitch<'_> {
        WorkflowSwitch {
            workflow: Workflow::Token,
            to,
            config_mode: WorkflowMode::DryRun,
            analyst,
        }
    }

    #[test]
    fn a_switch_is_stored_with_its_log_entry_and_a_reset_returns_to_the_config() {
        let mut store = Store::open_in_memory().unwrap();
        assert!(store.workflow_mode_overrides().unwrap().is_empty());

        let done = store
            .switch_workflow(&switch(Some(WorkflowMode::On), "alice"), at(1))
            .unwrap();
        assert_eq!(
            done,
            SwitchOutcome {
                from: WorkflowMode::DryRun,
                to: WorkflowMode::On,
                changed: true
            }
        );
        let stored = store
            .workflow_mode_override(Workflow::Token)
            .unwrap()
            .unwrap();
        assert_eq!(
            (stored.mode, stored.changed_by.as_str(), stored.changed_at),
            (WorkflowMode::On, "alice", at(1))
        );

        // The same mode again changes nothing and logs nothing.
        let same = store
            .switch_workflow(&switch(Some(WorkflowMode::On), "bob"), at(2))
            .unwrap();
        assert!(!same.changed);

        let reset = store.switch_workflow(&switch(None, "bob"), at(3)).unwrap();
        assert_eq!(
            (reset.from, reset.to),
            (WorkflowMode::On, WorkflowMode::DryRun)
        );
        assert!(store.workflow_mode_overrides().unwrap().is_empty());

        let log = store.analyst_log(Some("workflow:tokens"), 10).unwrap();
        let entries: Vec<_> = log
            .iter()
            .map(|e| {
                (
                    e.analyst.as_str(),
                    e.action.as_str(),
                    e.before.as_deref().unwrap(),
                    e.after.as_deref().unwrap(),
                    e.at,
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (
                    "alice",
                    SWITCH_ACTION,
                    r#"{"mode":"dry-run","source":"config"}"#,
                    r#"{"mode":"on","source":"store"}"#,
                    at(1)
                ),
                (
                    "bob",
                    SWITCH_ACTION,
                    r#"{"mode":"on","source":"store"}"#,
                    r#"{"mode":"dry-run","source":"config"}"#,
                    at(3)
                ),
            ]
        );
    }

    #[test]
    fn a_switch_without_an_analyst_is_refused_and_leaves_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let err = store
            .switch_workflow(&switch(Some(WorkflowMode::Off), " "), at(1))
            .unwrap_err();
        assert!(err.to_string().contains("the analyst is empty"), "{err}");
        assert!(store.workflow_mode_overrides().unwrap().is_empty());
    }
}
