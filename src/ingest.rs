//! `soc-tui ingest`. PLACEHOLDER until the parsers and store land.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::paths::Paths;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files to load; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(_args: IngestArgs, _paths: &Paths) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ingest not wired yet")
}
