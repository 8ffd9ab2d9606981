//! Confluence: the space lookup the sink makes before its first page
//! (`GET /wiki/api/v2/spaces?keys=KEY`), and the parent page when one is set.

use serde_json::Value;

use super::{Plan, Probe, client, credential, probe_timeout, setup_failed};
use crate::config::Config;
use crate::secrets::{Credential, Resolver, Secret};
use crate::setup::check::{Check, Status};
use crate::setup::classify::{Hints, from_http};
use crate::sinks::confluence::space_id_in;
use crate::sources::http::{HttpClient, Service};

const SERVICE: &str = "confluence";
const BASE_KEY: &str = "confluence.base_url";

struct Target {
    http: HttpClient,
    email: String,
    token: Secret,
    space_key: String,
    parent: Option<String>,
}

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Plan {
    let wiki = &config.confluence;
    let (Some(base), Some(space_key), Some(email)) = (&wiki.base_url, &wiki.space_key, &wiki.email)
    else {
        return Plan::Settled(Check::not_configured(
            SERVICE,
            "no base_url, so reports are not published",
            "[confluence] base_url, space_key and email",
        ));
    };
    let target = format!("space {space_key}");
    let token = match credential(secrets, SERVICE, &target, Credential::ConfluenceToken) {
        Ok(token) => token,
        Err(check) => return Plan::Settled(check),
    };
    let http = match client(Service::Confluence, &base.join("api/v2"), &config.http) {
        Ok(http) => http,
        Err(error) => return Plan::Settled(setup_failed(SERVICE, target, BASE_KEY, &error)),
    };
    let probe_target = Target {
        email: email.as_str().to_owned(),
        token,
        space_key: space_key.clone(),
        parent: wiki.parent_page_id.clone(),
        http,
    };
    Plan::Run(Probe {
        service: SERVICE,
        target: target.clone(),
        url: probe_target.http.url(&["spaces"]).to_string(),
        base_key: BASE_KEY.into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move { probe(&probe_target, target).await }),
    })
}

fn hints(target: &Target, label: &str, url: url::Url, not_found: String) -> Hints {
    Hints {
        service: SERVICE,
        target: label.to_owned(),
        url,
        base_key: BASE_KEY.into(),
        credentials: vec![Credential::ConfluenceToken],
        permission: format!(
            "let {} view the space; a scoped API token also needs read:space:confluence, \
             read:page:confluence and write:page:confluence",
            target.email
        ),
        not_found,
        forbidden_may_mean_bad_credential: false,
    }
}

async fn get(target: &Target, url: &url::Url) -> Result<Value, crate::sources::http::HttpError> {
    let fetched = target
        .http
        .fetch(|http| {
            http.get(url.clone())
                .basic_auth(&target.email, Some(target.token.expose()))
                .header("Accept", "application/json")
        })
        .await?;
    Ok(serde_json::from_slice(&fetched.body).unwrap_or(Value::Null))
}

async fn probe(target: &Target, label: String) -> Check {
    let mut url = target.http.url(&["spaces"]);
    url.query_pairs_mut().append_pair("keys", &target.space_key);
    let not_found = "check confluence.base_url: it must be the wiki root, e.g. \
                     https://example.atlassian.net/wiki"
        .to_owned();
    let answer = match get(target, &url).await {
        Ok(answer) => answer,
        Err(error) => {
            let mut check = from_http(&hints(target, &label, url, not_found), &error);
            if check.status == Status::NotAuthenticated {
                check.fix = check.fix.map(|fix| {
                    format!("{fix}; confluence.email must be the account the token belongs to")
                });
            }
            return check;
        }
    };
    let Some(space_id) = space_id_in(&answer, &target.space_key) else {
        return Check::new(
            SERVICE,
            label,
            Status::Misconfigured,
            format!(
                "no space with key {} is visible to {}",
                target.space_key, target.email
            ),
        )
        .with_fix(
            "check confluence.space_key (the KEY in /wiki/spaces/KEY/...) and that the account \
             can view that space",
        );
    };
    let mut fact = format!("space {} id {space_id}", target.space_key);
    if let Some(parent) = &target.parent {
        let url = target.http.url(&["pages", parent]);
        let not_found = format!(
            "check confluence.parent_page_id: page {parent} does not exist or is not visible \
             (the number in the page URL), or remove it to publish at the space root"
        );
        match get(target, &url).await {
            Ok(page) => {
                fact.push_str(&format!("; parent page {parent}"));
                if let Some(title) = page["title"].as_str() {
                    fact.push_str(&format!(" \"{title}\""));
                }
            }
            Err(error) => {
                let mut check = from_http(&hints(target, &label, url, not_found), &error);
                check.detail = format!("{fact} found, but the parent page: {}", check.detail);
                return check;
            }
        }
    }
    Check::ok(SERVICE, label, fact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_space_id_comes_from_the_matching_result() {
        let answer: Value =
            serde_json::from_str(r#"{"results":[{"id":98304,"key":"SEC","name":"Security"}]}"#)
                .unwrap();
        assert_eq!(space_id_in(&answer, "SEC").as_deref(), Some("98304"));
        assert_eq!(space_id_in(&answer, "OPS"), None);
        assert_eq!(
            space_id_in(&serde_json::json!({"results": []}), "SEC"),
            None
        );
        assert_eq!(space_id_in(&Value::Null, "SEC"), None);
    }
}
