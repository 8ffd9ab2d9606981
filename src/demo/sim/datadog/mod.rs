//! Datadog Audit Trail simulator: `GET /api/v2/audit/events` and
//! `POST /api/v2/audit/events/search`.
//!
//! As the real API: both `DD-API-KEY` and `DD-APPLICATION-KEY` are
//! required (403 `{"errors":["Forbidden"]}` otherwise); `from`/`to` take
//! RFC3339, epoch milliseconds or `now-15m` date math and default to the
//! last 15 minutes; `page[limit]` defaults to 10 and may not exceed 1000;
//! the next page's cursor is `meta.page.after` (and `links.next`), absent
//! on the last page; every answer carries the `X-RateLimit-*` headers.
//!
//! `filter[query]` supports `*`, `@field:value` (quoted or bare, `*`
//! wildcards), `-@field:value`, free text (matched in the message) and
//! implicit or explicit `AND`. `OR` and parentheses are refused with a
//! message saying the simulator lacks them, rather than answered wrongly.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::params::{Cursor, QueryParams, datadog_time};
use super::server::{
    RateLimit, RecordedRequest, Refusal, ServiceProfile, SimServer, json, lock_read, lock_write,
    seconds_header, utf8,
};
use super::timeline::{Direction, PageQuery, TimedEntry, Timeline};
use super::{SimError, same_secret, text_at};
use crate::secrets::Secret;

mod query;

use query::{FIELDS, Facets, matches, parse_query};

const SERVICE: &str = "datadog";
const EVENTS_PATH: &str = "/api/v2/audit/events";
const MAX_LIMIT: u64 = 1000;
const DEFAULT_LIMIT: u64 = 10;
#[derive(Debug)]
struct DatadogState {
    api_key: Secret,
    app_key: Secret,
    events: RwLock<Timeline<Facets>>,
    /// `http://127.0.0.1:<port>`, for `links.next`.
    origin: RwLock<String>,
}

/// Adds events to the simulated org (history, live events).
#[derive(Debug, Clone)]
pub struct DatadogFeed {
    state: Arc<DatadogState>,
}

impl DatadogFeed {
    /// Adds one `data[]` element of `GET /api/v2/audit/events`. Returns
    /// `false` when an event with this id is already there.
    pub fn add(&self, raw: &str) -> Result<bool, SimError> {
        let bad = |reason: String| SimError::BadEntry {
            service: SERVICE,
            position: serde_json::from_str::<Value>(raw)
                .ok()
                .and_then(|v| text_at(&v, "id"))
                .unwrap_or_else(|| "without id".into()),
            reason,
        };
        let value: Value = serde_json::from_str(raw).map_err(|e| bad(format!("not JSON ({e})")))?;
        let id = text_at(&value, "id").ok_or_else(|| bad("no `id`".into()))?;
        let time = text_at(&value, "attributes.timestamp")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .ok_or_else(|| bad("no RFC3339 `attributes.timestamp`".into()))?;
        let inner = value
            .pointer("/attributes/attributes")
            .unwrap_or(&Value::Null);
        let facets = Facets {
            fields: FIELDS
                .iter()
                .filter_map(|path| text_at(inner, path).map(|v| (*path, v.to_lowercase())))
                .collect(),
            message: text_at(&value, "attributes.message")
                .unwrap_or_default()
                .to_lowercase(),
        };
        Ok(lock_write(&self.state.events).insert(TimedEntry {
            time_ms: time.timestamp_millis(),
            id,
            raw: Arc::from(raw),
            facets,
        }))
    }

    pub fn len(&self) -> usize {
        lock_read(&self.state.events).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every event in time order, verbatim.
    pub fn entries(&self) -> Vec<Arc<str>> {
        lock_read(&self.state.events)
            .iter()
            .map(|e| Arc::clone(&e.raw))
            .collect()
    }
}

/// The running Datadog simulator.
#[derive(Debug)]
pub struct DatadogSim {
    server: SimServer,
    feed: DatadogFeed,
}

impl DatadogSim {
    pub async fn start(
        api_key: Secret,
        app_key: Secret,
        rate_limit: Option<RateLimit>,
    ) -> Result<DatadogSim, SimError> {
        let state = Arc::new(DatadogState {
            api_key,
            app_key,
            events: RwLock::default(),
            origin: RwLock::default(),
        });
        let router = Router::new()
            .route(EVENTS_PATH, get(list_events))
            .route(&format!("{EVENTS_PATH}/search"), post(search_events))
            .fallback(|| async { errors(StatusCode::NOT_FOUND, "Not found") })
            .with_state(Arc::clone(&state));
        let profile = ServiceProfile {
            throttled,
            limit_headers,
            redact_body: ServiceProfile::body_as_is,
        };
        let server = SimServer::start(SERVICE, router, profile, rate_limit).await?;
        *lock_write(&state.origin) = server.origin();
        Ok(DatadogSim {
            server,
            feed: DatadogFeed { state },
        })
    }

    /// `http://127.0.0.1:<port>`, the `datadog.api_base`.
    pub fn base_url(&self) -> String {
        self.server.origin()
    }

    pub fn feed(&self) -> DatadogFeed {
        self.feed.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

// ---- answers -------------------------------------------------------------

fn errors(status: StatusCode, message: impl Into<String>) -> Response {
    json(status, &json!({ "errors": [message.into()] }))
}

fn bad_request(message: impl Into<String>) -> Response {
    errors(StatusCode::BAD_REQUEST, message)
}

fn throttled(limit: RateLimit, retry_after: Duration) -> Response {
    let mut response = errors(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    limit_headers(limit, 0, retry_after, response.headers_mut());
    response
}

fn limit_headers(limit: RateLimit, remaining: u32, reset: Duration, headers: &mut HeaderMap) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit.requests));
    headers.insert(
        "x-ratelimit-period",
        HeaderValue::from(limit.window.as_secs()),
    );
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", seconds_header(reset));
    headers.insert("x-ratelimit-name", HeaderValue::from_static("audit_logs"));
}

fn authorize(state: &DatadogState, headers: &HeaderMap) -> Result<(), Refusal> {
    let presented = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let api = presented("dd-api-key").is_some_and(|k| same_secret(k, &state.api_key));
    let app = presented("dd-application-key").is_some_and(|k| same_secret(k, &state.app_key));
    if api && app {
        Ok(())
    } else {
        Err(Box::new(errors(StatusCode::FORBIDDEN, "Forbidden")))
    }
}

// ---- listing -------------------------------------------------------------

/// One listing request, whichever endpoint it came through.
struct Listing {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    query: Option<String>,
    sort: Direction,
    limit: u64,
    cursor: Option<Cursor>,
}

fn time_or_default(
    text: Option<&str>,
    name: &str,
    default: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Refusal> {
    match text {
        None => Ok(default),
        Some(text) => datadog_time(text, now).ok_or_else(|| {
            bad_request(format!(
                "{name}: {text:?} is not a date-time, a millisecond timestamp or date math such as now-15m"
            ))
            .into()
        }),
    }
}

fn sort_of(text: Option<&str>) -> Result<Direction, Refusal> {
    match text {
        None | Some("-timestamp") => Ok(Direction::NewestFirst),
        Some("timestamp") => Ok(Direction::OldestFirst),
        Some(other) => Err(Box::new(bad_request(format!(
            "sort: must be timestamp or -timestamp, got {other:?}"
        )))),
    }
}

fn limit_of(value: Option<u64>, raw: &str) -> Result<u64, Refusal> {
    match value {
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) | None => Err(Box::new(bad_request(format!(
            "page[limit]: must be a whole number from 1 to {MAX_LIMIT}, got {raw}"
        )))),
    }
}

fn cursor_of(text: Option<&str>) -> Result<Option<Cursor>, Refusal> {
    match text.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(text) => Cursor::decode(text)
            .map(Some)
            .ok_or_else(|| bad_request("page[cursor]: not a cursor this endpoint returned").into()),
    }
}

fn list(state: &DatadogState, listing: &Listing) -> Result<Response, Refusal> {
    if listing.from > listing.to {
        return Err(Box::new(bad_request(
            "filter[from] must be before filter[to]",
        )));
    }
    let terms = match &listing.query {
        Some(q) => parse_query(q).map_err(bad_request)?,
        None => Vec::new(),
    };
    let timeline = lock_read(&state.events);
    let (events, more) = timeline.page(&PageQuery {
        from_ms: listing.from.timestamp_millis(),
        // `to` is inclusive.
        to_ms: listing.to.timestamp_millis().saturating_add(1),
        after: listing.cursor.as_ref(),
        direction: listing.sort,
        skip: 0,
        limit: listing.limit as usize,
        keep: &|f| matches(f, &terms),
    });
    let mut body = String::from(r#"{"data":["#);
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&event.raw);
    }
    body.push_str("],");
    let mut meta = json!({
        "elapsed": 1,
        "request_id": format!("sim-{}", Utc::now().timestamp_micros()),
        "status": "done",
    });
    let mut links = None;
    if more && let Some(last) = events.last() {
        let after = last.cursor().encode();
        meta["page"] = json!({ "after": after });
        links = Some(json!({ "next": next_link(state, listing, &after) }));
    }
    body.push_str(&format!(r#""meta":{meta}"#));
    if let Some(links) = links {
        body.push_str(&format!(r#","links":{links}"#));
    }
    body.push('}');
    let mut response = Response::new(axum::body::Body::from(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    Ok(response)
}

fn next_link(state: &DatadogState, listing: &Listing, after: &str) -> String {
    let mut url = format!("{}{EVENTS_PATH}", lock_read(&state.origin));
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("filter[from]", &listing.from.to_rfc3339());
    pairs.append_pair("filter[to]", &listing.to.to_rfc3339());
    if let Some(q) = &listing.query {
        pairs.append_pair("filter[query]", q);
    }
    pairs.append_pair(
        "sort",
        if listing.sort == Direction::OldestFirst {
            "timestamp"
        } else {
            "-timestamp"
        },
    );
    pairs.append_pair("page[cursor]", after);
    pairs.append_pair("page[limit]", &listing.limit.to_string());
    url.push('?');
    url.push_str(&pairs.finish());
    url
}

async fn list_events(
    State(state): State<Arc<DatadogState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let q = QueryParams::parse(raw.as_deref());
        let now = Utc::now();
        let listing = Listing {
            from: time_or_default(
                q.get("filter[from]"),
                "filter[from]",
                now - TimeDelta::minutes(15),
                now,
            )?,
            to: time_or_default(q.get("filter[to]"), "filter[to]", now, now)?,
            query: q.get("filter[query]").map(str::to_owned),
            sort: sort_of(q.get("sort"))?,
            limit: match q.get("page[limit]") {
                None => DEFAULT_LIMIT,
                Some(text) => limit_of(text.parse().ok(), &format!("{text:?}"))?,
            },
            cursor: cursor_of(q.get("page[cursor]"))?,
        };
        list(&state, &listing)
    })();
    answer.unwrap_or_else(|refused| *refused)
}

async fn search_events(
    State(state): State<Arc<DatadogState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let text = utf8(&body).ok_or_else(|| bad_request("request body is not UTF-8"))?;
        let request: Value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(text)
                .map_err(|e| bad_request(format!("request body is not valid JSON: {e}")))?
        };
        if !request.is_object() {
            return Err(Box::new(bad_request("request body must be a JSON object")));
        }
        let field = |pointer: &str| -> Result<Option<&str>, Refusal> {
            match request.pointer(pointer) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(Box::new(bad_request(format!(
                    "{}: expected a string, got {other}",
                    pointer.trim_start_matches('/').replace('/', ".")
                )))),
            }
        };
        let now = Utc::now();
        let limit = match request.pointer("/page/limit") {
            None | Some(Value::Null) => DEFAULT_LIMIT,
            Some(v) => limit_of(v.as_u64(), &v.to_string())?,
        };
        let listing = Listing {
            from: time_or_default(
                field("/filter/from")?,
                "filter.from",
                now - TimeDelta::minutes(15),
                now,
            )?,
            to: time_or_default(field("/filter/to")?, "filter.to", now, now)?,
            query: field("/filter/query")?.map(str::to_owned),
            sort: sort_of(field("/sort")?)?,
            limit,
            cursor: cursor_of(field("/page/cursor")?)?,
        };
        list(&state, &listing)
    })();
    answer.unwrap_or_else(|refused| *refused)
}
