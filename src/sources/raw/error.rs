//! Why an entry or a whole document could not be loaded.

use super::lenient::Kind;

/// Why one entry was rejected. Rendered into `Rejection::reason`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EntryError {
    #[error("{field}: missing")]
    Missing { field: &'static str },
    #[error("{field}: empty string")]
    Empty { field: &'static str },
    #[error("{field}: expected {expected}, got {got}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        got: Kind,
    },
    #[error("{field}: expected RFC3339 timestamp, got {got}")]
    BadTimestamp { field: &'static str, got: String },
    #[error("entry is not a JSON object (got {0})")]
    NotAnObject(Kind),
    #[error("{}", json_reason(.0))]
    Json(#[from] serde_json::Error),
    #[error("invalid UTF-8 at byte {offset} of the {within}")]
    InvalidUtf8 { offset: usize, within: &'static str },
    #[error(
        "unrecognized entry: not a Datadog audit event (`type: \"audit\"` with `attributes`), \
         a Cloudflare v2 entry (`action.time`, `account`) or a Cloudflare v1 entry (`when`)"
    )]
    Unrecognized,
    #[error(
        "this is an API response page (it has `{0}`), not a single entry; \
         load the file as one JSON document"
    )]
    PageNotEntry(&'static str),
}

/// Why a whole JSON document was not loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DocumentError {
    #[error("empty document")]
    Empty,
    #[error("{}", json_reason(.0))]
    Syntax(serde_json::Error),
    #[error(
        "expected a page object (`result` or `data` array), an array of entries or one entry, \
         got {0}"
    )]
    NotContainer(Kind),
    #[error("`{key}` is not an array of entries (got {got})")]
    ListNotArray { key: &'static str, got: Kind },
    #[error("{service} API error: {messages}")]
    Service {
        service: &'static str,
        messages: String,
    },
    #[error(
        "not an audit log document: an object that is neither a page (`result`/`data`) \
         nor a recognizable entry"
    )]
    Unrecognized,
}

/// serde_json's message with its position. Data errors are valid JSON
/// made ambiguous (a key given twice), not syntax errors.
fn json_reason(error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Data => error.to_string(),
        _ => format!("invalid JSON: {error}"),
    }
}

/// A short, quoted excerpt of attacker-controlled text for error messages.
pub(crate) fn preview(text: &str) -> String {
    format!("\"{}\"", excerpt(text, 40))
}

/// At most `max_chars` characters of `text`, control characters escaped so
/// an error message cannot carry terminal escape sequences.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max_chars) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_is_bounded_and_escaped() {
        assert_eq!(preview("yesterday"), "\"yesterday\"");
        assert_eq!(preview("a\u{1b}[31mb\n"), "\"a\\u{1b}[31mb\\n\"");
        let long = "x".repeat(1_000_000);
        assert_eq!(preview(&long).len(), 40 + 2 + '…'.len_utf8());
    }
}
