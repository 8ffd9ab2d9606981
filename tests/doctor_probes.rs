//! `soc-tui doctor`: each probe against loopback fakes of its service, one
//! case per outcome (ok, unreachable, not authenticated, permission
//! missing, misconfigured, failed) with the fix it names; the real binary's
//! `doctor --json` (statuses, exit code, no secret in the output); Linear's
//! `teams` document against the published schema; and the probes' requests
//! against the official specs served by Prism.

mod common;

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::Command;

use serde_json::{Value, json};
use soc_tui::config::Config;
use soc_tui::secrets::{MemoryKeychain, Resolver};
use soc_tui::setup::{Check, DoctorReport, Status};

use common::fake_server::{FakeServer, Received, Reply, reply};
use common::prism::Prism;
use common::{spec_patch, specs_dir};

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const TEAM: &str = "9cfb482a-81e3-4154-b5b9-2c805e70a02d";
/// Every secret the tests hand over; none may appear in any output.
const SECRETS: [(&str, &str); 10] = [
    ("SOC_TUI_CLOUDFLARE_TOKEN", "SENTINEL-cf-token-1b2c"),
    ("SOC_TUI_DATADOG_API_KEY", "SENTINEL-dd-api-3d4e"),
    ("SOC_TUI_DATADOG_APP_KEY", "SENTINEL-dd-app-5f6a"),
    ("SOC_TUI_CONFLUENCE_TOKEN", "SENTINEL-wiki-7b8c"),
    ("SOC_TUI_LINEAR_API_KEY", "SENTINEL-lin-9d0e"),
    (
        "SOC_TUI_PAGERDUTY_ROUTING_KEY",
        "e93facc04764012d7bfb002500d5d1a6",
    ),
    ("SOC_TUI_S3_ACCESS_KEY_ID", "SENTINELAKID0001"),
    ("SOC_TUI_S3_SECRET_ACCESS_KEY", "SENTINEL-s3-secret-2f3a"),
    ("SOC_TUI_AXIOM_TOKEN", "SENTINEL-axiom-4b5c"),
    ("SOC_TUI_LLM_API_KEY", "SENTINEL-llm-6d7e"),
];

fn json_reply(status: u16, body: &Value) -> Reply {
    reply(
        status,
        &[("content-type", "application/json")],
        &body.to_string(),
    )
}

/// A model answer of the investigator's shape, citing the probe's event.
fn model_answer() -> Value {
    let answer = json!({
        "verdict": "benign", "confidence": 0.9, "summary": "an ordinary login",
        "indicators": [{"title": "routine login", "severity": "low", "event_ids": ["cf:doctor-probe-1"]}],
        "next_step": {"action": "no_action", "detail": "nothing to do"},
        "instructions_in_data": false
    });
    json!({"id": "c1", "object": "chat.completion", "choices": [{"index": 0,
        "finish_reason": "stop", "message": {"role": "assistant", "content": answer.to_string()}}]})
}

/// One fake per service, answering like a healthy install.
async fn healthy() -> FakeServer {
    FakeServer::serve(|request: &Received| {
        let path = request.path().to_owned();
        match (request.method(), path.as_str()) {
            ("GET", p) if p.ends_with("/logs/audit") => json_reply(
                200,
                &json!({"success": true, "errors": [], "messages": [], "result": [],
                        "result_info": {"count": "0", "cursor": ""}}),
            ),
            ("GET", "/api/v2/audit/events") => json_reply(200, &json!({"data": [], "meta": {}})),
            ("GET", "/wiki/api/v2/spaces") => {
                let key = request.query("keys").unwrap_or_default();
                let results = if key == "SEC" {
                    json!([{"id": "98304", "key": "SEC", "name": "Security"}])
                } else {
                    json!([])
                };
                json_reply(200, &json!({"results": results}))
            }
            ("GET", "/wiki/api/v2/pages/123") => {
                json_reply(200, &json!({"id": "123", "title": "Incident reports"}))
            }
            ("POST", "/graphql") => json_reply(
                200,
                &json!({"data": {"teams": {"nodes": [
                    {"id": TEAM, "key": "SEC", "name": "Security"},
                    {"id": "11111111-2222-3333-4444-555555555555", "key": "OPS", "name": "Ops"}
                ]}}}),
            ),
            // The SDK asks for the bucket with a trailing slash.
            ("HEAD", "/soc-archive/") => reply(200, &[], ""),
            ("GET", "/v1/datasets/audit-events") => json_reply(
                200,
                &json!({"name": "audit-events", "created": "2026-01-02T03:04:05Z"}),
            ),
            ("GET", "/services/PWIXJZS") => {
                json_reply(200, &json!({"service": {"id": "PWIXJZS", "name": "SOC"}}))
            }
            ("POST", "/v1/chat/completions") => json_reply(200, &model_answer()),
            _ => json_reply(404, &json!({"message": format!("fake: no route {path}")})),
        }
    })
    .await
}

/// A config using every service, all at `base`.
fn config_text(base: &str) -> String {
    format!(
        r#"
[cloudflare]
account_ids = ["{ACCOUNT}"]
api_base = "{base}/client/v4"
v1_fallback = false
[datadog]
api_base = "{base}"
[confluence]
base_url = "{base}/wiki"
space_key = "SEC"
parent_page_id = "123"
email = "soc@example.com"
[linear]
api_url = "{base}/graphql"
team_id = "{TEAM}"
[pagerduty]
enabled = true
[s3]
bucket = "soc-archive"
endpoint = "{base}"
path_style = true
[axiom]
enabled = true
api_base = "{base}"
dataset = "audit-events"
[http]
connect_timeout = "2s"
request_timeout = "3s"
max_retries = 0
[agents.investigator]
provider = "openai"
model = "test-model"
base_url = "{base}/v1"
timeout = "5s"
max_tokens = 777
"#
    )
}

/// The doctor on `config`, with `secrets` (env var, value) as the environment.
async fn doctor(config: String, secrets: Vec<(&'static str, String)>) -> DoctorReport {
    doctor_with_prompt(config, secrets, None).await
}

/// The doctor with a config dir of its own, holding `system_prompt` as the
/// investigator's system prompt override when given.
async fn doctor_with_prompt(
    config: String,
    secrets: Vec<(&'static str, String)>,
    system_prompt: Option<String>,
) -> DoctorReport {
    tokio::task::spawn_blocking(move || {
        let config = Config::from_toml_str(&config, "test config").expect("a valid config");
        let env: HashMap<&str, String> = secrets.into_iter().collect();
        let lookup = move |name: &str| env.get(name).map(OsString::from);
        let keychain = MemoryKeychain::default();
        let data = tempfile::tempdir().expect("temp dir");
        let config_dir = tempfile::tempdir().expect("temp dir");
        if let Some(text) = system_prompt {
            let prompts = config_dir.path().join("prompts");
            std::fs::create_dir_all(&prompts).unwrap();
            std::fs::write(prompts.join("investigator_system.md"), text).unwrap();
        }
        soc_tui::setup::doctor(
            &config,
            &config_dir.path().join("config.toml"),
            &Resolver::new(&lookup, &keychain),
            data.path(),
        )
    })
    .await
    .expect("the doctor ran")
}

fn all_secrets() -> Vec<(&'static str, String)> {
    SECRETS.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn find<'a>(report: &'a DoctorReport, service: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.service == service)
        .unwrap_or_else(|| panic!("no {service} check in {report:#?}"))
}

fn assert_no_secret(text: &str) {
    for (_, value) in SECRETS {
        assert!(!text.contains(value), "a secret leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_install_is_ok_everywhere_with_a_fact_per_service() {
    let server = healthy().await;
    // The model is asked with the prompts in force, overrides included.
    let system = "OVERRIDDEN-SYSTEM-PROMPT for the doctor\n\n{{answer_format}}\n".to_owned();
    let report = doctor_with_prompt(config_text(&server.base()), all_secrets(), Some(system)).await;
    assert_eq!(report.failed, 0, "{}", report.table());
    let fact = |service: &str| find(&report, service).detail.clone();
    assert!(
        fact("cloudflare").contains("audit logs readable (v2"),
        "{}",
        report.table()
    );
    assert!(
        fact("confluence").contains("space SEC id 98304"),
        "{}",
        report.table()
    );
    assert!(
        fact("confluence").contains("\"Incident reports\""),
        "{}",
        report.table()
    );
    assert!(
        fact("linear").contains("team SEC (Security)"),
        "{}",
        report.table()
    );
    assert!(
        fact("pagerduty").contains("not verified remotely"),
        "{}",
        report.table()
    );
    assert!(
        fact("archive").contains("bucket soc-archive reachable"),
        "{}",
        report.table()
    );
    assert!(
        fact("axiom").contains("dataset audit-events found"),
        "{}",
        report.table()
    );
    assert!(
        fact("agent").contains("valid JSON of the expected shape"),
        "{}",
        report.table()
    );
    assert_no_secret(&report.table());

    let requests = server.received();
    let chat = requests
        .iter()
        .find(|r| r.path() == "/v1/chat/completions")
        .expect("the agent was asked");
    assert_eq!(
        chat.json()["max_tokens"],
        777,
        "agents.<name>.max_tokens is sent"
    );
    assert!(
        chat.json()["messages"][0]["content"]
            .as_str()
            .is_some_and(|system| system.starts_with("OVERRIDDEN-SYSTEM-PROMPT")),
        "the override in the config dir is the system prompt"
    );
    let audit = requests
        .iter()
        .find(|r| r.path().ends_with("/logs/audit"))
        .expect("cloudflare was read");
    assert_eq!(audit.query("limit").as_deref(), Some("1"));
    assert_eq!(
        audit.header("authorization"),
        Some("Bearer SENTINEL-cf-token-1b2c")
    );
    let linear = requests.iter().find(|r| r.path() == "/graphql").unwrap();
    assert_eq!(
        linear.json()["query"],
        soc_tui::setup::probes::linear::TEAMS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_is_named_with_its_fix() {
    let server = FakeServer::serve(|request: &Received| {
        match (request.method(), request.path()) {
            // Both Datadog keys refused: the API key alone is refused too.
            ("GET", "/api/v2/audit/events") | ("GET", "/api/v1/validate") => {
                json_reply(403, &json!({"errors": ["Forbidden"]}))
            }
            ("GET", "/wiki/api/v2/spaces") => json_reply(200, &json!({"results": []})),
            ("POST", "/graphql") => json_reply(
                400,
                &json!({"errors": [{"message": "Authentication required, not authenticated",
                                    "extensions": {"type": "authentication error"}}]}),
            ),
            ("HEAD", "/soc-archive/") => reply(301, &[("x-amz-bucket-region", "eu-west-1")], ""),
            ("GET", "/v1/datasets/audit-events") => {
                json_reply(404, &json!({"code": 404, "message": "dataset not found"}))
            }
            ("POST", "/v1/chat/completions") => json_reply(
                401,
                &json!({"error": {"message": "Incorrect API key provided"}}),
            ),
            ("GET", p) if p.ends_with("/logs/audit") => reply(
                429,
                &[("retry-after", "120")],
                r#"{"success":false,"errors":[{"message":"rate limited"}]}"#,
            ),
            _ => json_reply(500, &json!({"message": "fake: unexpected"})),
        }
    })
    .await;
    let mut secrets = all_secrets();
    secrets.retain(|(var, _)| *var != "SOC_TUI_PAGERDUTY_ROUTING_KEY");
    let report = doctor(config_text(&server.base()), secrets).await;
    let table = report.table();
    let expect = |service: &str, status: Status, detail: &str, fix: &str| {
        let check = find(&report, service);
        assert_eq!(check.status, status, "{service}: {table}");
        assert!(check.detail.contains(detail), "{service} detail: {table}");
        let shown = check.fix.as_deref().unwrap_or("");
        assert!(shown.contains(fix), "{service} fix: {table}");
    };
    expect(
        "cloudflare",
        Status::Failed,
        "rate limited",
        "soc-tui doctor",
    );
    expect(
        "datadog",
        Status::NotAuthenticated,
        "rejected the API key",
        "soc-tui auth set datadog-api-key",
    );
    expect(
        "confluence",
        Status::Misconfigured,
        "no space with key SEC",
        "confluence.space_key",
    );
    expect(
        "linear",
        Status::NotAuthenticated,
        "refused the API key",
        "soc-tui auth set linear",
    );
    expect(
        "pagerduty",
        Status::NotAuthenticated,
        "no pagerduty-routing-key",
        "SOC_TUI_PAGERDUTY_ROUTING_KEY",
    );
    expect(
        "archive",
        Status::Misconfigured,
        "region eu-west-1",
        "s3.region = \"eu-west-1\"",
    );
    expect("axiom", Status::Misconfigured, "404", "axiom.dataset");
    expect(
        "agent",
        Status::NotAuthenticated,
        "401",
        "soc-tui auth set llm-api-key",
    );
    assert_eq!(report.failed, 8, "{table}");
    assert_no_secret(&table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datadog_app_key_permission_linear_team_and_unreachable_hosts() {
    let server = FakeServer::serve(|request: &Received| match request.path() {
        "/api/v2/audit/events" => json_reply(403, &json!({"errors": ["Forbidden"]})),
        "/api/v1/validate" => json_reply(200, &json!({"valid": true})),
        "/graphql" => json_reply(
            200,
            &json!({"data": {"teams": {"nodes": [{"id": "11111111-2222-3333-4444-555555555555",
                                                  "key": "OPS", "name": "Ops"}]}}}),
        ),
        "/wiki/api/v2/spaces" => json_reply(401, &json!({"message": "Unauthorized"})),
        "/v1/chat/completions" => json_reply(
            200,
            &json!({"choices": [{"finish_reason": "stop",
                "message": {"content": "{\"verdict\": \"benign\"}"}}]}),
        ),
        _ => Reply::Hang,
    })
    .await;
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = config_text(&server.base()).replace(
        &format!("{}/client/v4", server.base()),
        &format!("http://{closed}/client/v4"),
    );
    let report = doctor(text, all_secrets()).await;
    let table = report.table();
    let check = |service: &str| find(&report, service).clone();

    let datadog = check("datadog");
    assert_eq!(datadog.status, Status::PermissionMissing, "{table}");
    assert!(datadog.detail.contains("API key is valid"), "{table}");
    assert!(
        datadog.fix.unwrap().contains("auth set datadog-app-key"),
        "{table}"
    );

    let linear = check("linear");
    assert_eq!(linear.status, Status::Misconfigured, "{table}");
    assert!(linear.detail.contains("OPS = 11111111"), "{table}");
    assert!(linear.fix.unwrap().contains("linear.team_id"), "{table}");

    let confluence = check("confluence");
    assert_eq!(confluence.status, Status::NotAuthenticated, "{table}");
    let fix = confluence.fix.unwrap();
    assert!(
        fix.contains("auth set confluence") && fix.contains("confluence.email"),
        "{fix}"
    );

    let cloudflare = check("cloudflare");
    assert_eq!(cloudflare.status, Status::Unreachable, "{table}");
    assert!(cloudflare.detail.contains(&closed.to_string()), "{table}");
    assert!(
        cloudflare.fix.unwrap().contains("cloudflare.api_base"),
        "{table}"
    );

    // The fake never answers HEAD or the dataset: the probe's time limit.
    let axiom = check("axiom");
    assert_eq!(axiom.status, Status::Unreachable, "{table}");

    let agent = check("agent");
    assert_eq!(agent.status, Status::Failed, "{table}");
    assert!(agent.detail.contains("not as asked"), "{table}");
    assert!(agent.fix.unwrap().contains("max_tokens"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_rest_reads_the_configured_service() {
    let server = FakeServer::serve(|request: &Received| match request.path() {
        "/services/PWIXJZS"
            if request.header("authorization") == Some("Token token=SENTINEL-pd-rest") =>
        {
            json_reply(200, &json!({"service": {"id": "PWIXJZS", "name": "SOC"}}))
        }
        _ => json_reply(
            404,
            &json!({"error": {"code": 2100, "message": "Not Found"}}),
        ),
    })
    .await;
    let base = server.base();
    let config = |service: &str| {
        format!(
            "[pagerduty]\nenabled = true\nrest_base = \"{base}\"\nrouting_key_name = \"pagerduty-api-key\"\n\
             from_email = \"oncall@example.com\"\nservice_id = \"{service}\"\n"
        )
    };
    let key = vec![("SOC_TUI_PAGERDUTY_API_KEY", "SENTINEL-pd-rest".to_owned())];
    let ok = doctor(config("PWIXJZS"), key.clone()).await;
    let pd = find(&ok, "pagerduty");
    assert_eq!(pd.status, Status::Ok, "{}", ok.table());
    assert!(
        pd.detail.contains("service PWIXJZS \"SOC\""),
        "{}",
        ok.table()
    );
    let request = &server.received()[0];
    assert_eq!(
        request.header("accept"),
        Some("application/vnd.pagerduty+json;version=2")
    );

    let missing = doctor(config("PNOPE00"), key).await;
    let pd = find(&missing, "pagerduty");
    assert_eq!(pd.status, Status::Misconfigured, "{}", missing.table());
    assert!(pd.fix.as_deref().unwrap().contains("pagerduty.service_id"));
}

/// The binary: `doctor --json` is one stable document, and the exit code
/// says whether a configured service fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_json_from_the_binary() {
    let server = healthy().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text(&server.base())).unwrap();
    let run = |secrets: Vec<(&'static str, &'static str)>| {
        let dir = dir.path().to_owned();
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_soc-tui"));
            command
                .env_clear()
                .env("HOME", &dir)
                .env("XDG_RUNTIME_DIR", &dir)
                .args(["--config"])
                .arg(&config)
                .arg("--data-dir")
                .arg(dir.join("data"))
                .args(["doctor", "--json"]);
            for (var, value) in secrets {
                command.env(var, value);
            }
            command.output().expect("running soc-tui")
        })
    };
    let all = run(SECRETS.to_vec()).await.unwrap();
    let stdout = String::from_utf8(all.stdout.clone()).unwrap();
    assert_eq!(
        all.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let json: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(json["schema"], "soc-tui.doctor.v1");
    assert_eq!(json["failed"], 0);
    let services: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        [
            "cloudflare",
            "datadog",
            "confluence",
            "linear",
            "pagerduty",
            "archive",
            "axiom",
            "agent"
        ]
    );
    for check in json["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "ok", "{check}");
    }

    // Without the Linear key and the routing key: two failures, exit 2.
    let some: Vec<(&str, &str)> = SECRETS
        .iter()
        .copied()
        .filter(|(var, _)| {
            !matches!(
                *var,
                "SOC_TUI_LINEAR_API_KEY" | "SOC_TUI_PAGERDUTY_ROUTING_KEY"
            )
        })
        .collect();
    let partial = run(some).await.unwrap();
    let stdout = String::from_utf8(partial.stdout.clone()).unwrap();
    let stderr = String::from_utf8(partial.stderr.clone()).unwrap();
    assert_eq!(partial.status.code(), Some(2), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["failed"], 2, "{json:#}");
    let linear = &json["checks"][3];
    assert_eq!(linear["status"], "not_authenticated", "{json:#}");
    assert!(
        linear["fix"]
            .as_str()
            .unwrap()
            .contains("SOC_TUI_LINEAR_API_KEY"),
        "{json:#}"
    );
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);

    // The table says the same for people.
    let table = tokio::task::spawn_blocking({
        let config = config.clone();
        let dir = dir.path().to_owned();
        move || {
            Command::new(env!("CARGO_BIN_EXE_soc-tui"))
                .env_clear()
                .env("HOME", &dir)
                .arg("--config")
                .arg(&config)
                .arg("--data-dir")
                .arg(dir.join("data"))
                .arg("doctor")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert_eq!(table.status.code(), Some(2), "{text}");
    assert!(text.contains("not authenticated"), "{text}");
    // No keychain in this environment: the fix names the variable to set.
    assert!(
        text.contains("fix: set SOC_TUI_CLOUDFLARE_TOKEN in the environment"),
        "{text}"
    );
    assert!(
        text.contains("configured services need attention"),
        "{text}"
    );
}

#[test]
fn the_teams_document_is_valid_against_linears_schema() {
    let Some(specs) = specs_dir() else {
        return;
    };
    let sdl = std::fs::read_to_string(specs.join("linear/schema.graphql")).unwrap();
    let schema = apollo_compiler::Schema::parse_and_validate(sdl, "schema.graphql")
        .unwrap_or_else(|e| panic!("Linear's schema does not validate: {}", e.errors));
    apollo_compiler::ExecutableDocument::parse_and_validate(
        &schema,
        soc_tui::setup::probes::linear::TEAMS,
        "teams.graphql",
    )
    .unwrap_or_else(|e| {
        panic!(
            "the teams query is not valid against Linear's schema:\n{}",
            e.errors
        )
    });
    let misspelt = soc_tui::setup::probes::linear::TEAMS.replace("key", "kee");
    assert!(
        apollo_compiler::ExecutableDocument::parse_and_validate(&schema, misspelt, "x.graphql")
            .is_err()
    );
}

/// Requests Prism found invalid so far.
fn violations(prism: &Prism) -> usize {
    prism
        .output()
        .matches("Request did not pass the validation rules")
        .count()
}

async fn doctor_against(prism: &Prism, config: String) -> DoctorReport {
    let report = doctor(config, all_secrets()).await;
    assert_eq!(
        violations(prism),
        0,
        "{}\n{}",
        report.table(),
        prism.output()
    );
    report
}

/// Cloudflare v2, Datadog, Confluence (space and parent page), Axiom's
/// dataset and PagerDuty's service, each probe's request sent to Prism
/// serving the official description (`--errors`: an invalid request is
/// refused and logged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_requests_match_the_official_specs() {
    let Some(specs) = specs_dir() else {
        return;
    };
    let http = "[http]\nconnect_timeout = \"5s\"\nrequest_timeout = \"20s\"\nmax_retries = 0\n";

    let Some(cf) = Prism::start("cloudflare/openapi.audit-logs-v2.prism-patched.yaml") else {
        return;
    };
    let report = doctor_against(
        &cf,
        format!("[cloudflare]\naccount_ids = [\"{ACCOUNT}\"]\napi_base = \"{}\"\nv1_fallback = false\n{http}", cf.base_url()),
    )
    .await;
    assert_eq!(
        find(&report, "cloudflare").status,
        Status::Ok,
        "{}",
        report.table()
    );
    drop(cf);

    let Some(dd) = Prism::start("datadog/openapi-v2-audit.trimmed.yaml") else {
        return;
    };
    let report = doctor_against(
        &dd,
        format!("[datadog]\napi_base = \"{}\"\n{http}", dd.base_url()),
    )
    .await;
    assert_eq!(
        find(&report, "datadog").status,
        Status::Ok,
        "{}",
        report.table()
    );
    drop(dd);

    // Prism serves the paths without the spec's /wiki/api/v2 prefix; the
    // probe appends api/v2 to base_url, so strip it back off with a proxy.
    let (_pages_dir, wiki_spec) = spec_patch::with_operation(
        &specs.join("confluence/openapi-v2.trimmed.prism-patched.json"),
        &specs.join("confluence/openapi-v2.full.json"),
        "/pages/{id}",
        "get",
    );
    let Some(wiki) = Prism::start_file(&wiki_spec) else {
        return;
    };
    let upstream = wiki.base_url();
    let proxy = FakeServer::with_handler(std::sync::Arc::new(move |request: Received| {
        let upstream = upstream.clone();
        Box::pin(async move { forward(&upstream, "/wiki/api/v2", &request, false).await })
    }))
    .await;
    let report = doctor_against(
        &wiki,
        format!(
            "[confluence]\nbase_url = \"{}/wiki\"\nspace_key = \"SEC\"\nparent_page_id = \"123\"\nemail = \"soc@example.com\"\n{http}",
            proxy.base()
        ),
    )
    .await;
    let confluence = find(&report, "confluence");
    // Prism's generated space is not called SEC: the lookup itself passed.
    assert!(
        matches!(confluence.status, Status::Ok | Status::Misconfigured),
        "{}",
        report.table()
    );
    assert!(proxy.count() >= 1);
    drop(wiki);

    let (_axiom_dir, axiom_spec) = spec_patch::with_operation(
        &specs.join("axiom/openapi-v1.trimmed.prism-patched.json"),
        &specs.join("axiom/openapi-v1.json"),
        "/datasets/{dataset_name}",
        "get",
    );
    let Some(axiom) = Prism::start_file(&axiom_spec) else {
        return;
    };
    // The probe appends /v1 to api_base; Prism serves without it.
    let upstream = axiom.base_url();
    let proxy = FakeServer::with_handler(std::sync::Arc::new(move |request: Received| {
        let upstream = upstream.clone();
        Box::pin(async move { forward(&upstream, "/v1", &request, false).await })
    }))
    .await;
    let report = doctor_against(
        &axiom,
        format!(
            "[axiom]\nenabled = true\napi_base = \"{}\"\ndataset = \"audit-events\"\n{http}",
            proxy.base()
        ),
    )
    .await;
    assert_eq!(
        find(&report, "axiom").status,
        Status::Ok,
        "{}",
        report.table()
    );
    drop(axiom);

    let (_pd_dir, pd_spec) = spec_patch::with_operation(
        &specs.join("pagerduty/rest-openapiv3.trimmed.json"),
        &specs.join("pagerduty/rest-openapiv3.full.json"),
        "/services/{id}",
        "get",
    );
    let Some(pd) = Prism::start_file(&pd_spec) else {
        return;
    };
    let upstream = pd.base_url();
    let proxy = FakeServer::with_handler(std::sync::Arc::new(move |request: Received| {
        let upstream = upstream.clone();
        Box::pin(async move { forward(&upstream, "", &request, true).await })
    }))
    .await;
    let mut secrets = all_secrets();
    secrets.push(("SOC_TUI_PAGERDUTY_API_KEY", "SENTINEL-pd-rest".to_owned()));
    let report = doctor(
        format!(
            "[pagerduty]\nenabled = true\nrest_base = \"{}\"\nrouting_key_name = \"pagerduty-api-key\"\n\
             from_email = \"oncall@example.com\"\nservice_id = \"PWIXJZS\"\n{http}",
            proxy.base()
        ),
        secrets,
    )
    .await;
    assert_eq!(violations(&pd), 0, "{}", pd.output());
    assert_eq!(
        find(&report, "pagerduty").status,
        Status::Ok,
        "{}",
        report.table()
    );
}

/// Sends `request` to `upstream` with `prefix` taken off its path, and
/// hands back the answer (status, content type and body). With
/// `accept_json`, `Accept` gets `, application/json` appended: Prism
/// negotiates on the spec's media type, while PagerDuty answers JSON to its
/// vendor type.
async fn forward(upstream: &str, prefix: &str, request: &Received, accept_json: bool) -> Reply {
    let target = request.target();
    let path = target.strip_prefix(prefix).unwrap_or(target);
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(request.method().as_bytes()).unwrap();
    let mut outgoing = client.request(method, format!("{upstream}{path}"));
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if accept_json && name.eq_ignore_ascii_case("accept") {
            outgoing = outgoing.header("accept", format!("{value}, application/json"));
        } else {
            outgoing = outgoing.header(name.as_str(), value.as_str());
        }
    }
    match outgoing.body(request.body.clone()).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned();
            let body = response.text().await.unwrap_or_default();
            reply(status, &[("content-type", &content_type)], &body)
        }
        Err(error) => reply(502, &[], &format!("proxy: {error}")),
    }
}
