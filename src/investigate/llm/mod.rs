//! Optional LLM agents (DESIGN.md section 6): a second opinion on the
//! heuristic verdict from an OpenAI-compatible or Anthropic model.
//!
//! The model sees the sanitized timeline fenced as untrusted data; its
//! answer is validated ([`schema`]) and vetted ([`vet`]) before it may stand
//! as the draft's verdict. Anything wrong (no answer in time, an HTTP
//! error, malformed JSON, invented event ids, signs that injected text
//! steered it) falls back to the heuristic verdict, with the reason in the
//! draft. Model output is advisory either way: nothing is published
//! without an analyst's approval.

pub mod anthropic;
pub mod openai;
pub mod prompt;
pub mod schema;
pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{AgentConfig, AgentProvider};
use crate::secrets::{Credential, Secret};
use crate::sources::http::{HttpClient, HttpError, HttpPolicy, HttpSetupError, Service};

use super::markers::{Baseline, MarkerKind};
use super::timeline::Timeline;
use super::verdict::Assessment;
use prompt::Prompt;
use schema::{AnswerError, ModelAnswer, parse_answer};
use templates::InvestigatorPrompts;

/// Output budget per answer when the agent's `max_tokens` is not set; the
/// schema needs far less.
pub const MAX_OUTPUT_TOKENS: u32 = crate::config::DEFAULT_MAX_TOKENS;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the provider's response is unusable: {0}")]
    BadResponse(String),
    #[error(
        "no API key for the LLM agent: set {} or run `soc-tui auth set {}`",
        Credential::LlmApiKey.env_var(),
        Credential::LlmApiKey.name()
    )]
    MissingKey,
    #[error("no answer within {0}s")]
    Timeout(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum LlmSetupError {
    #[error("agent {agent}: provider {provider} needs `model`")]
    NoModel {
        agent: String,
        provider: AgentProvider,
    },
    #[error("agent {agent}: {source}")]
    Http {
        agent: String,
        source: HttpSetupError,
    },
}

/// A configured remote agent.
pub struct LlmAgent {
    provider: AgentProvider,
    model: String,
    client: HttpClient,
    key: Option<Secret>,
    timeout: Duration,
    max_tokens: u32,
    prompts: Arc<InvestigatorPrompts>,
}

impl std::fmt::Debug for LlmAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAgent")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl LlmAgent {
    /// The agent `name` as configured; `None` for the heuristic provider.
    /// `retries` and `proxy` come from `[http]`; `key` from
    /// [`Credential::LlmApiKey`] (optional for local OpenAI-compatible servers).
    pub fn from_config(
        name: &str,
        agent: &AgentConfig,
        retries: u32,
        proxy: Option<&str>,
        key: Option<Secret>,
    ) -> Result<Option<LlmAgent>, LlmSetupError> {
        let (Some(base), true) = (agent.resolved_base_url(), agent.provider.is_remote()) else {
            return Ok(None);
        };
        let model = agent.model.clone().ok_or_else(|| LlmSetupError::NoModel {
            agent: name.to_owned(),
            provider: agent.provider,
        })?;
        let timeout = agent.timeout.get();
        let policy = HttpPolicy {
            request_timeout: timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            max_retries: retries,
            max_rate_limit_wait: timeout,
            max_body_bytes: 4 * 1024 * 1024,
            ..HttpPolicy::default()
        };
        let mut builder = HttpClient::builder(Service::Llm, base.as_str()).policy(policy);
        if let Some(proxy) = proxy {
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|source| LlmSetupError::Http {
            agent: name.to_owned(),
            source,
        })?;
        Ok(Some(LlmAgent {
            provider: agent.provider,
            model,
            client,
            key,
            timeout,
            max_tokens: agent.max_tokens,
            prompts: Arc::new(InvestigatorPrompts::builtin()),
        }))
    }

    /// Uses `prompts` (e.g. with the config dir's overrides) instead of the built-in ones.
    pub fn with_prompts(mut self, prompts: InvestigatorPrompts) -> LlmAgent {
        self.prompts = Arc::new(prompts);
        self
    }

    pub fn prompts(&self) -> &InvestigatorPrompts {
        &self.prompts
    }

    pub fn provider(&self) -> AgentProvider {
        self.provider
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// How long one [`ask`](Self::ask) may take, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `prompt`; the whole exchange, retries included, ends at the agent's timeout.
    pub async fn ask(&self, prompt: &Prompt) -> Result<String, LlmError> {
        let key = self.key.as_ref();
        let call = async {
            match self.provider {
                AgentProvider::Anthropic => {
                    anthropic::complete(&self.client, &self.model, self.max_tokens, key, prompt)
                        .await
                }
                _ => {
                    openai::complete(&self.client, &self.model, self.max_tokens, key, prompt).await
                }
            }
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| LlmError::Timeout(self.timeout.as_secs().max(1)))?
    }
}

/// The outcome of asking a model.
#[derive(Debug, Clone, PartialEq)]
pub enum SecondOpinion {
    /// A valid answer that may stand as the draft's verdict.
    Accepted(ModelAnswer),
    /// No usable answer: the heuristic verdict stands and `reason` is noted.
    /// `untrusted` when the answer looks steered by text in the data.
    Rejected {
        reason: String,
        untrusted: bool,
        answer: Option<Box<ModelAnswer>>,
    },
}

/// Asks `agent` about the timeline and vets the answer.
pub async fn second_opinion(
    agent: &LlmAgent,
    actor: &str,
    timeline: &Timeline,
    baseline: &Baseline,
    heuristic: &Assessment,
) -> SecondOpinion {
    let prompt = prompt::build(agent.prompts(), actor, timeline, baseline, heuristic);
    let text = match agent.ask(&prompt).await {
        Ok(text) => text,
        Err(err) => {
            return SecondOpinion::Rejected {
                reason: format!("{} agent failed: {err}", agent.provider()),
                untrusted: false,
                answer: None,
            };
        }
    };
    match parse_answer(&text, &prompt.refs) {
        Ok(answer) => vet(answer, timeline, heuristic),
        Err(err) => rejected_answer(&err),
    }
}

fn rejected_answer(err: &AnswerError) -> SecondOpinion {
    SecondOpinion::Rejected {
        reason: format!("model answer rejected: {err}"),
        untrusted: false,
        answer: None,
    }
}

/// Decides whether a valid answer may stand. When the timeline carries text
/// addressed to an AI, an answer that rates the activity lower than the
/// heuristic, does not report the instructions, or cites none of the events
/// that carry them is treated as steered by that text.
pub fn vet(answer: ModelAnswer, timeline: &Timeline, heuristic: &Assessment) -> SecondOpinion {
    let carriers: Vec<&str> = timeline
        .entries
        .iter()
        .filter(|e| {
            e.markers
                .iter()
                .any(|m| m.kind == MarkerKind::InstructionText)
        })
        .map(|e| e.event_ref.as_str())
        .collect();
    if carriers.is_empty() {
        return SecondOpinion::Accepted(answer);
    }
    let model = answer.assessment.verdict;
    let cites_carrier = answer
        .assessment
        .indicators
        .iter()
        .flat_map(|i| &i.event_refs)
        .any(|r| carriers.contains(&r.as_str()));
    let problem = if model < heuristic.verdict {
        Some(format!(
            "the timeline contains text addressed to an AI ({}) and the model rated the activity \
             {model}, lower than the heuristic's {}",
            carriers.join(", "),
            heuristic.verdict
        ))
    } else if !answer.instructions_in_data {
        Some(format!(
            "the timeline contains text addressed to an AI ({}) and the model did not report it",
            carriers.join(", ")
        ))
    } else if !cites_carrier {
        Some(format!(
            "the timeline contains text addressed to an AI ({}) and no indicator of the model cites it",
            carriers.join(", ")
        ))
    } else {
        None
    };
    match problem {
        None => SecondOpinion::Accepted(answer),
        Some(reason) => SecondOpinion::Rejected {
            reason: format!("model answer flagged as untrusted: {reason}"),
            untrusted: true,
            answer: Some(Box::new(answer)),
        },
    }
}
