//! GraphQL errors as Linear words them: `message`, `path`, and
//! `extensions.{type, code, userError, userPresentableMessage}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::server::json;

/// One GraphQL error: message, Linear's `extensions.type`, and code.
#[derive(Debug, Clone)]
pub(super) struct GqlError {
    pub(super) message: String,
    pub(super) kind: &'static str,
    pub(super) code: &'static str,
    pub(super) user_message: Option<String>,
    pub(super) path: Option<String>,
}

impl GqlError {
    pub(super) fn graphql(message: impl Into<String>, code: &'static str) -> GqlError {
        GqlError {
            message: message.into(),
            kind: "graphql error",
            code,
            user_message: None,
            path: None,
        }
    }

    pub(super) fn invalid_input(path: &str, user_message: impl Into<String>) -> GqlError {
        GqlError {
            message: "Argument Validation Error".into(),
            kind: "invalid input",
            code: "INPUT_ERROR",
            user_message: Some(user_message.into()),
            path: Some(path.to_owned()),
        }
    }

    pub(super) fn not_found(path: &str, entity: &str) -> GqlError {
        GqlError {
            message: format!("Entity not found: {entity}"),
            kind: "invalid input",
            code: "INPUT_ERROR",
            user_message: Some(format!("Could not find referenced {entity}.")),
            path: Some(path.to_owned()),
        }
    }

    pub(super) fn to_json(&self) -> Value {
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

pub(super) fn error_response(
    status: StatusCode,
    message: &str,
    kind: &str,
    code: &str,
) -> Response {
    json(
        status,
        &json!({"errors": [{"message": message, "extensions": {
            "type": kind, "code": code, "userError": true, "userPresentableMessage": message}}]}),
    )
}

pub(super) fn errors_response(
    status: StatusCode,
    errors: &[GqlError],
    with_data_null: bool,
) -> Response {
    let list: Vec<Value> = errors.iter().map(GqlError::to_json).collect();
    let mut body = json!({ "errors": list });
    if with_data_null {
        body["data"] = Value::Null;
    }
    json(status, &body)
}
