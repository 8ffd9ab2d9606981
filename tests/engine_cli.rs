//! `soc-tui check --once`, `soc-tui replay` and `soc-tui daemon` through
//! the real binary, on a small synthetic history with planted anomalies.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use soc_tui::synth::{Anomaly, Generator, Params, Persona, Shape, Volume, write_generator};
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

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("HOME", self.root.path())
            .env("SOC_TUI_CONFIG", self.path("config.toml"))
            .env_remove("SOC_TUI_DATA")
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

/// 12 actors, 10 days, a Datadog burst by the admin on day 9 and a broad
/// token at night by the engineer on day 9; written as NDJSON.
struct History {
    file: PathBuf,
    generator: Generator,
}

fn history(sandbox: &Sandbox) -> History {
    let base = Generator::new(Params::new(5, 12, 10, Volume::PerActorPerDay(15.0))).unwrap();
    let admin = base
        .actors()
        .iter()
        .find(|a| a.persona == Persona::Admin)
        .unwrap();
    let engineer = base
        .actors()
        .iter()
        .find(|a| a.persona == Persona::Engineer)
        .unwrap();
    let mut params = Params::new(5, 12, 10, Volume::PerActorPerDay(15.0));
    params.anomalies = vec![
        Anomaly::DatadogBurst {
            actor: admin.index,
            day: 9,
            hour: admin.utc_hour_for_local(11),
            role_grants: 3,
            monitor_deletions: 0,
        },
        Anomaly::BroadTokenCreation {
            actor: engineer.index,
            day: 9,
            hour: engineer.utc_hour_for_local(2),
            token_name: "deploy-all".into(),
            ip: None,
            shape: Shape::CloudflareV1,
        },
    ];
    let generator = Generator::new(params).unwrap();
    let file = sandbox.path("history.ndjson");
    write_generator(std::fs::File::create(&file).unwrap(), &generator).unwrap();
    History { file, generator }
}

fn planted(h: &History, kind: &str) -> (String, Vec<String>, DateTime<Utc>, DateTime<Utc>) {
    let p = h
        .generator
        .planted()
        .iter()
        .find(|p| p.anomaly.kind() == kind)
        .unwrap();
    (p.actor_key.clone(), p.event_ids.clone(), p.first, p.last)
}

fn ingest(sandbox: &Sandbox, file: &Path) {
    let out = sandbox.run(&["ingest", "--json", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keys(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["dedup_key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn check_once_records_findings_queues_requests_once_and_prints_json() {
    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    ingest(&sandbox, &h.file);
    let (issuer, ids, at, _) = planted(&h, "broad_token_creation");
    let at = (at + chrono::Duration::minutes(1)).to_rfc3339();
    let args = ["check", "tokens", "--once", "--json", "--at", &at];

    let first = sandbox.json(&args);
    assert_eq!(first["check"], "tokens");
    assert_eq!(
        first["window"]["end"].as_str().unwrap(),
        at.replace("+00:00", "Z")
    );
    let token = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dedup_key"] == format!("token:{}", ids[0]))
        .expect("the planted token");
    assert_eq!(token["actor"], issuer.as_str());
    assert_eq!(token["severity"], "medium");
    assert_eq!(
        token["rules"][0], "token.unknown_scope",
        "v1 entries carry no scope"
    );
    assert_eq!(token["inserted"], true);
    assert_eq!(token["enqueued"], 2, "archive and review ticket");

    let again = sandbox.json(&args);
    assert_eq!(keys(&again["findings"]), keys(&first["findings"]));
    for f in again["findings"].as_array().unwrap() {
        assert_eq!(f["inserted"], false);
        assert_eq!(f["enqueued"], 0, "never the same request twice");
    }
    assert_eq!(
        again["counts"]["updated"],
        first["findings"].as_array().unwrap().len()
    );

    let (burster, grant_ids, first_grant, last_grant) = planted(&h, "datadog_burst");
    let at = (last_grant + chrono::Duration::seconds(30)).to_rfc3339();
    let bursts = sandbox.json(&["check", "bursts", "--once", "--json", "--at", &at]);
    let burst = bursts["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dedup_key"].as_str().unwrap().contains(":role_grant:"))
        .expect("the planted burst");
    let start = first_grant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        burst["dedup_key"],
        format!("burst:{burster}:role_grant:{start}")
    );
    assert_eq!(burst["severity"], "high");
    assert_eq!(
        burst["event_ids"].as_array().unwrap().len(),
        grant_ids.len()
    );

    // The text form says what ran and lists the findings.
    let out = sandbox.run(&["check", "bursts", "--once", "--at", &at]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("bursts check at "), "{text}");
    assert!(
        text.contains("TIME") && text.contains("role_grant"),
        "{text}"
    );

    let bad = sandbox.run(&["check", "tokens", "--once", "--at", "last tuesday"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a time"));
    let no_once = sandbox.run(&["check", "tokens"]);
    assert!(!no_once.status.success());
    assert!(String::from_utf8_lossy(&no_once.stderr).contains("--once"));
}

#[test]
fn replay_prints_what_would_have_fired_and_never_touches_the_store() {
    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    let file = h.file.to_str().unwrap();
    let report = sandbox.json(&["replay", "--json", file]);
    let (_, token_ids, _, _) = planted(&h, "broad_token_creation");
    let (burster, _, first_grant, _) = planted(&h, "datadog_burst");
    let keys = keys(&report["findings"]);
    let start = first_grant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        keys.contains(&format!("token:{}", token_ids[0])),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("burst:{burster}:role_grant:{start}")),
        "{keys:?}"
    );
    assert_eq!(report["events"], h.generator.total_events());
    let token = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dedup_key"] == format!("token:{}", token_ids[0]))
        .unwrap();
    assert_eq!(
        token["requests"],
        serde_json::json!([{"sink": "archive", "kind": "object"}, {"sink": "linear", "kind": "ticket"}])
    );
    assert!(
        !sandbox.data_dir().join("soc-tui.db").exists(),
        "replay must not create or touch the user's store"
    );

    // A narrower span and a rules change: the token rules silenced for the
    // issuer until far in the future; the token is still reported, marked.
    let rules = sandbox.path("replay-rules.toml");
    let issuer = token["actor"].as_str().unwrap();
    std::fs::write(
        &rules,
        format!(
            "[[suppressions]]\nactor = {issuer:?}\nrule = \"token.*\"\nuntil = 2099-01-01T00:00:00Z\nreason = \"test\"\n"
        ),
    )
    .unwrap();
    let from = h.generator.end() - chrono::Duration::days(1);
    let out = sandbox.run(&[
        "replay",
        "--from",
        &from.to_rfc3339(),
        "--rules",
        rules.to_str().unwrap(),
        file,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("TIME "), "{table}");
    let token_line = table
        .lines()
        .find(|l| l.contains("deploy-all"))
        .unwrap_or_else(|| panic!("no token line in\n{table}"));
    assert!(token_line.ends_with("(suppressed)"), "{token_line}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("replayed"));

    let missing = sandbox.run(&["replay", "--rules", "/nonexistent/rules.toml", file]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}

/// Stderr lines of a running child, as they come.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return;
            }
        }
    }
    panic!(
        "no line with {needle:?} within 60 s; stderr so far:\n{}",
        seen.join("\n")
    );
}

#[cfg(unix)]
#[test]
fn daemon_runs_the_checks_refuses_a_second_engine_and_stops_on_sigterm() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.path("config.toml"),
        "[checks]\nbaseline_cadence = \"1h\"\nbursts_cadence = \"2s\"\ntokens_cadence = \"1h\"\n",
    )
    .unwrap();
    let mut daemon = sandbox
        .command(&["daemon", "--dry-run"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut daemon);
    let mut seen = Vec::new();
    wait_for_line(&rx, "soc-tui daemon: engine", &mut seen);
    assert!(seen.last().unwrap().contains("dry run"), "{seen:?}");
    // Bursts run at once and again two seconds later.
    wait_for_line(&rx, "bursts ok", &mut seen);
    wait_for_line(&rx, "bursts ok", &mut seen);
    assert!(seen.iter().any(|l| l.contains("tokens ok")), "{seen:?}");
    assert!(seen.iter().any(|l| l.contains("baseline ok")), "{seen:?}");

    let second = sandbox.run(&["daemon"]);
    assert!(!second.status.success());
    let refusal = String::from_utf8_lossy(&second.stderr);
    assert!(refusal.contains("another engine is running"), "{refusal}");
    assert!(
        refusal.contains(&format!(":{}:", daemon.id())),
        "names the holder (host:pid:random): {refusal}"
    );

    let kill = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for_line(&rx, "soc-tui daemon: stopped", &mut seen);
    let status = daemon.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", seen.join("\n"));

    // The lease is free again: the next daemon would start at once.
    let store = soc_tui::store::Store::open(&sandbox.data_dir().join("soc-tui.db")).unwrap();
    assert_eq!(store.lease().unwrap(), None);
    let runs = store.check_runs().unwrap();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.iter().all(|r| r.last_error.is_none() && r.runs >= 1));
    assert!(
        std::fs::read_to_string(sandbox.data_dir().join("logs/soc-tui.log"))
            .unwrap()
            .contains("engine started")
    );
}
