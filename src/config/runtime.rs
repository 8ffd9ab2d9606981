//! Sections about how soc-tui itself runs: `[analyst]`, `[checks]`, `[http]`
//! and `[agents.<name>]`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::values::{BaseUrl, HumanDuration};

/// `[analyst]`: who is at the keyboard, recorded in the analyst log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [analyst] table")]
pub struct AnalystConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AnalystConfig {
    /// The configured name, else `$USER` (`%USERNAME%` on Windows) read now, else "analyst".
    pub fn resolved_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        ["USER", "USERNAME"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .find(|name| !name.trim().is_empty())
            .unwrap_or_else(|| "analyst".to_owned())
    }
}

/// `[checks]`: how often each detection workflow runs and when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [checks] table")]
pub struct ChecksConfig {
    pub baseline_cadence: HumanDuration,
    pub bursts_cadence: HumanDuration,
    pub tokens_cadence: HumanDuration,
    /// Where the baseline's figures come from.
    pub baseline_engine: BaselineEngine,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            baseline_cadence: HumanDuration::from_secs(60 * 60),
            bursts_cadence: HumanDuration::from_secs(5 * 60),
            tokens_cadence: HumanDuration::from_secs(10 * 60),
            baseline_engine: BaselineEngine::Local,
        }
    }
}

/// `checks.baseline_engine`: `local` reads the store's hourly aggregates;
/// `axiom` ships events to the `[axiom]` dataset and queries it with APL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineEngine {
    #[default]
    Local,
    Axiom,
}

impl fmt::Display for BaselineEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BaselineEngine::Local => "local",
            BaselineEngine::Axiom => "axiom",
        })
    }
}

/// `[http]`: applies to every remote call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [http] table")]
pub struct HttpConfig {
    pub connect_timeout: HumanDuration,
    pub request_timeout: HumanDuration,
    /// Retries after the first attempt for timeouts, 429 and 5xx.
    pub max_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<BaseUrl>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: HumanDuration::from_secs(10),
            request_timeout: HumanDuration::from_secs(30),
            max_retries: 3,
            proxy: None,
        }
    }
}

/// `[agents.<name>]`, e.g. `[agents.investigator]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "an [agents.<name>] table")]
pub struct AgentConfig {
    pub provider: AgentProvider,
    /// Required for `openai` and `anthropic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Overrides the provider's URL, e.g. a local Ollama or vLLM server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrl>,
    pub timeout: HumanDuration,
    /// Output budget of one answer (the `max_tokens` of the request). The
    /// answer's JSON needs a few hundred; a model that reasons aloud needs more.
    pub max_tokens: u32,
}

impl AgentConfig {
    /// `base_url` if set, else the provider's public API; `None` for the heuristic engine.
    pub fn resolved_base_url(&self) -> Option<BaseUrl> {
        self.base_url
            .clone()
            .or_else(|| self.provider.default_base_url())
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            provider: AgentProvider::Heuristic,
            model: None,
            base_url: None,
            timeout: HumanDuration::from_secs(60),
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

/// `agents.<name>.max_tokens` when not set.
pub const DEFAULT_MAX_TOKENS: u32 = 2048;
/// Bounds of `agents.<name>.max_tokens`: below the floor no verdict fits,
/// above the ceiling no provider accepts it.
pub const MAX_TOKENS_RANGE: std::ops::RangeInclusive<u32> = 256..=200_000;

/// What produces an agent's verdicts. `heuristic` is built in and works offline;
/// `openai` also covers OpenAI-compatible servers (Ollama, vLLM, llama.cpp).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentProvider {
    #[default]
    Heuristic,
    OpenAi,
    Anthropic,
}

impl AgentProvider {
    pub fn default_base_url(self) -> Option<BaseUrl> {
        match self {
            AgentProvider::Heuristic => None,
            AgentProvider::OpenAi => Some(BaseUrl::builtin("https://api.openai.com/v1")),
            AgentProvider::Anthropic => Some(BaseUrl::builtin("https://api.anthropic.com/v1")),
        }
    }

    pub fn is_remote(self) -> bool {
        self != AgentProvider::Heuristic
    }
}

impl fmt::Display for AgentProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AgentProvider::Heuristic => "heuristic",
            AgentProvider::OpenAi => "openai",
            AgentProvider::Anthropic => "anthropic",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_resolve_the_provider_url_unless_overridden() {
        let heuristic = AgentConfig::default();
        assert_eq!(heuristic.resolved_base_url(), None);
        let openai = AgentConfig {
            provider: AgentProvider::OpenAi,
            ..AgentConfig::default()
        };
        assert_eq!(
            openai.resolved_base_url().unwrap().join("chat/completions"),
            "https://api.openai.com/v1/chat/completions"
        );
        let ollama = AgentConfig {
            base_url: Some(BaseUrl::try_from("http://127.0.0.1:11434/v1".to_owned()).unwrap()),
            ..openai
        };
        assert_eq!(
            ollama.resolved_base_url().unwrap().as_str(),
            "http://127.0.0.1:11434/v1"
        );
    }

    #[test]
    fn configured_analyst_name_wins_over_the_environment() {
        let named = AnalystConfig {
            name: Some("alice".into()),
        };
        assert_eq!(named.resolved_name(), "alice");
        assert!(!AnalystConfig::default().resolved_name().is_empty());
    }
}
