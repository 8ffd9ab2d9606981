//! Linear: the `teams` query, and whether the configured team is among the
//! teams the API key can see. The wizard uses the same query to turn a team
//! key such as `SEC` into the UUID the config wants.

use serde_json::{Value, json};

use super::{Plan, Probe, client, credential, probe_timeout, setup_failed};
use crate::config::Config;
use crate::sanitize::sanitize_with_limit;
use crate::secrets::{Credential, Resolver, Secret};
use crate::setup::check::{Check, Status, store_fix};
use crate::setup::classify::{Hints, from_http};
use crate::sources::http::{HttpClient, HttpError, Service};

const SERVICE: &str = "linear";
const BASE_KEY: &str = "linear.api_url";

/// Validated against Linear's schema by `tests/doctor_probes.rs`.
pub const TEAMS: &str = "query SocTeams {
  teams(first: 250) { nodes { id key name } }
}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// Why the teams could not be listed.
#[derive(Debug)]
pub enum TeamsError {
    Http(HttpError),
    /// GraphQL `errors[]`: `(extensions.type, message)` of each.
    Graphql(Vec<(Option<String>, String)>),
    Malformed(String),
}

/// The teams the key can see (at most 250).
pub async fn teams(http: &HttpClient, api_key: &Secret) -> Result<Vec<Team>, TeamsError> {
    let url = http.url(&[]);
    let body = json!({ "query": TEAMS, "variables": {} });
    let fetched = http
        .fetch(|client| {
            client
                .post(url.clone())
                .header("Authorization", api_key.expose())
                .json(&body)
        })
        .await
        .map_err(TeamsError::Http)?;
    let answer: Value = serde_json::from_slice(&fetched.body)
        .map_err(|e| TeamsError::Malformed(format!("the answer is not JSON ({e})")))?;
    if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
        return Err(TeamsError::Graphql(
            errors
                .iter()
                .map(|e| {
                    let message = e["extensions"]["userPresentableMessage"]
                        .as_str()
                        .or_else(|| e["message"].as_str())
                        .unwrap_or("no message");
                    (
                        e["extensions"]["type"].as_str().map(str::to_owned),
                        sanitize_with_limit(message, 300).into_owned(),
                    )
                })
                .collect(),
        ));
    }
    let nodes = answer["data"]["teams"]["nodes"]
        .as_array()
        .ok_or_else(|| TeamsError::Malformed("no data.teams.nodes in the answer".into()))?;
    Ok(nodes
        .iter()
        .filter_map(|node| {
            Some(Team {
                id: node["id"].as_str()?.to_owned(),
                key: node["key"].as_str().unwrap_or("").to_owned(),
                name: node["name"].as_str().unwrap_or("").to_owned(),
            })
        })
        .collect())
}

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Plan {
    let Some(team_id) = config.linear.team_id.clone() else {
        return Plan::Settled(Check::not_configured(
            SERVICE,
            "no team_id, so no tickets are opened",
            "[linear] team_id",
        ));
    };
    let target = format!("team {team_id}");
    let key = match credential(secrets, SERVICE, &target, Credential::LinearApiKey) {
        Ok(key) => key,
        Err(check) => return Plan::Settled(check),
    };
    let http = match client(
        Service::Linear,
        config.linear.api_url.as_str(),
        &config.http,
    ) {
        Ok(http) => http,
        Err(error) => return Plan::Settled(setup_failed(SERVICE, target, BASE_KEY, &error)),
    };
    Plan::Run(Probe {
        service: SERVICE,
        target: target.clone(),
        url: http.url(&[]).to_string(),
        base_key: BASE_KEY.into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move { probe(&http, &key, &team_id, target).await }),
    })
}

async fn probe(http: &HttpClient, key: &Secret, team_id: &str, target: String) -> Check {
    let found = match teams(http, key).await {
        Ok(found) => found,
        Err(error) => return failed(http, target, &error),
    };
    if let Some(team) = found.iter().find(|t| t.id.eq_ignore_ascii_case(team_id)) {
        return Check::ok(
            SERVICE,
            target,
            format!("team {} ({}) id {}", team.key, team.name, team.id),
        );
    }
    let listed: Vec<String> = found
        .iter()
        .take(10)
        .map(|t| format!("{} = {}", t.key, t.id))
        .collect();
    Check::new(
        SERVICE,
        target,
        Status::Misconfigured,
        format!(
            "team {team_id} is not among the {} teams this API key can see{}",
            found.len(),
            if listed.is_empty() {
                String::new()
            } else {
                format!(": {}", listed.join(", "))
            }
        ),
    )
    .with_fix(
        "set linear.team_id to the id of the team tickets go to (`soc-tui setup` finds it from \
         the team key), or use an API key of a member of that team",
    )
}

/// The check for a failed `teams` query.
pub fn failed(http: &HttpClient, target: String, error: &TeamsError) -> Check {
    let hints = Hints {
        service: SERVICE,
        target: target.clone(),
        url: http.url(&[]),
        base_key: BASE_KEY.into(),
        credentials: vec![Credential::LinearApiKey],
        permission: "use a personal API key with read access (Settings > Security & access > \
                     Personal API keys)"
            .to_owned(),
        not_found: format!("check {BASE_KEY}: it must be https://api.linear.app/graphql"),
        forbidden_may_mean_bad_credential: false,
    };
    match error {
        // Linear answers a bad key with HTTP 400 and an authentication error.
        TeamsError::Http(http_error)
            if http_error
                .service_message()
                .is_some_and(|m| m.to_ascii_lowercase().contains("authenticat")) =>
        {
            Check::new(
                SERVICE,
                target,
                Status::NotAuthenticated,
                format!("Linear refused the API key: {http_error}"),
            )
            .with_fix(store_fix(Credential::LinearApiKey))
        }
        TeamsError::Http(http_error) => from_http(&hints, http_error),
        TeamsError::Graphql(errors) => {
            let text = errors
                .iter()
                .map(|(kind, message)| match kind {
                    Some(kind) => format!("{message} ({kind})"),
                    None => message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            let kinds: Vec<&str> = errors.iter().filter_map(|(k, _)| k.as_deref()).collect();
            let (status, fix) = if kinds.contains(&"authentication error") {
                (
                    Status::NotAuthenticated,
                    store_fix(Credential::LinearApiKey),
                )
            } else if kinds.contains(&"forbidden") {
                (Status::PermissionMissing, hints.permission.clone())
            } else {
                (
                    Status::Failed,
                    "see Linear's message; run `soc-tui doctor` again later if it is transient"
                        .to_owned(),
                )
            };
            Check::new(
                SERVICE,
                target,
                status,
                format!("teams query failed: {text}"),
            )
            .with_fix(fix)
        }
        TeamsError::Malformed(reason) => Check::new(
            SERVICE,
            target,
            Status::Failed,
            format!("{} answered, but {reason}", hints.shown_url()),
        )
        .with_fix(hints.not_found),
    }
}
