//! Builds an [`Investigator`] from the config: the `investigator` agent
//! (with its key from the keychain and its prompts from the config dir)
//! and the store.

use std::path::Path;

use crate::config::Config;
use crate::secrets::{Credential, Resolver, SecretsError};

use super::draft::{Investigator, SharedStore};
use super::live;
use super::llm::templates::{InvestigatorPrompts, PromptError};
use super::llm::{LlmAgent, LlmSetupError};

/// The agent name the investigation reads from `[agents.<name>]`.
pub const AGENT_NAME: &str = "investigator";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Agent(#[from] LlmSetupError),
    #[error("LLM agent key: {0}")]
    Key(#[from] SecretsError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

/// The investigator for `config`, reading credentials through `secrets`
/// and prompt overrides from `<config_dir>/prompts/` (only when a model
/// is configured: the heuristic engine sends no prompt).
pub fn investigator(
    config: &Config,
    config_dir: &Path,
    store: SharedStore,
    secrets: &Resolver<'_>,
) -> Result<Investigator, SetupError> {
    let agent_config = config.agent(AGENT_NAME);
    let agent = if agent_config.provider.is_remote() {
        // A local OpenAI-compatible server needs no key; Anthropic's API does,
        // and says so when the request is made without one.
        let key = match secrets.resolve(Credential::LlmApiKey) {
            Ok(found) => found.map(|(secret, _)| secret),
            Err(SecretsError::KeychainUnavailable { .. }) => None,
            Err(other) => return Err(other.into()),
        };
        LlmAgent::from_config(
            AGENT_NAME,
            &agent_config,
            config.http.max_retries,
            config.http.proxy.as_ref().map(|p| p.as_str()),
            key,
        )?
        .map(|agent| InvestigatorPrompts::load(config_dir).map(|p| agent.with_prompts(p)))
        .transpose()?
    } else {
        None
    };
    let mut investigator = Investigator::new(store, config.investigation.clone()).with_agent(agent);
    if config.investigation.live_queries {
        let (sources, notes) = live::sources(config, secrets);
        for note in notes {
            tracing::info!(%note, "investigation live queries");
        }
        investigator = investigator.with_live_sources(sources, config.http.request_timeout.get());
    }
    Ok(investigator)
}
