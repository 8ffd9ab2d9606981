//! The scripted live attack, replayed into the simulators on the demo
//! clock (script seconds, divided by `--speed`):
//!
//! | t+ | what |
//! |----|------|
//! | 5s | benign look-alike: the on-call admin grants roles and deletes monitors, in business hours, from their usual IP |
//! | 10s | the attacker (an engineer, at night locally, from a never-seen IP) mints a broad API token: all zones, Write groups |
//! | 20-40s | the attacker grants Datadog roles and deletes monitors, from the same IP |
//! | 45s | the anomaly webhook fires at soc-tui's receiver, HMAC-SHA256-signed over `<timestamp>.<body>` |
//!
//! Entries are the generator's planted ones, re-stamped with the moment
//! they are appended, so the pollers find them as fresh events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::watch;

use super::cast::{BROAD_TOKEN_NAME, Cast};
use super::clock::{ScenarioClock, Speed};
use super::history::ScriptedEntries;
use super::sim::server::lock;
use super::sim::{CloudflareFeed, DatadogFeed};
use crate::secrets::Secret;

/// Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
/// as soc-tui's receiver (`webhook::auth`) reads it.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "X-Soc-Tui-Signature";
/// Header carrying the delivery's unique id (the receiver refuses replays).
pub const WEBHOOK_DELIVERY_HEADER: &str = "X-Soc-Tui-Delivery";
/// Attempts to deliver the webhook before giving up (the receiver may
/// still be starting).
const WEBHOOK_ATTEMPTS: u32 = 5;
const WEBHOOK_RETRY_PAUSE: Duration = Duration::from_millis(500);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

const BENIGN_AT: f64 = 5.0;
const BENIGN_SPACING: f64 = 0.8;
const TOKEN_AT: f64 = 10.0;
const ATTACK_FROM: f64 = 20.0;
const ATTACK_UNTIL: f64 = 40.0;
const WEBHOOK_AT: f64 = 45.0;

/// Permission groups of the broad token that apply per zone; the rest are
/// account-level and get an account policy.
const ZONE_GROUPS: [&str; 3] = ["Zone Write", "DNS Write", "Firewall Services Write"];

/// Which part of the story a step tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    BenignBurst,
    BroadToken,
    AttackBurst,
    Webhook,
}

/// A step that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub kind: StepKind,
    /// When the script says it happens (before `--speed`).
    pub script_at: Duration,
    pub at: DateTime<Utc>,
    /// The appended entry's id (none for the webhook).
    pub entry_id: Option<String>,
    /// `appended`, or the webhook's delivery result.
    pub outcome: String,
}

/// Where the anomaly webhook goes, and the secret that signs it.
#[derive(Debug)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: Secret,
}

enum Action {
    Cloudflare(String),
    Datadog { raw: String, ip: Option<String> },
    Webhook,
}

struct Step {
    kind: StepKind,
    at: Duration,
    action: Action,
}

/// Facts the webhook alert states.
#[derive(Debug, Clone)]
struct Alert {
    actor: String,
    ip: String,
    evidence: Vec<(&'static str, String)>,
}

struct Inner {
    steps: Vec<Step>,
    speed: Speed,
    cloudflare: CloudflareFeed,
    datadog: DatadogFeed,
    alert: Alert,
    webhook: watch::Sender<Option<Arc<WebhookTarget>>>,
    log: Mutex<Vec<StepRecord>>,
    finished: watch::Sender<bool>,
    started: AtomicBool,
    /// The runtime the simulators run on; the script runs there too, so
    /// `start` may be called from any thread.
    runtime: tokio::runtime::Handle,
}

/// The live part of the demo. Nothing happens until [`Scenario::start`].
#[derive(Clone)]
pub struct Scenario {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("speed", &self.inner.speed)
            .field("steps", &self.inner.steps.len())
            .field("done", &lock(&self.inner.log).len())
            .finish()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

impl Scenario {
    pub(crate) fn new(
        entries: ScriptedEntries,
        cast: &Cast,
        speed: Speed,
        cloudflare: CloudflareFeed,
        datadog: DatadogFeed,
        runtime: tokio::runtime::Handle,
    ) -> Scenario {
        let mut steps = Vec::new();
        for (i, raw) in entries.benign_burst.into_iter().enumerate() {
            steps.push(Step {
                kind: StepKind::BenignBurst,
                at: secs(BENIGN_AT + BENIGN_SPACING * i as f64),
                action: Action::Datadog { raw, ip: None },
            });
        }
        let mut evidence = vec![("cloudflare", entry_id(&entries.broad_token))];
        steps.push(Step {
            kind: StepKind::BroadToken,
            at: secs(TOKEN_AT),
            action: Action::Cloudflare(entries.broad_token),
        });
        let n = entries.attack_burst.len();
        for (i, raw) in entries.attack_burst.into_iter().enumerate() {
            let spread = if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.0
            };
            evidence.push(("datadog", entry_id(&raw)));
            steps.push(Step {
                kind: StepKind::AttackBurst,
                at: secs(ATTACK_FROM + (ATTACK_UNTIL - ATTACK_FROM) * spread),
                action: Action::Datadog {
                    raw,
                    ip: Some(entries.attacker_ip.clone()),
                },
            });
        }
        steps.push(Step {
            kind: StepKind::Webhook,
            at: secs(WEBHOOK_AT),
            action: Action::Webhook,
        });
        Scenario {
            inner: Arc::new(Inner {
                steps,
                speed,
                cloudflare,
                datadog,
                alert: Alert {
                    actor: cast.attacker.email.clone(),
                    ip: entries.attacker_ip,
                    evidence,
                },
                webhook: watch::channel(None).0,
                log: Mutex::new(Vec::new()),
                finished: watch::channel(false).0,
                started: AtomicBool::new(false),
                runtime,
            }),
        }
    }

    /// Starts the script (on the simulators' runtime); t=0 is now. A second
    /// call does nothing and returns `false`.
    pub fn start(&self) -> bool {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.inner.runtime.spawn(run(Arc::clone(&self.inner)));
        true
    }

    /// Where the anomaly webhook goes. Until this is called the webhook
    /// step waits (the receiver starts with the engine).
    pub fn set_webhook_target(&self, url: impl Into<String>, secret: Secret) {
        self.inner
            .webhook
            .send_replace(Some(Arc::new(WebhookTarget {
                url: url.into(),
                secret,
            })));
    }

    /// What will happen when, in script time.
    pub fn plan(&self) -> Vec<(StepKind, Duration)> {
        self.inner.steps.iter().map(|s| (s.kind, s.at)).collect()
    }

    /// The steps done so far, in order.
    pub fn log(&self) -> Vec<StepRecord> {
        lock(&self.inner.log).clone()
    }

    pub fn is_finished(&self) -> bool {
        *self.inner.finished.borrow()
    }

    /// Resolves when every step has run (the webhook included).
    pub async fn finished(&self) {
        let mut finished = self.inner.finished.subscribe();
        // The sender lives in `inner`, which `self` keeps alive.
        let _ = finished.wait_for(|done| *done).await;
    }

    /// The speed the script runs at.
    pub fn speed(&self) -> Speed {
        self.inner.speed
    }
}

async fn run(inner: Arc<Inner>) {
    let clock = ScenarioClock::start(inner.speed);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(WEBHOOK_TIMEOUT)
        .build();
    // Datadog times are milliseconds: at high speeds two steps can land in
    // the same one, and the log must still say which came first.
    let mut last_stamp: Option<DateTime<Utc>> = None;
    for step in &inner.steps {
        clock.sleep_until(step.at).await;
        let now = match last_stamp {
            Some(last) if Utc::now() <= last => last + chrono::Duration::milliseconds(1),
            _ => Utc::now(),
        };
        last_stamp = Some(now);
        let (entry_id, outcome) = match &step.action {
            Action::Cloudflare(raw) => {
                let (id, outcome) = append(&raw_restamped_cloudflare(raw, now), |r| {
                    inner.cloudflare.add_v2(r)
                });
                (Some(id), outcome)
            }
            Action::Datadog { raw, ip } => {
                let (id, outcome) = append(&restamped_datadog(raw, now, ip.as_deref()), |r| {
                    inner.datadog.add(r)
                });
                (Some(id), outcome)
            }
            Action::Webhook => {
                let outcome = match &client {
                    Ok(client) => fire_webhook(&inner, client).await,
                    Err(e) => format!("not sent: cannot build an HTTP client ({e})"),
                };
                (None, outcome)
            }
        };
        tracing::info!(step = ?step.kind, ?entry_id, %outcome, "demo scenario step");
        lock(&inner.log).push(StepRecord {
            kind: step.kind,
            script_at: step.at,
            at: Utc::now(),
            entry_id,
            outcome,
        });
    }
    inner.finished.send_replace(true);
}

fn append(
    raw: &str,
    add: impl FnOnce(&str) -> Result<bool, super::sim::SimError>,
) -> (String, String) {
    let id = entry_id(raw);
    let outcome = match add(raw) {
        Ok(true) => "appended".to_owned(),
        Ok(false) => "already present".to_owned(),
        Err(e) => format!("refused: {e}"),
    };
    (id, outcome)
}

fn entry_id(raw: &str) -> String {
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

/// The token entry at `now`, its policies as a real "all zones" token has
/// them: zone-level Write groups on `com.cloudflare.api.account.zone.*`,
/// account-level ones on the account.
fn raw_restamped_cloudflare(raw: &str, now: DateTime<Utc>) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(raw) else {
        return raw.to_owned();
    };
    value["action"]["time"] = json!(now.to_rfc3339_opts(SecondsFormat::Secs, true));
    let account = value
        .pointer("/account/id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(request) = value.pointer_mut("/resource/request") {
        let groups: Vec<String> = request
            .pointer("/policies/0/permission_groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let (zone, account_level): (Vec<String>, Vec<String>) = groups
            .into_iter()
            .partition(|g| ZONE_GROUPS.contains(&g.as_str()));
        let named = |names: Vec<String>| -> Vec<Value> {
            names.into_iter().map(|n| json!({ "name": n })).collect()
        };
        request["name"] = json!(BROAD_TOKEN_NAME);
        request["policies"] = json!([
            {"effect": "allow", "permission_groups": named(zone),
             "resources": {"com.cloudflare.api.account.zone.*": "*"}},
            {"effect": "allow", "permission_groups": named(account_level),
             "resources": {format!("com.cloudflare.api.account.{account}"): "*"}},
        ]);
    }
    value.to_string()
}

/// A Datadog event at `now`, from `ip` when given.
fn restamped_datadog(raw: &str, now: DateTime<Utc>, ip: Option<&str>) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(raw) else {
        return raw.to_owned();
    };
    value["attributes"]["timestamp"] = json!(now.to_rfc3339_opts(SecondsFormat::Millis, true));
    if let Some(ip) = ip
        && let Some(client) = value.pointer_mut("/attributes/attributes/network/client")
    {
        client["ip"] = json!(ip);
    }
    value.to_string()
}

/// The signature header's value: `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign_webhook(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The anomaly in the receiver's documented schema: `actor`, `action`,
/// `timestamp` required; `source`, `detector`, `details` optional.
fn alert_body(alert: &Alert, now: DateTime<Utc>) -> Value {
    json!({
        "actor": alert.actor,
        "action": "broad_api_token_then_privilege_changes",
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "source": "demo-siem",
        "detector": "demo-siem/token-then-escalation",
        "details": {
            "title": "Broad API token minted, then Datadog roles granted and monitors deleted",
            "severity": "high",
            "ip": alert.ip,
            "summary": format!(
                "{} minted an all-zones Cloudflare token at night from {}, then granted Datadog roles and deleted monitors from the same address.",
                alert.actor, alert.ip
            ),
            "evidence": alert.evidence.iter()
                .map(|(source, id)| json!({"source": source, "id": id}))
                .collect::<Vec<_>>(),
        },
    })
}

async fn fire_webhook(inner: &Inner, client: &reqwest::Client) -> String {
    let mut targets = inner.webhook.subscribe();
    let target = match targets.wait_for(Option::is_some).await {
        Ok(target) => target.clone(),
        Err(_) => None,
    };
    let Some(target) = target else {
        return "not sent: no webhook target".to_owned();
    };
    let now = Utc::now();
    let body = alert_body(&inner.alert, now).to_string();
    let signature = sign_webhook(
        target.secret.expose().as_bytes(),
        now.timestamp(),
        body.as_bytes(),
    );
    let delivery = format!("demo-{}-{:08x}", now.timestamp(), fastrand::u32(..));
    let mut last = String::new();
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        let sent = client
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(WEBHOOK_SIGNATURE_HEADER, &signature)
            .header(WEBHOOK_DELIVERY_HEADER, &delivery)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                return format!("delivered: HTTP {}", response.status().as_u16());
            }
            // The receiver answered: retrying would not change its mind.
            Ok(response) if response.status().is_client_error() => {
                return format!("refused: HTTP {}", response.status().as_u16());
            }
            Ok(response) => last = format!("HTTP {}", response.status().as_u16()),
            Err(e) => last = e.without_url().to_string(),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(WEBHOOK_RETRY_PAUSE).await;
        }
    }
    format!("failed after {WEBHOOK_ATTEMPTS} attempts: {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let a = sign_webhook(b"secret", 1_700_000_000, b"{}");
        assert_ne!(a, sign_webhook(b"secret", 1_700_000_001, b"{}"));
        assert_ne!(a, sign_webhook(b"other", 1_700_000_000, b"{}"));
        assert_ne!(a, sign_webhook(b"secret", 1_700_000_000, b"{ }"));
        // Computed independently (Python's hmac module).
        assert_eq!(
            a,
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn restamping_moves_time_and_address_only() {
        let raw = r#"{"id":"e1","attributes":{"timestamp":"2020-01-01T00:00:00.000Z","message":"m","attributes":{"network":{"client":{"ip":"1.2.3.4"}}}}}"#;
        let now = DateTime::parse_from_rfc3339("2026-11-21T03:04:05.678Z")
            .unwrap()
            .to_utc();
        let out: Value =
            serde_json::from_str(&restamped_datadog(raw, now, Some("185.220.101.7"))).unwrap();
        assert_eq!(out["attributes"]["timestamp"], "2026-11-21T03:04:05.678Z");
        assert_eq!(
            out["attributes"]["attributes"]["network"]["client"]["ip"],
            "185.220.101.7"
        );
        assert_eq!(out["attributes"]["message"], "m");
        let kept: Value = serde_json::from_str(&restamped_datadog(raw, now, None)).unwrap();
        assert_eq!(
            kept["attributes"]["attributes"]["network"]["client"]["ip"],
            "1.2.3.4"
        );
    }
}
