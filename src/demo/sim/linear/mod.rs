//! Linear GraphQL simulator: `POST /graphql` with `issueCreate`,
//! `commentCreate`, `issue(id:)`, `comment(id:)`, `team(id:)`, `teams` and
//! `issueLabels`.
//!
//! As the real API: a personal API key goes in `Authorization` as it is (no
//! `Bearer`); documents are parsed and checked against the schema subset
//! before anything runs (unknown fields, missing arguments and required
//! variables are GraphQL errors, HTTP 400); `issueCreate` needs an existing
//! `teamId` and honours a client-supplied UUID `id`, refusing one already
//! taken; errors carry Linear's `extensions.type` (`authentication error`,
//! `invalid input`, `graphql error`).

mod errors;
mod resolvers;
mod schema;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::graphql::{self, OperationKind};
use super::server::{
    RecordedRequest, ServiceProfile, SimServer, json, lock_read, lock_write, utf8,
};
use super::{SimError, same_secret};
use crate::secrets::Secret;

use errors::{GqlError, error_response, errors_response};
use resolvers::resolve_root;
use schema::{Kind, coerce_variables, field_kind, project, validate};

const SERVICE: &str = "linear";
pub(super) const WORKSPACE: &str = "soc-demo";
/// `(id, key, name)` of the workspace's teams.
pub(super) const TEAMS: [(&str, &str, &str); 2] = [
    ("9cfb482a-81e3-4154-b5b9-2c805e70a02d", "SEC", "Security"),
    ("5b0e1c1d-3a52-4f7e-9b1f-0c6f2f1d7a11", "ENG", "Engineering"),
];
/// `(id, name, team id or None for a workspace label)`.
pub(super) const LABELS: [(&str, &str, Option<&str>); 3] = [
    ("b7d4a5c2-1f0e-4c3b-8a9d-2e6f7a8b9c01", "security", None),
    (
        "c8e5b6d3-2a1f-4d4c-9b0e-3f7a8b9c0d12",
        "soc-tui",
        Some(TEAMS[0].0),
    ),
    (
        "d9f6c7e4-3b2a-4e5d-8c1f-4a8b9c0d1e23",
        "incident",
        Some(TEAMS[0].0),
    ),
];
pub(super) const ISSUE_INPUT_FIELDS: [&str; 18] = [
    "id",
    "teamId",
    "title",
    "description",
    "descriptionData",
    "priority",
    "labelIds",
    "assigneeId",
    "stateId",
    "parentId",
    "projectId",
    "cycleId",
    "dueDate",
    "estimate",
    "subscriberIds",
    "templateId",
    "createAsUser",
    "displayIconUrl",
];
pub(super) const COMMENT_INPUT_FIELDS: [&str; 9] = [
    "id",
    "issueId",
    "body",
    "bodyData",
    "parentId",
    "createAsUser",
    "displayIconUrl",
    "doNotSubscribeToIssue",
    "quotedText",
];

/// An issue created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearIssue {
    pub id: String,
    pub identifier: String,
    pub team_id: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: u8,
    pub label_ids: Vec<String>,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// A comment created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearComment {
    pub id: String,
    pub issue_id: String,
    pub body: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub(super) struct Workspace {
    pub(super) issues: Vec<LinearIssue>,
    pub(super) comments: Vec<LinearComment>,
}

#[derive(Debug)]
pub(super) struct LinearState {
    api_key: Secret,
    pub(super) origin: RwLock<String>,
    pub(super) workspace: RwLock<Workspace>,
    pub(super) sync_id: AtomicU64,
}

/// The running Linear simulator.
#[derive(Debug)]
pub struct LinearSim {
    server: SimServer,
    state: Arc<LinearState>,
}

impl LinearSim {
    pub async fn start(api_key: Secret) -> Result<LinearSim, SimError> {
        let state = Arc::new(LinearState {
            api_key,
            origin: RwLock::default(),
            workspace: RwLock::default(),
            sync_id: AtomicU64::new(1_000_000),
        });
        let router = Router::new()
            .route("/graphql", post(graphql_endpoint))
            .with_state(Arc::clone(&state));
        let profile = ServiceProfile {
            throttled: |_, _| {
                error_response(
                    StatusCode::BAD_REQUEST,
                    "Rate limit exceeded",
                    "ratelimited",
                    "RATELIMITED",
                )
            },
            limit_headers: ServiceProfile::no_limit_headers,
            redact_body: ServiceProfile::body_as_is,
        };
        let server = SimServer::start(SERVICE, router, profile, None).await?;
        *lock_write(&state.origin) = server.origin();
        Ok(LinearSim { server, state })
    }

    /// `http://127.0.0.1:<port>/graphql`, the `linear.api_url`.
    pub fn base_url(&self) -> String {
        format!("{}/graphql", self.server.origin())
    }

    /// The team tickets go to (the `linear.team_id`).
    pub fn team_id(&self) -> &'static str {
        TEAMS[0].0
    }

    pub fn issues(&self) -> Vec<LinearIssue> {
        lock_read(&self.state.workspace).issues.clone()
    }

    pub fn comments(&self) -> Vec<LinearComment> {
        lock_read(&self.state.workspace).comments.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

// ---- the endpoint --------------------------------------------------------

fn authorized(state: &LinearState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|key| same_secret(key, &state.api_key))
}

async fn graphql_endpoint(
    State(state): State<Arc<LinearState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return errors_response(
            StatusCode::BAD_REQUEST,
            &[GqlError {
                message: "Authentication required, not authenticated".into(),
                kind: "authentication error",
                code: "AUTHENTICATION_ERROR",
                user_message: Some("You need to authenticate to access this operation.".into()),
                path: None,
            }],
            false,
        );
    }
    let bad = |message: String| {
        errors_response(
            StatusCode::BAD_REQUEST,
            &[GqlError::graphql(message, "BAD_REQUEST")],
            false,
        )
    };
    let Some(text) = utf8(&body) else {
        return bad("POST body is not UTF-8.".into());
    };
    let request: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return bad(format!("POST body is not valid JSON: {e}")),
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return bad("POST body must contain a \"query\" string.".into());
    };
    let provided = match request.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return bad("\"variables\" must be an object.".into()),
    };
    let doc = match graphql::parse(query) {
        Ok(doc) => doc,
        Err(e) => {
            let mut error = GqlError::graphql(e.message, "GRAPHQL_PARSE_FAILED").to_json();
            error["locations"] = json!([{"line": e.line, "column": e.column}]);
            return json(StatusCode::BAD_REQUEST, &json!({"errors": [error]}));
        }
    };
    let wanted = request.get("operationName").and_then(Value::as_str);
    let operation = match wanted {
        Some(name) => doc
            .operations
            .iter()
            .find(|o| o.name.as_deref() == Some(name)),
        None if doc.operations.len() == 1 => doc.operations.first(),
        None => {
            return bad(
                "Must provide operation name if query contains multiple operations.".into(),
            );
        }
    };
    let Some(operation) = operation else {
        return bad(format!(
            "Unknown operation named \"{}\".",
            wanted.unwrap_or_default()
        ));
    };
    let root = match operation.kind {
        OperationKind::Query => "Query",
        OperationKind::Mutation => "Mutation",
        OperationKind::Subscription => return bad("Subscriptions are not served over HTTP.".into()),
    };
    let prepared = validate(&doc, &operation.selections, root)
        .and_then(|()| coerce_variables(&operation.variables, &provided));
    let variables = match prepared {
        Ok(v) => v,
        Err(e) => return errors_response(StatusCode::BAD_REQUEST, &[e], false),
    };
    let fields = match doc.fields(&operation.selections, root) {
        Ok(f) => f,
        Err(m) => return bad(m),
    };
    let mut data = Map::new();
    for field in fields {
        if field.name == "__typename" {
            data.insert(field.response_key().to_owned(), json!(root));
            continue;
        }
        match resolve_root(&state, field, &variables) {
            Ok(value) => {
                let child = match field_kind(root, &field.name) {
                    Some(Kind::Object(child) | Kind::List(child)) => child,
                    _ => root,
                };
                data.insert(
                    field.response_key().to_owned(),
                    project(&doc, &field.selections, child, &value),
                );
            }
            // Input coercion failed: the request was invalid, nothing ran.
            Err(error) if error.kind == "graphql error" => {
                return errors_response(StatusCode::BAD_REQUEST, &[error], false);
            }
            // Every root field here is non-null, so an error nulls `data`.
            Err(error) => return errors_response(StatusCode::OK, &[error], true),
        }
    }
    json(StatusCode::OK, &json!({ "data": data }))
}
