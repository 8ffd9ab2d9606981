//! Checks that need more than one value, or a bound that depends on the key.
//! Single values are checked while they are parsed (see `values.rs`).

use super::Config;
use super::action_kinds::ActionKinds;
use super::runtime::{
    AgentConfig, AgentProvider, BaselineEngine, DEFAULT_MAX_TOKENS, MAX_TOKENS_RANGE,
};
use super::sinks::ObjectLockMode;
use super::source_map::join_key;
use super::values::{HumanDuration, is_simple_name};

/// A rule the config breaks, named by key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Keys to report, best first: the first one written in the file is named,
    /// so a conflict with a default points at the key the user did write.
    pub(crate) keys: Vec<String>,
    pub(crate) message: String,
}

fn violation(keys: &[&str], message: impl Into<String>) -> Violation {
    Violation {
        keys: keys.iter().map(|key| (*key).to_owned()).collect(),
        message: message.into(),
    }
}

/// The first violated rule, in file order of sections.
pub(crate) fn validate(config: &Config) -> Result<(), Violation> {
    analyst(config)?;
    cloudflare(config)?;
    datadog(config)?;
    axiom(config)?;
    confluence(config)?;
    linear(config)?;
    s3(config)?;
    checks(config)?;
    http(config)?;
    outbox(config)?;
    webhook(config)?;
    investigation(config)?;
    ui(config)?;
    for (name, agent) in &config.agents {
        self::agent(name, agent)?;
    }
    Ok(())
}

fn analyst(config: &Config) -> Result<(), Violation> {
    if let Some(name) = &config.analyst.name {
        plain_text("analyst.name", name, 100)?;
    }
    Ok(())
}

fn cloudflare(config: &Config) -> Result<(), Violation> {
    let cf = &config.cloudflare;
    action_kinds("cloudflare.action_kinds", &cf.action_kinds)?;
    for (i, id) in cf.account_ids.iter().enumerate() {
        if cf.account_ids[..i].contains(id) {
            return Err(violation(
                &[&format!("cloudflare.account_ids[{i}]")],
                "this account id is listed twice",
            ));
        }
    }
    at_most("cloudflare.poll_overlap", cf.poll_overlap, 86_400, "1d")?;
    at_most("cloudflare.settle_delay", cf.settle_delay, 3_600, "1h")?;
    // Audit Logs v2 keeps 30 days; reading further back finds nothing.
    at_most(
        "cloudflare.initial_lookback",
        cf.initial_lookback,
        30 * 86_400,
        "30d",
    )
}

fn datadog(config: &Config) -> Result<(), Violation> {
    if config.datadog.site.is_some() && config.datadog.api_base.is_some() {
        return Err(violation(
            &["datadog.api_base", "datadog.site"],
            "set either `site` or `api_base`, not both: `api_base` replaces the URL the site \
             implies (https://api.<site>)",
        ));
    }
    let dd = &config.datadog;
    action_kinds("datadog.action_kinds", &dd.action_kinds)?;
    at_most("datadog.poll_overlap", dd.poll_overlap, 86_400, "1d")?;
    at_most("datadog.settle_delay", dd.settle_delay, 3_600, "1h")?;
    at_most(
        "datadog.initial_lookback",
        dd.initial_lookback,
        30 * 86_400,
        "30d",
    )
}

fn axiom(config: &Config) -> Result<(), Violation> {
    let axiom = &config.axiom;
    if axiom.enabled && axiom.dataset.is_none() {
        return Err(violation(
            &["axiom.enabled"],
            "Axiom is enabled but `axiom.dataset` is not set: name the dataset holding the audit \
             events, or set enabled = false",
        ));
    }
    if let Some(dataset) = &axiom.dataset {
        identifier(
            "axiom.dataset",
            dataset,
            "letters, digits, `_`, `-` and `.`",
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
        )?;
    }
    if let Some(org_id) = &axiom.org_id {
        identifier("axiom.org_id", org_id, "letters, digits and `-`", |c| {
            c.is_ascii_alphanumeric() || c == '-'
        })?;
    }
    Ok(())
}

fn confluence(config: &Config) -> Result<(), Violation> {
    let wiki = &config.confluence;
    if wiki.is_configured() {
        if wiki.space_key.is_none() {
            return Err(violation(
                &["confluence.base_url"],
                "`confluence.space_key` is required when base_url is set: the key of the space \
                 reports are published in (e.g. SEC)",
            ));
        }
        if wiki.email.is_none() {
            return Err(violation(
                &["confluence.base_url"],
                "`confluence.email` is required when base_url is set: the Atlassian account the \
                 API token belongs to",
            ));
        }
    }
    if let Some(space) = &wiki.space_key {
        let body = space.strip_prefix('~').unwrap_or(space);
        let personal = body.len() != space.len();
        let ok = !body.is_empty()
            && body.len() <= 255
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || (personal && matches!(c, ':' | '-' | '_')));
        if !ok {
            return Err(violation(
                &["confluence.space_key"],
                "a space key is ASCII letters and digits (e.g. SEC), or `~` and an account id \
                 for a personal space",
            ));
        }
    }
    if let Some(parent) = &wiki.parent_page_id {
        identifier(
            "confluence.parent_page_id",
            parent,
            "digits (the number in the page URL)",
            |c| c.is_ascii_digit(),
        )?;
    }
    Ok(())
}

fn linear(config: &Config) -> Result<(), Violation> {
    if let Some(team) = &config.linear.team_id
        && !is_uuid(team)
    {
        return Err(violation(
            &["linear.team_id"],
            "expected the team's UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, from the `teams` \
             query or the team settings), not its short key",
        ));
    }
    let labels = &config.linear.labels;
    for (workflow, names) in [
        ("baseline", &labels.baseline),
        ("bursts", &labels.bursts),
        ("tokens", &labels.tokens),
        ("investigation", &labels.investigation),
    ] {
        for (i, label) in names.iter().enumerate() {
            plain_text(&format!("linear.labels.{workflow}[{i}]"), label, 80)?;
        }
    }
    let priorities = &config.linear.priorities;
    for (severity, priority) in [
        ("critical", priorities.critical),
        ("high", priorities.high),
        ("medium", priorities.medium),
        ("low", priorities.low),
        ("info", priorities.info),
    ] {
        if priority > 4 {
            return Err(violation(
                &[&format!("linear.priorities.{severity}")],
                "must be between 0 and 4 (Linear's scale: 0 no priority, 1 urgent, 2 high, \
                 3 medium, 4 low)",
            ));
        }
    }
    Ok(())
}

/// Verbs are matched ignoring ASCII case, so two spellings of one verb
/// would make the kind depend on which is found first.
fn action_kinds(table: &str, kinds: &ActionKinds) -> Result<(), Violation> {
    let verbs: Vec<&str> = kinds.iter().map(|(verb, _)| verb).collect();
    for (i, verb) in verbs.iter().enumerate() {
        let key = join_key(table, verb);
        plain_text(&key, verb, 200)?;
        if let Some(other) = verbs[..i].iter().find(|o| o.eq_ignore_ascii_case(verb)) {
            return Err(violation(
                &[&key],
                format!(
                    "`{other}` is listed too and verbs are matched ignoring case: keep one of the two"
                ),
            ));
        }
    }
    Ok(())
}

fn s3(config: &Config) -> Result<(), Violation> {
    let s3 = &config.s3;
    if let Some(bucket) = &s3.bucket
        && !is_bucket_name(bucket)
    {
        return Err(violation(
            &["s3.bucket"],
            "an S3 bucket name is 3 to 63 characters of a-z, 0-9, `.` and `-`, starting and \
             ending with a letter or digit",
        ));
    }
    if !is_simple_name(&s3.region) {
        return Err(violation(
            &["s3.region"],
            "a region is a-z, 0-9 and `-`, e.g. us-east-1 (S3-compatible servers usually accept \
             us-east-1)",
        ));
    }
    if s3.prefix.starts_with('/')
        || s3.prefix.contains("//")
        || s3.prefix.chars().any(char::is_control)
    {
        return Err(violation(
            &["s3.prefix"],
            "the key prefix must not start with `/`, contain `//` or control characters \
             (e.g. \"soc-tui/\")",
        ));
    }
    if s3.bucket.is_none() {
        if s3.endpoint.is_some() {
            return Err(violation(
                &["s3.endpoint"],
                "an endpoint without `s3.bucket` has no effect: set the bucket, or remove the \
                 endpoint to keep the archive in the local directory",
            ));
        }
        if s3.object_lock_mode != ObjectLockMode::Off {
            return Err(violation(
                &["s3.object_lock_mode"],
                "object lock needs `s3.bucket`: the local archive directory cannot lock files",
            ));
        }
    }
    match (s3.object_lock_mode, s3.retention_days) {
        (ObjectLockMode::Off, 0) => Ok(()),
        (ObjectLockMode::Off, _) => Err(violation(
            &["s3.retention_days", "s3.object_lock_mode"],
            "retention_days has no effect while object_lock_mode = \"none\": set the mode to \
             GOVERNANCE or COMPLIANCE, or remove retention_days",
        )),
        (mode, 0) => Err(violation(
            &["s3.retention_days", "s3.object_lock_mode"],
            format!(
                "object_lock_mode = \"{mode}\" needs retention_days of at least 1 (how long each \
                 archived object stays locked)"
            ),
        )),
        (_, days) if days > 36_500 => Err(violation(
            &["s3.retention_days"],
            "retention_days is at most 36500 (100 years)",
        )),
        _ => Ok(()),
    }
}

fn checks(config: &Config) -> Result<(), Violation> {
    let checks = &config.checks;
    positive("checks.baseline_cadence", checks.baseline_cadence)?;
    positive("checks.bursts_cadence", checks.bursts_cadence)?;
    positive("checks.tokens_cadence", checks.tokens_cadence)?;
    if checks.baseline_engine == BaselineEngine::Axiom && !config.axiom.enabled {
        return Err(violation(
            &["checks.baseline_engine"],
            "baseline_engine = \"axiom\" needs Axiom: set `axiom.enabled = true` and \
             `axiom.dataset` in [axiom], or use baseline_engine = \"local\"",
        ));
    }
    Ok(())
}

fn http(config: &Config) -> Result<(), Violation> {
    let http = &config.http;
    positive("http.connect_timeout", http.connect_timeout)?;
    positive("http.request_timeout", http.request_timeout)?;
    if http.max_retries > 10 {
        return Err(violation(&["http.max_retries"], "must be between 0 and 10"));
    }
    Ok(())
}

fn outbox(config: &Config) -> Result<(), Violation> {
    let outbox = &config.outbox;
    positive("outbox.base_backoff", outbox.base_backoff)?;
    at_most("outbox.max_backoff", outbox.max_backoff, 24 * 3_600, "24h")?;
    if outbox.max_backoff < outbox.base_backoff {
        return Err(violation(
            &["outbox.max_backoff", "outbox.base_backoff"],
            format!(
                "must be at least outbox.base_backoff ({}): it caps the growing backoff",
                outbox.base_backoff
            ),
        ));
    }
    if !(1..=100).contains(&outbox.max_attempts) {
        return Err(violation(
            &["outbox.max_attempts"],
            "must be between 1 and 100 (attempts before a request is dead-lettered)",
        ));
    }
    if !(1..=64).contains(&outbox.concurrency) {
        return Err(violation(
            &["outbox.concurrency"],
            "must be between 1 and 64 (deliveries in flight at once)",
        ));
    }
    Ok(())
}

fn webhook(config: &Config) -> Result<(), Violation> {
    let hook = &config.webhook;
    if hook.port == 0 {
        return Err(violation(
            &["webhook.port"],
            "must be between 1 and 65535 (the port detectors send to)",
        ));
    }
    positive("webhook.max_skew", hook.max_skew)?;
    at_most("webhook.max_skew", hook.max_skew, 3_600, "1h")?;
    if !(1024..=16 * 1024 * 1024).contains(&hook.max_body_bytes) {
        return Err(violation(
            &["webhook.max_body_bytes"],
            "must be between 1024 and 16777216 (16 MiB)",
        ));
    }
    for (field, list) in hook.fields.entries() {
        let key = format!("webhook.fields.{field}");
        if list.is_empty() && matches!(field, "actor" | "action" | "timestamp") {
            return Err(violation(
                &[&key],
                format!("`{field}` is required in every anomaly: list at least one JSON pointer"),
            ));
        }
        if list.len() > 16 {
            return Err(violation(&[&key], "at most 16 JSON pointers per field"));
        }
        for (i, pointer) in list.iter().enumerate() {
            if !pointer.starts_with('/')
                || pointer.len() > 200
                || pointer.chars().any(char::is_control)
            {
                return Err(violation(
                    &[&format!("{key}[{i}]")],
                    "a JSON pointer starts with `/` and names keys separated by `/`, e.g.                      \"/usr/email\" (at most 200 characters)",
                ));
            }
        }
    }
    Ok(())
}

fn investigation(config: &Config) -> Result<(), Violation> {
    let inv = &config.investigation;
    positive("investigation.window_before", inv.window_before)?;
    at_most(
        "investigation.window_before",
        inv.window_before,
        30 * 86_400,
        "30d",
    )?;
    at_most(
        "investigation.window_after",
        inv.window_after,
        7 * 86_400,
        "7d",
    )?;
    at_most("investigation.history", inv.history, 365 * 86_400, "365d")?;
    if !(100..=1_000_000).contains(&inv.max_events) {
        return Err(violation(
            &["investigation.max_events"],
            "must be between 100 and 1000000",
        ));
    }
    for (i, entry) in inv.identities.iter().enumerate() {
        let key = format!("investigation.identities[{i}].aliases");
        if entry.aliases.is_empty() {
            return Err(violation(
                &[&key],
                "list at least one other name of this person (an email, a Cloudflare actor id                  or a Datadog user uuid)",
            ));
        }
        for (j, alias) in entry.aliases.iter().enumerate() {
            plain_text(&format!("{key}[{j}]"), alias, 254)?;
        }
        let email = entry.email.as_str().to_lowercase();
        if let Some(earlier) = inv.identities[..i]
            .iter()
            .position(|other| other.email.as_str().to_lowercase() == email)
        {
            return Err(violation(
                &[&format!("investigation.identities[{i}].email")],
                format!("this email already has an entry (identities[{earlier}]): merge the two"),
            ));
        }
    }
    Ok(())
}

fn ui(config: &Config) -> Result<(), Violation> {
    if let Some(theme) = &config.ui.theme
        && !is_simple_name(theme)
    {
        return Err(violation(
            &["ui.theme"],
            "a theme name is 1 to 64 characters of a-z, 0-9, `_` and `-`: a built-in theme \
             (dark, light, high-contrast) or the name of <config dir>/themes/<name>.toml",
        ));
    }
    Ok(())
}

fn agent(name: &str, agent: &AgentConfig) -> Result<(), Violation> {
    let path = join_key("agents", name);
    if !is_simple_name(name) {
        return Err(violation(
            &[&path],
            "an agent name is 1 to 64 characters of a-z, 0-9, `_` and `-`, e.g. [agents.investigator]",
        ));
    }
    let key = |field: &str| format!("{path}.{field}");
    match (agent.provider, &agent.model) {
        (AgentProvider::Heuristic, Some(_)) => {
            return Err(violation(
                &[&key("model"), &key("provider")],
                "the heuristic provider has no model: remove `model`, or set provider = \
                 \"openai\" or \"anthropic\"",
            ));
        }
        (provider, None) if provider.is_remote() => {
            return Err(violation(
                &[&key("provider")],
                format!(
                    "provider \"{provider}\" needs `model` (e.g. the model name the server serves)"
                ),
            ));
        }
        (_, Some(model)) => plain_text(&key("model"), model, 200)?,
        _ => {}
    }
    if agent.provider == AgentProvider::Heuristic && agent.base_url.is_some() {
        return Err(violation(
            &[&key("base_url"), &key("provider")],
            "the heuristic provider runs locally and uses no base_url: remove it, or set \
             provider = \"openai\" or \"anthropic\"",
        ));
    }
    if !MAX_TOKENS_RANGE.contains(&agent.max_tokens) {
        return Err(violation(
            &[&key("max_tokens")],
            format!(
                "must be {} to {} (the answer's JSON needs a few hundred tokens; the default is {})",
                MAX_TOKENS_RANGE.start(),
                MAX_TOKENS_RANGE.end(),
                DEFAULT_MAX_TOKENS
            ),
        ));
    }
    positive(&key("timeout"), agent.timeout)
}

fn positive(key: &str, duration: HumanDuration) -> Result<(), Violation> {
    if duration.is_zero() {
        return Err(violation(
            &[key],
            "must be greater than zero, e.g. \"30s\", \"5m\" or \"1h\"",
        ));
    }
    Ok(())
}

fn at_most(
    key: &str,
    duration: HumanDuration,
    max_secs: u64,
    max_text: &str,
) -> Result<(), Violation> {
    if duration.get() > std::time::Duration::from_secs(max_secs) {
        return Err(violation(&[key], format!("must be at most {max_text}")));
    }
    Ok(())
}

/// Free text shown in the UI and sent to services: non-blank, bounded, no control characters.
fn plain_text(key: &str, text: &str, max_chars: usize) -> Result<(), Violation> {
    if text.trim().is_empty() {
        return Err(violation(&[key], "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(violation(
            &[key],
            format!("must be at most {max_chars} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(violation(&[key], "must not contain control characters"));
    }
    Ok(())
}

fn identifier(
    key: &str,
    text: &str,
    allowed: &str,
    ok: impl Fn(char) -> bool,
) -> Result<(), Violation> {
    if text.is_empty() || text.len() > 128 || !text.chars().all(ok) {
        return Err(violation(
            &[key],
            format!("must be 1 to 128 characters of {allowed}"),
        ));
    }
    Ok(())
}

/// A UUID in its hyphenated form (how Linear shows team ids).
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_bucket_name(name: &str) -> bool {
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge_ok(name.bytes().next())
        && edge_ok(name.bytes().last())
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default()), Ok(()));
    }

    #[test]
    fn uuids_and_bucket_names() {
        assert!(is_uuid("3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6f"));
        assert!(!is_uuid("SEC"));
        assert!(!is_uuid("3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6"));
        assert!(is_bucket_name("soc-archive.example"));
        for bad in ["ab", "Soc", "-soc", "soc-", "soc..x", "soc_archive"] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_remote_agent_needs_a_model_and_a_heuristic_one_takes_none() {
        let remote = AgentConfig {
            provider: AgentProvider::Anthropic,
            ..AgentConfig::default()
        };
        let err = agent("investigator", &remote).unwrap_err();
        assert_eq!(err.keys, ["agents.investigator.provider"]);
        let heuristic = AgentConfig {
            model: Some("gpt".into()),
            ..AgentConfig::default()
        };
        let err = agent("investigator", &heuristic).unwrap_err();
        assert_eq!(err.keys[0], "agents.investigator.model");
        let err = agent("Bad Name", &AgentConfig::default()).unwrap_err();
        assert_eq!(err.keys, ["agents.\"Bad Name\""]);
    }

    #[test]
    fn max_tokens_is_bounded() {
        for (max_tokens, ok) in [(255, false), (256, true), (200_000, true), (200_001, false)] {
            let config = AgentConfig {
                max_tokens,
                ..AgentConfig::default()
            };
            let result = agent("investigator", &config);
            assert_eq!(result.is_ok(), ok, "{max_tokens}");
            if let Err(err) = result {
                assert_eq!(err.keys, ["agents.investigator.max_tokens"]);
                assert!(err.message.contains("256 to 200000"), "{}", err.message);
            }
        }
    }
}
