//! The four destinations behind fault-injecting proxies: the demo's Linear,
//! PagerDuty and Confluence simulators (Linear refuses an issue id it
//! already has, Confluence a title already in the space, PagerDuty merges
//! triggers by dedup key into one incident) and moto's S3 server (which
//! enforces `If-None-Match: *` itself; the proxy lets creates of one key
//! reach it one at a time, as S3's atomic conditional write would).

use std::time::Duration;

use serde_json::Value;
use soc_tui::config::ObjectLockMode;
use soc_tui::demo::sim::confluence::ConfluenceSim;
use soc_tui::demo::sim::linear::LinearSim;
use soc_tui::demo::sim::pagerduty::PagerDutySim;
use soc_tui::secrets::Secret;
use soc_tui::sinks::archive::{S3Archive, S3Settings};

use crate::common::fake_server::Received;
use crate::common::fault_proxy::{Destination, FaultPlan, FaultProxy, Subject};
use crate::common::moto::Moto;

pub const LINEAR_KEY: &str = "lin_api_faultrun0000000000000000000000000";
pub const PAGERDUTY_KEY: &str = "R0UTINGKEYFAULTRUN00000000000000";
pub const CONFLUENCE_EMAIL: &str = "soc@example.com";
pub const CONFLUENCE_TOKEN: &str = "confluence-fault-run-token";
pub const S3_KEY_ID: &str = "testing";
pub const S3_SECRET: &str = "testing";
pub const BUCKET: &str = "soc-token-archive";
pub const PREFIX: &str = "soc-tui/";

/// What each destination says when it refuses for good (the dead letter
/// must carry it).
pub const LINEAR_REFUSAL: &str = "Team SEC is archived: new issues cannot be created in it";
pub const PAGERDUTY_REFUSAL: &str = "Event object is invalid";
pub const CONFLUENCE_REFUSAL: &str = "Not permitted to create pages in space SOC";
pub const S3_REFUSAL: &str = "Access Denied by bucket policy";

pub struct Destinations {
    pub linear: LinearSim,
    pub pagerduty: PagerDutySim,
    pub confluence: ConfluenceSim,
    pub moto: Moto,
    pub proxies: Proxies,
}

pub struct Proxies {
    pub linear: FaultProxy,
    pub pagerduty: FaultProxy,
    pub confluence: FaultProxy,
    pub s3: FaultProxy,
}

impl Proxies {
    pub fn all(&self) -> [&FaultProxy; 4] {
        [&self.linear, &self.pagerduty, &self.confluence, &self.s3]
    }
}

fn origin(url: &str) -> String {
    let parsed = url::Url::parse(url).expect("url");
    format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str().expect("host"),
        parsed.port().expect("port")
    )
}

impl Destinations {
    /// `None` when moto is not installed (reported by `Moto::start`).
    pub async fn start(plan: &FaultPlan) -> Option<Destinations> {
        let moto = Moto::start()?;
        let linear = LinearSim::start(Secret::new(LINEAR_KEY.into()))
            .await
            .expect("linear sim");
        let pagerduty = PagerDutySim::start(Secret::new(PAGERDUTY_KEY.into()))
            .await
            .expect("pagerduty sim");
        let confluence =
            ConfluenceSim::start(CONFLUENCE_EMAIL, Secret::new(CONFLUENCE_TOKEN.into()))
                .await
                .expect("confluence sim");
        let seeded = |offset: u64| FaultPlan {
            seed: plan.seed.wrapping_add(offset),
            ..plan.clone()
        };
        let proxies = Proxies {
            linear: FaultProxy::start(
                Destination {
                    name: "linear",
                    upstream: origin(&linear.base_url()),
                    subject: linear_subject,
                    refusal: |_| {
                        (
                            400,
                            "application/json",
                            serde_json::json!({"errors": [{"message": LINEAR_REFUSAL,
                                "extensions": {"type": "invalid input", "code": "INPUT_ERROR",
                                               "userPresentableMessage": LINEAR_REFUSAL}}]})
                            .to_string(),
                        )
                    },
                    throttled: (
                        "application/json",
                        r#"{"errors":[{"message":"Rate limit exceeded","extensions":{"type":"ratelimited","code":"RATELIMITED"}}]}"#,
                    ),
                    // A refused id is a GraphQL error in a 200.
                    created: |status, body| {
                        status == 200
                            && serde_json::from_slice::<Value>(body)
                                .is_ok_and(|v| v["data"]["issueCreate"]["success"] == true)
                    },
                },
                seeded(1),
            )
            .await,
            pagerduty: FaultProxy::start(
                Destination {
                    name: "pagerduty",
                    upstream: origin(&pagerduty.base_url()),
                    subject: pagerduty_subject,
                    refusal: |key| {
                        (
                            400,
                            "application/json",
                            serde_json::json!({"status": "invalid event",
                                "message": PAGERDUTY_REFUSAL,
                                "errors": [format!("'payload.custom_details' of {key} exceeds the size limit")]})
                            .to_string(),
                        )
                    },
                    throttled: (
                        "application/json",
                        r#"{"status":"throttle event","message":"Requests for this service are arriving too quickly. Please retry later.","errors":[]}"#,
                    ),
                    // Accepted: opened an incident or merged into the open one.
                    created: |status, _| status == 202,
                },
                seeded(2),
            )
            .await,
            confluence: FaultProxy::start(
                Destination {
                    name: "confluence",
                    upstream: origin(&confluence.base_url()),
                    subject: confluence_subject,
                    refusal: |_| {
                        (
                            403,
                            "application/json",
                            serde_json::json!({"errors": [{"status": 403, "code": "PERMISSION_DENIED",
                                "title": CONFLUENCE_REFUSAL, "detail": null}]})
                            .to_string(),
                        )
                    },
                    throttled: (
                        "application/json",
                        r#"{"errors":[{"status":429,"code":"TOO_MANY_REQUESTS","title":"Rate limit exceeded","detail":null}]}"#,
                    ),
                    created: |status, _| status == 200,
                },
                seeded(3),
            )
            .await,
            s3: FaultProxy::start(
                Destination {
                    name: "s3",
                    upstream: moto.endpoint(),
                    subject: s3_subject,
                    refusal: |key| {
                        (
                            403,
                            "application/xml",
                            format!(
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>\
                                 <Message>{S3_REFUSAL}</Message><Key>{key}</Key><RequestId>fault-run</RequestId></Error>"
                            ),
                        )
                    },
                    throttled: (
                        "application/xml",
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
                         <Message>Please reduce your request rate.</Message><RequestId>fault-run</RequestId></Error>",
                    ),
                    created: |status, _| status == 200,
                },
                seeded(4),
            )
            .await,
        };
        Some(Destinations {
            linear,
            pagerduty,
            confluence,
            moto,
            proxies,
        })
    }

    /// The config that points every sink at its proxy.
    pub fn config_toml(&self, concurrency: u32) -> String {
        let p = &self.proxies;
        format!(
            r#"[analyst]
name = "alice"

[linear]
api_url = "{linear}/graphql"
team_id = "{team}"

[pagerduty]
enabled = true
events_base = "{pagerduty}/v2"

[confluence]
base_url = "{confluence}/wiki"
space_key = "{space}"
email = "{CONFLUENCE_EMAIL}"

[s3]
bucket = "{BUCKET}"
region = "us-east-1"
endpoint = "{s3}"
path_style = true
prefix = "{PREFIX}"
object_lock_mode = "COMPLIANCE"
retention_days = 1

[http]
connect_timeout = "2s"
request_timeout = "1s"
max_retries = 1

[outbox]
base_backoff = "20ms"
max_backoff = "400ms"
max_attempts = 30
concurrency = {concurrency}
"#,
            linear = p.linear.origin(),
            team = self.linear.team_id(),
            pagerduty = p.pagerduty.origin(),
            confluence = p.confluence.origin(),
            space = self.confluence.space_key(),
            s3 = p.s3.origin(),
        )
    }

    /// The secrets the binary reads from its environment.
    pub fn secret_env() -> [(&'static str, &'static str); 5] {
        [
            ("SOC_TUI_LINEAR_API_KEY", LINEAR_KEY),
            ("SOC_TUI_PAGERDUTY_ROUTING_KEY", PAGERDUTY_KEY),
            ("SOC_TUI_CONFLUENCE_TOKEN", CONFLUENCE_TOKEN),
            ("SOC_TUI_S3_ACCESS_KEY_ID", S3_KEY_ID),
            ("SOC_TUI_S3_SECRET_ACCESS_KEY", S3_SECRET),
        ]
    }

    /// An SDK client straight to moto (no proxy), for setup and inspection:
    /// the archive's own client, built the way the sink builds it.
    pub fn s3_admin(&self) -> aws_sdk_s3::Client {
        let archive = S3Archive::new(S3Settings {
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            endpoint: Some(self.moto.endpoint()),
            path_style: true,
            prefix: PREFIX.into(),
            lock_mode: ObjectLockMode::Off,
            retention_days: 0,
            access_key_id: Secret::new(S3_KEY_ID.into()),
            secret_access_key: Secret::new(S3_SECRET.into()),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 2,
            proxy: None,
        });
        archive.sdk_client().clone()
    }
}

fn json_body(request: &Received) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// `issueCreate` names the issue id it creates; `issue(id:)` the one it
/// looks for; the label lookup names none.
fn linear_subject(request: &Received) -> Subject {
    let body = json_body(request);
    let variables = &body["variables"];
    match text(&variables["input"]["id"]) {
        Some(id) => Subject {
            key: Some(id),
            creates: true,
        },
        None => Subject {
            key: text(&variables["id"]),
            creates: false,
        },
    }
}

fn pagerduty_subject(request: &Received) -> Subject {
    let body = json_body(request);
    Subject {
        key: text(&body["dedup_key"]),
        creates: body["event_action"] == "trigger",
    }
}

/// `POST /pages` creates the page titled in its body; `GET /pages?title=`
/// looks for one; `GET /spaces` is about no page.
fn confluence_subject(request: &Received) -> Subject {
    if request.method() == "POST" {
        return Subject {
            key: text(&json_body(request)["title"]),
            creates: true,
        };
    }
    Subject {
        key: request.query("title"),
        creates: false,
    }
}

/// Path-style `/{bucket}/{key}`: PUT creates, HEAD and GET look.
fn s3_subject(request: &Received) -> Subject {
    let key = request
        .path()
        .strip_prefix(&format!("/{BUCKET}/"))
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    Subject {
        creates: request.method() == "PUT" && key.is_some(),
        key,
    }
}
