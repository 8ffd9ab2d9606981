//! The service's own words from an error response: the message inside its
//! error envelope, cleaned and truncated because the body is remote-controlled.
//!
//! Shapes (see `shared/specs/*/examples`):
//! - Cloudflare `{"errors":[{"code","message"}]}`; Datadog `{"errors":["..."]}`;
//! - PagerDuty REST `{"error":{"code","message","errors"}}`, Events v2 `{"status","message","errors"}`;
//! - Axiom `{"code"?,"message"}`; Linear GraphQL `{"errors":[{"message"}]}`;
//! - Confluence and RFC 9457 problem documents `{"title","detail"}` (Atlassian `errors[]` items too);
//! - LLM providers `{"error":{"message"}}`; S3 XML `<Error><Code/><Message/></Error>`.
//!
//! Prism answers an invalid request with an empty body when the spec's error
//! response has none, and lists the violations in its `sl-violations` header;
//! that list stands in for the envelope so contract tests get the reason.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::service::Service;

/// Longest message kept from a remote error body, in characters.
pub const MAX_MESSAGE_CHARS: usize = 300;
/// Most of an error body read to find its message.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The service's message from an error response, if it has one.
pub fn service_message(service: Service, body: &[u8], headers: &HeaderMap) -> Option<String> {
    let found = match service {
        Service::S3 => s3_xml_message(body).or_else(|| json_message(body)),
        _ => json_message(body),
    };
    let raw = found
        .or_else(|| prism_violations(headers))
        .or_else(|| plain_text(body))?;
    let cleaned = clean(&raw, MAX_MESSAGE_CHARS);
    (!cleaned.is_empty()).then_some(cleaned)
}

fn json_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    envelope_message(&value)
}

fn envelope_message(value: &Value) -> Option<String> {
    match value.get("error") {
        Some(Value::String(text)) if !text.trim().is_empty() => return Some(text.clone()),
        Some(nested @ Value::Object(_)) => {
            if let Some(message) = envelope_message(nested) {
                return Some(message);
            }
        }
        _ => {}
    }
    let details = ["errors", "validation"].iter().find_map(|key| {
        let items = value.get(key)?.as_array()?;
        let texts: Vec<String> = items.iter().filter_map(item_message).collect();
        (!texts.is_empty()).then(|| texts.join("; "))
    });
    match (object_message(value), details) {
        (Some(own), Some(details)) => Some(format!("{own}: {details}")),
        (own, details) => details.or(own),
    }
}

fn item_message(item: &Value) -> Option<String> {
    match item {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Object(_) => object_message(item),
        _ => None,
    }
}

/// `message`, else `title: detail`, with the service's error code if any.
fn object_message(value: &Value) -> Option<String> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let base = match (text("message"), text("title"), text("detail")) {
        (Some(message), _, _) => message.to_owned(),
        (None, Some(title), Some(detail)) => format!("{title}: {detail}"),
        (None, Some(only), None) | (None, None, Some(only)) => only.to_owned(),
        (None, None, None) => return None,
    };
    Some(match value.get("code") {
        Some(Value::Number(code)) => format!("{base} (code {code})"),
        Some(Value::String(code)) if !code.trim().is_empty() => format!("{base} (code {code})"),
        _ => base,
    })
}

fn s3_xml_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let error = between(text, "<Error>", "</Error>")?;
    let code = between(error, "<Code>", "</Code>").map(unescape_xml);
    let message = between(error, "<Message>", "</Message>").map(unescape_xml);
    match (code, message) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (code, message) => message.or(code),
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn prism_violations(headers: &HeaderMap) -> Option<String> {
    let header = headers.get("sl-violations")?.to_str().ok()?;
    let violations: Vec<Value> = serde_json::from_str(header).ok()?;
    let texts: Vec<String> = violations.iter().filter_map(object_message).collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// A short plain-text body (a proxy's "Bad Gateway"); never markup or JSON
/// that matched no envelope, which would only be noise.
fn plain_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let first = text.lines().map(str::trim).find(|line| !line.is_empty())?;
    (!first.starts_with(['<', '{', '['])).then(|| first.to_owned())
}

/// One line of inert text: control and bidi-override characters become
/// spaces, runs of whitespace collapse, and the result is cut to `max_chars`.
pub fn clean(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut kept = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || is_bidi_control(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if kept + usize::from(pending_space) >= max_chars {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            kept += 1;
            pending_space = false;
        }
        out.push(c);
        kept += 1;
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn message(service: Service, body: &str) -> Option<String> {
        service_message(service, body.as_bytes(), &HeaderMap::new())
    }

    #[test]
    fn cloudflare_errors_with_codes() {
        let body = r#"{"errors":[{"code":12345,"message":"Some error message"}],"messages":[],"result":null,"success":false}"#;
        assert_eq!(
            message(Service::Cloudflare, body).as_deref(),
            Some("Some error message (code 12345)")
        );
    }

    #[test]
    fn datadog_string_errors() {
        let body = r#"{"errors":["Bad Request","filter[from] is invalid"]}"#;
        assert_eq!(
            message(Service::Datadog, body).as_deref(),
            Some("Bad Request; filter[from] is invalid")
        );
    }

    #[test]
    fn pagerduty_rest_and_events_v2() {
        let rest = r#"{"error":{"message":"Not Found","code":2100}}"#;
        assert_eq!(
            message(Service::PagerDuty, rest).as_deref(),
            Some("Not Found (code 2100)")
        );
        let rest_detail = r#"{"error":{"message":"Invalid Input Provided","code":2001,"errors":["From header is missing"]}}"#;
        assert_eq!(
            message(Service::PagerDuty, rest_detail).as_deref(),
            Some("Invalid Input Provided (code 2001): From header is missing")
        );
        let events = r#"{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}"#;
        assert_eq!(
            message(Service::PagerDuty, events).as_deref(),
            Some("Event object format is unrecognized: JSON parse error")
        );
    }

    #[test]
    fn axiom_linear_confluence_llm() {
        assert_eq!(
            message(Service::Axiom, r#"{"message":"rate limit exceeded"}"#).as_deref(),
            Some("rate limit exceeded")
        );
        let linear =
            r#"{"errors":[{"message":"Rate limit exceeded","extensions":{"type":"ratelimited"}}]}"#;
        assert_eq!(
            message(Service::Linear, linear).as_deref(),
            Some("Rate limit exceeded")
        );
        let confluence = r#"{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"Provided value for 'spaceId' is not the correct type.","detail":null}]}"#;
        assert_eq!(
            message(Service::Confluence, confluence).as_deref(),
            Some(
                "Provided value for 'spaceId' is not the correct type. (code INVALID_REQUEST_PARAMETER)"
            )
        );
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            message(Service::Llm, anthropic).as_deref(),
            Some("Overloaded")
        );
    }

    #[test]
    fn s3_xml_error() {
        let body = "<?xml version=\"1.0\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold &amp; failed</Message><RequestId>1</RequestId></Error>";
        assert_eq!(
            message(Service::S3, body).as_deref(),
            Some(
                "PreconditionFailed: At least one of the pre-conditions you specified did not hold & failed"
            )
        );
    }

    #[test]
    fn prism_violations_header_when_body_is_empty() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "sl-violations",
            HeaderValue::from_static(r#"[{"location":["request","body"],"severity":"Error","code":"enum","message":"payload.severity must be equal to one of the allowed values"}]"#),
        );
        assert_eq!(
            service_message(Service::PagerDuty, b"", &headers).as_deref(),
            Some("payload.severity must be equal to one of the allowed values (code enum)")
        );
    }

    #[test]
    fn unknown_shapes_and_markup_give_nothing_but_plain_text_does() {
        assert_eq!(message(Service::Datadog, r#"{"foo":"bar"}"#), None);
        assert_eq!(
            message(Service::Datadog, "<html><body>502</body></html>"),
            None
        );
        assert_eq!(message(Service::Datadog, ""), None);
        assert_eq!(
            message(Service::Datadog, "\n upstream connect error \n").as_deref(),
            Some("upstream connect error")
        );
    }

    #[test]
    fn remote_text_is_made_inert_and_truncated() {
        let hostile = format!(
            r#"{{"errors":["evil\u001b[2J\u202Etxt.exe\nline2 {}"]}}"#,
            "x".repeat(1000)
        );
        let got = message(Service::Datadog, &hostile).expect("a message");
        assert!(
            !got.chars().any(|c| c.is_control() || is_bidi_control(c)),
            "{got:?}"
        );
        assert!(got.starts_with("evil [2J txt.exe line2 x"), "{got:?}");
        assert_eq!(got.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(got.ends_with('…'));
    }

    #[test]
    fn clean_keeps_short_text_whole() {
        assert_eq!(clean("  a \t b  ", 10), "a b");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean("abc", 3), "abc");
    }
}
