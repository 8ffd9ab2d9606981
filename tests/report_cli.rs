//! The flow without the TUI, through the real binary: investigate, list,
//! show (text, Markdown, Confluence storage, JSON), approve with edits, and
//! the analyst log.

mod scenarios;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use soc_tui::model::{ActionKind, Source};
use soc_tui::store::Store;

fn soc(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SOC_TUI_CONFIG")
        .env_remove("SOC_TUI_DATA")
        .output()
        .expect("run soc-tui")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[analyst]\nname = \"alice\"\n").unwrap();
    let data = dir.path().join("data");
    let (actor, at, mut events) = scenarios::compromised_admin();
    // Hostile text in a field the reports show.
    events.push(
        scenarios::ev(
            Source::Datadog,
            "dd-hostile",
            at + chrono::TimeDelta::minutes(40),
            &actor,
        )
        .action("deleted", ActionKind::Delete)
        .resource(
            "monitor",
            "evil\u{1b}]52;c;Y3VybA==\u{7}\u{1b}[2J<script>|# x",
        )
        .done(),
    );
    let mut store = Store::open(&data.join("soc-tui.db")).unwrap();
    store.insert_events(&events).unwrap();
    drop(store);
    (dir, config, data)
}

#[test]
fn investigate_show_approve_and_log_without_the_tui() {
    let (_dir, config, data) = setup();
    let out = ok(&soc(
        &config,
        &data,
        &[
            "investigate",
            "--actor",
            "Mallory.Ops@example.com",
            "--at",
            "2026-11-19T03:02:00Z",
            "--json",
        ],
    ));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], "INV-1");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["report"]["assessment"]["verdict"], "likely_malicious");

    let list = ok(&soc(&config, &data, &["report", "list"]));
    assert!(
        list.contains("INV-1") && list.contains("draft") && list.contains("likely malicious"),
        "{list}"
    );

    let text = ok(&soc(&config, &data, &["report", "show", "INV-1"]));
    assert!(
        text.contains("Recommended next step") && text.contains("Revoke token \"deploy-all\""),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "terminal escapes leaked"
    );
    assert!(text.contains("evil\\x1b]52;c;"), "{text}");

    let markdown = ok(&soc(&config, &data, &["report", "show", "1", "--markdown"]));
    assert!(
        markdown.starts_with("# INV\\-1\\: mallory\\.ops\\@example\\.com"),
        "{markdown}"
    );
    assert!(
        markdown.contains("## Timeline") && markdown.contains("| Time \\(UTC\\) | Src |"),
        "{markdown}"
    );
    assert!(
        !markdown.contains("<script>") && !markdown.contains('\u{1b}'),
        "{markdown}"
    );

    let storage = ok(&soc(
        &config,
        &data,
        &["report", "show", "INV-1", "--format", "storage"],
    ));
    assert!(
        storage.starts_with("<h1>INV-1: mallory.ops@example.com"),
        "{storage}"
    );
    assert!(
        storage.contains("&lt;script&gt;") && !storage.contains("<script>"),
        "{storage}"
    );

    // Publishing needs Confluence configured; nothing is approved meanwhile.
    let refused = soc(
        &config,
        &data,
        &["report", "approve", "INV-1", "--publish", "confluence"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Confluence is not configured"));

    let approved = ok(&soc(
        &config,
        &data,
        &[
            "report",
            "approve",
            "INV-1",
            "--verdict",
            "suspicious",
            "--confidence",
            "0.7",
            "--note",
            "token was for the DR test, roles still wrong",
        ],
    ));
    assert!(
        approved.contains("Approved INV-1 as suspicious (0.70) by alice"),
        "{approved}"
    );

    let log = ok(&soc(&config, &data, &["report", "log", "INV-1"]));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("alice edit INV-1"), "{log}");
    assert!(
        lines[0].contains(r#"before={"confidence":"#)
            && lines[0].contains(r#""verdict":"likely_malicious"}"#),
        "{log}"
    );
    assert!(
        lines[0].contains(r#"after={"confidence":0.7,"verdict":"suspicious"}"#),
        "{log}"
    );
    assert!(
        lines[1].contains("alice approve INV-1")
            && lines[1].contains("note=token was for the DR test"),
        "{log}"
    );

    let json = ok(&soc(
        &config,
        &data,
        &["report", "show", "INV-1", "--format", "json"],
    ));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["status"], "approved");
    assert_eq!(v["approved_by"], "alice");
    assert_eq!(v["report"]["assessment"]["verdict"], "suspicious");
    assert_eq!(
        v["report"]["heuristic"]["verdict"], "likely_malicious",
        "the engine's own verdict is kept"
    );

    let again = soc(&config, &data, &["report", "approve", "INV-1"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("is approved; only a finished draft can be approved")
    );
}

#[test]
fn bad_ids_and_times_are_named() {
    let (_dir, config, data) = setup();
    let out = soc(&config, &data, &["report", "show", "INV-x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a draft id"));
    let out = soc(&config, &data, &["report", "show", "INV-9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("draft INV-9 does not exist"));
    let out = soc(
        &config,
        &data,
        &[
            "investigate",
            "--actor",
            "a@example.com",
            "--at",
            "yesterday",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected an RFC 3339 time"));
}

#[test]
fn webhook_sign_prints_a_request_the_receiver_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let body = dir.path().join("anomaly.json");
    std::fs::write(
        &body,
        r#"{"actor":"a@example.com","action":"x","timestamp":"2026-11-19T03:00:00Z"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .args([
            "webhook",
            "sign",
            body.to_str().unwrap(),
            "--delivery",
            "d-1",
        ])
        .env("SOC_TUI_WEBHOOK_SECRET", "whsec-0123456789abcdef-test")
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(
        stdout.starts_with("curl -sS -X POST 'http://127.0.0.1:8787/webhook/anomaly'"),
        "{stdout}"
    );
    assert!(stdout.contains("'x-soc-tui-delivery: d-1'"), "{stdout}");
    let signature = stdout
        .split("x-soc-tui-signature: ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let bytes = std::fs::read(&body).unwrap();
    let now = chrono::Utc::now().timestamp();
    soc_tui::webhook::auth::verify_hmac(
        b"whsec-0123456789abcdef-test",
        Some(signature),
        &bytes,
        now,
        300,
    )
    .unwrap();
    assert!(
        !stdout.contains("whsec-0123456789abcdef-test"),
        "the secret itself is never printed"
    );
}
