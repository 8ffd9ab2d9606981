//! The HTTP layer every remote call goes through: one [`HttpClient`] per
//! service (rustls, connect and total timeouts, `soc-tui/<version>` user
//! agent, optional proxy), retries with jittered exponential backoff on
//! transient failures, 429s waited out exactly as long as the service asks
//! (never less), rate-limit state the engine can watch, and typed errors
//! that carry the service's own message.

mod clock;
mod envelope;
mod error;
mod limit_headers;
mod policy;
mod rate_limit;
mod service;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use url::Url;

pub use clock::{Clock, SleepFuture, SystemClock};
pub use envelope::{MAX_ERROR_BODY_BYTES, MAX_MESSAGE_CHARS};
pub use error::{HttpError, RequestContext, is_transient_status};
pub use limit_headers::{CLOUDFLARE_429_BLOCK, parse_retry_after};
pub use policy::HttpPolicy;
pub use rate_limit::{RateLimitSnapshot, RateLimitState};
pub use service::Service;

use limit_headers::LimitHeaders;

/// Sent on every request so operators can tell soc-tui's traffic apart.
pub const USER_AGENT: &str = concat!("soc-tui/", env!("CARGO_PKG_VERSION"));

/// Why a client could not be set up. Never echoes a URL: a proxy URL may
/// carry a password.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("{service}: base URL is not usable: {reason}")]
    InvalidBaseUrl { service: Service, reason: String },
    #[error("{service}: proxy URL is not usable: {reason}")]
    InvalidProxy { service: Service, reason: String },
    #[error("{service}: HTTP policy is not usable: {problem}")]
    InvalidPolicy {
        service: Service,
        problem: &'static str,
    },
    #[error("{service}: cannot create the HTTP client: {detail}")]
    Client { service: Service, detail: String },
}

/// A response read whole by [`HttpClient::fetch`].
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// One per service; cheap to clone, and every clone shares the connection
/// pool and the rate-limit state.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    service: Service,
    base_url: Url,
    client: reqwest::Client,
    policy: HttpPolicy,
    rate: RateLimitState,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("service", &self.inner.service)
            .field("base_url", &self.inner.base_url.as_str())
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

pub struct HttpClientBuilder {
    service: Service,
    base_url: String,
    policy: HttpPolicy,
    proxy: Option<String>,
    clock: Arc<dyn Clock>,
}

impl HttpClientBuilder {
    pub fn policy(mut self, policy: HttpPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sends everything through this proxy (`http://`, `https://`, or
    /// `socks5://` if reqwest supports it). Without one, reqwest's usual
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` environment applies.
    pub fn proxy(mut self, proxy_url: impl Into<String>) -> Self {
        self.proxy = Some(proxy_url.into());
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn build(self) -> Result<HttpClient, HttpSetupError> {
        let service = self.service;
        if let Some(problem) = self.policy.problem() {
            return Err(HttpSetupError::InvalidPolicy { service, problem });
        }
        let base_url = parse_base_url(service, &self.base_url)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(USER_AGENT)
            .connect_timeout(self.policy.connect_timeout)
            .timeout(self.policy.request_timeout);
        if let Some(proxy_url) = &self.proxy {
            let proxy = reqwest::Proxy::all(proxy_url.as_str()).map_err(|e| {
                HttpSetupError::InvalidProxy {
                    service,
                    reason: describe(e.without_url()),
                }
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|e| HttpSetupError::Client {
            service,
            detail: describe(e.without_url()),
        })?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                service,
                base_url,
                client,
                policy: self.policy,
                rate: RateLimitState::new(service),
                clock: self.clock,
            }),
        })
    }
}

fn parse_base_url(service: Service, raw: &str) -> Result<Url, HttpSetupError> {
    let invalid = |reason: String| HttpSetupError::InvalidBaseUrl { service, reason };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(invalid("it has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it carries credentials; put them in the keychain or the token environment variable"
                .into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or fragment".into()));
    }
    Ok(url)
}

impl HttpClient {
    /// `base_url` is where the service's API root is (`https://api.cloudflare.com/client/v4`,
    /// or a mock's `http://127.0.0.1:4010`).
    pub fn builder(service: Service, base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            service,
            base_url: base_url.into(),
            policy: HttpPolicy::default(),
            proxy: None,
            clock: Arc::new(SystemClock),
        }
    }

    pub fn service(&self) -> Service {
        self.inner.service
    }

    pub fn policy(&self) -> &HttpPolicy {
        &self.inner.policy
    }

    pub fn rate_limit(&self) -> &RateLimitState {
        &self.inner.rate
    }

    /// The base URL with `segments` appended, each percent-encoded as one
    /// path segment (so an id containing `/` or `?` cannot change the route).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        // Cannot fail: `build` rejected URLs that cannot be a base.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends the request `build` makes (called again for each attempt) and
    /// returns the response once its status is not an error. The body is left
    /// for the caller, under the same total timeout.
    pub async fn send<F>(&self, build: F) -> Result<Response, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        self.run(&build, |response| async move { Ok(response) })
            .await
    }

    /// As [`send`](Self::send), but also reads the body (at most
    /// `policy.max_body_bytes`), so a connection lost mid-body is retried too.
    pub async fn fetch<F>(&self, build: F) -> Result<Fetched, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let limit = self.inner.policy.max_body_bytes;
        self.run(&build, move |response| read_whole(response, limit))
            .await
    }

    async fn run<T, F, R, Fut>(&self, build: &F, read: R) -> Result<T, HttpError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
        R: Fn(Response) -> Fut,
        Fut: Future<Output = Result<T, ReadFailure>>,
    {
        let Inner {
            service,
            client,
            policy,
            rate,
            clock,
            ..
        } = &*self.inner;
        let service = *service;
        let mut retries_used: u32 = 0;
        loop {
            let request = build(client)
                .build()
                .map_err(|e| HttpError::InvalidRequest {
                    service,
                    detail: describe(e.without_url()),
                })?;
            let context = RequestContext::of(service, &request);
            self.wait_out_block(&context).await?;
            let attempts = retries_used + 1;

            let failure = match client.execute(request).await {
                Err(e) => transport_error(&context, e, policy, attempts),
                Ok(response) => {
                    let status = response.status();
                    self.observe_limits(&response);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.take_429(response, context, retries_used).await?;
                        // The next attempt's `wait_out_block` sits out the block.
                        retries_used += 1;
                        continue;
                    }
                    if status.is_client_error() || status.is_server_error() {
                        HttpError::Status {
                            message: error_message(service, response).await,
                            context,
                            status,
                            attempts,
                        }
                    } else {
                        match read(response).await {
                            Ok(done) => return Ok(done),
                            Err(ReadFailure::TooLarge { limit }) => {
                                return Err(HttpError::BodyTooLarge { context, limit });
                            }
                            Err(ReadFailure::Transport(e)) => {
                                transport_error(&context, e, policy, attempts)
                            }
                        }
                    }
                }
            };

            if !failure.is_retried_in_place() || retries_used >= policy.max_retries {
                return Err(failure);
            }
            let backoff = policy.jittered_backoff(retries_used);
            tracing::warn!(
                service = %service,
                error = %failure,
                backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                "transient failure; retrying"
            );
            clock.sleep(backoff).await;
            rate.record_backoff(backoff);
            retries_used += 1;
        }
    }

    fn observe_limits(&self, response: &Response) {
        let now = self.inner.clock.now();
        let limits = LimitHeaders::parse(self.inner.service, response.headers(), now);
        self.inner.rate.observe(&limits, now);
    }

    /// Records the block a 429 asks for. `Ok` means "retry once it is over";
    /// `Err(RateLimited)` means the wait is the scheduler's business: longer
    /// than the policy sits through, or no retries left.
    async fn take_429(
        &self,
        response: Response,
        context: RequestContext,
        retries_used: u32,
    ) -> Result<(), HttpError> {
        let Inner {
            service,
            policy,
            rate,
            clock,
            ..
        } = &*self.inner;
        let now = clock.now();
        // A 429 that says nothing still means "slow down": wait the full
        // backoff ceiling, not a jittered fraction of it.
        let wait = LimitHeaders::parse(*service, response.headers(), now)
            .wait_after_429(*service)
            .unwrap_or_else(|| policy.backoff_ceiling(retries_used));
        let until = instant_after(now, wait);
        rate.record_429(now, until);
        tracing::warn!(
            service = %service,
            method = %context.method,
            path = %context.path,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "rate limited (429)"
        );
        if wait > policy.max_rate_limit_wait || retries_used >= policy.max_retries {
            return Err(HttpError::RateLimited {
                message: error_message(*service, response).await,
                context,
                wait,
                until,
            });
        }
        Ok(())
    }

    /// Holds the request until the service's block (a 429, an exhausted
    /// quota, seen by any clone) is over, or gives the wait back to the
    /// caller when it is longer than the policy allows. Re-checks after each
    /// sleep because another task may have extended the block meanwhile.
    async fn wait_out_block(&self, context: &RequestContext) -> Result<(), HttpError> {
        let Inner {
            policy,
            rate,
            clock,
            ..
        } = &*self.inner;
        loop {
            let now = clock.now();
            let snapshot = rate.snapshot();
            let (Some(until), Some(left)) = (snapshot.blocked_until, snapshot.blocked_for(now))
            else {
                return Ok(());
            };
            if left > policy.max_rate_limit_wait {
                return Err(HttpError::RateLimited {
                    context: context.clone(),
                    wait: left,
                    until,
                    message: None,
                });
            }
            clock.sleep(left).await;
            rate.record_rate_limit_wait(left);
        }
    }
}

enum ReadFailure {
    TooLarge { limit: usize },
    Transport(reqwest::Error),
}

async fn read_whole(mut response: Response, limit: usize) -> Result<Fetched, ReadFailure> {
    let status = response.status();
    let headers = response.headers().clone();
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadFailure::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadFailure::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadFailure::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        headers,
        body,
    })
}

/// The service's message from an error response. Reads at most
/// [`MAX_ERROR_BODY_BYTES`]; a body that fails to arrive just means no message.
async fn error_message(service: Service, mut response: Response) -> Option<String> {
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_ERROR_BODY_BYTES);
    envelope::service_message(service, &body, &headers)
}

fn transport_error(
    context: &RequestContext,
    error: reqwest::Error,
    policy: &HttpPolicy,
    attempts: u32,
) -> HttpError {
    let error = error.without_url();
    let context = context.clone();
    if error.is_timeout() {
        let after = if error.is_connect() {
            policy.connect_timeout
        } else {
            policy.request_timeout
        };
        HttpError::Timeout {
            context,
            after,
            attempts,
        }
    } else if error.is_connect() {
        HttpError::Connect {
            context,
            detail: describe(error),
            attempts,
        }
    } else if error.is_builder() {
        HttpError::InvalidRequest {
            service: context.service,
            detail: describe(error),
        }
    } else {
        HttpError::Transport {
            context,
            detail: describe(error),
            attempts,
        }
    }
}

/// The error and its causes on one line ("error sending request: client
/// error (Connect): tcp connect error: Connection refused"). Callers strip
/// the URL first.
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    envelope::clean(&text, MAX_MESSAGE_CHARS)
}

/// `now + wait`, saturating instead of overflowing on absurd header values.
fn instant_after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|delta| now.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> HttpClient {
        HttpClient::builder(Service::Cloudflare, base)
            .build()
            .expect("valid client")
    }

    #[test]
    fn url_appends_encoded_segments_under_the_base_path() {
        let cf = client("https://api.cloudflare.com/client/v4");
        assert_eq!(
            cf.url(&["accounts", "abc", "logs", "audit"]).as_str(),
            "https://api.cloudflare.com/client/v4/accounts/abc/logs/audit"
        );
        let slash = client("http://127.0.0.1:4010/");
        assert_eq!(
            slash.url(&["accounts", "a/b?c", "logs"]).as_str(),
            "http://127.0.0.1:4010/accounts/a%2Fb%3Fc/logs"
        );
    }

    #[test]
    fn bad_base_urls_are_named_without_echoing_secrets() {
        for (raw, expect) in [
            ("not a url", "relative URL without a base"),
            ("ftp://example.com", "is not http or https"),
            ("https://user:hunter2@example.com", "carries credentials"),
            ("https://example.com/v1?token=x", "query or fragment"),
        ] {
            let error = HttpClient::builder(Service::Datadog, raw)
                .build()
                .expect_err(raw);
            let text = error.to_string();
            assert!(text.starts_with("datadog: base URL"), "{text}");
            assert!(text.contains(expect), "{raw}: {text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn bad_proxy_is_reported_without_its_url() {
        let error = HttpClient::builder(Service::Linear, "https://api.linear.app")
            .proxy("http://user:s3cret@[::1")
            .build()
            .expect_err("bad proxy");
        let text = error.to_string();
        assert!(
            text.starts_with("linear: proxy URL is not usable"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn user_agent_names_the_version() {
        assert_eq!(USER_AGENT, format!("soc-tui/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn absurd_waits_saturate() {
        let now = Utc::now();
        assert_eq!(instant_after(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            instant_after(now, Duration::from_secs(2)),
            now + TimeDelta::seconds(2)
        );
    }
}
