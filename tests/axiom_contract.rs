//! The Axiom engine's requests against the official API description: Prism
//! serves `../shared/specs/axiom/openapi-v1.trimmed.prism-patched.json`
//! (the patched copy fixes the `_apl?format=tabular` path key and the ingest
//! body schema) and validates every request; `--errors` turns a violation
//! into a 4xx. Negative controls prove it does validate.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;
use soc_tui::detect::baseline::axiom::apl::baseline_query;
use soc_tui::detect::baseline::axiom::{AxiomEngine, AxiomError, BaselineWindow, DatasetName};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::secrets::Secret;
use soc_tui::sources::http::{HttpClient, HttpError, HttpPolicy, Service};

use common::prism::Prism;

const SPEC: &str = "axiom/openapi-v1.trimmed.prism-patched.json";

fn engine(prism: &Prism) -> AxiomEngine {
    let client = HttpClient::builder(Service::Axiom, prism.base_url())
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(20),
            max_retries: 1,
            ..HttpPolicy::default()
        })
        .build()
        .expect("client");
    AxiomEngine::new(
        client,
        "audit-events",
        Secret::new("xaat-contract-test-token".into()),
        Some("acme-1234"),
    )
    .expect("engine")
}

/// Two events, one with hostile text in every free-form field: the JSON
/// body must stay valid whatever the audit log says.
fn events() -> Vec<AuditEvent> {
    let hostile = "x\"}]\n\u{1b}[2J'; drop";
    let event = |id: &str, kind: ActionKind, text: &str| AuditEvent {
        source: Source::Cloudflare,
        id: id.into(),
        time: Utc.with_ymd_and_hms(2026, 11, 21, 3, 4, 5).unwrap(),
        actor: Actor {
            email: Some(format!("{text}@example.com")),
            ..Actor::default()
        },
        action: Action {
            verb: format!("token_create{text}"),
            kind,
            description: None,
        },
        resource: Resource {
            kind: Some(format!("api_token{text}")),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: Some("0123456789abcdef0123456789abcdef".into()),
        raw: "{}".into(),
    };
    vec![
        event("ev-1", ActionKind::Create, "mallory"),
        event(hostile, ActionKind::Read, hostile),
    ]
}

fn status_of(error: &AxiomError) -> Option<u16> {
    error.http().and_then(HttpError::status).map(|s| s.as_u16())
}

#[tokio::test]
async fn ingest_and_apl_requests_validate_against_the_spec() {
    let Some(prism) = Prism::start(SPEC) else {
        return;
    };
    let axiom = engine(&prism);

    // Ingest: a JSON array of flat rows with `timestamp-field`. Prism answers
    // with the spec's example status, which reports 2 events ingested.
    let report = axiom
        .ingest_hour(&events())
        .await
        .unwrap_or_else(|e| panic!("ingest request rejected: {e}\n{}", prism.output()));
    assert_eq!((report.sent, report.ingested, report.failed), (2, 2, 0));
    assert!(report.is_complete());
    assert_eq!(report.requests, 1);

    // APL: the baseline query as the engine sends it. Prism answers with the
    // spec's example (a tabular result of an unrelated dataset), so the
    // request is accepted and the result parses, but the columns are not ours.
    let window = BaselineWindow::new(Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap(), 30);
    let query = baseline_query(&DatasetName::parse("audit-events").unwrap(), &window).unwrap();
    let result = axiom
        .query(&query)
        .await
        .unwrap_or_else(|e| panic!("APL request rejected: {e}\n{}", prism.output()));
    let table = result.primary_table().expect("a table");
    assert_eq!(table.rows(), 3);
    assert_eq!(table.fields.len(), 18);
    assert_eq!(table.column("geo.city").unwrap()[2], "Nevers");
    assert!(!result.status.is_partial);

    let error = axiom
        .snapshot(window.hour_start, 30)
        .await
        .expect_err("the example result has none of the baseline columns");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "axiom POST /datasets/_apl: unexpected response: the result has no column \"actor_key\""
        ),
        "{text}"
    );

    // Negative controls: the same endpoints refuse what the spec forbids.
    let client = axiom.client();
    let ingest = client.url(&["datasets", "audit-events", "ingest"]);
    let not_an_array = client
        .send(|http| {
            http.post(ingest.clone())
                .bearer_auth("xaat-contract-test-token")
                .json(&json!({"not": "an array"}))
        })
        .await
        .expect_err("an object is not an ingest body");
    assert!(
        matches!(not_an_array.status().map(|s| s.as_u16()), Some(400 | 422)),
        "{not_an_array}"
    );

    let mut apl = client.url(&["datasets", "_apl"]);
    apl.query_pairs_mut().append_pair("format", "tabular");
    let no_apl = client
        .send(|http| {
            http.post(apl.clone())
                .bearer_auth("xaat-contract-test-token")
                .json(&json!({"startTime": query.start_time}))
        })
        .await
        .expect_err("a query without `apl` is invalid");
    assert!(
        matches!(no_apl.status().map(|s| s.as_u16()), Some(400 | 422)),
        "{no_apl}"
    );

    let unauthenticated = client
        .send(|http| http.post(apl.clone()).json(&query))
        .await
        .expect_err("the spec requires a bearer token");
    assert_eq!(
        unauthenticated.status().map(|s| s.as_u16()),
        Some(401),
        "{unauthenticated}"
    );
    assert_eq!(status_of(&AxiomError::Http(unauthenticated)), Some(401));
}
