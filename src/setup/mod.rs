//! Guided setup and health checks: `soc-tui setup` (a terminal wizard that
//! writes the config and stores the secrets) and `soc-tui doctor` (one
//! harmless read per configured service, with the exact fix for each
//! problem).
//!
//! - [`check`]: the outcome of one probe and its status;
//! - [`classify`]: HTTP outcomes to statuses and fixes;
//! - [`probes`]: the per-service reads, run concurrently;
//! - [`report`]: the table and the `--json` document;
//! - [`wizard`]: the prompts, the config file editor;
//! - [`cli`]: the two subcommands.

pub mod check;
pub mod classify;
pub mod cli;
pub mod probes;
pub mod report;
pub mod wizard;

use std::path::Path;

pub use check::{Check, Status};
pub use report::DoctorReport;
pub use wizard::{WizardOutcome, run_wizard, run_wizard_with};

use crate::config::Config;
use crate::secrets::Resolver;

/// Probes every service `config` uses and reports on each.
pub fn doctor(
    config: &Config,
    config_path: &Path,
    secrets: &Resolver<'_>,
    data_dir: &Path,
) -> DoctorReport {
    let config_dir = config_path.parent().unwrap_or(Path::new("."));
    let plans = probes::plan(config, secrets, data_dir, config_dir);
    DoctorReport::new(config_path.display().to_string(), probes::run(plans))
}
