//! Where each setting in force came from: the built-in default, a line of
//! the config file, or a `SOC_TUI__...` variable. `config show` lists every
//! setting with its origin, derived from the serialized [`Config`], so a
//! section added later is listed without anyone touching this file.

use std::collections::BTreeMap;
use std::fmt;

use super::Config;
use super::env::EnvOverrides;
use super::source_map::{SourceMap, join_key};

/// The origin of one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { file: String, line: usize },
    Env { var: String },
}

/// `default`, `file:<path>:<line>` or `env:<VAR>`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { file, line } => write!(f, "file:{file}:{line}"),
            Origin::Env { var } => write!(f, "env:{var}"),
        }
    }
}

/// Which keys the file and the environment set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The file's name as errors give it (its path); `None` without a file.
    file: Option<String>,
    /// Every key written in the file, with its line.
    file_keys: BTreeMap<String, usize>,
    /// Key set by each variable, in variable order.
    env_keys: Vec<(String, String)>,
}

impl Provenance {
    pub(crate) fn new(file: &str, map: &SourceMap<'_>, env: &EnvOverrides) -> Provenance {
        Provenance {
            file: Some(file.to_owned()),
            file_keys: map
                .written_keys()
                .map(|(key, line)| (key.to_owned(), line))
                .collect(),
            env_keys: env
                .iter()
                .map(|entry| (entry.key(), entry.var().to_owned()))
                .collect(),
        }
    }

    /// Forgets the file (it did not exist; its empty text only stood in).
    pub(crate) fn without_file(mut self) -> Provenance {
        self.file = None;
        self.file_keys.clear();
        self
    }

    /// The config file the settings were read from, when there was one.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// `(key, variable)` for every `SOC_TUI__...` variable in force.
    pub fn env_overrides(&self) -> impl Iterator<Item = (&str, &str)> {
        self.env_keys
            .iter()
            .map(|(key, var)| (key.as_str(), var.as_str()))
    }

    /// Where `key` (dotted, as [`Setting::key`] spells it) came from. A
    /// variable wins over the file (it is applied over it); a variable that
    /// set a whole inline table or array is the origin of what is inside.
    pub fn origin(&self, key: &str) -> Origin {
        let from_env = self.env_keys.iter().find(|(set, _)| {
            key.strip_prefix(set.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        });
        if let Some((_, var)) = from_env {
            return Origin::Env { var: var.clone() };
        }
        match (&self.file, self.file_keys.get(key)) {
            (Some(file), Some(line)) => Origin::File {
                file: file.clone(),
                line: *line,
            },
            _ => Origin::Default,
        }
    }
}

/// One setting in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted key: `http.request_timeout`, `agents.investigator.model`.
    pub key: String,
    /// The value as it would be written in the file (arrays whole).
    pub value: toml::Value,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error)]
#[error("the config cannot be listed: {0}")]
pub struct SettingsError(#[from] toml::ser::Error);

/// Every setting of `config` in file order of sections, with its origin.
/// Optional keys that are not set are not settings in force and are left out.
pub fn settings(config: &Config, provenance: &Provenance) -> Result<Vec<Setting>, SettingsError> {
    let table = toml::Table::try_from(config)?;
    let mut out = Vec::new();
    collect(&table, "", provenance, &mut out);
    Ok(out)
}

fn collect(table: &toml::Table, prefix: &str, provenance: &Provenance, out: &mut Vec<Setting>) {
    for (name, value) in table {
        let key = join_key(prefix, name);
        match value {
            toml::Value::Table(inner) => collect(inner, &key, provenance, out),
            leaf => out.push(Setting {
                origin: provenance.origin(&key),
                key,
                value: leaf.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_render_as_documented() {
        assert_eq!(Origin::Default.to_string(), "default");
        let file = Origin::File {
            file: "/etc/soc.toml".into(),
            line: 7,
        };
        assert_eq!(file.to_string(), "file:/etc/soc.toml:7");
        let env = Origin::Env {
            var: "SOC_TUI__HTTP__MAX_RETRIES".into(),
        };
        assert_eq!(env.to_string(), "env:SOC_TUI__HTTP__MAX_RETRIES");
    }

    #[test]
    fn the_environment_wins_over_the_file_and_covers_inline_values() {
        let provenance = Provenance {
            file: Some("c.toml".into()),
            file_keys: BTreeMap::from([
                ("http.max_retries".to_owned(), 3),
                ("webhook.fields.actor".to_owned(), 9),
            ]),
            env_keys: vec![
                (
                    "http.max_retries".into(),
                    "SOC_TUI__HTTP__MAX_RETRIES".into(),
                ),
                ("webhook.fields".into(), "SOC_TUI__WEBHOOK__FIELDS".into()),
            ],
        };
        assert!(matches!(
            provenance.origin("http.max_retries"),
            Origin::Env { .. }
        ));
        assert!(matches!(
            provenance.origin("webhook.fields.actor"),
            Origin::Env { .. }
        ));
        assert_eq!(provenance.origin("http.proxy"), Origin::Default);
        let without = provenance.clone().without_file();
        assert_eq!(without.file(), None);
    }
}
