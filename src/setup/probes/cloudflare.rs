//! Cloudflare: the last minute of each configured account's audit log,
//! one entry at most, through the poller's own client.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};

use super::{Plan, Probe, client, credential, probe_timeout, setup_failed};
use crate::config::{CloudflareApiVersion, Config};
use crate::secrets::{Credential, Resolver};
use crate::setup::check::{Check, Status};
use crate::setup::classify::{Hints, from_http};
use crate::sources::cloudflare::client::{AuditQuery, CloudflareClient};
use crate::sources::http::Service;
use crate::sources::page::{FetchError, Page};

const SERVICE: &str = "cloudflare";
const BASE_KEY: &str = "cloudflare.api_base";

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Vec<Plan> {
    let cf = &config.cloudflare;
    if !cf.is_configured() {
        return vec![Plan::Settled(Check::not_configured(
            SERVICE,
            "no account ids, so no audit logs are read",
            "[cloudflare] account_ids",
        ))];
    }
    let target = |id: &str| format!("account {id}");
    let token = match credential(secrets, SERVICE, "token", Credential::CloudflareToken) {
        Ok(token) => token,
        Err(check) => return vec![Plan::Settled(check)],
    };
    let http = match client(Service::Cloudflare, cf.api_base.as_str(), &config.http) {
        Ok(http) => http,
        Err(error) => return vec![Plan::Settled(setup_failed(SERVICE, "-", BASE_KEY, &error))],
    };
    let api = Arc::new(CloudflareClient::new(http, token));
    cf.account_ids
        .iter()
        .map(|id| {
            let account = id.as_str().to_owned();
            let api = Arc::clone(&api);
            let version = cf.api_version;
            let fallback = cf.v1_fallback;
            Plan::Run(Probe {
                service: SERVICE,
                target: target(&account),
                url: api.http().url(&["accounts", &account]).to_string(),
                base_key: BASE_KEY.into(),
                timeout: probe_timeout(&config.http),
                future: Box::pin(async move { probe(&api, &account, version, fallback).await }),
            })
        })
        .collect()
}

async fn probe(
    api: &CloudflareClient,
    account: &str,
    version: CloudflareApiVersion,
    v1_fallback: bool,
) -> Check {
    let before = Utc::now();
    let query = AuditQuery {
        since: before - TimeDelta::minutes(1),
        before,
        actor_email: None,
        limit: 1,
    };
    let target = format!("account {account}");
    let read = |page: Page, which: &str| {
        Check::ok(
            SERVICE,
            target.clone(),
            format!(
                "audit logs readable ({which}); {} in the last minute",
                entries(page.entries)
            ),
        )
    };
    match version {
        CloudflareApiVersion::V1 => match api.audit_logs_v1(account, &query, 1).await {
            Ok(page) => read(page, "v1 /audit_logs"),
            Err(error) => failed(api, account, "audit_logs", &error),
        },
        CloudflareApiVersion::V2 => match api.audit_logs_v2(account, &query, None).await {
            Ok(page) => read(page, "v2 /logs/audit"),
            // The poller reads v1 for an account whose v2 endpoint is refused.
            Err(v2) if v1_fallback && matches!(v2.status(), Some(403 | 404)) => {
                match api.audit_logs_v1(account, &query, 1).await {
                    Ok(page) => {
                        let mut check = read(page, "v1 /audit_logs");
                        check.detail = format!(
                            "{}; v2 answered HTTP {}, so polls read v1 for this account",
                            check.detail,
                            v2.status().unwrap_or_default()
                        );
                        check
                    }
                    Err(_) => failed(api, account, "logs/audit", &v2),
                }
            }
            Err(error) => failed(api, account, "logs/audit", &error),
        },
    }
}

fn failed(api: &CloudflareClient, account: &str, endpoint: &str, error: &FetchError) -> Check {
    let segments: Vec<&str> = ["accounts", account]
        .into_iter()
        .chain(endpoint.split('/'))
        .collect();
    let hints = Hints {
        service: SERVICE,
        target: format!("account {account}"),
        url: api.http().url(&segments),
        base_key: BASE_KEY.into(),
        credentials: vec![Credential::CloudflareToken],
        permission: format!(
            "give the API token the \"Account Settings Read\" permission (it covers audit logs) \
             on account {account}, then `soc-tui auth set cloudflare` if you made a new token"
        ),
        not_found: format!(
            "check cloudflare.account_ids: {account} is not an account this token can see \
             (the id is the 32 hex characters after dash.cloudflare.com/ in the dashboard URL)"
        ),
        // Cloudflare answers 403 "Authentication error" for a bad token too.
        forbidden_may_mean_bad_credential: true,
    };
    match error {
        FetchError::Http(http) => from_http(&hints, http),
        FetchError::Malformed { reason, .. } => Check::new(
            SERVICE,
            hints.target.clone(),
            Status::Failed,
            format!(
                "{} answered, but not with an audit-log page: {reason}",
                hints.shown_url()
            ),
        )
        .with_fix(format!(
            "check {BASE_KEY}: it must be the API root (https://api.cloudflare.com/client/v4)"
        )),
    }
}

fn entries(count: usize) -> String {
    match count {
        0 => "no entries".to_owned(),
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    }
}
