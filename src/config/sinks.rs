//! Sections for the services soc-tui writes to: `[confluence]`, `[linear]`,
//! `[pagerduty]` and `[s3]`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::values::{BaseUrl, CredentialName, Email};
use crate::detect::finding::{PagerDutySeverity, Severity};

/// `[confluence]`: where approved investigation reports are published.
/// Unset `base_url` means Confluence is not used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [confluence] table")]
pub struct ConfluenceConfig {
    /// The site's wiki root, e.g. `https://example.atlassian.net/wiki`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    /// Reports are created as children of this page; at the space root when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_page_id: Option<String>,
    /// The Atlassian account for Basic auth; the API token comes from the keychain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl ConfluenceConfig {
    pub fn is_configured(&self) -> bool {
        self.base_url.is_some()
    }
}

/// `[linear]`: tickets for findings. Unset `team_id` means Linear is not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [linear] table")]
pub struct LinearConfig {
    pub api_url: BaseUrl,
    /// The team's UUID (not its short key such as `SEC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    pub labels: LinearLabels,
    pub priorities: LinearPriorities,
}

impl LinearConfig {
    pub fn is_configured(&self) -> bool {
        self.team_id.is_some()
    }
}

impl Default for LinearConfig {
    fn default() -> Self {
        LinearConfig {
            api_url: BaseUrl::builtin("https://api.linear.app/graphql"),
            team_id: None,
            labels: LinearLabels::default(),
            priorities: LinearPriorities::default(),
        }
    }
}

/// `[linear.labels]`: label names put on tickets, per workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [linear.labels] table")]
pub struct LinearLabels {
    pub baseline: Vec<String>,
    pub bursts: Vec<String>,
    pub tokens: Vec<String>,
    /// Published investigation reports.
    pub investigation: Vec<String>,
}

/// `[linear.priorities]`: the Linear priority of a ticket for each severity
/// (0 no priority, 1 urgent, 2 high, 3 medium, 4 low).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    expecting = "the [linear.priorities] table"
)]
pub struct LinearPriorities {
    pub critical: u8,
    pub high: u8,
    pub medium: u8,
    pub low: u8,
    pub info: u8,
}

impl LinearPriorities {
    pub fn of(&self, severity: Severity) -> u8 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

impl Default for LinearPriorities {
    fn default() -> Self {
        LinearPriorities {
            critical: Severity::Critical.linear_priority(),
            high: Severity::High.linear_priority(),
            medium: Severity::Medium.linear_priority(),
            low: Severity::Low.linear_priority(),
            info: Severity::Info.linear_priority(),
        }
    }
}

/// `[pagerduty.severities]`: the Events API v2 severity sent for each
/// severity (critical, error, warning or info).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    expecting = "the [pagerduty.severities] table"
)]
pub struct PagerDutySeverities {
    pub critical: PagerDutySeverity,
    pub high: PagerDutySeverity,
    pub medium: PagerDutySeverity,
    pub low: PagerDutySeverity,
    pub info: PagerDutySeverity,
}

impl PagerDutySeverities {
    pub fn of(&self, severity: Severity) -> PagerDutySeverity {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

impl Default for PagerDutySeverities {
    fn default() -> Self {
        PagerDutySeverities {
            critical: Severity::Critical.pagerduty(),
            high: Severity::High.pagerduty(),
            medium: Severity::Medium.pagerduty(),
            low: Severity::Low.pagerduty(),
            info: Severity::Info.pagerduty(),
        }
    }
}

/// `[pagerduty]`: incidents for urgent findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [pagerduty] table")]
pub struct PagerDutyConfig {
    pub enabled: bool,
    pub events_base: BaseUrl,
    pub rest_base: BaseUrl,
    /// Which stored credential holds the Events API v2 integration (routing) key.
    pub routing_key_name: CredentialName,
    /// Sent as the `From` header on REST calls; must be a PagerDuty user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_email: Option<Email>,
    /// The service REST incidents are opened on (e.g. `PWIXJZS`); needed
    /// only when `routing_key_name` names the REST API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    pub severities: PagerDutySeverities,
}

impl Default for PagerDutyConfig {
    fn default() -> Self {
        PagerDutyConfig {
            enabled: false,
            events_base: BaseUrl::builtin("https://events.pagerduty.com/v2"),
            rest_base: BaseUrl::builtin("https://api.pagerduty.com"),
            routing_key_name: CredentialName::builtin("pagerduty-routing-key"),
            from_email: None,
            service_id: None,
            severities: PagerDutySeverities::default(),
        }
    }
}

/// `[s3]`: the token archive. Without a bucket, objects go to a local directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [s3] table")]
pub struct S3Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    pub region: String,
    /// An S3-compatible server instead of AWS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<BaseUrl>,
    /// Path-style requests (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub path_style: bool,
    /// Prepended to every object key.
    pub prefix: String,
    pub object_lock_mode: ObjectLockMode,
    /// How long each archived object stays locked.
    pub retention_days: u32,
}

impl S3Config {
    pub fn is_configured(&self) -> bool {
        self.bucket.is_some()
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            bucket: None,
            region: "us-east-1".to_owned(),
            endpoint: None,
            path_style: false,
            prefix: "soc-tui/".to_owned(),
            object_lock_mode: ObjectLockMode::Off,
            retention_days: 0,
        }
    }
}

/// The `x-amz-object-lock-mode` sent with each archived object, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectLockMode {
    #[default]
    #[serde(rename = "none")]
    Off,
    #[serde(rename = "GOVERNANCE")]
    Governance,
    #[serde(rename = "COMPLIANCE")]
    Compliance,
}

impl fmt::Display for ObjectLockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectLockMode::Off => "none",
            ObjectLockMode::Governance => "GOVERNANCE",
            ObjectLockMode::Compliance => "COMPLIANCE",
        })
    }
}
