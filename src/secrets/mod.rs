//! Credentials. PLACEHOLDER: implemented by the credentials work item.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Show which services have a credential and where it comes from.
    Status,
}

pub fn run(cmd: AuthCommand) -> anyhow::Result<()> {
    match cmd {
        AuthCommand::Status => Ok(()),
    }
}
