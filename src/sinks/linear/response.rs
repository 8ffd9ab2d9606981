//! Reading Linear's GraphQL answers: `data`, and `errors[]` classified by
//! `extensions.type` (linear/linear · packages/sdk/src/error.ts).

use serde_json::Value;

use crate::sanitize::sanitize_with_limit;

use super::super::{SinkError, SinkKind};

/// Longest remote error message kept; it ends up in the dead-letter view.
const MAX_MESSAGE_CHARS: usize = 300;

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
    fn is_transient(&self) -> bool {
        matches!(
            self.kind.as_deref(),
            Some("ratelimited" | "internal error" | "lock timeout" | "network error")
        )
    }
}

pub(super) fn parse(operation: &str, body: &[u8]) -> Result<Answer, SinkError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        SinkError::transient(
            SinkKind::Linear,
            format!("{operation}: the answer is not JSON ({e})"),
        )
    })?;
    let errors = value["errors"]
        .as_array()
        .map(|list| list.iter().map(remote_error).collect())
        .unwrap_or_default();
    Ok(Answer {
        data: value["data"].clone(),
        errors,
    })
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
            "issueCreate",
            br#"{"errors":[{"message":"Rate limit exceeded","extensions":{"type":"ratelimited","userPresentableMessage":"Slow down"}}]}"#,
        )
        .unwrap();
        let e = failure("issueCreate", &limited.errors);
        assert!(e.is_transient());
        assert_eq!(e.message(), "issueCreate: Slow down (ratelimited)");

        let invalid = parse(
            "issueCreate",
            br#"{"data":null,"errors":[{"message":"Argument Validation Error","extensions":{"type":"invalid input"}}]}"#,
        )
        .unwrap();
        assert!(failure("issueCreate", &invalid.errors).is_permanent());
    }

    #[test]
    fn hostile_messages_are_made_inert() {
        let answer = parse(
            "x",
            "{\"errors\":[{\"message\":\"bad\\u001b[2J\\nthing\"}]}".as_bytes(),
        )
        .unwrap();
        assert_eq!(answer.errors[0].message, "bad\\x1b[2J\\nthing");
        assert!(parse("x", b"<html>").unwrap_err().is_transient());
    }
}
