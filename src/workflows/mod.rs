//! Which mode each workflow is in right now, and what that means for the
//! requests it causes.
//!
//! The mode in force is the store's override (set from the console or
//! `soc-tui workflows set`), else `[workflows]` in the config; then
//! `--dry-run` on the daemon turns `on` into `dry-run`. It is read from the
//! store each time a workflow is about to act (a check run, a webhook, a
//! publish), so a switch made in one process is followed by every other
//! process on the same store from its next action on.
//!
//! Each request follows the workflow that caused it: a finding's requests
//! its check's workflow; a report's Confluence page `investigation`; a
//! report's Linear ticket or PagerDuty event the workflow of the finding
//! that started the investigation, else `investigation` ([`publish_workflow`]).

pub mod cli;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, WORKFLOWS, WorkflowMode, WorkflowsConfig, workflow_key};
use crate::detect::Workflow;
use crate::store::{
    CheckKind, Delivery, DraftRow, Store, StoreError, SwitchOutcome, TriggerKind,
    WorkflowModeOverride, WorkflowSwitch,
};

/// Where a workflow's mode comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ModeSource {
    /// `[workflows]` in the config (or its default, `dry-run`).
    Config,
    /// Switched by an analyst; overrides the config.
    Store { by: String, at: DateTime<Utc> },
}

/// A workflow's mode in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveMode {
    #[serde(serialize_with = "serialize_workflow")]
    pub workflow: Workflow,
    /// What the workflow does now.
    pub mode: WorkflowMode,
    /// What the config or the analyst set, before `--dry-run`.
    pub set: WorkflowMode,
    #[serde(flatten)]
    pub source: ModeSource,
    /// `--dry-run` holds an `on` workflow in dry-run.
    pub forced_dry_run: bool,
}

fn serialize_workflow<S: serde::Serializer>(w: &Workflow, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(workflow_key(*w))
}

impl EffectiveMode {
    /// How its requests are recorded; `None` when the workflow is off.
    pub fn delivery(&self) -> Option<Delivery> {
        delivery_of(self.mode)
    }

    pub fn is_off(&self) -> bool {
        self.mode == WorkflowMode::Off
    }

    /// Where the mode comes from, for people: `config`, `set by alice
    /// 2026-11-21 12:03 UTC`, with `held in dry-run by --dry-run`.
    pub fn origin(&self) -> String {
        let mut text = match &self.source {
            ModeSource::Config => "config".to_owned(),
            ModeSource::Store { by, at } => format!(
                "set by {} {}",
                crate::sanitize::sanitize_with_limit(by, 60),
                at.format("%Y-%m-%d %H:%M UTC")
            ),
        };
        if self.forced_dry_run {
            text.push_str(&format!(
                "; {} held in dry-run by --dry-run",
                self.set.as_str()
            ));
        }
        text
    }

    /// Why nothing is queued, and how to change that.
    pub fn off_message(&self) -> String {
        let key = workflow_key(self.workflow);
        let why = match &self.source {
            ModeSource::Config => format!("workflows.{key} = \"off\" in the config"),
            ModeSource::Store { .. } => format!("switched off: {}", self.origin()),
        };
        format!(
            "the {key} workflow is off ({why}): nothing is queued; switch it with \
             `soc-tui workflows set {key} dry-run` (or on), or w in the console"
        )
    }
}

/// How a workflow in `mode` records its requests; `None` when off.
pub fn delivery_of(mode: WorkflowMode) -> Option<Delivery> {
    match mode {
        WorkflowMode::Off => None,
        WorkflowMode::DryRun => Some(Delivery::DryRun),
        WorkflowMode::On => Some(Delivery::Live),
    }
}

/// The workflow a scheduled check belongs to.
pub fn of_check(check: CheckKind) -> Workflow {
    match check {
        CheckKind::Baseline => Workflow::Baseline,
        CheckKind::Bursts => Workflow::Burst,
        CheckKind::Tokens => Workflow::Token,
    }
}

/// The scheduled check a workflow runs; `None` for the investigation, which
/// runs on demand.
pub fn check_of(workflow: Workflow) -> Option<CheckKind> {
    match workflow {
        Workflow::Baseline => Some(CheckKind::Baseline),
        Workflow::Burst => Some(CheckKind::Bursts),
        Workflow::Token => Some(CheckKind::Tokens),
        Workflow::Investigation => None,
    }
}

/// The workflow whose mode decides an analyst's publish of a report: its
/// Confluence page is the investigation's own output; a Linear ticket or
/// PagerDuty event escalates the finding that started the investigation,
/// when one did (`finding_workflow` reads it), else the investigation.
pub fn publish_workflow(
    confluence: bool,
    draft: &DraftRow,
    finding_workflow: impl FnOnce(&str) -> Result<Option<Workflow>, StoreError>,
) -> Result<Workflow, StoreError> {
    if confluence {
        return Ok(Workflow::Investigation);
    }
    match (&draft.trigger_kind, &draft.trigger_ref) {
        (TriggerKind::Finding, Some(key)) => {
            Ok(finding_workflow(key)?.unwrap_or(Workflow::Investigation))
        }
        _ => Ok(Workflow::Investigation),
    }
}

/// The config's modes, the store's overrides and `--dry-run`, combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModePolicy {
    config: WorkflowsConfig,
    force_dry_run: bool,
}

impl ModePolicy {
    pub fn new(config: WorkflowsConfig) -> ModePolicy {
        ModePolicy {
            config,
            force_dry_run: false,
        }
    }

    pub fn from_config(config: &Config) -> ModePolicy {
        ModePolicy::new(config.workflows)
    }

    /// With `force`, every workflow that is on runs in dry-run (off stays off).
    pub fn forcing_dry_run(mut self, force: bool) -> ModePolicy {
        self.force_dry_run = force;
        self
    }

    pub fn forces_dry_run(&self) -> bool {
        self.force_dry_run
    }

    pub fn config(&self) -> &WorkflowsConfig {
        &self.config
    }

    /// The mode in force for `workflow`, reading the store's override.
    pub fn effective(
        &self,
        store: &Store,
        workflow: Workflow,
    ) -> Result<EffectiveMode, StoreError> {
        let stored = store.workflow_mode_override(workflow)?;
        Ok(self.combine(workflow, stored))
    }

    /// Every workflow's mode in force, in [`WORKFLOWS`] order.
    pub fn all(&self, store: &Store) -> Result<Vec<EffectiveMode>, StoreError> {
        WORKFLOWS
            .iter()
            .map(|&w| self.effective(store, w))
            .collect()
    }

    /// Switches `workflow` to `to` (`None`: back to the config) for every
    /// process on `store`, logged under `analyst`.
    pub fn switch(
        &self,
        store: &mut Store,
        workflow: Workflow,
        to: Option<WorkflowMode>,
        analyst: &str,
        now: DateTime<Utc>,
    ) -> Result<SwitchOutcome, StoreError> {
        store.switch_workflow(
            &WorkflowSwitch {
                workflow,
                to,
                config_mode: self.config.get(workflow),
                analyst,
            },
            now,
        )
    }

    fn combine(&self, workflow: Workflow, stored: Option<WorkflowModeOverride>) -> EffectiveMode {
        let (set, source) = match stored {
            Some(o) => (
                o.mode,
                ModeSource::Store {
                    by: o.changed_by,
                    at: o.changed_at,
                },
            ),
            None => (self.config.get(workflow), ModeSource::Config),
        };
        let forced = self.force_dry_run && set == WorkflowMode::On;
        EffectiveMode {
            workflow,
            mode: if forced { WorkflowMode::DryRun } else { set },
            set,
            source,
            forced_dry_run: forced,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    #[test]
    fn the_store_overrides_the_config_and_dry_run_holds_back_only_what_is_on() {
        let mut store = Store::open_in_memory().unwrap();
        let mut config = WorkflowsConfig::all(WorkflowMode::DryRun);
        config.baseline = WorkflowMode::On;
        config.bursts = WorkflowMode::Off;
        let policy = ModePolicy::new(config);
        let modes = |p: &ModePolicy, s: &Store| -> Vec<WorkflowMode> {
            p.all(s).unwrap().iter().map(|m| m.mode).collect()
        };
        assert_eq!(
            modes(&policy, &store),
            [
                WorkflowMode::On,
                WorkflowMode::Off,
                WorkflowMode::DryRun,
                WorkflowMode::DryRun
            ]
        );
        policy
            .switch(
                &mut store,
                Workflow::Token,
                Some(WorkflowMode::On),
                "alice",
                now(),
            )
            .unwrap();
        let token = policy.effective(&store, Workflow::Token).unwrap();
        assert_eq!(token.mode, WorkflowMode::On);
        assert_eq!(token.delivery(), Some(Delivery::Live));
        assert_eq!(token.origin(), "set by alice 2026-11-21 12:00 UTC");

        let forced = policy.forcing_dry_run(true);
        assert_eq!(
            modes(&forced, &store),
            [
                WorkflowMode::DryRun,
                WorkflowMode::Off,
                WorkflowMode::DryRun,
                WorkflowMode::DryRun
            ]
        );
        let token = forced.effective(&store, Workflow::Token).unwrap();
        assert!(token.forced_dry_run);
        assert_eq!(token.delivery(), Some(Delivery::DryRun));
        assert!(token.origin().ends_with("on held in dry-run by --dry-run"));

        let bursts = policy.effective(&store, Workflow::Burst).unwrap();
        assert_eq!(bursts.delivery(), None);
        let message = bursts.off_message();
        assert!(
            message.starts_with(
                "the bursts workflow is off (workflows.bursts = \"off\" in the config)"
            ),
            "{message}"
        );
        assert!(message.contains("soc-tui workflows set bursts dry-run"));
    }
}
