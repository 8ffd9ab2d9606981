//! Building a sink's `HttpClient` from the `[http]` section.

use crate::config::HttpConfig;
use crate::sources::http::{HttpClient, HttpPolicy, HttpSetupError, Service};

/// `[http]` as an `HttpPolicy`; backoff shape and body limits keep their defaults.
pub fn http_policy(http: &HttpConfig) -> HttpPolicy {
    HttpPolicy {
        connect_timeout: http.connect_timeout.get(),
        request_timeout: http.request_timeout.get(),
        max_retries: http.max_retries,
        ..HttpPolicy::default()
    }
}

pub(crate) fn http_client(
    service: Service,
    base_url: &str,
    http: &HttpConfig,
) -> Result<HttpClient, HttpSetupError> {
    let mut builder = HttpClient::builder(service, base_url).policy(http_policy(http));
    if let Some(proxy) = &http.proxy {
        builder = builder.proxy(proxy.as_str());
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::HumanDuration;

    #[test]
    fn policy_follows_the_http_section() {
        let http = HttpConfig {
            connect_timeout: HumanDuration::from_secs(3),
            request_timeout: HumanDuration::from_secs(20),
            max_retries: 5,
            proxy: None,
        };
        let policy = http_policy(&http);
        assert_eq!(policy.connect_timeout, Duration::from_secs(3));
        assert_eq!(policy.request_timeout, Duration::from_secs(20));
        assert_eq!(policy.max_retries, 5);
        assert!(policy.problem().is_none());
    }
}
