//! Building pollers from the config and the stored credentials.

use crate::config::{Config, HttpConfig};
use crate::secrets::{Credential, Secret, SecretsError};
use crate::sources::action_kinds::ActionKindMap;
use crate::sources::cloudflare::client::CloudflareClient;
use crate::sources::datadog::client::DatadogClient;
use crate::sources::http::{HttpClient, HttpPolicy, HttpSetupError, Service};

use super::window::WindowPolicy;
use super::{CloudflarePoller, CloudflareSettings, DatadogPoller};
use crate::detect::Rules;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{service} is not configured: set {keys} in the config file")]
    NotConfigured {
        service: Service,
        keys: &'static str,
    },
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    #[error(transparent)]
    Credential(#[from] SecretsError),
    /// The stored value cannot be sent in an HTTP header (a pasted newline,
    /// a control character). The value itself is never shown.
    #[error(
        "the stored credential `{}` is not usable in an HTTP header (control character or \
         non-ASCII byte); store it again with `soc-tui auth set {}` or fix {}",
        .0.name(), .0.name(), .0.env_var()
    )]
    UnusableCredential(Credential),
}

/// The `[http]` section as a client policy; the rest keeps the defaults.
pub fn http_policy(config: &HttpConfig) -> HttpPolicy {
    HttpPolicy {
        connect_timeout: config.connect_timeout.get(),
        request_timeout: config.request_timeout.get(),
        max_retries: config.max_retries,
        ..HttpPolicy::default()
    }
}

/// A client for `service` at `base_url` under the `[http]` settings.
pub fn http_client(
    service: Service,
    base_url: &str,
    config: &HttpConfig,
) -> Result<HttpClient, HttpSetupError> {
    let mut builder = HttpClient::builder(service, base_url).policy(http_policy(config));
    if let Some(proxy) = &config.proxy {
        builder = builder.proxy(proxy.as_str());
    }
    builder.build()
}

/// `token` is asked for only once the config says Cloudflare is used, so a
/// missing config is reported before a missing credential.
pub fn cloudflare_poller(
    config: &Config,
    token_rules: Rules,
    token: impl FnOnce() -> Result<Secret, SecretsError>,
) -> Result<CloudflarePoller, SetupError> {
    let cf = &config.cloudflare;
    if !cf.is_configured() {
        return Err(SetupError::NotConfigured {
            service: Service::Cloudflare,
            keys: "[cloudflare] account_ids",
        });
    }
    let token = token()?;
    usable(&token, Credential::CloudflareToken)?;
    let http = http_client(Service::Cloudflare, cf.api_base.as_str(), &config.http)?;
    let settings = CloudflareSettings {
        accounts: cf
            .account_ids
            .iter()
            .map(|id| id.as_str().to_owned())
            .collect(),
        version: cf.api_version,
        v1_fallback: cf.v1_fallback,
        window: WindowPolicy::from_std(
            cf.poll_overlap.get(),
            cf.settle_delay.get(),
            cf.initial_lookback.get(),
        ),
        token_rules,
    };
    Ok(CloudflarePoller::new(
        CloudflareClient::new(http, token).with_action_kinds(ActionKindMap::from_config(config)),
        settings,
    ))
}

/// `keys` gives the API key and the application key, asked for only once
/// the config says Datadog is used.
pub fn datadog_poller(
    config: &Config,
    keys: impl FnOnce() -> Result<(Secret, Secret), SecretsError>,
) -> Result<DatadogPoller, SetupError> {
    let dd = &config.datadog;
    if !dd.is_configured() {
        return Err(SetupError::NotConfigured {
            service: Service::Datadog,
            keys: "[datadog] site (or api_base)",
        });
    }
    let (api_key, app_key) = keys()?;
    usable(&api_key, Credential::DatadogApiKey)?;
    usable(&app_key, Credential::DatadogAppKey)?;
    let base = dd.resolved_api_base();
    let http = http_client(Service::Datadog, base.as_str(), &config.http)?;
    let policy = WindowPolicy::from_std(
        dd.poll_overlap.get(),
        dd.settle_delay.get(),
        dd.initial_lookback.get(),
    );
    Ok(DatadogPoller::new(
        DatadogClient::new(http, api_key, app_key)
            .with_action_kinds(ActionKindMap::from_config(config)),
        base.as_str(),
        policy,
    ))
}

/// `datadog:<host>`, with the port when the base names one (two test
/// servers on one host keep separate checkpoints).
pub fn datadog_checkpoint_key(api_base: &str) -> String {
    let host = url::Url::parse(api_base).ok().and_then(|url| {
        let host = url.host_str()?.to_owned();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    format!("datadog:{}", host.as_deref().unwrap_or(api_base))
}

/// Visible ASCII only: what every API key and token is made of, and what
/// an HTTP header can carry.
fn usable(secret: &Secret, credential: Credential) -> Result<(), SetupError> {
    let value = secret.expose();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(SetupError::UnusableCredential(credential))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BaseUrl, DatadogSite};

    #[test]
    fn checkpoint_keys_name_the_host() {
        for site in DatadogSite::ALL {
            assert_eq!(
                datadog_checkpoint_key(site.api_base().as_str()),
                format!("datadog:api.{}", site.domain())
            );
        }
        assert_eq!(
            datadog_checkpoint_key("http://127.0.0.1:4010"),
            "datadog:127.0.0.1:4010"
        );
    }

    #[test]
    fn unconfigured_services_name_the_keys_to_set() {
        let config = Config::default();
        let rules = crate::detect::rules::parse(None).unwrap().rules;
        let cf = cloudflare_poller(&config, rules, || panic!("credential asked for"))
            .err()
            .unwrap();
        assert_eq!(
            cf.to_string(),
            "cloudflare is not configured: set [cloudflare] account_ids in the config file"
        );
        let dd = datadog_poller(&config, || panic!("credential asked for"))
            .err()
            .unwrap();
        assert!(dd.to_string().contains("[datadog] site"), "{dd}");
    }

    #[test]
    fn a_credential_with_a_newline_is_refused_without_showing_it() {
        let mut config = Config::default();
        config.datadog.api_base = Some(BaseUrl::try_from("http://127.0.0.1:9".to_owned()).unwrap());
        let error = datadog_poller(&config, || {
            Ok((Secret::new("sekrit\n".into()), Secret::new("b".into())))
        })
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("datadog-api-key"), "{error}");
        assert!(error.contains("SOC_TUI_DATADOG_API_KEY"), "{error}");
        assert!(!error.contains("sekrit"), "{error}");
    }

    #[test]
    fn http_settings_become_the_policy() {
        let config = HttpConfig::default();
        let policy = http_policy(&config);
        assert_eq!(policy.max_retries, config.max_retries);
        assert_eq!(policy.request_timeout, config.request_timeout.get());
    }
}
