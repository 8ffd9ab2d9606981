//! Workflow modes through the real binary: `check <workflow> --sample` on
//! synthetic and bundled samples (never touching the store), `workflows`
//! set/reset with `check --once` following the mode, `outbox list` / `show`
//! of dry-run items, and a daemon in the default dry-run over synthetic
//! history with loopback fakes that must receive nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as ChronoDuration, Timelike, Utc};
use common::fake_server::{FakeServer, reply};
use serde_json::Value;
use soc_tui::store::{CheckKind, Delivery, Store, WindowRecord};
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
            .env("USER", "alice")
            .env_remove("SOC_TUI_DATA")
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// The store's bytes (database and WAL), to prove nothing wrote to it.
    fn store_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = ["soc-tui.db", "soc-tui.db-wal"]
            .iter()
            .filter_map(|name| {
                std::fs::read(self.data_dir().join(name))
                    .ok()
                    .map(|b| (name.to_string(), b))
            })
            .collect();
        files.sort();
        files
    }
}

/// 12 actors over 10 days with a Datadog burst, a broad token at night and
/// a volume spike, all on day 9.
struct History {
    file: PathBuf,
    generator: Generator,
}

fn history(sandbox: &Sandbox) -> History {
    let params = || Params::new(5, 12, 10, Volume::PerActorPerDay(15.0));
    let base = Generator::new(params()).unwrap();
    let of = |persona| {
        base.actors()
            .iter()
            .filter(move |a| a.persona == persona)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (admins, engineers) = (of(Persona::Admin), of(Persona::Engineer));
    let mut p = params();
    p.anomalies = vec![
        Anomaly::DatadogBurst {
            actor: admins[0].index,
            day: 9,
            hour: admins[0].utc_hour_for_local(11),
            role_grants: 3,
            monitor_deletions: 0,
        },
        Anomaly::BroadTokenCreation {
            actor: engineers[0].index,
            day: 9,
            hour: engineers[0].utc_hour_for_local(2),
            token_name: "deploy-all".into(),
            ip: None,
            shape: Shape::CloudflareV1,
        },
        Anomaly::VolumeSpike {
            actor: engineers[1].index,
            day: 9,
            hour: engineers[1].utc_hour_for_local(11),
            factor: 80.0,
        },
    ];
    let generator = Generator::new(p).unwrap();
    let file = sandbox.path("history.ndjson");
    write_generator(std::fs::File::create(&file).unwrap(), &generator).unwrap();
    History { file, generator }
}

struct Planted {
    actor: String,
    ids: Vec<String>,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

fn planted(h: &History, kind: &str) -> Planted {
    let p = h
        .generator
        .planted()
        .iter()
        .find(|p| p.anomaly.kind() == kind)
        .unwrap_or_else(|| panic!("no planted {kind}"));
    Planted {
        actor: p.actor_key.clone(),
        ids: p.event_ids.clone(),
        first: p.first,
        last: p.last,
    }
}

fn dedup_keys(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["dedup_key"].as_str().unwrap().to_owned())
        .collect()
}

fn hour_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap()
}

#[test]
fn check_sample_runs_each_workflow_and_never_touches_the_store() {
    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    let file = h.file.to_str().unwrap();
    sandbox.ok(&["ingest", file]);
    let before = sandbox.store_bytes();
    assert!(!before.is_empty());

    // tokens: the planted token, with the archive object and the review
    // ticket it would send, each rendered.
    let token = planted(&h, "broad_token_creation");
    let run = sandbox.json(&["check", "tokens", "--sample", file, "--json"]);
    assert_eq!(run["workflow"], "tokens");
    assert_eq!(run["events"], h.generator.total_events());
    let finding = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dedup_key"] == format!("token:{}", token.ids[0]))
        .unwrap_or_else(|| panic!("no planted token in {run:#}"));
    assert_eq!(finding["actor"], token.actor.as_str());
    assert!(finding["evidence"].is_object());
    let sinks: Vec<&str> = finding["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sink"].as_str().unwrap())
        .collect();
    assert_eq!(sinks, ["archive", "linear"]);
    let ticket = &finding["requests"][1];
    assert_eq!(ticket["request"]["kind"], "linear_issue");
    assert!(
        ticket["calls_error"]
            .as_str()
            .unwrap()
            .contains("set linear.team_id"),
        "{ticket:#}"
    );
    let archive = &finding["requests"][0];
    assert_eq!(archive["calls"][0]["method"], "WRITE");

    let text = sandbox.ok(&["check", "tokens", "--sample", file]);
    assert!(
        text.contains("Nothing was sent and your store was not touched"),
        "{text}"
    );
    assert!(text.contains("── would send: linear ticket"), "{text}");
    assert!(text.contains("Description (Markdown):"), "{text}");

    // bursts: the planted burst and its PagerDuty trigger.
    let burst = planted(&h, "datadog_burst");
    let run = sandbox.json(&["check", "bursts", "--sample", file, "--json"]);
    let start = burst
        .first
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let key = format!("burst:{}:role_grant:{start}", burst.actor);
    let finding = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dedup_key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {:?}", dedup_keys(&run["findings"])));
    assert_eq!(finding["requests"][0]["sink"], "pagerduty");

    // baseline: the history is the sample's; --at picks the spiking hour.
    let spike = planted(&h, "volume_spike");
    let hour = hour_start(spike.first);
    let at = (hour + ChronoDuration::hours(1)).to_rfc3339();
    let run = sandbox.json(&["check", "baseline", "--sample", file, "--at", &at, "--json"]);
    assert_eq!(
        run["windows"][0]["start"].as_str().unwrap(),
        hour.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let keys = dedup_keys(&run["findings"]);
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("baseline:{}:", spike.actor))),
        "{keys:?}"
    );
    let flagged = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["actor"] == spike.actor.as_str())
        .unwrap();
    assert_eq!(flagged["requests"][0]["sink"], "linear");
    // Without --at: the hour of the sample's last event.
    let run = sandbox.json(&["check", "baseline", "--sample", file, "--json"]);
    let last: DateTime<Utc> = run["last_event"].as_str().unwrap().parse().unwrap();
    let start: DateTime<Utc> = run["windows"][0]["start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(start, hour_start(last));

    // investigation: the burster around the burst, and the page its
    // approval would publish.
    let at = burst.last.to_rfc3339();
    let run = sandbox.json(&[
        "check",
        "investigation",
        "--sample",
        file,
        "--actor",
        &burst.actor,
        "--at",
        &at,
        "--json",
    ]);
    let inv = &run["investigation"];
    assert_eq!(inv["actor"], burst.actor.as_str());
    assert!(
        inv["report"]["assessment"]["verdict"].is_string(),
        "{inv:#}"
    );
    assert_eq!(inv["requests"][0]["sink"], "confluence");
    assert_eq!(inv["requests"][0]["content"][0]["label"], "Confluence page");
    let text = sandbox.ok(&["check", "investigation", "--sample", file]);
    assert!(
        text.contains("on approval it would send: confluence page"),
        "{text}"
    );

    // The store was neither read for the run nor written.
    assert_eq!(sandbox.store_bytes(), before, "the store file changed");
    let store = Store::open(&sandbox.data_dir().join("soc-tui.db")).unwrap();
    assert!(store.findings(&Default::default()).unwrap().is_empty());
    assert!(store.outbox_list(&Default::default()).unwrap().is_empty());
    assert!(store.drafts(None, 10).unwrap().is_empty());

    let wrong = sandbox.run(&["check", "investigation", "--once"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("runs on a sample only"));
}

#[test]
fn check_sample_on_the_bundled_and_a_hostile_sample() {
    let sandbox = Sandbox::new();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/audit-sample.ndjson");
    let run = sandbox.json(&[
        "check",
        "bursts",
        "--sample",
        bundled.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run["events"], 400);
    assert_eq!(run["rejected"], 0);
    assert_eq!(
        dedup_keys(&run["findings"]),
        ["burst:alice.smith@example.com:user_invite:2026-10-30T12:10:56Z"]
    );
    assert!(
        !sandbox.data_dir().join("soc-tui.db").exists(),
        "a sample run creates no store"
    );

    // Attacker text in the sample reaches the terminal inert.
    let line = std::fs::read_to_string(&bundled)
        .unwrap()
        .lines()
        .find(|l| l.contains("invited user"))
        .unwrap()
        .replace(
            "alice.smith@example.com",
            r"evil\u001b]52;c;aGk=\u0007\u202e\u001b[2J@example.com",
        );
    let hostile = sandbox.path("hostile.ndjson");
    std::fs::write(&hostile, format!("{line}\n")).unwrap();
    let text = sandbox.ok(&["check", "bursts", "--sample", hostile.to_str().unwrap()]);
    assert!(text.contains("1 finding(s)"), "{text}");
    for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(raw), "{raw:?} reached the terminal: {text}");
    }
    // Shown as visible escapes (the actor key is lower-cased).
    assert!(text.contains(r"evil\x1b]52;c;agk=\x07\u{202e}"), "{text}");

    // `--json` is inert too (C1 CSI and BiDi included, which serde_json
    // alone leaves raw) and still reads back as the same data.
    let line = line.replace("@example.com", r"\u009b2J\u2066\u007f@example.com");
    std::fs::write(&hostile, format!("{line}\n")).unwrap();
    let out = sandbox.run(&[
        "check",
        "bursts",
        "--sample",
        hostile.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for raw in [
        '\u{1b}', '\u{7}', '\u{7f}', '\u{9b}', '\u{202e}', '\u{2066}',
    ] {
        assert!(!text.contains(raw), "{raw:?} reached the terminal: {text}");
    }
    let run: Value = serde_json::from_str(&text).unwrap();
    let actor = run["findings"][0]["actor"].as_str().unwrap();
    assert!(
        actor.contains("\u{202e}") && actor.contains("\u{9b}2j\u{2066}"),
        "the data is unchanged: {actor:?}"
    );
}

#[test]
fn workflows_switch_and_check_once_follows_the_mode() {
    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    sandbox.ok(&["ingest", h.file.to_str().unwrap()]);
    let listed = sandbox.ok(&["workflows"]);
    assert!(
        listed.contains("tokens         dry-run  config"),
        "{listed}"
    );

    let set = sandbox.ok(&["workflows", "set", "tokens", "off"]);
    assert_eq!(
        set.lines().next().unwrap(),
        "tokens: dry-run -> off (recorded in the analyst log as alice)."
    );
    let token = planted(&h, "broad_token_creation");
    let at = (token.first + ChronoDuration::minutes(1)).to_rfc3339();
    let once = sandbox.json(&["check", "tokens", "--once", "--json", "--at", &at]);
    assert_eq!(once["mode"], "off");
    assert_eq!(once["counts"]["enqueued"], 0);
    assert_eq!(
        once["not_queued_workflow_off"], 2,
        "archive and ticket held"
    );
    let text = sandbox.ok(&["check", "tokens", "--once", "--at", &at]);
    assert!(text.contains("2 request(s) not queued"), "{text}");
    assert!(
        text.contains("the tokens workflow is off (switched off: set by alice"),
        "{text}"
    );
    let store_path = sandbox.data_dir().join("soc-tui.db");
    assert!(
        Store::open(&store_path)
            .unwrap()
            .outbox_list(&Default::default())
            .unwrap()
            .is_empty()
    );

    // On: the same check now queues for delivery.
    sandbox.ok(&["workflows", "set", "tokens", "on"]);
    let once = sandbox.json(&["check", "tokens", "--once", "--json", "--at", &at]);
    assert_eq!(once["mode"], "on");
    assert_eq!(once["counts"]["enqueued"], 2);
    let rows = Store::open(&store_path)
        .unwrap()
        .outbox_list(&Default::default())
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.state == soc_tui::store::OutboxState::Queued)
    );

    // Reset: back to the config, logged; bad names are refused.
    let reset = sandbox.ok(&["workflows", "reset", "tokens"]);
    assert!(
        reset.starts_with("tokens: on -> dry-run from the config"),
        "{reset}"
    );
    let modes = sandbox.json(&["workflows", "--json"]);
    assert_eq!(modes[2]["workflow"], "tokens");
    assert_eq!(modes[2]["mode"], "dry-run");
    assert_eq!(modes[2]["source"], "config");
    let log = Store::open(&store_path)
        .unwrap()
        .analyst_log(Some("workflow:tokens"), 10)
        .unwrap();
    let moves: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|e| (e.analyst.as_str(), e.after.as_deref()))
        .collect();
    assert_eq!(
        moves,
        [
            ("alice", Some(r#"{"mode":"off","source":"store"}"#)),
            ("alice", Some(r#"{"mode":"on","source":"store"}"#)),
            ("alice", Some(r#"{"mode":"dry-run","source":"config"}"#)),
        ]
    );
    let bad = sandbox.run(&["workflows", "set", "tokens", "sideways"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("expected \"off\", \"dry-run\" or \"on\""),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad = sandbox.run(&["workflows", "set", "everything", "on"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown workflow"));
}

#[test]
fn outbox_list_marks_dry_run_items_and_show_prints_what_would_be_sent() {
    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    sandbox.ok(&["ingest", h.file.to_str().unwrap()]);
    let token = planted(&h, "broad_token_creation");
    let at = (token.first + ChronoDuration::minutes(1)).to_rfc3339();
    // The default mode: dry-run.
    let once = sandbox.json(&["check", "tokens", "--once", "--json", "--at", &at]);
    assert_eq!(once["mode"], "dry-run");

    let listed = sandbox.ok(&["outbox", "list"]);
    assert!(listed.contains("dry_run"), "{listed}");
    assert!(
        listed.contains(&format!(
            "DRY-RUN never sent: linear:token:{}:ticket",
            token.ids[0]
        )),
        "{listed}"
    );
    assert!(listed.contains("2 dry-run item(s)"), "{listed}");
    let rows = sandbox.json(&["outbox", "list", "--json"]);
    let ticket = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sink"] == "linear")
        .unwrap();
    let id = ticket["id"].as_i64().unwrap().to_string();

    let shown = sandbox.ok(&["outbox", "show", &id]);
    assert!(
        shown.contains("dry run: recorded by a workflow in dry-run, never sent"),
        "{shown}"
    );
    assert!(shown.contains("Linear issue: "), "{shown}");
    assert!(shown.contains("Description (Markdown):\n"), "{shown}");
    assert!(
        shown.contains("not shown: linear: linear is not configured (set linear.team_id)"),
        "{shown}"
    );

    // Configured (no credential stored: previews never need one).
    std::fs::write(
        sandbox.path("config.toml"),
        "[linear]\nteam_id = \"9cfb482a-81e3-4154-b5b9-2c805e70a02d\"\n",
    )
    .unwrap();
    let shown = sandbox.ok(&["outbox", "show", &id]);
    assert!(
        shown.contains("POST https://api.linear.app/graphql"),
        "{shown}"
    );
    assert!(shown.contains("Authorization: [redacted]"), "{shown}");
    assert!(shown.contains("mutation"), "{shown}");

    let json = sandbox.json(&["outbox", "show", &id, "--json"]);
    assert_eq!(json["item"]["state"], "dry_run");
    assert_eq!(json["request"]["kind"], "linear_issue");

    // A dry-run item is not sent by hand either.
    let retry = sandbox.run(&["outbox", "retry", &id]);
    assert!(!retry.status.success());
    let missing = sandbox.run(&["outbox", "show", "999"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("outbox request 999 does not exist"));
}

fn wait_for_line(rx: &std::sync::mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(120);
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
        "no line with {needle:?}; stderr so far:\n{}",
        seen.join("\n")
    );
}

#[cfg(unix)]
#[test]
fn a_daemon_in_dry_run_sends_nothing_and_every_would_be_request_is_listed() {
    use std::io::{BufRead, BufReader};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = |_: &common::fake_server::Received| reply(500, &[], "must not be called");
    let pagerduty = runtime.block_on(FakeServer::serve(answer));
    let linear = runtime.block_on(FakeServer::serve(answer));

    let sandbox = Sandbox::new();
    let h = history(&sandbox);
    sandbox.ok(&["ingest", h.file.to_str().unwrap()]);
    // No [workflows] for bursts and tokens: the default, dry-run. The
    // baseline is off (its catch-up is not what this is about).
    std::fs::write(
        sandbox.path("config.toml"),
        format!(
            "[checks]\nbursts_cadence = \"2s\"\ntokens_cadence = \"2s\"\n\
             [pagerduty]\nenabled = true\nevents_base = \"{}\"\n\
             [linear]\napi_url = \"{}\"\nteam_id = \"9cfb482a-81e3-4154-b5b9-2c805e70a02d\"\n\
             [workflows]\nbaseline = \"off\"\n",
            pagerduty.url("/v2"),
            linear.url("/graphql")
        ),
    )
    .unwrap();
    // The checks start from the beginning of the history.
    let start = h.generator.end() - ChronoDuration::days(10);
    let mut store = Store::open(&sandbox.data_dir().join("soc-tui.db")).unwrap();
    for check in [CheckKind::Bursts, CheckKind::Tokens] {
        store
            .record_window(&WindowRecord {
                check,
                covered_until: Some(start),
                findings: &[],
                burst_state: None,
                now: start,
                delivery: Delivery::DryRun,
            })
            .unwrap();
    }
    drop(store);

    let mut daemon = sandbox
        .command(&["daemon"])
        .env("SOC_TUI_PAGERDUTY_ROUTING_KEY", "pd-routing-sentinel")
        .env("SOC_TUI_LINEAR_API_KEY", "lin-key-sentinel")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = daemon.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    wait_for_line(
        &rx,
        "soc-tui daemon: workflows baseline off (config)",
        &mut seen,
    );
    wait_for_line(
        &rx,
        "baseline skipped: the baseline workflow is off",
        &mut seen,
    );
    wait_for_line(&rx, "tokens ok (dry-run)", &mut seen);
    wait_for_line(&rx, "bursts ok (dry-run)", &mut seen);
    // A few more rounds of the checks and of the outbox worker.
    wait_for_line(&rx, "bursts ok (dry-run)", &mut seen);
    std::thread::sleep(Duration::from_secs(2));
    let kill = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for_line(&rx, "soc-tui daemon: stopped", &mut seen);
    assert!(daemon.wait().unwrap().success(), "{}", seen.join("\n"));
    assert!(
        seen.iter()
            .any(|l| l.contains("request(s) recorded as dry-run (not sent)")),
        "{}",
        seen.join("\n")
    );

    assert_eq!(pagerduty.count(), 0, "a request reached PagerDuty");
    assert_eq!(linear.count(), 0, "a request reached Linear");
    assert!(
        !sandbox.data_dir().join("archive").exists(),
        "an object was archived"
    );

    let rows = sandbox.json(&["outbox", "list", "--json"]);
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["state"] == "dry_run"), "{rows:#?}");
    let keys: Vec<&str> = rows
        .iter()
        .map(|r| r["dedup_key"].as_str().unwrap())
        .collect();
    let token = planted(&h, "broad_token_creation");
    let burst = planted(&h, "datadog_burst");
    let start = burst
        .first
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for expected in [
        format!("archive:token:{}:object", token.ids[0]),
        format!("linear:token:{}:ticket", token.ids[0]),
        format!("pagerduty:burst:{}:role_grant:{start}:trigger", burst.actor),
    ] {
        assert!(
            keys.contains(&expected.as_str()),
            "{expected} not in {keys:#?}"
        );
    }
    // Every one of them can be read exactly as it would have been sent.
    let trigger = rows.iter().find(|r| r["sink"] == "pagerduty").unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let shown = sandbox.ok(&["outbox", "show", &trigger]);
    assert!(
        shown.contains(&format!("POST {}", pagerduty.url("/v2/enqueue"))),
        "{shown}"
    );
    assert!(!shown.contains("pd-routing-sentinel"), "{shown}");
    drop(runtime);
}
