//! Confluence Cloud v2 simulator: `GET /wiki/api/v2/spaces`,
//! `GET /wiki/api/v2/pages`, `GET /wiki/api/v2/pages/{id}`,
//! `POST /wiki/api/v2/pages`, and each page's web view at its `webui` link.
//!
//! As the real API: HTTP Basic (`email:api_token`) is required; a page needs
//! an existing numeric `spaceId`, a `status` of `current` or `draft`, a title
//! unique among the space's current pages, and a storage body that parses
//! as XHTML; success is **200** with `id` and `_links.webui`/`_links.base`.
//! Errors use the v2 envelope `{"errors":[{status, code, title, detail}]}`.
//! Only the `storage` representation is accepted: the demo publishes
//! nothing else, and accepting `wiki` without converting it would pretend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::params::QueryParams;
use super::server::{
    RecordedRequest, Refusal, ServiceProfile, SimServer, json, lock_read, lock_write, utf8,
};
use super::{SimError, same_secret, storage_xml};
use crate::secrets::Secret;

const SERVICE: &str = "confluence";
const API: &str = "/wiki/api/v2";
/// Confluence refuses bodies over 5 MB with 413.
const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
const MAX_TITLE_CHARS: usize = 255;
const MAX_LIST_LIMIT: u32 = 250;
const FIRST_PAGE_ID: u64 = 327_681;
const AUTHOR_ID: &str = "557058:5e1c0d39-demo-4b1a-9d6c-soc0tui0demo";

/// The spaces the simulated site has: `(id, key, name)`.
const SPACES: [(&str, &str, &str); 2] = [
    ("98305", "SOC", "Security Operations"),
    ("98306", "ENG", "Engineering"),
];

/// A page created through the API, as the TUI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedPage {
    pub id: String,
    pub space_id: String,
    pub space_key: String,
    pub title: String,
    pub status: String,
    pub parent_id: Option<String>,
    /// The storage-format body as sent.
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Absolute link to the page's web view.
    pub url: String,
}

#[derive(Debug)]
struct ConfluenceState {
    email: String,
    token: Secret,
    /// `http://127.0.0.1:<port>/wiki`.
    site: RwLock<String>,
    pages: RwLock<Vec<PublishedPage>>,
    next_id: AtomicU64,
}

/// The running Confluence simulator.
#[derive(Debug)]
pub struct ConfluenceSim {
    server: SimServer,
    state: Arc<ConfluenceState>,
}

impl ConfluenceSim {
    pub async fn start(email: &str, token: Secret) -> Result<ConfluenceSim, SimError> {
        let state = Arc::new(ConfluenceState {
            email: email.to_owned(),
            token,
            site: RwLock::default(),
            pages: RwLock::default(),
            next_id: AtomicU64::new(FIRST_PAGE_ID),
        });
        let router = Router::new()
            .route(&format!("{API}/spaces"), get(list_spaces))
            .route(&format!("{API}/pages"), get(list_pages).post(create_page))
            .route(&format!("{API}/pages/{{id}}"), get(get_page))
            .route("/wiki/spaces/{key}/pages/{id}/{slug}", get(view_page))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found") })
            .with_state(Arc::clone(&state));
        let profile = ServiceProfile {
            throttled: |_, _| {
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_REQUESTS",
                    "Rate limit exceeded",
                )
            },
            limit_headers: ServiceProfile::no_limit_headers,
            redact_body: ServiceProfile::body_as_is,
        };
        let server = SimServer::start(SERVICE, router, profile, None).await?;
        *lock_write(&state.site) = format!("{}/wiki", server.origin());
        Ok(ConfluenceSim { server, state })
    }

    /// `http://127.0.0.1:<port>/wiki`, the `confluence.base_url`.
    pub fn base_url(&self) -> String {
        lock_read(&self.state.site).clone()
    }

    /// The space reports go to.
    pub fn space_key(&self) -> &'static str {
        SPACES[0].1
    }

    /// Every page created so far, oldest first.
    pub fn pages(&self) -> Vec<PublishedPage> {
        lock_read(&self.state.pages).clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

// ---- answers -------------------------------------------------------------

fn error(status: StatusCode, code: &str, title: impl Into<String>) -> Response {
    json(
        status,
        &json!({"errors": [{"status": status.as_u16(), "code": code, "title": title.into(), "detail": null}]}),
    )
}

fn bad_request(title: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_PARAMETER", title)
}

fn authorize(state: &ConfluenceState, headers: &HeaderMap) -> Result<(), Refusal> {
    let unauthorized = || {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Unauthorized; scope does not match",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Confluence\""),
        );
        response
    };
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(unauthorized)?;
    let (email, token) = credentials.split_once(':').ok_or_else(unauthorized)?;
    if email.eq_ignore_ascii_case(&state.email) && same_secret(token, &state.token) {
        Ok(())
    } else {
        Err(unauthorized().into())
    }
}

fn space_json(site: &str, (id, key, name): (&str, &str, &str)) -> Value {
    json!({
        "id": id,
        "key": key,
        "name": name,
        "type": "global",
        "status": "current",
        "authorId": AUTHOR_ID,
        "createdAt": "2024-01-01T00:00:00.000Z",
        "homepageId": format!("{}", 65_537 + id.parse::<u64>().unwrap_or(0) % 100),
        "_links": { "webui": format!("/spaces/{key}"), "base": site },
    })
}

fn page_json(site: &str, page: &PublishedPage, with_body: bool) -> Value {
    let created = page.created_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let webui = page
        .url
        .strip_prefix(site)
        .unwrap_or(page.url.as_str())
        .to_owned();
    let mut value = json!({
        "id": page.id,
        "status": page.status,
        "title": page.title,
        "spaceId": page.space_id,
        "parentId": page.parent_id,
        "parentType": page.parent_id.as_ref().map(|_| "page"),
        "position": 0,
        "authorId": AUTHOR_ID,
        "ownerId": AUTHOR_ID,
        "lastOwnerId": null,
        "createdAt": created,
        "version": {"createdAt": created, "message": "", "number": 1, "minorEdit": false, "authorId": AUTHOR_ID},
        "body": {},
        "_links": {
            "webui": webui,
            "editui": format!("/pages/resumedraft.action?draftId={}", page.id),
            "tinyui": format!("/x/{}", page.id),
            "base": site,
        },
    });
    if with_body {
        value["body"] = json!({"storage": {"representation": "storage", "value": page.body}});
    }
    value
}

fn limit_param(q: &QueryParams, default: u32) -> Result<u32, Refusal> {
    match q.get("limit") {
        None => Ok(default),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(n),
            _ => Err(Box::new(bad_request(format!(
                "limit: must be a whole number from 1 to {MAX_LIST_LIMIT}, got {text:?}"
            )))),
        },
    }
}

/// `body-format=storage` includes bodies; other known formats are refused
/// as unsupported here.
fn with_body(q: &QueryParams) -> Result<bool, Refusal> {
    match q.get("body-format") {
        None => Ok(false),
        Some("storage") => Ok(true),
        Some(other) => Err(Box::new(bad_request(format!(
            "body-format: this simulator serves storage only, not {other:?}"
        )))),
    }
}

/// Confluence's URL form of a title: words joined by `+`, other
/// characters dropped, non-ASCII letters percent-encoded.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c.is_alphanumeric() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else if !out.is_empty() && !out.ends_with('+') {
            out.push('+');
        }
    }
    out.trim_end_matches('+').to_owned()
}

// ---- handlers ------------------------------------------------------------

async fn list_spaces(
    State(state): State<Arc<ConfluenceState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let q = QueryParams::parse(raw.as_deref());
        let limit = limit_param(&q, 25)?;
        let keys = q.all("keys");
        let ids = q.all("ids");
        let site = lock_read(&state.site).clone();
        let results: Vec<Value> = SPACES
            .iter()
            .filter(|(id, key, _)| {
                (keys.is_empty() || keys.contains(key)) && (ids.is_empty() || ids.contains(id))
            })
            .take(limit as usize)
            .map(|s| space_json(&site, *s))
            .collect();
        Ok(json(
            StatusCode::OK,
            &json!({"results": results, "_links": {"base": site}}),
        ))
    })();
    answer.unwrap_or_else(|refused| *refused)
}

async fn list_pages(
    State(state): State<Arc<ConfluenceState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let q = QueryParams::parse(raw.as_deref());
        let limit = limit_param(&q, 25)?;
        let body = with_body(&q)?;
        let space_ids = q.all("space-id");
        if let Some(bad) = space_ids.iter().find(|id| id.parse::<u64>().is_err()) {
            return Err(Box::new(bad_request(format!(
                "space-id: {bad:?} is not a numeric id"
            ))));
        }
        let statuses = q.all("status");
        let title = q.get("title");
        let site = lock_read(&state.site).clone();
        let results: Vec<Value> = lock_read(&state.pages)
            .iter()
            .filter(|p| space_ids.is_empty() || space_ids.contains(&p.space_id.as_str()))
            .filter(|p| title.is_none_or(|t| t == p.title))
            .filter(|p| {
                if statuses.is_empty() {
                    p.status == "current"
                } else {
                    statuses.contains(&p.status.as_str())
                }
            })
            .take(limit as usize)
            .map(|p| page_json(&site, p, body))
            .collect();
        Ok(json(
            StatusCode::OK,
            &json!({"results": results, "_links": {"base": site}}),
        ))
    })();
    answer.unwrap_or_else(|refused| *refused)
}

async fn get_page(
    State(state): State<Arc<ConfluenceState>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let q = QueryParams::parse(raw.as_deref());
        let body = with_body(&q)?;
        let site = lock_read(&state.site).clone();
        lock_read(&state.pages)
            .iter()
            .find(|p| p.id == id)
            .map(|p| json(StatusCode::OK, &page_json(&site, p, body)))
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "NOT_FOUND", "Page not found").into())
    })();
    answer.unwrap_or_else(|refused| *refused)
}

/// What a create request asked for, once it passed every check but the
/// title's uniqueness (checked under the write lock).
struct NewPage {
    space_id: String,
    space_key: String,
    status: String,
    title: String,
    parent_id: Option<String>,
    body: String,
}

fn read_create_request(
    state: &ConfluenceState,
    q: &QueryParams,
    bytes: &Bytes,
) -> Result<NewPage, Refusal> {
    for flag in ["embedded", "private", "root-level"] {
        if let Some(v) = q.get(flag).filter(|v| *v != "true" && *v != "false") {
            return Err(Box::new(bad_request(format!(
                "{flag}: must be true or false, got {v:?}"
            ))));
        }
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Box::new(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_ENTITY_TOO_LARGE",
            "Request entity too large",
        )));
    }
    let text = utf8(bytes).ok_or_else(|| bad_request("Request body is not UTF-8"))?;
    let request: Value = serde_json::from_str(text)
        .map_err(|e| bad_request(format!("Invalid JSON in request body: {e}")))?;
    let Some(object) = request.as_object() else {
        return Err(Box::new(bad_request("Request body must be a JSON object")));
    };
    let string_field = |name: &str| -> Result<Option<&str>, Refusal> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(Box::new(bad_request(format!(
                "{name}: expected a string, got {other}"
            )))),
        }
    };
    let space_id = string_field("spaceId")?
        .ok_or_else(|| bad_request("spaceId: required"))?
        .to_owned();
    if space_id.parse::<u64>().is_err() {
        return Err(Box::new(bad_request(format!(
            "spaceId: {space_id:?} is not a numeric id"
        ))));
    }
    let Some(space) = SPACES.iter().find(|(id, _, _)| *id == space_id) else {
        return Err(Box::new(error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Space {space_id} not found or not permitted"),
        )));
    };
    let status = string_field("status")?.unwrap_or("current").to_owned();
    if status != "current" && status != "draft" {
        return Err(Box::new(bad_request(format!(
            "status: must be current or draft, got {status:?}"
        ))));
    }
    let title = string_field("title")?.unwrap_or("").trim().to_owned();
    if title.is_empty() && status == "current" {
        return Err(Box::new(bad_request("title: a current page needs a title")));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Box::new(bad_request(format!(
            "title: longer than {MAX_TITLE_CHARS} characters"
        ))));
    }
    let parent_id = string_field("parentId")?.map(str::to_owned);
    if let Some(parent) = &parent_id {
        let exists = lock_read(&state.pages)
            .iter()
            .any(|p| &p.id == parent && p.space_id == space_id);
        if !exists {
            return Err(Box::new(error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("Parent page {parent} not found in space {}", space.1),
            )));
        }
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(body) => storage_body(body)?,
    };
    Ok(NewPage {
        space_id,
        space_key: space.1.to_owned(),
        status,
        title,
        parent_id,
        body,
    })
}

/// `{representation, value}` or `{storage: {representation, value}}`.
fn storage_body(body: &Value) -> Result<String, Refusal> {
    let inner = match body.get("storage") {
        Some(nested) => nested,
        None => body,
    };
    let representation = inner.get("representation").and_then(Value::as_str);
    match representation {
        Some("storage") => {}
        Some("atlas_doc_format" | "wiki") => {
            return Err(Box::new(bad_request(format!(
                "body.representation: this simulator accepts storage only, not {:?}",
                representation.unwrap_or_default()
            ))));
        }
        Some(other) => {
            return Err(Box::new(bad_request(format!(
                "body.representation: must be storage, atlas_doc_format or wiki, got {other:?}"
            ))));
        }
        None => return Err(Box::new(bad_request("body.representation: required"))),
    }
    let value = inner
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request("body.value: required (a string)"))?;
    storage_xml::check(value).map_err(bad_request)?;
    Ok(value.to_owned())
}

async fn create_page(
    State(state): State<Arc<ConfluenceState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let answer = (|| -> Result<Response, Refusal> {
        authorize(&state, &headers)?;
        let q = QueryParams::parse(raw.as_deref());
        let new = read_create_request(&state, &q, &bytes)?;
        let site = lock_read(&state.site).clone();
        let mut pages = lock_write(&state.pages);
        let duplicate = new.status == "current"
            && pages.iter().any(|p| {
                p.space_id == new.space_id
                    && p.status == "current"
                    && p.title.to_lowercase() == new.title.to_lowercase()
            });
        if duplicate {
            return Err(Box::new(bad_request(
                "A page with this title already exists: A page already exists with the same TITLE in this space",
            )));
        }
        let id = state.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let url = format!(
            "{site}/spaces/{}/pages/{id}/{}",
            new.space_key,
            slug(&new.title)
        );
        let page = PublishedPage {
            id,
            space_id: new.space_id,
            space_key: new.space_key,
            title: new.title,
            status: new.status,
            parent_id: new.parent_id,
            body: new.body,
            created_at: Utc::now(),
            url,
        };
        let answer = page_json(&site, &page, true);
        pages.push(page);
        Ok(json(StatusCode::OK, &answer))
    })();
    answer.unwrap_or_else(|refused| *refused)
}

/// The page as a browser would see it: title and body, no Confluence chrome.
async fn view_page(
    State(state): State<Arc<ConfluenceState>>,
    Path((key, id, _slug)): Path<(String, String, String)>,
) -> Response {
    let pages = lock_read(&state.pages);
    let Some(page) = pages.iter().find(|p| p.id == id && p.space_key == key) else {
        return (StatusCode::NOT_FOUND, "page not found").into_response();
    };
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><p>Space {key} (simulated Confluence)</p><h1>{title}</h1>{body}</body></html>",
        title = escape_html(&page.title),
        body = page.body,
    );
    let mut response = html.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slug("INV-12: mallory <b> & co"), "INV+12+mallory+b+co");
        assert_eq!(slug("  "), "");
        assert_eq!(slug("Café"), "Caf%C3%A9");
    }
}
