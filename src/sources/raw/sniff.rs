//! Telling a JSON document from NDJSON by the first bytes of a file.

use serde::de::IgnoredAny;

use super::{Format, strip_bom, utf8};

/// Top-level keys of Cloudflare and Datadog response pages. Entries never
/// have them, so an object that opens with one is a page.
const PAGE_KEYS: [&str; 8] = [
    "result",
    "data",
    "success",
    "errors",
    "messages",
    "result_info",
    "meta",
    "links",
];

pub(crate) fn sniff(prefix: &[u8]) -> Format {
    // The prefix may end inside a UTF-8 sequence; repairing keeps that (and
    // any truly invalid byte) from hiding the structure.
    let (text, _) = utf8::repair(strip_bom(prefix));
    let text = text.trim_start();
    match text.as_bytes().first() {
        None => Format::Ndjson,
        Some(b'{') => sniff_object(text),
        Some(_) => Format::Json,
    }
}

fn sniff_object(text: &str) -> Format {
    let (first_line, rest) = match text.split_once('\n') {
        Some((line, rest)) => (line, Some(rest)),
        None => (text, None),
    };
    let first_key = first_key(first_line);
    let opens_page = first_key.as_deref().is_some_and(|k| PAGE_KEYS.contains(&k));
    if serde_json::from_str::<IgnoredAny>(first_line).is_ok() {
        // One complete value on the first line: NDJSON if more follow.
        return match rest {
            Some(rest) if !rest.trim().is_empty() => Format::Ndjson,
            _ => Format::Json,
        };
    }
    if opens_page {
        return Format::Json;
    }
    match rest {
        // The prefix ends inside the first line: a long line that opens
        // with an entry key is the first of many entries.
        None if first_key.is_some() => Format::Ndjson,
        None => Format::Json,
        // A broken NDJSON line is followed by the next entry; a document's
        // second line is a key or the closing brace.
        Some(rest) => {
            let next = rest.lines().map(str::trim_start).find(|l| !l.is_empty());
            if next.is_some_and(|line| line.starts_with('{')) {
                Format::Ndjson
            } else {
                Format::Json
            }
        }
    }
}

/// The first key of the object that `line` opens, if it is on that line.
fn first_key(line: &str) -> Option<String> {
    let after_brace = line.trim_start().strip_prefix('{')?.trim_start();
    serde_json::Deserializer::from_str(after_brace)
        .into_iter::<String>()
        .next()?
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_pretty_objects_are_documents() {
        assert_eq!(sniff(b"  [\n{\"id\":1}\n]"), Format::Json);
        assert_eq!(
            sniff(b"{\n  \"result\": [\n    {\"id\":\"a\"}\n  ]\n}"),
            Format::Json
        );
        assert_eq!(
            sniff(b"{\n  \"id\": \"a\",\n  \"when\": \"x\"\n}"),
            Format::Json
        );
        assert_eq!(
            sniff(b"{\"result\": [\n  {\"id\":\"a\"},\n  {\"id\":\"b\"}\n]}"),
            Format::Json
        );
        assert_eq!(sniff(b"nonsense"), Format::Json);
    }

    #[test]
    fn one_line_documents_are_documents() {
        assert_eq!(sniff(br#"{"data":[{"id":"a"}]}"#), Format::Json);
        assert_eq!(sniff(b"{\"id\":\"a\"}\r\n\r\n"), Format::Json);
        assert_eq!(sniff(br#"{"data":[{"id":"a"},"#), Format::Json);
    }

    #[test]
    fn lines_of_objects_are_ndjson() {
        assert_eq!(sniff(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n"), Format::Ndjson);
        assert_eq!(
            sniff(b"\xef\xbb\xbf{\"id\":\"a\"}\r\n{\"id\":"),
            Format::Ndjson
        );
        assert_eq!(sniff(b"{\"id\":\"a\xff\"}\n{\"id\":\"b\"}"), Format::Ndjson);
        assert_eq!(sniff(b""), Format::Ndjson);
    }

    #[test]
    fn a_broken_or_cut_first_line_does_not_hide_ndjson() {
        assert_eq!(sniff(b"{\"id\": oops}\n\n{\"id\":\"b\"}\n"), Format::Ndjson);
        assert_eq!(sniff(b"{\"id\":\"a\",\"action\":{\"ty"), Format::Ndjson);
    }
}
