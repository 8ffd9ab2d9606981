//! The wizard's questions, one function per service. Each asks the
//! non-secret settings (validated as they are typed), then the secrets,
//! and commits them together; an answer that would make the config invalid
//! is explained and the service is asked again.

use super::config_file::Edit;
use super::session::{Answer, Session, Skip, WizardError};
use crate::config::{AccountId, BaseUrl, CredentialName, DatadogSite, Email, is_uuid};
use crate::secrets::{Credential, Secret};
use crate::setup::probes;

/// The answer of a question, or leave the service as it was on `skip`.
macro_rules! or_skip {
    ($asked:expr) => {
        match $asked? {
            Ok(value) => value,
            Err(Skip) => return Ok(()),
        }
    };
}

type Step = Result<(), WizardError>;

/// Adds the edit an answer asks for: nothing, a removal, or a new value.
fn edit_for(edits: &mut Vec<Edit>, answer: &Answer, table: &'static str, key: &'static str) {
    match answer {
        Answer::Keep => {}
        Answer::Clear => edits.push(Edit::remove(table, key)),
        Answer::Set(value) => edits.push(Edit::text(table, key, value)),
    }
}

/// The secret, if one was typed, for the commit.
fn typed(credential: Credential, secret: Option<Secret>) -> Vec<(Credential, Secret)> {
    secret.map(|s| vec![(credential, s)]).unwrap_or_default()
}

fn base_url(text: &str) -> Result<(), String> {
    BaseUrl::try_from(text.to_owned()).map(|_| ())
}

fn email(text: &str) -> Result<(), String> {
    Email::try_from(text.to_owned()).map(|_| ())
}

pub fn cloudflare(s: &mut Session<'_>) -> Step {
    s.heading("Cloudflare audit logs")?;
    loop {
        let current = s
            .config
            .cloudflare
            .account_ids
            .iter()
            .map(AccountId::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let ids = or_skip!(s.ask_checked(
            "Account ids, comma-separated (`-` for none)",
            Some(&current),
            true,
            |text| {
                split_list(text)
                    .into_iter()
                    .try_for_each(|id| AccountId::try_from(id).map(|_| ()))
            },
        ));
        let mut edits = Vec::new();
        match &ids {
            Answer::Keep => {}
            Answer::Clear => edits.push(Edit::list("cloudflare", "account_ids", &[])),
            Answer::Set(text) => {
                edits.push(Edit::list("cloudflare", "account_ids", &split_list(text)))
            }
        }
        let used = ids.leaves_set(s.config.cloudflare.is_configured());
        let token = if used {
            or_skip!(s.ask_secret(Credential::CloudflareToken))
        } else {
            None
        };
        if s.commit(
            "Cloudflare",
            &edits,
            typed(Credential::CloudflareToken, token),
        )? {
            return Ok(());
        }
    }
}

pub fn datadog(s: &mut Session<'_>) -> Step {
    s.heading("Datadog audit trail")?;
    let sites: Vec<&str> = DatadogSite::ALL.iter().map(|site| site.domain()).collect();
    let question = format!(
        "Site ({}), or the API's base URL (`-`: Datadog not used)",
        sites.join(", ")
    );
    loop {
        let dd = &s.config.datadog;
        let current = match (&dd.site, &dd.api_base) {
            (Some(site), _) => site.domain().to_owned(),
            (None, Some(base)) => base.as_str().to_owned(),
            (None, None) => String::new(),
        };
        let answer = or_skip!(s.ask_checked(&question, Some(&current), true, |text| {
            if text.contains("://") {
                base_url(text)
            } else {
                site(text).map(|_| ())
            }
        }));
        let mut edits = Vec::new();
        match &answer {
            Answer::Keep => {}
            Answer::Clear => {
                edits.push(Edit::remove("datadog", "site"));
                edits.push(Edit::remove("datadog", "api_base"));
            }
            Answer::Set(text) if text.contains("://") => {
                edits.push(Edit::remove("datadog", "site"));
                edits.push(Edit::text("datadog", "api_base", text));
            }
            Answer::Set(text) => {
                edits.push(Edit::remove("datadog", "api_base"));
                edits.push(Edit::text("datadog", "site", text));
            }
        }
        let used = answer.leaves_set(s.config.datadog.is_configured());
        let mut secrets = Vec::new();
        if used {
            for credential in [Credential::DatadogApiKey, Credential::DatadogAppKey] {
                let secret = or_skip!(s.ask_secret(credential));
                secrets.extend(typed(credential, secret));
            }
        }
        if s.commit("Datadog", &edits, secrets)? {
            return Ok(());
        }
    }
}

fn site(text: &str) -> Result<DatadogSite, String> {
    DatadogSite::ALL
        .into_iter()
        .find(|site| site.domain() == text)
        .ok_or_else(|| {
            format!("{text:?} is not a Datadog site; use one of the sites listed, or a URL such as https://api.datadoghq.com")
        })
}

pub fn confluence(s: &mut Session<'_>) -> Step {
    s.heading("Confluence (published reports)")?;
    loop {
        let wiki = s.config.confluence.clone();
        let mut edits = Vec::new();
        let base = or_skip!(s.ask_checked(
            "Wiki base URL, e.g. https://example.atlassian.net/wiki (`-`: not used)",
            wiki.base_url.as_ref().map(BaseUrl::as_str),
            true,
            base_url,
        ));
        edit_for(&mut edits, &base, "confluence", "base_url");
        let used = base.leaves_set(wiki.is_configured());
        let mut secrets = Vec::new();
        if used {
            let space = or_skip!(s.ask("Space key, e.g. SEC", wiki.space_key.as_deref(), false));
            edit_for(&mut edits, &space, "confluence", "space_key");
            let parent = or_skip!(s.ask(
                "Parent page id (`-`: publish at the space root)",
                wiki.parent_page_id.as_deref(),
                true,
            ));
            edit_for(&mut edits, &parent, "confluence", "parent_page_id");
            let account = or_skip!(s.ask_checked(
                "Atlassian account email (the API token's owner)",
                wiki.email.as_ref().map(Email::as_str),
                false,
                email,
            ));
            edit_for(&mut edits, &account, "confluence", "email");
            let token = or_skip!(s.ask_secret(Credential::ConfluenceToken));
            secrets = typed(Credential::ConfluenceToken, token);
        }
        if s.commit("Confluence", &edits, secrets)? {
            return Ok(());
        }
    }
}

pub fn linear(s: &mut Session<'_>) -> Step {
    s.heading("Linear (tickets)")?;
    loop {
        let current = s.config.linear.team_id.clone();
        // The key first: a team key is turned into its id with it.
        let key = or_skip!(s.ask_secret(Credential::LinearApiKey));
        let team = or_skip!(s.ask(
            "Team: its key (e.g. SEC) or its UUID (`-`: no tickets)",
            current.as_deref(),
            true,
        ));
        let mut edits = Vec::new();
        match &team {
            Answer::Keep => {}
            Answer::Clear => edits.push(Edit::remove("linear", "team_id")),
            Answer::Set(text) if is_uuid(text) => edits.push(Edit::text("linear", "team_id", text)),
            Answer::Set(team_key) => match team_id_of(s, team_key, key.as_ref())? {
                Some(id) => edits.push(Edit::text("linear", "team_id", &id)),
                None => continue,
            },
        }
        if s.commit("Linear", &edits, typed(Credential::LinearApiKey, key))? {
            return Ok(());
        }
    }
}

/// The id of the team whose key is `team_key`, looked up with the key just
/// typed (or the stored one); `None` after saying why not.
fn team_id_of(
    s: &mut Session<'_>,
    team_key: &str,
    typed_key: Option<&Secret>,
) -> Result<Option<String>, WizardError> {
    let stored;
    let key = match typed_key {
        Some(key) => key,
        None => match s.secrets().resolve(Credential::LinearApiKey) {
            Ok(Some((secret, _))) => {
                stored = secret;
                &stored
            }
            _ => {
                s.say("  a team key is looked up with the API key, and none is stored: give the key, or the team's UUID")?;
                return Ok(None);
            }
        },
    };
    let http = match probes::client(
        crate::sources::http::Service::Linear,
        s.config.linear.api_url.as_str(),
        &s.config.http,
    ) {
        Ok(http) => http,
        Err(error) => {
            s.say(&format!("  {error}"))?;
            return Ok(None);
        }
    };
    let timeout = probes::probe_timeout(&s.config.http);
    let lookup = async { tokio::time::timeout(timeout, probes::linear::teams(&http, key)).await };
    let teams = match probes::block_on_private(lookup) {
        Ok(Ok(Ok(teams))) => teams,
        Ok(Ok(Err(error))) => {
            let check = probes::linear::failed(&http, format!("team {team_key}"), &error);
            s.say(&format!("  cannot list the teams: {}", check.detail))?;
            if let Some(fix) = check.fix {
                s.say(&format!("  fix: {fix}"))?;
            }
            return Ok(None);
        }
        Ok(Err(_elapsed)) => {
            s.say(&format!(
                "  Linear did not answer within {}s",
                timeout.as_secs()
            ))?;
            return Ok(None);
        }
        Err(error @ probes::PrivateRuntimeError::Start(_)) => {
            s.say(&format!("  cannot start the lookup: {error}"))?;
            return Ok(None);
        }
        Err(probes::PrivateRuntimeError::Panicked) => {
            s.say("  the team lookup failed; give the team's UUID instead")?;
            return Ok(None);
        }
    };
    if let Some(team) = teams.iter().find(|t| t.key.eq_ignore_ascii_case(team_key)) {
        let line = format!("  team {} ({}) is {}", team.key, team.name, team.id);
        s.say(&crate::sanitize::sanitize_with_limit(&line, 300))?;
        return Ok(Some(team.id.clone()));
    }
    let keys: Vec<&str> = teams.iter().map(|t| t.key.as_str()).collect();
    let line = format!(
        "  no team with key {team_key} among the teams this API key can see ({})",
        if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        }
    );
    s.say(&crate::sanitize::sanitize_with_limit(&line, 600))?;
    Ok(None)
}

pub fn pagerduty(s: &mut Session<'_>) -> Step {
    s.heading("PagerDuty (incidents)")?;
    loop {
        let pd = s.config.pagerduty.clone();
        let enabled =
            or_skip!(s.ask_yes_no("Open PagerDuty incidents for urgent findings?", pd.enabled));
        let mut edits = vec![Edit::flag("pagerduty", "enabled", enabled)];
        let mut secrets = Vec::new();
        if enabled {
            let name = or_skip!(s.ask_checked(
                "Routing key name: pagerduty-routing-key (Events v2 integration key) or \
                 pagerduty-api-key (REST API key)",
                Some(pd.routing_key_name.as_str()),
                false,
                |text| CredentialName::try_from(text.to_owned()).map(|_| ()),
            ));
            edit_for(&mut edits, &name, "pagerduty", "routing_key_name");
            let chosen = match &name {
                Answer::Set(text) => text.clone(),
                _ => pd.routing_key_name.as_str().to_owned(),
            };
            let credential = credential_named(&chosen);
            if credential == Credential::PagerdutyApiKey {
                let from = or_skip!(s.ask_checked(
                    "From: the email of a PagerDuty user",
                    pd.from_email.as_ref().map(Email::as_str),
                    false,
                    email,
                ));
                edit_for(&mut edits, &from, "pagerduty", "from_email");
                let service = or_skip!(s.ask(
                    "Service id incidents open on, e.g. PWIXJZS",
                    pd.service_id.as_deref(),
                    false,
                ));
                edit_for(&mut edits, &service, "pagerduty", "service_id");
            }
            let key = or_skip!(s.ask_secret(credential));
            secrets = typed(credential, key);
        }
        if s.commit("PagerDuty", &edits, secrets)? {
            return Ok(());
        }
    }
}

/// The credential a validated `routing_key_name` names.
fn credential_named(name: &str) -> Credential {
    use clap::ValueEnum as _;
    Credential::from_str(name, false).unwrap_or(Credential::PagerdutyRoutingKey)
}

pub fn s3(s: &mut Session<'_>) -> Step {
    s.heading("Token archive (S3)")?;
    loop {
        let cfg = s.config.s3.clone();
        let bucket = or_skip!(s.ask(
            "S3 bucket (`-`: keep archives in the local data directory)",
            cfg.bucket.as_deref(),
            true,
        ));
        let mut edits = Vec::new();
        edit_for(&mut edits, &bucket, "s3", "bucket");
        let used = bucket.leaves_set(cfg.is_configured());
        let mut secrets = Vec::new();
        if used {
            let region = or_skip!(s.ask("Region", Some(&cfg.region), false));
            edit_for(&mut edits, &region, "s3", "region");
            let endpoint = or_skip!(s.ask_checked(
                "Endpoint of an S3-compatible server (`-`: AWS)",
                cfg.endpoint.as_ref().map(BaseUrl::as_str),
                true,
                base_url,
            ));
            edit_for(&mut edits, &endpoint, "s3", "endpoint");
            let custom = endpoint.leaves_set(cfg.endpoint.is_some());
            if custom {
                let path_style = or_skip!(s.ask_yes_no(
                    "Path-style requests (most S3-compatible servers need them)?",
                    cfg.path_style || cfg.endpoint.is_none(),
                ));
                edits.push(Edit::flag("s3", "path_style", path_style));
            }
            for credential in [Credential::S3AccessKeyId, Credential::S3SecretAccessKey] {
                let secret = or_skip!(s.ask_secret(credential));
                secrets.extend(typed(credential, secret));
            }
        } else if matches!(bucket, Answer::Clear) {
            // An endpoint without a bucket is refused by the validator.
            edits.push(Edit::remove("s3", "endpoint"));
        }
        if s.commit("S3", &edits, secrets)? {
            return Ok(());
        }
    }
}

pub fn axiom(s: &mut Session<'_>) -> Step {
    s.heading("Axiom (optional baseline store)")?;
    loop {
        let cfg = s.config.axiom.clone();
        let current = cfg.dataset.as_deref().filter(|_| cfg.enabled);
        let dataset = or_skip!(s.ask(
            "Dataset holding the audit events (`-`: Axiom not used)",
            current,
            true,
        ));
        let mut edits = Vec::new();
        let used = match &dataset {
            Answer::Keep => cfg.enabled,
            Answer::Clear => {
                edits.push(Edit::flag("axiom", "enabled", false));
                false
            }
            Answer::Set(name) => {
                edits.push(Edit::flag("axiom", "enabled", true));
                edits.push(Edit::text("axiom", "dataset", name));
                true
            }
        };
        let mut secrets = Vec::new();
        if used {
            let org = or_skip!(s.ask(
                "Org id, needed only with a personal access token (`-`: none)",
                cfg.org_id.as_deref(),
                true,
            ));
            edit_for(&mut edits, &org, "axiom", "org_id");
            let token = or_skip!(s.ask_secret(Credential::AxiomToken));
            secrets = typed(Credential::AxiomToken, token);
        }
        if s.commit("Axiom", &edits, secrets)? {
            return Ok(());
        }
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert_eq!(split_list(" a, b  c,,"), ["a", "b", "c"]);
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn sites_are_the_datadog_domains() {
        assert_eq!(site("datadoghq.eu").unwrap(), DatadogSite::Eu1);
        assert!(
            site("datadog.com")
                .unwrap_err()
                .contains("not a Datadog site")
        );
        assert!(is_uuid("9cfb482a-81e3-4154-b5b9-2c805e70a02d"));
        assert!(!is_uuid("SEC"));
    }
}
