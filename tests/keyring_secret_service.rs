//! `soc-tui auth` against a real Secret Service, and without one.
//!
//! The Secret Service test starts its own private session bus with
//! `dbus-run-session`, unlocks a fresh `gnome-keyring-daemon` in a throwaway
//! HOME, and drives the real binary from a shell script inside that session.
//! `secret-tool` (libsecret) then reads the item independently, proving it
//! lives in the Secret Service and nowhere else. Debian packages:
//! `dbus gnome-keyring libsecret-tools`. Missing tools skip the test, except
//! under `CI=true`, where they fail it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_soc-tui");
const TOOLS: [&str; 3] = ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"];
const SESSION_TIMEOUT: Duration = Duration::from_secs(120);

const FIRST_VALUE: &str = "SENTINEL-kr-first-4b1e9c2d7a";
const SECOND_VALUE: &str = "SENTINEL-kr-second-93f0a6e1c5 with spaces";
const ENV_VALUE: &str = "SENTINEL-kr-env-0c7d52b8e4";

/// Runs inside the private D-Bus session. Each `step` records one command's
/// stdout, stderr and exit code under `$OUT/<name>.*` for the test to check.
const SESSION_SCRIPT: &str = r#"
set -u
step() {
    name="$1"; shift
    "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
    echo $? >"$OUT/$name.rc"
}
soc() { "$SOC_TUI_BIN" --data-dir "$SOC_DATA" "$@"; }

printf '%s\n' "$KEYRING_PASSWORD" \
    | gnome-keyring-daemon --unlock --components=secrets >"$OUT/daemon.stdout" 2>"$OUT/daemon.stderr" \
    || { echo "gnome-keyring-daemon --unlock failed" >&2; exit 90; }

step status_before       soc auth status --json
step set_without_tty     soc auth set cloudflare </dev/null
cp -R "$XDG_DATA_HOME/keyrings" "$OUT/keyrings-before-set"
step set_first           soc auth set cloudflare --stdin <"$IN/first"
cp -R "$XDG_DATA_HOME/keyrings" "$OUT/keyrings-after-set"
step status_stored       soc auth status --json
step status_table        soc auth status
step lookup_first        secret-tool lookup service soc-tui username cloudflare
step search_first        secret-tool search --all service soc-tui
SOC_TUI_CLOUDFLARE_TOKEN="$(cat "$IN/env")" step status_env_wins soc auth status --json
step set_second          soc auth set cloudflare --stdin <"$IN/second"
step lookup_second       secret-tool lookup service soc-tui username cloudflare
step search_second       secret-tool search --all service soc-tui
step set_empty           soc auth set cloudflare --stdin <"$IN/empty"
step lookup_after_empty  secret-tool lookup service soc-tui username cloudflare
step delete              soc auth delete cloudflare
step status_deleted      soc auth status --json
step search_deleted      secret-tool search --all service soc-tui
step delete_again        soc auth delete cloudflare
exit 0
"#;

/// Steps whose output comes from soc-tui (secret-tool output shows the value on purpose).
const SOC_STEPS: [&str; 11] = [
    "status_before",
    "set_without_tty",
    "set_first",
    "status_stored",
    "status_table",
    "status_env_wins",
    "set_second",
    "set_empty",
    "delete",
    "status_deleted",
    "delete_again",
];

#[test]
fn auth_commands_store_read_and_delete_through_a_real_secret_service() {
    let missing: Vec<_> = TOOLS.into_iter().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        skip_or_fail(&format!(
            "{} not found; install the Debian packages dbus gnome-keyring libsecret-tools",
            missing.join(", ")
        ));
        return;
    }

    let sandbox = Sandbox::new();
    let input = sandbox.root.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("first"), format!("{FIRST_VALUE}\n")).unwrap();
    std::fs::write(input.join("second"), format!("{SECOND_VALUE}\r\n")).unwrap();
    std::fs::write(input.join("empty"), "\n").unwrap();
    std::fs::write(input.join("env"), ENV_VALUE).unwrap();

    let mut session = sandbox.command("dbus-run-session");
    session
        .args(["--", "sh", "-c", SESSION_SCRIPT])
        .env("SOC_TUI_BIN", BIN)
        .env("SOC_DATA", sandbox.data_dir())
        .env("IN", &input)
        .env("OUT", sandbox.out_dir())
        .env("KEYRING_PASSWORD", "soc-tui-test-keyring-password");
    let (code, stderr) = run_with_timeout(session, SESSION_TIMEOUT);
    assert_eq!(code, Some(0), "session script failed: {stderr}");

    let steps = sandbox.read_steps();
    let step = |name: &str| {
        steps
            .get(name)
            .unwrap_or_else(|| panic!("step {name} did not run; session stderr: {stderr}"))
    };

    let before = step("status_before").ok_json();
    assert_eq!(before["keychain"]["available"], true, "{before}");
    assert_eq!(origin_of(&before, "cloudflare"), "missing");

    let no_tty = step("set_without_tty");
    assert_ne!(
        no_tty.rc, 0,
        "prompting without a terminal must fail: {no_tty:?}"
    );
    assert!(no_tty.stderr.contains("pass --stdin"), "{no_tty:?}");

    let set_first = step("set_first").ok();
    assert!(
        set_first.stdout.contains("stored cloudflare"),
        "{set_first:?}"
    );

    let stored = step("status_stored").ok_json();
    assert_eq!(origin_of(&stored, "cloudflare"), "keychain");
    assert_eq!(origin_of(&stored, "datadog-api-key"), "missing");

    let table = step("status_table").ok();
    assert!(
        table
            .stdout
            .contains("keychain: available (Secret Service)"),
        "{table:?}"
    );
    let row = table
        .stdout
        .lines()
        .find(|line| line.starts_with("cloudflare "))
        .unwrap_or_else(|| panic!("no cloudflare row: {table:?}"));
    assert!(
        row.contains("SOC_TUI_CLOUDFLARE_TOKEN") && row.ends_with("keychain"),
        "{row}"
    );

    // libsecret reads back exactly what was piped in, minus the newline.
    assert_eq!(step("lookup_first").ok().stdout, FIRST_VALUE);
    let search = step("search_first").ok().combined();
    assert_eq!(
        search.matches("attribute.username = cloudflare").count(),
        1,
        "{search}"
    );
    assert!(search.contains("attribute.service = soc-tui"), "{search}");

    let env_wins = step("status_env_wins").ok_json();
    assert_eq!(origin_of(&env_wins, "cloudflare"), "env");

    // Overwriting replaces the item instead of adding a second one; CRLF is stripped.
    step("set_second").ok();
    assert_eq!(step("lookup_second").ok().stdout, SECOND_VALUE);
    let search = step("search_second").ok().combined();
    assert_eq!(
        search.matches("attribute.username = cloudflare").count(),
        1,
        "{search}"
    );

    let empty = step("set_empty");
    assert_ne!(empty.rc, 0, "empty input must be refused: {empty:?}");
    assert!(empty.stderr.contains("empty"), "{empty:?}");
    assert_eq!(step("lookup_after_empty").ok().stdout, SECOND_VALUE);

    let deleted = step("delete").ok();
    assert!(deleted.stdout.contains("deleted cloudflare"), "{deleted:?}");
    assert_eq!(
        origin_of(&step("status_deleted").ok_json(), "cloudflare"),
        "missing"
    );
    let search = step("search_deleted").combined();
    assert!(
        !search.contains("soc-tui"),
        "item survived delete: {search}"
    );
    let again = step("delete_again").ok();
    assert!(again.stdout.contains("nothing deleted"), "{again:?}");

    // The item reached the keyring file on disk, yet that file holds no plaintext.
    let keyring_len = |dir: &str| {
        std::fs::metadata(sandbox.out_dir().join(dir).join("login.keyring")).map_or(0, |m| m.len())
    };
    let after_set = sandbox.out_dir().join("keyrings-after-set");
    assert!(
        keyring_len("keyrings-after-set") > keyring_len("keyrings-before-set"),
        "login.keyring did not grow when the item was stored"
    );
    let mut scanned = files_under(&after_set);
    scanned.extend(files_under(&sandbox.home()));
    for name in SOC_STEPS {
        scanned.push(sandbox.out_dir().join(format!("{name}.stdout")));
        scanned.push(sandbox.out_dir().join(format!("{name}.stderr")));
    }
    for value in [FIRST_VALUE, SECOND_VALUE, ENV_VALUE] {
        for file in &scanned {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                !contains(&bytes, value.as_bytes()),
                "{value:?} found in plain text in {}",
                file.display()
            );
        }
    }
}

#[test]
fn without_a_secret_service_auth_names_the_env_var_instead() {
    let sandbox = Sandbox::new();

    let status = sandbox.soc(&["auth", "status", "--json"], None);
    assert_eq!(status.rc, 0, "{status:?}");
    let json: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["keychain"]["available"], false, "{json}");
    assert!(
        json["keychain"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Secret Service")),
        "{json}"
    );

    let table = sandbox.soc(&["auth", "status"], None);
    assert!(table.stdout.contains("keychain: unavailable"), "{table:?}");
    assert!(
        table.stdout.contains("environment variables above"),
        "{table:?}"
    );

    let set = sandbox.soc(
        &["auth", "set", "datadog-app-key", "--stdin"],
        Some("some-value\n"),
    );
    assert_ne!(set.rc, 0, "{set:?}");
    assert!(
        set.stderr.contains("no OS keychain is reachable"),
        "{set:?}"
    );
    assert!(set.stderr.contains("SOC_TUI_DATADOG_APP_KEY"), "{set:?}");
    assert!(!set.stderr.contains("some-value") && !set.stdout.contains("some-value"));

    let delete = sandbox.soc(&["auth", "delete", "linear"], None);
    assert_ne!(delete.rc, 0, "{delete:?}");
    assert!(
        delete.stderr.contains("SOC_TUI_LINEAR_API_KEY"),
        "{delete:?}"
    );

    let mut env_only = sandbox.command(BIN);
    env_only
        .args(["--data-dir"])
        .arg(sandbox.data_dir())
        .args(["auth", "status", "--json"])
        .env("SOC_TUI_LINEAR_API_KEY", "from-env");
    let output = env_only.output().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(origin_of(&json, "linear"), "env", "{json}");
    assert_eq!(origin_of(&json, "cloudflare"), "missing", "{json}");
}

#[test]
fn set_checks_the_keychain_before_asking_for_a_value() {
    let sandbox = Sandbox::new();
    // The keychain is checked first, so nobody types a secret that cannot be stored.
    let set = sandbox.soc(&["auth", "set", "cloudflare"], Some("typed\n"));
    assert_ne!(set.rc, 0, "{set:?}");
    assert!(set.stderr.contains("SOC_TUI_CLOUDFLARE_TOKEN"), "{set:?}");
}

// ---------------------------------------------------------------------------

/// A throwaway HOME with its own XDG dirs, so runs never touch the user's
/// keyring or each other. No D-Bus address is inherited.
struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        let sandbox = Sandbox { root };
        for dir in ["home/.local/share", "home/.config", "home/.cache", "out"] {
            std::fs::create_dir_all(sandbox.root.path().join(dir)).unwrap();
        }
        let runtime = sandbox.runtime_dir();
        std::fs::create_dir_all(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        sandbox
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn runtime_dir(&self) -> PathBuf {
        self.root.path().join("runtime")
    }

    fn data_dir(&self) -> PathBuf {
        self.home().join("soc-data")
    }

    fn out_dir(&self) -> PathBuf {
        self.root.path().join("out")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("LC_ALL", "C.UTF-8");
        command
    }

    /// Runs the binary outside any D-Bus session.
    fn soc(&self, args: &[&str], stdin: Option<&str>) -> Step {
        let mut command = self.command(BIN);
        command
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Step {
            rc: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn read_steps(&self) -> HashMap<String, Step> {
        let mut steps = HashMap::new();
        for entry in std::fs::read_dir(self.out_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rc") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let read = |ext: &str| {
                    std::fs::read_to_string(self.out_dir().join(format!("{name}.{ext}"))).unwrap()
                };
                let step = Step {
                    rc: read("rc").trim().parse().unwrap(),
                    stdout: read("stdout"),
                    stderr: read("stderr"),
                };
                steps.insert(name, step);
            }
        }
        steps
    }
}

#[derive(Debug)]
struct Step {
    rc: i32,
    stdout: String,
    stderr: String,
}

impl Step {
    fn ok(&self) -> &Step {
        assert_eq!(self.rc, 0, "command failed: {self:?}");
        self
    }

    fn ok_json(&self) -> Value {
        serde_json::from_str(&self.ok().stdout)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {self:?}"))
    }

    fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn origin_of(status: &Value, name: &str) -> String {
    status["credentials"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["name"] == name))
        .and_then(|row| row["origin"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .to_owned()
}

fn run_with_timeout(mut command: Command, limit: Duration) -> (Option<i32>, String) {
    let stderr_file = tempfile::NamedTempFile::new().unwrap();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file.reopen().unwrap());
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "D-Bus session did not finish within {limit:?}; stderr: {}",
                std::fs::read_to_string(stderr_file.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(stderr_file.path()).unwrap_or_default();
    (status.code(), stderr)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

fn skip_or_fail(reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason} (required when CI=true)");
    }
    eprintln!("skipping Secret Service test: {reason}");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
