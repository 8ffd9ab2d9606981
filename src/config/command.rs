//! `soc-tui config init | check | path`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Config, ConfigError, EXAMPLE_CONFIG, summary};
use crate::paths::Paths;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented example config to the config path.
    ///
    /// Every key is listed with its default value and an explanation, so the
    /// file works as it is (no remote service configured) and you only edit
    /// what you need. The file is created readable by you only (0600 on Unix),
    /// along with any missing parent directories. Secrets do not go in this
    /// file: store them with `soc-tui auth set <name>`.
    Init {
        /// Replace an existing config file instead of refusing.
        #[arg(long)]
        force: bool,
    },

    /// Validate the config file and summarize what it configures.
    ///
    /// Unknown keys, values of the wrong type and bad values (URLs, durations,
    /// account ids, conflicting settings) are reported with the key, line and
    /// column. Prints `ok: <path>` and one line per service on success; exits
    /// non-zero if the file is missing or invalid.
    Check,

    /// Print the path of the config file in force.
    ///
    /// That is `--config`, else `SOC_TUI_CONFIG`, else `config.toml` in the
    /// platform config directory. The file need not exist.
    Path,
}

pub fn run(cmd: ConfigCommand, paths: &Paths) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Init { force } => {
            init(&paths.config_file, force)?;
            println!("wrote {}", paths.config_file.display());
            println!("edit it, then run `soc-tui config check`");
        }
        ConfigCommand::Check => check(&paths.config_file)?,
        ConfigCommand::Path => println!("{}", paths.config_file.display()),
    }
    Ok(())
}

fn check(path: &Path) -> anyhow::Result<()> {
    let config = match Config::load(path) {
        Err(ConfigError::NotFound { .. }) => bail!(
            "config file {} does not exist; create a commented example with `soc-tui config init`",
            path.display()
        ),
        other => other?,
    };
    println!("ok: {}", path.display());
    for (section, description) in summary(&config) {
        println!("  {section:<11} {description}");
    }
    Ok(())
}

/// Writes the example config to `path`, creating parent directories.
pub(crate) fn init(path: &Path, force: bool) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating config directory {}", parent.display()))?;
    }
    if force {
        replace_atomically(path)
    } else {
        match create_private(path) {
            Ok(file) => write_example(file, path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "config file {} already exists; keep it (check it with `soc-tui config check`) \
                 or pass --force to replace it with the example",
                path.display()
            ),
            Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
        }
    }
}

/// Writes a sibling temp file and renames it over `path`, so an interrupted
/// `init --force` never leaves a half-written config.
fn replace_atomically(path: &Path) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?;
    let mut temp_name = file_name.to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = create_private(&temp)
        .with_context(|| format!("creating {}", temp.display()))
        .and_then(|file| write_example(file, &temp))
        .and_then(|()| {
            std::fs::rename(&temp, path).with_context(|| format!("replacing {}", path.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn write_example(mut file: File, path: &Path) -> anyhow::Result<()> {
    file.write_all(EXAMPLE_CONFIG.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Creates a new file that only the owner can read (0600 on Unix); fails if it exists.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
