//! TOML configuration: the `Config` type, loading with file:line errors, and
//! the `soc-tui config` subcommand.
//!
//! Every section has defaults, so an empty file is a valid config: embedded
//! store, no remote service configured. Unknown keys are errors. Secrets are
//! never read from here (see `crate::secrets`); a key that looks like one is
//! rejected with a pointer to `soc-tui auth set`.
//!
//! Single values are validated while they are deserialized (`values.rs`), so
//! toml's span locates them; cross-field rules live in `validate.rs` and are
//! located through `source_map.rs`. `SOC_TUI__<SECTION>__<KEY>` variables
//! are applied over the file before either check (`env.rs`), and every
//! setting's origin is kept for `config show` (`provenance.rs`).

mod action_kinds;
mod command;
mod env;
mod error;
mod investigation;
mod outbox;
mod provenance;
mod runtime;
mod secret_keys;
mod show;
mod sinks;
mod source_map;
mod sources;
mod summary;
mod ui;
mod validate;
pub(crate) use validate::is_uuid;
mod values;
mod workflows;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::de::DeTable;

pub use action_kinds::ActionKinds;
pub(crate) use command::replace_private;
pub use command::{ConfigCommand, ENV_HELP, run};
pub use env::{ENV_PREFIX, EnvOverride, EnvOverrides};
pub use error::{ConfigError, InvalidConfig, Location};
pub use investigation::{
    IdentityAliases, InvestigationConfig, WebhookAuthMode, WebhookConfig, WebhookFieldMap,
};
pub use outbox::OutboxConfig;
pub use provenance::{Origin, Provenance, Setting, SettingsError, settings};
pub use runtime::{
    AgentConfig, AgentProvider, AnalystConfig, BaselineEngine, ChecksConfig, DEFAULT_MAX_TOKENS,
    HttpConfig,
};
pub use sinks::{
    ConfluenceConfig, LinearConfig, LinearLabels, LinearPriorities, ObjectLockMode,
    PagerDutyConfig, PagerDutySeverities, S3Config,
};
pub use sources::{
    AxiomConfig, CloudflareApiVersion, CloudflareConfig, DatadogConfig, DatadogSite,
};
pub use summary::summary;
pub use ui::UiConfig;
pub use values::{AccountId, BaseUrl, CredentialName, Email, HumanDuration};
pub use workflows::{WORKFLOWS, WorkflowMode, WorkflowsConfig, parse_workflow, workflow_key};

/// Whether `name` can name a theme (`[ui] theme`, `--theme`): a plain
/// name, never a path.
pub fn is_theme_name(name: &str) -> bool {
    values::is_simple_name(name)
}

use env::EnvSpans;
use secret_keys::{is_vocabulary_key, looks_like_secret, secret_env_message, secret_key_message};
use source_map::SourceMap;

/// The commented example written by `soc-tui config init`: every key, at its default.
pub const EXAMPLE_CONFIG: &str = include_str!("../../assets/config.example.toml");

/// A config file is a few kilobytes; anything this big is the wrong file.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a table of config sections")]
pub struct Config {
    pub analyst: AnalystConfig,
    pub cloudflare: CloudflareConfig,
    pub datadog: DatadogConfig,
    pub axiom: AxiomConfig,
    pub confluence: ConfluenceConfig,
    pub linear: LinearConfig,
    pub pagerduty: PagerDutyConfig,
    pub s3: S3Config,
    pub checks: ChecksConfig,
    pub http: HttpConfig,
    pub outbox: OutboxConfig,
    pub webhook: WebhookConfig,
    pub investigation: InvestigationConfig,
    pub ui: UiConfig,
    /// `[workflows]`: off, dry-run or on per workflow (default dry-run).
    pub workflows: WorkflowsConfig,
    /// `[agents.<name>]` tables; an agent not listed uses the heuristic defaults.
    pub agents: BTreeMap<String, AgentConfig>,
}

/// A config and where each of its settings came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub provenance: Provenance,
}

impl Config {
    /// Reads and validates the config file at `path`, with this process's
    /// `SOC_TUI__...` variables applied over it; a missing file is an error.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_config_text(path)?;
        let origin = path.display().to_string();
        Ok(Config::from_sources(&text, &origin, &EnvOverrides::from_process())?.config)
    }

    /// Like [`Config::load`], but a missing file means the defaults (the
    /// variables still apply).
    pub fn load_or_default(path: &Path) -> Result<Config, ConfigError> {
        Ok(Config::load_layers(path, &EnvOverrides::from_process())?.config)
    }

    /// The config in force: the defaults, the file at `path` if it exists,
    /// and `env` over both; with each setting's origin.
    pub fn load_layers(path: &Path, env: &EnvOverrides) -> Result<LoadedConfig, ConfigError> {
        let origin = path.display().to_string();
        match read_config_text(path) {
            Ok(text) => Config::from_sources(&text, &origin, env),
            Err(ConfigError::NotFound { .. }) => {
                let loaded = Config::from_sources("", &origin, env)?;
                Ok(LoadedConfig {
                    config: loaded.config,
                    provenance: loaded.provenance.without_file(),
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Parses and validates config text; `origin` names it in errors (usually the path).
    /// No environment variables are read.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        Ok(Config::from_sources(text, origin, &EnvOverrides::none())?.config)
    }

    /// Parses config text, applies `env` over it, and validates the result.
    /// Errors name the file's line, or the variable that set the bad value.
    pub fn from_sources(
        text: &str,
        origin: &str,
        env: &EnvOverrides,
    ) -> Result<LoadedConfig, ConfigError> {
        let invalid = |location: Option<Location>, key: Option<&str>, message: String| {
            ConfigError::Invalid(Box::new(InvalidConfig {
                origin: origin.to_owned(),
                location,
                key: key.map(str::to_owned),
                env_var: None,
                message,
            }))
        };
        let invalid_env = |var: &str, key: Option<String>, message: String| {
            ConfigError::Invalid(Box::new(InvalidConfig {
                origin: origin.to_owned(),
                location: None,
                key,
                env_var: Some(var.to_owned()),
                message,
            }))
        };
        if let Some(problem) = env.first_problem() {
            return Err(invalid_env(
                &problem.var,
                problem.key.clone(),
                problem.message.clone(),
            ));
        }

        let root = DeTable::parse(text).map_err(|err| {
            let location = err.span().map(|span| Location::of_offset(text, span.start));
            invalid(location, None, format!("invalid TOML: {}", err.message()))
        })?;
        let root_span = root.span();
        let mut table = root.into_inner();
        let map = SourceMap::index(text, &table);

        if let Some((path, _, span)) = map
            .value_keys()
            .filter(|(path, name, _)| looks_like_secret(name) && !is_vocabulary_key(path))
            .min_by_key(|(_, _, span)| span.start)
        {
            let location = Some(map.location(span.start));
            return Err(invalid(location, Some(path), secret_key_message(path)));
        }
        let spans = if env.iter().next().is_none() {
            EnvSpans::default()
        } else {
            let spans = env
                .apply(&mut table, text.len(), &default_tree())
                .map_err(|problem| invalid_env(&problem.var, problem.key, problem.message))?;
            refuse_secrets_from_env(text, &table, env, &spans).map_err(|(var, path)| {
                invalid_env(&var, Some(path.clone()), secret_env_message(&path))
            })?;
            spans
        };

        let merged = toml::Spanned::new(root_span, table);
        let config = Config::deserialize(toml::de::Deserializer::from(merged)).map_err(|err| {
            let start = err.span().map(|span| span.start);
            let message = describe_serde_error(err.message());
            if let Some(entry) = start
                .and_then(|offset| spans.find(offset))
                .and_then(|index| env.get(index))
            {
                return invalid_env(entry.var(), Some(entry.key()), message);
            }
            invalid(
                start.map(|offset| map.location(offset)),
                start.and_then(|offset| map.key_at(offset)),
                message,
            )
        })?;

        validate::validate(&config).map_err(|violation| {
            let key = violation
                .keys
                .iter()
                .find(|key| env.setting(key).is_some() || map.key_span(key).is_some())
                .or(violation.keys.first())
                .map(String::as_str);
            if let Some(entry) = key.and_then(|key| env.setting(key)) {
                return invalid_env(entry.var(), key.map(str::to_owned), violation.message);
            }
            let location = key.and_then(|key| map.locate_key(key));
            invalid(location, key, violation.message)
        })?;
        let provenance = Provenance::new(origin, &map, env);
        Ok(LoadedConfig { config, provenance })
    }

    /// The named agent's settings, or the built-in heuristic agent if it is not configured.
    pub fn agent(&self, name: &str) -> AgentConfig {
        self.agents.get(name).cloned().unwrap_or_default()
    }
}

/// The secret-key check for what the variables put in (their own key, or
/// the keys of an inline table they hold): `(variable, key)` of the first
/// secret-looking one. Only keys that hold a value count, as in the file:
/// `[agents.token-watch]` is a name.
fn refuse_secrets_from_env(
    text: &str,
    merged: &DeTable<'_>,
    env: &EnvOverrides,
    spans: &EnvSpans,
) -> Result<(), (String, String)> {
    let map = SourceMap::index(text, merged);
    let found = map
        .value_keys()
        .filter(|(path, name, _)| looks_like_secret(name) && !is_vocabulary_key(path))
        .find_map(|(path, _, span)| Some((path, env.get(spans.find(span.start)?)?)));
    match found {
        Some((path, entry)) => Err((entry.var().to_owned(), path.to_owned())),
        None => Ok(()),
    }
}

/// The defaults as a TOML table: what type each key holds, for reading a
/// variable's text. Serializing plain data cannot fail; if it ever did, the
/// variables would only lose their typing hints.
fn default_tree() -> toml::Table {
    toml::Table::try_from(Config::default()).unwrap_or_default()
}

/// The file's text, refused beyond [`MAX_CONFIG_BYTES`] or when not UTF-8;
/// [`ConfigError::NotFound`] when there is no file.
pub(crate) fn read_config_text(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|err| ConfigError::NotUtf8 {
        path: path.to_path_buf(),
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Rewords serde's messages for people editing TOML: keys, not fields; TOML
/// type names, not Rust ones. Anything else passes through unchanged.
fn describe_serde_error(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        if let Some((field, allowed)) = rest
            .split_once(", expected one of ")
            .or_else(|| rest.split_once(", expected "))
        {
            return format!("unknown key {field}; allowed keys here: {allowed}");
        }
        if let Some((field, _)) = rest.split_once(", there are no fields") {
            return format!("unknown key {field}; this table takes no keys");
        }
    }
    let message = message
        .replace("invalid type: sequence,", "invalid type: array,")
        .replace("invalid type: map,", "invalid type: table,");
    let rust_types = [
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
    ];
    match rust_types.iter().find(|(rust, _)| message.ends_with(rust)) {
        Some((rust, toml)) => format!("{}{toml}", &message[..message.len() - rust.len()]),
        None => message,
    }
}

#[cfg(test)]
mod tests;
