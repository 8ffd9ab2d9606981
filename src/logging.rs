//! Logging goes to a file in the data directory, never to the terminal:
//! the TUI owns the terminal, and audit-log text must not reach it unsanitized.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "soc-tui.log";

/// Installs the global subscriber writing to `<log_dir>/soc-tui.log`.
/// The filter comes from `SOC_TUI_LOG` (e.g. `debug`, `soc_tui=trace`), default `info`.
pub fn init(log_dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(log_dir)
        .with_context(|| format!("creating log directory {}", log_dir.display()))?;
    let path = log_dir.join(LOG_FILE);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let filter = EnvFilter::try_from_env("SOC_TUI_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // try_init: a second call (tests, nested commands) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(path)
}
