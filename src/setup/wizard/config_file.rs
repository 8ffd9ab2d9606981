//! The config file as the wizard edits it: a `toml_edit` document, so the
//! user's comments, key order and other keys survive; every change is
//! checked by `Config::from_toml_str` before it is kept, and the file is
//! replaced atomically (a sibling temp file, owner-only, renamed over it).

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, Value};

use crate::config::{Config, ConfigError, EXAMPLE_CONFIG, read_config_text, replace_private};

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error(
        "the config file is not valid, so the wizard cannot edit it safely: {0}; fix it \
         (`soc-tui config check` shows where) and run `soc-tui setup` again"
    )]
    Invalid(#[source] ConfigError),
    #[error("{path}: cannot read it as TOML: {message}")]
    Unparsable { path: PathBuf, message: String },
    #[error(
        "{path}: {table} is not a table, so {table}.{key} cannot be set; make it a [{table}] section"
    )]
    NotATable {
        path: PathBuf,
        table: &'static str,
        key: &'static str,
    },
    #[error("{path}: cannot write the config file: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One change to a `[table] key`.
#[derive(Debug, Clone)]
pub enum Edit {
    Set {
        table: &'static str,
        key: &'static str,
        value: Value,
    },
    Remove {
        table: &'static str,
        key: &'static str,
    },
}

impl Edit {
    pub fn text(table: &'static str, key: &'static str, value: &str) -> Edit {
        Edit::Set {
            table,
            key,
            value: Value::from(value),
        }
    }

    pub fn flag(table: &'static str, key: &'static str, value: bool) -> Edit {
        Edit::Set {
            table,
            key,
            value: Value::from(value),
        }
    }

    pub fn list(table: &'static str, key: &'static str, items: &[String]) -> Edit {
        let mut array = Array::new();
        for item in items {
            array.push(item.as_str());
        }
        Edit::Set {
            table,
            key,
            value: Value::Array(array),
        }
    }

    pub fn remove(table: &'static str, key: &'static str) -> Edit {
        Edit::Remove { table, key }
    }
}

pub struct ConfigFile {
    path: PathBuf,
    doc: DocumentMut,
    /// The text as read (or the example, for a new file), to tell whether anything changed.
    original: String,
}

impl ConfigFile {
    /// The file at `path` and the config it holds; a missing file starts
    /// from the commented example (`soc-tui config init`'s), which holds
    /// the defaults.
    pub fn open(path: &Path) -> Result<(ConfigFile, Config), ConfigFileError> {
        let text = match read_config_text(path) {
            Ok(text) => text,
            Err(ConfigError::NotFound { .. }) => EXAMPLE_CONFIG.to_owned(),
            Err(other) => return Err(ConfigFileError::Invalid(other)),
        };
        let config = Config::from_toml_str(&text, &path.display().to_string())
            .map_err(ConfigFileError::Invalid)?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ConfigFileError::Unparsable {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok((
            ConfigFile {
                path: path.to_path_buf(),
                doc,
                original: text,
            },
            config,
        ))
    }

    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Whether the document differs from the file as read.
    pub fn changed(&self) -> bool {
        self.text() != self.original
    }

    /// Applies `edits` to a copy and keeps it only if the result is a valid
    /// config; returns that config, or the validator's error (key, line, fix).
    pub fn try_apply(
        &mut self,
        edits: &[Edit],
    ) -> Result<Result<Config, ConfigError>, ConfigFileError> {
        let mut trial = self.doc.clone();
        for edit in edits {
            apply(&mut trial, edit, &self.path)?;
        }
        let text = trial.to_string();
        match Config::from_toml_str(&text, &self.path.display().to_string()) {
            Ok(config) => {
                self.doc = trial;
                Ok(Ok(config))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// Writes the document, re-validated, over the file: a sibling temp file
    /// readable by the owner only, synced, then renamed over the config.
    pub fn write(&self) -> Result<(), ConfigFileError> {
        let text = self.text();
        Config::from_toml_str(&text, &self.path.display().to_string())
            .map_err(ConfigFileError::Invalid)?;
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| self.write_failed(source))?;
        }
        replace_private(&self.path, text.as_bytes()).map_err(|source| self.write_failed(source))
    }

    fn write_failed(&self, source: std::io::Error) -> ConfigFileError {
        ConfigFileError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

fn apply(doc: &mut DocumentMut, edit: &Edit, path: &Path) -> Result<(), ConfigFileError> {
    match edit {
        Edit::Set { table, key, value } => {
            if doc.get(table).is_none() {
                doc.insert(table, Item::Table(Table::new()));
            }
            let not_a_table = || ConfigFileError::NotATable {
                path: path.to_path_buf(),
                table,
                key,
            };
            let section = doc
                .get_mut(table)
                .and_then(Item::as_table_like_mut)
                .ok_or_else(not_a_table)?;
            let mut value = value.clone();
            match section.get_mut(key) {
                // Replaced in place: the key keeps the comment lines above
                // it, the value its spacing and trailing `# comment`.
                Some(item) => {
                    if let Some(old) = item.as_value() {
                        *value.decor_mut() = old.decor().clone();
                    }
                    *item = Item::Value(value);
                }
                None => {
                    section.insert(key, Item::Value(value));
                }
            }
        }
        Edit::Remove { table, key } => {
            if let Some(section) = doc.get_mut(table).and_then(Item::as_table_like_mut) {
                section.remove(key);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_FILE: &str = "\
# my own notes about this install
[analyst]
name = \"alice\" # who signs the log

[cloudflare]
# accounts we watch
account_ids = [] # none yet
api_base = \"http://127.0.0.1:4010\"

[http]
max_retries = 1
";

    #[test]
    fn edits_keep_comments_order_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, USER_FILE).unwrap();
        let (mut file, config) = ConfigFile::open(&path).unwrap();
        assert_eq!(config.http.max_retries, 1);
        assert!(!file.changed());
        let applied = file
            .try_apply(&[
                Edit::list(
                    "cloudflare",
                    "account_ids",
                    &["0123456789abcdef0123456789abcdef".to_owned()],
                ),
                Edit::text("confluence", "base_url", "https://x.atlassian.net/wiki"),
                Edit::text("confluence", "space_key", "SEC"),
                Edit::text("confluence", "email", "soc@example.com"),
            ])
            .unwrap()
            .unwrap();
        assert_eq!(applied.cloudflare.account_ids.len(), 1);
        assert!(file.changed());
        file.write().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        for kept in [
            "# my own notes about this install",
            "name = \"alice\" # who signs the log",
            "# accounts we watch",
            "account_ids = [\"0123456789abcdef0123456789abcdef\"] # none yet",
            "api_base = \"http://127.0.0.1:4010\"",
            "max_retries = 1",
        ] {
            assert!(written.contains(kept), "{kept:?} lost:\n{written}");
        }
        assert!(
            written.contains("[confluence]\nbase_url = \"https://x.atlassian.net/wiki\""),
            "{written}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn an_edit_that_makes_the_config_invalid_is_refused_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, USER_FILE).unwrap();
        let (mut file, _) = ConfigFile::open(&path).unwrap();
        let refused = file
            .try_apply(&[Edit::text(
                "confluence",
                "base_url",
                "https://x.atlassian.net/wiki",
            )])
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(refused.contains("confluence.space_key"), "{refused}");
        assert!(!file.changed());
        let removed = file
            .try_apply(&[Edit::remove("analyst", "name")])
            .unwrap()
            .unwrap();
        assert_eq!(removed.analyst.name, None);
        assert!(!file.text().contains("alice"));
    }

    #[test]
    fn a_missing_file_starts_from_the_commented_example() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/config.toml");
        let (mut file, config) = ConfigFile::open(&path).unwrap();
        assert_eq!(config, Config::default());
        file.try_apply(&[Edit::text("datadog", "site", "datadoghq.eu")])
            .unwrap()
            .unwrap();
        file.write().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with("# soc-tui configuration"), "{written}");
        assert!(written.contains("site = \"datadoghq.eu\""), "{written}");
        assert_eq!(
            Config::load(&path).unwrap().datadog.site.unwrap().domain(),
            "datadoghq.eu"
        );
    }

    #[test]
    fn an_invalid_existing_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[cloudflare]\naccount_ids = [\"nope\"]\n").unwrap();
        let error = ConfigFile::open(&path).err().unwrap().to_string();
        assert!(error.contains("cloudflare.account_ids"), "{error}");
        assert!(error.contains("soc-tui config check"), "{error}");
    }
}
