//! `soc-tui config init | check | path | show | prompts`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Config, EXAMPLE_CONFIG, EnvOverrides, summary};
use crate::investigate::llm::templates::{self, PromptOrigin, Written};
use crate::paths::Paths;

/// Shown under `soc-tui config --help`.
pub const ENV_HELP: &str = "\
Environment overrides: any key can be set with SOC_TUI__<SECTION>__<KEY>, the key path in upper case \
with `__` between segments, applied over the file before it is validated. For example \
SOC_TUI__DATADOG__SITE=datadoghq.eu, SOC_TUI__HTTP__REQUEST_TIMEOUT=45s, \
SOC_TUI__AGENTS__INVESTIGATOR__MODEL=llama3.1. Text keys take the value as it is; numbers, true/false \
and arrays are written as in TOML (SOC_TUI__LINEAR__LABELS__BASELINE='[\"soc\"]'). A bad value is \
reported with the variable's name. Secrets are refused here as in the file: they have their own \
variables (`soc-tui auth --help`). `soc-tui config show --effective` prints every setting with its \
origin: default, file:<path>:<line> or env:<VAR>.";

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

    /// Print the settings in force and where each came from.
    ///
    /// One `key = value  # origin` line per setting, the origin being
    /// `default`, `file:<path>:<line>` or `env:<VAR>` (a SOC_TUI__<SECTION>__<KEY>
    /// variable). Without --effective only the settings the file and the
    /// environment set are listed. With --effective every setting is, and also
    /// each investigator prompt (default or the override file), the detection
    /// rules (default or <config dir>/rules.toml) and where each credential
    /// comes from (env, keychain or missing; never its value). Exits non-zero
    /// when a prompt override or the rules file cannot be used.
    Show {
        /// Every setting, prompt, rules file and credential source, defaults included.
        #[arg(long)]
        effective: bool,
        /// Print JSON: {"config_file", "environment", "settings": [{"key", "value", "origin"}], ...}.
        #[arg(long)]
        json: bool,
    },

    /// List the investigator's prompts and which text of each is in force.
    ///
    /// The prompts are Markdown files: the built-in ones are embedded, and a
    /// file of the same name in <config dir>/prompts/ replaces one. The code
    /// fills the {{placeholders}} (the answer format, the console's findings,
    /// the fenced audit events), so an override must keep them; the answer
    /// format must still name every key of the JSON answer, which the parser
    /// checks whatever the prompt says. A broken override is an error naming
    /// the file. Exits non-zero when an override cannot be used.
    Prompts {
        /// Write the built-in prompts into <config dir>/prompts/ for editing;
        /// files already there are kept, never overwritten.
        #[arg(long)]
        write_defaults: bool,
    },
}

pub fn run(cmd: ConfigCommand, paths: &Paths) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Init { force } => {
            init(&paths.config_file, force)?;
            println!("wrote {}", paths.config_file.display());
            println!("edit it, then run `soc-tui config check`");
        }
        ConfigCommand::Check => check(paths)?,
        ConfigCommand::Path => println!("{}", paths.config_file.display()),
        ConfigCommand::Show { effective, json } => super::show::run(paths, effective, json)?,
        ConfigCommand::Prompts { write_defaults } => prompts(paths, write_defaults)?,
    }
    Ok(())
}

fn check(paths: &Paths) -> anyhow::Result<()> {
    let path = &paths.config_file;
    let loaded = Config::load_layers(path, &EnvOverrides::from_process())?;
    if loaded.provenance.file().is_none() {
        bail!(
            "config file {} does not exist; create a commented example with `soc-tui config init`",
            path.display()
        );
    }
    // A broken prompt override stops the investigator as surely as a bad key.
    let mut overrides = Vec::new();
    for status in templates::survey(&paths.config_dir).0 {
        if let PromptOrigin::Override(_) = status.state? {
            overrides.push(status.file.name);
        }
    }
    println!("ok: {}", path.display());
    for (section, description) in summary(&loaded.config) {
        println!("  {section:<11} {description}");
    }
    for (key, var) in loaded.provenance.env_overrides() {
        println!("  {:<11} {var} sets {key}", "env");
    }
    println!(
        "  {:<11} {}",
        "prompts",
        if overrides.is_empty() {
            "built in (`soc-tui config prompts`)".to_owned()
        } else {
            format!("overridden: {}", overrides.join(", "))
        }
    );
    Ok(())
}

fn prompts(paths: &Paths, write_defaults: bool) -> anyhow::Result<()> {
    let dir = paths.config_dir.join(templates::PROMPTS_DIR);
    if write_defaults {
        let written = templates::write_defaults(&paths.config_dir)
            .with_context(|| format!("writing the built-in prompts to {}", dir.display()))?;
        for entry in written {
            match entry {
                Written::Created(path) => println!("wrote {}", path.display()),
                Written::Kept(path) => println!("kept {} (it exists)", path.display()),
            }
        }
        println!("edit them; `soc-tui config prompts` checks them\n");
    }
    println!("prompts (overrides are read from {})", dir.display());
    let (statuses, unused) = templates::survey(&paths.config_dir);
    let mut broken = Vec::new();
    for status in statuses {
        let state = match status.state {
            Ok(PromptOrigin::Default) => "default".to_owned(),
            Ok(PromptOrigin::Override(path)) => format!("override {}", path.display()),
            Err(err) => {
                let line = format!("BROKEN: {err}");
                broken.push(err);
                line
            }
        };
        println!("  {:<30} {state}", status.file.name);
        println!("  {:<30} {}", "", status.file.purpose);
    }
    for path in unused {
        // A file name in the user's directory: made safe for the terminal.
        println!(
            "  note: {} names no prompt and is not used (the names are listed above)",
            crate::sanitize::sanitize(&path.display().to_string())
        );
    }
    match broken.into_iter().next() {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
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

/// Replaces `path` with the example, so an interrupted `init --force` never
/// leaves a half-written config.
fn replace_atomically(path: &Path) -> anyhow::Result<()> {
    replace_private(path, EXAMPLE_CONFIG.as_bytes())
        .with_context(|| format!("replacing {}", path.display()))
}

fn write_example(mut file: File, path: &Path) -> anyhow::Result<()> {
    file.write_all(EXAMPLE_CONFIG.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Replaces `path` with `bytes` atomically: a hidden sibling temp file,
/// readable by the owner only, written and synced, then renamed over it.
/// The temp file is removed again when any step fails.
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let Some(file_name) = path.file_name() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        ));
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = create_private(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
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
