//! Sections of the investigation workflow: `[webhook]` (the anomaly receiver)
//! and `[investigation]` (context window, identities, triggers).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::values::{Email, HumanDuration};

/// `[webhook]`: `POST /webhook/anomaly` for external detectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [webhook] table")]
pub struct WebhookConfig {
    /// Whether the engine (daemon, TUI) starts the receiver. `soc-tui webhook
    /// serve` runs it regardless.
    pub enabled: bool,
    /// Address to listen on; loopback by default, so nothing outside the host
    /// reaches it until the operator says so.
    pub bind: IpAddr,
    pub port: u16,
    pub mode: WebhookAuthMode,
    /// How far a signature's timestamp may be from our clock (HMAC mode).
    pub max_skew: HumanDuration,
    pub max_body_bytes: usize,
    /// Requests accepted per minute (all senders together); 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Where each field of the anomaly is found in a sender's JSON.
    pub fields: WebhookFieldMap,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            enabled: false,
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8787,
            mode: WebhookAuthMode::Hmac,
            max_skew: HumanDuration::from_secs(5 * 60),
            max_body_bytes: 64 * 1024,
            rate_limit_per_minute: 60,
            fields: WebhookFieldMap::default(),
        }
    }
}

/// How a sender proves it holds the webhook secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAuthMode {
    /// HMAC-SHA256 over `timestamp.body` in the signature header.
    #[default]
    Hmac,
    /// The secret itself in a header, for senders that cannot sign (Datadog webhooks).
    SharedSecret,
}

impl fmt::Display for WebhookAuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookAuthMode::Hmac => "hmac",
            WebhookAuthMode::SharedSecret => "shared_secret",
        })
    }
}

/// `[webhook.fields]`: for each field of an anomaly, JSON pointers (RFC 6901)
/// tried in order; the first that holds a value wins. The defaults accept
/// the documented schema and the shapes common detectors send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [webhook.fields] table")]
pub struct WebhookFieldMap {
    pub actor: Vec<String>,
    pub action: Vec<String>,
    pub timestamp: Vec<String>,
    pub source: Vec<String>,
    pub detector: Vec<String>,
    pub details: Vec<String>,
}

fn pointers(list: &[&str]) -> Vec<String> {
    list.iter().map(|p| (*p).to_owned()).collect()
}

impl Default for WebhookFieldMap {
    fn default() -> Self {
        WebhookFieldMap {
            actor: pointers(&[
                "/actor",
                "/actor/email",
                "/usr/email",
                "/user/email",
                "/user",
                "/principal",
            ]),
            action: pointers(&["/action", "/event_type", "/rule", "/title"]),
            timestamp: pointers(&["/timestamp", "/time", "/date", "/last_updated"]),
            source: pointers(&["/source", "/service"]),
            detector: pointers(&["/detector", "/monitor", "/alert_id", "/id"]),
            details: pointers(&["/details", "/body", "/message"]),
        }
    }
}

impl WebhookFieldMap {
    /// `(field name, pointers)` for every field, in documentation order.
    pub fn entries(&self) -> [(&'static str, &[String]); 6] {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("timestamp", &self.timestamp),
            ("source", &self.source),
            ("detector", &self.detector),
            ("details", &self.details),
        ]
    }
}

/// `[investigation]`: what an investigation reads and what starts one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [investigation] table")]
pub struct InvestigationConfig {
    /// The context is `[t - window_before, t + window_after]` around the anomaly.
    pub window_before: HumanDuration,
    pub window_after: HumanDuration,
    /// How far back "first seen" and the actor's usual hours are learned.
    pub history: HumanDuration,
    /// Most events read into one timeline; the earliest are kept.
    pub max_events: usize,
    /// Query Cloudflare and Datadog for the actor's events in the window,
    /// on top of what the store holds.
    pub live_queries: bool,
    /// Start an investigation for every new finding of the scheduled checks.
    pub auto_investigate_findings: bool,
    /// People known under several names (a second email, a Cloudflare actor
    /// id, a Datadog user uuid).
    pub identities: Vec<IdentityAliases>,
}

impl Default for InvestigationConfig {
    fn default() -> Self {
        InvestigationConfig {
            window_before: HumanDuration::from_secs(24 * 3600),
            window_after: HumanDuration::from_secs(3600),
            history: HumanDuration::from_secs(14 * 24 * 3600),
            max_events: 50_000,
            live_queries: true,
            auto_investigate_findings: false,
            identities: Vec::new(),
        }
    }
}

/// One `identities` entry: the primary email and the other names of the same person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table with `email` and `aliases`")]
pub struct IdentityAliases {
    pub email: Email,
    pub aliases: Vec<String>,
}
