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

fn soc_tui_with_env(config: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("SOC_TUI_CONFIG")
        .env("SOC_TUI_DATA", config.with_file_name("data"))
        // No keychain for `show --effective` to reach: it reports where each
        // credential comes from, and the machine's own keychain is not ours.
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/soc-tui-test-bus",
        )
        .envs(vars.iter().copied())
        .output()
        .expect("running soc-tui")
}

/// `config show --effective` through the real binary: a default, a value
/// from the file (with its line), one from a SOC_TUI__ variable, a prompt
/// override and a credential's source, never its value.
#[test]
fn show_effective_gives_each_setting_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "# mine\n[http]\nrequest_timeout = \"45s\"\n\n[cloudflare.action_kinds]\nruleset_deploy = \"update\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("prompts")).unwrap();
    let user_prompt = dir.path().join("prompts/investigator_user.md");
    std::fs::write(&user_prompt, "{{console_findings}}\n{{audit_events}}\n").unwrap();
    let vars = [
        ("SOC_TUI__DATADOG__SITE", "datadoghq.eu"),
        ("SOC_TUI__OUTBOX__MAX_ATTEMPTS", "7"),
        ("SOC_TUI_LINEAR_API_KEY", "lin_api_SENTINEL_not_a_real_key"),
    ];

    let out = soc_tui_with_env(&config, &["config", "show", "--effective", "--json"], &vars);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("SENTINEL"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let setting = |key: &str| {
        doc["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("{key} not listed in {text}"))
            .clone()
    };
    let shown = config.display();
    assert_eq!(setting("http.request_timeout")["value"], "45s");
    assert_eq!(
        setting("http.request_timeout")["origin"],
        format!("file:{shown}:3")
    );
    assert_eq!(
        setting("cloudflare.action_kinds.ruleset_deploy")["origin"],
        format!("file:{shown}:6")
    );
    assert_eq!(
        setting("cloudflare.action_kinds.token_create")["origin"],
        "default"
    );
    assert_eq!(setting("datadog.site")["value"], "datadoghq.eu");
    assert_eq!(
        setting("datadog.site")["origin"],
        "env:SOC_TUI__DATADOG__SITE"
    );
    assert_eq!(setting("outbox.max_attempts")["value"], 7);
    assert_eq!(
        setting("outbox.max_attempts")["origin"],
        "env:SOC_TUI__OUTBOX__MAX_ATTEMPTS"
    );
    assert_eq!(setting("outbox.concurrency")["origin"], "default");
    assert_eq!(setting("http.connect_timeout")["origin"], "default");

    let prompt = |name: &str| {
        doc["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["origin"]
            .clone()
    };
    assert_eq!(
        prompt("investigator_user.md"),
        format!("file:{}", user_prompt.display())
    );
    assert_eq!(prompt("investigator_system.md"), "default");
    assert_eq!(doc["rules"]["origin"], "default");
    let linear = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "linear")
        .unwrap()
        .clone();
    assert_eq!(linear["origin"], "env:SOC_TUI_LINEAR_API_KEY");

    // The text form says the same, one `key = value  # origin` line each.
    let out = soc_tui_with_env(&config, &["config", "show", "--effective"], &vars);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("SENTINEL"), "{text}");
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line in {text}"))
            .to_owned()
    };
    assert!(line("datadog.site = \"datadoghq.eu\"").ends_with("# env:SOC_TUI__DATADOG__SITE"));
    assert!(line("http.request_timeout = \"45s\"").ends_with(&format!("# file:{shown}:3")));
    assert!(line("outbox.concurrency = 4").ends_with("# default"));

    // Without --effective only what the file and the environment set.
    let out = soc_tui_with_env(&config, &["config", "show"], &vars);
    let text = stdout(&out);
    assert!(text.contains("datadog.site = \"datadoghq.eu\""), "{text}");
    assert!(!text.contains("outbox.concurrency"), "{text}");
}

#[test]
fn a_bad_environment_value_is_reported_by_its_variable_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[http]\nmax_retries = 1\n").unwrap();
    let out = soc_tui_with_env(
        &config,
        &["config", "check"],
        &[("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(
            "config error in environment variable SOC_TUI__HTTP__REQUEST_TIMEOUT: \
             key `http.request_timeout`: bad duration"
        ),
        "{err}"
    );
    assert!(!err.contains(" line "), "{err}");

    let ok = soc_tui_with_env(
        &config,
        &["config", "check"],
        &[("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45s")],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("SOC_TUI__HTTP__REQUEST_TIMEOUT sets http.request_timeout"),
        "{}",
        stdout(&ok)
    );
}

#[test]
fn config_prompts_lists_writes_and_checks_the_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let listed = soc_tui(&config, &["config", "prompts"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains("investigator_system.md         default"),
        "{}",
        stdout(&listed)
    );

    let written = soc_tui(&config, &["config", "prompts", "--write-defaults"]);
    assert!(written.status.success(), "{}", stderr(&written));
    let user = dir.path().join("prompts/investigator_user.md");
    assert!(stdout(&written).contains(&format!("wrote {}", user.display())));
    std::fs::write(&user, "mine, without placeholders").unwrap();
    let again = soc_tui(&config, &["config", "prompts", "--write-defaults"]);
    assert!(
        stdout(&again).contains(&format!("kept {} (it exists)", user.display())),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&user).unwrap(),
        "mine, without placeholders"
    );
    assert!(!again.status.success());
    let err = stderr(&again);
    assert!(err.contains(&user.display().to_string()), "{err}");
    assert!(err.contains("{{console_findings}} is missing"), "{err}");
    let check = soc_tui(&config, &["config", "check"]);
    assert!(!check.status.success());
    assert!(stderr(&check).contains("{{console_findings}} is missing"));
}

/// `soc-tui config show --effective | head -1`: the reader leaves early, and
/// the command ends as Unix tools do (SIGPIPE), not with a panic.
#[cfg(unix)]
#[test]
fn a_reader_that_leaves_early_does_not_make_the_command_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .args(["config", "show", "--effective"])
        .env("SOC_TUI_CONFIG", &config)
        .env("SOC_TUI_DATA", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end before the command writes makes its first write fail.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "ended by SIGPIPE: {:?} {stderr}",
        output.status
    );
}
