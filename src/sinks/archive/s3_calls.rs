//! How the archive calls S3: retries, rate limits, and what a failure means.
//!
//! The SDK's own retry is off: it does not read `Retry-After` (only AWS's
//! `x-amz-retry-after`), and its retries would bypass the rate-limit block
//! other deliveries set. Instead every attempt first waits out the archive's
//! block (shared by all deliveries, like the HTTP layer's per-service block);
//! a throttled answer (429 or `503 SlowDown`) with `Retry-After` sets that
//! block and goes back to the outbox with the wait as its `retry_after`;
//! other transient failures are retried here with the HTTP layer's jittered
//! backoff, up to `[http] max_retries`.

use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, TimeDelta, Utc};

use crate::sinks::{SinkError, SinkKind};
use crate::sources::http::{HttpPolicy, RateLimitState, Service, parse_retry_after};

/// A block longer than this is not sat through inside a delivery: the row
/// goes back to the outbox, due when the block ends.
const MAX_IN_PLACE_WAIT: Duration = Duration::from_secs(60);

pub(super) type S3Error<E> = SdkError<E, HttpResponse>;

pub(super) struct S3Calls {
    rate: RateLimitState,
    policy: HttpPolicy,
}

impl S3Calls {
    /// `max_retries` transient failures are retried in place per call.
    pub fn new(max_retries: u32) -> S3Calls {
        S3Calls {
            rate: RateLimitState::new(Service::S3),
            policy: HttpPolicy {
                max_retries,
                ..HttpPolicy::default()
            },
        }
    }

    /// The block state, for the engine and for persisting it across restarts.
    pub fn rate_limit(&self) -> &RateLimitState {
        &self.rate
    }

    /// Runs `send` (one attempt each call) under the archive's policy. The
    /// outer error is a block too long to wait out here; the inner result is
    /// the last attempt's.
    pub async fn run<T, E, Fut>(
        &self,
        operation: &str,
        send: impl Fn() -> Fut,
    ) -> Result<Result<T, S3Error<E>>, SinkError>
    where
        Fut: Future<Output = Result<T, S3Error<E>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut retry = 0;
        loop {
            self.wait_turn(operation).await?;
            let error = match send().await {
                Ok(done) => return Ok(Ok(done)),
                Err(error) => error,
            };
            if let Some(wait) = throttle_wait(&error, Utc::now()) {
                self.block_for(wait);
                return Ok(Err(error));
            }
            if is_permanent(&error) || retry >= self.policy.max_retries {
                return Ok(Err(error));
            }
            let backoff = self.policy.jittered_backoff(retry);
            tracing::warn!(operation, error = %DisplayErrorContext(&error),
                backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                "s3: transient failure; retrying");
            tokio::time::sleep(backoff).await;
            retry += 1;
        }
    }

    fn block_for(&self, wait: Duration) {
        let now = Utc::now();
        let until = TimeDelta::from_std(wait)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.rate.record_429(now, until);
    }

    /// Waits until no block is in force, or hands a long one back as a
    /// transient error carrying it.
    async fn wait_turn(&self, operation: &str) -> Result<(), SinkError> {
        loop {
            let Some(left) = self.rate.snapshot().blocked_for(Utc::now()) else {
                return Ok(());
            };
            if left > MAX_IN_PLACE_WAIT {
                return Err(SinkError::Transient {
                    sink: SinkKind::Archive,
                    message: format!(
                        "{operation}: S3 asked us to wait {}s (Retry-After)",
                        left.as_secs()
                    ),
                    retry_after: Some(left),
                });
            }
            tokio::time::sleep(left).await;
            self.rate.record_rate_limit_wait(left);
        }
    }
}

pub(super) fn http_status<E>(error: &S3Error<E>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// The wait a throttled answer (429, or 503 as S3's `SlowDown`) names in
/// `Retry-After`; `None` for anything else.
fn throttle_wait<E>(error: &S3Error<E>, now: DateTime<Utc>) -> Option<Duration> {
    let response = error.raw_response()?;
    if !matches!(response.status().as_u16(), 429 | 503) {
        return None;
    }
    parse_retry_after(response.headers().get("retry-after")?, now)
}

/// 4xx other than 408/409/429 are permanent (wrong credentials, missing
/// bucket, lock not enabled on the bucket), and so are 501/505 and a
/// request the SDK could not even build; everything else may pass.
fn is_permanent<E>(error: &S3Error<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ConstructionFailure(_) => true,
        SdkError::ServiceError(_) => match http_status(error) {
            Some(status) => {
                (400..500).contains(&status) && !matches!(status, 408 | 409 | 429)
                    || matches!(status, 501 | 505)
            }
            None => error
                .code()
                .is_some_and(|c| !c.is_empty() && c != "SlowDown"),
        },
        _ => false,
    }
}

/// The outbox's view of a failed call: permanent or transient, with the
/// service's words and, for a throttle, the wait it asked for.
pub(super) fn classify<E>(operation: &str, key: &str, error: &S3Error<E>) -> SinkError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!(
        "{operation} {key}: {}",
        crate::sanitize::sanitize_with_limit(&DisplayErrorContext(error).to_string(), 500)
    );
    if is_permanent(error) {
        SinkError::permanent(SinkKind::Archive, message)
    } else {
        SinkError::Transient {
            sink: SinkKind::Archive,
            message,
            retry_after: throttle_wait(error, Utc::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_block_past_the_in_place_limit_goes_back_to_the_outbox() {
        let calls = S3Calls::new(1);
        calls.block_for(Duration::from_secs(120));
        let error = calls.wait_turn("PutObject").await.unwrap_err();
        assert!(error.is_transient());
        let wait = error.retry_after().expect("retry_after");
        assert!(wait > Duration::from_secs(110), "{wait:?}");
        assert!(error.message().contains("Retry-After"), "{error}");
    }
}
