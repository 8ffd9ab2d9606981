//! Loopback HTTP plumbing shared by the simulators: binding `127.0.0.1:0`,
//! serving an axum router until the handle is dropped, recording every
//! request (credentials redacted) and answering over-limit callers with the
//! service's own 429.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::SimError;

/// Bodies larger than this are refused before any handler sees them; each
/// service's own, smaller limit is checked by its handlers.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// How much of a body is kept in the request log.
const RECORDED_BODY_BYTES: usize = 64 * 1024;
/// Headers whose values are credentials: recorded as `[redacted]`.
const SENSITIVE_HEADERS: [&str; 5] = [
    "authorization",
    "dd-api-key",
    "dd-application-key",
    "cookie",
    "x-auth-key",
];
pub(crate) const REDACTED: &str = "[redacted]";

/// One request a simulator received, as a test or the TUI may inspect it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Every header, with credential values replaced by `[redacted]`.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8, credentials redacted, at most 64 KiB).
    pub body: String,
    pub status: u16,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded query pairs in order (repeated keys kept).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// At most `requests` per fixed `window`; over it, callers get the
/// service's 429 until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Admission {
    Allowed { remaining: u32, reset: Duration },
    Throttled { retry_after: Duration },
}

#[derive(Debug)]
struct RateLimiter {
    limit: RateLimit,
    /// (window start, requests admitted in it)
    window: Mutex<(Instant, u32)>,
}

impl RateLimiter {
    fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    fn admit(&self) -> Admission {
        let now = Instant::now();
        let mut window = lock(&self.window);
        if now.duration_since(window.0) >= self.limit.window {
            *window = (now, 0);
        }
        let reset = self
            .limit
            .window
            .saturating_sub(now.duration_since(window.0));
        if window.1 >= self.limit.requests {
            // Never advise less than a second: Retry-After is whole seconds.
            return Admission::Throttled {
                retry_after: reset.max(Duration::from_secs(1)),
            };
        }
        window.1 += 1;
        Admission::Allowed {
            remaining: self.limit.requests - window.1,
            reset,
        }
    }
}

/// How one service words its rate limits and which body parts are secret.
#[derive(Clone, Copy)]
pub(crate) struct ServiceProfile {
    /// The 429 the service sends.
    pub throttled: fn(RateLimit, Duration) -> Response,
    /// Rate-limit headers the service puts on every answer.
    pub limit_headers: fn(RateLimit, u32, Duration, &mut HeaderMap),
    /// Removes credentials carried in a body (PagerDuty's `routing_key`).
    pub redact_body: fn(&str) -> String,
}

impl ServiceProfile {
    pub(crate) fn no_limit_headers(_: RateLimit, _: u32, _: Duration, _: &mut HeaderMap) {}

    pub(crate) fn body_as_is(body: &str) -> String {
        body.to_owned()
    }
}

struct Recorder {
    profile: ServiceProfile,
    limiter: Option<RateLimiter>,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
}

/// A running simulator. Dropping it stops the server.
pub struct SimServer {
    service: &'static str,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("service", &self.service)
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimServer {
    /// Binds `127.0.0.1:0` and serves `router` on the current tokio runtime.
    pub(crate) async fn start(
        service: &'static str,
        router: Router,
        profile: ServiceProfile,
        rate_limit: Option<RateLimit>,
    ) -> Result<SimServer, SimError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|source| SimError::Bind { service, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { service, source })?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::new(Recorder {
            profile,
            limiter: rate_limit.map(RateLimiter::new),
            log: Arc::clone(&log),
        });
        // `record` enforces MAX_BODY_BYTES; handlers check their service's
        // own limit and answer in its shape, so the extractor limit is off.
        let app = router
            .layer(DefaultBodyLimit::disable())
            .layer(middleware::from_fn_with_state(recorder, record));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                // A dropped sender also means stop.
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::warn!(service, %error, "simulator stopped with an error");
            }
        });
        Ok(SimServer {
            service,
            addr,
            log,
            shutdown: Some(shutdown),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).clone()
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn record(State(recorder): State<Arc<Recorder>>, request: Request, next: Next) -> Response {
    let at = Utc::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let headers = recorded_headers(&parts.headers);
    let (bytes, response) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Err(_) => (
            Bytes::new(),
            (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
        ),
        Ok(bytes) => {
            let response = match recorder.limiter.as_ref().map(RateLimiter::admit) {
                Some(Admission::Throttled { retry_after }) => {
                    let limit = recorder.limiter.as_ref().map(|l| l.limit);
                    limit.map_or_else(
                        || StatusCode::TOO_MANY_REQUESTS.into_response(),
                        |limit| (recorder.profile.throttled)(limit, retry_after),
                    )
                }
                admission => {
                    let request = Request::from_parts(parts, Body::from(bytes.clone()));
                    let mut response = next.run(request).await;
                    if let (Some(Admission::Allowed { remaining, reset }), Some(limiter)) =
                        (admission, recorder.limiter.as_ref())
                    {
                        (recorder.profile.limit_headers)(
                            limiter.limit,
                            remaining,
                            reset,
                            response.headers_mut(),
                        );
                    }
                    response
                }
            };
            (bytes, response)
        }
    };
    let kept = &bytes[..bytes.len().min(RECORDED_BODY_BYTES)];
    let body = (recorder.profile.redact_body)(&String::from_utf8_lossy(kept));
    lock(&recorder.log).push(RecordedRequest {
        at,
        method,
        path,
        query,
        headers,
        body,
        status: response.status().as_u16(),
    });
    response
}

fn recorded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if SENSITIVE_HEADERS.contains(&name.as_str()) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// A request refused in the service's own words, on its way out of a
/// handler's checks (boxed: a `Response` is large to carry in `Err`).
pub(crate) type Refusal = Box<Response>;

/// A JSON answer with the given status.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Whole seconds, rounded up, as a header value.
pub(crate) fn seconds_header(duration: Duration) -> HeaderValue {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    HeaderValue::from(secs)
}

/// Simulator state stays usable after a panic in another request.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn lock_read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn lock_write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// A body as UTF-8, or the service's own complaint.
pub(crate) fn utf8(bytes: &Bytes) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}
