//! The Cloudflare token a poll authenticates with never lands in the log
//! (at trace level), the store, or the command's output: on a clean poll,
//! on a rejected token, and on a server error.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{TimeDelta, Utc};

use common::audit_fake::{AuditFake, CF_TOKEN, Fault, spread};

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";

fn write_config(dir: &Path, api_base: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[cloudflare]\naccount_ids = [\"{ACCOUNT}\"]\napi_base = \"{api_base}\"\n\
             initial_lookback = \"2h\"\n\n[http]\nmax_retries = 1\n"
        ),
    )
    .unwrap();
    path
}

fn poll(config: &Path, data: &Path, token: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .args(["poll", "cloudflare"])
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .env("SOC_TUI_CLOUDFLARE_TOKEN", token)
        .env("SOC_TUI_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env_remove("SOC_TUI_CONFIG")
        .env_remove("SOC_TUI_DATA")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn assert_absent(needle: &str, data: &Path, outputs: &[&Output]) -> usize {
    let hex = hex::encode(needle);
    let mut scanned = 0;
    for file in files_under(data) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(needle), "token found in {}", file.display());
        assert!(
            !text.contains(&hex),
            "hex token found in {}",
            file.display()
        );
        scanned += 1;
    }
    for out in outputs {
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(needle),
                "token in output"
            );
        }
    }
    scanned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_token_never_reaches_logs_store_or_output() {
    let now = Utc::now();
    let fake = AuditFake::start(spread(
        "s",
        300,
        now - TimeDelta::minutes(90),
        now - TimeDelta::minutes(5),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base());
    let data = dir.path().join("data");

    let ok = poll(&config, &data, CF_TOKEN);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // A token the server refuses: the error path prints and logs more.
    let wrong = "cf-wrong-token-SENTINEL-5f1d2e3c";
    let refused = poll(&config, &data, wrong);
    assert!(!refused.status.success());

    // A server error on the first request.
    fake.fault_at(fake.requests().len(), Fault::Status(500));
    let failed = poll(&config, &data, CF_TOKEN);

    let outputs = [&ok, &refused, &failed];
    let scanned = assert_absent(CF_TOKEN, &data, &outputs);
    assert_absent(wrong, &data, &outputs);
    // The log and the store were both there to scan.
    assert!(data.join("logs/soc-tui.log").is_file());
    assert!(data.join("soc-tui.db").is_file());
    assert!(scanned >= 2, "{scanned} files scanned");
    let log = std::fs::read_to_string(data.join("logs/soc-tui.log")).unwrap();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG") || log.contains("INFO"),
        "log is empty"
    );
}
