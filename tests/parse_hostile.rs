//! Hostile and malformed input: nothing panics, bad entries are rejected
//! with their position and a reason naming the field, the rest loads, and
//! attacker text reaches the model unchanged (sanitizing is the renderer's
//! job).

use proptest::prelude::*;
use serde_json::json;
use soc_tui::model::{ActionKind, Outcome, Source};
use soc_tui::sources::raw::{
    Format, Parsed, Rejection, parse_document, parse_entry, parse_ndjson_line, sniff,
};

const TIME: &str = "2024-04-26T17:31:07Z";

fn v2(id: &str) -> serde_json::Value {
    json!({"id": id, "account": {"id": "acc"}, "action": {"time": TIME, "type": "create"}})
}

fn page(entries: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({"result": entries, "success": true, "errors": []})).unwrap()
}

fn parse(bytes: &[u8]) -> Parsed {
    parse_document(bytes).unwrap_or_else(|e| panic!("document refused: {e}"))
}

fn reasons(parsed: &Parsed) -> Vec<String> {
    parsed.rejected.iter().map(Rejection::to_string).collect()
}

#[test]
fn entry_two_of_five_malformed_rejects_only_it() {
    let mut entries: Vec<_> = (0..5).map(|i| v2(&format!("e{i}"))).collect();
    entries[2]["action"]["time"] = json!(1714152667);
    let parsed = parse(&page(&entries));
    let ids: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e0", "e1", "e3", "e4"]);
    assert_eq!(
        reasons(&parsed),
        ["entry 2: action.time: expected RFC3339 timestamp, got number"]
    );
}

#[test]
fn missing_required_fields_are_named() {
    let entries = [
        json!({"account": {"id": "a"}, "action": {"time": TIME}}),
        json!({"id": "x", "account": {"id": "a"}, "action": {"type": "create"}}),
        json!({"id": "x", "owner": {"id": "a"}, "action": {"type": "login", "result": true}}),
        json!({"id": "x", "type": "audit", "attributes": {"message": "m"}}),
        json!({"id": "x", "type": "audit"}),
        json!({"id": "", "when": TIME}),
        json!({"something": "else"}),
    ];
    let parsed = parse(&serde_json::to_vec(&entries).unwrap());
    assert!(parsed.events.is_empty());
    let got = reasons(&parsed);
    assert_eq!(got[0], "entry 0: id: missing");
    assert_eq!(got[1], "entry 1: action.time: missing");
    assert_eq!(got[2], "entry 2: when: missing");
    assert_eq!(got[3], "entry 3: attributes.timestamp: missing");
    assert_eq!(got[4], "entry 4: attributes: missing");
    assert_eq!(got[5], "entry 5: id: empty string");
    assert!(
        got[6].starts_with("entry 6: unrecognized entry"),
        "{}",
        got[6]
    );
}

#[test]
fn minimal_entries_load_with_everything_optional_absent() {
    for raw in [
        format!(r#"{{"id":"a","action":{{"time":"{TIME}"}}}}"#),
        format!(r#"{{"id":"a","when":"{TIME}"}}"#),
        format!(r#"{{"id":"a","type":"audit","attributes":{{"timestamp":"{TIME}"}}}}"#),
    ] {
        let e = parse_entry(&raw).unwrap();
        assert_eq!(e.id, "a");
        assert_eq!(e.actor, Default::default());
        assert_eq!(e.resource, Default::default());
        assert_eq!(e.action.verb, "");
        assert_eq!(e.action.kind, ActionKind::Other);
        assert_eq!(e.account, None);
        assert_eq!(e.raw, raw);
    }
}

#[test]
fn nulls_everywhere_are_absent_values() {
    let raw = json!({
        "id": "n1", "account": null, "zone": null, "raw": null, "resource": null,
        "action": {"time": TIME, "type": null, "description": null, "result": null},
        "actor": {"id": null, "email": null, "ip_address": null, "type": null,
                  "token_id": null, "token_name": null}
    })
    .to_string();
    let e = parse_entry(&raw).unwrap();
    assert_eq!(e.actor, Default::default());
    assert_eq!(e.resource, Default::default());
    assert_eq!(e.outcome, Outcome::Unknown);
    assert_eq!(e.account, None);

    let dd = json!({"id": "d", "type": "audit", "attributes": {
        "timestamp": TIME, "message": null, "attributes": null}})
    .to_string();
    let e = parse_entry(&dd).unwrap();
    assert_eq!((e.source, e.outcome), (Source::Datadog, Outcome::Success));
    assert_eq!(e.action.description, None);

    let null_id = parse_entry(&json!({"id": null, "when": TIME}).to_string()).unwrap_err();
    assert_eq!(null_id, "id: expected string, got null");
    let null_time = parse_entry(&json!({"id": "x", "when": null}).to_string()).unwrap_err();
    assert_eq!(null_time, "when: expected RFC3339 timestamp, got null");
}

#[test]
fn wrong_types_on_optional_fields_record_what_they_can() {
    let raw = json!({
        "id": 10715065354u64, "when": TIME,
        "action": {"type": ["token_create"], "result": "yes"},
        "actor": {"id": {"nested": true}, "email": 7, "ip": 3232235777u64, "type": false},
        "resource": "zone", "owner": [1, 2], "metadata": "token"
    })
    .to_string();
    let e = parse_entry(&raw).unwrap();
    assert_eq!(e.id, "10715065354");
    assert_eq!(e.action.verb, "");
    assert_eq!(e.outcome, Outcome::Unknown);
    assert_eq!(e.actor.id, None);
    assert_eq!(e.actor.email.as_deref(), Some("7"));
    assert_eq!(e.actor.ip.as_deref(), Some("3232235777"));
    assert_eq!(e.actor.kind, None);
    assert_eq!(e.resource, Default::default());
    assert_eq!(e.account, None);

    let dd = json!({"id": "d", "type": "audit", "attributes": {"timestamp": TIME,
        "attributes": {"usr": "alice", "http": {"status_code": [500]}, "network": {"client": 5},
                       "evt": {"name": 3, "actor": "USER"}, "status": {"level": "error"}}}})
    .to_string();
    let e = parse_entry(&dd).unwrap();
    assert_eq!(e.actor, Default::default());
    assert_eq!(e.outcome, Outcome::Success);
    assert_eq!(e.resource.product.as_deref(), Some("3"));
}

#[test]
fn wrong_types_on_required_fields_are_rejected_by_name() {
    let cases = [
        (
            json!({"id": 1.5, "when": TIME}),
            "id: expected string, got number",
        ),
        (
            json!({"id": ["a"], "when": TIME}),
            "id: expected string, got array",
        ),
        (
            json!({"id": "a", "when": {"t": TIME}}),
            "when: expected RFC3339 timestamp, got object",
        ),
        (
            json!({"id": "a", "account": {}, "action": "create"}),
            "action: expected object, got string",
        ),
        (
            json!({"id": "a", "type": "audit", "attributes": [TIME]}),
            "attributes: expected object, got array",
        ),
        (
            json!({"id": "a", "when": "2021-11-30"}),
            "when: expected RFC3339 timestamp, got \"2021-11-30\"",
        ),
        (
            json!({"id": "a", "when": "yesterday"}),
            "when: expected RFC3339 timestamp, got \"yesterday\"",
        ),
        (
            json!({"id": "a", "when": "1638303588"}),
            "when: expected RFC3339 timestamp, got \"1638303588\"",
        ),
    ];
    for (entry, reason) in cases {
        assert_eq!(
            parse_entry(&entry.to_string()).unwrap_err(),
            reason,
            "{entry}"
        );
    }
    for not_object in ["[]", "\"entry\"", "42", "null", "true"] {
        let error = parse_entry(not_object).unwrap_err();
        assert!(
            error.starts_with("entry is not a JSON object"),
            "{not_object}: {error}"
        );
    }
}

#[test]
fn one_megabyte_strings_are_stored_intact() {
    let big = "A".repeat(1 << 20);
    let raw = json!({"id": "big", "when": TIME, "action": {"type": big},
        "actor": {"email": big}, "metadata": {"token_name": big}, "unknown": big})
    .to_string();
    let e = parse_entry(&raw).unwrap();
    assert_eq!(e.actor.email.as_deref(), Some(big.as_str()));
    assert_eq!(e.action.verb, big);
    assert_eq!(e.resource.name.as_deref(), Some(big.as_str()));
    assert_eq!(e.raw, raw);

    let huge_id = json!({"id": big, "when": TIME}).to_string();
    assert_eq!(parse_entry(&huge_id).unwrap().id, big);

    // A bad 1 MB timestamp gives a short reason, not a 1 MB one.
    let bad_time = json!({"id": "x", "when": big}).to_string();
    let error = parse_entry(&bad_time).unwrap_err();
    assert!(error.len() < 120, "{} bytes", error.len());
    assert!(error.starts_with("when: expected RFC3339 timestamp, got \"AAAA"));
}

#[test]
fn control_characters_and_escapes_are_kept_verbatim() {
    let nasty = "\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n\u{0}\u{202e}evil\u{9b}31m\\\"";
    let raw = json!({"id": nasty, "when": TIME, "action": {"type": nasty},
        "actor": {"email": nasty, "ip": nasty}, "resource": {"type": nasty}})
    .to_string();
    let e = parse_entry(&raw).unwrap();
    assert_eq!(e.id, nasty);
    assert_eq!(e.action.verb, nasty);
    assert_eq!(e.actor.email.as_deref(), Some(nasty));
    assert_eq!(e.actor.ip.as_deref(), Some(nasty));
    assert_eq!(e.resource.kind.as_deref(), Some(nasty));
    // `raw` is the escaped JSON text as received, not the decoded value.
    assert_eq!(e.raw, raw);
    assert!(e.raw.contains(r"\u001b[2J") && !e.raw.contains('\u{1b}'));

    // The same through a document and through an NDJSON line.
    let parsed = parse(&page(&[serde_json::from_str(&raw).unwrap()]));
    assert_eq!(parsed.events[0].actor.email.as_deref(), Some(nasty));
    let line = parse_ndjson_line(raw.as_bytes(), 1).unwrap().unwrap();
    assert_eq!(line.actor.email.as_deref(), Some(nasty));

    // Error messages escape what they quote.
    let error = parse_entry(&json!({"id": "x", "when": "\u{1b}[31m"}).to_string()).unwrap_err();
    assert_eq!(
        error,
        "when: expected RFC3339 timestamp, got \"\\u{1b}[31m\""
    );
}

#[test]
fn unescaped_control_characters_are_a_syntax_error() {
    let doc = format!("[{{\"id\":\"a\u{1}\",\"when\":\"{TIME}\"}}]");
    let error = parse_document(doc.as_bytes()).unwrap_err();
    assert!(
        error.starts_with("invalid JSON: control character"),
        "{error}"
    );
    assert!(error.contains("line 1 column"), "{error}");
}

#[test]
fn invalid_utf8_rejects_only_the_entries_holding_it() {
    let mut doc = b"{\"result\": [\n".to_vec();
    doc.extend(format!("{{\"id\":\"ok0\",\"when\":\"{TIME}\"}},\n").as_bytes());
    let bad_at = doc.len() + 10;
    doc.extend(b"{\"id\":\"bad\xff\xfe\",\"when\":\"");
    doc.extend(format!("{TIME}\"}},\n").as_bytes());
    doc.extend(format!("{{\"id\":\"ok2\",\"when\":\"{TIME}\",\"x\":\"caf\u{e9}\"}}\n").as_bytes());
    doc.extend(b"], \"result_info\": {\"cursor\": \"\xc3\"}}");
    let parsed = parse(&doc);
    let ids: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["ok0", "ok2"]);
    assert_eq!(
        reasons(&parsed),
        [format!(
            "entry 1: invalid UTF-8 at byte {bad_at} of the document"
        )]
    );
    assert!(parsed.events[1].raw.contains("café"));
}

#[test]
fn invalid_utf8_in_a_single_entry_document_or_outside_strings() {
    let single = format!("{{\"id\":\"_\",\"when\":\"{TIME}\"}}").into_bytes();
    let mut single_bad = single.clone();
    single_bad[7] = 0xff;
    let parsed = parse(&single_bad);
    assert_eq!(
        reasons(&parsed),
        ["entry 0: invalid UTF-8 at byte 7 of the document"]
    );

    let outside = b"[{\"id\":\"a\"}, \xff]";
    let error = parse_document(outside).unwrap_err();
    assert!(
        error.starts_with("invalid JSON:") && error.contains("column 14"),
        "{error}"
    );
}

#[test]
fn invalid_utf8_in_an_ndjson_line_rejects_that_line() {
    let lines: [&[u8]; 3] = [
        format!("{{\"id\":\"a\",\"when\":\"{TIME}\"}}").as_bytes(),
        b"{\"id\":\"b\xc0\xaf\",\"when\":\"2024-04-26T17:31:07Z\"}",
        b"\xff",
    ]
    .map(|l| Box::leak(l.to_vec().into_boxed_slice()) as &[u8]);
    assert!(parse_ndjson_line(lines[0], 1).unwrap().is_some());
    let rejection = parse_ndjson_line(lines[1], 2).unwrap_err();
    assert_eq!(rejection.position, "line 2");
    assert_eq!(rejection.reason, "invalid UTF-8 at byte 8 of the line");
    assert_eq!(
        parse_ndjson_line(lines[2], 3).unwrap_err().to_string(),
        "line 3: invalid UTF-8 at byte 0 of the line"
    );
}

#[test]
fn deep_nesting_costs_no_stack_and_hides_no_entry() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // In an unknown field and in a known one: the entry still loads, so an
    // attacker cannot drop their own entry by nesting a value they control.
    let raw = format!(
        r#"{{"id":"deep","when":"{TIME}","newValue":{deep},"actor":{{"email":{deep}}},"metadata":{deep}}}"#
    );
    let e = parse_entry(&raw).unwrap();
    assert_eq!(e.actor.email, None);
    assert_eq!(e.raw, raw);

    let doc = format!("[{raw},{deep},{}]", v2("after"));
    let parsed = parse(doc.as_bytes());
    let ids: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["deep", "after"]);
    assert_eq!(
        reasons(&parsed),
        ["entry 1: entry is not a JSON object (got array)"]
    );

    let line = parse_ndjson_line(deep.as_bytes(), 5).unwrap_err();
    assert_eq!(
        line.to_string(),
        "line 5: entry is not a JSON object (got array)"
    );

    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let error = parse_document(objects.as_bytes()).unwrap_err();
    assert!(error.starts_with("not an audit log document"), "{error}");
}

#[test]
fn duplicate_keys_reject_the_ambiguous_entry() {
    let raw = format!(r#"{{"id":"a","id":"b","when":"{TIME}"}}"#);
    let error = parse_entry(&raw).unwrap_err();
    assert!(error.starts_with("duplicate field `id`"), "{error}");
    let page_twice = br#"{"result": [], "result": []}"#;
    assert_eq!(
        parse_document(page_twice).unwrap_err(),
        "duplicate field `result` at line 1 column 23"
    );
    let unknown_twice = format!(r#"{{"id":"a","when":"{TIME}","x":1,"x":2}}"#);
    assert!(parse_entry(&unknown_twice).is_ok());
}

#[test]
fn empty_pages_load_nothing_and_report_nothing() {
    for doc in [
        r#"{"result": [], "success": true, "errors": [], "messages": []}"#,
        r#"{"data": [], "meta": {"page": {}}}"#,
        "[]",
        " \n[ ]\n",
    ] {
        let parsed = parse(doc.as_bytes());
        assert!(
            parsed.events.is_empty() && parsed.rejected.is_empty(),
            "{doc}"
        );
    }
}

#[test]
fn service_error_envelopes_are_document_errors() {
    let cf = r#"{"success": false, "errors": [{"code": 10000, "message": "Authentication error"}, {"code": 9109, "message": "Invalid access token"}], "messages": [], "result": null}"#;
    assert_eq!(
        parse_document(cf.as_bytes()).unwrap_err(),
        "Cloudflare API error: [10000] Authentication error; [9109] Invalid access token"
    );
    let no_message = r#"{"success": false, "errors": [], "result": []}"#;
    assert_eq!(
        parse_document(no_message.as_bytes()).unwrap_err(),
        "Cloudflare API error: (no error message)"
    );
    let dd = r#"{"errors": ["Forbidden", "\u001b[31mred"]}"#;
    assert_eq!(
        parse_document(dd.as_bytes()).unwrap_err(),
        "Datadog API error: Forbidden; \\u{1b}[31mred"
    );
    let unflagged = r#"{"errors": [{"code": 7003, "message": "No route for the URI"}]}"#;
    assert_eq!(
        parse_document(unflagged.as_bytes()).unwrap_err(),
        "Cloudflare API error: [7003] No route for the URI"
    );
    let long = json!({"success": false, "errors": [{"code": 1, "message": "m".repeat(1 << 20)}]});
    let error = parse_document(long.to_string().as_bytes()).unwrap_err();
    assert!(error.len() < 300, "{} bytes", error.len());
    // Errors next to results (the v2 docs example) do not stop a page.
    let mixed = json!({"success": true, "errors": [{"message": "note"}], "result": [v2("a")]});
    assert_eq!(parse(mixed.to_string().as_bytes()).events.len(), 1);
}

#[test]
fn unreadable_documents_say_why_and_where() {
    let cases: [(&[u8], &str); 6] = [
        (b"", "empty document"),
        (b" \n\t", "empty document"),
        (
            b"42",
            "expected a page object (`result` or `data` array), an array of entries or one entry, got number",
        ),
        (
            br#"{"result": {"id": "a"}}"#,
            "`result` is not an array of entries (got object)",
        ),
        (
            br#"{"data": "none"}"#,
            "`data` is not an array of entries (got string)",
        ),
        (
            br#"{"cursor": "abc"}"#,
            "not an audit log document: an object that is neither a page (`result`/`data`) nor a recognizable entry",
        ),
    ];
    for (doc, expected) in cases {
        assert_eq!(
            parse_document(doc).unwrap_err(),
            expected,
            "{}",
            String::from_utf8_lossy(doc)
        );
    }
    let truncated = format!("{{\"result\": [\n  {},\n  {{\"id\": \"b\",", v2("a"));
    let error = parse_document(truncated.as_bytes()).unwrap_err();
    assert_eq!(
        error,
        "invalid JSON: EOF while parsing an object at line 3 column 13"
    );
    let trailing = format!("{}\n{}", v2("a"), v2("b"));
    let error = parse_document(trailing.as_bytes()).unwrap_err();
    assert!(
        error.contains("trailing characters at line 2 column 1"),
        "{error}"
    );
}

#[test]
fn a_single_entry_document_and_a_bom() {
    let mut doc = b"\xef\xbb\xbf".to_vec();
    doc.extend(serde_json::to_vec_pretty(&v2("solo")).unwrap());
    assert_eq!(sniff(&doc), Format::Json);
    let parsed = parse(&doc);
    assert_eq!(parsed.events[0].id, "solo");
    assert!(parsed.events[0].raw.starts_with('{'));
    let bad = json!({"id": "solo", "account": {}, "action": {"time": 5}});
    assert_eq!(
        reasons(&parse(bad.to_string().as_bytes())),
        ["entry 0: action.time: expected RFC3339 timestamp, got number"]
    );
}

#[test]
fn a_page_on_an_ndjson_line_is_explained() {
    let line = page(&[v2("a")]);
    let rejection = parse_ndjson_line(&line, 7).unwrap_err();
    assert_eq!(rejection.position, "line 7");
    assert!(
        rejection
            .reason
            .contains("API response page (it has `result`)"),
        "{}",
        rejection.reason
    );
    let syntax = parse_ndjson_line(b"{\"id\": oops}", 8).unwrap_err();
    assert!(
        syntax
            .to_string()
            .starts_with("line 8: invalid JSON: expected value at line 1 column 8"),
        "{syntax}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = sniff(&bytes);
        let _ = parse_document(&bytes);
        let _ = parse_ndjson_line(&bytes, 1);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_entry(text);
        }
    }

    #[test]
    fn mangled_real_entries_never_panic(cut in 0usize..400, byte in any::<u8>()) {
        let mut raw = json!({"id": "x", "type": "audit", "attributes": {"timestamp": TIME,
            "message": "m", "attributes": {"usr": {"email": "e"}, "http": {"status_code": "500"}}}})
        .to_string()
        .into_bytes();
        let at = cut % raw.len();
        raw[at] = byte;
        let _ = parse_document(&raw);
        let _ = parse_ndjson_line(&raw, 1);
    }

    #[test]
    fn any_string_reaches_the_model_unchanged(text in any::<String>()) {
        let raw = json!({"id": "p", "type": "audit", "attributes": {"timestamp": TIME,
            "message": text, "attributes": {"usr": {"email": text}, "action": text}}})
        .to_string();
        let e = parse_entry(&raw).unwrap();
        let expected = (!text.is_empty()).then(|| text.clone());
        prop_assert_eq!(e.actor.email, expected.clone());
        prop_assert_eq!(e.action.description, expected);
        prop_assert_eq!(e.action.verb, text);
        prop_assert_eq!(e.raw, raw);
    }
}
