//! Config files end to end: every bad config in `tests/invalid_configs/` is
//! rejected with the expected message at the expected line, and the real
//! binary's `config init` / `check` / `path` behave as documented.
//!
//! Each file in `tests/invalid_configs/` starts with
//! `# expect: <substring of the error>`, then `# line: <N>`, then optionally
//! `# key: <dotted key the error must name>`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use soc_tui::config::{Config, EXAMPLE_CONFIG};

struct Case {
    path: PathBuf,
    text: String,
    expect: String,
    line: usize,
    key: Option<String>,
}

fn header<'a>(lines: &mut impl Iterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    lines.next()?.strip_prefix(&format!("# {name}: "))
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines = text.lines();
            let name = path.display();
            let expect = header(&mut lines, "expect")
                .unwrap_or_else(|| panic!("{name}: line 1 must be `# expect: <substring>`"))
                .to_owned();
            let line = header(&mut lines, "line")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}: line 2 must be `# line: <number>`"));
            let key = header(&mut lines, "key").map(str::to_owned);
            Case {
                path,
                text,
                expect,
                line,
                key,
            }
        })
        .collect()
}

#[test]
fn every_invalid_config_is_rejected_with_its_message_line_and_key() {
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "only {} invalid configs found",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.path.display().to_string();
        let err = match Config::from_toml_str(&case.text, &name) {
            Ok(_) => {
                failures.push(format!("{name}: accepted, expected an error"));
                continue;
            }
            Err(err) => err,
        };
        let message = err.to_string();
        let line = err.location().map(|location| location.line);
        if !message.contains(&case.expect) {
            failures.push(format!(
                "{name}: message lacks {:?}\n    got: {message}",
                case.expect
            ));
        }
        if line != Some(case.line) || !message.contains(&format!(" line {}, column ", case.line)) {
            failures.push(format!(
                "{name}: expected line {}, got {line:?}\n    got: {message}",
                case.line
            ));
        }
        if !message.starts_with(&format!("config error in {name} line ")) {
            failures.push(format!(
                "{name}: message does not start with the file and line\n    got: {message}"
            ));
        }
        if let Some(key) = &case.key
            && (err.key() != Some(key.as_str()) || !message.contains(&format!("key `{key}`: ")))
        {
            failures.push(format!(
                "{name}: expected key `{key}`, got {:?}\n    got: {message}",
                err.key()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn secrets_in_invalid_configs_are_never_echoed() {
    for case in load_cases() {
        let Err(err) = Config::from_toml_str(&case.text, "x.toml") else {
            continue;
        };
        for secret in [
            "hunter2",
            "Y2xvdWRmbGFyZS10b2tlbi1ub3QtcmVhbA",
            "sk-not-a-real-key",
            "not-a-real-secret",
        ] {
            assert!(
                !err.to_string().contains(secret),
                "{}: {err}",
                case.path.display()
            );
        }
    }
}

fn soc_tui(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("SOC_TUI_CONFIG")
        .env("SOC_TUI_DATA", config.with_file_name("data"))
        .output()
        .expect("running soc-tui")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn init_writes_a_private_example_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nested/dir/config.toml");
    let shown = config.display().to_string();

    let missing = soc_tui(&config, &["config", "check"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains(&format!("config file {shown} does not exist")),
        "{}",
        stderr(&missing)
    );
    assert!(
        stderr(&missing).contains("soc-tui config init"),
        "{}",
        stderr(&missing)
    );

    let init = soc_tui(&config, &["config", "init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(stdout(&init).contains(&shown), "{}", stdout(&init));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), EXAMPLE_CONFIG);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    let check = soc_tui(&config, &["config", "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let out = stdout(&check);
    assert!(out.starts_with(&format!("ok: {shown}\n")), "{out}");
    assert!(out.contains("cloudflare  not configured"), "{out}");
    assert!(out.contains("agents      built-in heuristic"), "{out}");

    let path = soc_tui(&config, &["config", "path"]);
    assert!(path.status.success());
    assert_eq!(stdout(&path).trim_end(), shown);
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[analyst]\nname = \"alice\"\n").unwrap();

    let refused = soc_tui(&config, &["config", "init"]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!("config file {} already exists", config.display())),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[analyst]\nname = \"alice\"\n"
    );

    let forced = soc_tui(&config, &["config", "init", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), EXAMPLE_CONFIG);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["config.toml"]);
}

#[test]
fn check_accepts_an_empty_file_and_rejects_a_bad_one_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");

    std::fs::write(&config, "").unwrap();
    let empty = soc_tui(&config, &["config", "check"]);
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert!(stdout(&empty).starts_with("ok: "), "{}", stdout(&empty));

    std::fs::write(&config, "[checks]\nbursts_cadence = \"0s\"\n").unwrap();
    let bad = soc_tui(&config, &["config", "check"]);
    assert!(!bad.status.success());
    assert!(stdout(&bad).is_empty(), "{}", stdout(&bad));
    let err = stderr(&bad);
    assert!(
        err.contains(&format!(
            "config error in {} line 2, column 1: key `checks.bursts_cadence`: must be greater than zero",
            config.display()
        )),
        "{err}"
    );
}
