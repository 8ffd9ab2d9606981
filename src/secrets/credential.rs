//! The credentials soc-tui knows, with their CLI names, environment variables
//! and keychain accounts. This table is the single source of those names.

use std::fmt;

use clap::ValueEnum;
use clap::builder::PossibleValue;

/// Keychain "service" under which every soc-tui credential is stored.
pub const KEYCHAIN_SERVICE: &str = "soc-tui";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    CloudflareToken,
    DatadogApiKey,
    DatadogAppKey,
    AxiomToken,
    ConfluenceToken,
    LinearApiKey,
    PagerdutyRoutingKey,
    PagerdutyApiKey,
    S3AccessKeyId,
    S3SecretAccessKey,
    WebhookSecret,
    LlmApiKey,
}

struct Names {
    /// CLI name, also the keychain account.
    cli: &'static str,
    env_var: &'static str,
    description: &'static str,
}

impl Credential {
    pub const ALL: [Credential; 12] = [
        Credential::CloudflareToken,
        Credential::DatadogApiKey,
        Credential::DatadogAppKey,
        Credential::AxiomToken,
        Credential::ConfluenceToken,
        Credential::LinearApiKey,
        Credential::PagerdutyRoutingKey,
        Credential::PagerdutyApiKey,
        Credential::S3AccessKeyId,
        Credential::S3SecretAccessKey,
        Credential::WebhookSecret,
        Credential::LlmApiKey,
    ];

    fn names(self) -> Names {
        let (cli, env_var, description) = match self {
            Credential::CloudflareToken => (
                "cloudflare",
                "SOC_TUI_CLOUDFLARE_TOKEN",
                "Cloudflare API token (audit logs read)",
            ),
            Credential::DatadogApiKey => (
                "datadog-api-key",
                "SOC_TUI_DATADOG_API_KEY",
                "Datadog API key",
            ),
            Credential::DatadogAppKey => (
                "datadog-app-key",
                "SOC_TUI_DATADOG_APP_KEY",
                "Datadog application key (audit_logs_read)",
            ),
            Credential::AxiomToken => ("axiom", "SOC_TUI_AXIOM_TOKEN", "Axiom API token"),
            Credential::ConfluenceToken => (
                "confluence",
                "SOC_TUI_CONFLUENCE_TOKEN",
                "Confluence API token (used with the account email from the config)",
            ),
            Credential::LinearApiKey => ("linear", "SOC_TUI_LINEAR_API_KEY", "Linear API key"),
            Credential::PagerdutyRoutingKey => (
                "pagerduty-routing-key",
                "SOC_TUI_PAGERDUTY_ROUTING_KEY",
                "PagerDuty Events API v2 routing (integration) key",
            ),
            Credential::PagerdutyApiKey => (
                "pagerduty-api-key",
                "SOC_TUI_PAGERDUTY_API_KEY",
                "PagerDuty REST API key",
            ),
            Credential::S3AccessKeyId => (
                "s3-access-key-id",
                "SOC_TUI_S3_ACCESS_KEY_ID",
                "S3 access key id (token archive)",
            ),
            Credential::S3SecretAccessKey => (
                "s3-secret-access-key",
                "SOC_TUI_S3_SECRET_ACCESS_KEY",
                "S3 secret access key (token archive)",
            ),
            Credential::WebhookSecret => (
                "webhook-secret",
                "SOC_TUI_WEBHOOK_SECRET",
                "HMAC secret that signs incoming anomaly webhooks",
            ),
            Credential::LlmApiKey => (
                "llm-api-key",
                "SOC_TUI_LLM_API_KEY",
                "API key of the LLM investigator (OpenAI or Anthropic)",
            ),
        };
        Names {
            cli,
            env_var,
            description,
        }
    }

    /// The name used on the command line and as the keychain account.
    pub fn name(self) -> &'static str {
        self.names().cli
    }

    /// The environment variable that overrides the keychain.
    pub fn env_var(self) -> &'static str {
        self.names().env_var
    }

    pub fn description(self) -> &'static str {
        self.names().description
    }

    /// The keychain account (the "username" attribute in the Secret Service).
    pub fn keychain_account(self) -> &'static str {
        self.name()
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// Implemented by hand so the CLI names and their help come from the table above.
impl ValueEnum for Credential {
    fn value_variants<'a>() -> &'a [Self] {
        &Credential::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(format!(
            "{} [env: {}]",
            self.description(),
            self.env_var()
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_and_env_vars_are_unique_and_well_formed() {
        let names: HashSet<_> = Credential::ALL.iter().map(|c| c.name()).collect();
        let vars: HashSet<_> = Credential::ALL.iter().map(|c| c.env_var()).collect();
        assert_eq!(names.len(), Credential::ALL.len());
        assert_eq!(vars.len(), Credential::ALL.len());
        for cred in Credential::ALL {
            let var = cred.env_var();
            assert!(var.starts_with("SOC_TUI_"), "{var}");
            assert!(
                var.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{var}"
            );
            assert!(
                cred.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                cred.name()
            );
        }
    }

    #[test]
    fn cli_names_parse_back_to_the_same_credential() {
        for cred in Credential::ALL {
            assert_eq!(Credential::from_str(cred.name(), false), Ok(cred));
        }
        assert!(Credential::from_str("cloudflare-token", false).is_err());
    }

    #[test]
    fn documented_env_vars_match_the_issue() {
        assert_eq!(
            Credential::CloudflareToken.env_var(),
            "SOC_TUI_CLOUDFLARE_TOKEN"
        );
        assert_eq!(
            Credential::DatadogApiKey.env_var(),
            "SOC_TUI_DATADOG_API_KEY"
        );
        assert_eq!(
            Credential::DatadogAppKey.env_var(),
            "SOC_TUI_DATADOG_APP_KEY"
        );
    }
}
