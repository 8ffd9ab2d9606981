//! A fake Cloudflare + Datadog audit API on loopback, built on
//! [`FakeServer`]: it keeps a list of events, answers the real endpoints
//! (`/accounts/{id}/logs/audit`, `/accounts/{id}/audit_logs`,
//! `/api/v2/audit/events`, the token details endpoints) with the time
//! range, page size and cursor/page number of each request, checks the
//! credentials, and injects faults at chosen request numbers. Events can be
//! added while it runs (late arrivals).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use super::fake_server::{FakeServer, Received, Reply, reply};

pub const CF_TOKEN: &str = "cf-fake-token-0123456789";
pub const DD_API_KEY: &str = "dd-fake-api-key-0123";
pub const DD_APP_KEY: &str = "dd-fake-app-key-4567";

/// What one stored event is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Plain,
    /// A Cloudflare API token creation naming `token_id` (v1 `metadata.token_tag`,
    /// v2 `resource.id` with `raw.uri`).
    TokenCreate {
        token_id: String,
        uri: String,
    },
}

#[derive(Debug, Clone)]
pub struct FakeEvent {
    pub id: String,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub kind: Kind,
}

/// What the fake does instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    TooMany {
        retry_after_secs: u64,
    },
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 whose cursor points back at the first page.
    CursorLoop,
}

struct State {
    events: Vec<FakeEvent>,
    max_page: usize,
    faults: HashMap<usize, Fault>,
    v2_missing: bool,
    delay: Duration,
    /// Token details by token id, for `/accounts/{a}/tokens/{t}` (`Some(account)`)
    /// or `/user/tokens/{t}` (`None`).
    tokens: HashMap<(Option<String>, String), Value>,
    requests: usize,
    /// Requests answered with 429, and the Retry-After they carried.
    throttled: Vec<(usize, u64)>,
}

pub struct AuditFake {
    pub server: FakeServer,
    state: Arc<Mutex<State>>,
}

pub fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

/// `count` plain events evenly spread over `[from, to)`, ids `<prefix>-<n>`.
pub fn spread(
    prefix: &str,
    count: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<FakeEvent> {
    let span = (to - from).num_milliseconds().max(1);
    (0..count)
        .map(|n| FakeEvent {
            id: format!("{prefix}-{n:06}"),
            time: from + TimeDelta::milliseconds(span * n as i64 / count.max(1) as i64),
            actor: format!("user{}@example.com", n % 7),
            kind: Kind::Plain,
        })
        .collect()
}

impl AuditFake {
    pub async fn start(events: Vec<FakeEvent>) -> AuditFake {
        let state = Arc::new(Mutex::new(State {
            events: Vec::new(),
            max_page: 1000,
            faults: HashMap::new(),
            v2_missing: false,
            delay: Duration::ZERO,
            tokens: HashMap::new(),
            requests: 0,
            throttled: Vec::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = FakeServer::serve(move |request| {
            handle(&mut handler_state.lock().expect("lock"), request)
        })
        .await;
        let fake = AuditFake { server, state };
        fake.add(events);
        fake
    }

    pub fn base(&self) -> String {
        self.server.base()
    }

    pub fn add(&self, events: Vec<FakeEvent>) {
        let mut state = self.state.lock().expect("lock");
        state.events.extend(events);
        state
            .events
            .sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    }

    /// At most this many events per page, whatever the client asks for.
    pub fn max_page(&self, size: usize) {
        self.state.lock().expect("lock").max_page = size;
    }

    /// The `n`th request (0-based) gets `fault` instead of its answer.
    pub fn fault_at(&self, n: usize, fault: Fault) {
        self.state.lock().expect("lock").faults.insert(n, fault);
    }

    /// v2 `/logs/audit` answers 404, as for an account without v2.
    pub fn without_v2(&self) {
        self.state.lock().expect("lock").v2_missing = true;
    }

    /// Every answer comes this late.
    pub fn slow(&self, delay: Duration) {
        self.state.lock().expect("lock").delay = delay;
    }

    /// Token details served for `token_id`, owned by `account` (or the user).
    pub fn token(&self, account: Option<&str>, token_id: &str, policies: Value) {
        let details = json!({
            "success": true, "errors": [], "messages": [],
            "result": {
                "id": token_id, "name": "deploy", "status": "active",
                "issued_on": "2026-11-21T08:00:00Z", "modified_on": "2026-11-21T08:00:00Z",
                "policies": policies,
                "condition": {"request_ip": {"in": [], "not_in": []}}
            }
        });
        self.state
            .lock()
            .expect("lock")
            .tokens
            .insert((account.map(str::to_owned), token_id.to_owned()), details);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.server.received()
    }

    /// `(request number, Retry-After seconds)` of every 429 sent.
    pub fn throttled(&self) -> Vec<(usize, u64)> {
        self.state.lock().expect("lock").throttled.clone()
    }

    pub fn event_ids(&self) -> Vec<String> {
        let state = self.state.lock().expect("lock");
        state.events.iter().map(|e| e.id.clone()).collect()
    }
}

fn handle(state: &mut State, request: &Received) -> Reply {
    let n = state.requests;
    state.requests += 1;
    let answer = answer(state, n, request);
    if state.delay.is_zero() {
        answer
    } else {
        Reply::Delayed(state.delay, Box::new(answer))
    }
}

fn answer(state: &mut State, n: usize, request: &Received) -> Reply {
    let segments: Vec<&str> = request
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let dialect = match segments.as_slice() {
        ["accounts", _, "logs", "audit"] => Dialect::CfV2,
        ["accounts", _, "audit_logs"] => Dialect::CfV1,
        ["api", "v2", "audit", "events"] => Dialect::Datadog,
        ["accounts", account, "tokens", token] => {
            return token_reply(state, request, Some(account), token);
        }
        ["user", "tokens", token] => return token_reply(state, request, None, token),
        _ => return reply(404, &[], r#"{"errors":["no such route in the fake"]}"#),
    };
    if let Some(refused) = check_auth(request, dialect) {
        return refused;
    }
    if let Some(fault) = state.faults.remove(&n) {
        match fault {
            Fault::TooMany { retry_after_secs } => {
                state.throttled.push((n, retry_after_secs));
                let after = retry_after_secs.to_string();
                return reply(
                    429,
                    &[("Retry-After", after.as_str())],
                    r#"{"errors":["slow down"]}"#,
                );
            }
            Fault::Status(code) => {
                return reply(
                    code,
                    &[],
                    r#"{"success":false,"errors":[{"code":1,"message":"injected"}]}"#,
                );
            }
            Fault::Garbage => return reply(200, &[], "{\"result\": [ {\"id\": \"x\", truncated"),
            Fault::CursorLoop => return page_reply(state, request, dialect, Some(0)),
        }
    }
    if dialect == Dialect::CfV2 && state.v2_missing {
        return reply(
            404,
            &[],
            r#"{"success":false,"errors":[{"code":7003,"message":"No route for the URI"}],"messages":[],"result":null}"#,
        );
    }
    page_reply(state, request, dialect, None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    CfV2,
    CfV1,
    Datadog,
}

fn check_auth(request: &Received, dialect: Dialect) -> Option<Reply> {
    let ok = match dialect {
        Dialect::CfV2 | Dialect::CfV1 => {
            request.header("authorization") == Some(&format!("Bearer {CF_TOKEN}"))
        }
        Dialect::Datadog => {
            request.header("dd-api-key") == Some(DD_API_KEY)
                && request.header("dd-application-key") == Some(DD_APP_KEY)
        }
    };
    (!ok).then(|| reply(401, &[], r#"{"errors":["bad credentials"]}"#))
}

fn param_time(request: &Received, name: &str) -> Option<DateTime<Utc>> {
    request
        .query(name)
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// One page of the events in the request's `[from, to)`, oldest first.
/// `force_offset` answers as if that offset had been asked for.
fn page_reply(
    state: &State,
    request: &Received,
    dialect: Dialect,
    force_offset: Option<usize>,
) -> Reply {
    let (from_key, to_key, limit_key) = match dialect {
        Dialect::CfV2 => ("since", "before", "limit"),
        Dialect::CfV1 => ("since", "before", "per_page"),
        Dialect::Datadog => ("filter[from]", "filter[to]", "page[limit]"),
    };
    let (Some(from), Some(to)) = (param_time(request, from_key), param_time(request, to_key))
    else {
        return reply(
            400,
            &[],
            r#"{"errors":["time range missing or not RFC3339"]}"#,
        );
    };
    let limit: usize = request
        .query(limit_key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let size = limit.min(state.max_page).max(1);
    let actor = request
        .query("actor_email")
        .or_else(|| request.query("actor.email"))
        .or_else(|| {
            request.query("filter[query]").map(|q| {
                q.trim_start_matches("@usr.email:\"")
                    .trim_end_matches('"')
                    .to_owned()
            })
        });
    let matching: Vec<&FakeEvent> = state
        .events
        .iter()
        .filter(|e| e.time >= from && e.time < to)
        .filter(|e| actor.as_deref().is_none_or(|a| e.actor == a))
        .collect();
    let offset = force_offset.unwrap_or_else(|| match dialect {
        Dialect::CfV1 => {
            let page: usize = request
                .query("page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            (page.max(1) - 1) * size
        }
        Dialect::CfV2 => cursor_offset(request.query("cursor")),
        Dialect::Datadog => cursor_offset(request.query("page[cursor]")),
    });
    let slice: Vec<&FakeEvent> = matching.iter().skip(offset).take(size).copied().collect();
    let more = offset + slice.len() < matching.len();
    let next = more.then(|| format!("cur-{}", offset + slice.len()));
    let body = match dialect {
        Dialect::CfV2 => json!({
            "success": true, "errors": [],
            "result": slice.iter().map(|e| cf_v2_entry(e)).collect::<Vec<_>>(),
            "result_info": {"count": slice.len().to_string(), "cursor": next.unwrap_or_default()}
        }),
        Dialect::CfV1 => json!({
            "success": true, "errors": [], "messages": [],
            "result": slice.iter().map(|e| cf_v1_entry(e)).collect::<Vec<_>>()
        }),
        Dialect::Datadog => {
            let mut body = json!({"data": slice.iter().map(|e| dd_entry(e)).collect::<Vec<_>>()});
            if let Some(next) = next {
                body["meta"] = json!({"page": {"after": next}});
            }
            body
        }
    };
    reply(
        200,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
}

fn cursor_offset(cursor: Option<String>) -> usize {
    cursor
        .and_then(|c| c.strip_prefix("cur-").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn token_reply(state: &State, request: &Received, account: Option<&str>, token: &str) -> Reply {
    if check_auth(request, Dialect::CfV2).is_some() {
        return reply(
            401,
            &[],
            r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}"#,
        );
    }
    match state
        .tokens
        .get(&(account.map(str::to_owned), token.to_owned()))
    {
        Some(details) => reply(200, &[], &details.to_string()),
        None => reply(
            404,
            &[],
            r#"{"success":false,"errors":[{"code":1003,"message":"Invalid or missing token"}],"messages":[],"result":null}"#,
        ),
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn cf_v2_entry(e: &FakeEvent) -> Value {
    let (resource, uri) = match &e.kind {
        Kind::Plain => (
            json!({"id": "rec-1", "product": "dns_records", "type": "dns_record"}),
            "/accounts/acc/dns_records".to_owned(),
        ),
        Kind::TokenCreate { token_id, uri } => (
            json!({"id": token_id, "product": "api_tokens", "type": "api_token"}),
            uri.clone(),
        ),
    };
    json!({
        "id": e.id,
        "account": {"id": "0123456789abcdef0123456789abcdef", "name": "Acme"},
        "action": {"description": "Update", "result": "success", "time": when(e.time), "type": if matches!(e.kind, Kind::Plain) { "update" } else { "create" }},
        "actor": {"id": "u-1", "email": e.actor, "ip_address": "203.0.113.7", "type": "user", "context": "dash"},
        "raw": {"method": "POST", "status_code": 200, "uri": uri, "user_agent": "fake"},
        "resource": resource,
    })
}

fn cf_v1_entry(e: &FakeEvent) -> Value {
    let (action, metadata) = match &e.kind {
        Kind::Plain => ("rec_add", json!({"zone_name": "example.com"})),
        Kind::TokenCreate { token_id, .. } => (
            "token_create",
            json!({"token_name": "deploy", "token_tag": token_id}),
        ),
    };
    json!({
        "id": e.id, "when": when(e.time),
        "action": {"type": action, "result": true},
        "actor": {"email": e.actor, "id": "u-1", "ip": "203.0.113.7", "type": "user"},
        "owner": {"id": "0123456789abcdef0123456789abcdef"},
        "resource": {"id": "r-1", "type": "account"},
        "metadata": metadata,
    })
}

fn dd_entry(e: &FakeEvent) -> Value {
    json!({
        "id": e.id, "type": "audit",
        "attributes": {
            "timestamp": when(e.time), "message": "Role modified", "service": "audit",
            "attributes": {
                "usr": {"email": e.actor, "uuid": "u-1"},
                "action": "modified",
                "evt": {"name": "Access Management"},
                "asset": {"type": "role", "id": "r-1", "name": "Admin"},
            }
        }
    })
}
