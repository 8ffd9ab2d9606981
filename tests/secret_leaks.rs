//! A sentinel secret must never show up in output, logs or any file soc-tui writes.
//!
//! [`scan_for_sentinel`] / [`assert_no_leak`] are the reusable part: point them
//! at every directory a command may write to (data dir with store and logs,
//! HOME) plus the captured stdout/stderr of each command, and they report
//! every place the sentinel appears, raw or hex-encoded.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use soc_tui::secrets::{Credential, Keychain, Resolver, Secret, SecretOrigin, SecretsError};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_soc-tui");
const SENTINEL: &str = "SENTINEL-5f1d3a9e-leak-canary-7c21";

// ---------------------------------------------------------------------------
// Reusable scan

/// Where the sentinel was found.
#[derive(Debug, Default)]
pub struct LeakScan {
    pub files_scanned: usize,
    pub bytes_scanned: usize,
    /// "file path" or "stdout of <label>", with the encoding that matched.
    pub hits: Vec<String>,
}

/// Looks for `sentinel` (raw, lowercase hex, uppercase hex) in every file under
/// each of `dirs`, recursively, and in each labelled output buffer.
pub fn scan_for_sentinel(sentinel: &str, dirs: &[&Path], outputs: &[(&str, &[u8])]) -> LeakScan {
    let needles = [
        ("raw", sentinel.as_bytes().to_vec()),
        ("hex", hex::encode(sentinel).into_bytes()),
        ("HEX", hex::encode_upper(sentinel).into_bytes()),
    ];
    let mut scan = LeakScan::default();
    let check = |place: String, bytes: &[u8], scan: &mut LeakScan| {
        scan.bytes_scanned += bytes.len();
        for (encoding, needle) in &needles {
            if bytes
                .windows(needle.len())
                .any(|window| window == needle.as_slice())
            {
                scan.hits.push(format!("{place} ({encoding})"));
            }
        }
    };
    for dir in dirs {
        for file in files_under(dir) {
            let bytes = std::fs::read(&file)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", file.display()));
            scan.files_scanned += 1;
            check(file.display().to_string(), &bytes, &mut scan);
        }
    }
    for (label, bytes) in outputs {
        check((*label).to_owned(), bytes, &mut scan);
    }
    scan
}

/// Panics with every hit when the sentinel appears anywhere scanned.
pub fn assert_no_leak(sentinel: &str, dirs: &[&Path], outputs: &[(&str, &[u8])]) -> LeakScan {
    let scan = scan_for_sentinel(sentinel, dirs, outputs);
    assert!(scan.hits.is_empty(), "secret leaked into: {:#?}", scan.hits);
    scan
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_scanner_finds_planted_sentinels() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("logs/deep");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(nested.join("soc-tui.log"), format!("token={SENTINEL}\n")).unwrap();
    std::fs::write(dir.path().join("store.db"), hex::encode(SENTINEL)).unwrap();
    std::fs::write(dir.path().join("clean.txt"), "nothing here").unwrap();
    let stderr = format!("error: {SENTINEL}");

    let scan = scan_for_sentinel(
        SENTINEL,
        &[dir.path()],
        &[("stdout of x", b"fine"), ("stderr of x", stderr.as_bytes())],
    );
    assert_eq!(scan.files_scanned, 3);
    assert_eq!(scan.hits.len(), 3, "{:#?}", scan.hits);
    assert!(
        scan.hits
            .iter()
            .any(|h| h.contains("soc-tui.log") && h.ends_with("(raw)"))
    );
    assert!(
        scan.hits
            .iter()
            .any(|h| h.contains("store.db") && h.ends_with("(hex)"))
    );
    assert!(scan.hits.iter().any(|h| h == "stderr of x (raw)"));
}

// ---------------------------------------------------------------------------
// The real binary

/// A throwaway HOME and data dir; no D-Bus session, so no keychain.
struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        std::fs::create_dir_all(root.path().join("runtime")).unwrap();
        Sandbox { root }
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Runs `soc-tui --data-dir <data> <args>` with the sentinel in the
    /// environment of several credentials and `stdin` piped in.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_RUNTIME_DIR", self.root.path().join("runtime"))
            .env("SOC_TUI_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .env("SOC_TUI_CLOUDFLARE_TOKEN", SENTINEL)
            .env("SOC_TUI_DATADOG_API_KEY", SENTINEL)
            .env("SOC_TUI_WEBHOOK_SECRET", SENTINEL)
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        // A command that never reads stdin may exit before the write: a
        // broken pipe then is expected, not a failure.
        if let Err(err) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        }
        child.wait_with_output().unwrap()
    }
}

#[test]
fn auth_commands_never_print_or_write_the_secret() {
    let sandbox = Sandbox::new();
    let with_sentinel = format!("{SENTINEL}\n");
    let runs: Vec<(&str, Vec<&str>, &str, bool)> = vec![
        ("auth status", vec!["auth", "status"], "", true),
        (
            "auth status --json",
            vec!["auth", "status", "--json"],
            "",
            true,
        ),
        // Fail: no keychain here. The value sits on stdin the whole time.
        (
            "auth set --stdin",
            vec!["auth", "set", "cloudflare", "--stdin"],
            &with_sentinel,
            false,
        ),
        (
            "auth set (prompt, no tty)",
            vec!["auth", "set", "webhook-secret"],
            &with_sentinel,
            false,
        ),
        (
            "auth set unknown name",
            vec!["auth", "set", "not-a-credential", "--stdin"],
            &with_sentinel,
            false,
        ),
        (
            "auth delete",
            vec!["auth", "delete", "cloudflare"],
            "",
            false,
        ),
    ];

    let mut captured: Vec<(String, Vec<u8>)> = Vec::new();
    for (label, args, stdin, should_succeed) in &runs {
        let output = sandbox.run(args, stdin);
        assert_eq!(
            output.status.success(),
            *should_succeed,
            "{label}: {output:?}"
        );
        captured.push((format!("stdout of {label}"), output.stdout));
        captured.push((format!("stderr of {label}"), output.stderr));
    }

    // The status runs really read the sentinel: they report it as coming from env.
    let table = String::from_utf8_lossy(&captured[0].1);
    let row = table
        .lines()
        .find(|line| line.starts_with("cloudflare "))
        .unwrap_or_else(|| panic!("no cloudflare row in {table}"));
    assert!(row.ends_with("env"), "{row}");
    let json: serde_json::Value = serde_json::from_slice(&captured[2].1).unwrap();
    let webhook = json["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == "webhook-secret")
        .unwrap();
    assert_eq!(webhook["origin"], "env", "{json}");

    let outputs: Vec<(&str, &[u8])> = captured
        .iter()
        .map(|(label, bytes)| (label.as_str(), bytes.as_slice()))
        .collect();
    let scan = assert_no_leak(
        SENTINEL,
        &[sandbox.data_dir().as_path(), sandbox.home().as_path()],
        &outputs,
    );
    eprintln!(
        "scanned {} files and {} bytes in total",
        scan.files_scanned, scan.bytes_scanned
    );
    // The commands log at trace level into the data dir: an empty scan would
    // prove nothing.
    assert!(
        sandbox.data_dir().join("logs/soc-tui.log").is_file(),
        "no log file was written"
    );
    assert!(scan.files_scanned >= 1, "{scan:?}");
}

// ---------------------------------------------------------------------------
// In process: tracing at TRACE level and Debug output

/// Holds values in memory, like a keychain that works.
struct MemoryKeychain {
    value: String,
}

impl Keychain for MemoryKeychain {
    fn backend(&self) -> &'static str {
        "memory"
    }
    fn availability(&self) -> Result<(), String> {
        Ok(())
    }
    fn read(&self, _credential: Credential) -> Result<Option<Secret>, SecretsError> {
        Ok(Some(Secret::new(self.value.clone())))
    }
    fn write(&self, _credential: Credential, _secret: &Secret) -> Result<(), SecretsError> {
        Ok(())
    }
    fn delete(&self, _credential: Credential) -> Result<bool, SecretsError> {
        Ok(true)
    }
}

#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_logs_of_lookup_and_status_hold_names_not_values() {
    let log = SharedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();

    let keychain = MemoryKeychain {
        value: SENTINEL.to_owned(),
    };
    let env = |name: &str| (name == "SOC_TUI_CLOUDFLARE_TOKEN").then(|| OsString::from(SENTINEL));
    let mut shown = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let resolver = Resolver::new(&env, &keychain);
        for credential in Credential::ALL {
            let resolved = resolver.resolve(credential);
            shown.push_str(&format!("{resolved:?}\n"));
            let (secret, _) = resolved.unwrap().unwrap();
            assert_eq!(secret.expose(), SENTINEL);
        }
        shown.push_str(&format!("{:?}\n", resolver.status()));
    });

    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    // Logging really happened at trace level, with names and origins...
    assert!(log.contains("credential resolved"), "{log}");
    assert!(log.contains("cloudflare"), "{log}");
    assert!(log.contains("SOC_TUI_CLOUDFLARE_TOKEN"), "{log}");
    assert!(log.contains("keychain"), "{log}");
    // ...and neither the log nor the Debug output of results holds the value.
    assert_no_leak(
        SENTINEL,
        &[],
        &[
            ("trace log", log.as_bytes()),
            ("Debug of results", shown.as_bytes()),
        ],
    );
}

#[test]
fn debug_and_display_of_a_secret_are_redacted() {
    let secret = Secret::new(SENTINEL.to_owned());
    let pair = (Secret::new(SENTINEL.to_owned()), SecretOrigin::Keychain);
    let rendered = [
        format!("{secret:?}"),
        format!("{secret:#?}"),
        format!("{secret}"),
        format!("{pair:?}"),
        format!("{:?}", Some(&secret)),
        format!("{:?}", Ok::<_, SecretsError>(Some(pair))),
    ];
    for text in &rendered {
        assert!(!text.contains(SENTINEL), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    assert_eq!(secret.expose(), SENTINEL);
}
