//! TOML configuration. PLACEHOLDER: implemented by the config work item.

use clap::Subcommand;

use crate::paths::Paths;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file path in force.
    Path,
}

pub fn run(cmd: ConfigCommand, paths: &Paths) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Path => println!("{}", paths.config_file.display()),
    }
    Ok(())
}
