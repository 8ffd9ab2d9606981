//! Live queries for one person's events in the window, through the
//! pollers' Cloudflare and Datadog clients (both filter by actor email on
//! the server). Used on top of the store, which may lag the sources.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::context::{LiveFuture, LiveSource};
use super::identity::Identity;
use crate::config::{CloudflareApiVersion, Config};
use crate::model::{AuditEvent, Source};
use crate::secrets::{Credential, Resolver, Secret};
use crate::sources::action_kinds::ActionKindMap;
use crate::sources::cloudflare::client::{AuditQuery, CloudflareClient};
use crate::sources::datadog::client::{DatadogClient, EventQuery};
use crate::sources::http::Service;
use crate::sources::poll::http_client;

/// Pages read per (account, email) at most: an investigation window of an
/// extremely busy actor must not turn into a full backfill.
const MAX_PAGES: usize = 20;
const PAGE_SIZE: u32 = 1000;

pub struct CloudflareLive {
    client: CloudflareClient,
    accounts: Vec<String>,
    version: CloudflareApiVersion,
}

impl LiveSource for CloudflareLive {
    fn source(&self) -> Source {
        Source::Cloudflare
    }

    fn events_for<'a>(
        &'a self,
        identity: &'a Identity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> LiveFuture<'a> {
        Box::pin(async move {
            let mut events = Vec::new();
            for account in &self.accounts {
                for email in &identity.emails {
                    let query = AuditQuery {
                        since: from,
                        before: to,
                        actor_email: Some(email),
                        limit: PAGE_SIZE,
                    };
                    events.extend(self.walk(account, &query).await?);
                }
            }
            Ok(events)
        })
    }
}

impl CloudflareLive {
    async fn walk(&self, account: &str, query: &AuditQuery<'_>) -> Result<Vec<AuditEvent>, String> {
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        for page_number in 1..=MAX_PAGES {
            let page = match self.version {
                CloudflareApiVersion::V2 => {
                    self.client
                        .audit_logs_v2(account, query, cursor.as_deref())
                        .await
                }
                CloudflareApiVersion::V1 => {
                    let n = u32::try_from(page_number).unwrap_or(u32::MAX);
                    self.client.audit_logs_v1(account, query, n).await
                }
            }
            .map_err(|e| e.to_string())?;
            let last = page.entries == 0
                || match self.version {
                    CloudflareApiVersion::V2 => page.cursor.is_none(),
                    CloudflareApiVersion::V1 => page.entries < PAGE_SIZE as usize,
                };
            events.extend(page.events);
            cursor = page.cursor;
            if last {
                break;
            }
        }
        Ok(events)
    }
}

pub struct DatadogLive {
    client: DatadogClient,
}

impl LiveSource for DatadogLive {
    fn source(&self) -> Source {
        Source::Datadog
    }

    fn events_for<'a>(
        &'a self,
        identity: &'a Identity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> LiveFuture<'a> {
        Box::pin(async move {
            let mut events = Vec::new();
            for email in &identity.emails {
                let query = EventQuery {
                    from,
                    to,
                    actor_email: Some(email),
                    limit: PAGE_SIZE,
                };
                let mut cursor: Option<String> = None;
                for _ in 0..MAX_PAGES {
                    let page = self
                        .client
                        .audit_events(&query, cursor.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                    let done = page.entries == 0 || page.cursor.is_none();
                    events.extend(page.events);
                    cursor = page.cursor;
                    if done {
                        break;
                    }
                }
            }
            Ok(events)
        })
    }
}

/// The live sources the config enables and whose credentials are present.
/// A source that cannot be set up is left out with a note for the report.
pub fn sources(config: &Config, secrets: &Resolver<'_>) -> (Vec<Arc<dyn LiveSource>>, Vec<String>) {
    let mut sources: Vec<Arc<dyn LiveSource>> = Vec::new();
    let mut notes = Vec::new();
    let credential = |c: Credential| -> Result<Secret, String> {
        secrets
            .require(c)
            .map(|(s, _)| s)
            .map_err(|e| e.to_string())
    };
    if config.cloudflare.is_configured() {
        let built = credential(Credential::CloudflareToken).and_then(|token| {
            let http = http_client(
                Service::Cloudflare,
                config.cloudflare.api_base.as_str(),
                &config.http,
            )
            .map_err(|e| e.to_string())?;
            Ok(CloudflareLive {
                client: CloudflareClient::new(http, token)
                    .with_action_kinds(ActionKindMap::from_config(config)),
                accounts: config
                    .cloudflare
                    .account_ids
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect(),
                version: config.cloudflare.api_version,
            })
        });
        match built {
            Ok(source) => sources.push(Arc::new(source)),
            Err(why) => notes.push(format!("live Cloudflare queries are off: {why}")),
        }
    }
    if config.datadog.is_configured() {
        let built = credential(Credential::DatadogApiKey).and_then(|api| {
            let app = credential(Credential::DatadogAppKey)?;
            let base = config.datadog.resolved_api_base();
            let http = http_client(Service::Datadog, base.as_str(), &config.http)
                .map_err(|e| e.to_string())?;
            Ok(DatadogLive {
                client: DatadogClient::new(http, api, app)
                    .with_action_kinds(ActionKindMap::from_config(config)),
            })
        });
        match built {
            Ok(source) => sources.push(Arc::new(source)),
            Err(why) => notes.push(format!("live Datadog queries are off: {why}")),
        }
    }
    (sources, notes)
}
