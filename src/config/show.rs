//! `soc-tui config show [--effective] [--json]`: the settings in force and
//! where each came from, and with `--effective` also the prompts, the
//! detection rules and the credentials' sources (never their values).
//!
//! The settings list is derived from the serialized [`Config`], so a
//! section added by another module is shown without a change here. Values
//! from the file may carry terminal control characters: the text output
//! passes them through the sanitizer (JSON escapes them itself).

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::provenance::{Origin, Setting, settings};
use super::{Config, EnvOverrides, LoadedConfig};
use crate::detect::rules;
use crate::investigate::llm::templates::{self, PromptOrigin};
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::secrets::{AuthStatus, CredentialState, Resolver};

/// Longest left column before the origin; longer keys push their origin right.
const ALIGN: usize = 56;

pub(super) fn run(paths: &Paths, effective: bool, json: bool) -> anyhow::Result<()> {
    let loaded = Config::load_layers(&paths.config_file, &EnvOverrides::from_process())?;
    let all = settings(&loaded.config, &loaded.provenance)?;
    let listed: Vec<&Setting> = all
        .iter()
        .filter(|setting| effective || setting.origin != Origin::Default)
        .collect();
    let extras = effective.then(|| Extras::gather(paths));
    if json {
        let doc = to_json(paths, &loaded, &listed, extras.as_ref());
        println!(
            "{}",
            crate::terminal_json::to_terminal_json(&doc)
                .context("rendering the settings as JSON")?
        );
    } else {
        print!("{}", to_text(paths, &loaded, &listed, extras.as_ref()));
    }
    if let Some(problems) = extras.as_ref().map(Extras::problems)
        && !problems.is_empty()
    {
        bail!("{}", problems.join("; "));
    }
    Ok(())
}

/// What `--effective` adds to the settings.
struct Extras {
    /// `(file name, origin or the problem with its override)`.
    prompts: Vec<(&'static str, Result<PromptOrigin, String>)>,
    /// `.md` files in the prompts directory that name no prompt.
    unused_prompts: Vec<String>,
    /// `default`, `file:<path>`, or why the rules do not load.
    rules: Result<String, String>,
    credentials: AuthStatus,
}

impl Extras {
    fn gather(paths: &Paths) -> Extras {
        let (statuses, unused) = templates::survey(&paths.config_dir);
        Extras {
            prompts: statuses
                .into_iter()
                .map(|status| (status.file.name, status.state.map_err(|e| e.to_string())))
                .collect(),
            unused_prompts: unused.iter().map(|p| p.display().to_string()).collect(),
            rules: rules::load(paths)
                .map(|loaded| match loaded.user_file {
                    Some(file) => format!("file:{}", file.display()),
                    None => "default".to_owned(),
                })
                .map_err(|e| e.to_string()),
            credentials: Resolver::system().status(),
        }
    }

    /// What stops the investigator or the checks from starting as configured.
    fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .prompts
            .iter()
            .filter_map(|(_, state)| state.as_ref().err().cloned())
            .collect();
        if let Err(e) = &self.rules {
            problems.push(e.clone());
        }
        problems
    }
}

fn credential_origin(state: &CredentialState, env_var: &str) -> String {
    match state {
        CredentialState::Env => format!("env:{env_var}"),
        CredentialState::Error(reason) => format!("error: {reason}"),
        other => other.label().to_owned(),
    }
}

fn file_line(paths: &Paths, loaded: &LoadedConfig) -> String {
    match loaded.provenance.file() {
        Some(file) => file.to_owned(),
        None => format!("{} (not found: defaults)", paths.config_file.display()),
    }
}

fn to_text(
    paths: &Paths,
    loaded: &LoadedConfig,
    listed: &[&Setting],
    extras: Option<&Extras>,
) -> String {
    let mut out = format!("# config file: {}\n", sanitize(&file_line(paths, loaded)));
    let vars: Vec<&str> = loaded
        .provenance
        .env_overrides()
        .map(|(_, var)| var)
        .collect();
    if !vars.is_empty() {
        out.push_str(&format!("# environment: {}\n", vars.join(", ")));
    }
    if listed.is_empty() {
        out.push_str("# every setting is at its default (`--effective` lists them)\n");
    }
    for setting in listed {
        let left = format!("{} = {}", setting.key, setting.value);
        push_row(&mut out, &left, &setting.origin.to_string());
    }
    let Some(extras) = extras else {
        return out;
    };
    out.push_str(&format!(
        "\n# prompts (overrides are read from {})\n",
        paths.config_dir.join(templates::PROMPTS_DIR).display()
    ));
    for (name, state) in &extras.prompts {
        let origin = match state {
            Ok(origin) => origin.to_string(),
            Err(problem) => format!("error: {problem}"),
        };
        push_row(&mut out, name, &origin);
    }
    for path in &extras.unused_prompts {
        push_row(&mut out, path, "not used: no prompt has this name");
    }
    out.push_str("\n# detection rules (`soc-tui rules show` prints them)\n");
    let rules_origin = match &extras.rules {
        Ok(origin) => origin.clone(),
        Err(problem) => format!("error: {problem}"),
    };
    push_row(&mut out, rules::RULES_FILE_NAME, &rules_origin);
    out.push_str("\n# credentials (where each comes from; values are never shown)\n");
    for entry in &extras.credentials.credentials {
        push_row(
            &mut out,
            entry.credential.name(),
            &credential_origin(&entry.state, entry.credential.env_var()),
        );
    }
    match &extras.credentials.keychain.unavailable_reason {
        None => out.push_str(&format!(
            "# keychain: available ({})\n",
            extras.credentials.keychain.backend
        )),
        Some(reason) => out.push_str(&format!("# keychain: unavailable ({reason})\n")),
    }
    out
}

/// `left  # origin`, aligned, every part made safe for the terminal.
fn push_row(out: &mut String, left: &str, origin: &str) {
    let left = sanitize(left);
    let width = left.chars().count();
    let pad = ALIGN.saturating_sub(width).max(1);
    out.push_str(&format!("{left}{:pad$}  # {}\n", "", sanitize(origin)));
}

fn to_json(
    paths: &Paths,
    loaded: &LoadedConfig,
    listed: &[&Setting],
    extras: Option<&Extras>,
) -> Value {
    let settings: Vec<Value> = listed
        .iter()
        .map(|setting| {
            json!({
                "key": setting.key,
                "value": serde_json::to_value(&setting.value).unwrap_or(Value::Null),
                "origin": setting.origin.to_string(),
            })
        })
        .collect();
    let mut doc = json!({
        "config_file": paths.config_file.display().to_string(),
        "config_file_exists": loaded.provenance.file().is_some(),
        "environment": loaded.provenance.env_overrides()
            .map(|(key, var)| json!({"var": var, "key": key}))
            .collect::<Vec<_>>(),
        "settings": settings,
    });
    if let Some(extras) = extras {
        doc["prompts"] = extras
            .prompts
            .iter()
            .map(|(name, state)| match state {
                Ok(origin) => json!({"name": name, "origin": origin.to_string()}),
                Err(problem) => json!({"name": name, "origin": "error", "error": problem}),
            })
            .collect();
        doc["unused_prompt_files"] = json!(extras.unused_prompts);
        doc["rules"] = match &extras.rules {
            Ok(origin) => json!({"name": rules::RULES_FILE_NAME, "origin": origin}),
            Err(problem) => {
                json!({"name": rules::RULES_FILE_NAME, "origin": "error", "error": problem})
            }
        };
        doc["credentials"] = extras
            .credentials
            .credentials
            .iter()
            .map(|entry| {
                json!({
                    "name": entry.credential.name(),
                    "env_var": entry.credential.env_var(),
                    "origin": credential_origin(&entry.state, entry.credential.env_var()),
                })
            })
            .collect();
        doc["keychain"] = json!({
            "backend": extras.credentials.keychain.backend,
            "available": extras.credentials.keychain.unavailable_reason.is_none(),
            "reason": extras.credentials.keychain.unavailable_reason,
        });
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_aligned_and_terminal_safe() {
        let mut out = String::new();
        push_row(&mut out, "analyst.name = \"a\u{1b}[2J\"", "file:x.toml:2");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.ends_with("  # file:x.toml:2\n"), "{out}");
        let mut long = String::new();
        push_row(&mut long, &"k".repeat(80), "default");
        assert!(
            long.contains(&format!("{}   # default", "k".repeat(80))),
            "{long}"
        );
    }
}
