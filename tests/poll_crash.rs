//! `kill -9` of the real binary in the middle of `soc-tui poll cloudflare`,
//! then a restart: every event ends up stored exactly once and the
//! checkpoint is right. The binary reads a temporary config whose
//! `api_base` is a slow fake audit API on loopback; the token comes from
//! `SOC_TUI_CLOUDFLARE_TOKEN`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use soc_tui::sources::poll::CloudflarePoller;
use soc_tui::store::Store;

use common::audit_fake::{AuditFake, CF_TOKEN, spread};

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const EVENTS: usize = 6_000;

fn write_config(dir: &Path, api_base: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[cloudflare]\naccount_ids = [\"{ACCOUNT}\"]\napi_base = \"{api_base}\"\n\
             poll_overlap = \"5m\"\nsettle_delay = \"1m\"\ninitial_lookback = \"6h\"\n"
        ),
    )
    .expect("write config");
    path
}

fn poll_command(config: &Path, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_soc-tui"));
    command
        .args(["poll", "cloudflare", "--json"])
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .env("SOC_TUI_CLOUDFLARE_TOKEN", CF_TOKEN)
        .env_remove("SOC_TUI_CONFIG")
        .env_remove("SOC_TUI_DATA")
        .stdin(Stdio::null());
    command
}

fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).expect("time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_killed_midway_loses_and_doubles_nothing_after_a_restart() {
    let now = Utc::now();
    let events = spread(
        "k",
        EVENTS,
        now - TimeDelta::hours(5),
        now - TimeDelta::minutes(5),
    );
    let fake = AuditFake::start(events.clone()).await;
    // 200 per page and 150 ms per answer: about six pages a chunk, a
    // second a chunk; the kill lands after a few chunks are stored.
    fake.max_page(200);
    fake.slow(Duration::from_millis(150));
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake.base());
    let data = dir.path().join("data");
    let store_file = data.join("soc-tui.db");
    let key = CloudflarePoller::checkpoint_key(ACCOUNT);

    let mut child = poll_command(&config, &data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start soc-tui");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.requests().len() < 20 {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("soc-tui exited ({status}) before it could be killed");
        }
        assert!(Instant::now() < deadline, "the poll did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let served_before_kill = fake.requests().len();

    // What survived is whole chunks: exactly the events before the checkpoint.
    let (stored_after_kill, checkpoint_after_kill) = {
        let store = Store::open(&store_file).expect("store after the kill");
        let checkpoint = store
            .checkpoint(&key)
            .expect("checkpoint")
            .map(|c| c.position)
            .expect("a few chunks were stored before the kill");
        (store.event_count().expect("count"), checkpoint)
    };
    let before_checkpoint = events
        .iter()
        .filter(|e| e.time < checkpoint_after_kill)
        .count() as u64;
    assert_eq!(
        stored_after_kill, before_checkpoint,
        "a partly read chunk was stored"
    );
    assert!(
        (stored_after_kill as usize) < EVENTS,
        "the kill came too late to test anything ({served_before_kill} requests)"
    );

    // Restart at full speed.
    fake.slow(Duration::ZERO);
    let started = Utc::now();
    let output = poll_command(&config, &data).output().expect("run soc-tui");
    let finished = Utc::now();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON summary");
    let target = &report["targets"][0];
    assert_eq!(target["checkpoint_key"], key.as_str());
    let new = target["new"].as_u64().expect("new");
    assert_eq!(new, EVENTS as u64 - stored_after_kill);

    let store = Store::open(&store_file).expect("store after the restart");
    assert_eq!(store.event_count().expect("count"), EVENTS as u64);
    let ids: BTreeSet<String> = store
        .events_between(
            now - TimeDelta::hours(7),
            now + TimeDelta::hours(1),
            EVENTS + 1,
        )
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect();
    let expected: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, expected);
    let checkpoint = store
        .checkpoint(&key)
        .expect("checkpoint")
        .map(|c| c.position)
        .expect("checkpoint");
    let settle = TimeDelta::minutes(1);
    assert!(
        checkpoint >= whole_seconds(started - settle) && checkpoint <= finished - settle,
        "checkpoint {checkpoint} not within [{started} - 1m, {finished} - 1m]"
    );
    assert_eq!(
        target["checkpoint_after"].as_str(),
        Some(
            checkpoint
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .as_str()
        )
    );
}
