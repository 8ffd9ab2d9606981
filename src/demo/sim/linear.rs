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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::graphql::{self, Document, Field, OperationKind, TypeRef};
use super::server::{
    RecordedRequest, ServiceProfile, SimServer, json, lock_read, lock_write, utf8,
};
use super::{SimError, same_secret};
use crate::secrets::Secret;

const SERVICE: &str = "linear";
const WORKSPACE: &str = "soc-demo";
/// `(id, key, name)` of the workspace's teams.
const TEAMS: [(&str, &str, &str); 2] = [
    ("9cfb482a-81e3-4154-b5b9-2c805e70a02d", "SEC", "Security"),
    ("5b0e1c1d-3a52-4f7e-9b1f-0c6f2f1d7a11", "ENG", "Engineering"),
];
/// `(id, name, team id or None for a workspace label)`.
const LABELS: [(&str, &str, Option<&str>); 3] = [
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
const ISSUE_INPUT_FIELDS: [&str; 18] = [
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
const COMMENT_INPUT_FIELDS: [&str; 9] = [
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
struct Workspace {
    issues: Vec<LinearIssue>,
    comments: Vec<LinearComment>,
}

#[derive(Debug)]
struct LinearState {
    api_key: Secret,
    origin: RwLock<String>,
    workspace: RwLock<Workspace>,
    sync_id: AtomicU64,
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

// ---- errors --------------------------------------------------------------

/// One GraphQL error: message, Linear's `extensions.type`, and code.
#[derive(Debug, Clone)]
struct GqlError {
    message: String,
    kind: &'static str,
    code: &'static str,
    user_message: Option<String>,
    path: Option<String>,
}

impl GqlError {
    fn graphql(message: impl Into<String>, code: &'static str) -> GqlError {
        GqlError {
            message: message.into(),
            kind: "graphql error",
            code,
            user_message: None,
            path: None,
        }
    }

    fn invalid_input(path: &str, user_message: impl Into<String>) -> GqlError {
        GqlError {
            message: "Argument Validation Error".into(),
            kind: "invalid input",
            code: "INPUT_ERROR",
            user_message: Some(user_message.into()),
            path: Some(path.to_owned()),
        }
    }

    fn not_found(path: &str, entity: &str) -> GqlError {
        GqlError {
            message: format!("Entity not found: {entity}"),
            kind: "invalid input",
            code: "INPUT_ERROR",
            user_message: Some(format!("Could not find referenced {entity}.")),
            path: Some(path.to_owned()),
        }
    }

    fn to_json(&self) -> Value {
        let mut extensions = json!({
            "type": self.kind,
            "code": self.code,
            "userError": true,
        });
        if let Some(user) = &self.user_message {
            extensions["userPresentableMessage"] = json!(user);
        }
        let mut error = json!({ "message": self.message, "extensions": extensions });
        if let Some(path) = &self.path {
            error["path"] = json!([path]);
        }
        error
    }
}

fn error_response(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    json(
        status,
        &json!({"errors": [{"message": message, "extensions": {
            "type": kind, "code": code, "userError": true, "userPresentableMessage": message}}]}),
    )
}

fn errors_response(status: StatusCode, errors: &[GqlError], with_data_null: bool) -> Response {
    let list: Vec<Value> = errors.iter().map(GqlError::to_json).collect();
    let mut body = json!({ "errors": list });
    if with_data_null {
        body["data"] = Value::Null;
    }
    json(status, &body)
}

// ---- the schema subset ---------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Kind {
    Scalar,
    Object(&'static str),
    List(&'static str),
}

fn field_kind(type_name: &str, field: &str) -> Option<Kind> {
    use Kind::*;
    Some(match (type_name, field) {
        ("Query", "issue") => Object("Issue"),
        ("Query", "comment") => Object("Comment"),
        ("Query", "team") => Object("Team"),
        ("Query", "teams") => Object("TeamConnection"),
        ("Query", "issueLabels") => Object("IssueLabelConnection"),
        ("Mutation", "issueCreate") => Object("IssuePayload"),
        ("Mutation", "commentCreate") => Object("CommentPayload"),
        ("IssuePayload", "success" | "lastSyncId") => Scalar,
        ("IssuePayload", "issue") => Object("Issue"),
        ("CommentPayload", "success" | "lastSyncId") => Scalar,
        ("CommentPayload", "comment") => Object("Comment"),
        (
            "Issue",
            "id" | "identifier" | "number" | "title" | "description" | "priority" | "priorityLabel"
            | "url" | "createdAt" | "updatedAt" | "branchName",
        ) => Scalar,
        ("Issue", "team") => Object("Team"),
        ("Issue", "labels") => Object("IssueLabelConnection"),
        ("Comment", "id" | "body" | "url" | "createdAt" | "updatedAt") => Scalar,
        ("Comment", "issue") => Object("Issue"),
        ("Team", "id" | "key" | "name") => Scalar,
        ("IssueLabel", "id" | "name" | "color") => Scalar,
        ("IssueLabel", "team") => Object("Team"),
        ("TeamConnection", "nodes") => List("Team"),
        ("IssueLabelConnection", "nodes") => List("IssueLabel"),
        ("TeamConnection" | "IssueLabelConnection", "pageInfo") => Object("PageInfo"),
        ("PageInfo", "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor") => Scalar,
        _ => return None,
    })
}

/// Arguments of root fields: `(name, required type or None if optional)`.
fn root_arguments(field: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match field {
        "issue" | "comment" | "team" => &[("id", Some("String!"))],
        "issueCreate" => &[("input", Some("IssueCreateInput!"))],
        "commentCreate" => &[("input", Some("CommentCreateInput!"))],
        _ => &[
            ("first", None),
            ("after", None),
            ("last", None),
            ("before", None),
            ("filter", None),
            ("includeArchived", None),
            ("orderBy", None),
        ],
    }
}

/// Checks a selection against the schema subset before anything runs.
fn validate(
    doc: &Document,
    selections: &[graphql::Selection],
    type_name: &str,
) -> Result<(), GqlError> {
    let fields = doc
        .fields(selections, type_name)
        .map_err(|m| GqlError::graphql(m, "GRAPHQL_VALIDATION_FAILED"))?;
    for field in fields {
        if field.name == "__typename" {
            continue;
        }
        let kind = field_kind(type_name, &field.name).ok_or_else(|| {
            GqlError::graphql(
                format!(
                    "Cannot query field \"{}\" on type \"{type_name}\".",
                    field.name
                ),
                "GRAPHQL_VALIDATION_FAILED",
            )
        })?;
        if type_name == "Query" || type_name == "Mutation" {
            let allowed = root_arguments(&field.name);
            for (arg, _) in &field.arguments {
                if !allowed.iter().any(|(name, _)| name == arg) {
                    return Err(GqlError::graphql(
                        format!(
                            "Unknown argument \"{arg}\" on field \"{type_name}.{}\".",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
            }
            for (name, required) in allowed {
                if let Some(ty) = required
                    && field.argument(name).is_none()
                {
                    return Err(GqlError::graphql(
                        format!(
                            "Field \"{}\" argument \"{name}\" of type \"{ty}\" is required, but it was not provided.",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
            }
        }
        match kind {
            Kind::Scalar if !field.selections.is_empty() => {
                return Err(GqlError::graphql(
                    format!(
                        "Field \"{}\" must not have a selection since its type has no subfields.",
                        field.name
                    ),
                    "GRAPHQL_VALIDATION_FAILED",
                ));
            }
            Kind::Object(child) | Kind::List(child) => {
                if field.selections.is_empty() {
                    return Err(GqlError::graphql(
                        format!(
                            "Field \"{}\" of type \"{child}\" must have a selection of subfields.",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
                validate(doc, &field.selections, child)?;
            }
            Kind::Scalar => {}
        }
    }
    Ok(())
}

/// Keeps the selected fields of `value` (of type `type_name`), by response key.
fn project(
    doc: &Document,
    selections: &[graphql::Selection],
    type_name: &str,
    value: &Value,
) -> Value {
    let Ok(fields) = doc.fields(selections, type_name) else {
        return Value::Null;
    };
    let mut out = Map::new();
    for field in fields {
        let key = field.response_key().to_owned();
        if field.name == "__typename" {
            out.insert(key, json!(type_name));
            continue;
        }
        let data = value.get(&field.name).unwrap_or(&Value::Null);
        let shown = match field_kind(type_name, &field.name) {
            Some(Kind::Object(child)) if !data.is_null() => {
                project(doc, &field.selections, child, data)
            }
            Some(Kind::List(child)) => Value::Array(
                data.as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| project(doc, &field.selections, child, i))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => data.clone(),
        };
        out.insert(key, shown);
    }
    Value::Object(out)
}

// ---- variables -----------------------------------------------------------

/// Applies defaults and checks that required variables are present and
/// that provided values have the declared shape.
fn coerce_variables(
    defs: &[graphql::VariableDef],
    provided: &Map<String, Value>,
) -> Result<Map<String, Value>, GqlError> {
    let mut out = Map::new();
    for def in defs {
        let value = match provided.get(&def.name) {
            Some(v) => Some(v.clone()),
            None => match &def.default {
                Some(d) => Some(
                    graphql::resolve(d, &Map::new())
                        .map_err(|m| GqlError::graphql(m, "BAD_USER_INPUT"))?,
                ),
                None => None,
            },
        };
        let required = matches!(def.ty, TypeRef::NonNull(_));
        match value {
            None | Some(Value::Null) if required => {
                return Err(GqlError::graphql(
                    format!(
                        "Variable \"${}\" of required type \"{}\" was not provided.",
                        def.name, def.ty
                    ),
                    "BAD_USER_INPUT",
                ));
            }
            None => {}
            Some(v) => {
                if !shape_fits(&def.ty, &v) {
                    return Err(GqlError::graphql(
                        format!(
                            "Variable \"${}\" got invalid value {v}; Expected type \"{}\".",
                            def.name, def.ty
                        ),
                        "BAD_USER_INPUT",
                    ));
                }
                out.insert(def.name.clone(), v);
            }
        }
    }
    Ok(out)
}

fn shape_fits(ty: &TypeRef, value: &Value) -> bool {
    match (ty, value) {
        (TypeRef::NonNull(_), Value::Null) => false,
        (TypeRef::NonNull(inner), v) => shape_fits(inner, v),
        (_, Value::Null) => true,
        (TypeRef::List(inner), Value::Array(items)) => items.iter().all(|i| shape_fits(inner, i)),
        (TypeRef::List(inner), single) => shape_fits(inner, single),
        (TypeRef::Named(name), v) => match name.as_str() {
            "String" | "ID" | "DateTime" | "TimelessDate" => v.is_string(),
            "Int" => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            "Float" => v.is_number(),
            "Boolean" => v.is_boolean(),
            _ => v.is_object(),
        },
    }
}

/// Checks an input object's fields: unknown names and missing required ones
/// are coercion errors, as GraphQL reports them.
fn check_input(
    input: &Value,
    type_name: &str,
    known: &[&str],
    required: &[&str],
) -> Result<Map<String, Value>, GqlError> {
    let Some(object) = input.as_object() else {
        return Err(GqlError::graphql(
            format!("Expected type \"{type_name}\" to be an object, got {input}."),
            "BAD_USER_INPUT",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(GqlError::graphql(
            format!(
                "Variable \"$input\" got invalid value {input}; Field \"{unknown}\" is not defined by type \"{type_name}\"."
            ),
            "BAD_USER_INPUT",
        ));
    }
    for name in required {
        if !object.get(*name).is_some_and(Value::is_string) {
            return Err(GqlError::graphql(
                format!(
                    "Variable \"$input\" got invalid value {input}; Field \"{name}\" of required type \"String!\" was not provided."
                ),
                "BAD_USER_INPUT",
            ));
        }
    }
    Ok(object.clone())
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn new_uuid() -> String {
    let mut rng = fastrand::Rng::new();
    let hex = format!("{:032x}", rng.u128(..));
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

// ---- resolvers -----------------------------------------------------------

fn team_json(id: &str) -> Value {
    TEAMS.iter().find(|(tid, _, _)| *tid == id).map_or(
        Value::Null,
        |(id, key, name)| json!({"id": id, "key": key, "name": name}),
    )
}

fn label_json((id, name, team): (&str, &str, Option<&str>)) -> Value {
    json!({"id": id, "name": name, "color": "#eb5757", "team": team.map_or(Value::Null, team_json)})
}

fn connection(nodes: Vec<Value>) -> Value {
    let end = nodes
        .last()
        .and_then(|n| n.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    let start = nodes
        .first()
        .and_then(|n| n.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    json!({"nodes": nodes, "pageInfo": {"hasNextPage": false, "hasPreviousPage": false, "startCursor": start, "endCursor": end}})
}

fn issue_json(issue: &LinearIssue) -> Value {
    let time = issue
        .created_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let labels: Vec<Value> = LABELS
        .iter()
        .filter(|(id, _, _)| issue.label_ids.iter().any(|l| l == id))
        .map(|l| label_json(*l))
        .collect();
    let priority_label = ["No priority", "Urgent", "High", "Medium", "Low"]
        .get(usize::from(issue.priority))
        .copied()
        .unwrap_or("No priority");
    json!({
        "id": issue.id,
        "identifier": issue.identifier,
        "number": issue.identifier.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()),
        "title": issue.title,
        "description": issue.description,
        "priority": issue.priority,
        "priorityLabel": priority_label,
        "url": issue.url,
        "createdAt": time,
        "updatedAt": time,
        "branchName": format!("soc/{}", issue.identifier.to_lowercase()),
        "team": team_json(&issue.team_id),
        "labels": connection(labels),
    })
}

fn comment_json(comment: &LinearComment, issue: Option<&LinearIssue>) -> Value {
    let time = comment
        .created_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "id": comment.id,
        "body": comment.body,
        "url": comment.url,
        "createdAt": time,
        "updatedAt": time,
        "issue": issue.map_or(Value::Null, issue_json),
    })
}

fn find_issue<'a>(workspace: &'a Workspace, key: &str) -> Option<&'a LinearIssue> {
    workspace
        .issues
        .iter()
        .find(|i| i.id == key || i.identifier.eq_ignore_ascii_case(key))
}

fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect();
    words.join("-")
}

fn issue_create(state: &LinearState, key: &str, input: &Value) -> Result<Value, GqlError> {
    let input = check_input(input, "IssueCreateInput", &ISSUE_INPUT_FIELDS, &["teamId"])?;
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let team_id = text("teamId").unwrap_or_default();
    let Some((_, team_key, _)) = TEAMS.iter().find(|(id, _, _)| *id == team_id) else {
        return Err(GqlError::not_found(key, "Team"));
    };
    let title = text("title").map(str::trim).unwrap_or_default();
    if title.is_empty() {
        return Err(GqlError::invalid_input(key, "title must not be empty"));
    }
    let priority = match input.get("priority") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64().filter(|p| *p <= 4) {
            Some(p) => p as u8,
            None => {
                return Err(GqlError::invalid_input(
                    key,
                    format!("priority must be an integer from 0 to 4, got {v}"),
                ));
            }
        },
    };
    let label_ids: Vec<String> = match input.get("labelIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(other) => {
            return Err(GqlError::invalid_input(
                key,
                format!("labelIds must be a list, got {other}"),
            ));
        }
    };
    if let Some(unknown) = label_ids.iter().find(|id| {
        !LABELS
            .iter()
            .any(|(lid, _, team)| lid == id && team.is_none_or(|t| t == team_id))
    }) {
        return Err(GqlError::invalid_input(
            key,
            format!("label {unknown} does not exist in this team"),
        ));
    }
    let id = match text("id") {
        Some(id) if !is_uuid(id) => {
            return Err(GqlError::invalid_input(key, "id must be a UUID"));
        }
        Some(id) => id.to_lowercase(),
        None => new_uuid(),
    };
    let mut workspace = lock_write(&state.workspace);
    if workspace.issues.iter().any(|i| i.id == id) {
        return Err(GqlError::invalid_input(
            key,
            format!("An issue with id {id} already exists."),
        ));
    }
    let number = workspace
        .issues
        .iter()
        .filter(|i| i.team_id == team_id)
        .count()
        + 1;
    let identifier = format!("{team_key}-{number}");
    let issue = LinearIssue {
        url: format!(
            "{}/{WORKSPACE}/issue/{identifier}/{}",
            lock_read(&state.origin),
            slug(title)
        ),
        id,
        identifier,
        team_id: team_id.to_owned(),
        title: title.to_owned(),
        description: text("description").map(str::to_owned),
        priority,
        label_ids,
        created_at: Utc::now(),
    };
    let answer = json!({
        "success": true,
        "lastSyncId": state.sync_id.fetch_add(1, Ordering::Relaxed) + 1,
        "issue": issue_json(&issue),
    });
    workspace.issues.push(issue);
    Ok(answer)
}

fn comment_create(state: &LinearState, key: &str, input: &Value) -> Result<Value, GqlError> {
    let input = check_input(input, "CommentCreateInput", &COMMENT_INPUT_FIELDS, &[])?;
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let body = text("body").map(str::trim).unwrap_or_default();
    if body.is_empty() {
        return Err(GqlError::invalid_input(key, "body must not be empty"));
    }
    let Some(issue_key) = text("issueId") else {
        return Err(GqlError::invalid_input(key, "issueId is required"));
    };
    let id = match text("id") {
        Some(id) if !is_uuid(id) => return Err(GqlError::invalid_input(key, "id must be a UUID")),
        Some(id) => id.to_lowercase(),
        None => new_uuid(),
    };
    let mut workspace = lock_write(&state.workspace);
    let Some(issue) = find_issue(&workspace, issue_key).cloned() else {
        return Err(GqlError::not_found(key, "Issue"));
    };
    if workspace.comments.iter().any(|c| c.id == id) {
        return Err(GqlError::invalid_input(
            key,
            format!("A comment with id {id} already exists."),
        ));
    }
    let comment = LinearComment {
        url: format!("{}#comment-{}", issue.url, &id[..8]),
        id,
        issue_id: issue.id.clone(),
        body: body.to_owned(),
        created_at: Utc::now(),
    };
    let answer = json!({
        "success": true,
        "lastSyncId": state.sync_id.fetch_add(1, Ordering::Relaxed) + 1,
        "comment": comment_json(&comment, Some(&issue)),
    });
    workspace.comments.push(comment);
    Ok(answer)
}

fn resolve_root(
    state: &LinearState,
    field: &Field,
    variables: &Map<String, Value>,
) -> Result<Value, GqlError> {
    let key = field.response_key();
    let argument = |name: &str| -> Result<Value, GqlError> {
        field
            .argument(name)
            .map(|v| graphql::resolve(v, variables))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|m| GqlError::graphql(m, "GRAPHQL_VALIDATION_FAILED"))
    };
    match field.name.as_str() {
        "issueCreate" => issue_create(state, key, &argument("input")?),
        "commentCreate" => comment_create(state, key, &argument("input")?),
        "issue" => {
            let id = argument("id")?;
            let workspace = lock_read(&state.workspace);
            find_issue(&workspace, id.as_str().unwrap_or_default())
                .map(issue_json)
                .ok_or_else(|| GqlError::not_found(key, "Issue"))
        }
        "comment" => {
            let id = argument("id")?;
            let workspace = lock_read(&state.workspace);
            let comment = workspace
                .comments
                .iter()
                .find(|c| Some(c.id.as_str()) == id.as_str())
                .ok_or_else(|| GqlError::not_found(key, "Comment"))?;
            Ok(comment_json(
                comment,
                find_issue(&workspace, &comment.issue_id),
            ))
        }
        "team" => {
            let id = argument("id")?;
            let team = team_json(id.as_str().unwrap_or_default());
            if team.is_null() {
                Err(GqlError::not_found(key, "Team"))
            } else {
                Ok(team)
            }
        }
        "teams" => Ok(connection(
            TEAMS.iter().map(|(id, _, _)| team_json(id)).collect(),
        )),
        _ => {
            // issueLabels: `filter: {name: {in: [...]}}` or `{name: {eq: "..."}}`.
            let filter = argument("filter")?;
            let names: Option<Vec<String>> = filter
                .pointer("/name/in")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .or_else(|| {
                    filter
                        .pointer("/name/eq")
                        .and_then(Value::as_str)
                        .map(|n| vec![n.to_owned()])
                });
            let nodes = LABELS
                .iter()
                .filter(|(_, name, _)| names.as_ref().is_none_or(|n| n.iter().any(|x| x == name)))
                .map(|l| label_json(*l))
                .collect();
            Ok(connection(nodes))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("2b4a8c1e-7f0d-4e5b-9a3c-1d2e3f4a5b6c"));
        assert!(is_uuid(&new_uuid()));
        assert!(!is_uuid("2b4a8c1e7f0d4e5b9a3c1d2e3f4a5b6c"));
        assert!(!is_uuid("zb4a8c1e-7f0d-4e5b-9a3c-1d2e3f4a5b6c"));
    }

    #[test]
    fn variable_shapes_follow_declared_types() {
        let ty = TypeRef::NonNull(Box::new(TypeRef::List(Box::new(TypeRef::NonNull(
            Box::new(TypeRef::Named("String".into())),
        )))));
        assert!(shape_fits(&ty, &json!(["a", "b"])));
        assert!(!shape_fits(&ty, &json!(["a", 1])));
        assert!(!shape_fits(&ty, &Value::Null));
        assert!(shape_fits(&TypeRef::Named("Int".into()), &json!(3)));
        assert!(!shape_fits(&TypeRef::Named("Int".into()), &json!(3.5)));
    }
}
