//! In-process loopback simulators of the services soc-tui talks to, speaking
//! their real request and response shapes and refusing what the real
//! services refuse (missing credentials, bad parameters, invalid bodies,
//! duplicates) with the services' own error shapes.
//!
//! Each simulator is an axum router on `127.0.0.1:0` in the current tokio
//! runtime. Base URLs are what the config wants for the real service:
//! Cloudflare `…/client/v4`, Datadog the origin, Confluence the wiki root
//! (`…/wiki`), Linear `…/graphql`, PagerDuty Events `…/v2`. Every simulator
//! records what it received; the write-side ones also keep what was
//! created (pages, issues, incidents) so tests and the TUI can show it.

pub mod cloudflare;
pub mod confluence;
pub mod datadog;
pub mod linear;
pub mod pagerduty;
pub mod server;

mod graphql;
mod params;
mod storage_xml;
mod timeline;

use std::time::Duration;

use serde_json::Value;

use crate::secrets::Secret;

pub use cloudflare::{CloudflareFeed, CloudflareSim, TokenOwner, TokenRecord};
pub use confluence::{ConfluenceSim, PublishedPage};
pub use datadog::{DatadogFeed, DatadogSim};
pub use linear::{LinearComment, LinearIssue, LinearSim};
pub use pagerduty::{Incident, IncidentState, PagerDutySim, ReceivedEvent};
pub use server::{RateLimit, RecordedRequest, SimServer};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{service} simulator: cannot listen on 127.0.0.1: {source}")]
    Bind {
        service: &'static str,
        source: std::io::Error,
    },
    /// An entry handed to a simulator that it cannot serve.
    #[error("{service} simulator: entry {position}: {reason}")]
    BadEntry {
        service: &'static str,
        position: String,
        reason: String,
    },
}

/// The credentials the simulators accept. Generated per run; the demo hands
/// the same values to soc-tui through its environment lookup.
#[derive(Debug)]
pub struct SimCredentials {
    pub cloudflare_token: Secret,
    pub datadog_api_key: Secret,
    pub datadog_app_key: Secret,
    pub confluence_email: String,
    pub confluence_token: Secret,
    pub linear_api_key: Secret,
    pub pagerduty_routing_key: Secret,
}

impl SimCredentials {
    /// Fresh random values in each service's usual format.
    pub fn generate() -> SimCredentials {
        let mut rng = fastrand::Rng::new();
        SimCredentials {
            cloudflare_token: Secret::new(random_text(&mut rng, ALNUM_DASH, 40)),
            datadog_api_key: Secret::new(random_text(&mut rng, HEX, 32)),
            datadog_app_key: Secret::new(random_text(&mut rng, HEX, 40)),
            confluence_email: "soc-demo@example.com".to_owned(),
            confluence_token: Secret::new(format!(
                "ATATT3x{}",
                random_text(&mut rng, ALNUM_DASH, 56)
            )),
            linear_api_key: Secret::new(format!("lin_api_{}", random_text(&mut rng, ALNUM, 40))),
            pagerduty_routing_key: Secret::new(random_text(&mut rng, HEX, 32)),
        }
    }
}

const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM_DASH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(crate) fn random_text(rng: &mut fastrand::Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.usize(0..alphabet.len())]))
        .collect()
}

/// Rate limits per simulator; `None` means unlimited.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub cloudflare_rate_limit: Option<RateLimit>,
    pub datadog_rate_limit: Option<RateLimit>,
}

impl Default for SimOptions {
    /// The services' documented limits: Cloudflare 1200 requests per five
    /// minutes; Datadog's audit endpoint is given a generous 1000 a minute.
    fn default() -> Self {
        SimOptions {
            cloudflare_rate_limit: Some(RateLimit {
                requests: 1200,
                window: Duration::from_secs(300),
            }),
            datadog_rate_limit: Some(RateLimit {
                requests: 1000,
                window: Duration::from_secs(60),
            }),
        }
    }
}

/// All five simulators.
#[derive(Debug)]
pub struct Simulators {
    pub cloudflare: CloudflareSim,
    pub datadog: DatadogSim,
    pub confluence: ConfluenceSim,
    pub linear: LinearSim,
    pub pagerduty: PagerDutySim,
}

impl Simulators {
    /// Starts every simulator for Cloudflare account `account_id`.
    pub async fn start(
        account_id: &str,
        credentials: &SimCredentials,
        options: &SimOptions,
    ) -> Result<Simulators, SimError> {
        let copy = |s: &Secret| Secret::new(s.expose().to_owned());
        Ok(Simulators {
            cloudflare: CloudflareSim::start(
                account_id,
                copy(&credentials.cloudflare_token),
                options.cloudflare_rate_limit,
            )
            .await?,
            datadog: DatadogSim::start(
                copy(&credentials.datadog_api_key),
                copy(&credentials.datadog_app_key),
                options.datadog_rate_limit,
            )
            .await?,
            confluence: ConfluenceSim::start(
                &credentials.confluence_email,
                copy(&credentials.confluence_token),
            )
            .await?,
            linear: LinearSim::start(copy(&credentials.linear_api_key)).await?,
            pagerduty: PagerDutySim::start(copy(&credentials.pagerduty_routing_key)).await?,
        })
    }
}

/// The text at a dotted path (`actor.email`) of a JSON object; numbers and
/// booleans as written.
pub(crate) fn text_at(value: &Value, path: &str) -> Option<String> {
    let mut at = value;
    for key in path.split('.') {
        at = at.get(key)?;
    }
    match at {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Constant-time comparison of a presented credential with the expected one.
pub(crate) fn same_secret(presented: &str, expected: &Secret) -> bool {
    let (a, b) = (presented.as_bytes(), expected.expose().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
