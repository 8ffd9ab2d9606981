//! `HttpClient` against a scripted loopback server: retries, backoff,
//! rate-limit waits per service dialect, resets, timeouts, error envelopes.
//!
//! Waits go through a virtual clock that records each sleep and advances
//! "now" by it, so exact waits are asserted without sleeping; one test
//! sits out a real `Retry-After: 2` to prove the real clock is honoured.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use soc_tui::sources::http::{
    CLOUDFLARE_429_BLOCK, Clock, HttpClient, HttpError, HttpPolicy, Service, USER_AGENT,
};

use common::fake_server::{FakeServer, Reply, reply};
use common::virtual_clock::VirtualClock;

fn policy() -> HttpPolicy {
    HttpPolicy {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_secs(1),
        max_rate_limit_wait: Duration::from_secs(60),
        ..HttpPolicy::default()
    }
}

fn client(service: Service, server: &FakeServer, clock: &Arc<VirtualClock>) -> HttpClient {
    client_with(service, server, clock, policy())
}

fn client_with(
    service: Service,
    server: &FakeServer,
    clock: &Arc<VirtualClock>,
    policy: HttpPolicy,
) -> HttpClient {
    HttpClient::builder(service, server.base())
        .policy(policy)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .build()
        .expect("client")
}

async fn get(client: &HttpClient, path: &[&str]) -> Result<Vec<u8>, HttpError> {
    let url = client.url(path);
    client
        .fetch(|http| http.get(url.clone()))
        .await
        .map(|fetched| fetched.body)
}

// ---------------------------------------------------------------------- tests

#[tokio::test]
async fn server_error_is_retried_after_a_jittered_backoff() {
    let server = FakeServer::start(vec![
        reply(503, &[], "busy"),
        reply(200, &[], r#"{"result":[]}"#),
    ])
    .await;
    let clock = VirtualClock::new();
    let cf = client(Service::Cloudflare, &server, &clock);

    let body = get(&cf, &["accounts", "a1", "logs", "audit"])
        .await
        .expect("retried to success");
    assert_eq!(body, br#"{"result":[]}"#);

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].request_line,
        "GET /accounts/a1/logs/audit HTTP/1.1"
    );
    assert_eq!(received[0].header("user-agent"), Some(USER_AGENT));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1, "one backoff before the one retry");
    assert!(sleeps[0] <= Duration::from_millis(100), "{sleeps:?}");
    let snapshot = cf.rate_limit().snapshot();
    assert_eq!((snapshot.retries, snapshot.backoff_waited), (1, sleeps[0]));
    assert_eq!(snapshot.rate_limit_waits, 0);
}

#[tokio::test]
async fn retries_are_capped_and_the_last_status_is_reported() {
    let server = FakeServer::start(vec![reply(502, &[], "bad gateway"); 10]).await;
    let clock = VirtualClock::new();
    let dd = client_with(
        Service::Datadog,
        &server,
        &clock,
        HttpPolicy {
            max_retries: 2,
            ..policy()
        },
    );

    let error = get(&dd, &["api", "v2", "audit", "events"])
        .await
        .expect_err("always 502");
    match &error {
        HttpError::Status {
            status, attempts, ..
        } => assert_eq!((status.as_u16(), *attempts), (502, 3)),
        other => panic!("expected a status error, got {other:?}"),
    }
    assert!(error.is_transient());
    assert_eq!(server.count(), 3, "first attempt + 2 retries");
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] <= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200));
    assert!(
        error.to_string().contains("(gave up after 3 attempts)"),
        "{error}"
    );
}

#[tokio::test]
async fn not_implemented_and_conflict_are_not_retried() {
    let server = FakeServer::start(vec![reply(501, &[], ""), reply(409, &[], "")]).await;
    let clock = VirtualClock::new();
    let s3 = client(Service::S3, &server, &clock);

    let not_implemented = get(&s3, &["bucket", "key"]).await.expect_err("501");
    assert!(not_implemented.is_permanent());
    let conflict = get(&s3, &["bucket", "key"]).await.expect_err("409");
    assert_eq!(conflict.status().map(|s| s.as_u16()), Some(409));
    assert!(
        conflict.is_transient(),
        "a conflict may clear: the outbox retries it later"
    );
    assert_eq!(server.count(), 2, "neither was retried in place");
    assert!(clock.sleeps().is_empty());
}

/// Real time: the second request must reach the server at least two
/// seconds after the first.
#[tokio::test]
async fn retry_after_seconds_is_waited_out_in_real_time() {
    let server = FakeServer::start(vec![
        reply(429, &[("Retry-After", "2")], r#"{"message":"slow down"}"#),
        reply(200, &[], "ok"),
    ])
    .await;
    let axiom = HttpClient::builder(Service::Axiom, server.base())
        .policy(policy())
        .build()
        .expect("client");

    let body = get(&axiom, &["datasets", "soc", "ingest"])
        .await
        .expect("success after the wait");
    assert_eq!(body, b"ok");
    let received = server.received();
    assert_eq!(received.len(), 2);
    let gap = received[1].at.duration_since(received[0].at);
    assert!(gap >= Duration::from_secs(2), "retried after only {gap:?}");
    assert!(gap < Duration::from_secs(4), "waited far too long: {gap:?}");
    let snapshot = axiom.rate_limit().snapshot();
    assert_eq!(snapshot.rate_limit_waits, 1);
    assert!(snapshot.last_429_at.is_some());
}

#[tokio::test]
async fn retry_after_http_date_is_waited_out_exactly() {
    let clock = VirtualClock::new();
    let date = clock.at(5).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let server = FakeServer::start(vec![
        reply(429, &[("Retry-After", &date)], ""),
        reply(200, &[], "ok"),
    ])
    .await;
    let confluence = client(Service::Confluence, &server, &clock);

    get(&confluence, &["pages"]).await.expect("success");
    assert_eq!(clock.sleeps(), [Duration::from_secs(5)]);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn datadog_reset_header_is_seconds_until_reset() {
    let server = FakeServer::start(vec![
        reply(
            429,
            &[
                ("X-RateLimit-Limit", "300"),
                ("X-RateLimit-Period", "60"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", "3"),
                ("X-RateLimit-Name", "audit_logs"),
            ],
            r#"{"errors":["Rate limit exceeded"]}"#,
        ),
        reply(200, &[("X-RateLimit-Remaining", "299")], "{}"),
    ])
    .await;
    let clock = VirtualClock::new();
    let dd = client(Service::Datadog, &server, &clock);

    get(&dd, &["api", "v2", "audit", "events"])
        .await
        .expect("success");
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(3)],
        "no earlier, no later"
    );
    let snapshot = dd.rate_limit().snapshot();
    assert_eq!(snapshot.last_429_at, Some(clock.at(0)));
    assert_eq!(snapshot.blocked_until, Some(clock.at(3)));
    assert_eq!(
        (snapshot.rate_limit_waits, snapshot.rate_limit_waited),
        (1, Duration::from_secs(3))
    );
    assert_eq!((snapshot.remaining, snapshot.limit), (Some(299), Some(300)));
}

#[tokio::test]
async fn axiom_reset_header_is_an_epoch_second() {
    let clock = VirtualClock::new();
    let reset = clock.at(7).timestamp().to_string();
    let server = FakeServer::start(vec![
        reply(
            429,
            &[("X-RateLimit-Reset", &reset), ("X-RateLimit-Scope", "user")],
            "",
        ),
        reply(200, &[], "{}"),
    ])
    .await;
    let axiom = client(Service::Axiom, &server, &clock);

    get(&axiom, &["datasets", "_apl"]).await.expect("success");
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn pagerduty_ratelimit_reset_is_seconds() {
    let server = FakeServer::start(vec![
        // No `ratelimit-remaining: 0`: the wait must come from the 429 alone.
        reply(429, &[("ratelimit-reset", "4")], ""),
        reply(201, &[], "{}"),
    ])
    .await;
    let clock = VirtualClock::new();
    let pd = client(Service::PagerDuty, &server, &clock);

    get(&pd, &["incidents"]).await.expect("success");
    assert_eq!(clock.sleeps(), [Duration::from_secs(4)]);
}

#[tokio::test]
async fn cloudflare_429_without_headers_is_a_five_minute_block() {
    let server = FakeServer::start(vec![reply(
        429,
        &[],
        r#"{"success":false,"errors":[{"code":10000,"message":"Rate limited. Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#,
    )])
    .await;
    let clock = VirtualClock::new();
    let cf = client_with(
        Service::Cloudflare,
        &server,
        &clock,
        HttpPolicy {
            max_rate_limit_wait: Duration::from_secs(30),
            ..policy()
        },
    );

    let error = get(&cf, &["accounts", "a1", "logs", "audit"])
        .await
        .expect_err("a 300 s block exceeds the 30 s the policy sits through");
    match &error {
        HttpError::RateLimited {
            wait,
            until,
            message,
            ..
        } => {
            assert_eq!(*wait, CLOUDFLARE_429_BLOCK);
            assert_eq!(*until, clock.at(300));
            assert_eq!(
                message.as_deref(),
                Some(
                    "Rate limited. Please wait and consider throttling your request speed (code 10000)"
                )
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(error.is_transient());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(300)));
    assert_eq!(
        cf.rate_limit().snapshot().blocked_until,
        Some(clock.at(300))
    );

    // Every clone honours the block without touching the server.
    let clone = cf.clone();
    let again = get(&clone, &["accounts", "a1", "logs", "audit"])
        .await
        .expect_err("still blocked");
    assert_eq!(again.retry_after(), Some(Duration::from_secs(300)));
    assert_eq!(server.count(), 1, "no request while blocked");
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn exhausted_quota_holds_the_next_request_until_reset() {
    let server = FakeServer::start(vec![
        reply(200, &[("Ratelimit", "\"default\";r=0;t=5")], "{}"),
        reply(200, &[("Ratelimit", "\"default\";r=1199;t=300")], "{}"),
    ])
    .await;
    let clock = VirtualClock::new();
    let cf = client(Service::Cloudflare, &server, &clock);

    get(&cf, &["accounts"]).await.expect("first");
    assert_eq!(cf.rate_limit().snapshot().remaining, Some(0));
    get(&cf, &["accounts"]).await.expect("second");
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(5)],
        "waited for the quota instead of earning a 429"
    );
    assert_eq!(cf.rate_limit().snapshot().remaining, Some(1199));
}

#[tokio::test]
async fn repeated_429s_exhaust_retries_into_rate_limited() {
    let limited = reply(
        429,
        &[("Retry-After", "1")],
        r#"{"errors":["Too many requests"]}"#,
    );
    let server = FakeServer::start(vec![limited; 5]).await;
    let clock = VirtualClock::new();
    let dd = client_with(
        Service::Datadog,
        &server,
        &clock,
        HttpPolicy {
            max_retries: 2,
            ..policy()
        },
    );

    let error = get(&dd, &["api", "v2", "audit", "events"])
        .await
        .expect_err("429 every time");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(error.service_message(), Some("Too many requests"));
    assert_eq!(server.count(), 3);
    assert_eq!(clock.sleeps(), [Duration::from_secs(1); 2]);
}

#[tokio::test]
async fn connection_reset_is_retried() {
    let server = FakeServer::start(vec![Reply::Reset, reply(200, &[], "after reset")]).await;
    let clock = VirtualClock::new();
    let linear = client(Service::Linear, &server, &clock);

    let url = linear.url(&["graphql"]);
    let fetched = linear
        .fetch(|http| {
            http.post(url.clone())
                .body(r#"{"query":"{ viewer { id } }"}"#)
        })
        .await
        .expect("success after the reset");
    assert_eq!(fetched.body, b"after reset");
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps().len(), 1);
}

#[tokio::test]
async fn connection_reset_every_time_is_a_transport_error() {
    let server = FakeServer::start(vec![Reply::Reset; 3]).await;
    let clock = VirtualClock::new();
    let linear = client_with(
        Service::Linear,
        &server,
        &clock,
        HttpPolicy {
            max_retries: 1,
            ..policy()
        },
    );

    let error = get(&linear, &["graphql"]).await.expect_err("reset");
    assert!(
        matches!(error, HttpError::Transport { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = FakeServer::start(vec![Reply::Hang, Reply::Hang]).await;
    let clock = VirtualClock::new();
    let timeout = Duration::from_millis(400);
    let llm = client_with(
        Service::Llm,
        &server,
        &clock,
        HttpPolicy {
            request_timeout: timeout,
            max_retries: 1,
            ..policy()
        },
    );

    let started = Instant::now();
    let error = get(&llm, &["v1", "chat", "completions"])
        .await
        .expect_err("no answer");
    let elapsed = started.elapsed();
    match &error {
        HttpError::Timeout {
            after, attempts, ..
        } => assert_eq!((*after, *attempts), (timeout, 2)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(elapsed >= timeout * 2, "gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(server.count(), 2);
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_timeout_then_success_is_retried() {
    let server = FakeServer::start(vec![Reply::Hang, reply(200, &[], "late but fine")]).await;
    let clock = VirtualClock::new();
    let llm = client_with(
        Service::Llm,
        &server,
        &clock,
        HttpPolicy {
            request_timeout: Duration::from_millis(300),
            ..policy()
        },
    );
    assert_eq!(
        get(&llm, &["v1", "models"]).await.expect("ok"),
        b"late but fine"
    );
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    // Bind, learn the port, close: nothing listens there now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let clock = VirtualClock::new();
    let axiom = HttpClient::builder(Service::Axiom, format!("http://127.0.0.1:{port}"))
        .policy(HttpPolicy {
            max_retries: 1,
            ..policy()
        })
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .build()
        .expect("client");

    let error = get(&axiom, &["datasets"]).await.expect_err("refused");
    assert!(
        matches!(error, HttpError::Connect { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(clock.sleeps().len(), 1);
}

/// Each service's error envelope, as the examples under `shared/specs` show it.
#[tokio::test]
async fn bad_request_carries_each_services_own_message() {
    let cases: [(Service, &str, &str); 9] = [
        (
            Service::Cloudflare,
            r#"{"errors":[{"code":12345,"message":"Some error message"}],"messages":[],"result":null,"success":false}"#,
            "Some error message (code 12345)",
        ),
        (
            Service::Datadog,
            r#"{"errors":["Bad Request"]}"#,
            "Bad Request",
        ),
        (
            Service::PagerDuty,
            r#"{"error":{"message":"Not Found","code":2100}}"#,
            "Not Found (code 2100)",
        ),
        (
            Service::PagerDuty,
            r#"{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}"#,
            "Event object format is unrecognized: JSON parse error",
        ),
        (
            Service::Axiom,
            r#"{"code":400,"message":"invalid APL query"}"#,
            "invalid APL query (code 400)",
        ),
        (
            Service::Linear,
            r#"{"errors":[{"message":"Argument Validation Error","extensions":{"type":"invalid input"}}]}"#,
            "Argument Validation Error",
        ),
        (
            Service::S3,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRequest</Code><Message>Content-MD5 OR x-amz-checksum- HTTP header is required</Message><RequestId>R1</RequestId></Error>",
            "InvalidRequest: Content-MD5 OR x-amz-checksum- HTTP header is required",
        ),
        (
            Service::Confluence,
            r#"{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"Invalid spaceId","detail":null}]}"#,
            "Invalid spaceId (code INVALID_REQUEST_PARAMETER)",
        ),
        (
            Service::Llm,
            r#"{"error":{"message":"Invalid model","type":"invalid_request_error"}}"#,
            "Invalid model",
        ),
    ];
    for (service, body, expected) in cases {
        let server = FakeServer::start(vec![reply(400, &[], body)]).await;
        let clock = VirtualClock::new();
        let http = client(service, &server, &clock);
        let error = get(&http, &["some", "endpoint"]).await.expect_err("400");
        match &error {
            HttpError::Status {
                context,
                status,
                message,
                attempts,
            } => {
                assert_eq!(context.service, service);
                assert_eq!(context.path, "/some/endpoint");
                assert_eq!((status.as_u16(), *attempts), (400, 1));
                assert_eq!(message.as_deref(), Some(expected), "{service}");
            }
            other => panic!("{service}: expected a status error, got {other:?}"),
        }
        assert!(error.is_permanent());
        assert_eq!(
            error.to_string(),
            format!("{service} GET /some/endpoint: HTTP 400 Bad Request: {expected}")
        );
        assert_eq!(server.count(), 1, "{service}: a 400 is not retried");
    }
}

/// The same, fed the real example files (skipped without `shared/specs`).
#[tokio::test]
async fn spec_example_error_bodies_yield_their_messages() {
    let Some(specs) = common::specs_dir() else {
        return;
    };
    let cases = [
        (
            Service::Cloudflare,
            "cloudflare/examples/error_response.spec-example.json",
            "Some error message (code 12345)",
        ),
        (
            Service::Datadog,
            "datadog/examples/error_response.spec-example.json",
            "Bad Request",
        ),
        (
            Service::PagerDuty,
            "pagerduty/examples/rest_error.spec-example.json",
            "Not Found (code 2100)",
        ),
        (
            Service::PagerDuty,
            "pagerduty/examples/events_v2_error.spec-example.json",
            "Event object format is unrecognized: JSON parse error",
        ),
        (
            Service::Axiom,
            "axiom/examples/rate_limited_429.docs-example.json",
            "rate limit exceeded",
        ),
        (
            Service::Linear,
            "linear/examples/error.ratelimited.SYNTHESIZED.json",
            "Rate limit exceeded",
        ),
    ];
    for (service, file, expected) in cases {
        let body =
            std::fs::read_to_string(specs.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let server = FakeServer::start(vec![reply(403, &[], &body)]).await;
        let clock = VirtualClock::new();
        let error = get(&client(service, &server, &clock), &["x"])
            .await
            .expect_err("403");
        assert_eq!(error.service_message(), Some(expected), "{file}");
    }
}

#[tokio::test]
async fn errors_never_show_the_query_string_or_headers() {
    let server = FakeServer::start(vec![reply(401, &[], r#"{"errors":["Unauthorized"]}"#)]).await;
    let clock = VirtualClock::new();
    let dd = client(Service::Datadog, &server, &clock);
    let url = dd.url(&["api", "v2", "audit", "events"]);

    let error = dd
        .send(|http| {
            http.get(url.clone())
                .query(&[("api_key", "sekrit-query")])
                .header("DD-API-KEY", "sekrit-header")
        })
        .await
        .expect_err("401");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("/api/v2/audit/events"), "{shown}");
    assert!(!shown.contains("sekrit"), "{shown}");
    let received = server.received();
    assert!(received[0].request_line.contains("api_key=sekrit-query"));

    // Transport errors from reqwest carry the URL unless stripped.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let refused = HttpClient::builder(Service::Datadog, format!("http://127.0.0.1:{port}"))
        .policy(HttpPolicy {
            max_retries: 0,
            ..policy()
        })
        .build()
        .expect("client");
    let url = refused.url(&["api"]);
    let error = refused
        .send(|http| http.get(url.clone()).query(&[("token", "sekrit-query")]))
        .await
        .expect_err("refused");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("sekrit"), "{shown}");
}

#[tokio::test]
async fn requests_go_through_the_configured_proxy() {
    let proxy = FakeServer::start(vec![reply(200, &[], "via proxy")]).await;
    let clock = VirtualClock::new();
    let pd = HttpClient::builder(Service::PagerDuty, "http://events.pagerduty.invalid/v2")
        .policy(policy())
        .proxy(proxy.base())
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .build()
        .expect("client");

    let body = get(&pd, &["enqueue"]).await.expect("proxied");
    assert_eq!(body, b"via proxy");
    // A forward proxy receives the absolute URI.
    assert_eq!(
        proxy.received()[0].request_line,
        "GET http://events.pagerduty.invalid/v2/enqueue HTTP/1.1"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let big = "x".repeat(2048);
    let server = FakeServer::start(vec![reply(200, &[], &big)]).await;
    let clock = VirtualClock::new();
    let cf = client_with(
        Service::Cloudflare,
        &server,
        &clock,
        HttpPolicy {
            max_body_bytes: 1024,
            ..policy()
        },
    );
    let error = get(&cf, &["accounts"]).await.expect_err("too large");
    assert!(
        matches!(error, HttpError::BodyTooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert!(error.is_permanent());
}
