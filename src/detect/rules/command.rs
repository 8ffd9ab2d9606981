//! `soc-tui rules check` and `soc-tui rules show`.

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;

use super::load::{LoadedRules, RULES_FILE_NAME, load};
use crate::paths::Paths;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the rules (built-in defaults plus your rules.toml) and print a summary.
    Check,
    /// Print the effective rules as TOML, saying where each section came from.
    Show {
        /// Print JSON instead: {"user_file", "origins", "rules"}.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: RulesCommand, paths: &Paths) -> anyhow::Result<()> {
    let loaded = load(paths)?;
    match cmd {
        RulesCommand::Check => println!("{}", check_summary(&loaded, paths)),
        RulesCommand::Show { json: false } => print!("{}", show_toml(&loaded, paths)?),
        RulesCommand::Show { json: true } => {
            let doc = show_json(&loaded)?;
            println!(
                "{}",
                crate::terminal_json::to_terminal_json(&doc).context("rendering rules as JSON")?
            );
        }
    }
    Ok(())
}

fn source_line(loaded: &LoadedRules, paths: &Paths) -> String {
    match &loaded.user_file {
        Some(path) => format!("built-in defaults + {}", path.display()),
        None => format!(
            "built-in defaults (no {} in {})",
            RULES_FILE_NAME,
            paths.config_dir.display()
        ),
    }
}

/// `ok: ...` and the counts an analyst would want to eyeball.
pub fn check_summary(loaded: &LoadedRules, paths: &Paths) -> String {
    let r = &loaded.rules;
    let now = Utc::now();
    let enabled = r.burst.actions.values().filter(|a| a.enabled).count();
    let expired = r
        .suppressions
        .iter()
        .filter(|s| s.until.get() <= now)
        .count();
    let mut out = format!(
        "ok: {}\n  baseline: {}-day window, x{} factor, floor {}, cold start {} below {} days\n  burst: {}-minute window, {} actions ({} enabled)\n  tokens: {} creation matchers, {} approved issuers\n  allow-lists: {}\n  suppressions: {} ({} expired)",
        source_line(loaded, paths),
        r.baseline.window_days.get(),
        r.baseline.volume_factor.get(),
        r.baseline.expected_floor.get(),
        r.baseline.cold_start.mode.as_str(),
        r.baseline.cold_start.min_history_days.get(),
        r.burst.window_minutes.get(),
        r.burst.actions.len(),
        enabled,
        r.tokens.creations.len(),
        r.tokens.approved_issuers.len(),
        r.allow.len(),
        r.suppressions.len(),
        expired,
    );
    if r.tokens.approved_issuers.is_empty() {
        out.push_str("\n  note: tokens.approved_issuers is empty, so every token creation gets a review ticket");
    }
    out
}

/// The effective rules as TOML, one top-level section at a time so each can
/// carry a comment naming its origin. Bare arrays come first: TOML puts
/// every plain key before the first table.
pub fn show_toml(loaded: &LoadedRules, paths: &Paths) -> anyhow::Result<String> {
    let r = &loaded.rules;
    let mut out = format!(
        "# Effective soc-tui rules: {}\n",
        source_line(loaded, paths)
    );
    let sections = [
        ("suppressions", section("suppressions", &r.suppressions)?),
        ("baseline", section("baseline", &r.baseline)?),
        ("burst", section("burst", &r.burst)?),
        ("tokens", section("tokens", &r.tokens)?),
        ("allow", section("allow", &r.allow)?),
    ];
    for (name, text) in sections {
        let origin = loaded
            .origins
            .get(name)
            .map_or("built-in defaults", |o| o.describe());
        out.push_str(&format!("\n# [{name}] from: {origin}\n{text}"));
    }
    Ok(out)
}

fn section<T: serde::Serialize>(name: &str, value: &T) -> anyhow::Result<String> {
    let wrapped = std::collections::BTreeMap::from([(name, value)]);
    toml::to_string_pretty(&wrapped).with_context(|| format!("rendering rules section {name}"))
}

pub fn show_json(loaded: &LoadedRules) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "user_file": loaded.user_file.as_ref().map(|p| p.display().to_string()),
        "origins": loaded.origins,
        "rules": serde_json::to_value(&loaded.rules).context("rendering rules as JSON")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::{Origin, parse};
    use std::path::PathBuf;

    fn paths() -> Paths {
        Paths {
            config_file: PathBuf::from("/cfg/config.toml"),
            config_dir: PathBuf::from("/cfg"),
            data_dir: PathBuf::from("/data"),
        }
    }

    #[test]
    fn show_output_parses_back_to_the_same_rules() {
        let user = "[[suppressions]]\nactor = \"ci@example.com\"\nrule = \"token.*\"\nuntil = 2030-01-01T00:00:00Z\nreason = \"rotation\"\n\n[allow.\"burst.monitor_delete\"]\nactors = [\"janitor@example.com\"]\n";
        let loaded = parse(Some(("user.toml", user))).unwrap();
        let text = show_toml(&loaded, &paths()).unwrap();
        assert!(
            text.contains("# [baseline] from: built-in defaults\n"),
            "{text}"
        );
        assert!(
            text.contains("# [suppressions] from: user file\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# [allow] from: built-in defaults, overridden in part by the user file\n"
            ),
            "{text}"
        );
        let round: crate::detect::rules::Rules = toml::from_str(&text).unwrap();
        assert_eq!(round, loaded.rules);
    }

    #[test]
    fn json_output_has_origins_and_plain_timestamps() {
        let user = "[[suppressions]]\nactor = \"a\"\nrule = \"baseline.*\"\nuntil = 2030-01-01T00:00:00Z\nreason = \"r\"\n";
        let loaded = parse(Some(("user.toml", user))).unwrap();
        assert_eq!(loaded.origins["suppressions"], Origin::UserFile);
        let doc = show_json(&loaded).unwrap();
        assert_eq!(
            doc["rules"]["suppressions"][0]["until"],
            "2030-01-01T00:00:00Z"
        );
        assert_eq!(doc["origins"]["tokens"], "defaults");
        assert_eq!(doc["user_file"], "user.toml");
    }

    #[test]
    fn check_summary_counts_expired_suppressions() {
        let user = "[[suppressions]]\nactor = \"a\"\nrule = \"baseline.*\"\nuntil = 2001-01-01T00:00:00Z\nreason = \"old\"\n";
        let loaded = parse(Some(("user.toml", user))).unwrap();
        let s = check_summary(&loaded, &paths());
        assert!(s.starts_with("ok: built-in defaults + user.toml"), "{s}");
        assert!(s.contains("suppressions: 1 (1 expired)"), "{s}");
        assert!(s.contains("9 actions (9 enabled)"), "{s}");
    }
}
