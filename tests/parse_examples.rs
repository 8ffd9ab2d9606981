//! Every real payload in `../shared/specs/{cloudflare,datadog}/examples`
//! parsed through the public API, with concrete field values checked.
//! A new example file without expectations here fails the suite.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use soc_tui::model::{ActionKind, AuditEvent, Outcome, Source};
use soc_tui::sources::raw::{
    Format, Parsed, parse_document, parse_entry, parse_ndjson_line, sniff,
};

/// The examples directory of one service, or `None` (with a message) when
/// the shared specs are not there; under `CI=true` that is a failure.
/// `../shared/specs` from the checkout; `../../shared/specs` from a
/// worktree under `wt/` beside it.
fn examples(service: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("../shared/specs"),
        root.join("../../shared/specs"),
    ];
    let found = candidates
        .iter()
        .map(|specs| specs.join(service).join("examples"))
        .find(|dir| dir.is_dir());
    if found.is_some() {
        return found;
    }
    let why = format!("{}/{service}/examples not found", candidates[0].display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    None
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn load(dir: &Path, name: &str) -> (Vec<u8>, Parsed) {
    let bytes = fs::read(dir.join(name)).unwrap();
    assert_eq!(sniff(&bytes), Format::Json, "{name} sniffed as NDJSON");
    let parsed = parse_document(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(parsed.rejected.is_empty(), "{name}: {:?}", parsed.rejected);
    (bytes, parsed)
}

/// The same entries written one per line must give the same events (but for
/// `raw`, which is then the compact line), and every `raw` must be the
/// verbatim text of its entry in the file.
fn check_raw_and_ndjson(name: &str, bytes: &[u8], events: &[AuditEvent]) {
    let file = std::str::from_utf8(bytes).unwrap();
    let mut ndjson = Vec::new();
    for event in events {
        assert!(
            file.contains(&event.raw),
            "{name}: raw of {} is not verbatim",
            event.id
        );
        let value: serde_json::Value = serde_json::from_str(&event.raw).unwrap();
        ndjson.extend(serde_json::to_vec(&value).unwrap());
        ndjson.extend(b"\r\n\n");
    }
    if events.len() > 1 {
        assert_eq!(
            sniff(&ndjson),
            Format::Ndjson,
            "{name}: NDJSON form not sniffed"
        );
    }
    let from_lines: Vec<AuditEvent> = ndjson
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| parse_ndjson_line(line, i + 1).unwrap())
        .collect();
    assert_eq!(from_lines.len(), events.len(), "{name}");
    for (line_event, doc_event) in from_lines.iter().zip(events) {
        let same = AuditEvent {
            raw: doc_event.raw.clone(),
            ..line_event.clone()
        };
        assert_eq!(&same, doc_event, "{name}: NDJSON and document disagree");
        assert_eq!(parse_entry(&line_event.raw).as_ref(), Ok(line_event));
    }
}

fn cloudflare_v2_docs_example(dir: &Path) {
    let name = "audit_logs_v2_list.docs-example.json";
    let (bytes, parsed) = load(dir, name);
    let [e] = parsed.events.as_slice() else {
        panic!("{name}: expected one event, got {}", parsed.events.len());
    };
    assert_eq!(e.source, Source::Cloudflare);
    assert_eq!(e.id, "023e105f4ecef8ad9ca31a8372d0c353");
    assert_eq!(e.time, time("2024-04-26T17:31:07Z"));
    assert_eq!(e.action.verb, "create");
    assert_eq!(e.action.kind, ActionKind::Create);
    assert_eq!(e.action.description.as_deref(), Some("Add Member"));
    assert_eq!(e.outcome, Outcome::Success);
    assert_eq!(
        e.actor.id.as_deref(),
        Some("f6b5de0326bb5182b8a4840ee01ec774")
    );
    assert_eq!(e.actor.email.as_deref(), Some("alice@example.com"));
    assert_eq!(e.actor.kind.as_deref(), Some("user"));
    assert_eq!(e.actor.ip.as_deref(), Some("198.41.129.166"));
    assert_eq!(e.actor.token_id.as_deref(), Some("token_id"));
    assert_eq!(e.actor.token_name.as_deref(), Some("token_name"));
    assert_eq!(
        e.actor.user_agent.as_deref(),
        Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15")
    );
    assert_eq!(e.resource.product.as_deref(), Some("members"));
    assert_eq!(e.resource.kind.as_deref(), Some("type"));
    assert_eq!(e.resource.id.as_deref(), Some("id"));
    assert_eq!(e.resource.name.as_deref(), Some("example.com"));
    assert_eq!(
        e.account.as_deref(),
        Some("4bb334f7c94c4a29a045f03944f072e5")
    );
    assert!(
        e.raw
            .starts_with("{\n      \"id\": \"023e105f4ecef8ad9ca31a8372d0c353\"")
    );
    assert!(e.raw.ends_with("\"name\": \"example.com\"\n      }\n    }"));
    check_raw_and_ndjson(name, &bytes, &parsed.events);
}

fn cloudflare_v1_entries(dir: &Path) {
    let name = "audit_logs_v1_entries.elastic-pipeline-test.json";
    let (bytes, parsed) = load(dir, name);
    let events = &parsed.events;
    let verbs: Vec<&str> = events.iter().map(|e| e.action.verb.as_str()).collect();
    assert_eq!(
        verbs,
        [
            "token_create",
            "token_revoke",
            "API_key_view",
            "API_key_view",
            "rotate_API_key",
            "API_key_created",
            "token_create",
            "login",
            "token_roll",
            "rec_add"
        ]
    );
    let kinds: Vec<ActionKind> = events.iter().map(|e| e.action.kind).collect();
    use ActionKind::*;
    assert_eq!(
        kinds,
        [
            Create, Revoke, Read, Read, Update, Create, Create, Login, Update, Create
        ]
    );
    for e in events {
        assert_eq!(e.source, Source::Cloudflare);
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.actor.email.as_deref(), Some("user@example.com"));
        assert_eq!(
            e.actor.id.as_deref(),
            Some("enl3j9du8rnx2swwd9l32qots7l54t9s")
        );
        assert_eq!(e.actor.ip.as_deref(), Some("89.160.20.156"));
        assert_eq!(e.actor.kind.as_deref(), Some("user"));
        assert_eq!(e.action.description, None);
    }
    let first = &events[0];
    assert_eq!(first.id, "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425");
    assert_eq!(first.time, time("2021-11-30T20:19:48Z"));
    assert_eq!(first.resource.name.as_deref(), Some("test"));
    assert_eq!(first.resource.kind.as_deref(), Some("account"));
    assert_eq!(
        first.account.as_deref(),
        Some("enl3j9du8rnx2swwd9l32qots7l54t9s")
    );
    let key = &events[5];
    assert_eq!(key.id, "9320d713-8466-595e-a9f6-73891f89e8a3");
    assert_eq!(key.resource.kind.as_deref(), Some("api_key"));
    assert_eq!(
        key.resource.id.as_deref(),
        Some("c6b5d100d7ce492d24c5b13160fce1cc0092ce7e8d8430e9f5cf5468868be6f6")
    );
    assert_eq!(
        key.account.as_deref(),
        Some("eojhfbg334i88zs2pr2rd7wr82jf2h95")
    );
    let roll = &events[8];
    assert_eq!(roll.resource.name.as_deref(), Some("Read all resources"));
    assert_eq!(roll.time, time("2021-08-09T10:36:30Z"));
    let record = &events[9];
    assert_eq!(record.id, "9d043524-edf8-4693-8262-56578930d98a");
    assert_eq!(record.time, time("2021-08-09T10:14:17.883896Z"));
    assert_eq!(record.resource.kind.as_deref(), Some("DNS_record"));
    assert_eq!(record.resource.id.as_deref(), Some("10715065354"));
    assert_eq!(record.resource.name.as_deref(), Some("asdf.example.com"));
    check_raw_and_ndjson(name, &bytes, events);
}

fn cloudflare_v1_page(dir: &Path) {
    let name = "audit_logs_v1_list.page1.elastic-mock.json";
    let (bytes, parsed) = load(dir, name);
    let ids: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425",
            "9929d149-1c4e-4524-87b5-bb81e83b5c84"
        ]
    );
    let revoke = &parsed.events[1];
    assert_eq!(revoke.action.kind, ActionKind::Revoke);
    assert_eq!(revoke.time, time("2021-11-30T20:19:27Z"));
    assert_eq!(revoke.actor.ip.as_deref(), Some("52.91.36.10"));
    assert_eq!(revoke.resource.name.as_deref(), Some("test"));
    check_raw_and_ndjson(name, &bytes, &parsed.events);
}

fn cloudflare_error(dir: &Path) {
    let bytes = fs::read(dir.join("error_response.spec-example.json")).unwrap();
    assert_eq!(
        parse_document(&bytes).unwrap_err(),
        "Cloudflare API error: [12345] Some error message"
    );
}

fn datadog_list_page(dir: &Path, name: &str, ids: &[&str]) {
    let (bytes, parsed) = load(dir, name);
    let got: Vec<&str> = parsed.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ids, "{name}");
    for e in &parsed.events {
        assert_eq!(e.source, Source::Datadog);
        assert_eq!(e.time, time("2022-04-13T09:29:59Z"));
        assert_eq!(e.action.verb, "update_config");
        assert_eq!(e.action.kind, ActionKind::Update);
        assert_eq!(
            e.action.description.as_deref(),
            Some("Agent configuration successfuly updated")
        );
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(
            e.actor.id.as_deref(),
            Some("1ad9c690-ee90-4dca-80ad-034e916623ab")
        );
        assert_eq!(
            e.actor.email.as_deref(),
            Some("1ad9c690-ee90-4dca-80ad-034e916623ab")
        );
        assert_eq!(e.actor.kind.as_deref(), Some("Other"));
        assert_eq!(e.actor.ip, None);
        assert_eq!(e.resource.product, None);
        assert_eq!(
            e.account.as_deref(),
            Some("8dee7c38-00cb-11ea-a77b-8b5a08d3b091")
        );
    }
    check_raw_and_ndjson(name, &bytes, &parsed.events);
}

fn datadog_search_page(dir: &Path) {
    let name = "search_audit_events.page1.cassette.json";
    let (bytes, parsed) = load(dir, name);
    let [get, post] = parsed.events.as_slice() else {
        panic!("{name}: expected two events, got {}", parsed.events.len());
    };
    assert_eq!(
        get.id,
        "AQAAAYAiOhYWi7EZ-QAAAABBWUFpT2hvT0FBRGJLTGZoSU50TEVRQUE"
    );
    assert_eq!(get.time, time("2022-04-13T09:21:13.750Z"));
    assert_eq!(get.actor.email.as_deref(), Some("foo@example.com"));
    assert_eq!(
        get.actor.id.as_deref(),
        Some("0ed5718a-10e0-11ec-8246-da7ad0900002")
    );
    assert_eq!(get.actor.kind.as_deref(), Some("USER"));
    assert_eq!(get.actor.ip.as_deref(), Some("84.102.253.215"));
    assert!(
        get.actor
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("Mozilla/5.0 (Macintosh")
    );
    assert_eq!(get.action.verb, "accessed");
    assert_eq!(get.action.kind, ActionKind::Read);
    assert_eq!(
        get.action.description.as_deref(),
        Some(
            "GET request made to /api/v1/synthetics/enforced_tags by foo@example.com with response 200"
        )
    );
    assert_eq!(get.resource.product.as_deref(), Some("Request"));
    assert_eq!(get.outcome, Outcome::Success);
    assert_eq!(
        post.id,
        "AQAAAYAiOhYWRqxX3QAAAABBWUFpT2hvTUFBQks5Nkl0TVJTV2pBQUE"
    );
    assert_eq!(post.actor.ip.as_deref(), Some("149.14.155.42"));
    assert_eq!(
        post.actor.id.as_deref(),
        Some("32e2d7b6-52e4-11ec-a7e4-da7ad0900002")
    );
    check_raw_and_ndjson(name, &bytes, &parsed.events);
}

fn datadog_synthesized_api_key(dir: &Path) {
    let name = "audit_event_api_key_created.SYNTHESIZED.json";
    let (bytes, parsed) = load(dir, name);
    let [e] = parsed.events.as_slice() else {
        panic!("{name}: expected one event, got {}", parsed.events.len());
    };
    assert_eq!(e.id, "AQAAAZSYNTHETICEXAMPLE0000000000000000000000000000");
    assert_eq!(e.time, time("2026-01-15T10:30:00Z"));
    assert_eq!(e.action.verb, "created");
    assert_eq!(e.action.kind, ActionKind::Create);
    assert_eq!(e.actor.email.as_deref(), Some("alice@example.com"));
    assert_eq!(
        e.actor.id.as_deref(),
        Some("11111111-1111-1111-1111-111111111111")
    );
    assert_eq!(e.actor.ip.as_deref(), Some("203.0.113.10"));
    assert_eq!(e.resource.product.as_deref(), Some("Authentication"));
    assert_eq!(e.resource.kind.as_deref(), Some("api_key"));
    assert_eq!(
        e.resource.id.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        e.account.as_deref(),
        Some("22222222-2222-2222-2222-222222222222")
    );
    check_raw_and_ndjson(name, &bytes, &parsed.events);
}

fn datadog_error(dir: &Path) {
    let bytes = fs::read(dir.join("error_response.spec-example.json")).unwrap();
    assert_eq!(
        parse_document(&bytes).unwrap_err(),
        "Datadog API error: Bad Request"
    );
}

/// Search request bodies are not audit data: refused as a document.
fn datadog_search_request(dir: &Path, name: &str) {
    let bytes = fs::read(dir.join(name)).unwrap();
    let error = parse_document(&bytes).unwrap_err();
    assert!(
        error.starts_with("not an audit log document"),
        "{name}: {error}"
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn cloudflare_examples() {
    let Some(dir) = examples("cloudflare") else {
        return;
    };
    for name in files_in(&dir) {
        match name.as_str() {
            "audit_logs_v2_list.docs-example.json" => cloudflare_v2_docs_example(&dir),
            "audit_logs_v1_entries.elastic-pipeline-test.json" => cloudflare_v1_entries(&dir),
            "audit_logs_v1_list.page1.elastic-mock.json" => cloudflare_v1_page(&dir),
            "error_response.spec-example.json" => cloudflare_error(&dir),
            other => panic!("no expectations for cloudflare example {other}"),
        }
    }
}

#[test]
fn datadog_examples() {
    let Some(dir) = examples("datadog") else {
        return;
    };
    for name in files_in(&dir) {
        match name.as_str() {
            "list_audit_events.page1.cassette.json" => datadog_list_page(
                &dir,
                &name,
                &[
                    "AQAAAYAiQhnY3SfuUQAAAABBWUFpUWhxSEFBQ0s2aHc2Mkh4cnZRQUE",
                    "AQAAAYAiQhnY3SHuUQAAAABBWUFpUWhxRkFBQ0s2aHc2Mkh4cnR3QUE",
                ],
            ),
            "list_audit_events.page2.cassette.json" => datadog_list_page(
                &dir,
                &name,
                &["AQAAAYAiQhnY3RvuUQAAAABBWUFpUWhwekFBQ0s2aHc2Mkh4cnNRQUE"],
            ),
            "list_audit_events.last-page-empty.cassette.json" => {
                datadog_list_page(&dir, &name, &[])
            }
            "search_audit_events.page1.cassette.json" => datadog_search_page(&dir),
            "audit_event_api_key_created.SYNTHESIZED.json" => datadog_synthesized_api_key(&dir),
            "error_response.spec-example.json" => datadog_error(&dir),
            "search_audit_events.request.cassette.json"
            | "search_audit_events.request-page2.cassette.json" => {
                datadog_search_request(&dir, &name)
            }
            other => panic!("no expectations for datadog example {other}"),
        }
    }
}
