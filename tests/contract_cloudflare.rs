//! Our real Cloudflare requests against Prism serving the audit-log specs
//! with validation on (`prism mock --errors`): every request the client and
//! the poller send must validate, or Prism answers 4xx and the test fails.
//! Negative controls prove Prism is validating at all.
//!
//! Prism's static example always returns the same cursor (v2) or the same
//! page (v1), so a poll against it must end in the pagination-loop guard.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use soc_tui::config::CloudflareApiVersion;
use soc_tui::secrets::Secret;
use soc_tui::sources::cloudflare::client::{AuditQuery, CloudflareClient};
use soc_tui::sources::http::{HttpClient, HttpError, HttpPolicy, Service};
use soc_tui::sources::page::FetchError;
use soc_tui::sources::poll::{CloudflarePoller, CloudflareSettings, PollOptions, WindowPolicy};
use soc_tui::store::Store;

use common::prism::Prism;

const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn http(prism: &Prism) -> HttpClient {
    HttpClient::builder(Service::Cloudflare, prism.base_url())
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(30),
            max_retries: 0,
            ..HttpPolicy::default()
        })
        .build()
        .expect("client")
}

fn client(prism: &Prism) -> CloudflareClient {
    CloudflareClient::new(http(prism), Secret::new("prism-test-token".into()))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

fn query(actor: Option<&str>) -> AuditQuery<'_> {
    AuditQuery {
        since: at("2024-04-26T17:00:00Z"),
        before: at("2024-04-26T18:00:00.500Z"),
        actor_email: actor,
        limit: 1000,
    }
}

fn policy() -> WindowPolicy {
    WindowPolicy {
        overlap: TimeDelta::minutes(5),
        settle_delay: TimeDelta::minutes(1),
        initial_lookback: TimeDelta::hours(1),
    }
}

/// Requests Prism found invalid so far (its log line for each).
fn violations(prism: &Prism) -> usize {
    prism
        .output()
        .matches("Request did not pass the validation rules")
        .count()
}

fn poller(prism: &Prism, version: CloudflareApiVersion) -> CloudflarePoller {
    let settings = CloudflareSettings {
        accounts: vec![ACCOUNT.to_owned()],
        version,
        v1_fallback: false,
        window: policy(),
        token_rules: soc_tui::detect::rules::parse(None).expect("rules").rules,
    };
    CloudflarePoller::new(client(prism), settings)
}

fn expect_ok<T>(result: Result<T, FetchError>, prism: &Prism, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what} did not validate: {e}\n{}", prism.output()))
}

#[tokio::test]
async fn v2_requests_validate_and_the_poller_stops_the_cursor_loop() {
    let Some(prism) = Prism::start("cloudflare/openapi.audit-logs-v2.prism-patched.yaml") else {
        return;
    };
    let cf = client(&prism);

    let first = expect_ok(
        cf.audit_logs_v2(ACCOUNT, &query(None), None).await,
        &prism,
        "first page",
    );
    assert_eq!(first.event_ids(), ["023e105f4ecef8ad9ca31a8372d0c353"]);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let cursor = first.cursor.clone().expect("the example carries a cursor");
    expect_ok(
        cf.audit_logs_v2(ACCOUNT, &query(None), Some(&cursor)).await,
        &prism,
        "next page with the cursor",
    );
    expect_ok(
        cf.audit_logs_v2(ACCOUNT, &query(Some("alice@example.com")), None)
            .await,
        &prism,
        "actor-filtered page",
    );

    assert_eq!(violations(&prism), 0, "{}", prism.output());

    // Negative controls: Prism does reject what the spec forbids.
    let raw = http(&prism);
    let url = raw.url(&["accounts", ACCOUNT, "logs", "audit"]);
    let unauthenticated = raw
        .send(|c| {
            c.get(url.clone()).query(&[
                ("since", "2024-04-26T17:00:00Z"),
                ("before", "2024-04-26T18:00:00Z"),
            ])
        })
        .await
        .expect_err("no Authorization must be refused");
    assert_eq!(unauthenticated.status().map(|s| s.as_u16()), Some(401));
    let no_before = raw
        .send(|c| {
            c.get(url.clone())
                .query(&[("since", "2024-04-26T17:00:00Z")])
                .bearer_auth("prism-test-token")
        })
        .await
        .expect_err("a missing `before` must be refused");
    assert!(matches!(no_before, HttpError::Status { .. }), "{no_before}");
    assert_eq!(violations(&prism), 2, "{}", prism.output());

    // The whole poll: the loop guard stops the walk, nothing is stored.
    let mut store = Store::open_in_memory().expect("store");
    let poller = poller(&prism, CloudflareApiVersion::V2);
    let report = poller
        .poll(&mut store, &PollOptions::at(at("2024-04-26T18:00:00Z")))
        .await;
    let target = &report.targets[0];
    let error = target.error.as_ref().expect("the loop must be an error");
    assert!(
        error.to_string().contains("pagination loop"),
        "{error}\n{}",
        prism.output()
    );
    assert_eq!(target.pages, 2, "stopped at the first repeated cursor");
    assert_eq!(target.checkpoint_after, None);
    assert_eq!(store.event_count().expect("count"), 0);
    assert_eq!(violations(&prism), 2, "the poll's requests all validated");
}

#[tokio::test]
async fn v1_requests_validate_and_the_poller_stops_the_repeated_page() {
    let Some(prism) = Prism::start("cloudflare/openapi.audit-logs-v1.prism-patched.json") else {
        return;
    };
    let cf = client(&prism);
    for page in [1, 2] {
        let got = expect_ok(
            cf.audit_logs_v1(ACCOUNT, &query(Some("alice@example.com")), page)
                .await,
            &prism,
            "v1 page",
        );
        assert_eq!(got.rejected, [], "the spec example parses");
    }
    assert_eq!(violations(&prism), 0, "{}", prism.output());

    let mut store = Store::open_in_memory().expect("store");
    let poller = poller(&prism, CloudflareApiVersion::V1);
    let report = poller
        .poll(&mut store, &PollOptions::at(at("2024-04-26T18:00:00Z")))
        .await;
    let target = &report.targets[0];
    assert_eq!(target.api, "cloudflare audit logs v1");
    let error = target.error.as_ref().expect("the loop must be an error");
    assert!(
        error.to_string().contains("same entries as page 1"),
        "{error}\n{}",
        prism.output()
    );
    assert_eq!(store.event_count().expect("count"), 0);
    assert_eq!(violations(&prism), 0, "{}", prism.output());
}
