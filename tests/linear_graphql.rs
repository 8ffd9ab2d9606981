//! Linear: every GraphQL document soc-tui sends, and the variables it sends
//! with it, validated against Linear's published schema
//! (`../shared/specs/linear/schema.graphql`) with `apollo-compiler`; and a
//! loopback fake Linear that, like Linear, refuses a second entity with the
//! same id, to show a retry after a lost answer never creates a second issue.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use apollo_compiler::response::serde_json_bytes;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{Value, json};
use soc_tui::config::LinearLabels;
use soc_tui::detect::finding::Workflow;
use soc_tui::secrets::Secret;
use soc_tui::sinks::linear::{LinearSink, documents};
use soc_tui::sinks::{DeliveryRequest, Sink};
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};

use common::fake_server::{FakeServer, Received, Reply, reply};
use common::specs_dir;
use common::virtual_clock::VirtualClock;

const TEAM: &str = "9cfb482a-81e3-4154-b5b9-2c805e70a02d";

/// Parsed once per test binary: the schema is 1.25 MB.
fn schema() -> Option<&'static Valid<Schema>> {
    static SCHEMA: OnceLock<Option<Valid<Schema>>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = specs_dir()?.join("linear/schema.graphql");
            let sdl = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Some(
                Schema::parse_and_validate(sdl, "schema.graphql")
                    .unwrap_or_else(|e| panic!("Linear's schema does not validate: {}", e.errors)),
            )
        })
        .as_ref()
}

/// Validates a `{query, variables}` body as a GraphQL server would before
/// executing it: the document against the schema, then the variables
/// coerced to the operation's declared input types (unknown input fields,
/// wrong scalar types and missing required values are errors).
fn validate_request(schema: &Valid<Schema>, body: &Value) -> Result<(), String> {
    let query = body["query"].as_str().ok_or("no query")?;
    let document = ExecutableDocument::parse_and_validate(schema, query, "request.graphql")
        .map_err(|e| e.errors.to_string())?;
    let operation = document
        .operations
        .get(None)
        .map_err(|e| format!("{e:?}"))?;
    let variables = match serde_json_bytes::Value::from(body["variables"].clone()) {
        serde_json_bytes::Value::Object(map) => map,
        other => return Err(format!("variables are not an object: {other:?}")),
    };
    apollo_compiler::request::coerce_variable_values(schema, operation, &variables)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

#[test]
fn every_document_is_valid_against_linears_schema() {
    let Some(schema) = schema() else {
        return;
    };
    for (name, document) in documents::DOCUMENTS {
        let valid =
            ExecutableDocument::parse_and_validate(schema, document, format!("{name}.graphql"))
                .unwrap_or_else(|e| {
                    panic!("{name} is not valid against Linear's schema:\n{}", e.errors)
                });
        let operation = valid.operations.get(None).expect("one operation");
        assert_eq!(operation.name.as_ref().map(|n| n.as_str()), Some(name));
    }
}

#[test]
fn the_validator_rejects_what_linear_would() {
    let Some(schema) = schema() else {
        return;
    };
    let unknown_field = documents::ISSUE_CREATE.replace("identifier", "identifer");
    assert!(ExecutableDocument::parse_and_validate(schema, unknown_field, "x.graphql").is_err());
    let good = documents::body(
        documents::ISSUE_CREATE,
        documents::issue_create_variables(&documents::NewIssue {
            id: "f91c525e-4d01-438b-be38-56e20d283abc",
            team_id: TEAM,
            title: "t",
            description: "d",
            priority: 2,
            label_ids: &["l1".to_owned()],
        }),
    );
    validate_request(schema, &good).expect("a valid issueCreate");
    let mut misspelled = good.clone();
    misspelled["variables"]["input"]["labelIDs"] = json!(["l1"]);
    assert!(
        validate_request(schema, &misspelled).is_err(),
        "unknown input field accepted"
    );
    let mut wrong_type = good;
    wrong_type["variables"]["input"]["priority"] = json!("high");
    assert!(
        validate_request(schema, &wrong_type).is_err(),
        "string priority accepted"
    );
}

/// A stateful fake of Linear's GraphQL endpoint: issues and comments by
/// id, a second create with a known id refused as Linear does, and
/// `fail_next_create` to lose the answer of a create that was applied.
#[derive(Default)]
struct FakeLinear {
    issues: BTreeMap<String, Value>,
    comments: BTreeMap<String, Value>,
    fail_next_create: bool,
}

fn graphql(data: Value) -> Reply {
    reply(
        200,
        &[("Content-Type", "application/json")],
        &json!({ "data": data }).to_string(),
    )
}

fn graphql_error(status: u16, message: &str, kind: &str) -> Reply {
    let body = json!({"errors": [{"message": message, "extensions": {"type": kind, "userPresentableMessage": message}}]});
    reply(
        status,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
}

impl FakeLinear {
    fn answer(&mut self, request: &Received) -> Reply {
        let body = request.json();
        let query = body["query"].as_str().unwrap_or_default();
        let vars = &body["variables"];
        if query.contains("SocIssueLabels") {
            return graphql(json!({"issueLabels": {"nodes": [
                {"id": "lbl-tokens", "name": "new-token", "team": {"id": TEAM}},
                {"id": "lbl-ws", "name": "security", "team": null},
                {"id": "lbl-other", "name": "triage", "team": {"id": "other-team"}},
            ]}}));
        }
        let (store, created_field, entity_field, id) = if query.contains("SocIssueCreate") {
            (
                &mut self.issues,
                "issueCreate",
                "issue",
                vars["input"]["id"].clone(),
            )
        } else if query.contains("SocCommentCreate") {
            (
                &mut self.comments,
                "commentCreate",
                "comment",
                vars["input"]["id"].clone(),
            )
        } else if query.contains("SocIssue(") {
            return match self.issues.get(vars["id"].as_str().unwrap_or_default()) {
                Some(issue) => graphql(json!({ "issue": issue })),
                None => graphql_error(200, "Entity not found: Issue", "invalid input"),
            };
        } else if query.contains("SocComment(") {
            return match self.comments.get(vars["id"].as_str().unwrap_or_default()) {
                Some(comment) => graphql(json!({ "comment": comment })),
                None => graphql_error(200, "Entity not found: Comment", "invalid input"),
            };
        } else {
            return graphql_error(400, "unknown operation", "graphql error");
        };
        let id = id.as_str().unwrap_or_default().to_owned();
        if store.contains_key(&id) {
            return graphql_error(400, "Entity with this id already exists", "invalid input");
        }
        let number = store.len() + 42;
        let entity = json!({"id": id, "identifier": format!("SEC-{number}"),
                            "url": format!("https://linear.app/acme/{entity_field}/SEC-{number}")});
        store.insert(id, entity.clone());
        if std::mem::take(&mut self.fail_next_create) {
            return reply(503, &[], "upstream connect error");
        }
        graphql(json!({ created_field: {"success": true, entity_field: entity} }))
    }
}

async fn fake_linear(state: Arc<Mutex<FakeLinear>>) -> FakeServer {
    FakeServer::with_handler(Arc::new(move |request: Received| {
        let answer = state.lock().unwrap().answer(&request);
        Box::pin(std::future::ready(answer))
    }))
    .await
}

fn sink(server: &FakeServer) -> LinearSink {
    let client = HttpClient::builder(Service::Linear, server.url("/graphql"))
        .policy(HttpPolicy {
            request_timeout: Duration::from_secs(10),
            max_retries: 2,
            ..HttpPolicy::default()
        })
        .clock(VirtualClock::new())
        .build()
        .expect("client");
    LinearSink::new(client, TEAM, Secret::new("lin_api_test".into())).with_workflow_labels(
        LinearLabels {
            tokens: vec!["security".into(), "new-token".into()],
            bursts: vec!["not-for-tokens".into()],
            ..LinearLabels::default()
        },
    )
}

fn issue_request() -> DeliveryRequest {
    DeliveryRequest::LinearIssue {
        dedup_key: "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into(),
        title: "New API token deploy\\-all by mallory\\@example\\.com".into(),
        body_markdown: "## What was seen\n\n| field | value |\n|---|---|\n| token | deploy\\-all |\n\n### Revoke checklist\n\n- [ ] Revoke the token\n".into(),
        priority: 1,
        labels: vec!["new-token".into(), "triage".into(), "missing".into()],
        workflow: Some(Workflow::Token),
        rule_severity: None,
    }
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_finds_the_issue_instead_of_creating_another() {
    let Some(schema) = schema() else {
        return;
    };
    let state = Arc::new(Mutex::new(FakeLinear {
        fail_next_create: true,
        ..FakeLinear::default()
    }));
    let server = fake_linear(Arc::clone(&state)).await;
    let sink = sink(&server);
    let request = issue_request();
    let expected_id = LinearSink::issue_id("token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425");

    // labels, create (applied, answer lost: 503), create again (refused:
    // the id exists), lookup by id (found).
    let delivered = sink.deliver(&request).await.expect("delivered");
    assert_eq!(delivered.remote_id, expected_id);
    assert!(delivered.already_delivered);
    assert_eq!(
        delivered.url.as_deref(),
        Some("https://linear.app/acme/issue/SEC-42")
    );
    assert_eq!(
        delivered.note.as_deref(),
        Some("labels not found in the team, left off: triage, missing")
    );
    assert_eq!(state.lock().unwrap().issues.len(), 1);
    let received = server.received();
    assert_eq!(received.len(), 4, "{received:#?}");
    let create = received[1].json();
    assert_eq!(create["variables"]["input"]["id"], expected_id.as_str());
    assert_eq!(create["variables"]["input"]["teamId"], TEAM);
    assert_eq!(
        create["variables"]["input"]["labelIds"],
        json!(["lbl-tokens", "lbl-ws"])
    );
    assert_eq!(received[1].header("Authorization"), Some("lin_api_test"));

    // The outbox retrying a delivered row changes nothing either.
    let again = sink.deliver(&request).await.expect("delivered again");
    assert!(again.already_delivered);
    assert_eq!(state.lock().unwrap().issues.len(), 1);

    // Comments follow the same scheme.
    let comment = DeliveryRequest::LinearComment {
        dedup_key: "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425#ack".into(),
        issue_id: expected_id.clone(),
        body_markdown: "Acknowledged by alice".into(),
    };
    let first = sink.deliver(&comment).await.expect("comment");
    assert!(!first.already_delivered);
    let second = sink.deliver(&comment).await.expect("comment again");
    assert!(second.already_delivered);
    assert_eq!(first.remote_id, second.remote_id);
    assert_eq!(state.lock().unwrap().comments.len(), 1);

    // Everything that went over the wire is valid for Linear's schema.
    for request in server.received() {
        validate_request(schema, &request.json())
            .unwrap_or_else(|e| panic!("invalid request {}:\n{e}", request.json()));
    }
    // And so is everything the preview shows.
    for step in sink.preview(&request).expect("preview").steps {
        let body: Value = serde_json::from_str(step.body.as_deref().expect("body")).expect("json");
        validate_request(schema, &body).unwrap_or_else(|e| panic!("preview {}: {e}", step.purpose));
        assert!(
            step.headers
                .contains(&("Authorization".into(), "[redacted]".into()))
        );
    }
}

#[tokio::test]
async fn rate_limits_are_transient_and_bad_input_is_permanent() {
    let server = FakeServer::start(vec![
        graphql_error(200, "Rate limit exceeded", "ratelimited"),
        graphql_error(200, "Rate limit exceeded", "ratelimited"),
        graphql_error(400, "Argument Validation Error", "invalid input"),
        graphql_error(200, "Entity not found: Issue", "invalid input"),
    ])
    .await;
    let sink = sink(&server);
    let mut request = issue_request();
    if let DeliveryRequest::LinearIssue {
        labels, workflow, ..
    } = &mut request
    {
        labels.clear();
        *workflow = None;
    }
    let limited = sink.deliver(&request).await.expect_err("rate limited");
    assert!(limited.is_transient(), "{limited}");
    assert!(
        limited
            .message()
            .contains("Rate limit exceeded (ratelimited)"),
        "{limited}"
    );
    let invalid = sink.deliver(&request).await.expect_err("invalid");
    assert!(invalid.is_permanent(), "{invalid}");
    assert!(
        invalid.message().contains("Argument Validation Error"),
        "{invalid}"
    );
}
