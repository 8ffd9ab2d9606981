//! Incremental polling of the audit APIs into the store.
//!
//! Each poll reads `[checkpoint - overlap, now - settle_delay)` per target
//! (each Cloudflare account; the Datadog site), in bounded chunks, and
//! stores every chunk with its checkpoint in one transaction; duplicates
//! from the overlap are ignored by the store. See `target.rs` for the
//! failure rules and `window.rs` for the timing.
//!
//! Checkpoint keys: `cloudflare:<account_id>` and `datadog:<host of the API base>`.

pub mod cli;
mod error;
mod report;
mod setup;
mod target;
mod walk;
mod window;

use std::time::Instant;

use crate::config::CloudflareApiVersion;
use crate::detect::Rules;
use crate::model::Source;
use crate::sources::cloudflare::client::CloudflareClient;
use crate::sources::datadog::client::DatadogClient;
use crate::store::Store;

pub use error::PollError;
pub use report::{MAX_LISTED_REJECTIONS, PollReport, RateLimitUse, ScopeCounts, TargetReport};
pub use setup::{
    SetupError, cloudflare_poller, datadog_checkpoint_key, datadog_poller, http_client, http_policy,
};
pub use target::{PollLimits, PollOptions};
pub use walk::WalkError;
pub use window::{Overrides, Plan, Window, WindowPolicy};

use target::{Enrichment, Settings, Target, poll_target};
use walk::Feed;

/// What to poll at Cloudflare and how.
#[derive(Debug, Clone)]
pub struct CloudflareSettings {
    pub accounts: Vec<String>,
    pub version: CloudflareApiVersion,
    /// Read v1 for an account whose v2 endpoint answers 403 or 404.
    pub v1_fallback: bool,
    pub window: WindowPolicy,
    /// The token watchdog's rules: they say which entries are API-token
    /// creations, whose scope the poller then fetches.
    pub token_rules: Rules,
}

/// Polls the audit logs of the configured Cloudflare accounts.
pub struct CloudflarePoller {
    client: CloudflareClient,
    settings: CloudflareSettings,
    limits: PollLimits,
}

impl CloudflarePoller {
    pub fn new(client: CloudflareClient, settings: CloudflareSettings) -> CloudflarePoller {
        CloudflarePoller {
            client,
            settings,
            limits: PollLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: PollLimits) -> CloudflarePoller {
        self.limits = limits;
        self
    }

    pub fn checkpoint_key(account_id: &str) -> String {
        format!("cloudflare:{account_id}")
    }

    pub fn client(&self) -> &CloudflareClient {
        &self.client
    }

    /// One poll of every account, one after the other. An account that
    /// fails does not stop the others; its error is in its report.
    pub async fn poll(&self, store: &mut Store, options: &PollOptions) -> PollReport {
        let started = Instant::now();
        let rate_before = self.client.http().rate_limit().snapshot();
        let cf = &self.settings;
        let settings = Settings {
            policy: cf.window,
            limits: self.limits,
            options,
        };
        let mut targets = Vec::with_capacity(cf.accounts.len());
        for account in &cf.accounts {
            let client = &self.client;
            let v2 = Feed::CloudflareV2 { client, account };
            let v1 = Feed::CloudflareV1 { client, account };
            let (feed, fallback) = match cf.version {
                CloudflareApiVersion::V2 => (v2, cf.v1_fallback.then_some(v1)),
                CloudflareApiVersion::V1 => (v1, None),
            };
            let target = Target {
                key: Self::checkpoint_key(account),
                feed,
                fallback,
                tokens: Some(Enrichment {
                    client,
                    account,
                    rules: &cf.token_rules,
                }),
            };
            targets.push(poll_target(target, store, &settings).await);
        }
        finish(
            Source::Cloudflare,
            options,
            targets,
            &rate_before,
            &self.client.http().rate_limit().snapshot(),
            started,
        )
    }
}

/// Polls Datadog Audit Trail events of one site (or custom API base).
pub struct DatadogPoller {
    client: DatadogClient,
    key: String,
    policy: WindowPolicy,
    limits: PollLimits,
}

impl DatadogPoller {
    /// `api_base` names the checkpoint (`datadog:<host>`).
    pub fn new(client: DatadogClient, api_base: &str, policy: WindowPolicy) -> DatadogPoller {
        DatadogPoller {
            client,
            key: datadog_checkpoint_key(api_base),
            policy,
            limits: PollLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: PollLimits) -> DatadogPoller {
        self.limits = limits;
        self
    }

    pub fn checkpoint_key(&self) -> &str {
        &self.key
    }

    pub async fn poll(&self, store: &mut Store, options: &PollOptions) -> PollReport {
        let started = Instant::now();
        let rate_before = self.client.http().rate_limit().snapshot();
        let settings = Settings {
            policy: self.policy,
            limits: self.limits,
            options,
        };
        let target = Target {
            key: self.key.clone(),
            feed: Feed::Datadog {
                client: &self.client,
            },
            fallback: None,
            tokens: None,
        };
        let report = poll_target(target, store, &settings).await;
        finish(
            Source::Datadog,
            options,
            vec![report],
            &rate_before,
            &self.client.http().rate_limit().snapshot(),
            started,
        )
    }
}

fn finish(
    source: Source,
    options: &PollOptions,
    targets: Vec<TargetReport>,
    rate_before: &crate::sources::http::RateLimitSnapshot,
    rate_after: &crate::sources::http::RateLimitSnapshot,
    started: Instant,
) -> PollReport {
    PollReport {
        source,
        dry_run: options.dry_run,
        actor: options.actor.clone(),
        targets,
        rate_limit: RateLimitUse::between(rate_before, rate_after),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}
