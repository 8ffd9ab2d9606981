//! `soc-tui workflows`: show each workflow's mode in force and where it
//! comes from; switch one (`set`) or return it to the config (`reset`).

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};

use super::{EffectiveMode, ModePolicy};
use crate::config::{Config, WorkflowMode, parse_workflow, workflow_key};
use crate::detect::Workflow;
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::store::Store;

#[derive(Debug, Args)]
#[command(after_help = "\
Modes: off (the workflow does not run), dry-run (it runs and stores its findings and drafts, and every \
request it would send is recorded as a dry-run outbox item, shown by `soc-tui outbox list` and \
`soc-tui outbox show ID`, never sent) and on (its requests are queued for delivery). A switch is \
stored in the store and overrides [workflows] in the config for every process on it (a running \
daemon follows it from its next run of that check); it is recorded in the analyst log. Each request \
follows the workflow that caused it: a finding's ticket, incident or archive object its check's \
workflow; a report's Confluence page `investigation`; a report's Linear ticket or PagerDuty event \
the workflow of the finding that started the investigation, else `investigation`.")]
pub struct WorkflowsArgs {
    #[command(subcommand)]
    pub command: Option<WorkflowsCommand>,
    /// Print the modes as JSON (without a subcommand).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// Each workflow's mode in force and where it comes from (the default).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Switch a workflow: off, dry-run or on.
    Set {
        /// baseline, bursts, tokens or investigation.
        #[arg(value_parser = parse_workflow)]
        workflow: Workflow,
        /// off, dry-run or on.
        #[arg(value_parser = parse_mode)]
        mode: WorkflowMode,
    },
    /// Drop the switch: the workflow follows [workflows] in the config again.
    Reset {
        #[arg(value_parser = parse_workflow)]
        workflow: Workflow,
    },
}

fn parse_mode(text: &str) -> Result<WorkflowMode, String> {
    text.parse()
}

pub fn run(args: WorkflowsArgs, paths: &Paths) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    let policy = ModePolicy::from_config(&config);
    paths.ensure_data_dir()?;
    let path = paths.store_file();
    let mut store =
        Store::open(&path).with_context(|| format!("opening the store {}", path.display()))?;
    match args.command {
        None => list(&policy, &store, args.json),
        Some(WorkflowsCommand::List { json }) => list(&policy, &store, json || args.json),
        Some(WorkflowsCommand::Set { workflow, mode }) => {
            switch(&policy, &mut store, &config, workflow, Some(mode))
        }
        Some(WorkflowsCommand::Reset { workflow }) => {
            switch(&policy, &mut store, &config, workflow, None)
        }
    }
}

fn list(policy: &ModePolicy, store: &Store, json: bool) -> Result<ExitCode> {
    let modes = policy.all(store)?;
    if json {
        println!("{}", crate::terminal_json::to_terminal_json(&modes)?);
    } else {
        print!("{}", table(&modes));
    }
    Ok(ExitCode::SUCCESS)
}

/// `WORKFLOW  MODE  FROM` lines.
pub fn table(modes: &[EffectiveMode]) -> String {
    let mut out = format!("{:<14} {:<8} FROM\n", "WORKFLOW", "MODE");
    for m in modes {
        out.push_str(&format!(
            "{:<14} {:<8} {}\n",
            workflow_key(m.workflow),
            m.mode.as_str(),
            m.origin()
        ));
    }
    out
}

fn switch(
    policy: &ModePolicy,
    store: &mut Store,
    config: &Config,
    workflow: Workflow,
    to: Option<WorkflowMode>,
) -> Result<ExitCode> {
    let analyst = config.analyst.resolved_name();
    let done = policy.switch(store, workflow, to, &analyst, Utc::now())?;
    let key = workflow_key(workflow);
    match (done.changed, to) {
        (false, Some(_)) => println!("{key} is already {}: nothing changed.", done.to),
        (false, None) => println!(
            "{key} already follows the config ({}): nothing changed.",
            done.to
        ),
        (true, Some(_)) => println!(
            "{key}: {} -> {} (recorded in the analyst log as {}).",
            done.from,
            done.to,
            sanitize(&analyst)
        ),
        (true, None) => println!(
            "{key}: {} -> {} from the config (recorded in the analyst log as {}).",
            done.from,
            done.to,
            sanitize(&analyst)
        ),
    }
    if done.changed && done.to == WorkflowMode::On {
        println!(
            "Its requests are now queued for delivery; the daemon (or `soc-tui outbox deliver`) sends them."
        );
    }
    Ok(ExitCode::SUCCESS)
}
