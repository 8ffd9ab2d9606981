//! Investigation agents: each `[agents.<name>]` (and the investigator,
//! configured or not). The heuristic engine is built in and offline. A
//! remote model gets the investigator's prompts in force (overrides included) over a fixed
//! one-event timeline, and its answer goes through the same validation as
//! an investigation's: reachable, authenticated, and answering JSON of the
//! expected shape.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Plan, Probe};
use crate::config::{AgentConfig, Config};
use crate::investigate::heuristic;
use crate::investigate::llm::prompt::{self, Prompt};
use crate::investigate::llm::schema::parse_answer;
use crate::investigate::llm::templates::InvestigatorPrompts;
use crate::investigate::llm::{LlmAgent, LlmError};
use crate::investigate::markers::Baseline;
use crate::investigate::setup::AGENT_NAME;
use crate::investigate::timeline::Timeline;
use crate::secrets::{Credential, Resolver, SecretsError};
use crate::setup::check::{Check, Status, store_fix};
use crate::setup::classify::{Hints, from_http};
use crate::sources::cloudflare::parse::parse_v2_entry;

const SERVICE: &str = "agent";
/// Room for connecting on top of the agent's own timeout.
const SLACK: Duration = Duration::from_secs(5);

/// The one event the probe shows the model: an ordinary login.
const PROBE_EVENT: &str = r#"{"id":"doctor-probe-1","account":{"id":"0123456789abcdef0123456789abcdef","name":"example"},"action":{"description":"Login","result":"success","time":"2026-01-05T10:00:00Z","type":"login"},"actor":{"id":"u1","email":"alice@example.com","ip_address":"192.0.2.10","type":"user","context":"dash"},"raw":{"method":"POST","status_code":200,"uri":"/login","user_agent":"Mozilla/5.0"},"resource":{"product":"dash","type":"session"}}"#;
const PROBE_ACTOR: &str = "alice@example.com";

pub fn plan(config: &Config, secrets: &Resolver<'_>, config_dir: &Path) -> Vec<Plan> {
    let mut names: Vec<&str> = config.agents.keys().map(String::as_str).collect();
    if !names.contains(&AGENT_NAME) {
        names.insert(0, AGENT_NAME);
    }
    names
        .into_iter()
        .map(|name| plan_one(name, &config.agent(name), config, secrets, config_dir))
        .collect()
}

fn plan_one(
    name: &str,
    agent: &AgentConfig,
    config: &Config,
    secrets: &Resolver<'_>,
    config_dir: &Path,
) -> Plan {
    if !agent.provider.is_remote() {
        return Plan::Settled(Check::ok(
            SERVICE,
            name,
            "heuristic engine (built in, works offline)",
        ));
    }
    // Local OpenAI-compatible servers take no key; a provider that needs one
    // says so with a 401, which the report turns into the fix.
    let key = match secrets.resolve(Credential::LlmApiKey) {
        Ok(found) => found.map(|(secret, _)| secret),
        Err(SecretsError::KeychainUnavailable { .. }) => None,
        Err(error) => return Plan::Settled(Check::credential_problem(SERVICE, name, &error)),
    };
    let proxy = config.http.proxy.as_ref().map(|p| p.as_str());
    let llm = match LlmAgent::from_config(name, agent, config.http.max_retries, proxy, key) {
        Ok(Some(llm)) => llm,
        Ok(None) => {
            return Plan::Settled(Check::ok(SERVICE, name, "heuristic engine (built in)"));
        }
        Err(error) => {
            return Plan::Settled(
                Check::new(SERVICE, name, Status::Misconfigured, error.to_string())
                    .with_fix(format!("correct [agents.{name}] in the config file")),
            );
        }
    };
    // The model is asked with the prompts in force, overrides included, so
    // an edited prompt that confuses the model shows up here.
    let llm = match InvestigatorPrompts::load(config_dir) {
        Ok(prompts) => llm.with_prompts(prompts),
        Err(error) => {
            return Plan::Settled(
                Check::new(SERVICE, name, Status::Misconfigured, error.to_string()).with_fix(
                    "fix or remove the override (`soc-tui config prompts` lists them)".to_owned(),
                ),
            );
        }
    };
    let base = agent
        .resolved_base_url()
        .map(|b| b.as_str().to_owned())
        .unwrap_or_default();
    let name = name.to_owned();
    Plan::Run(Probe {
        service: SERVICE,
        target: name.clone(),
        url: base.clone(),
        base_key: format!("agents.{name}.base_url").into(),
        timeout: llm.timeout() + SLACK,
        future: Box::pin(async move { probe(&llm, &name, &base).await }),
    })
}

/// The investigator's prompt over the fixed one-event timeline.
fn probe_prompt(prompts: &InvestigatorPrompts) -> Result<Prompt, String> {
    let event = parse_v2_entry(PROBE_EVENT)?;
    let timeline = Timeline::build(vec![event]);
    let baseline = Baseline::default();
    let heuristic = heuristic::classify(&timeline, &baseline, PROBE_ACTOR);
    Ok(prompt::build(
        prompts,
        PROBE_ACTOR,
        &timeline,
        &baseline,
        &heuristic,
    ))
}

async fn probe(llm: &LlmAgent, name: &str, base: &str) -> Check {
    let prompt = match probe_prompt(llm.prompts()) {
        Ok(prompt) => prompt,
        Err(error) => {
            return Check::new(
                SERVICE,
                name,
                Status::Failed,
                format!("the probe prompt could not be built: {error}"),
            );
        }
    };
    let model = llm.model().to_owned();
    let started = Instant::now();
    let text = match llm.ask(&prompt).await {
        Ok(text) => text,
        Err(error) => return failed(name, &model, base, &error),
    };
    let took = started.elapsed().as_millis();
    match parse_answer(&text, &prompt.refs) {
        Ok(answer) => Check::ok(
            SERVICE,
            name,
            format!(
                "{} model {model} answered valid JSON of the expected shape (verdict {}, \
                 confidence {:.2}) in {took} ms",
                llm.provider(),
                answer.assessment.verdict.as_str(),
                answer.assessment.confidence
            ),
        ),
        Err(error) => Check::new(
            SERVICE,
            name,
            Status::Failed,
            format!("model {model} answered in {took} ms, but not as asked: {error}"),
        )
        .with_fix(format!(
            "use a model that follows JSON-output instructions in [agents.{name}] model; if the \
             answer was cut short, raise agents.{name}.max_tokens"
        )),
    }
}

fn failed(name: &str, model: &str, base: &str, error: &LlmError) -> Check {
    let check = |status: Status, detail: String| Check::new(SERVICE, name, status, detail);
    match error {
        LlmError::Http(http) => {
            let Ok(url) = url::Url::parse(base) else {
                return check(Status::Failed, http.to_string());
            };
            let hints = Hints {
                service: SERVICE,
                target: name.to_owned(),
                url,
                base_key: format!("agents.{name}.base_url").into(),
                credentials: vec![Credential::LlmApiKey],
                permission: format!(
                    "give the API key access to model {model} (project or organisation settings)"
                ),
                not_found: format!(
                    "check agents.{name}.model ({model}) and agents.{name}.base_url: the server \
                     has no such model or endpoint"
                ),
                forbidden_may_mean_bad_credential: false,
            };
            from_http(&hints, http)
        }
        LlmError::MissingKey => check(
            Status::NotAuthenticated,
            "the provider needs an API key and none is stored".to_owned(),
        )
        .with_fix(store_fix(Credential::LlmApiKey)),
        LlmError::Timeout(secs) => check(
            Status::Unreachable,
            format!("no answer from {base} within {secs}s"),
        )
        .with_fix(format!(
            "check agents.{name}.base_url, or raise agents.{name}.timeout for a slow model"
        )),
        LlmError::BadResponse(reason) => check(
            Status::Failed,
            format!("{base} answered, but not like the provider's API: {reason}"),
        )
        .with_fix(format!(
            "check agents.{name}.provider and base_url name the same kind of server; if the \
             answer was cut off, raise agents.{name}.max_tokens"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_prompt_holds_the_one_event_and_the_real_system_prompt() {
        let prompt = probe_prompt(&InvestigatorPrompts::builtin()).unwrap();
        assert_eq!(prompt.refs.len(), 1, "{:?}", prompt.refs);
        assert!(
            prompt.refs.contains("cf:doctor-probe-1"),
            "{:?}",
            prompt.refs
        );
        assert!(!prompt.system.is_empty());
        assert!(prompt.user.contains(PROBE_ACTOR));
    }
}
