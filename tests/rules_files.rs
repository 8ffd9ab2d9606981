//! Rules files: every kind of bad file in `tests/invalid_rules/` fails with
//! its expected message at its expected line, and the `rules` subcommands
//! behave as documented on real files.
//!
//! Each invalid file starts with `# expect: <substring of the error>` and
//! `# line: <line the error must point at>`.

use std::path::{Path, PathBuf};
use std::process::Command;

use soc_tui::detect::rules::{DEFAULT_RULES, Origin, RulesError, parse};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_rules")
}

struct Case {
    name: String,
    text: String,
    expect: String,
    line: usize,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(invalid_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines = text.lines();
            let header = |l: Option<&str>, tag: &str| {
                l.and_then(|l| l.strip_prefix(tag))
                    .unwrap_or_else(|| panic!("{}: missing `{tag}` header", path.display()))
                    .trim()
                    .to_string()
            };
            let expect = header(lines.next(), "# expect:");
            let line = header(lines.next(), "# line:").parse().unwrap();
            Case {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                text,
                expect,
                line,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn every_invalid_rules_file_fails_with_its_message_and_line() {
    let cases = cases();
    assert!(
        cases.len() >= 30,
        "only {} invalid rules files",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        match parse(Some((&case.name, &case.text))) {
            Ok(_) => failures.push(format!("{}: loaded without error", case.name)),
            Err(err) => {
                let shown = err.to_string();
                let loc = err.location().expect("invalid documents carry a location");
                if !shown.contains(&case.expect) {
                    failures.push(format!(
                        "{}: error {shown:?} does not contain {:?}",
                        case.name, case.expect
                    ));
                }
                if loc.file != case.name {
                    failures.push(format!("{}: error names file {:?}", case.name, loc.file));
                }
                if loc.line != Some(case.line) {
                    failures.push(format!(
                        "{}: error at line {:?}, expected {} ({shown})",
                        case.name, loc.line, case.line
                    ));
                }
                if !shown.starts_with(&format!("{}:{}:", case.name, case.line)) {
                    failures.push(format!(
                        "{}: message does not start with file:line: {shown}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn value_errors_name_the_key() {
    let err = parse(Some((
        "r.toml",
        "[baseline.cold_start]\nabsolute_threshold = 0\n",
    )))
    .unwrap_err();
    assert_eq!(
        err.location().and_then(|l| l.key.as_deref()),
        Some("baseline.cold_start.absolute_threshold")
    );
    let err = parse(Some((
        "r.toml",
        "[[suppressions]]\nactor = \"a\"\nrule = \"nope\"\nuntil = 2030-01-01T00:00:00Z\nreason = \"r\"\n",
    )))
    .unwrap_err();
    assert_eq!(
        err.to_string().split(": rule pattern").next(),
        Some("r.toml:3:1: key `suppressions[0].rule`")
    );
}

#[test]
fn defaults_alone_and_an_empty_user_file_are_valid() {
    let defaults = parse(None).unwrap();
    let empty = parse(Some(("empty.toml", "# nothing to change\n"))).unwrap();
    assert_eq!(defaults.rules, empty.rules);
    assert!(empty.origins.values().all(|o| *o == Origin::Defaults));
    assert!(DEFAULT_RULES.contains("[burst.actions.role_grant]"));
}

#[test]
fn user_additions_merge_with_defaults() {
    let user = r#"
[burst.actions.dashboard_delete]
description = "Dashboards deleted"
evt_name = ["Dashboard"]
asset_type = ["dashboard"]
action = ["deleted"]
threshold = 5
severity = "low"

[burst.actions.monitor_delete]
enabled = false
"#;
    let loaded = parse(Some(("user.toml", user))).unwrap();
    let actions = &loaded.rules.burst.actions;
    let get = |n: &str| {
        actions
            .iter()
            .find(|(k, _)| k.as_str() == n)
            .map(|(_, v)| v)
            .unwrap()
    };
    assert_eq!(actions.len(), 10);
    assert_eq!(get("dashboard_delete").threshold.get(), 5);
    assert!(!get("monitor_delete").enabled);
    assert_eq!(
        get("monitor_delete").threshold.get(),
        1,
        "other keys keep their defaults"
    );
    assert_eq!(loaded.origins["burst"], Origin::Merged);
}

// ------------------------------------------------- the `rules` subcommands

fn soc_tui(config_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .arg("--config")
        .arg(config_dir.join("config.toml"))
        .arg("--data-dir")
        .arg(config_dir.join("data"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn rules_check_and_show_on_real_files() {
    let dir = tempfile::tempdir().unwrap();

    // No user file: defaults.
    let out = soc_tui(dir.path(), &["rules", "check"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("ok: built-in defaults (no rules.toml in "),
        "{stdout}"
    );
    assert!(
        stdout.contains("burst: 5-minute window, 9 actions (9 enabled)"),
        "{stdout}"
    );

    // A user file that changes one key.
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[baseline]\nvolume_factor = 8.0\n").unwrap();
    let out = soc_tui(dir.path(), &["rules", "check"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!("built-in defaults + {}", rules.display())),
        "{stdout}"
    );
    assert!(stdout.contains("x8 factor"), "{stdout}");

    let out = soc_tui(dir.path(), &["rules", "show"]);
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("# [baseline] from: built-in defaults, overridden in part by the user file\n[baseline]\nwindow_days = 30\nvolume_factor = 8.0\n"), "{shown}");
    assert!(
        shown.contains("# [tokens] from: built-in defaults\n"),
        "{shown}"
    );
    // What `show` prints is itself a valid, complete rules file.
    let reparsed = parse(Some(("shown.toml", &shown))).unwrap();
    assert_eq!(reparsed.rules.baseline.volume_factor.get(), 8.0);

    let out = soc_tui(dir.path(), &["rules", "show", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["origins"]["baseline"], "merged");
    assert_eq!(doc["rules"]["baseline"]["volume_factor"], 8.0);
    assert_eq!(doc["user_file"], rules.display().to_string());

    // A bad user file: non-zero exit, the error names file, line and key.
    std::fs::write(&rules, "[baseline]\n\nvolume_factor = 0.5\n").unwrap();
    for args in [&["rules", "check"][..], &["rules", "show"][..]] {
        let out = soc_tui(dir.path(), args);
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr.trim_end(),
            format!(
                "error: {}:3:17: key `baseline.volume_factor`: factor must be a number greater than 1 (got 0.5)",
                rules.display()
            )
        );
    }
}

#[test]
fn an_unreadable_rules_file_is_an_error_not_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: reading it fails with something other than NotFound.
    std::fs::create_dir(dir.path().join("rules.toml")).unwrap();
    let err = soc_tui::detect::rules::load_file(Some(&dir.path().join("rules.toml"))).unwrap_err();
    assert!(matches!(err, RulesError::Read { .. }), "{err}");
    assert!(
        err.to_string().starts_with("cannot read rules file "),
        "{err}"
    );
}
