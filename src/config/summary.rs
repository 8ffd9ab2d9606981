//! The short "what is configured" report printed by `soc-tui config check`.

use super::{Config, ObjectLockMode};

/// One `(section, description)` line per service or setting group.
pub fn summary(config: &Config) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();

    lines.push((
        "analyst",
        match &config.analyst.name {
            Some(name) => name.clone(),
            None => format!(
                "not set: $USER at run time (now \"{}\")",
                config.analyst.resolved_name()
            ),
        },
    ));

    let cf = &config.cloudflare;
    lines.push((
        "cloudflare",
        if cf.is_configured() {
            let fallback = match (cf.api_version, cf.v1_fallback) {
                (super::CloudflareApiVersion::V2, true) => " with v1 fallback",
                _ => "",
            };
            format!(
                "{} account{}, audit logs {}{fallback}, {}",
                cf.account_ids.len(),
                if cf.account_ids.len() == 1 { "" } else { "s" },
                cf.api_version,
                cf.api_base
            )
        } else {
            not_configured("cloudflare.account_ids")
        },
    ));

    lines.push((
        "datadog",
        if config.datadog.is_configured() {
            config.datadog.resolved_api_base().to_string()
        } else {
            not_configured("datadog.site")
        },
    ));

    let axiom = &config.axiom;
    lines.push((
        "axiom",
        match (&axiom.dataset, axiom.enabled) {
            (Some(dataset), true) => format!("dataset {dataset}, {}", axiom.api_base),
            _ => "off: baselines come from the local store".to_owned(),
        },
    ));

    let wiki = &config.confluence;
    lines.push((
        "confluence",
        match (&wiki.base_url, &wiki.space_key) {
            (Some(base), Some(space)) => format!("space {space}, {base}"),
            _ => not_configured("confluence.base_url"),
        },
    ));

    lines.push((
        "linear",
        match &config.linear.team_id {
            Some(team) => format!("team {team}, {}", config.linear.api_url),
            None => not_configured("linear.team_id"),
        },
    ));

    let pd = &config.pagerduty;
    lines.push((
        "pagerduty",
        if pd.enabled {
            format!(
                "events {}, routing key from credential \"{}\"",
                pd.events_base, pd.routing_key_name
            )
        } else {
            "off (set pagerduty.enabled = true)".to_owned()
        },
    ));

    let s3 = &config.s3;
    lines.push((
        "archive",
        match &s3.bucket {
            Some(bucket) => {
                let lock = match s3.object_lock_mode {
                    ObjectLockMode::Off => "no object lock".to_owned(),
                    mode => format!("{mode} lock for {} days", s3.retention_days),
                };
                let endpoint = s3
                    .endpoint
                    .as_ref()
                    .map_or_else(|| format!("AWS {}", s3.region), ToString::to_string);
                format!("s3://{bucket}/{}, {endpoint}, {lock}", s3.prefix)
            }
            None => "local directory in the data dir (no s3.bucket)".to_owned(),
        },
    ));

    let checks = &config.checks;
    lines.push((
        "checks",
        format!(
            "baseline ({}) every {}, bursts every {}, tokens every {} (thresholds: `soc-tui rules show`)",
            checks.baseline_engine,
            checks.baseline_cadence,
            checks.bursts_cadence,
            checks.tokens_cadence
        ),
    ));

    lines.push((
        "workflows",
        format!(
            "{} (the console and `soc-tui workflows set` can override: `soc-tui workflows`)",
            super::WORKFLOWS
                .iter()
                .map(|w| format!("{} {}", super::workflow_key(*w), config.workflows.get(*w)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));

    lines.push((
        "agents",
        if config.agents.is_empty() {
            "built-in heuristic".to_owned()
        } else {
            config
                .agents
                .iter()
                .map(|(name, agent)| match &agent.model {
                    Some(model) => format!("{name}: {} {model}", agent.provider),
                    None => format!("{name}: {}", agent.provider),
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));

    lines
}

fn not_configured(anchor_key: &str) -> String {
    format!("not configured (no {anchor_key})")
}
