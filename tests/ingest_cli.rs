//! `soc-tui ingest` driven through the real binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_soc-tui");

struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn ingest(&self, args: &[&Path], stdin: &[u8], json: bool) -> Output {
        let mut command = Command::new(BIN);
        command
            .env("HOME", self.root.path())
            .env("SOC_TUI_CONFIG", self.root.path().join("config.toml"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("ingest");
        if json {
            command.arg("--json");
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Commands that never read stdin may exit before the write.
        if let Err(err) = child.stdin.take().unwrap().write_all(stdin) {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        }
        child.wait_with_output().unwrap()
    }

    fn summary(&self, args: &[&Path]) -> (i32, serde_json::Value) {
        let out = self.ingest(args, b"", true);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code().unwrap(), json)
    }
}

fn entry(id: &str, email: &str) -> String {
    format!(
        r#"{{"id":"{id}","account":{{"id":"4bb334f7c94c4a29a045f03944f072e5"}},"action":{{"time":"2026-11-20T10:00:00Z","type":"create","result":"success","description":"Add DNS record"}},"actor":{{"id":"a1","email":"{email}","ip_address":"198.51.100.7","type":"user"}},"resource":{{"product":"dns_records","type":"dns_record","id":"r1"}}}}"#
    )
}

#[test]
fn the_spec_examples_load_and_a_second_run_is_all_duplicates() {
    let Some(specs) = common::specs_dir() else {
        return;
    };
    let files: Vec<PathBuf> = [
        "cloudflare/examples/audit_logs_v1_entries.elastic-pipeline-test.json",
        "cloudflare/examples/audit_logs_v2_list.docs-example.json",
        "datadog/examples/list_audit_events.page1.cassette.json",
        "datadog/examples/list_audit_events.page2.cassette.json",
        "datadog/examples/search_audit_events.page1.cassette.json",
        "datadog/examples/audit_event_api_key_created.SYNTHESIZED.json",
    ]
    .iter()
    .map(|f| specs.join(f))
    .collect();
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let sandbox = Sandbox::new();

    let (code, first) = sandbox.summary(&args);
    assert_eq!(code, 0, "{first}");
    let s = &first["summary"];
    assert_eq!(s["files"], 6);
    assert_eq!(s["read"], 17, "{first}");
    assert_eq!(s["new"], 17, "{first}");
    assert_eq!(s["duplicate"], 0);
    assert_eq!(s["rejected_total"], 0);

    let (code, second) = sandbox.summary(&args);
    assert_eq!(code, 0);
    assert_eq!(second["summary"]["new"], 0, "{second}");
    assert_eq!(second["summary"]["duplicate"], 17, "{second}");
}

#[test]
fn a_bad_ndjson_line_is_reported_with_its_line_and_the_rest_loads() {
    let sandbox = Sandbox::new();
    let text = format!(
        "{}\n{{\"id\": 5, \"this\": \"is not an audit entry\"}}\n\n{}\nnot json at all\n",
        entry("e1", "alice@example.com"),
        entry("e2", "bob@example.com"),
    );
    let file = sandbox.file("mixed.ndjson", text.as_bytes());

    let out = sandbox.ingest(&[&file], b"", false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("4 read, 2 new, 0 duplicate, 2 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 2:"), "{stdout}");
    assert!(stdout.contains("line 5:"), "{stdout}");
}

#[test]
fn a_json_syntax_error_stores_nothing_from_that_file_and_names_the_position() {
    let sandbox = Sandbox::new();
    let good = sandbox.file(
        "good.ndjson",
        format!("{}\n", entry("g1", "a@example.com")).as_bytes(),
    );
    let broken = sandbox.file(
        "broken.json",
        format!("[{},\n{{\"id\": ]", entry("b1", "b@example.com")).as_bytes(),
    );

    let out = sandbox.ingest(&[&good, &broken], b"", true);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["new"], 1, "{json}");
    let failed = json["failed_files"][0].as_str().unwrap();
    assert!(failed.contains("broken.json"), "{failed}");
    assert!(failed.contains("line 2"), "{failed}");

    // Fixing the file and loading again adds exactly its one entry.
    std::fs::write(&broken, format!("[{}]", entry("b1", "b@example.com"))).unwrap();
    let (code, again) = sandbox.summary(&[&good, &broken]);
    assert_eq!(code, 0);
    assert_eq!(again["summary"]["new"], 1, "{again}");
    assert_eq!(again["summary"]["duplicate"], 1, "{again}");
}

#[test]
fn stdin_is_read_with_a_dash_and_hostile_text_is_printed_inert() {
    let sandbox = Sandbox::new();
    // A rejected entry whose reason quotes attacker text with an OSC 52
    // clipboard write and a BiDi override.
    let hostile = "{\"id\":\"x\",\"action\":{\"time\":\"\\u001b]52;c;ZXZpbA==\\u0007\\u202e\"}}\n";
    let input = format!("{}\n{hostile}", entry("s1", "carol@example.com"));
    let out = sandbox.ingest(&[Path::new("-")], input.as_bytes(), false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("<stdin>: 2 read, 1 new"), "{stdout}");
    for forbidden in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(
            !stdout.contains(forbidden),
            "{forbidden:?} reached the terminal: {stdout:?}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(forbidden),
            "{forbidden:?} reached stderr"
        );
    }
}

#[test]
fn stdin_twice_is_refused() {
    let sandbox = Sandbox::new();
    let out = sandbox.ingest(&[Path::new("-"), Path::new("-")], b"", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only once"));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let sandbox = Sandbox::new();
    let missing = sandbox.root.path().join("nope.json");
    let out = sandbox.ingest(&[&missing], b"", false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope.json: cannot open"), "{stderr}");
}

/// `[cloudflare.action_kinds]` in the config decides the kind stored for a
/// verb of the user's own vocabulary; without it the classifier's stands.
#[test]
fn the_configured_action_vocabulary_sets_the_stored_kind() {
    let line = br#"{"id":"c1","when":"2026-11-20T10:00:00Z","action":{"type":"ruleset_deploy","result":true},"actor":{"email":"ops@example.com"},"owner":{"id":"4bb334f7c94c4a29a045f03944f072e5"}}"#;
    let stored_kind = |config: &str| {
        let sandbox = Sandbox::new();
        sandbox.file("config.toml", config.as_bytes());
        let input = sandbox.file("events.ndjson", line);
        let (code, summary) = sandbox.summary(&[&input]);
        assert_eq!(code, 0, "{summary}");
        let store = soc_tui::store::Store::open(&sandbox.data_dir().join("soc-tui.db")).unwrap();
        let from = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let to = chrono::Utc::now();
        let events = store.events_between(from, to, 10).unwrap();
        assert_eq!(events.len(), 1);
        events[0].action.kind
    };
    assert_eq!(stored_kind(""), soc_tui::model::ActionKind::Other);
    assert_eq!(
        stored_kind("[cloudflare.action_kinds]\nruleset_deploy = \"update\"\n"),
        soc_tui::model::ActionKind::Update
    );
}
