//! Sections for the services soc-tui reads from: `[cloudflare]`, `[datadog]`, `[axiom]`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::action_kinds::ActionKinds;
use super::values::{AccountId, BaseUrl, HumanDuration};

/// `[cloudflare]`: account audit logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [cloudflare] table")]
pub struct CloudflareConfig {
    /// Accounts whose audit logs are polled; empty means Cloudflare is not used.
    pub account_ids: Vec<AccountId>,
    pub api_base: BaseUrl,
    pub api_version: CloudflareApiVersion,
    /// When the v2 endpoint answers 404 or 403 for an account, read v1 instead.
    pub v1_fallback: bool,
    /// Each poll re-reads this much before the last checkpoint, for late entries.
    pub poll_overlap: HumanDuration,
    /// Entries newer than this are left for the next poll: they may still be arriving.
    pub settle_delay: HumanDuration,
    /// How far back the very first poll of an account reads (no checkpoint yet).
    pub initial_lookback: HumanDuration,
    /// `[cloudflare.action_kinds]`: action type -> normalized kind, over the defaults.
    #[serde(deserialize_with = "super::action_kinds::merge_cloudflare")]
    pub action_kinds: ActionKinds,
}

impl CloudflareConfig {
    pub fn is_configured(&self) -> bool {
        !self.account_ids.is_empty()
    }
}

impl Default for CloudflareConfig {
    fn default() -> Self {
        CloudflareConfig {
            account_ids: Vec::new(),
            api_base: BaseUrl::builtin("https://api.cloudflare.com/client/v4"),
            api_version: CloudflareApiVersion::V2,
            v1_fallback: true,
            poll_overlap: HumanDuration::from_secs(5 * 60),
            settle_delay: HumanDuration::from_secs(60),
            initial_lookback: HumanDuration::from_secs(60 * 60),
            action_kinds: ActionKinds::cloudflare_defaults(),
        }
    }
}

/// Which audit-log API to read: v2 `/logs/audit` or v1 `/audit_logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudflareApiVersion {
    V2,
    V1,
}

impl fmt::Display for CloudflareApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloudflareApiVersion::V2 => "v2",
            CloudflareApiVersion::V1 => "v1",
        })
    }
}

/// `[datadog]`: Audit Trail events. Set `site`, or `api_base` for anything else
/// (a proxy, a test server); setting neither means Datadog is not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [datadog] table")]
pub struct DatadogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<DatadogSite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base: Option<BaseUrl>,
    /// Each poll re-reads this much before the last checkpoint, for late events.
    pub poll_overlap: HumanDuration,
    /// Events newer than this are left for the next poll: they may still be arriving.
    pub settle_delay: HumanDuration,
    /// How far back the very first poll reads (no checkpoint yet).
    pub initial_lookback: HumanDuration,
    /// `[datadog.action_kinds]`: `@action` -> normalized kind, over the defaults.
    #[serde(deserialize_with = "super::action_kinds::merge_datadog")]
    pub action_kinds: ActionKinds,
}

impl Default for DatadogConfig {
    fn default() -> Self {
        DatadogConfig {
            site: None,
            api_base: None,
            poll_overlap: HumanDuration::from_secs(5 * 60),
            settle_delay: HumanDuration::from_secs(60),
            initial_lookback: HumanDuration::from_secs(60 * 60),
            action_kinds: ActionKinds::datadog_defaults(),
        }
    }
}

impl DatadogConfig {
    pub fn is_configured(&self) -> bool {
        self.site.is_some() || self.api_base.is_some()
    }

    /// `api_base` if set, else `https://api.<site>` (site defaults to datadoghq.com).
    pub fn resolved_api_base(&self) -> BaseUrl {
        match &self.api_base {
            Some(base) => base.clone(),
            None => self.site.unwrap_or(DatadogSite::Us1).api_base(),
        }
    }
}

/// The Datadog sites listed in the API spec's `servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatadogSite {
    #[serde(rename = "datadoghq.com")]
    Us1,
    #[serde(rename = "us3.datadoghq.com")]
    Us3,
    #[serde(rename = "us5.datadoghq.com")]
    Us5,
    #[serde(rename = "datadoghq.eu")]
    Eu1,
    #[serde(rename = "ap1.datadoghq.com")]
    Ap1,
    #[serde(rename = "ap2.datadoghq.com")]
    Ap2,
    #[serde(rename = "ddog-gov.com")]
    Gov,
}

impl DatadogSite {
    pub const ALL: [DatadogSite; 7] = [
        DatadogSite::Us1,
        DatadogSite::Us3,
        DatadogSite::Us5,
        DatadogSite::Eu1,
        DatadogSite::Ap1,
        DatadogSite::Ap2,
        DatadogSite::Gov,
    ];

    pub fn domain(self) -> &'static str {
        match self {
            DatadogSite::Us1 => "datadoghq.com",
            DatadogSite::Us3 => "us3.datadoghq.com",
            DatadogSite::Us5 => "us5.datadoghq.com",
            DatadogSite::Eu1 => "datadoghq.eu",
            DatadogSite::Ap1 => "ap1.datadoghq.com",
            DatadogSite::Ap2 => "ap2.datadoghq.com",
            DatadogSite::Gov => "ddog-gov.com",
        }
    }

    pub fn api_base(self) -> BaseUrl {
        BaseUrl::builtin(match self {
            DatadogSite::Us1 => "https://api.datadoghq.com",
            DatadogSite::Us3 => "https://api.us3.datadoghq.com",
            DatadogSite::Us5 => "https://api.us5.datadoghq.com",
            DatadogSite::Eu1 => "https://api.datadoghq.eu",
            DatadogSite::Ap1 => "https://api.ap1.datadoghq.com",
            DatadogSite::Ap2 => "https://api.ap2.datadoghq.com",
            DatadogSite::Gov => "https://api.ddog-gov.com",
        })
    }
}

impl fmt::Display for DatadogSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.domain())
    }
}

/// `[axiom]`: optional long-term baseline store queried with APL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [axiom] table")]
pub struct AxiomConfig {
    pub enabled: bool,
    pub api_base: BaseUrl,
    /// Dataset holding the audit events; required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Sent as `x-axiom-org-id`; needed only with a personal access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl Default for AxiomConfig {
    fn default() -> Self {
        AxiomConfig {
            enabled: false,
            api_base: BaseUrl::builtin("https://api.axiom.co"),
            dataset: None,
            org_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_resolves_to_its_api_host() {
        for site in DatadogSite::ALL {
            let config = DatadogConfig {
                site: Some(site),
                ..DatadogConfig::default()
            };
            assert_eq!(
                config.resolved_api_base().as_str(),
                format!("https://api.{}", site.domain())
            );
            let parsed: DatadogSite =
                serde_json::from_value(serde_json::Value::String(site.domain().into())).unwrap();
            assert_eq!(parsed, site);
        }
    }

    #[test]
    fn api_base_overrides_the_site_and_the_default_site_is_us1() {
        let overridden = DatadogConfig {
            api_base: Some(BaseUrl::try_from("http://127.0.0.1:9000/".to_owned()).unwrap()),
            ..DatadogConfig::default()
        };
        assert_eq!(
            overridden.resolved_api_base().as_str(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            DatadogConfig::default().resolved_api_base().as_str(),
            "https://api.datadoghq.com"
        );
        assert!(!DatadogConfig::default().is_configured());
    }
}
