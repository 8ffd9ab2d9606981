//! Reading Linear's GraphQL answers: `data`, and `errors[]` classified by
//! `extensions.type` (linear/linear · packages/sdk/src/error.ts).

use serde_json::Value;

use crate::sanitize::sanitize_with_limit;

use super::super::{SinkError, SinkKind};

/// Longest remote error message kept; it ends up in the dead-letter view.
const MAX_MESSAGE_CHARS: usize = 300;
/// The kind given to an answer that is not GraphQL at all.
const NOT_GRAPHQL: &str = "network error";

#[derive(Debug)]
pub(super) struct Answer {
    pub data: Value,
    pub errors: Vec<RemoteError>,
}

#[derive(Debug, Clone)]
pub(super) struct RemoteError {
    pub message: String,
    /// `extensions.type`: `ratelimited`, `invalid input`, ...
    pub kind: Option<String>,
}

impl RemoteError {
    /// Worth retrying later. Everything else (authentication, invalid
    /// input, forbidden, usage limits) needs a person.
    pub(super) fn is_transient(&self) -> bool {
        matches!(
            self.kind.as_deref(),
            Some("ratelimited" | "internal error" | "lock timeout" | "network error")
        )
    }
}

/// Total: a body that is not JSON (a proxy's error page, a cut-off
/// answer) becomes one error of kind `network error`, which is retried.
pub(super) fn parse(body: &[u8]) -> Answer {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => Answer {
            data: value["data"].clone(),
            errors: value["errors"]
                .as_array()
                .map(|list| list.iter().map(remote_error).collect())
                .unwrap_or_default(),
        },
        Err(e) => Answer {
            data: Value::Null,
            errors: vec![RemoteError {
                message: format!("the answer is not JSON ({e})"),
                kind: Some(NOT_GRAPHQL.to_owned()),
            }],
        },
    }
}

fn remote_error(error: &Value) -> RemoteError {
    let message = error["extensions"]["userPresentableMessage"]
        .as_str()
        .or_else(|| error["message"].as_str())
        .unwrap_or("no message");
    RemoteError {
        message: sanitize_with_limit(message, MAX_MESSAGE_CHARS).into_owned(),
        kind: error["extensions"]["type"].as_str().map(str::to_owned),
    }
}

/// One `SinkError` for a failed operation: transient if any error is.
pub(super) fn failure(operation: &str, errors: &[RemoteError]) -> SinkError {
    let text = errors
        .iter()
        .map(|e| match &e.kind {
            Some(kind) => format!("{} ({kind})", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let message = format!("{operation}: {text}");
    if errors.iter().any(RemoteError::is_transient) {
        SinkError::transient(SinkKind::Linear, message)
    } else {
        SinkError::permanent(SinkKind::Linear, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_transient_and_input_errors_permanent() {
        let limited = parse(
            br#"{"errors":[{"message":"Rate limit exceeded","extensions":{"type":"ratelimited","userPresentableMessage":"Slow down"}}]}"#,
        );
        let e = failure("issueCreate", &limited.errors);
        assert!(e.is_transient());
        assert_eq!(e.message(), "issueCreate: Slow down (ratelimited)");

        let invalid = parse(
            br#"{"data":null,"errors":[{"message":"Argument Validation Error","extensions":{"type":"invalid input"}}]}"#,
        );
        assert!(failure("issueCreate", &invalid.errors).is_permanent());
    }

    #[test]
    fn hostile_messages_are_made_inert() {
        let answer = parse("{\"errors\":[{\"message\":\"bad\\u001b[2J\\nthing\"}]}".as_bytes());
        assert_eq!(answer.errors[0].message, "bad\\x1b[2J\\nthing");
        assert!(failure("x", &parse(b"<html>").errors).is_transient());
    }
}
