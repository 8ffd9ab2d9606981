//! Cloudflare API v4 simulator: account audit logs v2
//! (`GET /accounts/{id}/logs/audit`, cursor pagination) and v1
//! (`GET /accounts/{id}/audit_logs`, page numbers), and API token details
//! (`GET /accounts/{id}/tokens/{token_id}`, `GET /user/tokens/{token_id}`).
//!
//! As the real API: a Bearer token is required; v2 requires `since` and
//! `before` (RFC3339 or `YYYY-MM-DD`); `limit`/`per_page` are 1..=1000;
//! `direction` defaults to `desc`; filters are repeatable and have `.not`
//! forms; every answer carries `Ratelimit`/`Ratelimit-Policy` and a 429
//! carries `Retry-After`. Errors use the v4 envelope
//! `{success:false, errors:[{code,message}], messages:[], result:null}`;
//! the codes are the API's usual ones where known (10000 authentication,
//! 7003 unknown object, 971 throttled) and 10001 for a bad parameter.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::params::{Cursor, QueryParams, cloudflare_time};
use super::server::{
    RateLimit, RecordedRequest, Refusal, ServiceProfile, SimServer, json, lock_read, lock_write,
    seconds_header,
};
use super::timeline::{Direction, PageQuery, TimedEntry, Timeline};
use super::{SimError, same_secret, text_at};
use crate::secrets::Secret;

mod filters;
mod tokens;

use filters::{Facets, V1_FILTERS, V2_FILTERS, facets, filter_from, matches};
use tokens::created_token;
pub use tokens::{TokenOwner, TokenRecord};

const SERVICE: &str = "cloudflare";
const API_ROOT: &str = "/client/v4";
const MAX_LIMIT: u32 = 1000;
const DEFAULT_LIMIT: u32 = 100;
const CODE_AUTH: u32 = 10000;
const CODE_BAD_PARAM: u32 = 10001;
const CODE_UNROUTABLE: u32 = 7003;
const CODE_NO_ROUTE: u32 = 7000;
const CODE_FORBIDDEN: u32 = 9109;
const CODE_THROTTLED: u32 = 971;

#[derive(Debug)]
struct CloudflareState {
    account_id: String,
    token: Secret,
    v2: RwLock<Timeline<Facets>>,
    v1: RwLock<Timeline<Facets>>,
    tokens: RwLock<BTreeMap<String, TokenRecord>>,
}

/// Adds entries and tokens to the simulated account (history, live events).
#[derive(Debug, Clone)]
pub struct CloudflareFeed {
    state: Arc<CloudflareState>,
}

impl CloudflareFeed {
    /// Adds one v2 `/logs/audit` entry; a successful API token creation also
    /// registers the token's details from the entry's request. Returns
    /// `false` when an entry with this id is already there.
    pub fn add_v2(&self, raw: &str) -> Result<bool, SimError> {
        let value = parse_entry(raw)?;
        let time = entry_time(&value, "action.time", raw)?;
        let id = entry_id(&value)?;
        if let Some(token) = created_token(&value, time) {
            lock_write(&self.state.tokens).insert(token.id.clone(), token);
        }
        let facets = facets(&value, &V2_FILTERS);
        Ok(lock_write(&self.state.v2).insert(TimedEntry {
            time_ms: time.timestamp_millis(),
            id,
            raw: Arc::from(raw),
            facets,
        }))
    }

    /// Adds one v1 `/audit_logs` entry.
    pub fn add_v1(&self, raw: &str) -> Result<bool, SimError> {
        let value = parse_entry(raw)?;
        let time = entry_time(&value, "when", raw)?;
        let id = entry_id(&value)?;
        let facets = facets(&value, &V1_FILTERS);
        Ok(lock_write(&self.state.v1).insert(TimedEntry {
            time_ms: time.timestamp_millis(),
            id,
            raw: Arc::from(raw),
            facets,
        }))
    }

    pub fn add_token(&self, token: TokenRecord) {
        lock_write(&self.state.tokens).insert(token.id.clone(), token);
    }

    pub fn token(&self, id: &str) -> Option<TokenRecord> {
        lock_read(&self.state.tokens).get(id).cloned()
    }

    /// How many v2 and v1 entries the account holds.
    pub fn counts(&self) -> (usize, usize) {
        (
            lock_read(&self.state.v2).len(),
            lock_read(&self.state.v1).len(),
        )
    }

    /// Every v2 entry in time order, verbatim.
    pub fn v2_entries(&self) -> Vec<Arc<str>> {
        lock_read(&self.state.v2)
            .iter()
            .map(|e| Arc::clone(&e.raw))
            .collect()
    }
}

/// The running Cloudflare simulator.
#[derive(Debug)]
pub struct CloudflareSim {
    server: SimServer,
    feed: CloudflareFeed,
}

impl CloudflareSim {
    pub async fn start(
        account_id: &str,
        token: Secret,
        rate_limit: Option<RateLimit>,
    ) -> Result<CloudflareSim, SimError> {
        let state = Arc::new(CloudflareState {
            account_id: account_id.to_owned(),
            token,
            v2: RwLock::default(),
            v1: RwLock::default(),
            tokens: RwLock::default(),
        });
        let router = Router::new()
            .route(
                &format!("{API_ROOT}/accounts/{{account_id}}/logs/audit"),
                get(audit_v2),
            )
            .route(
                &format!("{API_ROOT}/accounts/{{account_id}}/audit_logs"),
                get(audit_v1),
            )
            .route(
                &format!("{API_ROOT}/accounts/{{account_id}}/tokens/{{token_id}}"),
                get(account_token),
            )
            .route(
                &format!("{API_ROOT}/user/tokens/{{token_id}}"),
                get(user_token),
            )
            .fallback(no_route)
            .with_state(Arc::clone(&state));
        let profile = ServiceProfile {
            throttled,
            limit_headers,
            redact_body: ServiceProfile::body_as_is,
        };
        let server = SimServer::start(SERVICE, router, profile, rate_limit).await?;
        Ok(CloudflareSim {
            server,
            feed: CloudflareFeed { state },
        })
    }

    /// `http://127.0.0.1:<port>/client/v4`, the `cloudflare.api_base`.
    pub fn base_url(&self) -> String {
        format!("{}{API_ROOT}", self.server.origin())
    }

    pub fn feed(&self) -> CloudflareFeed {
        self.feed.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

fn parse_entry(raw: &str) -> Result<Value, SimError> {
    serde_json::from_str(raw).map_err(|e| bad_entry(raw, format!("not JSON ({e})")))
}

fn entry_id(value: &Value) -> Result<String, SimError> {
    text_at(value, "id").ok_or_else(|| bad_entry("", "no `id`".into()))
}

fn entry_time(value: &Value, path: &str, raw: &str) -> Result<DateTime<Utc>, SimError> {
    text_at(value, path)
        .and_then(|t| cloudflare_time(&t))
        .ok_or_else(|| bad_entry(raw, format!("no RFC3339 `{path}`")))
}

fn bad_entry(raw: &str, reason: String) -> SimError {
    SimError::BadEntry {
        service: SERVICE,
        position: text_at(&serde_json::from_str(raw).unwrap_or(Value::Null), "id")
            .unwrap_or_else(|| "without id".into()),
        reason,
    }
}

// ---- answers -------------------------------------------------------------

fn failure(status: StatusCode, code: u32, message: impl Into<String>) -> Response {
    json(
        status,
        &json!({
            "success": false,
            "errors": [{"code": code, "message": message.into()}],
            "messages": [],
            "result": null,
        }),
    )
}

fn bad_param(message: impl Into<String>) -> Response {
    failure(StatusCode::BAD_REQUEST, CODE_BAD_PARAM, message)
}

fn throttled(_limit: RateLimit, retry_after: Duration) -> Response {
    let mut response = failure(
        StatusCode::TOO_MANY_REQUESTS,
        CODE_THROTTLED,
        "Please wait and consider throttling your request speed",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds_header(retry_after));
    response
}

fn limit_headers(limit: RateLimit, remaining: u32, reset: Duration, headers: &mut HeaderMap) {
    let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    let value = format!("\"default\";r={remaining};t={reset_secs}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert("ratelimit", v);
    }
    let policy = format!(
        "\"default\";q={};w={}",
        limit.requests,
        limit.window.as_secs()
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert("ratelimit-policy", v);
    }
}

async fn no_route(uri: axum::http::Uri) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        CODE_NO_ROUTE,
        format!("No route for that URI: {}", uri.path()),
    )
}

// ---- checks --------------------------------------------------------------

fn authorize(state: &CloudflareState, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Box::new(failure(
            StatusCode::UNAUTHORIZED,
            CODE_AUTH,
            "Authentication error",
        )));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(Box::new(json(
            StatusCode::BAD_REQUEST,
            &json!({
                "success": false,
                "errors": [{"code": 6003, "message": "Invalid request headers",
                    "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}],
                "messages": [],
                "result": null,
            }),
        )));
    };
    if same_secret(token, &state.token) {
        Ok(())
    } else {
        Err(Box::new(failure(
            StatusCode::UNAUTHORIZED,
            CODE_AUTH,
            "Authentication error",
        )))
    }
}

fn check_account(state: &CloudflareState, account_id: &str, path: &str) -> Result<(), Refusal> {
    let well_formed = account_id.len() == 32 && account_id.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(Box::new(failure(
            StatusCode::NOT_FOUND,
            CODE_UNROUTABLE,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        )));
    }
    if account_id != state.account_id {
        return Err(Box::new(failure(
            StatusCode::FORBIDDEN,
            CODE_FORBIDDEN,
            "Unauthorized to access requested resource",
        )));
    }
    Ok(())
}

fn time_param(q: &QueryParams, name: &str, required: bool) -> Result<Option<i64>, Refusal> {
    match q.get(name) {
        None | Some("") if required => Err(Box::new(bad_param(format!(
            "{name}: required (an RFC3339 timestamp or a YYYY-MM-DD date)"
        )))),
        None | Some("") => Ok(None),
        Some(text) => Ok(cloudflare_time(text)
            .map(|t| Some(t.timestamp_millis()))
            .ok_or_else(|| {
                bad_param(format!(
                    "{name}: {text:?} is not an RFC3339 timestamp or a YYYY-MM-DD date"
                ))
            })?),
    }
}

fn count_param(q: &QueryParams, name: &str, default: u32, max: u32) -> Result<u32, Refusal> {
    match q.get(name) {
        None => Ok(default),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Box::new(bad_param(format!(
                "{name}: must be a whole number from 1 to {max}, got {text:?}"
            )))),
        },
    }
}

fn direction_param(q: &QueryParams) -> Result<Direction, Refusal> {
    match q.get("direction") {
        None | Some("desc") => Ok(Direction::NewestFirst),
        Some("asc") => Ok(Direction::OldestFirst),
        Some(other) => Err(Box::new(bad_param(format!(
            "direction: must be asc or desc, got {other:?}"
        )))),
    }
}

/// `name=v` keeps entries whose field is one of the values; `name.not=v`
/// drops them. Emails and the like compare without regard to case.
fn page_body(entries: &[&TimedEntry<Facets>], result_info: Option<Value>) -> String {
    let mut body = String::from(r#"{"success":true,"errors":[],"messages":[],"result":["#);
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&entry.raw);
    }
    body.push(']');
    if let Some(info) = result_info {
        body.push_str(r#","result_info":"#);
        body.push_str(&info.to_string());
    }
    body.push('}');
    body
}

fn ok_json_text(body: String) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

// ---- handlers ------------------------------------------------------------

async fn audit_v2(
    State(state): State<Arc<CloudflareState>>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/accounts/{account_id}/logs/audit");
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        check_account(&state, &account_id, &path)?;
        let q = QueryParams::parse(raw.as_deref());
        let since = time_param(&q, "since", true)?.unwrap_or(i64::MIN);
        let before = time_param(&q, "before", true)?.unwrap_or(i64::MAX);
        if since >= before {
            return Err(Box::new(bad_param("since: must be earlier than before")));
        }
        let limit = count_param(&q, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
        let direction = direction_param(&q)?;
        let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => Some(
                Cursor::decode(text)
                    .ok_or_else(|| bad_param("cursor: not a cursor this endpoint returned"))?,
            ),
        };
        let filters = filter_from(&q, &V2_FILTERS);
        let timeline = lock_read(&state.v2);
        let (entries, more) = timeline.page(&PageQuery {
            from_ms: since,
            to_ms: before,
            after: cursor.as_ref(),
            direction,
            skip: 0,
            limit: limit as usize,
            keep: &|f| matches(f, &filters),
        });
        let mut info = json!({ "count": entries.len().to_string() });
        if more && let Some(last) = entries.last() {
            info["cursor"] = json!(last.cursor().encode());
        }
        Ok(ok_json_text(page_body(&entries, Some(info))))
    })();
    answer.unwrap_or_else(|refused| *refused)
}

async fn audit_v1(
    State(state): State<Arc<CloudflareState>>,
    Path(account_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/accounts/{account_id}/audit_logs");
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        check_account(&state, &account_id, &path)?;
        let q = QueryParams::parse(raw.as_deref());
        let since = time_param(&q, "since", false)?.unwrap_or(i64::MIN);
        let before = time_param(&q, "before", false)?.unwrap_or(i64::MAX);
        let per_page = count_param(&q, "per_page", DEFAULT_LIMIT, MAX_LIMIT)?;
        let page = count_param(&q, "page", 1, u32::MAX)?;
        let direction = direction_param(&q)?;
        let filters = filter_from(&q, &V1_FILTERS);
        let timeline = lock_read(&state.v1);
        let skip = (page as usize - 1).saturating_mul(per_page as usize);
        let (entries, _) = timeline.page(&PageQuery {
            from_ms: since,
            to_ms: before,
            after: None,
            direction,
            skip,
            limit: per_page as usize,
            keep: &|f| matches(f, &filters),
        });
        Ok(ok_json_text(page_body(&entries, None)))
    })();
    answer.unwrap_or_else(|refused| *refused)
}

async fn account_token(
    State(state): State<Arc<CloudflareState>>,
    Path((account_id, token_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/accounts/{account_id}/tokens/{token_id}");
    if let Err(response) =
        authorize(&state, &headers).and_then(|()| check_account(&state, &account_id, &path))
    {
        return *response;
    }
    token_answer(&state, &token_id, TokenOwner::Account, &path)
}

async fn user_token(
    State(state): State<Arc<CloudflareState>>,
    Path(token_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&state, &headers) {
        return *response;
    }
    let path = format!("/user/tokens/{token_id}");
    token_answer(&state, &token_id, TokenOwner::User, &path)
}

fn token_answer(
    state: &CloudflareState,
    token_id: &str,
    owner: TokenOwner,
    path: &str,
) -> Response {
    let tokens = lock_read(&state.tokens);
    match tokens.get(token_id).filter(|t| t.owner == owner) {
        Some(token) => json(
            StatusCode::OK,
            &json!({"success": true, "errors": [], "messages": [], "result": token.to_json()}),
        ),
        None => failure(
            StatusCode::NOT_FOUND,
            CODE_UNROUTABLE,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        ),
    }
}
