//! Typed HTTP failures that say which service, which endpoint, what status,
//! and what the service itself said. They never carry a query string, a
//! header or a request body: those may hold secrets.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};

use super::service::Service;

/// Which call failed: service, method and URL path (no host, no query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub service: Service,
    pub method: Method,
    pub path: String,
}

impl RequestContext {
    pub(crate) fn of(service: Service, request: &reqwest::Request) -> Self {
        Self {
            service,
            method: request.method().clone(),
            path: request.url().path().to_owned(),
        }
    }
}

impl fmt::Display for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.service, self.method, self.path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The service answered with an error status (after any retries).
    #[error("{context}: HTTP {status}{}{}", said(.message), tries(*.attempts))]
    Status {
        context: RequestContext,
        status: StatusCode,
        /// From the service's error envelope, cleaned and truncated.
        message: Option<String>,
        attempts: u32,
    },
    /// The service asked for a longer wait than the policy sits through, or
    /// retries ran out while it kept answering 429. The scheduler should try
    /// again at `until`.
    #[error(
        "{context}: rate limited; the service asks to wait {}s (until {}){}",
        whole_seconds(.wait),
        .until.format("%H:%M:%S UTC"),
        said(.message)
    )]
    RateLimited {
        context: RequestContext,
        wait: Duration,
        until: DateTime<Utc>,
        message: Option<String>,
    },
    #[error("{context}: no response within {}s{}", whole_seconds(.after), tries(*.attempts))]
    Timeout {
        context: RequestContext,
        after: Duration,
        attempts: u32,
    },
    #[error("{context}: cannot connect: {detail}{}", tries(*.attempts))]
    Connect {
        context: RequestContext,
        detail: String,
        attempts: u32,
    },
    /// The connection broke mid-exchange (reset, closed early).
    #[error("{context}: connection lost: {detail}{}", tries(*.attempts))]
    Transport {
        context: RequestContext,
        detail: String,
        attempts: u32,
    },
    #[error("{context}: response body is larger than the {limit}-byte limit")]
    BodyTooLarge {
        context: RequestContext,
        limit: usize,
    },
    /// The request could not be built (a header value with a newline, say).
    #[error("{service}: cannot build the request: {detail}")]
    InvalidRequest { service: Service, detail: String },
}

fn said(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

fn tries(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn whole_seconds(duration: &Duration) -> u64 {
    let secs = duration.as_secs();
    if duration.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    }
}

impl HttpError {
    pub fn service(&self) -> Service {
        match self {
            HttpError::Status { context, .. }
            | HttpError::RateLimited { context, .. }
            | HttpError::Timeout { context, .. }
            | HttpError::Connect { context, .. }
            | HttpError::Transport { context, .. }
            | HttpError::BodyTooLarge { context, .. } => context.service,
            HttpError::InvalidRequest { service, .. } => *service,
        }
    }

    pub fn context(&self) -> Option<&RequestContext> {
        match self {
            HttpError::Status { context, .. }
            | HttpError::RateLimited { context, .. }
            | HttpError::Timeout { context, .. }
            | HttpError::Connect { context, .. }
            | HttpError::Transport { context, .. }
            | HttpError::BodyTooLarge { context, .. } => Some(context),
            HttpError::InvalidRequest { .. } => None,
        }
    }

    /// The HTTP status, when the service answered (429 for `RateLimited`).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// The service's own message from its error envelope.
    pub fn service_message(&self) -> Option<&str> {
        match self {
            HttpError::Status { message, .. } | HttpError::RateLimited { message, .. } => {
                message.as_deref()
            }
            _ => None,
        }
    }

    /// How long the service asked us to stay away, for a rate-limit error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    /// Worth trying again later: network trouble, timeouts, rate limits,
    /// 5xx other than 501/505, 408, 409 (a conflict may clear), 429.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => is_transient_status(*status),
            HttpError::RateLimited { .. }
            | HttpError::Timeout { .. }
            | HttpError::Connect { .. }
            | HttpError::Transport { .. } => true,
            HttpError::BodyTooLarge { .. } | HttpError::InvalidRequest { .. } => false,
        }
    }

    /// Trying again cannot help until something changes (config, input, code).
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// Whether `send` retries this itself, after a backoff. Narrower than
    /// `is_transient`: a 409 is left to the caller, and a 429 is waited out
    /// rather than backed off.
    pub(crate) fn is_retried_in_place(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => {
                *status == StatusCode::REQUEST_TIMEOUT || is_retryable_server_error(*status)
            }
            HttpError::Timeout { .. } | HttpError::Connect { .. } | HttpError::Transport { .. } => {
                true
            }
            HttpError::RateLimited { .. }
            | HttpError::BodyTooLarge { .. }
            | HttpError::InvalidRequest { .. } => false,
        }
    }
}

/// The status-only half of [`HttpError::is_transient`], for callers (the
/// outbox) that classify a stored status code.
pub fn is_transient_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
    ) || is_retryable_server_error(status)
}

/// 501 and 505 say the server will never support this request.
fn is_retryable_server_error(status: StatusCode) -> bool {
    status.is_server_error()
        && status != StatusCode::NOT_IMPLEMENTED
        && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        RequestContext {
            service: Service::Cloudflare,
            method: Method::GET,
            path: "/accounts/abc/logs/audit".into(),
        }
    }

    fn status_error(code: u16) -> HttpError {
        HttpError::Status {
            context: context(),
            status: StatusCode::from_u16(code).expect("valid status"),
            message: None,
            attempts: 1,
        }
    }

    #[test]
    fn classification_follows_status() {
        for code in [408, 409, 429, 500, 502, 503, 504] {
            assert!(status_error(code).is_transient(), "{code}");
        }
        for code in [400, 401, 403, 404, 412, 422, 501, 505] {
            assert!(status_error(code).is_permanent(), "{code}");
        }
        assert!(!status_error(409).is_retried_in_place());
        assert!(status_error(408).is_retried_in_place());
        assert!(!status_error(501).is_retried_in_place());
    }

    #[test]
    fn display_names_service_endpoint_status_and_message() {
        let error = HttpError::Status {
            context: context(),
            status: StatusCode::BAD_REQUEST,
            message: Some("Some error message (code 12345)".into()),
            attempts: 3,
        };
        assert_eq!(
            error.to_string(),
            "cloudflare GET /accounts/abc/logs/audit: HTTP 400 Bad Request: Some error message (code 12345) (gave up after 3 attempts)"
        );
        let limited = HttpError::RateLimited {
            context: context(),
            wait: Duration::from_millis(299_500),
            until: DateTime::from_timestamp(1_800_000_300, 0).expect("time"),
            message: None,
        };
        assert_eq!(limited.retry_after(), Some(Duration::from_millis(299_500)));
        assert_eq!(
            limited.to_string(),
            "cloudflare GET /accounts/abc/logs/audit: rate limited; the service asks to wait 300s (until 08:05:00 UTC)"
        );
    }
}
