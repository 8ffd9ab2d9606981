//! Reading each service's rate-limit headers (its "dialect") into one shape.
//!
//! Semantics, from `shared/specs/README.md` unless noted:
//! - every service: `Retry-After`, delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
//! - Cloudflare: `Ratelimit: "default";r=<remaining>;t=<seconds to reset>` on every
//!   response; a 429 blocks all calls for five minutes, so a 429 without
//!   `Retry-After` means 300 s;
//! - Datadog: `X-RateLimit-{Limit,Remaining}`, `X-RateLimit-Reset` = seconds until reset;
//! - Axiom: `X-RateLimit-{Limit,Remaining}`, `X-RateLimit-Reset` = epoch seconds;
//! - PagerDuty: `ratelimit-{limit,remaining}`, `ratelimit-reset` = seconds to wait;
//! - Confluence: `X-RateLimit-{Limit,Remaining}`, `X-RateLimit-Reset` = ISO 8601 time;
//! - Linear: `X-RateLimit-Requests-{Limit,Remaining}`, `X-RateLimit-Requests-Reset` =
//!   epoch milliseconds (linear.app/developers/rate-limiting; the README gives no unit);
//! - S3 and LLM providers: `Retry-After` only (S3 throttles with `503 SlowDown`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::service::Service;

/// Cloudflare blocks every call for five minutes after a 429.
pub const CLOUDFLARE_429_BLOCK: Duration = Duration::from_secs(300);

/// What one response's headers say about the rate limit, relative to `now`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LimitHeaders {
    pub retry_after: Option<Duration>,
    /// Until the service's quota window resets.
    pub reset_after: Option<Duration>,
    pub remaining: Option<u64>,
    pub limit: Option<u64>,
}

impl LimitHeaders {
    pub fn parse(service: Service, headers: &HeaderMap, now: DateTime<Utc>) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| text(name).and_then(|v| v.trim().parse::<u64>().ok());
        let mut parsed = LimitHeaders {
            retry_after: text(RETRY_AFTER.as_str()).and_then(|v| parse_retry_after(v, now)),
            ..LimitHeaders::default()
        };
        match service {
            Service::Cloudflare => {
                if let Some((remaining, reset)) = text("ratelimit").and_then(cloudflare_ratelimit) {
                    parsed.remaining = Some(remaining);
                    parsed.reset_after = reset;
                }
            }
            Service::Datadog => {
                parsed.reset_after = text("x-ratelimit-reset").and_then(seconds);
                parsed.remaining = number("x-ratelimit-remaining");
                parsed.limit = number("x-ratelimit-limit");
            }
            Service::Axiom => {
                parsed.reset_after = number("x-ratelimit-reset")
                    .and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
                    .map(|at| until(at, now));
                parsed.remaining = number("x-ratelimit-remaining");
                parsed.limit = number("x-ratelimit-limit");
            }
            Service::PagerDuty => {
                parsed.reset_after = text("ratelimit-reset").and_then(seconds);
                parsed.remaining = number("ratelimit-remaining");
                parsed.limit = number("ratelimit-limit");
            }
            Service::Confluence => {
                parsed.reset_after = text("x-ratelimit-reset")
                    .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
                    .map(|at| until(at.with_timezone(&Utc), now));
                parsed.remaining = number("x-ratelimit-remaining");
                parsed.limit = number("x-ratelimit-limit");
            }
            Service::Linear => {
                parsed.reset_after = number("x-ratelimit-requests-reset")
                    .and_then(|ms| DateTime::from_timestamp_millis(i64::try_from(ms).ok()?))
                    .map(|at| until(at, now));
                parsed.remaining = number("x-ratelimit-requests-remaining");
                parsed.limit = number("x-ratelimit-requests-limit");
            }
            Service::S3 | Service::Llm => {}
        }
        parsed
    }

    /// How long a 429 carrying these headers tells us to stay away; `None`
    /// when it says nothing usable (the caller then backs off on its own).
    pub fn wait_after_429(&self, service: Service) -> Option<Duration> {
        let advertised = match service {
            // The quota reset (`t=`) is not the penalty: the block lasts five minutes.
            Service::Cloudflare => return Some(self.retry_after.unwrap_or(CLOUDFLARE_429_BLOCK)),
            _ => self.retry_after.max(self.reset_after),
        };
        // A reset already in the past (clock skew) tells nothing about how long to wait.
        advertised.filter(|wait| !wait.is_zero())
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP-date, relative to `now`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    seconds(value).or_else(|| {
        DateTime::parse_from_rfc2822(value.trim())
            .ok()
            .map(|at| until(at.with_timezone(&Utc), now))
    })
}

/// Delay-seconds; a fraction is accepted because some servers send one.
fn seconds(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(whole) = value.parse::<u64>() {
        return Some(Duration::from_secs(whole));
    }
    let fractional = value.parse::<f64>().ok()?;
    Duration::try_from_secs_f64(fractional).ok()
}

fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    at.signed_duration_since(now)
        .to_std()
        .unwrap_or(Duration::ZERO)
}

/// `"default";r=50;t=30` (possibly several comma-separated policies): the
/// tightest policy's remaining count and its seconds to reset.
fn cloudflare_ratelimit(value: &str) -> Option<(u64, Option<Duration>)> {
    value
        .split(',')
        .filter_map(|policy| {
            let mut remaining = None;
            let mut reset = None;
            for param in policy.split(';').skip(1) {
                match param.trim().split_once('=') {
                    Some(("r", v)) => remaining = v.trim().parse::<u64>().ok(),
                    Some(("t", v)) => reset = v.trim().parse::<u64>().ok().map(Duration::from_secs),
                    _ => {}
                }
            }
            Some((remaining?, reset))
        })
        .min_by_key(|(remaining, _)| *remaining)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid test time")
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            LimitHeaders::parse(Service::S3, &h, now()).retry_after,
            Some(Duration::from_secs(7))
        );
        let h = headers(&[("retry-after", "Sat, 21 Nov 2026 12:00:42 GMT")]);
        assert_eq!(
            LimitHeaders::parse(Service::Llm, &h, now()).retry_after,
            Some(Duration::from_secs(42))
        );
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(
            LimitHeaders::parse(Service::Llm, &h, now()).retry_after,
            None
        );
    }

    #[test]
    fn datadog_reset_is_seconds_until_reset() {
        let h = headers(&[
            ("x-ratelimit-reset", "12"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-limit", "300"),
        ]);
        let parsed = LimitHeaders::parse(Service::Datadog, &h, now());
        assert_eq!(parsed.reset_after, Some(Duration::from_secs(12)));
        assert_eq!((parsed.remaining, parsed.limit), (Some(0), Some(300)));
        assert_eq!(
            parsed.wait_after_429(Service::Datadog),
            Some(Duration::from_secs(12))
        );
    }

    #[test]
    fn axiom_reset_is_epoch_seconds() {
        let reset = (now().timestamp() + 90).to_string();
        let h = headers(&[("x-ratelimit-reset", &reset)]);
        let parsed = LimitHeaders::parse(Service::Axiom, &h, now());
        assert_eq!(parsed.reset_after, Some(Duration::from_secs(90)));
        // The same header read with Datadog's dialect would mean ~56 years.
        assert_ne!(
            LimitHeaders::parse(Service::Datadog, &h, now()).reset_after,
            parsed.reset_after
        );
    }

    #[test]
    fn linear_reset_is_epoch_millis_and_confluence_iso() {
        let reset = (now().timestamp_millis() + 1500).to_string();
        let h = headers(&[
            ("x-ratelimit-requests-reset", &reset),
            ("x-ratelimit-requests-remaining", "3"),
        ]);
        let parsed = LimitHeaders::parse(Service::Linear, &h, now());
        assert_eq!(parsed.reset_after, Some(Duration::from_millis(1500)));
        assert_eq!(parsed.remaining, Some(3));
        let h = headers(&[("x-ratelimit-reset", "2026-11-21T12:01:00Z")]);
        assert_eq!(
            LimitHeaders::parse(Service::Confluence, &h, now()).reset_after,
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn pagerduty_reset_is_seconds() {
        let h = headers(&[
            ("ratelimit-reset", "30"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-limit", "960"),
        ]);
        let parsed = LimitHeaders::parse(Service::PagerDuty, &h, now());
        assert_eq!(
            parsed.wait_after_429(Service::PagerDuty),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parsed.limit, Some(960));
    }

    #[test]
    fn cloudflare_block_is_five_minutes_without_retry_after() {
        let h = headers(&[("ratelimit", "\"default\";r=0;t=30")]);
        let parsed = LimitHeaders::parse(Service::Cloudflare, &h, now());
        assert_eq!(parsed.remaining, Some(0));
        assert_eq!(parsed.reset_after, Some(Duration::from_secs(30)));
        assert_eq!(
            parsed.wait_after_429(Service::Cloudflare),
            Some(CLOUDFLARE_429_BLOCK)
        );
        let h = headers(&[("retry-after", "120")]);
        let parsed = LimitHeaders::parse(Service::Cloudflare, &h, now());
        assert_eq!(
            parsed.wait_after_429(Service::Cloudflare),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn cloudflare_picks_the_tightest_policy() {
        let h = headers(&[("ratelimit", "\"default\";r=50;t=30, \"burst\";r=2;t=1")]);
        let parsed = LimitHeaders::parse(Service::Cloudflare, &h, now());
        assert_eq!(parsed.remaining, Some(2));
        assert_eq!(parsed.reset_after, Some(Duration::from_secs(1)));
    }

    #[test]
    fn longest_advertised_wait_wins_and_past_resets_mean_nothing() {
        let h = headers(&[("retry-after", "5"), ("x-ratelimit-reset", "9")]);
        let parsed = LimitHeaders::parse(Service::Datadog, &h, now());
        assert_eq!(
            parsed.wait_after_429(Service::Datadog),
            Some(Duration::from_secs(9))
        );
        let past = (now().timestamp() - 10).to_string();
        let h = headers(&[("x-ratelimit-reset", &past)]);
        let parsed = LimitHeaders::parse(Service::Axiom, &h, now());
        assert_eq!(parsed.reset_after, Some(Duration::ZERO));
        assert_eq!(parsed.wait_after_429(Service::Axiom), None);
        assert_eq!(LimitHeaders::default().wait_after_429(Service::S3), None);
    }
}
