//! Loading as a whole: defaults, the example file, error locations.
//! One test per kind of bad file lives in `tests/config_files.rs`.

use std::collections::BTreeSet;

use super::*;
use crate::detect::finding::PagerDutySeverity;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, "test.toml")
}

fn url(text: &str) -> BaseUrl {
    BaseUrl::try_from(text.to_owned()).unwrap()
}

/// Every field set to a non-default value. Struct literals without `..` make
/// this fail to compile when a field is added, so the example-coverage test
/// below cannot silently miss it.
fn full_config() -> Config {
    Config {
        analyst: AnalystConfig {
            name: Some("alice".into()),
        },
        cloudflare: CloudflareConfig {
            account_ids: vec![
                AccountId::try_from("0123456789abcdef0123456789abcdef".to_owned()).unwrap(),
            ],
            api_base: url("http://127.0.0.1:4010/client/v4"),
            api_version: CloudflareApiVersion::V1,
            v1_fallback: false,
            poll_overlap: HumanDuration::from_secs(600),
            settle_delay: HumanDuration::from_secs(30),
            initial_lookback: HumanDuration::from_secs(7200),
            // The vocabulary's keys are its verbs: the defaults are the ones
            // the example lists (a merged one is tested on its own).
            action_kinds: ActionKinds::cloudflare_defaults(),
        },
        datadog: DatadogConfig {
            site: None,
            api_base: Some(url("http://127.0.0.1:4011")),
            poll_overlap: HumanDuration::from_secs(120),
            settle_delay: HumanDuration::from_secs(90),
            initial_lookback: HumanDuration::from_secs(3 * 86_400),
            action_kinds: ActionKinds::datadog_defaults(),
        },
        axiom: AxiomConfig {
            enabled: true,
            api_base: url("http://127.0.0.1:4012"),
            dataset: Some("audit".into()),
            org_id: Some("acme-1234".into()),
        },
        confluence: ConfluenceConfig {
            base_url: Some(url("https://example.atlassian.net/wiki")),
            space_key: Some("SEC".into()),
            parent_page_id: Some("123456".into()),
            email: Some(Email::try_from("soc@example.com".to_owned()).unwrap()),
        },
        linear: LinearConfig {
            api_url: url("http://127.0.0.1:4013/graphql"),
            team_id: Some("3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6f".into()),
            labels: LinearLabels {
                baseline: vec!["baseline".into()],
                bursts: vec!["burst".into()],
                tokens: vec!["new-token".into()],
                investigation: vec!["investigation".into()],
            },
            priorities: LinearPriorities {
                critical: 1,
                high: 1,
                medium: 2,
                low: 3,
                info: 0,
            },
        },
        pagerduty: PagerDutyConfig {
            enabled: true,
            events_base: url("http://127.0.0.1:4014/v2"),
            rest_base: url("http://127.0.0.1:4015"),
            routing_key_name: CredentialName::try_from("pagerduty-api-key".to_owned()).unwrap(),
            from_email: Some(Email::try_from("oncall@example.com".to_owned()).unwrap()),
            service_id: Some("PWIXJZS".into()),
            severities: PagerDutySeverities {
                critical: PagerDutySeverity::Critical,
                high: PagerDutySeverity::Critical,
                medium: PagerDutySeverity::Error,
                low: PagerDutySeverity::Warning,
                info: PagerDutySeverity::Info,
            },
        },
        s3: S3Config {
            bucket: Some("soc-archive".into()),
            region: "eu-west-1".into(),
            endpoint: Some(url("http://127.0.0.1:9000")),
            path_style: true,
            prefix: "tokens/".into(),
            object_lock_mode: ObjectLockMode::Compliance,
            retention_days: 365,
        },
        checks: ChecksConfig {
            baseline_cadence: HumanDuration::from_secs(1800),
            bursts_cadence: HumanDuration::from_secs(60),
            tokens_cadence: HumanDuration::from_secs(120),
            baseline_engine: BaselineEngine::Axiom,
        },
        http: HttpConfig {
            connect_timeout: HumanDuration::from_secs(3),
            request_timeout: HumanDuration::from_secs(20),
            max_retries: 5,
            proxy: Some(url("http://proxy.internal:3128")),
        },
        outbox: crate::config::OutboxConfig::default(),
        webhook: WebhookConfig {
            enabled: true,
            bind: std::net::IpAddr::from([0, 0, 0, 0]),
            port: 9000,
            mode: WebhookAuthMode::SharedSecret,
            max_skew: HumanDuration::from_secs(120),
            max_body_bytes: 4096,
            rate_limit_per_minute: 10,
            fields: WebhookFieldMap {
                actor: vec!["/who".into()],
                action: vec!["/what".into()],
                timestamp: vec!["/when".into()],
                source: vec![],
                detector: vec!["/rule/name".into()],
                details: vec![],
            },
        },
        investigation: InvestigationConfig {
            window_before: HumanDuration::from_secs(3600),
            window_after: HumanDuration::from_secs(600),
            history: HumanDuration::from_secs(86_400),
            max_events: 1000,
            live_queries: false,
            auto_investigate_findings: true,
            identities: vec![IdentityAliases {
                email: Email::try_from("alice@example.com".to_owned()).unwrap(),
                aliases: vec!["u-1".into()],
            }],
        },
        ui: UiConfig {
            theme: Some("high-contrast".into()),
        },
        workflows: WorkflowsConfig {
            baseline: WorkflowMode::On,
            bursts: WorkflowMode::Off,
            tokens: WorkflowMode::On,
            investigation: WorkflowMode::Off,
        },
        agents: BTreeMap::from([(
            "investigator".to_owned(),
            AgentConfig {
                provider: AgentProvider::OpenAi,
                model: Some("llama3.1".into()),
                base_url: Some(url("http://127.0.0.1:11434/v1")),
                timeout: HumanDuration::from_secs(120),
                max_tokens: 4096,
            },
        )]),
    }
}

/// `section.key` for every `key = ...` line of the example, set or commented out.
fn example_keys() -> BTreeSet<String> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in EXAMPLE_CONFIG.lines() {
        let line = line.trim_start_matches('#').trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = header.to_owned();
        } else if let Some((key, _)) = line.split_once(" = ")
            && !key.contains(' ')
        {
            keys.insert(format!("{section}.{key}"));
        }
    }
    keys
}

fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => leaf_keys(inner, &path, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

#[test]
fn an_empty_file_means_the_defaults() {
    assert_eq!(parse("").unwrap(), Config::default());
    assert_eq!(parse("# just a comment\n\n").unwrap(), Config::default());
    let config = Config::default();
    assert!(!config.cloudflare.is_configured());
    assert!(!config.datadog.is_configured());
    assert!(!config.s3.is_configured());
    assert_eq!(
        config.agent("investigator").provider,
        AgentProvider::Heuristic
    );
}

#[test]
fn the_example_file_is_valid_and_holds_the_defaults() {
    assert_eq!(parse(EXAMPLE_CONFIG).unwrap(), Config::default());
}

#[test]
fn the_example_file_lists_every_key() {
    let text = toml::to_string(&full_config()).unwrap();
    let mut expected = BTreeSet::new();
    leaf_keys(&toml::from_str(&text).unwrap(), "", &mut expected);
    // `full_config` sets datadog.api_base; site excludes it, so add it by hand.
    expected.insert("datadog.site".to_owned());
    let listed = example_keys();
    let missing: Vec<_> = expected.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "keys missing from the example: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "example keys that do not exist: {stale:?}"
    );
}

#[test]
fn a_full_config_round_trips_through_toml() {
    let full = full_config();
    let text = toml::to_string(&full).unwrap();
    assert_eq!(parse(&text).unwrap(), full);
}

#[test]
fn every_builtin_url_passes_its_own_validation() {
    let defaults = toml::to_string(&Config::default()).unwrap();
    let mut builtins: Vec<String> = defaults
        .lines()
        .filter_map(|line| {
            line.split_once(" = \"http")
                .map(|(_, rest)| format!("http{}", rest.trim_end_matches('"')))
        })
        .collect();
    builtins.extend(
        DatadogSite::ALL
            .iter()
            .map(|site| site.api_base().to_string()),
    );
    builtins.extend(
        [AgentProvider::OpenAi, AgentProvider::Anthropic]
            .iter()
            .filter_map(|provider| provider.default_base_url())
            .map(|url| url.to_string()),
    );
    assert!(builtins.len() >= 14, "{builtins:?}");
    for builtin in builtins {
        assert_eq!(
            BaseUrl::try_from(builtin.clone()).unwrap().as_str(),
            builtin
        );
    }
}

#[test]
fn baseline_engine_defaults_to_local_and_axiom_needs_the_axiom_section() {
    assert_eq!(
        parse("").unwrap().checks.baseline_engine,
        BaselineEngine::Local
    );
    let config = parse(
        "[axiom]\nenabled = true\ndataset = \"audit\"\n\n[checks]\nbaseline_engine = \"axiom\"\n",
    )
    .unwrap();
    assert_eq!(config.checks.baseline_engine, BaselineEngine::Axiom);
    let err = parse("[axiom]\ndataset = \"audit\"\n\n[checks]\nbaseline_engine = \"axiom\"\n")
        .unwrap_err();
    assert_eq!(err.key(), Some("checks.baseline_engine"));
    assert!(
        err.to_string().contains("set `axiom.enabled = true`"),
        "{err}"
    );
}

#[test]
fn values_are_read_from_their_sections() {
    let config = parse(
        "[datadog]\nsite = \"datadoghq.eu\"\n\n[checks]\nbursts_cadence = \"90s\"\n\n\
         [agents.triage]\nprovider = \"anthropic\"\nmodel = \"claude\"\n",
    )
    .unwrap();
    assert_eq!(
        config.datadog.resolved_api_base().as_str(),
        "https://api.datadoghq.eu"
    );
    assert_eq!(config.checks.bursts_cadence.get().as_secs(), 90);
    assert_eq!(config.agent("triage").provider, AgentProvider::Anthropic);
    assert_eq!(
        config.checks.baseline_cadence,
        ChecksConfig::default().baseline_cadence
    );
}

#[test]
fn the_ui_theme_is_read_and_must_be_a_plain_name() {
    let config = parse("[ui]\ntheme = \"light\"\n").unwrap();
    assert_eq!(config.ui.theme.as_deref(), Some("light"));
    assert_eq!(Config::default().ui.theme, None);
    // A name, never a path: it becomes <config dir>/themes/<name>.toml.
    let err = parse("[ui]\ntheme = \"../../etc/passwd\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test.toml line 2") && err.contains("key `ui.theme`: a theme name"),
        "{err}"
    );
    let err = parse("[ui]\ncolour = \"red\"\n").unwrap_err().to_string();
    assert!(err.contains("unknown key `colour`"), "{err}");
}

#[test]
fn errors_name_origin_line_column_and_key() {
    let err = parse("[checks]\nbaseline_cadence = \"1h\"\nbursts_cadence = \"5 m\"\n").unwrap_err();
    assert_eq!(
        err.location(),
        Some(Location {
            line: 3,
            column: 18
        })
    );
    assert_eq!(err.key(), Some("checks.bursts_cadence"));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "config error in test.toml line 3, column 18: key `checks.bursts_cadence`: "
        ),
        "{text}"
    );
}

#[test]
fn unknown_keys_list_the_allowed_ones() {
    let err = parse("[s3]\nbucket = \"soc-archive\"\nretention = 3\n").unwrap_err();
    assert_eq!(err.key(), Some("s3.retention"));
    assert_eq!(err.location().map(|l| l.line), Some(3));
    let text = err.to_string();
    assert!(
        text.contains("unknown key `retention`; allowed keys here: `bucket`"),
        "{text}"
    );
    assert!(text.contains("`retention_days`"), "{text}");
}

#[test]
fn secret_keys_are_refused_without_echoing_the_value() {
    let err = parse("[linear]\nteam_id = \"x\"\napi_key = \"lin_api_SUPERSECRET\"\n").unwrap_err();
    assert_eq!(err.key(), Some("linear.api_key"));
    assert_eq!(err.location().map(|l| l.line), Some(3));
    let text = err.to_string();
    assert!(text.contains("soc-tui auth set linear"), "{text}");
    assert!(!text.contains("SUPERSECRET"), "{text}");
    assert!(!format!("{err:?}").contains("SUPERSECRET"));
}

#[test]
fn agent_and_label_names_may_contain_secret_words() {
    let config = parse(
        "[agents.token-watch]\nprovider = \"heuristic\"\n\n[linear.labels]\ntokens = [\"token\"]\n",
    )
    .unwrap();
    assert!(config.agents.contains_key("token-watch"));
}

#[test]
fn cross_field_errors_point_at_the_key_that_is_written() {
    let err =
        parse("[s3]\nbucket = \"soc-archive\"\nobject_lock_mode = \"GOVERNANCE\"\n").unwrap_err();
    assert_eq!(err.key(), Some("s3.object_lock_mode"));
    assert_eq!(err.location().map(|l| l.line), Some(3));
    let err = parse(
        "[s3]\nbucket = \"soc-archive\"\nretention_days = 0\nobject_lock_mode = \"COMPLIANCE\"\n",
    )
    .unwrap_err();
    assert_eq!(err.key(), Some("s3.retention_days"));
    assert_eq!(err.location().map(|l| l.line), Some(3));
}

#[test]
fn load_distinguishes_a_missing_file_from_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    assert!(matches!(
        Config::load(&missing),
        Err(ConfigError::NotFound { .. })
    ));
    assert_eq!(
        Config::load_or_default(&missing).unwrap(),
        Config::default()
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[http]\nmax_retries = \"three\"\n").unwrap();
    let err = Config::load_or_default(&bad).unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    assert_eq!(err.key(), Some("http.max_retries"));

    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, b"a = \"\xff\"\n").unwrap();
    assert!(matches!(
        Config::load(&binary),
        Err(ConfigError::NotUtf8 { offset: 5, .. })
    ));
}

#[test]
fn summary_names_every_service() {
    let lines = summary(&full_config());
    let sections: Vec<&str> = lines.iter().map(|(section, _)| *section).collect();
    assert_eq!(
        sections,
        [
            "analyst",
            "cloudflare",
            "datadog",
            "axiom",
            "confluence",
            "linear",
            "pagerduty",
            "archive",
            "checks",
            "workflows",
            "agents"
        ]
    );
    let text: Vec<String> = lines.iter().map(|(s, d)| format!("{s} {d}")).collect();
    assert!(
        text.contains(
            &"cloudflare 1 account, audit logs v1, http://127.0.0.1:4010/client/v4".to_owned()
        ),
        "{text:#?}"
    );
    assert!(text.contains(&"archive s3://soc-archive/tokens/, http://127.0.0.1:9000, COMPLIANCE lock for 365 days".to_owned()), "{text:#?}");
    let defaults: Vec<String> = summary(&Config::default())
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert!(defaults[1].starts_with("not configured"), "{defaults:#?}");
}

fn env(vars: &[(&str, &str)]) -> EnvOverrides {
    EnvOverrides::from_vars(vars.iter().map(|(k, v)| (*k, *v)))
}

fn with_env(text: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    Config::from_sources(text, "test.toml", &env(vars))
}

#[test]
fn environment_variables_are_applied_over_the_file() {
    let loaded = with_env(
        "[http]\nrequest_timeout = \"10s\"\nmax_retries = 1\n",
        &[
            ("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45s"),
            ("SOC_TUI__DATADOG__SITE", "datadoghq.eu"),
            ("SOC_TUI__AGENTS__INVESTIGATOR__PROVIDER", "openai"),
            ("SOC_TUI__AGENTS__INVESTIGATOR__MODEL", "llama3"),
            (
                "SOC_TUI__LINEAR__LABELS__BASELINE",
                "[\"soc\", \"baseline\"]",
            ),
        ],
    )
    .unwrap();
    let config = &loaded.config;
    assert_eq!(config.http.request_timeout.get().as_secs(), 45);
    assert_eq!(config.http.max_retries, 1);
    assert_eq!(config.datadog.site, Some(DatadogSite::Eu1));
    assert_eq!(
        config.agent("investigator").model.as_deref(),
        Some("llama3")
    );
    assert_eq!(config.linear.labels.baseline, ["soc", "baseline"]);
    let origin = |key: &str| loaded.provenance.origin(key).to_string();
    assert_eq!(
        origin("http.request_timeout"),
        "env:SOC_TUI__HTTP__REQUEST_TIMEOUT"
    );
    assert_eq!(origin("http.max_retries"), "file:test.toml:3");
    assert_eq!(origin("http.connect_timeout"), "default");
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable_not_a_line() {
    let err = with_env(
        "[http]\nmax_retries = 1\n",
        &[("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45 seconds")],
    )
    .unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__HTTP__REQUEST_TIMEOUT"));
    assert_eq!(err.key(), Some("http.request_timeout"));
    assert_eq!(err.location(), None);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "config error in environment variable SOC_TUI__HTTP__REQUEST_TIMEOUT: key `http.request_timeout`: bad duration"
        ),
        "{text}"
    );

    let err = with_env("", &[("SOC_TUI__DATADOG__SITE", "datadoghq.nowhere")]).unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__DATADOG__SITE"));
    let err = with_env("", &[("SOC_TUI__HTTP__RETRIES", "2")]).unwrap_err();
    assert!(err.to_string().contains("unknown key `retries`"), "{err}");
    assert_eq!(err.env_var(), Some("SOC_TUI__HTTP__RETRIES"));
}

#[test]
fn cross_field_errors_name_the_variable_that_set_the_key() {
    let err = with_env(
        "[datadog]\nsite = \"datadoghq.eu\"\n",
        &[("SOC_TUI__DATADOG__API_BASE", "http://127.0.0.1:9")],
    )
    .unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__DATADOG__API_BASE"));
    assert_eq!(err.key(), Some("datadog.api_base"));
    let err = with_env("", &[("SOC_TUI__HTTP__MAX_RETRIES", "11")]).unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__HTTP__MAX_RETRIES"));
    assert!(err.to_string().contains("between 0 and 10"), "{err}");
}

#[test]
fn secrets_cannot_come_in_through_the_environment_either() {
    let err = with_env("", &[("SOC_TUI__LINEAR__API_KEY", "lin_api_SUPERSECRET")]).unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__LINEAR__API_KEY"));
    let text = format!("{err} {err:?}");
    assert!(text.contains("soc-tui auth set linear"), "{text}");
    assert!(!text.contains("SUPERSECRET"), "{text}");
    let err = with_env("", &[("SOC_TUI__SLACK__TOKEN", "xoxb-SUPERSECRET")]).unwrap_err();
    assert!(err.to_string().contains("looks like a secret"), "{err}");
    assert!(!err.to_string().contains("SUPERSECRET"), "{err}");
    // Inside an inline table a variable holds, too.
    let err = with_env(
        "",
        &[(
            "SOC_TUI__AGENTS__BOT",
            "{ provider = \"openai\", api_key = \"sk-SUPERSECRET\" }",
        )],
    )
    .unwrap_err();
    assert_eq!(err.env_var(), Some("SOC_TUI__AGENTS__BOT"));
    assert_eq!(err.key(), Some("agents.bot.api_key"));
    assert!(!format!("{err} {err:?}").contains("SUPERSECRET"));
    // Names of tables are not values: an agent may be called token-watch.
    let loaded = with_env(
        "",
        &[("SOC_TUI__AGENTS__TOKEN-WATCH__PROVIDER", "heuristic")],
    )
    .unwrap();
    assert!(loaded.config.agents.contains_key("token-watch"));
    // Vocabulary keys are verbs, whatever words they hold.
    let loaded = with_env(
        "",
        &[(
            "SOC_TUI__CLOUDFLARE__ACTION_KINDS__API_TOKEN_ROTATE",
            "update",
        )],
    )
    .unwrap();
    assert!(
        loaded
            .config
            .cloudflare
            .action_kinds
            .iter()
            .any(|(verb, _)| verb == "api_token_rotate")
    );
}

#[test]
fn a_missing_file_still_takes_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let loaded =
        Config::load_layers(&missing, &env(&[("SOC_TUI__OUTBOX__MAX_ATTEMPTS", "7")])).unwrap();
    assert_eq!(loaded.config.outbox.max_attempts, 7);
    assert_eq!(loaded.provenance.file(), None);
    assert_eq!(
        loaded.provenance.origin("outbox.concurrency"),
        Origin::Default
    );
}

#[test]
fn every_setting_is_listed_with_its_origin() {
    let loaded = with_env(
        "[analyst]\nname = \"alice\"\n\n[agents.investigator]\nprovider = \"anthropic\"\nmodel = \"m\"\n",
        &[("SOC_TUI__OUTBOX__CONCURRENCY", "8")],
    )
    .unwrap();
    let listed = settings(&loaded.config, &loaded.provenance).unwrap();
    let find = |key: &str| {
        listed
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("{key} not listed"))
    };
    assert_eq!(find("analyst.name").origin.to_string(), "file:test.toml:2");
    assert_eq!(find("outbox.concurrency").value, toml::Value::Integer(8));
    assert_eq!(
        find("outbox.concurrency").origin.to_string(),
        "env:SOC_TUI__OUTBOX__CONCURRENCY"
    );
    assert_eq!(
        find("agents.investigator.model").origin.to_string(),
        "file:test.toml:6"
    );
    assert_eq!(find("agents.investigator.timeout").origin, Origin::Default);
    assert_eq!(find("s3.region").origin, Origin::Default);
    // Unset optional keys are not settings in force.
    assert!(listed.iter().all(|s| s.key != "datadog.site"));
}

#[test]
fn every_workflow_defaults_to_dry_run_and_each_can_be_set() {
    use crate::config::{WorkflowMode, WorkflowsConfig};
    let defaults = Config::default().workflows;
    assert_eq!(defaults, WorkflowsConfig::all(WorkflowMode::DryRun));
    assert_eq!(parse("").unwrap().workflows, defaults);
    assert_eq!(parse("[workflows]\n").unwrap().workflows, defaults);
    let config =
        parse("[workflows]\nbaseline = \"off\"\ntokens = \"on\"\ninvestigation = \"dry-run\"\n")
            .unwrap();
    assert_eq!(
        config.workflows,
        WorkflowsConfig {
            baseline: WorkflowMode::Off,
            bursts: WorkflowMode::DryRun,
            tokens: WorkflowMode::On,
            investigation: WorkflowMode::DryRun,
        }
    );
    let lines = summary(&config);
    let workflows = lines.iter().find(|(s, _)| *s == "workflows").unwrap();
    assert!(
        workflows
            .1
            .starts_with("baseline off, bursts dry-run, tokens on, investigation dry-run"),
        "{workflows:?}"
    );
}
