//! How a delivery fails: permanently (the outbox dead-letters the row with
//! the service's own message) or transiently (retry later, no sooner than
//! `retry_after` when the service said so).

use std::time::Duration;

use crate::secrets::SecretsError;
use crate::sources::http::{HttpError, HttpSetupError};

use super::SinkKind;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Retrying cannot help until something changes (config, input, the
    /// remote object). The message names what.
    #[error("{sink}: {message}")]
    Permanent { sink: SinkKind, message: String },
    /// Network trouble, a timeout, 5xx, 408/409, a rate limit.
    #[error("{sink}: {message}")]
    Transient {
        sink: SinkKind,
        message: String,
        retry_after: Option<Duration>,
    },
}

impl SinkError {
    pub(crate) fn permanent(sink: SinkKind, message: impl Into<String>) -> SinkError {
        SinkError::Permanent {
            sink,
            message: message.into(),
        }
    }

    pub(crate) fn transient(sink: SinkKind, message: impl Into<String>) -> SinkError {
        SinkError::Transient {
            sink,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Classifies by [`HttpError::is_transient`]: 4xx other than 408, 409
    /// and 429 are permanent. The message is the error's display, which names
    /// the endpoint and carries the service's own words but never a secret.
    pub(crate) fn from_http(sink: SinkKind, error: &HttpError) -> SinkError {
        // The sink already names the service; keep the rest ("POST /v2/enqueue: HTTP 400 ...").
        let text = error.to_string();
        let service = error.service().as_str();
        let message = text
            .strip_prefix(service)
            .map(|rest| rest.trim_start_matches(':').trim_start())
            .unwrap_or(&text)
            .to_owned();
        if error.is_transient() {
            SinkError::Transient {
                sink,
                message,
                retry_after: error.retry_after(),
            }
        } else {
            SinkError::permanent(sink, message)
        }
    }

    pub fn sink(&self) -> SinkKind {
        match self {
            SinkError::Permanent { sink, .. } | SinkError::Transient { sink, .. } => *sink,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SinkError::Permanent { message, .. } | SinkError::Transient { message, .. } => message,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, SinkError::Transient { .. })
    }

    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// How long the service asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SinkError::Transient { retry_after, .. } => *retry_after,
            SinkError::Permanent { .. } => None,
        }
    }
}

/// Why a sink could not be built from the config.
#[derive(Debug, thiserror::Error)]
pub enum SinkSetupError {
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    #[error(transparent)]
    Secret(#[from] SecretsError),
    /// A combination the config validator cannot see (it does not know which
    /// credential is a REST key), named by its key.
    #[error("config key `{key}`: {message}")]
    Config { key: &'static str, message: String },
}

#[cfg(test)]
mod tests {
    use reqwest::{Method, StatusCode};

    use super::*;
    use crate::sources::http::{RequestContext, Service};

    fn status(code: u16) -> HttpError {
        HttpError::Status {
            context: RequestContext {
                service: Service::Linear,
                method: Method::POST,
                path: "/graphql".into(),
            },
            status: StatusCode::from_u16(code).expect("status"),
            message: Some("the service said so".into()),
            attempts: 1,
        }
    }

    #[test]
    fn http_classification_carries_over_with_the_message() {
        for code in [400, 401, 403, 404, 412, 422] {
            let e = SinkError::from_http(SinkKind::Linear, &status(code));
            assert!(e.is_permanent(), "{code}");
            assert!(e.message().contains("the service said so"), "{e}");
        }
        for code in [408, 409, 500, 503] {
            assert!(
                SinkError::from_http(SinkKind::Linear, &status(code)).is_transient(),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_is_kept_for_rate_limits() {
        let limited = HttpError::RateLimited {
            context: RequestContext {
                service: Service::PagerDuty,
                method: Method::POST,
                path: "/v2/enqueue".into(),
            },
            wait: Duration::from_secs(90),
            until: chrono::DateTime::from_timestamp(1_800_000_090, 0).expect("time"),
            message: None,
        };
        let e = SinkError::from_http(SinkKind::PagerDuty, &limited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(90)));
        assert_eq!(
            e.to_string(),
            "pagerduty: POST /v2/enqueue: rate limited; the service asks to wait 90s (until 08:01:30 UTC)"
        );
    }
}
