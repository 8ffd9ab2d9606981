//! Contract tests: the sinks' real requests, sent through `HttpClient` to
//! Prism serving the official specs in `../shared/specs` (`--errors`: an
//! invalid request gets a 4xx naming the violation, which the sink would
//! surface as a permanent error).
//!
//! - PagerDuty Events v2 `POST /enqueue`: trigger, acknowledge, resolve.
//! - PagerDuty REST `GET /incidents` + `POST /incidents` (From, Accept).
//! - Confluence v2 `GET /spaces`, `GET /pages`, `POST /pages` (Basic auth).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;
use soc_tui::detect::finding::{Finding, PagerDutySeverity, Severity, SinkRequest, Workflow};
use soc_tui::secrets::Secret;
use soc_tui::sinks::confluence::{
    CodeLanguage, ConfluenceSink, ConfluenceTarget, StatusColour, StatusLabel, StorageDoc,
    report_title,
};
use soc_tui::sinks::pagerduty::PagerDutySink;
use soc_tui::sinks::{DeliveryRequest, EventLink, PagerDutyAction, Sink};
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};

use common::fake_server::{FakeServer, Received, Reply};
use common::prism::Prism;
use common::spec_patch;
use common::specs_dir;

const HOSTILE: &str = "evil\u{1b}[2J\u{202e}txt <ac:structured-macro ac:name=\"html\"> ]]> & \"q\"";

fn client(service: Service, base: &str) -> HttpClient {
    HttpClient::builder(service, base)
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(20),
            max_retries: 0,
            ..HttpPolicy::default()
        })
        .build()
        .expect("client")
}

fn token_finding() -> Finding {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap();
    Finding {
        workflow: Workflow::Token,
        dedup_key: "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into(),
        actor: "mallory@example.com".into(),
        severity: Severity::Critical,
        title: "API token with write access to all zones".into(),
        window_start: t,
        window_end: t,
        summary: "Token deploy-all created".into(),
        evidence: json!({"token_name": "deploy-all"}),
        event_ids: vec!["73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into()],
        rules: vec!["token.write".into()],
        suppressed: vec![],
        requests: vec![],
    }
}

fn trigger() -> DeliveryRequest {
    let finding = token_finding();
    let request = SinkRequest::PagerDutyTrigger {
        summary: format!("New API token by {HOSTILE}"),
        severity: PagerDutySeverity::Critical,
        custom_details: json!({"token_name": HOSTILE, "scopes": ["zone:edit"]}),
    };
    DeliveryRequest::from_sink_request(&finding, &request, &|_| None)
        .expect("conversion")
        .with_links(vec![EventLink {
            href: "https://linear.app/acme/issue/SEC-42".into(),
            text: "Linear SEC-42".into(),
        }])
}

#[tokio::test]
async fn pagerduty_events_v2_trigger_acknowledge_resolve_match_the_spec() {
    let Some(prism) = Prism::start("pagerduty/events-v2-openapiv3.json") else {
        return;
    };
    let sink = PagerDutySink::events(
        client(Service::PagerDuty, &prism.base_url()),
        Secret::new("e93facc04764012d7bfb002500d5d1a6".into()),
    );
    let request = trigger();
    let delivered = sink
        .deliver(&request)
        .await
        .unwrap_or_else(|e| panic!("trigger rejected: {e}\n{}", prism.output()));
    assert_eq!(
        delivered.remote_id,
        "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425"
    );
    assert!(
        delivered.note.is_none(),
        "Prism answers 202: {:?}",
        delivered.note
    );

    for action in [PagerDutyAction::Acknowledge, PagerDutyAction::Resolve] {
        let update = DeliveryRequest::pagerduty_update(
            "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425",
            action,
            Utc::now(),
        );
        sink.deliver(&update)
            .await
            .unwrap_or_else(|e| panic!("{action:?} rejected: {e}\n{}", prism.output()));
    }

    // The preview is the same request with the routing key hidden.
    let preview = sink.preview(&request).expect("preview").to_string();
    assert!(
        preview.contains("\"routing_key\": \"[redacted]\""),
        "{preview}"
    );
    assert!(!preview.contains("e93facc0"), "{preview}");
    assert!(
        preview.contains(&format!("POST {}/enqueue", prism.base_url())),
        "{preview}"
    );
}

/// Forwards to Prism and records what it said. Two adaptations, both for
/// Prism rather than PagerDuty: `Accept` gets `, application/json` appended
/// (Prism negotiates on the spec's media type, while PagerDuty answers JSON
/// to its vendor type), and while `hide_incidents` is set a validated
/// `GET /incidents` answer is replaced by an empty list, so the create path
/// runs too.
struct ValidatingProxy {
    server: FakeServer,
    verdicts: Arc<Mutex<Vec<Verdict>>>,
    hide_incidents: Arc<Mutex<bool>>,
}

/// What Prism said about one forwarded request.
#[derive(Debug, Clone)]
struct Verdict {
    request_line: String,
    status: u16,
    /// Prism's `sl-violations` header, when it found any.
    violations: Option<String>,
}

impl ValidatingProxy {
    async fn start(prism: &Prism) -> ValidatingProxy {
        let upstream = prism.base_url();
        let verdicts = Arc::new(Mutex::new(Vec::new()));
        let hide_incidents = Arc::new(Mutex::new(true));
        let http = reqwest::Client::new();
        let (log, hide) = (Arc::clone(&verdicts), Arc::clone(&hide_incidents));
        let server = FakeServer::with_handler(Arc::new(move |request: Received| {
            let (http, upstream, log, hide) = (
                http.clone(),
                upstream.clone(),
                Arc::clone(&log),
                Arc::clone(&hide),
            );
            Box::pin(async move {
                let method =
                    reqwest::Method::from_bytes(request.method().as_bytes()).expect("method");
                let mut forward = http.request(method, format!("{upstream}{}", request.target()));
                for (name, value) in &request.headers {
                    let lower = name.to_ascii_lowercase();
                    if matches!(lower.as_str(), "host" | "content-length" | "connection") {
                        continue;
                    }
                    let value = if lower == "accept" {
                        format!("{value}, application/json")
                    } else {
                        value.clone()
                    };
                    forward = forward.header(name.as_str(), value);
                }
                let answer = forward
                    .body(request.body.clone())
                    .send()
                    .await
                    .expect("prism");
                let status = answer.status().as_u16();
                let violations = answer
                    .headers()
                    .get("sl-violations")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let mut body = answer.text().await.expect("body");
                log.lock().unwrap().push(Verdict {
                    request_line: request.request_line.clone(),
                    status,
                    violations,
                });
                if status == 200 && request.method() == "GET" && *hide.lock().unwrap() {
                    body = r#"{"incidents":[],"limit":25,"offset":0,"more":false}"#.into();
                }
                Reply::Respond {
                    status,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body,
                }
            })
        }))
        .await;
        ValidatingProxy {
            server,
            verdicts,
            hide_incidents,
        }
    }

    fn verdicts(&self) -> Vec<Verdict> {
        self.verdicts.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn pagerduty_rest_incident_lookup_and_create_match_the_spec() {
    let Some(prism) = Prism::start("pagerduty/rest-openapiv3.trimmed.json") else {
        return;
    };
    let proxy = ValidatingProxy::start(&prism).await;
    let sink = PagerDutySink::rest(
        client(Service::PagerDuty, &proxy.server.base()),
        Secret::new("u+rest-api-key".into()),
        "oncall@example.com",
        "PWIXJZS",
    );
    let request = trigger();

    let created = sink.deliver(&request).await.unwrap_or_else(|e| {
        panic!(
            "create failed: {e}\n{:?}\n{}",
            proxy.verdicts(),
            prism.output()
        )
    });
    assert_eq!(created.remote_id, "PT4KHLK", "the spec's 201 example");
    assert!(!created.already_delivered);
    let verdicts = proxy.verdicts();
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    assert!(
        verdicts[0]
            .request_line
            .starts_with("GET /incidents?incident_key=token%3A73fd39ed"),
        "{verdicts:?}"
    );
    assert_eq!(
        (verdicts[0].status, verdicts[1].status),
        (200, 201),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().all(|v| v.violations.is_none()),
        "{verdicts:?}"
    );
    let post = &proxy.server.received()[1];
    assert_eq!(post.header("From"), Some("oncall@example.com"));
    assert_eq!(
        post.header("Authorization"),
        Some("Token token=u+rest-api-key")
    );
    assert_eq!(
        post.json()["incident"]["incident_key"],
        "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425"
    );

    // A retry finds the incident (the spec's list example) and does not post.
    *proxy.hide_incidents.lock().unwrap() = false;
    let again = sink.deliver(&request).await.expect("retry");
    assert!(again.already_delivered);
    assert_eq!(proxy.verdicts().len(), 3);
}

fn report_body() -> String {
    StorageDoc::new()
        .heading(1, &format!("Investigation of {HOSTILE}"))
        .status(
            StatusColour::Red,
            StatusLabel::LikelyMalicious,
            "confidence 0.91",
        )
        .table(
            &["time", "source", "action"],
            &[vec![
                "11:02".to_owned(),
                "CF".to_owned(),
                HOSTILE.to_owned(),
            ]],
        )
        .code_block(CodeLanguage::Json, &format!("{{\"name\":\"{HOSTILE}\"}}"))
        .finish()
}

#[tokio::test]
async fn confluence_space_lookup_page_search_and_create_match_the_spec() {
    let Some(specs) = specs_dir() else {
        return;
    };
    // The trimmed file has no `GET /pages`; take it from the full upstream file.
    let (_dir, spec) = spec_patch::with_operation(
        &specs.join("confluence/openapi-v2.trimmed.prism-patched.json"),
        &specs.join("confluence/openapi-v2.full.json"),
        "/pages",
        "get",
    );
    let Some(prism) = Prism::start_file(&spec) else {
        return;
    };
    let target = || ConfluenceTarget {
        space_key: "SEC".into(),
        parent_page_id: Some("123456".into()),
        email: "soc@example.com".into(),
        site: "https://example.atlassian.net/wiki".into(),
    };
    let title = report_title(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        HOSTILE,
        StatusLabel::LikelyMalicious,
        "INV-123",
    );
    let request = DeliveryRequest::ConfluencePage {
        dedup_key: "investigation:INV-123".into(),
        title: title.clone(),
        storage_body: report_body(),
    };

    // Prism's generated space has key "string", so the lookup cannot find
    // SEC: reaching that conclusion proves `GET /spaces?keys=SEC` was valid.
    let fresh = ConfluenceSink::new(
        client(Service::Confluence, &prism.base_url()),
        target(),
        Secret::new("api-token".into()),
    );
    let error = fresh
        .deliver(&request)
        .await
        .expect_err("no space SEC in Prism's answer");
    assert!(
        error.message().starts_with("space \"SEC\" not found"),
        "{error}\n{}",
        prism.output()
    );

    let sink = ConfluenceSink::new(
        client(Service::Confluence, &prism.base_url()),
        target(),
        Secret::new("api-token".into()),
    )
    .with_space_id("98304");
    let delivered = sink
        .deliver(&request)
        .await
        .unwrap_or_else(|e| panic!("page rejected: {e}\n{}", prism.output()));
    // Prism's search answer holds a page titled "string", not ours, so the
    // sink created one; Prism generates the id.
    assert!(!delivered.already_delivered);
    assert_eq!(delivered.remote_id, "string");

    let preview = sink.preview(&request).expect("preview").to_string();
    assert!(
        preview.contains("Authorization: Basic [redacted]"),
        "{preview}"
    );
    assert!(preview.contains("GET http"), "{preview}");
    assert!(
        preview.contains("\"representation\": \"storage\""),
        "{preview}"
    );
    assert!(!preview.contains("api-token"), "{preview}");
}

#[tokio::test]
async fn pagerduty_throttling_is_transient_with_the_wait_and_bad_input_permanent() {
    use common::fake_server::reply;
    let server = FakeServer::start(vec![
        reply(429, &[("Retry-After", "120")], ""),
        reply(
            400,
            &[("Content-Type", "application/json")],
            r#"{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing"]}"#,
        ),
    ])
    .await;
    // One client per call: a 429 blocks the client that saw it until the
    // wait is over, and this clock never moves on its own.
    let sink = || {
        PagerDutySink::events(
            HttpClient::builder(Service::PagerDuty, server.url("/v2"))
                .clock(common::virtual_clock::VirtualClock::new())
                .build()
                .expect("client"),
            Secret::new("routing-key".into()),
        )
    };
    let throttled = sink().deliver(&trigger()).await.expect_err("429");
    assert!(throttled.is_transient(), "{throttled}");
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(120)));
    let invalid = sink().deliver(&trigger()).await.expect_err("400");
    assert!(invalid.is_permanent(), "{invalid}");
    assert!(
        invalid
            .message()
            .contains("Event object is invalid: 'payload.summary' is missing"),
        "{invalid}"
    );
    assert_eq!(server.received()[0].target(), "/v2/enqueue");
    assert_eq!(server.received()[0].json()["routing_key"], "routing-key");
}
