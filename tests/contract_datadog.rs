//! Our real Datadog requests against Prism serving the Audit Trail spec with
//! validation on: every request the client and the poller send must
//! validate. The spec's example always carries `meta.page.after`, so a poll
//! against it must end in the repeated-cursor guard.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use soc_tui::secrets::Secret;
use soc_tui::sources::datadog::client::{DatadogClient, EventQuery};
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};
use soc_tui::sources::poll::{DatadogPoller, PollOptions, WindowPolicy};
use soc_tui::store::Store;

use common::prism::Prism;

fn http(prism: &Prism) -> HttpClient {
    HttpClient::builder(Service::Datadog, prism.base_url())
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(30),
            max_retries: 0,
            ..HttpPolicy::default()
        })
        .build()
        .expect("client")
}

fn client(prism: &Prism) -> DatadogClient {
    DatadogClient::new(
        http(prism),
        Secret::new("prism-api-key".into()),
        Secret::new("prism-app-key".into()),
    )
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

fn violations(prism: &Prism) -> usize {
    prism
        .output()
        .matches("Request did not pass the validation rules")
        .count()
}

#[tokio::test]
async fn audit_event_requests_validate_and_the_poller_stops_the_cursor_loop() {
    let Some(prism) = Prism::start("datadog/openapi-v2-audit.trimmed.yaml") else {
        return;
    };
    let dd = client(&prism);
    let query = |actor| EventQuery {
        from: at("2022-04-13T09:00:00Z"),
        to: at("2022-04-13T10:00:00Z"),
        actor_email: actor,
        limit: 1000,
    };
    let first = dd
        .audit_events(&query(None), None)
        .await
        .unwrap_or_else(|e| panic!("first page: {e}\n{}", prism.output()));
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let cursor = first.cursor.clone().expect("the example carries a cursor");
    dd.audit_events(&query(Some("bob@example.com")), Some(&cursor))
        .await
        .unwrap_or_else(|e| panic!("filtered page with cursor: {e}\n{}", prism.output()));
    assert_eq!(violations(&prism), 0, "{}", prism.output());

    // Negative controls: Prism checks both keys and the parameters.
    let raw = http(&prism);
    let url = raw.url(&["api", "v2", "audit", "events"]);
    let without_app_key = raw
        .send(|c| c.get(url.clone()).header("DD-API-KEY", "k"))
        .await
        .expect_err("the application key is required");
    assert_eq!(without_app_key.status().map(|s| s.as_u16()), Some(401));
    let bad_sort = raw
        .send(|c| {
            c.get(url.clone())
                .query(&[("sort", "newest")])
                .header("DD-API-KEY", "k")
                .header("DD-APPLICATION-KEY", "a")
        })
        .await
        .expect_err("`sort` is an enum");
    assert_eq!(bad_sort.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(violations(&prism), 2);

    let mut store = Store::open_in_memory().expect("store");
    let poller = DatadogPoller::new(
        client(&prism),
        &prism.base_url(),
        WindowPolicy {
            overlap: TimeDelta::minutes(5),
            settle_delay: TimeDelta::minutes(1),
            initial_lookback: TimeDelta::hours(1),
        },
    );
    assert_eq!(
        poller.checkpoint_key(),
        format!("datadog:127.0.0.1:{}", prism.port())
    );
    let report = poller
        .poll(&mut store, &PollOptions::at(at("2022-04-13T10:00:00Z")))
        .await;
    let target = &report.targets[0];
    let error = target.error.as_ref().expect("the loop must be an error");
    assert!(error.to_string().contains("pagination loop"), "{error}");
    assert_eq!(target.pages, 2);
    assert_eq!(target.checkpoint_after, None);
    assert_eq!(store.event_count().expect("count"), 0);
    assert_eq!(violations(&prism), 2, "the poll's requests all validated");
}
