//! `[workflows]`: whether each workflow is off, runs without sending
//! (`dry-run`), or runs and sends (`on`). A new install, and a config
//! without the section, sends nothing: every workflow starts in `dry-run`.
//! The console and `soc-tui workflows set` override these per store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::detect::Workflow;

/// What a workflow does with what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum WorkflowMode {
    /// Does not run: the scheduler skips the check, the webhook refuses,
    /// findings start no investigation.
    Off,
    /// Runs fully and records every request it would send as `dry_run`:
    /// visible in the outbox, never sent.
    #[default]
    DryRun,
    /// Runs and queues its requests for delivery.
    On,
}

impl WorkflowMode {
    pub const ALL: [WorkflowMode; 3] = [WorkflowMode::Off, WorkflowMode::DryRun, WorkflowMode::On];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowMode::Off => "off",
            WorkflowMode::DryRun => "dry-run",
            WorkflowMode::On => "on",
        }
    }

    /// The next mode in `off -> dry-run -> on -> off` (`back`: the other way).
    pub fn cycle(self, back: bool) -> WorkflowMode {
        let i = WorkflowMode::ALL
            .iter()
            .position(|m| *m == self)
            .unwrap_or(1);
        let n = WorkflowMode::ALL.len();
        WorkflowMode::ALL[if back { (i + n - 1) % n } else { (i + 1) % n }]
    }
}

impl fmt::Display for WorkflowMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkflowMode {
    type Err = String;

    fn from_str(text: &str) -> Result<WorkflowMode, String> {
        WorkflowMode::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown workflow mode {:?}: expected \"off\", \"dry-run\" or \"on\"",
                    crate::sanitize::sanitize_with_limit(text, 40)
                )
            })
    }
}

impl TryFrom<String> for WorkflowMode {
    type Error = String;
    fn try_from(text: String) -> Result<WorkflowMode, String> {
        text.parse()
    }
}

impl From<WorkflowMode> for String {
    fn from(mode: WorkflowMode) -> String {
        mode.as_str().to_owned()
    }
}

/// `[workflows]`: one mode per workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [workflows] table")]
pub struct WorkflowsConfig {
    /// Hourly baseline anomalies: Linear tickets.
    pub baseline: WorkflowMode,
    /// Datadog bursts: PagerDuty incidents.
    pub bursts: WorkflowMode,
    /// Token watchdog: archive objects and Linear review tickets.
    pub tokens: WorkflowMode,
    /// Investigations (webhook, findings): Confluence pages and the
    /// escalations of reports.
    pub investigation: WorkflowMode,
}

impl WorkflowsConfig {
    /// Every workflow in `mode` (the demo turns everything on).
    pub fn all(mode: WorkflowMode) -> WorkflowsConfig {
        WorkflowsConfig {
            baseline: mode,
            bursts: mode,
            tokens: mode,
            investigation: mode,
        }
    }

    pub fn get(&self, workflow: Workflow) -> WorkflowMode {
        match workflow {
            Workflow::Baseline => self.baseline,
            Workflow::Burst => self.bursts,
            Workflow::Token => self.tokens,
            Workflow::Investigation => self.investigation,
        }
    }

    pub fn set(&mut self, workflow: Workflow, mode: WorkflowMode) {
        match workflow {
            Workflow::Baseline => self.baseline = mode,
            Workflow::Burst => self.bursts = mode,
            Workflow::Token => self.tokens = mode,
            Workflow::Investigation => self.investigation = mode,
        }
    }
}

/// The four workflows in the order they are listed everywhere.
pub const WORKFLOWS: [Workflow; 4] = [
    Workflow::Baseline,
    Workflow::Burst,
    Workflow::Token,
    Workflow::Investigation,
];

/// The workflow's key in `[workflows]` (and its name on the command line).
pub fn workflow_key(workflow: Workflow) -> &'static str {
    match workflow {
        Workflow::Baseline => "baseline",
        Workflow::Burst => "bursts",
        Workflow::Token => "tokens",
        Workflow::Investigation => "investigation",
    }
}

/// Reads a workflow's key (`bursts`); the finding names (`burst`) are
/// accepted too, since findings and the outbox show those.
pub fn parse_workflow(text: &str) -> Result<Workflow, String> {
    WORKFLOWS
        .into_iter()
        .find(|w| workflow_key(*w) == text || w.as_str() == text)
        .ok_or_else(|| {
            format!(
                "unknown workflow {:?}: expected baseline, bursts, tokens or investigation",
                crate::sanitize::sanitize_with_limit(text, 40)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_and_print_as_written_in_the_config() {
        for mode in WorkflowMode::ALL {
            assert_eq!(mode.as_str().parse::<WorkflowMode>(), Ok(mode));
        }
        let err = "enabled\u{1b}[2J".parse::<WorkflowMode>().unwrap_err();
        assert!(
            err.contains("expected \"off\", \"dry-run\" or \"on\""),
            "{err}"
        );
        assert!(!err.contains('\u{1b}'), "{err}");
    }

    #[test]
    fn cycling_goes_round_both_ways() {
        assert_eq!(WorkflowMode::Off.cycle(false), WorkflowMode::DryRun);
        assert_eq!(WorkflowMode::DryRun.cycle(false), WorkflowMode::On);
        assert_eq!(WorkflowMode::On.cycle(false), WorkflowMode::Off);
        assert_eq!(WorkflowMode::Off.cycle(true), WorkflowMode::On);
    }

    #[test]
    fn every_workflow_has_a_key_that_reads_back() {
        for w in WORKFLOWS {
            assert_eq!(parse_workflow(workflow_key(w)), Ok(w));
            assert_eq!(parse_workflow(w.as_str()), Ok(w));
        }
        assert!(
            parse_workflow("tokenz")
                .unwrap_err()
                .contains("expected baseline")
        );
    }
}
