//! Datadog: one audit event of the last minute through the poller's client.
//! Datadog answers 403 both to a wrong key and to a key without
//! `audit_logs_read`; only then is the API key checked alone
//! (`/api/v1/validate`), so the report can say which key to fix.

use chrono::{TimeDelta, Utc};

use super::{Plan, Probe, client, credential, probe_timeout, setup_failed};
use crate::config::Config;
use crate::secrets::{Credential, Resolver};
use crate::setup::check::{Check, Status, store_fix};
use crate::setup::classify::{Hints, from_http};
use crate::sources::datadog::client::{DatadogClient, EventQuery};
use crate::sources::http::{HttpError, Service};
use crate::sources::page::FetchError;

const SERVICE: &str = "datadog";

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Plan {
    let dd = &config.datadog;
    if !dd.is_configured() {
        return Plan::Settled(Check::not_configured(
            SERVICE,
            "neither site nor api_base is set, so no audit events are read",
            "[datadog] site (or api_base)",
        ));
    }
    let base = dd.resolved_api_base();
    let base_key = if dd.api_base.is_some() {
        "datadog.api_base"
    } else {
        "datadog.site"
    };
    let target = base.as_str().to_owned();
    let api_key = match credential(secrets, SERVICE, &target, Credential::DatadogApiKey) {
        Ok(key) => key,
        Err(check) => return Plan::Settled(check),
    };
    let app_key = match credential(secrets, SERVICE, &target, Credential::DatadogAppKey) {
        Ok(key) => key,
        Err(check) => return Plan::Settled(check),
    };
    let http = match client(Service::Datadog, base.as_str(), &config.http) {
        Ok(http) => http,
        Err(error) => return Plan::Settled(setup_failed(SERVICE, target, base_key, &error)),
    };
    let api = DatadogClient::new(http, api_key, app_key);
    let hints = Hints {
        service: SERVICE,
        target: target.clone(),
        url: api.http().url(&["api", "v2", "audit", "events"]),
        base_key: base_key.into(),
        credentials: vec![Credential::DatadogApiKey, Credential::DatadogAppKey],
        permission: "give the application key's user or service account the audit_logs_read \
                     permission (Datadog Standard Role or a custom role), or scope the key to it"
            .to_owned(),
        not_found: format!(
            "check {base_key}: the audit API lives at https://api.<site>/api/v2/audit/events"
        ),
        forbidden_may_mean_bad_credential: true,
    };
    Plan::Run(Probe {
        service: SERVICE,
        target,
        url: hints.shown_url(),
        base_key: base_key.into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move { probe(&api, &hints).await }),
    })
}

async fn probe(api: &DatadogClient, hints: &Hints) -> Check {
    let to = Utc::now();
    let query = EventQuery {
        from: to - TimeDelta::minutes(1),
        to,
        actor_email: None,
        limit: 1,
    };
    match api.audit_events(&query, None).await {
        Ok(page) => Check::ok(
            SERVICE,
            hints.target.clone(),
            format!(
                "audit events readable; {} in the last minute",
                if page.entries == 0 { "none" } else { "some" }
            ),
        ),
        Err(FetchError::Http(error)) if forbidden(&error) => which_key(api, hints, &error).await,
        Err(FetchError::Http(error)) => from_http(hints, &error),
        Err(FetchError::Malformed { reason, .. }) => Check::new(
            SERVICE,
            hints.target.clone(),
            Status::Failed,
            format!("answered, but not with a page of audit events: {reason}"),
        )
        .with_fix(format!(
            "check {}: it must be the site's API root",
            hints.base_key
        )),
    }
}

fn forbidden(error: &HttpError) -> bool {
    error.status().is_some_and(|s| s.as_u16() == 403)
}

async fn which_key(api: &DatadogClient, hints: &Hints, audit: &HttpError) -> Check {
    let seen = audit
        .service_message()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    match api.validate_api_key().await {
        Ok(()) => Check::new(
            SERVICE,
            hints.target.clone(),
            Status::PermissionMissing,
            format!(
                "the API key is valid, but the audit events endpoint answered HTTP 403{seen}: \
                 the application key is wrong or lacks audit_logs_read"
            ),
        )
        .with_fix(format!(
            "{}, using an application key whose owner has audit_logs_read",
            store_fix(Credential::DatadogAppKey)
        )),
        Err(validate) if forbidden(&validate) => Check::new(
            SERVICE,
            hints.target.clone(),
            Status::NotAuthenticated,
            format!(
                "Datadog rejected the API key (HTTP 403 from /api/v1/validate, and from the \
                 audit events endpoint{seen})"
            ),
        )
        .with_fix(format!(
            "{}; check {} is the site your organisation logs in to (keys only work on their own site)",
            store_fix(Credential::DatadogApiKey),
            hints.base_key
        )),
        // The check could not tell: report the audit answer as it was.
        Err(_) => from_http(hints, audit),
    }
}
