//! Driving the real binary: `soc-tui outbox deliver` with a crash point
//! armed (`SOC_TUI_FAULT_POINT`, `SOC_TUI_FAULT_SKIP`), killed with SIGKILL
//! as soon as it says it reached the point, then started again.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Printed by the binary when a crash point stops it (`outbox::fault::REACHED`).
const REACHED: &str = "soc-tui fault point reached: ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KillPoint {
    OutboxWrite,
    AfterRemoteOk,
    Backoff,
}

impl KillPoint {
    pub const ALL: [KillPoint; 3] = [
        KillPoint::OutboxWrite,
        KillPoint::AfterRemoteOk,
        KillPoint::Backoff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KillPoint::OutboxWrite => "outbox_write",
            KillPoint::AfterRemoteOk => "after_remote_ok",
            KillPoint::Backoff => "backoff",
        }
    }
}

/// How one run of the binary ended.
#[derive(Debug)]
pub enum RunEnd {
    /// Reached the point and was killed at `at`.
    Killed { point: KillPoint, at: Instant },
    /// Ran to its end (every request delivered or dead) before the point.
    Exited {
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
}

pub struct Binary {
    pub config: PathBuf,
    pub data: PathBuf,
    pub env: Vec<(String, String)>,
}

enum Line {
    Reached(String),
    Other(String),
}

impl Binary {
    /// Runs `outbox deliver`; with `fault`, kills it at the point once the
    /// first `skip` hits have passed. Panics after `limit`.
    pub fn deliver(&self, fault: Option<(KillPoint, u64)>, limit: Duration) -> RunEnd {
        let mut command = Command::new(env!("CARGO_BIN_EXE_soc-tui"));
        command
            .args(["outbox", "deliver"])
            .env("SOC_TUI_CONFIG", &self.config)
            .env("SOC_TUI_DATA", &self.data)
            .env_remove("SOC_TUI_FAULT_POINT")
            .env_remove("SOC_TUI_FAULT_SKIP")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("ALL_PROXY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        if let Some((point, skip)) = fault {
            command
                .env("SOC_TUI_FAULT_POINT", point.as_str())
                .env("SOC_TUI_FAULT_SKIP", skip.to_string());
        }
        let mut child = command.spawn().expect("start soc-tui");
        let started = Instant::now();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let message = match line.strip_prefix(REACHED) {
                    Some(point) => Line::Reached(point.to_owned()),
                    None => Line::Other(line),
                };
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut stdout = child.stdout.take().expect("stdout");
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let mut other = String::new();
        loop {
            let left = limit.saturating_sub(started.elapsed());
            match rx.recv_timeout(left) {
                Ok(Line::Reached(point)) => {
                    let at = Instant::now();
                    child.kill().expect("SIGKILL");
                    child.wait().expect("reap");
                    let point = KillPoint::ALL
                        .into_iter()
                        .find(|p| p.as_str() == point)
                        .unwrap_or_else(|| panic!("unknown fault point {point:?}"));
                    return RunEnd::Killed { point, at };
                }
                Ok(Line::Other(line)) => {
                    other.push_str(&line);
                    other.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    return RunEnd::Exited {
                        status,
                        stdout: out.join().unwrap_or_default(),
                        stderr: other,
                    };
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "soc-tui outbox deliver still running after {limit:?} (fault {fault:?});\n\
                         stderr:\n{other}"
                    );
                }
            }
        }
    }
}
