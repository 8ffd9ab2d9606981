//! Where soc-tui keeps its files.
//!
//! Config: `--config` / `SOC_TUI_CONFIG`, else `<ProjectDirs config>/config.toml`.
//! Data (store, logs, archive): `--data-dir` / `SOC_TUI_DATA`, else `<ProjectDirs data>`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use directories::ProjectDirs;

#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file in force (may not exist yet).
    pub config_file: PathBuf,
    /// The directory user overrides (rules, keymap, themes, prompts) are read from.
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn resolve(config_file: Option<PathBuf>, data_dir: Option<PathBuf>) -> Result<Paths> {
        let dirs = ProjectDirs::from("dev", "soc-tui", "soc-tui");
        let config_file = match config_file {
            Some(p) => p,
            None => dirs
                .as_ref()
                .map(|d| d.config_dir().join("config.toml"))
                .ok_or_else(|| {
                    anyhow!("cannot find a home directory; pass --config or set SOC_TUI_CONFIG")
                })?,
        };
        let config_dir = config_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let data_dir = match data_dir {
            Some(p) => p,
            None => dirs
                .as_ref()
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| {
                    anyhow!("cannot find a home directory; pass --data-dir or set SOC_TUI_DATA")
                })?,
        };
        Ok(Paths {
            config_file,
            config_dir,
            data_dir,
        })
    }

    /// Creates the data directory (owner-only on Unix) and returns it.
    pub fn ensure_data_dir(&self) -> Result<&Path> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700));
        }
        Ok(&self.data_dir)
    }

    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("soc-tui.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }
}
